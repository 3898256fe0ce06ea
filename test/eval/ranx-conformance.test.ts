// Metrics against an implementation independent of trec_eval: ranx (PyPI ranx, pinned in
// .ci/requirements.txt) through test/eval/ranx-reference.py. nDCG@10, Recall@100, MRR@10 and MAP
// per query and on average, under trec_eval -c averaging (what `lsr eval` and CI use: every judged
// query, one without results scoring 0), on generated runs with graded judgments (0, 1 and 2),
// exact score ties, a judged query absent from the run, one with an empty result list, one judged
// only 0 and an unjudged run query. Skips, saying why, only where python3 or ranx is missing.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { evaluate, rankDocuments } from '../../src/eval/metrics.js';
import type { Qrels, Run } from '../../src/eval/types.js';
import { prng, toObject } from './fixtures.js';
import { skipBecause } from '../helpers/skip-log.js';

const script = fileURLToPath(new URL('./ranx-reference.py', import.meta.url));
const MEASURES = ['ndcg_cut_10', 'recall_100', 'recip_rank_10', 'map'];

function probe(): string | null {
  const r = spawnSync('python3', ['-c', 'import ranx'], { encoding: 'utf8' });
  if (r.error) return `python3 not found (${r.error.message})`;
  if (r.status !== 0) return `python3 cannot import ranx; pip install ranx (${r.stderr.trim().split('\n').pop()})`;
  return null;
}

const skipReason = skipBecause(
  import.meta.url,
  'metrics agree with ranx (an implementation independent of trec_eval), -c averaging',
  probe(),
);

interface Fixture {
  qrels: Qrels;
  run: Run;
}

/** Scores from a small set of values exact in 32-bit float, so ties are frequent and rounding never matters. */
function makeFixture(seed: number): Fixture {
  const rnd = prng(seed);
  const docs = Array.from({ length: 150 }, (_, i) => `d${i}`);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const qrels: Qrels = new Map();
  const run: Run = new Map();
  const nq = 6 + Math.floor(rnd() * 6);
  for (let q = 0; q < nq; q++) {
    const qid = `q${q}`;
    const j = new Map<string, number>();
    // q0: judged only 0; the others graded 0, 1 and 2.
    const nj = 1 + Math.floor(rnd() * 12);
    for (let i = 0; i < nj; i++) j.set(pick(docs), q === 0 ? 0 : pick([0, 1, 1, 2]));
    if (q <= 2 || [...j.values()].some((v) => v > 0) || rnd() < 0.5) qrels.set(qid, j);
    // q1: judged, absent from the run; q2: an empty result list.
    if (q === 1) continue;
    const r = new Map<string, number>();
    const nd = q === 2 ? 0 : 1 + Math.floor(rnd() * 140);
    // Relevant documents more likely near the top, so the cutoffs 10 and 100 matter.
    const judged = [...j.keys()];
    for (let i = 0; i < nd; i++) r.set(rnd() < 0.3 && judged.length ? pick(judged) : pick(docs), pick([0.5, 1, 1.25, 2, 3, 4.5, 8, -1]));
    run.set(qid, r);
  }
  run.set('unjudged', new Map([['d1', 9]]));
  return { qrels, run };
}

function reference(fixtures: Fixture[]): {
  version: string;
  fixtures: Array<{ per_query: Record<string, Record<string, number>>; mean: Record<string, number> }>;
} {
  const input = JSON.stringify({ fixtures: fixtures.map((f) => ({ qrels: toObject(f.qrels), run: toObject(f.run) })) });
  const r = spawnSync('python3', [script], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`ranx-reference.py failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe.skipIf(skipReason !== null)('metrics agree with ranx (an implementation independent of trec_eval), -c averaging', () => {
  it('nDCG@10, Recall@100, MRR@10 and MAP per query and on average, to 1e-9', () => {
    const fixtures = Array.from({ length: 60 }, (_, i) => makeFixture(9000 + i));
    const ref = reference(fixtures);
    let compared = 0;
    let noHits = 0;
    let mixedTiesInTop10 = 0;
    let graded2 = 0;
    fixtures.forEach((fx, i) => {
      const ours = evaluate(fx.qrels, fx.run, MEASURES, { averageOver: 'qrels' });
      const theirs = ref.fixtures[i];
      // -c: every judged query, none of the run-only ones.
      expect([...ours.perQuery.keys()].sort(), `fixture seed ${9000 + i}`).toEqual(Object.keys(theirs.per_query).sort());
      for (const [qid, values] of ours.perQuery) {
        for (const n of MEASURES) {
          const want = theirs.per_query[qid][n];
          expect(want, `ranx lacks ${n}`).toBeTypeOf('number');
          if (!(Math.abs(values[n] - want) <= 1e-9))
            throw new Error(`seed ${9000 + i} query ${qid} ${n}: ours ${values[n]} vs ranx ${want}`);
          compared++;
        }
        const scores = fx.run.get(qid);
        if (!scores || scores.size === 0) noHits++;
        const judgments = fx.qrels.get(qid)!;
        if ([...judgments.values()].includes(2)) graded2++;
        // A tie in the top 10 between documents of different relevance: tie order decides the values.
        if (scores) {
          const top = rankDocuments(scores).slice(0, 10);
          const rel = (d: string) => judgments.get(d) ?? 0;
          if (top.some((d, k) => k > 0 && scores.get(d) === scores.get(top[k - 1]) && rel(d) !== rel(top[k - 1]))) mixedTiesInTop10++;
        }
      }
      for (const n of MEASURES) expect(Math.abs(ours.mean[n] - theirs.mean[n]), `seed ${9000 + i} mean ${n}`).toBeLessThanOrEqual(1e-9);
      compared += MEASURES.length;
    });
    console.log(
      `[eval ranx conformance] ranx ${ref.version}: ${compared} values compared; ${noHits} queries without hits, ${mixedTiesInTop10} with mixed-relevance ties in the top 10, ${graded2} with level-2 judgments`,
    );
    // Guards against a vacuous pass.
    expect(compared).toBeGreaterThan(1500);
    expect(noHits).toBeGreaterThanOrEqual(2 * fixtures.length);
    expect(mixedTiesInTop10).toBeGreaterThan(50);
    expect(graded2).toBeGreaterThan(100);
  }, 600_000);
});
