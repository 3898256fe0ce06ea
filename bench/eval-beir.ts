// bench:eval — `lsr eval` end to end on a BEIR folder: start the service, index the corpus, run the
// judged queries, score them. The target: SciFact (5,183 docs, 300 queries) with BM25 well
// under a minute on the shared 2-core machines.
//
//   npx tsx bench/eval-beir.ts [--dataset ../shared/data/scifact] [--retriever bm25] [--json]
//
// Timings are wall-clock seconds of one run (indexing is not repeated: it is the thing measured).
// With --json the last line of stdout is one JSON object.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readFile } from 'node:fs/promises';
import { runEval } from '../src/eval/runner.js';

const { values: args } = parseArgs({
  options: {
    dataset: { type: 'string', default: '../shared/data/scifact' },
    retriever: { type: 'string', default: 'bm25' },
    json: { type: 'boolean', default: false },
  },
});

const out = mkdtempSync(join(tmpdir(), 'bench-eval-'));
try {
  const summary = await runEval({ dataset: args.dataset!, retrievers: [args.retriever!], out, progress: false, log: () => {} });
  const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8')) as { num_queries: number };
  const timings = JSON.parse(await readFile(join(out, 'timings.json'), 'utf8')) as {
    retrievers: Array<{ seconds: { index: number; search: number } }>;
  };
  const s = timings.retrievers[0].seconds;
  const r = summary.retrievers[0];
  const row = {
    dataset: summary.dataset,
    retriever: r.spec,
    queries: metrics.num_queries,
    index_s: Math.round(s.index * 100) / 100,
    search_s: Math.round(s.search * 100) / 100,
    qps: Math.round(metrics.num_queries / s.search),
    total_s: summary.seconds,
    ndcg_cut_10: r.ndcg_cut_10,
    recall_100: r.recall_100,
  };
  const keys = Object.keys(row) as Array<keyof typeof row>;
  // Seconds to 0.01 s; metrics (below 1) to 4 places.
  const cell = (v: string | number) => (typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(v < 1 ? 4 : 2) : String(v));
  const widths = keys.map((k) => Math.max(k.length, cell(row[k]).length));
  console.log(keys.map((k, i) => k.padStart(widths[i])).join('  '));
  console.log(keys.map((k, i) => cell(row[k]).padStart(widths[i])).join('  '));
  if (args.json) console.log(JSON.stringify(row));
} finally {
  rmSync(out, { recursive: true, force: true });
}
