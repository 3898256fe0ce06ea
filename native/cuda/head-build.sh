#!/usr/bin/env bash
# Builds the CUDA fused sparse head as a C-ABI shared library: build/cuda/liblsr_cuda_head.so
# (head.cu, which includes head-wgmma.inc and the training backward head-backward.inc).
# Only where nvcc exists: NVCC=/path/to/nvcc, else `nvcc` on PATH, else /usr/local/cuda/bin/nvcc.
# Without one it prints a note and exits 0, unless LSR_CUDA=1 (then it fails). The CPU build
# (binding.gyp) never calls this. Targets: sm_90a (wgmma/TMA fast path) + sm_80 and its PTX (the portable
# kernel, JIT-compiled by the driver on other GPUs).
# Extra: LSR_CUDA_ARCHS="..." replaces the -gencode list; KEEP=1 keeps PTX/SASS dumps next to the .so.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${LSR_CUDA_OUT:-$root/build/cuda}"
nvcc="${NVCC:-}"
if [ -z "$nvcc" ]; then
  if command -v nvcc >/dev/null 2>&1; then nvcc=nvcc
  elif [ -x /usr/local/cuda/bin/nvcc ]; then nvcc=/usr/local/cuda/bin/nvcc
  fi
fi
if [ -z "$nvcc" ]; then
  if [ "${LSR_CUDA:-}" = "1" ]; then echo "head-build: LSR_CUDA=1 but no nvcc found" >&2; exit 1; fi
  echo "head-build: no nvcc, CUDA head not built (set NVCC or LSR_CUDA=1 to require it)"; exit 0
fi
archs="${LSR_CUDA_ARCHS:--gencode=arch=compute_90a,code=sm_90a -gencode=arch=compute_80,code=[sm_80,compute_80]}"
mkdir -p "$out"
# A warm GPU machine keeps build/: the library is rebuilt only when its sources, this script or the
# targets changed (FORCE=1 always rebuilds; KEEP=1 does too, for its dumps).
src_hash=$( (cat "$here/head.cu" "$here/head-backward.inc" "$here/head-wgmma.inc" "$here/sparse-head.h" "$0"; \
  echo "$archs") | sha256sum | cut -c1-16)
if [ -z "${FORCE:-}" ] && [ -z "${KEEP:-}" ] && [ -f "$out/liblsr_cuda_head.so" ] \
  && [ "$(cat "$out/head.src" 2>/dev/null || true)" = "$src_hash" ]; then
  echo "head-build: $out/liblsr_cuda_head.so is up to date"; exit 0
fi
rm -f "$out/head.src"
# shellcheck disable=SC2086
# --threads 0: the -gencode targets compile in parallel (one nvcc process per target otherwise in turn).
"$nvcc" -O3 -std=c++20 $archs --threads 0 -Xptxas -v -shared -Xcompiler -fPIC \
  -o "$out/liblsr_cuda_head.so" "$here/head.cu" -lcudart 2>"$out/ptxas.log" || { cat "$out/ptxas.log" >&2; exit 1; }
grep -E "registers|spill|stack|warning|error" "$out/ptxas.log" | sed 's/^/head-build: /' || true
if [ "${KEEP:-}" = "1" ] && command -v cuobjdump >/dev/null 2>&1; then
  cuobjdump --dump-sass "$out/liblsr_cuda_head.so" > "$out/head.sass" 2>/dev/null || true
fi
echo "$src_hash" > "$out/head.src"
echo "head-build: $out/liblsr_cuda_head.so"
