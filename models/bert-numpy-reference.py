#!/usr/bin/env python3
"""An independent reference for the dense encoder: BERT's forward pass in float64 numpy, straight from a
Hugging Face model.safetensors, then sentence-transformers pooling and normalization.

It shares no code with the ONNX graph builder (models/make-random-bert.py) or the TypeScript encoder:
its own safetensors reader, Hugging Face `tokenizers` (Rust) for tokenization with its own truncation
(which keeps [CLS] and [SEP], as sentence-transformers does), one text at a time with no padding (so
no attention mask is involved at all). test/encoder/dense/*.test.ts compare the encoder with it.

Reads a JSON request on stdin, writes a JSON answer on stdout:
  {"dir": ".../model", "texts": [...], "prompt": "query: ", "max_length": 256,
   "pooling": "mean" | "cls" | "max" | "lasttoken" | "mean_sqrt_len" | "weightedmean" | [several, concatenated],
   "normalize": true, "include_prompt": true}
  -> {"ids": [[101, ...], ...], "vectors": [[...], ...]}
"""
import json
import math
import os
import struct
import sys

import numpy as np


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        base = 8 + n
        out = {}
        for name, t in header.items():
            if name == "__metadata__" or t["dtype"] not in ("F32", "F16", "BF16"):
                continue
            a, b = t["data_offsets"]
            f.seek(base + a)
            raw = f.read(b - a)
            if t["dtype"] == "BF16":
                arr = (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(np.float32)
            else:
                arr = np.frombuffer(raw, "<f4" if t["dtype"] == "F32" else "<f2")
            key = name[5:] if name.startswith("bert.") else name
            out[key] = arr.astype(np.float64).reshape(t["shape"])
    return out


try:
    from scipy.special import erf
except ImportError:  # slower, same values
    erf = np.vectorize(math.erf)


def layer_norm(x, g, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


def linear(W, p, x):  # torch Linear: weight [out, in]
    return x @ W[p + ".weight"].T + W[p + ".bias"]


def bert(W, cfg, ids):
    """last_hidden_state [seq, hidden] of one unpadded sequence."""
    eps = cfg.get("layer_norm_eps", 1e-12)
    heads = cfg["num_attention_heads"]
    n = len(ids)
    x = W["embeddings.word_embeddings.weight"][ids] + W["embeddings.position_embeddings.weight"][:n] \
        + W["embeddings.token_type_embeddings.weight"][0]
    x = layer_norm(x, W["embeddings.LayerNorm.weight"], W["embeddings.LayerNorm.bias"], eps)
    dh = x.shape[1] // heads
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        q, k, v = (linear(W, p + "attention.self." + m, x).reshape(n, heads, dh).transpose(1, 0, 2) for m in ("query", "key", "value"))
        s = q @ k.transpose(0, 2, 1) / math.sqrt(dh)
        s = np.exp(s - s.max(-1, keepdims=True))
        a = (s / s.sum(-1, keepdims=True)) @ v
        a = a.transpose(1, 0, 2).reshape(n, heads * dh)
        x = layer_norm(linear(W, p + "attention.output.dense", a) + x,
                       W[p + "attention.output.LayerNorm.weight"], W[p + "attention.output.LayerNorm.bias"], eps)
        f = linear(W, p + "intermediate.dense", x)
        f = 0.5 * f * (1 + erf(f / math.sqrt(2)))
        x = layer_norm(linear(W, p + "output.dense", f) + x,
                       W[p + "output.LayerNorm.weight"], W[p + "output.LayerNorm.bias"], eps)
    return x


def pool(h, mode):
    n = h.shape[0]
    if n == 0:
        return np.zeros(h.shape[1])
    if mode == "cls":
        return h[0]
    if mode == "mean":
        return h.mean(0)
    if mode == "mean_sqrt_len":
        return h.sum(0) / math.sqrt(n)
    if mode == "weightedmean":
        return None  # needs positions: see pooled()
    if mode == "max":
        return h.max(0)
    if mode == "lasttoken":
        return h[-1]
    raise SystemExit(f"unknown pooling {mode}")


def pooled(h, modes, skip):
    """Concatenation of the modes over tokens skip.. (cls always takes position 0)."""
    parts = []
    for m in modes:
        if m == "cls":
            parts.append(h[0])
        elif m == "weightedmean":
            w = np.arange(skip + 1, h.shape[0] + 1, dtype=np.float64)
            parts.append((h[skip:] * w[:, None]).sum(0) / w.sum())
        else:
            parts.append(pool(h[skip:], m))
    return np.concatenate(parts)


def main():
    req = json.load(sys.stdin)
    from tokenizers import Tokenizer
    d = req["dir"]
    cfg = json.load(open(os.path.join(d, "config.json")))
    W = load_safetensors(os.path.join(d, "model.safetensors"))
    tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=req["max_length"])
    prompt = req.get("prompt") or ""
    modes = req["pooling"] if isinstance(req["pooling"], list) else [req["pooling"]]
    # include_prompt false: sentence-transformers masks the prompt's length with specials minus one
    skip = len(tok.encode(prompt).ids) - 1 if prompt and req.get("include_prompt") is False else 0
    ids_out, vecs = [], []
    for text in req["texts"]:
        ids = tok.encode(prompt + text).ids
        v = pooled(bert(W, cfg, np.array(ids)), modes, skip)
        if req.get("normalize"):
            v = v / max(np.linalg.norm(v), 1e-12)
        ids_out.append(ids)
        vecs.append(v.tolist())
    json.dump(dict(ids=ids_out, vectors=vecs), sys.stdout)


if __name__ == "__main__":
    main()
