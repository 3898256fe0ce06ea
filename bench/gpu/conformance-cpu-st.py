#!/usr/bin/env python3
"""sentence-transformers' SparseEncoder (MLMTransformer + SpladePooling 'max') on the GPU machine, in
fp32 (TF32 off) and fp64, over bench/gpu/conformance-cpu-texts.json, on the checkpoint that
bench/gpu/conformance-cpu-model.py made: the reference our CPU encoder is compared with
(bench/gpu/conformance-cpu.ts, here on the CPU machine, same seed, same weights).

Writes one JSON: per text, the token ids SparseEncoder's tokenizer gave (so a tokenizer difference
can be told apart from an arithmetic one) and the non-zero weights (term ids ascending) of each
precision; no dense vectors (65 x 30,522 floats would be 8 MB a precision).

  python3 bench/gpu/conformance-cpu-st.py --model DIR --texts bench/gpu/conformance-cpu-texts.json --out FILE
"""
import argparse
import inspect
import json
import os
import time

import numpy as np
import torch


def load(path, max_len, device):
    from sentence_transformers import SparseEncoder
    from sentence_transformers.sparse_encoder.models import MLMTransformer, SpladePooling
    try:
        mlm = MLMTransformer(path, max_seq_length=max_len)
    except TypeError:
        mlm = MLMTransformer(path)
        mlm.max_seq_length = max_len
    pool = SpladePooling(pooling_strategy="max", word_embedding_dimension=mlm.get_sentence_embedding_dimension())
    return SparseEncoder(modules=[mlm, pool], device=device)


def dense(model, texts, bs):
    params = inspect.signature(model.encode).parameters
    kw = {k: v for k, v in dict(convert_to_tensor=True, convert_to_sparse_tensor=False, show_progress_bar=False).items() if k in params}
    with torch.inference_mode():
        e = model.encode(texts, batch_size=bs, **kw)
    if isinstance(e, list):
        e = torch.stack([x.to_dense() if x.is_sparse else x for x in e])
    if e.is_sparse:
        e = e.to_dense()
    return e.double().cpu().numpy()


def sparse_rows(d):
    rows = []
    for r in d:
        nz = np.nonzero(r)[0]
        rows.append(dict(t=nz.tolist(), w=[float(x) for x in r[nz]]))
    return rows


def token_ids(model, texts):
    try:
        f = model.tokenize(texts)
    except Exception:
        f = model[0].tokenize(texts)
    ids, mask = f["input_ids"], f["attention_mask"]
    return [ids[i][mask[i].bool()].tolist() for i in range(len(texts))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--texts", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--max-length", type=int, default=256)
    ap.add_argument("--batch", type=int, default=16)
    a = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    device = "cuda" if torch.cuda.is_available() else "cpu"
    texts = json.load(open(a.texts))
    import sentence_transformers
    import transformers
    res = dict(device=torch.cuda.get_device_name() if device == "cuda" else "cpu", torch=torch.__version__,
               transformers=transformers.__version__, sentence_transformers=sentence_transformers.__version__,
               numpy=np.__version__, texts=len(texts), max_length=a.max_length, batch=a.batch, tf32=False)
    t0 = time.time()
    m = load(a.model, a.max_length, device)
    res["load_s"] = round(time.time() - t0, 1)
    res["modules"] = [type(x).__name__ for x in m]
    res["max_seq_length"] = getattr(m, "max_seq_length", None)
    try:
        res["attn_implementation"] = m[0].auto_model.config._attn_implementation
    except Exception:
        res["attn_implementation"] = None
    # The loaded weights are the file's: the decoder and its bias as written (no tie left unresolved).
    from safetensors.numpy import load_file
    st = load_file(os.path.join(a.model, "model.safetensors"))
    sd = {k: v.detach().float().cpu().numpy() for k, v in m[0].auto_model.state_dict().items()}
    checked = {}
    for k in ("cls.predictions.decoder.weight", "cls.predictions.decoder.bias", "cls.predictions.bias",
              "bert.embeddings.word_embeddings.weight", "bert.encoder.layer.11.output.dense.weight",
              "cls.predictions.transform.LayerNorm.weight"):
        if k in sd and k in st:
            checked[k] = float(np.abs(sd[k] - st[k]).max())
        else:
            checked[k] = "missing " + ("in model" if k not in sd else "in file")
    missing = [k for k in st if k not in sd]
    res["weights_check_max_abs"] = checked
    res["file_tensors_not_in_model"] = missing
    print("[st] loaded", json.dumps({k: res[k] for k in ("load_s", "modules", "max_seq_length", "weights_check_max_abs")}), flush=True)
    res["ids"] = token_ids(m, texts)
    t0 = time.time()
    d32 = dense(m, texts, a.batch)
    res["fp32_s"] = round(time.time() - t0, 2)
    res["st_fp32"] = sparse_rows(d32)
    print("[st] fp32 nnz/text", float((d32 > 0).sum() / len(texts)), "max", float(d32.max()), flush=True)
    try:
        m.double()
        d64 = dense(m, texts, a.batch)
        res["st_fp64"] = sparse_rows(d64)
        res["st_fp32_vs_fp64_max_abs"] = float(np.abs(d32 - d64).max())
        print("[st] fp64 done; fp32 vs fp64 max abs", res["st_fp32_vs_fp64_max_abs"], flush=True)
    except Exception as e:  # the fp32 result stands without it
        res["st_fp64_error"] = repr(e)
        print("[st] fp64 failed:", repr(e), flush=True)
    json.dump(res, open(a.out, "w"))
    print("[st] wrote", a.out, os.path.getsize(a.out), "bytes", flush=True)


if __name__ == "__main__":
    main()
