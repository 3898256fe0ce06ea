"""Benchmark of the CUDA fused sparse head against PyTorch eager and torch.compile (GPU machine).

Shapes: batch {32,128} x tokens {256,512} x hidden 768 x vocabulary {30522, 250002}, bf16 inputs,
all tokens valid. Times: CUDA events around each call, median of `--reps` after `--warmup` calls.
Peak memory: torch.cuda.max_memory_allocated during one call, with the inputs (hidden, W, bias,
mask) resident (`peak_mb`), and minus what was allocated before the call (`extra_mb`: the op's own
intermediates and output). Floor: max(FLOPs / 790 TFLOP/s, bytes / memory bandwidth), bytes = each
input read once + the output written once. Writes JSON (--json) and prints a table.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
import lsr_head  # noqa: E402

PEAK_FLOPS = 790e12


def mem_bw():
    name = torch.cuda.get_device_name()
    return (4.3e12 if "H200" in name else 3.0e12), name  # measured d2d copies (KINDS.md)


def eager_head(hidden, W, bias, mask):
    logits = hidden @ W.T  # [B, T, V] bf16
    act = torch.log1p(torch.relu(logits + bias.to(logits.dtype)))
    act = act * mask.unsqueeze(-1).to(act.dtype)
    return act.max(dim=1).values


def time_fn(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        s = torch.cuda.Event(enable_timing=True)
        e = torch.cuda.Event(enable_timing=True)
        s.record()
        fn()
        e.record()
        e.synchronize()
        times.append(s.elapsed_time(e))
    return statistics.median(times), min(times)


def peak_of(fn):
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    r = fn()
    torch.cuda.synchronize()
    peak = torch.cuda.max_memory_allocated()
    del r
    return peak / 2**20, (peak - base) / 2**20


def measure(name, fn, warmup, reps):
    try:
        t_med, t_min = time_fn(fn, warmup, reps)
        peak, extra = peak_of(fn)
        return {"ms": round(t_med, 4), "min_ms": round(t_min, 4), "peak_mb": round(peak, 1),
                "extra_mb": round(extra, 1)}
    except torch.OutOfMemoryError as e:
        torch.cuda.empty_cache()
        return {"oom": True, "error": str(e).split("\n")[0][:200]}
    except Exception as e:  # noqa: BLE001  (e.g. inductor failures surface as other types)
        torch.cuda.empty_cache()
        msg = repr(e)
        return {"oom": "out of memory" in msg.lower(), "error": msg[:300]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", default=None)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--no-torch", action="store_true", help="time only ours")
    ap.add_argument("--shapes", default="all")
    args = ap.parse_args()
    torch.manual_seed(0)
    torch._dynamo.config.cache_size_limit = 64
    compiled = torch.compile(eager_head, dynamic=False)
    bw, dev_name = mem_bw()
    H = 768
    shapes = [(B, T, V) for V in (30522, 250002) for B in (32, 128) for T in (256, 512)]
    # Extra: encoder-like batches whose T is not a multiple of 256 (packed mode; sequence mode forced too).
    shapes += [(32, 100, 30522), (32, 180, 30522), (128, 300, 30522)]
    if args.shapes != "all":
        shapes = [s for i, s in enumerate(shapes) if str(i) in args.shapes.split(",")]
    rows = []
    for B, T, V in shapes:
        torch.cuda.empty_cache()
        hidden = torch.randn(B, T, H, device="cuda").to(torch.bfloat16)
        W = (torch.randn(V, H, device="cuda") * (1.0 / H ** 0.5)).to(torch.bfloat16)
        bias = (torch.randn(V, device="cuda") * 0.5).float()
        mask = torch.ones(B, T, dtype=torch.uint8, device="cuda")
        flops = 2.0 * B * T * V * H
        nbytes = B * T * H * 2 + V * H * 2 + V * 4 + B * V * 4
        floor_ms = max(flops / PEAK_FLOPS, nbytes / bw) * 1e3
        row = {"B": B, "T": T, "H": H, "V": V, "gflop": round(flops / 1e9, 1), "floor_ms": round(floor_ms, 4)}
        row["ours"] = measure("ours", lambda: lsr_head.sparse_head(hidden, W, bias), args.warmup, args.reps)
        # The encoder's call: an attention mask passed too (all ones here: same work, mask path).
        row["ours_mask"] = measure("ours_mask", lambda: lsr_head.sparse_head(hidden, W, bias, mask=mask),
                                   args.warmup, args.reps)
        # Ragged batch: lengths uniform in [1, T] with the matching mask; padded tiles are skipped.
        lengths = torch.randint(1, T + 1, (B,), device="cuda", dtype=torch.int32)
        rmask = (torch.arange(T, device="cuda")[None, :] < lengths[:, None]).to(torch.uint8)
        row["ours_ragged"] = measure("ours_ragged", lambda: lsr_head.sparse_head(hidden, W, bias, lengths, rmask),
                                     args.warmup, args.reps)
        row["ours_ragged"]["valid_token_frac"] = round(lengths.sum().item() / (B * T), 3)
        if T % 256:
            os.environ["LSR_CUDA_HEAD_MODE"] = "seq"
            row["ours_seq_mode"] = measure("ours_seq_mode", lambda: lsr_head.sparse_head(hidden, W, bias),
                                           args.warmup, args.reps)
            os.environ.pop("LSR_CUDA_HEAD_MODE", None)
        row["mode"] = "packed" if ((T + 255) // 256 * 256) * 16 > T * 17 else "seq"
        if not args.no_torch and B * T * V * 2 < (20 << 30):
            # cuBLAS product alone (bf16 logits written, no epilogue): what the tensor cores give a library GEMM.
            h2 = hidden.view(B * T, H)
            row["matmul_only"] = measure("matmul_only", lambda: h2 @ W.T, args.warmup, args.reps)
            # Same product with V padded to a multiple of 64 (aligned rows: cuBLAS's fast kernels).
            Wp = torch.randn((V + 63) // 64 * 64, H, device="cuda").to(torch.bfloat16)
            row["matmul_padded_v"] = measure("matmul_padded_v", lambda: h2 @ Wp.T, args.warmup, args.reps)
            row["matmul_padded_v"]["tflops"] = round(2.0 * B * T * H * Wp.shape[0] / (row["matmul_padded_v"].get("ms", 1e30) * 1e-3) / 1e12, 1)
            del Wp
        if not args.no_torch:
            row["eager"] = measure("eager", lambda: eager_head(hidden, W, bias, mask), args.warmup, args.reps)
            t0 = time.time()
            row["compile"] = measure("compile", lambda: compiled(hidden, W, bias, mask), args.warmup, args.reps)
            row["compile"]["first_call_incl_s"] = round(time.time() - t0, 1)
        o = row["ours"].get("ms")
        for k in ("eager", "compile"):
            t = row.get(k, {}).get("ms")
            row[f"speedup_vs_{k}"] = round(t / o, 3) if (o and t) else None
        row["ours_tflops"] = round(flops / (o * 1e-3) / 1e12, 1) if o else None
        row["ours_over_floor"] = round(o / floor_ms, 3) if o else None
        row["peak_mb"] = row["ours"].get("peak_mb")
        ref_peak = row.get("eager", {}).get("peak_mb") or row.get("compile", {}).get("peak_mb")
        ref_extra = row.get("eager", {}).get("extra_mb") or row.get("compile", {}).get("extra_mb")
        row["mem_ratio_peak"] = round(ref_peak / row["peak_mb"], 1) if (ref_peak and row["peak_mb"]) else None
        row["mem_ratio_extra"] = (round(ref_extra / row["ours"]["extra_mb"], 1)
                                  if (ref_extra and row["ours"].get("extra_mb")) else None)
        rows.append(row)
        print(json.dumps(row, separators=(",", ":")), flush=True)
        del hidden, W, bias, mask
        res = {"device": dev_name, "torch": torch.__version__, "peak_tflops": PEAK_FLOPS / 1e12,
               "mem_bw_tbs": bw / 1e12, "warmup": args.warmup, "reps": args.reps, "shapes": rows}
        if args.json:  # rewritten after every shape, so a timeout keeps what was measured
            with open(args.json, "w") as f:
                f.write(json.dumps(res, indent=1) + "\n")

    def f(r, k):
        d = r.get(k, {})
        if "ms" in d:
            return f"{d['ms']:9.3f}"
        return "      OOM" if d.get("oom") else ("      err" if d else "        -")

    print(f"\n{dev_name}: fused sparse head, bf16, H=768 (ms = median of {args.reps})")
    print(f"{'B':>4} {'T':>4} {'V':>7} | {'floor':>7} {'ours':>9} {'eager':>9} {'compile':>9} | "
          f"{'x eager':>7} {'x comp':>7} {'/floor':>6} {'TFLOP/s':>7} | {'ours MB':>8} {'eagerMB':>8} {'compMB':>8}")
    for r in rows:
        se = r["speedup_vs_eager"]
        sc = r["speedup_vs_compile"]

        def mb(k):
            d = r.get(k, {})
            return f"{d['peak_mb']:8.0f}" if "peak_mb" in d else ("     OOM" if d.get("oom") else "       -")
        print(f"{r['B']:>4} {r['T']:>4} {r['V']:>7} | {r['floor_ms']:7.3f} {f(r,'ours')} {f(r,'eager')} "
              f"{f(r,'compile')} | {se if se else '-':>7} {sc if sc else '-':>7} {str(r['ours_over_floor']):>6} "
              f"{str(r['ours_tflops']):>7} | {mb('ours')} {mb('eager')} {mb('compile')}")


if __name__ == "__main__":
    main()
