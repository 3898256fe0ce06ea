"""Benchmark of the CUDA fused sparse head against PyTorch eager and torch.compile (GPU machine).

Shapes: batch {32,128} x tokens {256,512} x hidden 768 x vocabulary {30522, 250002}, bf16 inputs,
all tokens valid. Times: CUDA events around each call, median of `--reps` after `--warmup` calls.
Peak memory: torch.cuda.max_memory_allocated during one call, with the inputs (hidden, W, bias,
mask) resident (`peak_mb`), and minus what was allocated before the call (`extra_mb`: the op's own
intermediates and output). Floor: max(FLOPs / measured bf16 GEMM rate, bytes / measured copy bandwidth),
bytes = each input read once + the output written once. Both rates are measured at the start of the same
run (`measure_peaks`: an N x N x N bf16 cuBLAS product and a large device-to-device copy, CUDA events,
median of several repetitions) and written beside the device's datasheet figures, which are not used.
Outputs: every timed variant of our kernel (full, mask, ragged, forced sequence mode) is run once more
into a NaN-poisoned buffer and compared with check.py's eager PyTorch float64 reference on the same
inputs, with check.py's tolerance (|out - ref| <= 2e-3 + 2e-3 |ref|); the JSON says per shape whether they
matched (`outputs_match`), and any mismatch makes the script exit 1 after writing the JSON.
Writes JSON (--json) and prints a table.
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
from check import ATOL, RTOL, reference  # noqa: E402

# Datasheet figures (dense bf16 tensor-core FLOP/s without sparsity, HBM bandwidth), for comparison
# only: the floors use the rates measured in the same run (measure_peaks).
DATASHEET = [  # (substring of the device name, bf16 FLOP/s, bytes/s), first match wins
    ("H200", 989e12, 4.8e12),
    ("H100 NVL", 835e12, 3.9e12),
    ("H100 PCIe", 756e12, 2.0e12),
    ("H100", 989e12, 3.35e12),  # SXM5
]


def datasheet(name):
    for key, fl, bw in DATASHEET:
        if key in name:
            return {"datasheet_match": key, "datasheet_bf16_tflops": fl / 1e12, "datasheet_mem_bw_tbs": bw / 1e12}
    return {"datasheet_match": None, "datasheet_bf16_tflops": None, "datasheet_mem_bw_tbs": None}


def measure_peaks(n=8192, copy_gib=2.0, warmup=3, reps=10):
    """Measured bf16 GEMM rate (n^3 cuBLAS product) and device-to-device copy bandwidth (read + write)."""
    a = torch.randn(n, n, device="cuda").to(torch.bfloat16)
    b = torch.randn(n, n, device="cuda").to(torch.bfloat16)
    c = torch.empty(n, n, device="cuda", dtype=torch.bfloat16)
    g_med, g_min = time_fn(lambda: torch.matmul(a, b, out=c), warmup, reps)
    del a, b, c
    numel = int(copy_gib * 2**30) // 4
    src = torch.empty(numel, device="cuda", dtype=torch.float32).fill_(1.0)
    dst = torch.empty_like(src)
    c_med, c_min = time_fn(lambda: dst.copy_(src), warmup, reps)
    del src, dst
    torch.cuda.empty_cache()
    flops = 2.0 * n ** 3
    moved = 2.0 * numel * 4  # each byte read once and written once
    return {"gemm_n": n, "gemm_reps": reps, "gemm_ms": round(g_med, 4),
            "measured_bf16_tflops": round(flops / (g_med * 1e-3) / 1e12, 1),
            "measured_bf16_tflops_best": round(flops / (g_min * 1e-3) / 1e12, 1),
            "copy_gib": copy_gib, "copy_reps": reps, "copy_ms": round(c_med, 4),
            "measured_mem_bw_tbs": round(moved / (c_med * 1e-3) / 1e12, 3),
            "measured_mem_bw_tbs_best": round(moved / (c_min * 1e-3) / 1e12, 3)}


def check_out(fn, ref_args, hidden, W):
    """Runs our kernel once into a NaN-poisoned buffer; compares it with the float64 reference."""
    B, V = hidden.shape[0], W.shape[0]
    out = torch.full((B, V), float("nan"), dtype=torch.float32, device="cuda")
    fn(out)
    torch.cuda.synchronize()
    ref = reference(hidden, W, *ref_args)
    nan = int(torch.isnan(out).sum().item())
    o = out.double()
    err = (o - ref).abs()
    bad = int((err > ATOL + RTOL * ref.abs()).sum().item())
    r = {"ok": nan == 0 and bad == 0, "nan": nan, "bad": bad,
         "max_abs": float(err[~torch.isnan(err)].max().item()) if nan < err.numel() else None}
    del out, ref, o, err
    return r


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
    ap.add_argument("--gemm-n", type=int, default=8192, help="size of the GEMM that measures the FLOP rate")
    ap.add_argument("--no-check", action="store_true", help="skip the output check (the JSON says so)")
    args = ap.parse_args()
    torch.manual_seed(0)
    torch._dynamo.config.cache_size_limit = 64
    compiled = torch.compile(eager_head, dynamic=False)
    dev_name = torch.cuda.get_device_name()
    peaks = measure_peaks(args.gemm_n)
    peak_flops = peaks["measured_bf16_tflops"] * 1e12
    bw = peaks["measured_mem_bw_tbs"] * 1e12
    print(json.dumps({"device": dev_name, **peaks, **datasheet(dev_name)}, separators=(",", ":")), flush=True)
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
        floor_ms = max(flops / peak_flops, nbytes / bw) * 1e3
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
        if not args.no_check:  # the timed variants' outputs against the float64 reference, same inputs
            chk = {"ours": check_out(lambda o: lsr_head.sparse_head(hidden, W, bias, out=o), (bias, None, None), hidden, W),
                   "ours_mask": check_out(lambda o: lsr_head.sparse_head(hidden, W, bias, mask=mask, out=o),
                                          (bias, None, mask), hidden, W),
                   "ours_ragged": check_out(lambda o: lsr_head.sparse_head(hidden, W, bias, lengths, rmask, out=o),
                                            (bias, lengths, rmask), hidden, W)}
            if T % 256:
                os.environ["LSR_CUDA_HEAD_MODE"] = "seq"
                chk["ours_seq_mode"] = check_out(lambda o: lsr_head.sparse_head(hidden, W, bias, out=o),
                                                 (bias, None, None), hidden, W)
                os.environ.pop("LSR_CUDA_HEAD_MODE", None)
            row["check"] = chk
            row["outputs_match"] = all(c["ok"] for c in chk.values())
            torch.cuda.empty_cache()
        else:
            row["outputs_match"] = None
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
        res = {"device": dev_name, "torch": torch.__version__, **peaks, **datasheet(dev_name),
               "floor_uses": "measured_bf16_tflops, measured_mem_bw_tbs",
               "outputs_checked": not args.no_check,
               "outputs_match": None if args.no_check else all(r["outputs_match"] for r in rows),
               "tolerance": {"atol": ATOL, "rtol": RTOL, "reference": "check.reference (float64)"},
               "warmup": args.warmup, "reps": args.reps, "shapes": rows}
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
              f"{str(r['ours_tflops']):>7} | {mb('ours')} {mb('eager')} {mb('compile')}"
              f"  match={r['outputs_match']}")
    print(f"measured: bf16 GEMM {peaks['measured_bf16_tflops']} TFLOP/s, copy {peaks['measured_mem_bw_tbs']} TB/s; "
          f"datasheet: {datasheet(dev_name)}")
    print("SUMMARY " + json.dumps({"device": dev_name, **peaks, **datasheet(dev_name),
                                   "outputs_match": None if args.no_check else all(r["outputs_match"] for r in rows),
                                   "shapes": [[r["B"], r["T"], r["V"], r["ours"].get("ms"), r["floor_ms"],
                                               r["outputs_match"]] for r in rows]}, separators=(",", ":")))
    if not args.no_check and not all(r["outputs_match"] for r in rows):
        print("OUTPUT MISMATCH: our kernel's outputs differ from the float64 reference (see 'check' per shape)")
        sys.exit(1)


if __name__ == "__main__":
    main()
