// Paired comparison of two evaluated systems over the queries both were scored on.

import { pairedTTest, randomizationTest, type RandomizationOptions } from './significance.js';
import type { ComparisonRow } from './report.js';
import type { PerQuery } from './types.js';

/**
 * Compares `system` with `baseline` on each measure: mean difference (system − baseline), wins and
 * losses, and two-sided p-values of the paired randomization test (default 10,000 trials, seed 42)
 * and the paired t-test. Pairs are the queries present in both; with `evaluate`'s default
 * `averageOver: 'qrels'` that is every judged query.
 */
export function compareSystems(
  baselineSpec: string,
  baseline: PerQuery,
  spec: string,
  system: PerQuery,
  measures: readonly string[],
  options: RandomizationOptions = {},
): ComparisonRow[] {
  const qids = [...baseline.keys()].filter((q) => system.has(q));
  return measures.map((measure) => {
    const a = qids.map((q) => baseline.get(q)![measure]);
    const b = qids.map((q) => system.get(q)![measure]);
    let wins = 0;
    let losses = 0;
    for (let i = 0; i < a.length; i++) {
      if (b[i] > a[i]) wins++;
      else if (b[i] < a[i]) losses++;
    }
    const rt = randomizationTest(a, b, options);
    return {
      spec,
      baseline: baselineSpec,
      measure,
      meanDifference: rt.meanDifference,
      pRandomization: rt.pValue,
      pTTest: pairedTTest(a, b).pValue,
      wins,
      losses,
    };
  });
}
