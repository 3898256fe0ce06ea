// Conformance with trec_eval through pytrec_eval (PyPI pytrec-eval-terrier): every measure of every
// judged run query of 200 generated fixtures must match to 1e-9, and so must the paired t-test
// p-values against scipy. Skips, saying why, where python3 or pytrec_eval is missing; CI installs it
// from .ci/requirements.txt.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { evaluate, rankDocuments } from '../../src/eval/metrics.js';
import type { Run } from '../../src/eval/types.js';
import { formatRun, parseRun } from '../../src/eval/trec-files.js';
import { pairedTTest } from '../../src/eval/significance.js';
import { makeFixture, prng, toObject } from './fixtures.js';
import { skipBecause } from '../helpers/skip-log.js';

const script = fileURLToPath(new URL('./pytrec-reference.py', import.meta.url));

function probe(module: string, install: string): string | null {
  const r = spawnSync('python3', ['-c', `import ${module}`], { encoding: 'utf8' });
  if (r.error) return `python3 not found (${r.error.message})`;
  if (r.status !== 0) return `python3 cannot import ${module}; pip install ${install} (${r.stderr.trim().split('\n').pop()})`;
  return null;
}

const skipReason = skipBecause(
  import.meta.url,
  'metrics conform to trec_eval via pytrec_eval',
  probe('pytrec_eval', 'pytrec-eval-terrier'),
);
// scipy comes with pytrec-eval-terrier; checked apart so the metric checks never depend on it.
const scipySkip = skipReason ?? skipBecause(import.meta.url, 'paired t-test p-values match scipy.stats.ttest_rel', probe('scipy', 'scipy'));

function reference(request: unknown): {
  fixtures: Array<{ per_query: Record<string, Record<string, number>>; mean: Record<string, number> }>;
  ttests: number[];
} {
  const r = spawnSync('python3', [script], { input: JSON.stringify(request), encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`pytrec-reference.py failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/**
 * trec_eval -M k for the MRR@k reference: each query's first k documents in the order our metrics
 * rank them (rankDocuments, what evaluate and the run files use), scores unchanged; pytrec_eval then
 * orders them itself. A disagreement on the order shows up here and in the uncut measures.
 */
function truncateRun(run: Run, k: number): Run {
  const out: Run = new Map();
  for (const [qid, scores] of run)
    out.set(
      qid,
      new Map(
        rankDocuments(scores)
          .slice(0, k)
          .map((d) => [d, scores.get(d)!]),
      ),
    );
  return out;
}

describe.skipIf(skipReason !== null)('metrics conform to trec_eval via pytrec_eval', () => {
  it('matches every measure per query and on average, to 1e-9', () => {
    const fixtures = Array.from({ length: 200 }, (_, i) => makeFixture(1000 + i));
    const ref = reference({
      fixtures: fixtures.map((f) => ({
        qrels: toObject(f.qrels),
        run: toObject(f.run),
        cutoffs: f.cutoffs,
        truncated: Object.fromEntries(f.cutoffs.map((k) => [k, toObject(truncateRun(f.run, k))])),
      })),
    });
    let compared = 0;
    fixtures.forEach((fx, i) => {
      const names = ['map', 'recip_rank'];
      for (const k of fx.cutoffs) names.push(`ndcg_cut_${k}`, `P_${k}`, `recall_${k}`, `map_cut_${k}`, `recip_rank_${k}`);
      const ours = evaluate(fx.qrels, fx.run, names, { averageOver: 'run' });
      const theirs = ref.fixtures[i];
      // Same set of queries: judged ∩ run, including empty result lists.
      expect([...ours.perQuery.keys()].sort(), `fixture seed ${1000 + i}`).toEqual(Object.keys(theirs.per_query).sort());
      for (const [qid, values] of ours.perQuery) {
        for (const n of names) {
          const want = theirs.per_query[qid][n];
          expect(want, `pytrec_eval lacks ${n}`).toBeTypeOf('number');
          if (Math.abs(values[n] - want) > 1e-9) {
            throw new Error(`seed ${1000 + i} query ${qid} ${n}: ours ${values[n]} vs pytrec_eval ${want}`);
          }
          compared++;
        }
      }
      for (const n of names) {
        if (ours.numQueries === 0) continue;
        expect(Math.abs(ours.mean[n] - theirs.mean[n]), `seed ${1000 + i} mean ${n}`).toBeLessThanOrEqual(1e-9);
      }
    });
    // Guards against a vacuous pass (e.g. every fixture judged nothing).
    expect(compared).toBeGreaterThan(10_000);
  });

  it('gives the same numbers after a round trip through a TREC run file', () => {
    const fixtures = Array.from({ length: 50 }, (_, i) => makeFixture(5000 + i));
    for (const fx of fixtures) {
      // Only ids without whitespace reach TREC files; the generator has none.
      const back = parseRun(formatRun(fx.run));
      const a = evaluate(fx.qrels, fx.run, ['ndcg_cut_10', 'map', 'recip_rank_3']);
      const b = evaluate(fx.qrels, back, ['ndcg_cut_10', 'map', 'recip_rank_3']);
      expect(b.mean).toEqual(a.mean);
    }
  });

  it.skipIf(scipySkip !== null)('paired t-test p-values match scipy.stats.ttest_rel', () => {
    const rnd = prng(77);
    const pairs: Array<[number[], number[]]> = [];
    for (let t = 0; t < 20; t++) {
      const n = 5 + Math.floor(rnd() * 300);
      const a = Array.from({ length: n }, () => rnd());
      const shift = (rnd() - 0.5) * 0.2;
      const b = a.map((x) => Math.min(1, Math.max(0, x + shift + (rnd() - 0.5) * 0.3)));
      pairs.push([a, b]);
    }
    const ref = reference({ ttests: pairs });
    pairs.forEach(([a, b], i) => {
      const p = pairedTTest(a, b).pValue;
      expect(Math.abs(p - ref.ttests[i]), `t-test ${i}: ours ${p} vs scipy ${ref.ttests[i]}`).toBeLessThanOrEqual(1e-9);
    });
  });
});
