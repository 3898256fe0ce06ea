#!/usr/bin/env bash
# One GPU-machine call: build, correctness check, benchmark. Results under $OUT (or bench/out/gpu).
#   bench/gpu/run.sh [check|bench|all] [extra bench.py args]
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-bench/out/gpu}"; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
what="${1:-all}"; shift || true
rc=0
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,temperature.gpu --format=csv,noheader || true
NVCC="${NVCC:-/usr/local/cuda/bin/nvcc}" LSR_CUDA=1 KEEP=1 native/cuda/head-build.sh || exit 2
cp build/cuda/ptxas.log "$OUT/ptxas.log" 2>/dev/null || true
if [ "$what" = check ] || [ "$what" = all ]; then
  timeout "${CHECK_TIMEOUT:-120}" python3 bench/gpu/check.py --json "$OUT/check.json" || { echo "CHECK FAILED rc=$?"; rc=3; }
fi
if [ "$what" = bench ] || [ "$what" = all ]; then
  timeout "${BENCH_TIMEOUT:-330}" python3 bench/gpu/bench.py --json "$OUT/gpu-head.json" "$@" || { echo "BENCH FAILED rc=$?"; rc=4; }
fi
exit $rc
