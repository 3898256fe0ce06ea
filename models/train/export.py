#!/usr/bin/env python3
"""Builds the service's model folder from a checkpoint that `models/train/train.py --no-export` wrote
(the GPU flow: train there, bring back OUT/checkpoint/ — shards under 16 MB — and OUT/card.json +
OUT/idf.json, export here). Needs numpy and onnx; with PyTorch and transformers present it also checks
the exported graph's logits against the checkpoint's (models/train/weights.py check_export).

  python3 models/train/export.py --out OUT_DIR --base BASE_MODEL_DIR
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import weights as W  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="the training output folder (checkpoint/, card.json, idf.json)")
    ap.add_argument("--base", required=True, help="the base model folder (its tokenizer files are copied)")
    args = ap.parse_args()
    ckpt = os.path.join(args.out, "checkpoint")
    for f in (ckpt, os.path.join(args.out, "idf.json"), os.path.join(args.out, "card.json")):
        if not os.path.exists(f):
            raise SystemExit(f"export: {f} is missing (run models/train/train.py first)")
    W.hf_to_service(ckpt, args.out, args.base)
    card = json.load(open(os.path.join(args.out, "card.json")))
    try:
        import transformers
        from transformers import AutoTokenizer
        mlm = transformers.BertForMaskedLM.from_pretrained(ckpt).eval()
        card["export_check"] = W.check_export(args.out, mlm, AutoTokenizer.from_pretrained(ckpt),
                                              ["a first check sentence", "protein folding in the cell membrane"])
    except ImportError as e:
        card["export_check"] = {"skipped": f"PyTorch/transformers not importable here ({e})"}
    card["exported_by"] = "models/train/export.py"
    W.builder().dump(os.path.join(args.out, "card.json"), card)
    print(f"export: wrote {args.out}: {card['export_check']}")


if __name__ == "__main__":
    main()
