"""SPLADE training step: PyTorch eager vs torch.compile of the pooling vs the fused head op (GPU machine, issue 22).

One step = zero_grad, a masked-LM trunk under bf16 autocast, the SPLADE head, in-batch contrastive
loss + FLOPS regularizer (fp32), backward, AdamW (fused). Methods differ only in the head:
- eager:   logits = model(...).logits ([B, T, V] bf16), then sentence-transformers' SpladePooling
           (logits * mask -> relu -> log1p -> max over tokens);
- compile: the same pooling function through torch.compile (the decoder GEMM stays eager);
- fused:   FusedSpladeMLM (splade_op.py): decoder projection + activation + masked max as one op.
A batch of B texts = B/2 queries and B/2 documents (query i's positive is document i, the others are
in-batch negatives); docs/s counts all B texts encoded per second. Inputs: random token ids, each
text's last quarter padding (mask 0, pad id). Models: random-initialised BERT-base (V = 30,522) and
XLM-R base (V = 250,002), transformers' init, seeded; fp32 weights, SDPA attention, dropout on.

Per configuration and method: batch sizes doubling from --start until one runs out of memory (or
--cap), then --bisect bisection steps (multiples of 16); each batch that fits runs --warmup steps
then --steps timed steps (CUDA-synchronised wall clock, median per-step time), peak memory =
torch.cuda.max_memory_allocated over those steps. Every method gets the same search. A time budget
per method, counted from the end of the first trial (which holds torch.compile's compile), stops the
search early (said in the JSON). One torch.profiler step per method at a
common batch records where the time goes (top kernels by CUDA time).

Head alone (--head): forward + backward of the head on random [B, T, 768] hidden states (bf16)
for the three methods, CUDA events, against the FLOP floor of the fused op's two products: the forward
GEMM (2·B·T·V·H) and the backward's sparse products over the active (text, term) pairs (2 · 2·nnz·H),
at the bf16 GEMM rate measured in the same run (bench.py's measure_peaks); beside it the time of the
backward's row gathers at HBM bandwidth (nnz · 2 rows · 2H bytes). The dense PyTorch head does 3
GEMMs of 2·B·T·V·H each.
"""
import argparse
import gc
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import lsr_head  # noqa: E402
from splade_op import FusedSpladeMLM, splade_max_pool  # noqa: E402

LAMBDA_Q, LAMBDA_D = 3e-4, 1e-4


def splade_pool(logits, mask):
    """sentence-transformers' SpladePooling ('max', 'relu'), training mode."""
    x = logits * mask.unsqueeze(-1).to(logits.dtype)
    return torch.max(torch.log1p(torch.relu(x)), dim=1)[0]


def splade_loss(rep):
    rep = rep.float()
    n = rep.shape[0] // 2
    q, d = rep[:n], rep[n:]
    scores = q @ d.T
    ce = F.cross_entropy(scores, torch.arange(n, device=rep.device))
    flops = LAMBDA_Q * (q.mean(0) ** 2).sum() + LAMBDA_D * (d.mean(0) ** 2).sum()
    return ce + flops


_COMPILED = None


def compiled_pool():
    """One torch.compile of the pooling for the whole run, dynamic shapes from the start: with the
    default (dynamic=None) the second batch size of a search recompiles it as dynamic anyway, so the
    same kernels time every batch but the first; this saves one compile per configuration."""
    global _COMPILED
    if _COMPILED is None:
        _COMPILED = torch.compile(splade_pool, dynamic=True)
    return _COMPILED


def make_model(kind):
    from transformers import AutoModelForMaskedLM, BertConfig, XLMRobertaConfig
    if kind == "bert":
        cfg = BertConfig()  # BERT-base: 12 layers, 768, vocabulary 30,522
    else:
        cfg = XLMRobertaConfig(vocab_size=250002, max_position_embeddings=514, type_vocab_size=1,
                               layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0, eos_token_id=2)
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = AutoModelForMaskedLM.from_config(cfg, attn_implementation="sdpa")
    model.train()
    return model, cfg


def make_batch(B, T, cfg, gen):
    V = cfg.vocab_size
    ids = torch.randint(5, V, (B, T), generator=gen, device="cuda")
    n_valid = T - T // 4
    mask = torch.zeros(B, T, dtype=torch.long, device="cuda")
    mask[:, :n_valid] = 1
    ids = ids.masked_fill(mask == 0, cfg.pad_token_id)
    return ids, mask


class Runner:
    def __init__(self, kind, method, T):
        self.model, self.cfg = make_model(kind)
        self.method = method
        self.T = T
        if method == "fused":
            self.enc = FusedSpladeMLM(self.model)
            params = self.enc.parameters()
        else:
            self.enc = None
            params = self.model.parameters()
            self.pool = compiled_pool() if method == "compile" else splade_pool
        self.opt = torch.optim.AdamW(params, lr=1e-5, fused=True)
        self.gen = torch.Generator(device="cuda")
        self.gen.manual_seed(1)

    def encode(self, ids, mask):
        if self.enc is not None:
            return self.enc(ids, mask)
        logits = self.model(input_ids=ids, attention_mask=mask).logits
        return self.pool(logits, mask)

    def step(self, ids, mask):
        self.opt.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            rep = self.encode(ids, mask)
        loss = splade_loss(rep)
        loss.backward()
        self.opt.step()
        return loss

    def trial(self, B, warmup, steps):
        ids, mask = make_batch(B, self.T, self.cfg, self.gen)
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        try:
            t0 = time.perf_counter()
            for _ in range(warmup):
                self.step(ids, mask)
            torch.cuda.synchronize()
            first = time.perf_counter() - t0
            times = []
            for _ in range(steps):
                t1 = time.perf_counter()
                loss = self.step(ids, mask)
                torch.cuda.synchronize()
                times.append(time.perf_counter() - t1)
            step_s = statistics.median(times)
            return {"ok": True, "B": B, "step_ms": round(step_s * 1e3, 2), "docs_per_s": round(B / step_s, 1),
                    "peak_mb": round(torch.cuda.max_memory_allocated() / 2**20, 0), "warmup_s": round(first, 2),
                    "loss": round(float(loss.detach()), 4)}
        except Exception as e:  # noqa: BLE001
            msg = str(e)
            if not (isinstance(e, torch.OutOfMemoryError) or "out of memory" in msg.lower()
                    or "CUBLAS_STATUS_ALLOC_FAILED" in msg):
                raise
            return {"ok": False, "B": B, "oom": True, "error": msg.split("\n")[0][:160]}
        finally:
            self.opt.zero_grad(set_to_none=True)
            del ids, mask
            gc.collect()
            torch.cuda.empty_cache()

    def profile(self, B, top=12):
        from torch.profiler import ProfilerActivity, profile
        ids, mask = make_batch(B, self.T, self.cfg, self.gen)
        self.step(ids, mask)
        torch.cuda.synchronize()
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            self.step(ids, mask)
            torch.cuda.synchronize()
        evs = [e for e in prof.key_averages() if e.device_time_total > 0]
        total = sum(e.self_device_time_total for e in evs)
        evs.sort(key=lambda e: -e.self_device_time_total)
        rows = [{"name": e.key[:90], "calls": e.count, "self_cuda_ms": round(e.self_device_time_total / 1e3, 2),
                 "pct": round(100.0 * e.self_device_time_total / total, 1)} for e in evs[:top]]
        self.opt.zero_grad(set_to_none=True)
        del ids, mask
        gc.collect()
        torch.cuda.empty_cache()
        return {"B": B, "total_cuda_ms": round(total / 1e3, 1), "top": rows}

    def close(self):
        del self.opt, self.enc, self.model
        gc.collect()
        torch.cuda.empty_cache()


def search(runner, start, cap, bisect, warmup, steps, budget_s):
    t0 = time.time()
    trials = []
    ok_b, bad_b = None, None
    B = start
    stopped = None
    t_budget = t0
    while B <= cap:
        r = runner.trial(B, warmup, steps)
        trials.append(r)
        print(json.dumps({"trial": runner.method, **r}), flush=True)
        if not r["ok"]:
            bad_b = B
            break
        ok_b = B
        B *= 2
        if len(trials) == 1:
            t_budget = time.time()  # the budget starts after the first trial (torch.compile's compile)
        if time.time() - t_budget > budget_s:
            stopped = "time budget"
            break
    for _ in range(bisect):
        if ok_b is None or bad_b is None or stopped:
            break
        mid = (ok_b + bad_b) // 2 // 16 * 16
        if mid <= ok_b or mid >= bad_b:
            break
        r = runner.trial(mid, warmup, steps)
        trials.append(r)
        print(json.dumps({"trial": runner.method, **r}), flush=True)
        if r["ok"]:
            ok_b = mid
        else:
            bad_b = mid
        if time.time() - t_budget > budget_s:
            stopped = "time budget"
            break
    best = next((t for t in trials if t["ok"] and t["B"] == ok_b), None)
    return {"largest_batch": ok_b, "first_oom": bad_b, "stopped": stopped, "at_largest": best,
            "trials": trials, "search_s": round(time.time() - t0, 1)}


def run_config(kind, T, args):
    res = {"model": "bert-base" if kind == "bert" else "xlm-r-base", "T": T, "valid_tokens_per_text": T - T // 4,
           "methods": {}}
    start = args.start_250k if kind == "xlmr" else (args.start if T <= 256 else max(16, args.start // 2))
    for method in ("eager", "compile", "fused"):
        t0 = time.time()
        runner = Runner(kind, method, T)
        res["vocab"] = runner.cfg.vocab_size
        r = search(runner, start, args.cap, args.bisect, args.warmup, args.steps, args.budget)
        r["model_build_s"] = round(time.time() - t0 - r["search_s"], 1)
        if args.profile and r["largest_batch"]:
            pb = min(r["largest_batch"], args.profile_batch if kind == "bert" else args.profile_batch // 2)
            try:
                r["profile"] = runner.profile(pb)
            except Exception as e:  # noqa: BLE001
                r["profile"] = {"error": repr(e)[:200]}
        runner.close()
        res["methods"][method] = r
        print(json.dumps({"config": [kind, T], "method": method, "largest_batch": r["largest_batch"],
                          "at_largest": r["at_largest"]}), flush=True)
    m = res["methods"]

    def dps(k):
        a = m[k].get("at_largest")
        return a["docs_per_s"] if a else None

    base = max(("eager", "compile"), key=lambda k: (dps(k) or 0))
    base_b = max(m["eager"]["largest_batch"] or 0, m["compile"]["largest_batch"] or 0)
    res["better_baseline_docs_per_s"] = base
    res["speedup_docs_per_s"] = round(dps("fused") / dps(base), 3) if dps("fused") and dps(base) else None
    res["batch_ratio"] = round(m["fused"]["largest_batch"] / base_b, 3) if m["fused"]["largest_batch"] and base_b else None
    # The same batch for every method (the largest all fit): docs/s side by side.
    common = {}
    for k in m:
        for t in m[k]["trials"]:
            if t["ok"]:
                common.setdefault(t["B"], {})[k] = t["docs_per_s"]
    res["docs_per_s_by_batch"] = {str(b): v for b, v in sorted(common.items())}
    return res


def head_alone(args, peaks):
    out = []
    H = 768
    rate = peaks["measured_bf16_tflops"] * 1e12
    bw = peaks["measured_mem_bw_tbs"] * 1e12
    compiled = compiled_pool()
    for B, T, V in ((128, 256, 30522), (64, 512, 30522), (64, 256, 250002)):
        torch.cuda.empty_cache()
        g = torch.Generator(device="cuda")
        g.manual_seed(2)
        # LayerNorm-like hidden states and BERT-like decoder init (std 0.02): nearly every term is active,
        # as in a freshly initialised model (the backward's worst case).
        hid = torch.randn(B, T, H, generator=g, device="cuda").to(torch.bfloat16)
        W = (torch.randn(V, H, generator=g, device="cuda") * 0.02).to(torch.bfloat16)
        bias = torch.zeros(V, device="cuda")
        mask = torch.zeros(B, T, dtype=torch.long, device="cuda")
        mask[:, : T - T // 4] = 1
        gout = torch.randn(B, V, generator=g, device="cuda")
        row = {"B": B, "T": T, "V": V, "H": H, "valid_tokens_per_text": T - T // 4}

        def run(method):
            h = hid.detach().requires_grad_()
            w = W.detach().requires_grad_()
            b = bias.detach().requires_grad_()
            if method == "fused":
                rep = splade_max_pool(h, w, b, mask)
            else:
                logits = h @ w.T + b.to(h.dtype)
                rep = (compiled if method == "compile" else splade_pool)(logits, mask)
            rep.float().backward(gout)
            return h.grad, w.grad

        for method in ("fused", "eager", "compile"):
            try:
                for _ in range(3):
                    run(method)
                torch.cuda.synchronize()
                ts = []
                for _ in range(args.head_reps):
                    s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                    s.record()
                    run(method)
                    e.record()
                    e.synchronize()
                    ts.append(s.elapsed_time(e))
                torch.cuda.synchronize()
                torch.cuda.empty_cache()
                base = torch.cuda.memory_allocated()
                torch.cuda.reset_peak_memory_stats()
                run(method)
                torch.cuda.synchronize()
                row[method] = {"ms": round(statistics.median(ts), 3),
                               "extra_peak_mb": round((torch.cuda.max_memory_allocated() - base) / 2**20, 0)}
            except Exception as e:  # noqa: BLE001
                torch.cuda.empty_cache()
                row[method] = {"error": repr(e)[:200], "oom": "out of memory" in repr(e).lower()}
        # Fused forward alone, and the active pairs (the backward's work).
        with torch.no_grad():
            rep, am = splade_max_pool(hid, W, bias, mask, return_argmax=True)
            nnz = int((am >= 0).sum())
            ts = []
            for _ in range(args.head_reps):
                s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                s.record()
                splade_max_pool(hid, W, bias, mask)
                e.record()
                e.synchronize()
                ts.append(s.elapsed_time(e))
        row["fused_forward_ms"] = round(statistics.median(ts), 3)
        # The inference kernel (no argmax) on the same call: what recording the argmax costs.
        mask_u8 = mask.to(torch.uint8)
        lengths = torch.full((B,), T - T // 4, dtype=torch.int32, device="cuda")
        ts = []
        for _ in range(args.head_reps + 2):
            s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            s.record()
            lsr_head.sparse_head(hid, W, bias, lengths, mask_u8)
            e.record()
            e.synchronize()
            ts.append(s.elapsed_time(e))
        row["inference_forward_ms"] = round(statistics.median(ts[2:]), 3)
        row["fused_backward_ms"] = round(row["fused"]["ms"] - row["fused_forward_ms"], 3) if "ms" in row["fused"] else None
        row["active_pairs"] = nnz
        row["active_frac"] = round(nnz / (B * V), 4)
        fwd_flops = 2.0 * B * T * V * H
        bwd_flops = 2 * 2.0 * nnz * H
        bwd_bytes = 2.0 * nnz * H * 2  # one W row and one hidden row (bf16) gathered per active pair
        row["floor_forward_gemm_ms"] = round(fwd_flops / rate * 1e3, 3)
        row["floor_backward_flops_ms"] = round(bwd_flops / rate * 1e3, 3)
        row["flop_floor_ms"] = round((fwd_flops + bwd_flops) / rate * 1e3, 3)
        # The gathers if every row came from HBM (no L2 reuse): not a true lower bound, L2 hits beat it.
        row["backward_gathers_at_hbm_ms"] = round(bwd_bytes / bw * 1e3, 3)
        row["dense_head_3gemm_floor_ms"] = round(3 * fwd_flops / rate * 1e3, 3)
        if "ms" in row["fused"]:
            row["fused_over_flop_floor"] = round(row["fused"]["ms"] / row["flop_floor_ms"], 3)
            for k in ("eager", "compile"):
                if "ms" in row.get(k, {}):
                    row[f"fused_speedup_vs_{k}"] = round(row[k]["ms"] / row["fused"]["ms"], 3)
        print(json.dumps({"head_alone": row}), flush=True)
        out.append(row)
        del hid, W, bias, mask, gout, rep, am
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", default=None)
    ap.add_argument("--configs", default="bert:256,bert:512,xlmr:256")
    ap.add_argument("--start", type=int, default=64)
    ap.add_argument("--start-250k", type=int, default=32)
    ap.add_argument("--cap", type=int, default=4096)
    ap.add_argument("--bisect", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--budget", type=float, default=60.0, help="seconds per method's batch search")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--profile-batch", type=int, default=256)
    ap.add_argument("--head", action="store_true", help="also the head-alone forward+backward timings")
    ap.add_argument("--head-reps", type=int, default=5)
    ap.add_argument("--no-train", action="store_true")
    args = ap.parse_args()
    import transformers
    from bench import datasheet, measure_peaks
    dev = torch.cuda.get_device_name()
    peaks = measure_peaks(8192)
    res = {"device": dev, "torch": torch.__version__, "transformers": transformers.__version__, **peaks,
           **datasheet(dev), "step": "zero_grad; bf16 autocast forward; fp32 loss (in-batch CE + FLOPS); backward; "
           "AdamW(fused)", "compile": "torch.compile(pooling, dynamic=True), one for the run", "lambda_q": LAMBDA_Q, "lambda_d": LAMBDA_D,
           "search": {"start": args.start, "start_250k": args.start_250k, "cap": args.cap, "bisect": args.bisect,
                      "warmup": args.warmup, "steps": args.steps, "budget_s_per_method": args.budget},
           "configs": [], "head_alone": None}
    print(json.dumps({k: v for k, v in res.items() if k not in ("configs",)}), flush=True)

    def save():
        if args.json:
            with open(args.json, "w") as f:
                f.write(json.dumps(res, indent=1) + "\n")

    if args.head:
        res["head_alone"] = head_alone(args, peaks)
        save()
    if not args.no_train:
        for c in args.configs.split(","):
            kind, T = c.split(":")
            r = run_config(kind, int(T), args)
            res["configs"].append(r)
            print("CONFIG " + json.dumps({k: r[k] for k in ("model", "vocab", "T", "speedup_docs_per_s", "batch_ratio",
                                                          "better_baseline_docs_per_s")} |
                                         {m: {"largest_batch": r["methods"][m]["largest_batch"],
                                              "at_largest": r["methods"][m]["at_largest"]} for m in r["methods"]}),
                  flush=True)
            save()
    save()


if __name__ == "__main__":
    main()
