#!/usr/bin/env bash
# Builds the CUDA BERT trunk addon: build/cuda/lsr_cuda_trunk.node (native/cuda/trunk*.{cu,cc}).
# Only where nvcc exists; binding.gyp's CPU addon and CI are untouched. docs/gpu.md.
#
#   native/cuda/trunk-build.sh                 # nvcc from PATH or /usr/local/cuda/bin
#   NVCC=... NODE_API_INCLUDE=... CUDA_ARCH="-gencode=arch=compute_90,code=sm_90" native/cuda/trunk-build.sh
#   TRUNK_CHECK_ONLY=1 native/cuda/trunk-build.sh   # compile only (no link): a CUDA-less machine with nvcc wheels
#
# At run time the addon dlopens build/cuda/liblsr_cuda_head.so (native/cuda/head-build.sh, the fused
# head) from its own folder, or LSR_CUDA_HEAD_LIB; without it it uses its own simple head.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
NVCC=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
if [ ! -x "$NVCC" ]; then echo "trunk-build: no nvcc (set NVCC); the CUDA encoder is not built" >&2; exit 2; fi
if [ -z "${NODE_API_INCLUDE:-}" ]; then
  for d in "$(dirname "$(command -v node 2>/dev/null || echo /usr/bin/node)")/../include/node" /usr/include/node; do
    [ -f "$d/node_api.h" ] && NODE_API_INCLUDE=$d && break
  done
fi
[ -f "${NODE_API_INCLUDE:-}/node_api.h" ] || { echo "trunk-build: node_api.h not found (set NODE_API_INCLUDE)" >&2; exit 2; }
ARCH=${CUDA_ARCH:-"-gencode=arch=compute_90,code=sm_90 -gencode=arch=compute_80,code=sm_80"}
flags=(-O3 -std=c++17 $ARCH -Xcompiler -fPIC -Xcompiler -fvisibility=hidden -I"$NODE_API_INCLUDE" -Inative/cuda
       -DNODE_GYP_MODULE_NAME=lsr_cuda_trunk ${CUDA_INCLUDE:+-I$CUDA_INCLUDE})
mkdir -p build/cuda
if [ -n "${TRUNK_CHECK_ONLY:-}" ]; then
  "$NVCC" "${flags[@]}" -c native/cuda/trunk.cu -o build/cuda/trunk.o
  "$NVCC" "${flags[@]}" -x cu -c native/cuda/trunk-addon.cc -o build/cuda/trunk-addon.o
  echo "trunk-build: compiled (check only)"
  exit 0
fi
"$NVCC" "${flags[@]}" -shared native/cuda/trunk.cu native/cuda/trunk-addon.cc -o build/cuda/lsr_cuda_trunk.node \
  ${CUDA_LIB:+-L$CUDA_LIB} -lcublas -lcudart -ldl
echo "trunk-build: build/cuda/lsr_cuda_trunk.node"
