// Issue 5's CPU conformance, this machine's half: our CPU encoder (ONNX trunk + native fused head, the
// split layout; the full ONNX masked-LM + pooling, the full layout; the split layout with the bf16
// head) against sentence-transformers' SparseEncoder (MLMTransformer + SpladePooling 'max'), which ran
// on the GPU machine in fp32 (TF32 off) and fp64 on byte-identical weights (bench/gpu/conformance-cpu-run.sh
// checked their SHA-256) and the same texts (bench/gpu/conformance-cpu-texts.json).
//
//   tsx bench/gpu/conformance-cpu.ts [--model-dir DIR] [--st bench/results/conformance-cpu-st.json]
//                                    [--out bench/results/conformance-cpu.json] [--threads 2]
//
// Without --model-dir (or when DIR has no trunk.onnx) it makes the model: bench/gpu/conformance-cpu-model.py
// (the Hugging Face checkpoint SparseEncoder loaded) then models/make-random-bert.py --from-checkpoint
// (our two layouts from that checkpoint, without PyTorch).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SparseVectors } from '../../src/encoder/sparse/fused-head.js';
import { SpladeEncoder, type EncoderOptions } from '../../src/encoder/sparse/splade-encoder.js';

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const root = fileURLToPath(new URL('../../', import.meta.url));
const stPath = opt('st', join(root, 'bench/results/conformance-cpu-st.json'));
const outPath = opt('out', join(root, 'bench/results/conformance-cpu.json'));
const threads = Number(opt('threads', '2'));

interface Row {
  t: number[];
  w: number[];
}
interface StResult {
  ids: number[][];
  st_fp32: Row[];
  st_fp64?: Row[];
  [k: string]: unknown;
}

function py(script: string, ...a: string[]): string {
  const r = spawnSync('python3', [join(root, script), ...a], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`${script} failed (${r.status})`);
  return r.stdout.trim();
}

function rowsOf(v: SparseVectors): Row[] {
  return Array.from({ length: v.offsets.length - 1 }, (_, x) => ({
    t: Array.from(v.terms.subarray(v.offsets[x], v.offsets[x + 1])),
    w: Array.from(v.weights.subarray(v.offsets[x], v.offsets[x + 1])),
  }));
}

/** Max abs difference over the union of both sides' terms (a term missing on one side counts as 0 there). */
function compare(a: Row[], b: Row[], texts: number[]) {
  let maxAbs = 0,
    maxRelTop = 0,
    worst = -1,
    onlyOne = 0,
    onlyOneMax = 0,
    nnzA = 0,
    nnzB = 0;
  for (const x of texts) {
    const m = new Map<number, [number, number]>();
    a[x].t.forEach((t, i) => m.set(t, [a[x].w[i], 0]));
    b[x].t.forEach((t, i) => m.set(t, [m.get(t)?.[0] ?? 0, b[x].w[i]]));
    const top = Math.max(0, ...b[x].w);
    nnzA += a[x].t.length;
    nnzB += b[x].t.length;
    for (const [p, q] of m.values()) {
      const d = Math.abs(p - q);
      if (p === 0 || q === 0) {
        onlyOne++;
        onlyOneMax = Math.max(onlyOneMax, p, q);
      }
      if (d > maxAbs) {
        maxAbs = d;
        worst = x;
      }
      if (top > 0) maxRelTop = Math.max(maxRelTop, d / top);
    }
  }
  return {
    texts: texts.length,
    max_abs: maxAbs,
    max_rel_to_top: maxRelTop,
    worst_text: worst,
    terms_on_one_side_only: onlyOne,
    largest_weight_on_one_side_only: onlyOneMax,
    nnz_per_text: [nnzA / texts.length, nnzB / texts.length],
  };
}

async function main(): Promise<void> {
  const st = JSON.parse(readFileSync(stPath, 'utf8')) as StResult;
  const texts = JSON.parse(readFileSync(join(root, 'bench/gpu/conformance-cpu-texts.json'), 'utf8')) as string[];
  let dir = opt('model-dir', '');
  let temp: string | null = null;
  let model: unknown = null;
  if (!dir || !existsSync(join(dir, 'trunk.onnx'))) {
    dir ||= temp = mkdtempSync(join(tmpdir(), 'lsr-cc-'));
    model = JSON.parse(py('bench/gpu/conformance-cpu-model.py', '--out', join(dir, 'hf')));
    py('models/make-random-bert.py', '--from-checkpoint', join(dir, 'hf'), '--out', dir);
  }
  try {
    const variants: [string, EncoderOptions][] = [
      ['split_fp32', { layout: 'split' }],
      ['full', { layout: 'full' }],
      ['split_bf16', { layout: 'split', bf16: true }],
    ];
    const ours: Record<string, Row[]> = {};
    let ids: number[][] = [];
    for (const [name, o] of variants) {
      const enc = await SpladeEncoder.load(dir, { ...o, maxLength: 256, batchSize: 16, threads });
      if (!ids.length) ids = enc.tokenize(texts);
      const t0 = performance.now();
      ours[name] = rowsOf(await enc.encode(texts));
      process.stderr.write(`${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
      await enc.close();
    }
    const sameIds = texts.map((_, x) => x).filter((x) => JSON.stringify(ids[x]) === JSON.stringify(st.ids[x]));
    const diffIds = texts.map((_, x) => x).filter((x) => !sameIds.includes(x));
    const all = texts.map((_, x) => x);
    const result: Record<string, unknown> = {
      reference: {
        device: st.device,
        torch: st.torch,
        transformers: st.transformers,
        sentence_transformers: st.sentence_transformers,
        modules: st.modules,
        attn_implementation: st.attn_implementation,
        max_seq_length: st.max_seq_length,
        tf32: st.tf32,
        weights_check_max_abs: st.weights_check_max_abs,
        st_fp32_vs_fp64_max_abs: st.st_fp32_vs_fp64_max_abs,
      },
      model: model ?? { dir },
      texts: texts.length,
      threads,
      tokenization: {
        identical: sameIds.length,
        differ: diffIds.map((x) => ({ text: x, ours: ids[x], st: st.ids[x] })),
        tokens_per_text: st.ids.map((i) => i.length),
      },
    };
    const cmp: Record<string, unknown> = {};
    for (const name of Object.keys(ours)) {
      cmp[`${name}_vs_st_fp32`] = compare(ours[name], st.st_fp32, all);
      if (st.st_fp64) cmp[`${name}_vs_st_fp64`] = compare(ours[name], st.st_fp64, all);
      if (diffIds.length) cmp[`${name}_vs_st_fp32_same_tokens`] = compare(ours[name], st.st_fp32, sameIds);
    }
    cmp.split_fp32_vs_full = compare(ours.split_fp32, ours.full, all);
    if (st.st_fp64) cmp.st_fp32_vs_st_fp64 = compare(st.st_fp32, st.st_fp64, all);
    result.comparisons = cmp;
    writeFileSync(outPath, JSON.stringify(result, null, 1) + '\n');
    const brief = Object.fromEntries(
      Object.entries(cmp).map(([k, v]) => {
        const c = v as ReturnType<typeof compare>;
        return [
          k,
          {
            max_abs: c.max_abs,
            max_rel_to_top: c.max_rel_to_top,
            one_side: c.terms_on_one_side_only,
            one_side_max: c.largest_weight_on_one_side_only,
          },
        ];
      }),
    );
    console.log(JSON.stringify({ tokenization_identical: `${sameIds.length}/${texts.length}`, ...brief }, null, 1));
  } finally {
    if (temp) rmSync(temp, { recursive: true, force: true });
  }
}

await main();
