"""A/B/A/B timing of the head without and with an all-ones mask on the large-V shapes: separates
the mask path's cost from drift between back-to-back measurements. One JSON line per shape."""
import json
import os
import statistics
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
import lsr_head  # noqa: E402

H = 768
for B, T, V in [(128, 256, 250002), (128, 512, 250002), (32, 256, 30522)]:
    torch.manual_seed(0)
    h = torch.randn(B, T, H, device="cuda").to(torch.bfloat16)
    W = (torch.randn(V, H, device="cuda") / H ** 0.5).to(torch.bfloat16)
    bias = torch.randn(V, device="cuda") * 0.5
    mask = torch.ones(B, T, dtype=torch.uint8, device="cuda")
    fns = {"nomask": lambda: lsr_head.sparse_head(h, W, bias), "mask": lambda: lsr_head.sparse_head(h, W, bias, mask=mask)}
    times = {k: [] for k in fns}
    for f in fns.values():
        f()
    for _ in range(6):
        for k, f in fns.items():
            for _ in range(3):
                s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                s.record()
                f()
                e.record()
                e.synchronize()
                times[k].append(s.elapsed_time(e))
    res = {k: round(statistics.median(v), 3) for k, v in times.items()}
    res.update({"B": B, "T": T, "V": V, "mask_over_nomask": round(res["mask"] / res["nomask"], 3),
                "nomask_first_last": [round(times["nomask"][0], 3), round(times["nomask"][-1], 3)]})
    print(json.dumps(res), flush=True)
    del h, W, bias, mask
