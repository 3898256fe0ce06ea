// A paired comparison of two systems evaluated in different `lsr eval` runs over the same judged
// queries (their metrics.json files keep every query's measures): for a new model against the best
// system of an earlier report, where the two cannot share one run (one collection holds one dense
// model). The same test `lsr eval` runs (src/eval/compare.ts: paired randomization, 10,000 trials,
// seed 42, and the paired t-test), over the queries both runs scored.
//
//   tsx bench/compare-metrics.ts <baseline metrics.json> <baseline spec> <system metrics.json> <system spec> [--json]
//
// Prints a table, or with --json one line: {baseline, system, queries, measures: {m: {baseline,
// system, delta, wins, losses, p_randomization, p_ttest}}}.
import { readFileSync } from 'node:fs';
import { compareSystems } from '../src/eval/compare.js';
import type { PerQuery } from '../src/eval/types.js';

const args = process.argv.slice(2).filter((a) => a !== '--json');
const json = process.argv.includes('--json');
if (args.length !== 4) {
  console.error('usage: tsx bench/compare-metrics.ts <baseline metrics.json> <baseline spec> <system metrics.json> <system spec> [--json]');
  process.exit(2);
}

interface Metrics {
  dataset: string;
  measures: string[];
  retrievers: { spec: string; per_query: Record<string, Record<string, number>> }[];
}

function systemOf(file: string, spec: string): { dataset: string; measures: string[]; perQuery: PerQuery } {
  const m = JSON.parse(readFileSync(file, 'utf8')) as Metrics;
  const r = m.retrievers.find((x) => x.spec === spec);
  if (!r) throw new Error(`${file} has no system '${spec}' (it has: ${m.retrievers.map((x) => x.spec).join(', ')})`);
  return { dataset: m.dataset, measures: m.measures, perQuery: new Map(Object.entries(r.per_query)) };
}

const [bFile, bSpec, sFile, sSpec] = args;
const base = systemOf(bFile, bSpec);
const sys = systemOf(sFile, sSpec);
if (base.dataset !== sys.dataset) throw new Error(`the runs are of different datasets: ${base.dataset} and ${sys.dataset}`);
const measures = ['ndcg_cut_10', 'recall_100', 'recip_rank_10'].filter((m) => base.measures.includes(m) && sys.measures.includes(m));
const rows = compareSystems(bSpec, base.perQuery, sSpec, sys.perQuery, measures);
const queries = [...base.perQuery.keys()].filter((q) => sys.perQuery.has(q)).length;
const mean = (pq: PerQuery, m: string) => {
  const qs = [...base.perQuery.keys()].filter((q) => sys.perQuery.has(q));
  return qs.reduce((a, q) => a + pq.get(q)![m], 0) / qs.length;
};
const out = {
  dataset: base.dataset,
  baseline: bSpec,
  system: sSpec,
  queries,
  measures: Object.fromEntries(
    rows.map((r) => [
      r.measure,
      {
        baseline: mean(base.perQuery, r.measure),
        system: mean(sys.perQuery, r.measure),
        delta: r.meanDifference,
        wins: r.wins,
        losses: r.losses,
        p_randomization: r.pRandomization,
        p_ttest: r.pTTest,
      },
    ]),
  ),
};
if (json) console.log(JSON.stringify(out));
else {
  console.log(`${sSpec}\n  against ${bSpec}\n  (${queries} queries of ${base.dataset})`);
  for (const [m, v] of Object.entries(out.measures))
    console.log(
      `  ${m.padEnd(14)} ${v.baseline.toFixed(4)} -> ${v.system.toFixed(4)}  Δ ${v.delta >= 0 ? '+' : ''}${v.delta.toFixed(4)}  wins ${v.wins} losses ${v.losses}  p ${v.p_randomization.toFixed(4)} (rand.) ${v.p_ttest.toFixed(4)} (t)`,
    );
}
