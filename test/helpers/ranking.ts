// Comparing two backends' rankings of the same documents, where stored weights are rounded (OpenSearch
// keeps rank_features to 9 significant bits): equal up to a tolerance, near ties allowed to swap.
import { expect } from 'vitest';

export interface RankedHit {
  _id: string;
  score: number;
}

/**
 * `b`, a top `k`, ranks as `all` begins: it holds min(k, all.length) hits, at each rank a score
 * within `tol` (relative) of all's, and where the documents differ the two are a near tie (their
 * scores within 2 tol) and b's is in `all` (which may reach below the cut-off, where a tie can swap in).
 */
export function expectSameRanking(all: readonly RankedHit[], b: readonly RankedHit[], tol: number, k = all.length, label = ''): void {
  const n = Math.min(k, all.length);
  expect(b.length, label).toBe(n);
  for (let i = 0; i < n; i++) {
    const a = all[i];
    const scale = Math.max(Math.abs(a.score), 1e-6);
    expect(
      Math.abs(a.score - b[i].score) / scale,
      `${label} rank ${i}: ${a._id} ${a.score} vs ${b[i]._id} ${b[i].score}`,
    ).toBeLessThanOrEqual(tol);
    if (a._id !== b[i]._id) {
      const other = all.find((h) => h._id === b[i]._id);
      expect(other, `${label} ${b[i]._id} at rank ${i} is not in the embedded list`).toBeDefined();
      expect(Math.abs(other!.score - a.score) / scale, `${label} rank ${i}: a swap that is not a near tie`).toBeLessThanOrEqual(2 * tol);
    }
  }
}
