#!/usr/bin/env python3
"""sentence-transformers' SparseEncoder (MLMTransformer + SpladePooling 'max') on the GPU: the
yardstick of bench/gpu/encode.ts, same weights (bench/gpu/encode-prep.py) and texts.

Timing: SparseEncoder.encode over all texts (its own tokenization, length sorting, sparse output,
results moved to the CPU as ours end in Node), CUDA-synchronized, median of repeats after a warm-up,
with the model loaded in bf16 and in fp16 (transformers' SDPA attention, half-precision GEMMs) and
under bf16 autocast over fp32 weights; the comparison takes the fastest at each batch size.
Conformance outputs: dense weights of the first --check texts in bf16, fp16 and fp32 (TF32 off).
"""
import argparse
import inspect
import json
import os
import statistics
import time

import numpy as np
import torch


def load(path, dtype, max_len):
    from sentence_transformers import SparseEncoder
    from sentence_transformers.sparse_encoder.models import MLMTransformer, SpladePooling
    kw = {"torch_dtype": dtype} if dtype is not None else {}
    try:
        mlm = MLMTransformer(path, max_seq_length=max_len, model_args=kw)
    except TypeError:
        mlm = MLMTransformer(path, max_seq_length=max_len, model_kwargs=kw)
    pool = SpladePooling(pooling_strategy="max", word_embedding_dimension=mlm.get_sentence_embedding_dimension())
    return SparseEncoder(modules=[mlm, pool], device="cuda")


def encode_kwargs(model, **want):
    params = inspect.signature(model.encode).parameters
    return {k: v for k, v in want.items() if k in params}


def dense(model, texts, bs):
    kw = encode_kwargs(model, convert_to_tensor=True, convert_to_sparse_tensor=False, show_progress_bar=False)
    with torch.inference_mode():
        e = model.encode(texts, batch_size=bs, **kw)
    if isinstance(e, list):
        e = torch.stack(e)
    if e.is_sparse:
        e = e.to_dense()
    return e.float().cpu().numpy().astype(np.float32)


def timed(model, texts, bs, repeats, autocast=None):
    kw = encode_kwargs(model, convert_to_tensor=True, convert_to_sparse_tensor=True, save_to_cpu=True,
                       show_progress_bar=False)
    def once(t):
        ctx = torch.autocast("cuda", dtype=autocast) if autocast is not None else torch.inference_mode()
        with torch.inference_mode(), ctx:
            e = model.encode(t, batch_size=bs, **kw)
        if isinstance(e, torch.Tensor) and e.is_cuda:
            e = e.cpu()
        torch.cuda.synchronize()
        return e
    once(texts[: 4 * bs])
    times = []
    for _ in range(repeats):
        torch.cuda.synchronize()
        s = time.perf_counter()
        e = once(texts)
        times.append((time.perf_counter() - s) * 1000)
    ms = statistics.median(times)
    nnz = e._nnz() if isinstance(e, torch.Tensor) and e.is_sparse else None
    return dict(ms=ms, docs_s=len(texts) / ms * 1000, times=times, avg_nnz=(nnz / len(texts)) if nnz else None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--batches", default="32,128")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--check", type=int, default=512)
    ap.add_argument("--max-length", type=int, default=256)
    a = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    texts = json.load(open(os.path.join(a.work, "texts.json")))
    tiny_texts = json.load(open(os.path.join(a.work, "tiny-texts.json")))
    base = os.path.join(a.work, "bert-base")
    import sentence_transformers, transformers
    res = dict(device=torch.cuda.get_device_name(), torch=torch.__version__, transformers=transformers.__version__,
               sentence_transformers=sentence_transformers.__version__, texts=len(texts), runs=[])
    settings = [("bf16 weights", torch.bfloat16, None, "st-bf16.f32"),
                ("fp16 weights", torch.float16, None, "st-fp16.f32"),
                ("fp32 weights, bf16 autocast", None, torch.bfloat16, None)]
    for name, dtype, autocast, check_file in settings:
        m = load(base, dtype, a.max_length)
        if "attn_implementation" not in res:
            try:
                res["attn_implementation"] = m[0].auto_model.config._attn_implementation
            except Exception:
                res["attn_implementation"] = None
        torch.cuda.reset_peak_memory_stats()
        for bs in map(int, a.batches.split(",")):
            r = dict(precision=name, batch=bs, **timed(m, texts, bs, a.repeats, autocast))
            r["peak_mb"] = torch.cuda.max_memory_allocated() / 2**20
            print("[encode-st]", json.dumps({k: v for k, v in r.items() if k != "times"}), flush=True)
            res["runs"].append(r)
        if check_file:
            dense(m, texts[: a.check], 128).tofile(os.path.join(a.out, check_file))
        del m
        torch.cuda.empty_cache()
    m = load(base, None, a.max_length)
    dense(m, texts[: a.check], 64).tofile(os.path.join(a.out, "st-fp32.f32"))
    del m
    torch.cuda.empty_cache()
    t = load(os.path.join(a.work, "tiny-hf"), None, a.max_length)
    dense(t, tiny_texts, 8).tofile(os.path.join(a.out, "tiny-st-fp32.f32"))
    res["check"] = a.check
    json.dump(res, open(os.path.join(a.out, "st.json"), "w"), indent=2)
    print("[encode-st] done", flush=True)


if __name__ == "__main__":
    main()
