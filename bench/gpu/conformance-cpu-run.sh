#!/usr/bin/env bash
# Issue 5's CPU conformance, the GPU machine's half (one call, no Node needed there):
#   run: bash bench/gpu/conformance-cpu-run.sh        (writes $OUT/st-cpu-conformance.json, $OUT/model.json, logs)
# Makes the random BERT-base masked-LM from its seed (bench/gpu/conformance-cpu-model.py), checks that
# its weights are byte-identical to this machine's by SHA-256 (falling back to numpy's frozen legacy
# RandomState stream if the PCG64 Generator's draws differ across numpy versions), then runs
# SparseEncoder in fp32 and fp64 over bench/gpu/conformance-cpu-texts.json
# (bench/gpu/conformance-cpu-st.py). The comparison with our CPU encoder runs here on the CPU
# machine: tsx bench/gpu/conformance-cpu.ts.
# Strict: any failed step (piped ones included) fails the script; weights that match neither hash
# exit 3 before SparseEncoder runs (the comparison would be void).
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/lsr-cc-out}
W=${LSR_CC_WORK:-/tmp/lsr-cc}
mkdir -p "$OUT" "$W"
export PYTHONUNBUFFERED=1
# SHA-256 of the weights as made on the CPU machine (numpy 2.4.6), per generator.
WANT_PCG64=eac12256b726c058a88774296c31f439c72569779ba7e1f30eeb9f779340c60e
WANT_LEGACY=51c589f4ea6837f0e7d5d14447a8d3e281b85d2e1397bd0cc870979a05d98fba
t0=$(date +%s)
python3 bench/gpu/conformance-cpu-model.py --out "$W/hf" --rng pcg64 | tee "$OUT/model.json"
if ! grep -q "$WANT_PCG64" "$OUT/model.json"; then
  echo "PCG64 weights differ from the CPU machine's: trying the legacy stream"
  python3 bench/gpu/conformance-cpu-model.py --out "$W/hf" --rng legacy | tee -a "$OUT/model.json"
  if ! grep -q "$WANT_LEGACY" "$OUT/model.json"; then
    echo "WEIGHTS DIFFER from the CPU machine's: the comparison would be void"
    exit 3
  fi
fi
echo "model: $(( $(date +%s) - t0 )) s"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/device.txt"
python3 bench/gpu/conformance-cpu-st.py --model "$W/hf" --texts bench/gpu/conformance-cpu-texts.json \
  --out "$OUT/st-cpu-conformance.json" 2>&1 | { grep -v -i warn || [ $? -eq 1 ]; } | tee "$OUT/st.log"
echo "total: $(( $(date +%s) - t0 )) s"
