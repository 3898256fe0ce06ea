#!/usr/bin/env python3
"""The BERT-base-shaped random-weight masked-LM of the CPU conformance check (issue 5), written as a
Hugging Face BertForMaskedLM checkpoint (config.json, model.safetensors, tokenizer files), made the
same way on both machines: 440 MB of weights cannot travel to the GPU machine, so each side draws
them from the seed.

  python3 bench/gpu/conformance-cpu-model.py --out DIR [--rng pcg64|legacy]

Weights: models/make-random-bert.py's make_weights (its bert-base preset and vocabulary), drawn from
numpy's PCG64 Generator (the default) or, with --rng legacy, from numpy's RandomState, whose stream
NEP 19 freezes across numpy versions. The Generator's normal stream is not promised to stay the same
across numpy versions, so the script prints the SHA-256 of every weight byte and the GPU run checks it
against this machine's (bench/gpu/conformance-cpu-run.sh falls back to --rng legacy if they differ).
The decoder bias is redrawn as N(-2, 0.1) from seed + 1 (make-random-bert.py's -0.25 leaves ~90% of
the vocabulary non-zero; -2 leaves some hundreds of terms per text, as trained SPLADE models give,
like bench/gpu/encode-prep.py).

The decoder weight is written explicitly (equal to the word embeddings, as BERT ties them) with both
cls.predictions.bias and cls.predictions.decoder.bias, so no loader has to resolve a tie.
Our layouts come from the same file: python3 models/make-random-bert.py --from-checkpoint DIR --out DIR2.
"""
import argparse
import hashlib
import importlib.util
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def mrb():
    spec = importlib.util.spec_from_file_location("mrb", os.path.join(HERE, "..", "..", "models", "make-random-bert.py"))
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def make(out, seed=20251126, rng_kind="pcg64", dec_bias_mean=-2.0):
    m = mrb()
    cfg = dict(m.PRESETS["bert-base"])
    vocab = m.build_vocab(cfg["vocab"])
    new = (lambda s: np.random.default_rng(s)) if rng_kind == "pcg64" else (lambda s: np.random.RandomState(s))
    w = m.make_weights(new(seed), cfg, len(vocab))
    w["dec_b"] = (new(seed + 1).standard_normal(len(vocab)) * 0.1 + dec_bias_mean).astype(np.float32)
    t = m.hf_mlm_tensors(w)
    t["cls.predictions.decoder.weight"] = w["word"]
    t["cls.predictions.decoder.bias"] = w["dec_b"]
    os.makedirs(out, exist_ok=True)
    h = hashlib.sha256()
    for k in sorted(t):
        h.update(k.encode())
        h.update(np.ascontiguousarray(t[k], "<f4").tobytes())
    m.write_safetensors(os.path.join(out, "model.safetensors"), t)
    m.write_tokenizer(out, vocab, 512)
    m.dump(os.path.join(out, "config.json"), dict(
        architectures=["BertForMaskedLM"], model_type="bert", vocab_size=len(vocab), hidden_size=cfg["hidden"],
        num_hidden_layers=cfg["layers"], num_attention_heads=cfg["heads"], intermediate_size=cfg["intermediate"],
        hidden_act="gelu", max_position_embeddings=cfg["max_pos"], type_vocab_size=2, layer_norm_eps=1e-12,
        pad_token_id=0, tie_word_embeddings=True,
        generator=dict(script="bench/gpu/conformance-cpu-model.py", seed=seed, rng=rng_kind, dec_bias_mean=dec_bias_mean)))
    return dict(sha256=h.hexdigest(), rng=rng_kind, seed=seed, numpy=np.__version__, dec_bias_mean=dec_bias_mean,
                tensors={k: float(t[k].ravel()[:4].astype(np.float64).sum()) for k in ("bert.embeddings.word_embeddings.weight", "cls.predictions.bias")})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=20251126)
    ap.add_argument("--rng", choices=("pcg64", "legacy"), default="pcg64")
    ap.add_argument("--dec-bias-mean", type=float, default=-2.0)
    a = ap.parse_args()
    info = make(a.out, a.seed, a.rng, a.dec_bias_mean)
    print(json.dumps(info))


if __name__ == "__main__":
    main()
