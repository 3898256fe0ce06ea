#!/usr/bin/env python3
"""Converts a Hugging Face masked-LM checkpoint (BERT or DistilBERT, e.g. naver/splade-v3 or
opensearch-project/opensearch-neural-sparse-encoding-doc-v2-distill) into both layouts the encoder
runs (docs/encoder-model-format.md). Needs PyTorch and transformers; the service itself does not.

  python3 models/export-hf-mlm.py naver/splade-cocondenser-ensembledistil --out models/cache/splade

  model.onnx  full: input_ids, attention_mask[, token_type_ids] -> logits [batch, seq, vocab]
  trunk.onnx  split: the same inputs -> hidden_states, the MLM head's transformed states
  head.bin    split: the vocabulary projection [vocab, hidden] f32 and its bias
"""
import argparse
import os
import struct
import zlib

import numpy as np
import torch
from transformers import AutoModelForMaskedLM, AutoTokenizer


class Trunk(torch.nn.Module):
    """Everything of the masked-LM before the vocabulary projection."""

    def __init__(self, mlm):
        super().__init__()
        self.mlm, self.kind = mlm, mlm.config.model_type

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        m = self.mlm
        if self.kind == "bert":
            h = m.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
            return m.cls.predictions.transform(h)
        if self.kind == "distilbert":
            h = m.distilbert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            return m.vocab_layer_norm(m.activation(m.vocab_transform(h)))
        raise SystemExit(f"model_type {self.kind} is not supported (bert, distilbert)")


class Full(torch.nn.Module):
    def __init__(self, mlm):
        super().__init__()
        self.mlm = mlm

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        kw = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
        return self.mlm(input_ids=input_ids, attention_mask=attention_mask, **kw).logits


def projection(mlm):
    if mlm.config.model_type == "bert":
        d = mlm.cls.predictions.decoder
        bias = mlm.cls.predictions.bias if d.bias is None else d.bias
        return d.weight, bias
    return mlm.vocab_projector.weight, mlm.vocab_projector.bias


def write_head(path, weights, bias):
    """Same format as models/make-random-bert.py writes: magic, version 1, dtype 1 (f32), vocab, dim, flags, crc32."""
    vocab, dim = weights.shape
    payload = np.ascontiguousarray(weights, "<f4").tobytes() + np.ascontiguousarray(bias, "<f4").tobytes()
    with open(path, "wb") as f:
        f.write(b"LSRHEAD1" + struct.pack("<IIIIII", 1, 1, vocab, dim, 1, zlib.crc32(payload)))
        f.write(payload)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint", help="Hugging Face repo id or local folder")
    ap.add_argument("--out", required=True)
    ap.add_argument("--opset", type=int, default=17)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    tok = AutoTokenizer.from_pretrained(args.checkpoint)
    mlm = AutoModelForMaskedLM.from_pretrained(args.checkpoint).eval()
    enc = tok(["a sample text", "another one, a little longer"], padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask"] + (["token_type_ids"] if mlm.config.model_type == "bert" else [])
    inputs = tuple(enc[n] for n in names)
    axes = {n: {0: "batch", 1: "sequence"} for n in names}
    with torch.no_grad():
        for module, file, out in ((Full(mlm), "model.onnx", "logits"), (Trunk(mlm), "trunk.onnx", "hidden_states")):
            torch.onnx.export(module, inputs, os.path.join(args.out, file), input_names=names, output_names=[out],
                              dynamic_axes={**axes, out: {0: "batch", 1: "sequence"}}, opset_version=args.opset)
        w, b = projection(mlm)
        write_head(os.path.join(args.out, "head.bin"), w.float().numpy(), b.float().numpy())
        # Sanity check: the split layout reproduces the full logits.
        logits = Full(mlm)(*inputs)
        split = Trunk(mlm)(*inputs) @ w.T + b
        err = (logits - split).abs().max().item()
        if err > 1e-4:
            raise SystemExit(f"split layout differs from the full logits by {err}")
    tok.save_pretrained(args.out)
    mlm.config.save_pretrained(args.out)
    print(f"wrote {args.out} ({mlm.config.model_type}, vocab {w.shape[0]}, hidden {w.shape[1]})")


if __name__ == "__main__":
    main()
