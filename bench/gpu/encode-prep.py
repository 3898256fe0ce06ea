#!/usr/bin/env python3
"""Inputs of the GPU encoding benchmark, made on the GPU machine (PyTorch there; 440 MB of weights
cannot travel with a run): bench/gpu/encode-run.sh.

  <work>/bert-base   a BERT-base-shaped BertForMaskedLM with seeded random weights, saved by
                     transformers (config.json, model.safetensors) with the tokenizer files that
                     models/make-random-bert.py writes for its bert-base preset (made on the CPU side:
                     bench/gpu/encode-pack.sh). SparseEncoder loads it; so does our GpuEncoder
                     (src/encoder/gpu/gpu-weights.ts reads model.safetensors).
  <work>/tiny-hf     the committed tiny fixture (models/fixtures/tiny-bert: trunk.onnx + head.bin) as a
                     transformers checkpoint, for SparseEncoder; our GpuEncoder reads the fixture itself
                     (the split layout's trunk.onnx): the same weights by the two routes.
  <work>/texts.json  seeded texts of varied length (5 to 300 words: some truncate at 256 tokens)
  <work>/tiny-texts.json

Random weights as make-random-bert.py draws them: N(0, 0.02) matrices and embeddings (transformers'
own init), LayerNorm gains 1 + N(0, 0.05), biases N(0, 0.02), and a decoder bias N(--dec-bias-mean, 0.1):
-2.0 by default, so that the pooled vectors keep some hundreds of terms per text as trained SPLADE
models do (make-random-bert.py's -0.25 keeps ~90% of the vocabulary, which makes both encoders'
time mostly moving dense vectors).
"""
import argparse
import json
import os
import random
import shutil

import numpy as np
import torch


def perturb(model, seed, dec_bias_mean):
    g = torch.Generator().manual_seed(seed)
    n = lambda shape, std, mean=0.0: (torch.randn(shape, generator=g) * std + mean)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm.weight" in name:
                p.copy_(n(p.shape, 0.05, 1.0))
            elif name.endswith("predictions.bias") or name.endswith("decoder.bias"):
                p.copy_(n(p.shape, 0.1, dec_bias_mean))
            elif name.endswith(".bias"):
                p.copy_(n(p.shape, 0.02))


def make_bert_base(out, tok_dir, seed, dec_bias_mean):
    from transformers import BertConfig, BertForMaskedLM
    torch.manual_seed(seed)
    cfg = BertConfig(vocab_size=30522, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                     intermediate_size=3072, hidden_act="gelu", max_position_embeddings=512, type_vocab_size=2,
                     layer_norm_eps=1e-12, pad_token_id=0)
    model = BertForMaskedLM(cfg)
    perturb(model, seed + 1, dec_bias_mean)
    model.save_pretrained(out, safe_serialization=True)
    for f in os.listdir(tok_dir):
        shutil.copy(os.path.join(tok_dir, f), os.path.join(out, f))


def onnx_to_hf(fixture, out):
    """Our split layout (trunk.onnx initializers named by make-random-bert.py, head.bin) -> BertForMaskedLM."""
    import onnx
    import struct
    import zlib
    from onnx import numpy_helper
    from transformers import BertConfig, BertForMaskedLM
    conf = json.load(open(os.path.join(fixture, "config.json")))
    init = {t.name: numpy_helper.to_array(t) for t in onnx.load(os.path.join(fixture, "trunk.onnx")).graph.initializer}
    raw = open(os.path.join(fixture, "head.bin"), "rb").read()
    dtype, vocab, dim, flags, crc = struct.unpack("<IIIII", raw[12:32])
    assert raw[:8] == b"LSRHEAD1" and dtype == 1 and zlib.crc32(raw[32:]) == crc
    W = np.frombuffer(raw, "<f4", vocab * dim, 32).reshape(vocab, dim)
    b = np.frombuffer(raw, "<f4", vocab, 32 + 4 * vocab * dim) if flags & 1 else np.zeros(vocab, np.float32)
    sd = {
        "bert.embeddings.word_embeddings.weight": init["embeddings.word_embeddings.weight"],
        "bert.embeddings.position_embeddings.weight": init["embeddings.position_embeddings.weight"],
        "bert.embeddings.token_type_embeddings.weight": init["embeddings.token_type_embeddings.weight"],
        "bert.embeddings.LayerNorm.weight": init["embeddings.LayerNorm.weight"],
        "bert.embeddings.LayerNorm.bias": init["embeddings.LayerNorm.bias"],
        "cls.predictions.transform.dense.weight": init["cls.transform.dense.w"].T,
        "cls.predictions.transform.dense.bias": init["cls.transform.dense.b"],
        "cls.predictions.transform.LayerNorm.weight": init["cls.transform.LayerNorm.weight"],
        "cls.predictions.transform.LayerNorm.bias": init["cls.transform.LayerNorm.bias"],
        "cls.predictions.bias": b,
        "cls.predictions.decoder.weight": W,
        "cls.predictions.decoder.bias": b,
    }
    lin = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
           "o": "attention.output.dense", "i": "intermediate.dense", "out": "output.dense"}
    for l in range(conf["num_hidden_layers"]):
        p = f"encoder.layer.{l}."
        for ours, hf in lin.items():
            sd[f"bert.{p}{hf}.weight"] = init[f"{p}{ours}.w"].T
            sd[f"bert.{p}{hf}.bias"] = init[f"{p}{ours}.b"]
        for ours, hf in (("ln1", "attention.output.LayerNorm"), ("ln2", "output.LayerNorm")):
            sd[f"bert.{p}{hf}.weight"] = init[f"{p}{ours}.g"]
            sd[f"bert.{p}{hf}.bias"] = init[f"{p}{ours}.b"]
    cfg = BertConfig(**{k: v for k, v in conf.items() if k not in ("generator", "architectures")})
    model = BertForMaskedLM(cfg)
    want = model.state_dict()
    missing = [k for k in want if k not in sd and "position_ids" not in k]
    assert not missing, missing
    model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(sd[k])) for k in want if k in sd}, strict=False)
    model.save_pretrained(out, safe_serialization=True)
    for f in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"):
        shutil.copy(os.path.join(fixture, f), os.path.join(out, f))


WORDS = """the of and to in a is that for it as was with be by on not this are or from at which but have
an they were there been one all we their has would when if so no will can more out up into do any what some
about than them other these its only also two may time new could very first after most over such like just
made where many those well before between both each under while same should because through since much
study studies result results effect cell cells cancer gene genes protein proteins patient patients treatment
disease risk human mice mouse data analysis clinical increase increased expression associated high higher
low lower rate model models method test significant group control age brain blood heart lung liver tissue
tumor growth factor response activity function role type change process system infection virus bacteria
drug dose therapy trial outcome evidence population health care cause reduce show suggest report document
retrieval sparse dense vector index learning neural network language science computer information fast slow
cancerous studying genomic retrievals proteomics hearts tumorous reporting""".split()


def make_texts(n, seed):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        k = rng.randint(5, 40) if rng.random() < 0.3 else rng.randint(40, 300)
        words = [rng.choice(WORDS) for _ in range(k)]
        if rng.random() < 0.3:
            words[rng.randrange(k)] = str(rng.randint(1, 9999))
        s = " ".join(words)
        out.append(s[0].upper() + s[1:] + ".")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--tok", required=True, help="tokenizer files of the bert-base preset")
    ap.add_argument("--fixture", default="models/fixtures/tiny-bert")
    ap.add_argument("--texts", type=int, default=2048)
    ap.add_argument("--seed", type=int, default=20251126)
    ap.add_argument("--dec-bias-mean", type=float, default=-2.0,
                    help="mean of the decoder bias: -2.0 leaves some hundreds of terms per text, as trained SPLADE "
                         "models give; make-random-bert.py's -0.25 leaves ~90%% of the vocabulary non-zero")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    make_bert_base(os.path.join(a.work, "bert-base"), a.tok, a.seed, a.dec_bias_mean)
    onnx_to_hf(a.fixture, os.path.join(a.work, "tiny-hf"))
    json.dump(make_texts(a.texts, a.seed), open(os.path.join(a.work, "texts.json"), "w"))
    json.dump(make_texts(24, a.seed + 7)[:24] + ["hello", "Sparse retrieval learns a weight for every word."],
              open(os.path.join(a.work, "tiny-texts.json"), "w"))
    print("prep: done", a.work)


if __name__ == "__main__":
    main()
