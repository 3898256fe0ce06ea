#!/usr/bin/env bash
# Packs what the GPU encoding benchmark needs on the GPU machine (no Node, no network, 64 MiB a run)
# into .gpu-enc/ (ignored: add /.gpu-enc/ to .git/info/exclude once), beside ../shared/gpu's .gpu/ (Node):
#   .gpu-enc/dist/          the GPU encoder and bench/gpu/encode.ts compiled (bench/gpu/encode-tsconfig.json)
#   .gpu-enc/nm.tar.xz      the node_modules they load: @huggingface/transformers (its node build only),
#                           tokenizers, jinja, onnxruntime-node (linux x64 binary) + common, piscina,
#                           @fastify/error; `sharp` as a stub (image decoding; tokenizers never call it)
#   .gpu-enc/bert-base-tok/ the tokenizer files of make-random-bert.py's bert-base preset
# With FULL=1, instead of nm.tar.xz: .gpu-enc/nm-full.tar.xz, this checkout's node_modules less what
# the encoder tests never load (onnxruntime-web, other platforms' binaries, typescript, better-sqlite3,
# sharp: encode-run.sh puts a stub there), ~22 MB, so that vitest runs test/encoder/gpu/*.test.ts there too.
# Then: run bench/gpu/encode-run.sh there with carry [".gpu", ".gpu-enc"] (FULL: add "build/Release/lsr_native.node").
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
dest=.gpu-enc
mkdir -p "$dest"
rm -rf "$dest/dist"
npx tsc -p bench/gpu/encode-tsconfig.json
if [ -n "${FULL:-}" ]; then
  rm -f "$dest/nm.tar.xz"
  tar cf - --exclude=node_modules/onnxruntime-web --exclude=node_modules/onnxruntime-node/bin/napi-v6/darwin \
    --exclude=node_modules/onnxruntime-node/bin/napi-v6/win32 --exclude=node_modules/onnxruntime-node/bin/napi-v6/linux/arm64 \
    --exclude=node_modules/@typescript --exclude=node_modules/better-sqlite3 --exclude=node_modules/@img \
    --exclude=node_modules/sharp --exclude=node_modules/typescript --exclude=node_modules/.cache --exclude='*.map' \
    --exclude='*.md' --exclude='*.d.ts' node_modules | xz -T2 -6 > "$dest/nm-full.tar.xz"
fi
stage=$(mktemp -d)
S=$stage/node_modules
mkdir -p $S/@huggingface/transformers/dist $S/onnxruntime-node/bin/napi-v6/linux $S/@fastify $S/sharp
cp node_modules/@huggingface/transformers/package.json $S/@huggingface/transformers/
cp node_modules/@huggingface/transformers/dist/transformers.node.mjs $S/@huggingface/transformers/dist/
cp -r node_modules/@huggingface/jinja node_modules/@huggingface/tokenizers $S/@huggingface/
cp -r node_modules/onnxruntime-common node_modules/piscina $S/
cp -r node_modules/@fastify/error $S/@fastify/
cp node_modules/onnxruntime-node/package.json $S/onnxruntime-node/
cp -r node_modules/onnxruntime-node/dist $S/onnxruntime-node/
cp -r node_modules/onnxruntime-node/bin/napi-v6/linux/x64 $S/onnxruntime-node/bin/napi-v6/linux/
echo '{ "name": "sharp", "version": "0.0.0-lsr-gpu-stub", "main": "index.js" }' > $S/sharp/package.json
echo "module.exports = function sharp() { throw new Error('sharp is a stub on the GPU machine (bench/gpu/encode-pack.sh)'); };" > $S/sharp/index.js
[ -n "${FULL:-}" ] || (cd "$stage" && tar cf - node_modules) | xz -T2 -6 > "$dest/nm.tar.xz"
rm -rf "$stage"
if [ ! -f "$dest/bert-base-tok/tokenizer.json" ]; then
  mkdir -p "$dest/bert-base-tok"
  python3 - "$dest/bert-base-tok" <<'PY'
import importlib.util, sys
spec = importlib.util.spec_from_file_location("mrb", "models/make-random-bert.py")
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
m.write_tokenizer(sys.argv[1], m.build_vocab(30522), 512)
PY
fi
du -sh "$dest" .gpu 2>/dev/null || true
