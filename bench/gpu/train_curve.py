"""Short real SPLADE training run: PyTorch's head vs the fused op, same init, same data (GPU machine, issue 22).

Data: SciFact's corpus (passed with --pairs as JSON lines {"q": title, "d": abstract}, made from
../shared/data/scifact/corpus.jsonl by train_curve_prep.py and not kept in the repo): the title is the query,
its abstract the positive, the other abstracts of the batch the negatives. Tokenizer: BERT's uncased
WordPiece vocabulary (30,522; --vocab). Model: a small BERT (4 layers, hidden 256, 4 heads) from a
seeded random init, masked-LM head on the full vocabulary, so the head is the real one. Loss: in-batch
cross-entropy + FLOPS with SPLADE's quadratic warm-up of the FLOPS weight (from 0 to --lambda-q /
--lambda-d at the last step: a randomly initialised model gives nearly the same representation to
every text, so the contrastive gradient starts near zero and an early FLOPS term drives every term to
0, after which ReLU passes no gradient: the first version of this run collapsed so within 16-78
steps), AdamW lr --lr, --steps steps of --batch pairs (queries 32 tokens, documents 128, padded).

Runs (identical init, data order and dropout RNG): eager bf16 autocast (PyTorch's SpladePooling on
the logits), fused bf16 autocast, eager fp32 and fused fp32. The difference between the two eager
runs (bf16 vs fp32 arithmetic, same code) is the bf16 noise yardstick for the fused-vs-eager
difference. Also checks the sentence-transformers drop-in (splade_op.patch_sparse_encoder): a
SparseEncoder on the trained eager model, embeddings and gradients with and without the patch.
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from splade_op import FusedSpladeMLM, patch_sparse_encoder  # noqa: E402
from train_step import splade_pool  # noqa: E402


def load_pairs(path, tok, n_q, n_d):
    qs, ds = [], []
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            qs.append(r["q"])
            ds.append(r["d"])
    q = tok(qs, padding="max_length", truncation=True, max_length=n_q, return_tensors="pt")
    d = tok(ds, padding="max_length", truncation=True, max_length=n_d, return_tensors="pt")
    return q["input_ids"], q["attention_mask"], d["input_ids"], d["attention_mask"]


def make_model(V, base_hf=None):
    from transformers import BertConfig, BertForMaskedLM
    if base_hf:  # a real SPLADE model (models/train/weights.py converted it from the service's folder)
        with torch.device("cuda"):
            m = BertForMaskedLM.from_pretrained(base_hf).cuda()
        m.train()
        return m
    cfg = BertConfig(vocab_size=V, hidden_size=256, num_hidden_layers=4, num_attention_heads=4,
                     intermediate_size=1024, max_position_embeddings=512)
    torch.manual_seed(0)
    with torch.device("cuda"):
        m = BertForMaskedLM(cfg)
    m.train()
    return m


def curve_loss(rep, n, lam_q, lam_d):
    q, d = rep[:n], rep[n:]
    ce = torch.nn.functional.cross_entropy(q @ d.T, torch.arange(n, device=rep.device))
    return ce + lam_q * (q.mean(0) ** 2).sum() + lam_d * (d.mean(0) ** 2).sum()


def rep_stats(rep, n):
    """Active terms per text, and how different the texts' representations are (mean per-term std)."""
    with torch.no_grad():
        return {"active_per_text": round(float((rep > 0).float().sum(1).mean()), 1),
                "mean_value": round(float(rep.mean()), 5), "std_across_texts": round(float(rep.std(0).mean()), 5)}


def train(method, amp, data, order, args, V):
    qi, qm, di, dm = data
    model = make_model(V, args.base_hf)
    enc = FusedSpladeMLM(model) if method == "fused" else None
    params = (enc if enc is not None else model).parameters()
    opt = torch.optim.AdamW(params, lr=args.lr)
    torch.manual_seed(123)  # dropout masks: same sequence in every run
    losses, stats = [], []
    t0 = time.time()
    for step in range(args.steps):
        idx = order[step]
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=amp):
            reps = []
            for ids, mask in ((qi[idx], qm[idx]), (di[idx], dm[idx])):
                if enc is not None:
                    reps.append(enc(ids, mask))
                else:
                    reps.append(splade_pool(model(input_ids=ids, attention_mask=mask).logits, mask))
        rep = torch.cat([r.float() for r in reps])
        w = ((step + 1) / args.steps) ** 2
        loss = curve_loss(rep, reps[0].shape[0], w * args.lambda_q, w * args.lambda_d)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        if step % 50 == 0 or step == args.steps - 1:
            stats.append({"step": step, **rep_stats(rep, reps[0].shape[0])})
    torch.cuda.synchronize()
    return model, losses, round(time.time() - t0, 1), stats


def smooth(x, k):
    return [statistics.fmean(x[max(0, i - k + 1): i + 1]) for i in range(len(x))]


def compare(a, b, k):
    d = [abs(x - y) for x, y in zip(a, b)]
    sa, sb = smooth(a, k), smooth(b, k)
    ds = [abs(x - y) for x, y in zip(sa, sb)]
    return {"max_abs_diff": round(max(d), 4), "mean_abs_diff": round(statistics.fmean(d), 4),
            "max_abs_diff_smoothed": round(max(ds), 4), "final_smoothed": [round(sa[-1], 4), round(sb[-1], 4)],
            "first_step_abs_diff": round(d[0], 6)}


def sparse_encoder_check(model, tok, texts):
    """The trained eager model as a SparseEncoder: outputs and gradients with and without the patch."""
    from sentence_transformers import SparseEncoder
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)

        def grads(st, amp):
            # Train mode with every dropout at p = 0: both models compute the same function (with dropout
            # on, the two forwards draw different masks); not eval(), where SpladePooling works in place
            # and autograd refuses the backward.
            st.train()
            for m in st.modules():
                if isinstance(m, torch.nn.Dropout):
                    m.p = 0.0
            feats = st.preprocess(texts) if hasattr(st, "preprocess") else st.tokenize(texts)
            feats = {k: (v.cuda() if torch.is_tensor(v) else v) for k, v in feats.items()}
            st.zero_grad(set_to_none=True)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=amp):
                rep = st(feats)["sentence_embedding"].float()
            g = torch.Generator(device="cuda")
            g.manual_seed(5)
            proj = torch.randn(rep.shape, generator=g, device="cuda")
            (rep * proj).sum().backward()
            named = dict(st.named_parameters())
            emb = next(p for n, p in named.items() if n.endswith("word_embeddings.weight"))
            q = next(p for n, p in named.items() if "layer.0.attention" in n and n.endswith("query.weight"))
            return rep.detach(), emb.grad.detach().clone(), q.grad.detach().clone()

        ref = SparseEncoder(tmp, device="cuda")
        out["modules"] = [type(m).__name__ for m in ref]
        r_rep, r_emb, r_q = grads(ref, False)
        with torch.no_grad():
            enc_ref = ref.encode(texts, convert_to_tensor=True)
            enc_ref = enc_ref.to_dense() if enc_ref.is_sparse else enc_ref
        del ref
        for amp in (False, True):
            st = SparseEncoder(tmp, device="cuda")
            patch_sparse_encoder(st)
            rep, emb, q = grads(st, amp)
            res = {"rep_max_abs_diff": float((rep - r_rep).abs().max()),
                   "rep_ref_max": float(r_rep.abs().max()),
                   "word_embeddings_grad_rel_diff": float((emb - r_emb).abs().max() / r_emb.abs().max()),
                   "layer0_query_grad_rel_diff": float((q - r_q).abs().max() / r_q.abs().max())}
            if not amp:
                with torch.no_grad():
                    e = st.encode(texts, convert_to_tensor=True)
                    e = e.to_dense() if e.is_sparse else e
                res["encode_max_abs_diff"] = float((e.float() - enc_ref.float()).abs().max())
            out["fp32" if not amp else "bf16_autocast"] = res
            del st
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", required=True)
    ap.add_argument("--vocab", help="a BERT uncased vocab.txt (the random model's tokenizer; not needed with --base)")
    ap.add_argument("--json", default=None)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--lambda-q", type=float, default=3e-4)
    ap.add_argument("--lambda-d", type=float, default=1e-4)
    ap.add_argument("--smooth", type=int, default=20)
    ap.add_argument("--base", help="start from this service model folder (e.g. splade-tiny) instead of a random BERT; "
                                   "its tokenizer replaces --vocab")
    args = ap.parse_args()
    from transformers import AutoTokenizer, BertTokenizerFast
    base_hf = None
    if args.base:
        sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "models", "train"))
        import weights as W
        base_hf = tempfile.mkdtemp(prefix="curve-base-")
        W.onnx_to_hf(args.base, base_hf)
        tok = AutoTokenizer.from_pretrained(base_hf)
    else:
        tok = BertTokenizerFast(vocab_file=args.vocab, do_lower_case=True)
    args.base_hf = base_hf
    V = len(tok)
    data = [t.cuda() for t in load_pairs(args.pairs, tok, 32, 128)]
    n = data[0].shape[0]
    g = torch.Generator()
    g.manual_seed(7)
    order = []
    while len(order) < args.steps:
        perm = torch.randperm(n, generator=g)
        order += [perm[i: i + args.batch].cuda() for i in range(0, n - args.batch + 1, args.batch)]
    order = order[: args.steps]
    res = {"device": torch.cuda.get_device_name(), "torch": torch.__version__, "pairs": n, "vocab": V,
           "steps": args.steps, "batch_pairs": args.batch, "lr": args.lr, "q_tokens": 32, "d_tokens": 128,
           "lambda_q": args.lambda_q, "lambda_d": args.lambda_d, "flops_warmup": "quadratic from 0 over all steps",
           "model": f"{args.base} (trained SPLADE weights)" if args.base else "BERT 4 layers, hidden 256, 4 heads, seeded random init",
           "runs": {}}
    models = {}
    for name, method, amp in (("eager_bf16", "eager", True), ("fused_bf16", "fused", True),
                              ("eager_fp32", "eager", False), ("fused_fp32", "fused", False)):
        model, losses, secs, stats = train(method, amp, data, order, args, V)
        res["runs"][name] = {"seconds": secs, "rep_stats": stats, "loss": [round(x, 5) for x in losses]}
        print(json.dumps({"run": name, "seconds": secs, "first": losses[0], "last": losses[-1], "stats": stats}),
              flush=True)
        if name == "eager_fp32":
            models[name] = model
        else:
            del model
    k = args.smooth
    L = {n: r["loss"] for n, r in res["runs"].items()}
    res["compare"] = {
        "fused_bf16_vs_eager_bf16": compare(L["fused_bf16"], L["eager_bf16"], k),
        "eager_bf16_vs_eager_fp32 (bf16 noise)": compare(L["eager_bf16"], L["eager_fp32"], k),
        "fused_fp32_vs_eager_fp32": compare(L["fused_fp32"], L["eager_fp32"], k),
        "fused_bf16_vs_eager_fp32": compare(L["fused_bf16"], L["eager_fp32"], k),
    }
    c = res["compare"]
    res["fused_within_bf16_noise"] = (c["fused_bf16_vs_eager_bf16"]["max_abs_diff_smoothed"]
                                      <= c["eager_bf16_vs_eager_fp32 (bf16 noise)"]["max_abs_diff_smoothed"])
    print(json.dumps({"compare": res["compare"], "fused_within_bf16_noise": res["fused_within_bf16_noise"]}),
          flush=True)
    try:
        texts = [json.loads(x)["d"][:400] for x in open(args.pairs).readlines()[:16]]
        res["sparse_encoder_dropin"] = sparse_encoder_check(models["eager_fp32"], tok, texts)
    except Exception as e:  # noqa: BLE001
        import traceback
        traceback.print_exc()
        res["sparse_encoder_dropin"] = {"error": repr(e)[:500]}
    print(json.dumps({"sparse_encoder_dropin": res["sparse_encoder_dropin"]}), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            f.write(json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    main()
