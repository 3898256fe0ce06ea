#!/usr/bin/env python3
"""Joins bench/gpu/encode.ts's and encode-st.py's results into bench/results/gpu-encode.json: documents/s
side by side and the max abs differences of the dense outputs (issue 7: <= 1e-2 in bf16; issue 5:
the conformance of our encoder with SparseEncoder)."""
import argparse
import json
import os

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--vocab", type=int, default=30522)
    ap.add_argument("--tiny-vocab", type=int, default=0)
    ap.add_argument("--result", required=True)
    a = ap.parse_args()
    node = json.load(open(os.path.join(a.out, "node.json")))
    st = json.load(open(os.path.join(a.out, "st.json")))
    n = node["check"]
    load = lambda name, V: np.fromfile(os.path.join(a.out, name), np.float32).reshape(-1, V)
    names = ("node-fp16", "node-bf16", "node-fp16-simple", "node-fp16-fused-attn", "node-fp16-scalar-glue", "node-fp32",
             "st-bf16", "st-fp16", "st-fp32")
    o = {k: load(f"{k}.f32", a.vocab)[:n] for k in names if os.path.exists(os.path.join(a.out, f"{k}.f32"))}
    def diff(x, y):
        d = np.abs(o[x].astype(np.float64) - o[y].astype(np.float64))
        return dict(max_abs=float(d.max()), mean_abs=float(d.mean()), p99999_abs=float(np.quantile(d, 0.99999)))
    pairs = [("node-fp16", "st-fp32"), ("node-fp16", "st-fp16"), ("node-bf16", "st-fp32"), ("node-bf16", "st-bf16"),
             ("st-fp16", "st-fp32"), ("st-bf16", "st-fp32"), ("node-fp32", "st-fp32"), ("node-fp16-simple", "st-fp32"),
             ("node-fp16", "node-fp16-simple"), ("node-fp16-fused-attn", "st-fp32"), ("node-fp16", "node-fp16-fused-attn"),
             ("node-fp16-scalar-glue", "st-fp32"), ("node-fp16", "node-fp16-scalar-glue")]
    conf = {f"{x}_vs_{y}".replace("-", "_"): diff(x, y) for x, y in pairs if x in o and y in o}
    conf.update({
        "texts": n, "vocab": a.vocab,
        "nonzero_per_text_st_fp32": float((o["st-fp32"] > 0).sum() / n),
        "max_weight_st_fp32": float(o["st-fp32"].max()),
    })
    tiny = {}
    if os.path.exists(os.path.join(a.out, "tiny-st-fp32.f32")) and os.path.exists(os.path.join(a.out, "tiny-node-fp32.f32")):
        ref = np.fromfile(os.path.join(a.out, "tiny-st-fp32.f32"), np.float32).astype(np.float64)
        for p in ("fp32", "fp16", "bf16"):
            if not os.path.exists(os.path.join(a.out, f"tiny-node-{p}.f32")):
                continue
            got = np.fromfile(os.path.join(a.out, f"tiny-node-{p}.f32"), np.float32).astype(np.float64)
            tiny[f"node_{p}_vs_st_fp32_max_abs"] = float(np.abs(got - ref).max()) if got.shape == ref.shape else f"shape {got.shape} vs {ref.shape}"
    st_best = {}
    for r in st["runs"]:
        b = r["batch"]
        if b not in st_best or r["docs_s"] > st_best[b]["docs_s"]:
            st_best[b] = r
    table = []
    for r in node["runs"]:
        s = st_best.get(r["batch"])
        table.append(dict(batch=r["batch"], precision=r["precision"], head=r["head"], attention=r.get("attention"), avg_nnz=round(r["avg_nnz"], 1), node_docs_s=round(r["docs_s"], 1),
                          st_docs_s=round(s["docs_s"], 1) if s else None, st_setting=s["precision"] if s else None,
                          speedup=round(r["docs_s"] / s["docs_s"], 3) if s else None,
                          gpu_ms_per_run=dict(trunk=round(r["gpu"]["trunkMs"], 1), head=round(r["gpu"]["headMs"], 1), copy=round(r["gpu"]["copyMs"], 1))))
    for ca in (node.get("fusedAttention"), node.get("scalarGlue")):
        if not ca:
            continue
        s = st_best.get(ca["batch"])
        table.append(dict(batch=ca["batch"], precision=ca["precision"], variant=ca.get("variant"), head=ca["head"], attention=ca["attention"],
                          node_docs_s=round(ca["docs_s"], 1), st_docs_s=round(s["docs_s"], 1) if s else None,
                          st_setting=s["precision"] if s else None, speedup=round(ca["docs_s"] / s["docs_s"], 3) if s else None))
    result = dict(
        issue="7 (GPU encoding from Node vs SparseEncoder) and 5 (GPU conformance)",
        device=st.get("device"), node_device=node.get("device"),
        versions=dict(torch=st.get("torch"), transformers=st.get("transformers"), sentence_transformers=st.get("sentence_transformers"),
                      st_attention=st.get("attn_implementation")),
        model="BERT-base shape (hidden 768, 12 layers, 12 heads, vocab 30522), seeded random weights (bench/gpu/encode-prep.py)",
        texts=node["texts"], tokens=node.get("tokens"), max_length=node["maxLength"],
        table=table, conformance=conf, tiny_fixture_trunk_onnx_route=tiny,
        node=node, sentence_transformers=st,
    )
    json.dump(result, open(a.result, "w"), indent=2)
    print(json.dumps(dict(table=table, conformance=conf, tiny=tiny), indent=1))


if __name__ == "__main__":
    main()
