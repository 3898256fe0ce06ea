#!/usr/bin/env bash
# Builds timing-experiment variants of the head (-DLSR_HEAD_EXP=N, and optionally older head.cu
# files, e.g. from `git show REV:native/cuda/head.cu > build/head-REV.cu`, carried) and times each
# with time_variants.py. Usage: bench/gpu/variants.sh [path/to/head-NAME.cu ...]
set -uo pipefail
cd "$(dirname "$0")/../.."
export PYTHONUNBUFFERED=1
NVCC="${NVCC:-/usr/local/cuda/bin/nvcc}"
arch="-gencode=arch=compute_90a,code=sm_90a"
build() {  # name, source, extra flags
  mkdir -p "build/cuda-$1"
  "$NVCC" -O3 -std=c++20 $arch -shared -Xcompiler -fPIC -Inative/cuda $3 -o "build/cuda-$1/liblsr_cuda_head.so" "$2" -lcudart || echo "build $1 failed"
}
build exp1 native/cuda/head.cu -DLSR_HEAD_EXP=1 &
build exp2 native/cuda/head.cu -DLSR_HEAD_EXP=2 &
names=()
for f in "$@"; do n="$(basename "$f" .cu)"; names+=("$n"); build "$n" "$f" "" & done
wait
LSR_CUDA_HEAD_LIB=build/cuda/liblsr_cuda_head.so python3 bench/gpu/time_variants.py current ${SHAPES:-}
for v in exp1 exp2 "${names[@]}"; do
  [ -f "build/cuda-$v/liblsr_cuda_head.so" ] && LSR_CUDA_HEAD_LIB="build/cuda-$v/liblsr_cuda_head.so" python3 bench/gpu/time_variants.py "$v" ${SHAPES:-}
done
