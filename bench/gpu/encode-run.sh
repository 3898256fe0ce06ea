#!/usr/bin/env bash
# The GPU encoding benchmark + conformance check, on the GPU machine (issue 7, issue 5):
#   run with carry [".gpu", ".gpu-enc"] after ../shared/gpu/pack-node.sh .gpu and bench/gpu/encode-pack.sh:
#   bash bench/gpu/encode-run.sh            -> $OUT/gpu-encode.json (+ logs)
# Builds the CUDA trunk addon (and the fused head, if its sources build), makes the BERT-base-shaped
# random model with PyTorch there, times sentence-transformers' SparseEncoder, then our GpuEncoder
# from Node, and compares their outputs.
# Strict: any failed step (piped ones included) fails the script. If the fused head does not build, the
# encoder would run the simple head: that fails the script unless ALLOW_SIMPLE_HEAD=1, and either way it
# is printed and recorded in gpu-encode.json ("head_build"); SKIP_HEAD_BUILD=1 is recorded the same way.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
OUT=${OUT:-/tmp/lsr-gpu-out}
W=${LSR_GPU_WORK:-/tmp/lsr-gpu}
mkdir -p "$W" "$OUT"
export PYTHONUNBUFFERED=1
source .gpu/activate.sh
# grep -v that does not fail when every line is filtered out (exit 1), only on a real error (exit 2).
drop() { grep -v "$@" || [ $? -eq 1 ]; }
untar() { python3 -c "import lzma,sys,tarfile; tarfile.open(fileobj=lzma.open(sys.argv[1])).extractall(sys.argv[2])" "$1" "$2"; }
if [ -f .gpu-enc/nm-full.tar.xz ]; then
  [ -d node_modules ] || untar .gpu-enc/nm-full.tar.xz .
  if [ ! -f node_modules/sharp/index.js ]; then  # image decoding: never used by the tokenizers
    mkdir -p node_modules/sharp
    echo '{ "name": "sharp", "version": "0.0.0-lsr-gpu-stub", "main": "index.js" }' > node_modules/sharp/package.json
    echo "module.exports = function sharp() { throw new Error('sharp is a stub on the GPU machine'); };" > node_modules/sharp/index.js
  fi
else [ -d .gpu-enc/node_modules ] || untar .gpu-enc/nm.tar.xz .gpu-enc; fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/device.txt"
t0=$(date +%s)
# Model + texts on the CPU side while nvcc builds.
python3 bench/gpu/encode-prep.py --work "$W" --tok .gpu-enc/bert-base-tok > "$OUT/prep.log" 2>&1 &
prep=$!
hb=""
head_build="fused"
rm -f "$W/head-build.rc"
if [ -n "${SKIP_HEAD_BUILD:-}" ]; then head_build="skipped (SKIP_HEAD_BUILD set): simple head"
elif [ ! -x native/cuda/head-build.sh ]; then head_build="skipped (no native/cuda/head-build.sh): simple head"
else
  (rc=0; native/cuda/head-build.sh > "$W/head-build.log" 2>&1 || rc=$?; echo "$rc" > "$W/head-build.rc") &
  hb=$!
fi
CUDA_ARCH=${CUDA_ARCH:-"-gencode=arch=compute_90,code=sm_90"} native/cuda/trunk-build.sh > "$OUT/build.log" 2>&1 || { cat "$OUT/build.log"; exit 1; }
if [ -n "$hb" ]; then
  wait "$hb"
  cat "$W/head-build.log" >> "$OUT/build.log"
  hrc=$(cat "$W/head-build.rc" 2>/dev/null || echo missing)
  [ "$hrc" = 0 ] || head_build="FALLBACK: fused head build failed (rc=$hrc): simple head"
fi
echo "head: $head_build"
if [ "$head_build" != fused ]; then
  echo "FALLBACK: the encoder runs the simple head, not the fused one ($head_build)"
  if [ "${ALLOW_SIMPLE_HEAD:-}" != 1 ]; then echo "failing: set ALLOW_SIMPLE_HEAD=1 to time the simple head"; exit 1; fi
fi
echo "builds: $(( $(date +%s) - t0 )) s"; tail -3 "$OUT/build.log"
wait $prep || { cat "$OUT/prep.log"; exit 1; }
echo "prep: $(( $(date +%s) - t0 )) s"
python3 bench/gpu/encode-st.py --work "$W" --out "$W" ${ST_ARGS:-} 2>&1 | drop Warning | tee "$OUT/st.log"
echo "st: $(( $(date +%s) - t0 )) s"
node .gpu-enc/dist/bench/gpu/encode.js --model "$W/bert-base" --texts "$W/texts.json" --out "$W" \
  --tiny models/fixtures/tiny-bert --tiny-texts "$W/tiny-texts.json" ${NODE_ARGS:-} 2>&1 | tee "$OUT/node.log"
echo "node: $(( $(date +%s) - t0 )) s"
python3 bench/gpu/encode-compare.py --out "$W" --tiny-vocab 0 --result "$OUT/gpu-encode.json" 2>&1 | tee "$OUT/compare.log"
# Which head ran, in the JSON itself.
python3 -c 'import json,sys; p=sys.argv[1]; d=json.load(open(p)); d["head_build"]=sys.argv[2]; d["head_fallback"]=sys.argv[2]!="fused"; open(p,"w").write(json.dumps(d,indent=1)+"\n")' "$OUT/gpu-encode.json" "$head_build"
# The GPU tests (they skip without CUDA elsewhere), where the full node_modules came along.
if [ -d node_modules/vitest ] && [ -f build/Release/lsr_native.node ]; then
  node node_modules/vitest/vitest.mjs run test/encoder/gpu/gpu-encoder.test.ts test/encoder/gpu/gpu-weights.test.ts 2>&1 | tee "$OUT/vitest.log"
fi
