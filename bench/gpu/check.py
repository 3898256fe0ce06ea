"""Correctness of the CUDA fused sparse head against a float64 PyTorch reference (GPU machine).

Fresh random inputs per case, output poisoned with NaN before every call. Inputs are bf16/fp16; the
reference upcasts the same values to float64, so the only error is the kernel's fp32 accumulation
(and log1p in fp32): tolerance |out - ref| <= 2e-3 + 2e-3 * |ref| per element, NaN never passes.
Prints one compact JSON line; exits 1 on any failure.
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, __import__("os").path.dirname(__file__))
import lsr_head  # noqa: E402

ATOL, RTOL = 2e-3, 2e-3


def reference(hidden, W, bias, lengths, mask):
    B, T, H = hidden.shape
    valid = torch.ones(B, T, dtype=torch.bool, device=hidden.device)
    if lengths is not None:
        valid &= torch.arange(T, device=hidden.device)[None, :] < lengths.clamp(0, T)[:, None].long()
    if mask is not None:
        valid &= mask.bool()
    out = torch.empty(B, W.shape[0], dtype=torch.float64, device=hidden.device)
    Wd = W.double()
    for b in range(B):  # one sequence at a time keeps the float64 logits small
        logits = hidden[b].double() @ Wd.T  # [T, V]
        logits = logits.masked_fill(~valid[b][:, None], float("-inf"))
        m = logits.max(dim=0).values
        if bias is not None:
            m = m + bias.double()
        o = torch.log1p(torch.relu(m))
        o[torch.isinf(m)] = 0.0  # no valid token
        out[b] = o
    return out


def run_case(name, B, T, H, V, dtype=torch.bfloat16, lengths_kind="full", mask_kind=None, bias=True,
             portable=False, gen=None, mode=None):
    dev = "cuda"
    if mode:
        os.environ["LSR_CUDA_HEAD_MODE"] = mode
    else:
        os.environ.pop("LSR_CUDA_HEAD_MODE", None)
    auto = "packed" if ((T + 255) // 256 * 256) * 16 > T * 17 else "seq"
    hidden = torch.randn(B, T, H, generator=gen, device=dev).to(dtype)
    W = (torch.randn(V, H, generator=gen, device=dev) * (1.0 / H ** 0.5)).to(dtype)
    b = (torch.randn(V, generator=gen, device=dev) * 0.5).float() if bias else None
    lengths = None
    if lengths_kind == "ragged":
        lengths = torch.randint(1, T + 1, (B,), generator=gen, device=dev).int()
        lengths[0] = T
        if B > 1:
            lengths[1] = 0  # a sequence with no token at all
        if B > 2:
            lengths[2] = min(T, 257)  # one token into the second 256-token tile
    mask = None
    if mask_kind == "random":
        mask = (torch.rand(B, T, generator=gen, device=dev) < 0.7).to(torch.uint8)
        mask[-1] = 0  # a fully masked row
    elif mask_kind == "ones":
        mask = torch.ones(B, T, dtype=torch.uint8, device=dev)
    out = torch.full((B, V), float("nan"), dtype=torch.float32, device=dev)
    torch.cuda.synchronize()
    lsr_head.sparse_head(hidden, W, b, lengths, mask, out=out, portable=portable)
    torch.cuda.synchronize()
    ref = reference(hidden, W, b, lengths, mask)
    o = out.double()
    err = (o - ref).abs()
    nan = int(torch.isnan(out).sum().item())
    bad = int((err > ATOL + RTOL * ref.abs()).sum().item()) if nan == 0 else -1
    rel = ((o - ref).norm() / ref.norm().clamp_min(1e-30)).item() if nan == 0 else float("nan")
    nz = float((ref != 0).double().mean().item())
    return {"case": name, "B": B, "T": T, "H": H, "V": V, "dtype": str(dtype).split(".")[-1],
            "mode": "portable" if portable else (mode or auto),
            "lengths": lengths_kind, "mask": mask_kind, "portable": portable, "nan": nan, "bad": bad,
            "max_abs": float(err.max().item()) if nan == 0 else None, "rel_l2": rel,
            "nonzero_frac": round(nz, 4), "ok": nan == 0 and bad == 0}


def check_csr(gen):
    dense = torch.relu(torch.randn(37, 1001, generator=gen, device="cuda"))
    dense[3] = 0
    row_ptr, cols, vals = lsr_head.dense_to_csr(dense)
    torch.cuda.synchronize()
    rp = torch.cat([torch.zeros(1, device="cuda", dtype=torch.long), (dense != 0).sum(1).cumsum(0)])
    nzr, nzc = (dense != 0).nonzero(as_tuple=True)
    ok = (torch.equal(row_ptr.long(), rp) and torch.equal(cols.long(), nzc)
          and torch.equal(vals, dense[nzr, nzc]))
    return {"case": "dense_to_csr", "ok": bool(ok)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", default=None)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--only", default=None, help="comma-separated case names")
    args = ap.parse_args()
    gen = torch.Generator(device="cuda")
    gen.manual_seed(args.seed)
    cases = [
        ("small_full", dict(B=2, T=64, H=128, V=515)),
        ("ragged_T300", dict(B=5, T=300, H=768, V=1000, lengths_kind="ragged")),
        ("mask_random", dict(B=4, T=200, H=768, V=777, mask_kind="random", lengths_kind="ragged")),
        ("mask_long", dict(B=3, T=1000, H=768, V=1500, mask_kind="random", lengths_kind="ragged")),
        ("mask_ones", dict(B=4, T=512, H=768, V=1024, mask_kind="ones", lengths_kind="ragged")),
        ("no_bias_fp16", dict(B=3, T=256, H=768, V=2049, dtype=torch.float16, bias=False)),
        ("fp16_ragged", dict(B=4, T=512, H=768, V=1283, dtype=torch.float16, lengths_kind="ragged")),
        ("bert_30522", dict(B=4, T=512, H=768, V=30522, lengths_kind="ragged")),
        ("bench_like", dict(B=32, T=256, H=768, V=30522)),
        ("H_not_64", dict(B=3, T=130, H=200, V=300, lengths_kind="ragged")),
        ("seq_forced_T300", dict(B=5, T=300, H=768, V=1000, lengths_kind="ragged", mask_kind="random", mode="seq")),
        ("packed_forced_T512", dict(B=4, T=512, H=768, V=999, lengths_kind="ragged", mask_kind="random",
                                    mode="packed")),
        ("packed_T3", dict(B=200, T=3, H=768, V=500, lengths_kind="ragged", mask_kind="random")),
        ("packed_T100_bert", dict(B=32, T=100, H=768, V=30522, lengths_kind="ragged")),
        ("packed_fp16_T77", dict(B=9, T=77, H=768, V=2000, dtype=torch.float16, mask_kind="random")),
        ("portable", dict(B=3, T=100, H=768, V=1000, lengths_kind="ragged", mask_kind="random", portable=True)),
    ]
    if args.only:
        cases = [c for c in cases if c[0] in args.only.split(",")]
    results = []
    for name, kw in cases:
        try:
            results.append(run_case(name, gen=gen, **kw))
        except Exception as e:  # noqa: BLE001
            results.append({"case": name, "ok": False, "error": repr(e)[:300]})
    os.environ.pop("LSR_CUDA_HEAD_MODE", None)
    try:
        results.append(check_csr(gen))
    except Exception as e:  # noqa: BLE001
        results.append({"case": "dense_to_csr", "ok": False, "error": repr(e)[:300]})
    summary = {"seed": args.seed, "device": torch.cuda.get_device_name(), "atol": ATOL, "rtol": RTOL,
               "all_ok": all(r["ok"] for r in results), "cases": results}
    line = json.dumps(summary, separators=(",", ":"))
    print(line)
    if args.json:
        with open(args.json, "w") as f:
            f.write(json.dumps(summary, indent=1) + "\n")
    if not summary["all_ok"]:
        print("CHECK FAILED", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
