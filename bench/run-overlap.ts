// Recall of one TREC run against another: for each query of `reference`, the share of its top k
// documents that `candidate` also has in its top k, averaged over the reference's queries (an
// approximate run against the exact run of the same retriever: recall@k against exact search).
//
//   tsx bench/run-overlap.ts <reference.trec> <candidate.trec> [--k 10] [--json]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  options: { k: { type: 'string', default: '10' }, json: { type: 'boolean', default: false } },
  allowPositionals: true,
});
if (positionals.length !== 2) {
  process.stderr.write('usage: tsx bench/run-overlap.ts <reference.trec> <candidate.trec> [--k 10] [--json]\n');
  process.exit(2);
}
const k = Number(values.k);

/** query -> document ids by rank (TREC run lines: qid Q0 doc rank score tag). */
function readRun(path: string): Map<string, string[]> {
  const rows = new Map<string, { doc: string; rank: number; score: number }[]>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6) continue;
    const list = rows.get(f[0]) ?? [];
    list.push({ doc: f[2], rank: Number(f[3]), score: Number(f[4]) });
    rows.set(f[0], list);
  }
  const out = new Map<string, string[]>();
  for (const [q, list] of rows)
    out.set(
      q,
      list.sort((a, b) => a.rank - b.rank).map((r) => r.doc),
    );
  return out;
}

const ref = readRun(positionals[0]);
const cand = readRun(positionals[1]);
let sum = 0;
let n = 0;
for (const [q, docs] of ref) {
  const want = docs.slice(0, k);
  if (want.length === 0) continue;
  const got = new Set((cand.get(q) ?? []).slice(0, k));
  sum += want.filter((d) => got.has(d)).length / want.length;
  n++;
}
const result = { k, queries: n, recall_vs_reference: n ? sum / n : null, reference: positionals[0], candidate: positionals[1] };
process.stdout.write(
  values.json
    ? `${JSON.stringify(result)}\n`
    : `recall@${k} against the reference over ${n} queries: ${result.recall_vs_reference?.toFixed(4)}\n`,
);
