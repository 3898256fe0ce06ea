// Cross-validated fusion tuning (src/eval/tune.ts) on lists built so the right answer is known:
// the grid, the seeded folds, a setting chosen from the other folds only (a fold whose queries
// want the opposite of the rest scores what the rest chose, not what it wants), and the tuned run
// equal to fuse() with each fold's setting.
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/eval/metrics.js';
import { candidates, dealFolds, settingSpec, tuneFusion, weightGrid, type MemberLists } from '../../src/eval/tune.js';
import type { Qrels } from '../../src/eval/types.js';
import { fuse } from '../../src/search/fusion.js';

describe('the grid', () => {
  it('is the simplex of the step: every member weight i × step, summing to 1', () => {
    const g = weightGrid(3, 0.1);
    expect(g).toHaveLength(66);
    for (const w of g) expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    expect(g).toContainEqual([0.3, 0.5, 0.2]);
    expect(weightGrid(2, 0.5)).toEqual([
      [1, 0],
      [0.5, 0.5],
      [0, 1],
    ]);
    expect(() => weightGrid(2, 0.3)).toThrow(/1 \/ a positive integer/);
    const c = candidates(['a', 'b'], { step: 0.5 });
    expect(c.filter((s) => s.method === 'convex')).toHaveLength(9);
    expect(c.filter((s) => s.method === 'rrf').map((s) => s.k)).toContain(60);
    expect(settingSpec(['a', 'b'], c[1])).toBe('convex:a+b,norm=min_max,w.a=0.5,w.b=0.5');
  });

  it('deals every query once, the same way for the same seed', () => {
    const q = Array.from({ length: 23 }, (_, i) => `q${i}`);
    const f = dealFolds(q, 5, 7);
    expect(f.flat().sort()).toEqual([...q].sort());
    expect(f.map((x) => x.length).sort()).toEqual([4, 4, 5, 5, 5]);
    expect(dealFolds(q, 5, 7)).toEqual(f);
    expect(dealFolds(q, 5, 8)).not.toEqual(f);
  });
});

/** Query q: member `a` ranks `rel-q` first when `aRight`, else last; `b` the opposite. */
function lists(qids: string[], aRight: (q: string) => boolean): { lists: MemberLists; qrels: Qrels } {
  const l: MemberLists = new Map();
  const qrels: Qrels = new Map();
  for (const q of qids) {
    const docs = [`rel-${q}`, ...Array.from({ length: 19 }, (_, i) => `x${i}-${q}`)];
    const good = { keys: docs, scores: docs.map((_, i) => 20 - i) };
    const bad = { keys: [...docs].reverse(), scores: docs.map((_, i) => 20 - i) };
    l.set(q, [
      { name: 'a', ...(aRight(q) ? good : bad) },
      { name: 'b', ...(aRight(q) ? bad : good) },
    ]);
    qrels.set(q, new Map([[`rel-${q}`, 1]]));
  }
  return { lists: l, qrels };
}

describe('tuneFusion', () => {
  const qids = Array.from({ length: 20 }, (_, i) => `q${i}`);

  it('finds the member that is right, and its run is fuse() with each fold setting', () => {
    const { lists: l, qrels } = lists(qids, () => true);
    const t = tuneFusion(['a', 'b'], l, qrels, 20, { folds: 4, methods: ['convex'] });
    expect(t.folds).toHaveLength(4);
    for (const f of t.folds) {
      expect(f.setting.weights.a).toBeGreaterThan(f.setting.weights.b);
      expect(f.train_ndcg_cut_10).toBe(1);
    }
    expect(evaluate(qrels, t.run, ['ndcg_cut_10']).mean.ndcg_cut_10).toBe(1);
    const q = qids[0];
    const f = t.folds.find((x) => dealFolds(qids, 4, 42)[x.fold - 1].includes(q))!;
    const want = fuse(
      l.get(q)!.map((x) => ({ ...x, weight: f.setting.weights[x.name] })),
      { method: 'convex', normalization: f.setting.normalization },
    );
    expect([...t.run.get(q)!.keys()]).toEqual(want.map((h) => h.key));
  });

  it('never lets a fold see its own judgments', () => {
    // Fold 1's queries want member b; every other query wants a. Trained on the others, fold 1
    // gets a and scores what a gives it; a choice made on all queries would not show that.
    const folds = dealFolds(qids, 4, 42);
    const odd = new Set(folds[0]);
    const { lists: l, qrels } = lists(qids, (q) => !odd.has(q));
    const t = tuneFusion(['a', 'b'], l, qrels, 20, { folds: 4, methods: ['convex'] });
    expect(t.folds[0].setting.weights.a).toBeGreaterThan(t.folds[0].setting.weights.b);
    const cv = evaluate(qrels, t.run, ['ndcg_cut_10']);
    for (const q of folds[0]) expect(cv.perQuery.get(q)!.ndcg_cut_10).toBeLessThan(1);
    // The setting chosen on every query (its own judgments included) scores more on them than the
    // cross-validated run: the gap is what tuning on the test judgments would have hidden.
    const all = new Map(
      qids.map((q) => [
        q,
        new Map(
          fuse(
            l.get(q)!.map((x) => ({ ...x, weight: t.all.weights[x.name] })),
            { method: 'convex', normalization: t.all.normalization },
          ).map((h) => [h.key, h.score]),
        ),
      ]),
    );
    expect(evaluate(qrels, all, ['ndcg_cut_10']).mean.ndcg_cut_10).toBeGreaterThan(cv.mean.ndcg_cut_10);
  });

  it('tunes RRF over k alone with equal weights', () => {
    const { lists: l, qrels } = lists(qids, () => true);
    const t = tuneFusion(['a', 'b'], l, qrels, 20, { folds: 2, methods: ['rrf'] });
    for (const f of t.folds) {
      expect(f.setting.method).toBe('rrf');
      expect(f.setting.weights).toEqual({ a: 1, b: 1 });
    }
    expect(() => tuneFusion(['a', 'b'], l, qrels, 20, { folds: 1 })).toThrow(/folds/);
  });
});
