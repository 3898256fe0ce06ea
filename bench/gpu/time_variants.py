"""Times one build of the head (LSR_CUDA_HEAD_LIB) on a few shapes; one JSON line per shape.
Used to compare kernel variants and timing experiments (docs/gpu.md) inside one GPU-machine call."""
import json
import os
import statistics
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
import lsr_head  # noqa: E402

H, V = 768, 30522
shapes = [(32, 100), (32, 180), (128, 300), (32, 256)]
if len(sys.argv) > 2:
    shapes = [tuple(int(x) for x in s.split("x")) for s in sys.argv[2].split(",")]
torch.manual_seed(0)
W = (torch.randn(V, H, device="cuda") / H ** 0.5).to(torch.bfloat16)
bias = torch.randn(V, device="cuda") * 0.5
for B, T in shapes:
    h = torch.randn(B, T, H, device="cuda").to(torch.bfloat16)
    for _ in range(3):
        lsr_head.sparse_head(h, W, bias)
    ts = []
    for _ in range(15):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        lsr_head.sparse_head(h, W, bias)
        e.record()
        e.synchronize()
        ts.append(s.elapsed_time(e))
    ms = statistics.median(ts)
    print(json.dumps({"variant": sys.argv[1], "B": B, "T": T, "ms": round(ms, 4),
                      "tflops": round(2 * B * T * H * V / ms / 1e9, 1)}), flush=True)
