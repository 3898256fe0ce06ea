// Fusion methods against values worked out by hand (the arithmetic is in the comments), plus the
// documented edge cases: absent documents, single-hit and constant lists, clipping, ties.
import { describe, expect, it } from 'vitest';
import {
  distribution,
  fuse,
  l2,
  meanAndSd,
  minMax,
  MIN_NORMALIZED,
  zScore,
  type FusedHit,
  type RankedList,
} from '../../src/search/fusion.js';

// A: a 10, b 6, c 2      B: b 0.9, d 0.5
const A: RankedList<string> = { name: 'A', keys: ['a', 'b', 'c'], scores: [10, 6, 2] };
const B: RankedList<string> = { name: 'B', keys: ['b', 'd'], scores: [0.9, 0.5] };

function scores(hits: FusedHit<string>[]): Record<string, number> {
  return Object.fromEntries(hits.map((h) => [h.key, h.score]));
}
function order(hits: FusedHit<string>[]): string[] {
  return hits.map((h) => h.key);
}
function expectScores(hits: FusedHit<string>[], want: Record<string, number>): void {
  const got = scores(hits);
  expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
  for (const [k, v] of Object.entries(want)) expect(got[k]).toBeCloseTo(v, 12);
}

describe('normalizations', () => {
  it('min-max: (s - min) / (max - min), the lowest lifted to 0.001, a constant list is 1', () => {
    expect(minMax([10, 6, 2])).toEqual([1, 0.5, MIN_NORMALIZED]);
    expect(minMax([3, 3])).toEqual([1, 1]);
    expect(minMax([7])).toEqual([1]);
    expect(minMax([])).toEqual([]);
  });
  it('z-score: (s - mean) / sample sd, at or below the mean 0.001, a constant list is 1', () => {
    // mean 6, sd = sqrt((16 + 0 + 16) / 2) = 4: z = 1, 0, -1
    expect(meanAndSd([10, 6, 2])).toEqual({ mean: 6, sd: 4 });
    expect(zScore([10, 6, 2])).toEqual([1, MIN_NORMALIZED, MIN_NORMALIZED]);
    // mean 0.7, sd = sqrt(0.04 + 0.04) = 0.28284271: z(0.9) = 0.2 / 0.28284271 = 1/sqrt(2)
    expect(zScore([0.9, 0.5])[0]).toBeCloseTo(Math.SQRT1_2, 12);
    expect(zScore([0.9, 0.5])[1]).toBe(MIN_NORMALIZED);
    expect(zScore([5])).toEqual([1]);
    expect(zScore([2, 2, 2])).toEqual([1, 1, 1]);
  });
  it('l2: s / sqrt(sum of squares), an all-zero list 0.001', () => {
    // sqrt(100 + 36 + 4) = sqrt(140) = 11.8321595662
    const v = l2([10, 6, 2]);
    expect(v[0]).toBeCloseTo(0.8451542547285166, 12);
    expect(v[1]).toBeCloseTo(0.50709255283711, 12);
    expect(v[2]).toBeCloseTo(0.1690308509457033, 12);
    expect(l2([0, 0])).toEqual([MIN_NORMALIZED, MIN_NORMALIZED]);
    expect(l2([4])).toEqual([1]);
  });
  it('DBSF: mean +/- 3 sample sd mapped to [0, 1], not clipped unless asked; one hit or a constant list is 0.5', () => {
    // mean 6, sd 4: lo = -6, hi = 18, range 24 -> 16/24, 12/24, 8/24
    const v = distribution([10, 6, 2]);
    expect(v[0]).toBeCloseTo(2 / 3, 12);
    expect(v[1]).toBeCloseTo(0.5, 12);
    expect(v[2]).toBeCloseTo(1 / 3, 12);
    // two scores are always mean +/- sd/sqrt(2): 0.5 +/- (1/sqrt(2)) / 6
    const w = distribution([0.9, 0.5]);
    expect(w[0]).toBeCloseTo(0.6178511301977579, 12);
    expect(w[1]).toBeCloseTo(0.38214886980224205, 12);
    // an outlier beyond 3 sd: [100, 0 x 19]: mean 5, sd = sqrt((95^2 + 19 * 25) / 19) = sqrt(500);
    // hi = 5 + 3 sqrt(500) = 72.08 < 100: (100 - 5 + 3 sqrt(500)) / (6 sqrt(500)) = 0.5 + 95 / (6 sqrt(500)) = 1.2081 as Qdrant,
    // 1 when clipped; each 0 -> 0.5 - 5 / (6 sqrt(500)) = 0.4627 either way
    const outlier = [100, ...new Array(19).fill(0)];
    const out = distribution(outlier);
    expect(out[0]).toBeCloseTo(0.5 + 95 / (6 * Math.sqrt(500)), 12);
    expect(out[0]).toBeCloseTo(1.2080881929, 9);
    expect(out[1]).toBeCloseTo(0.5 - 5 / (6 * Math.sqrt(500)), 12);
    expect(out[1]).toBeCloseTo(0.4627322003, 9);
    const clipped = distribution(outlier, true);
    expect(clipped[0]).toBe(1);
    expect(clipped[1]).toBe(out[1]);
    // below mean - 3 sd: [-100, 0 x 19] mirrors it: -0.2081, clipped 0
    expect(distribution(outlier.map((x) => -x))[0]).toBeCloseTo(-0.2080881929, 9);
    expect(
      distribution(
        outlier.map((x) => -x),
        true,
      )[0],
    ).toBe(0);
    expect(distribution([3])).toEqual([0.5]);
    expect(distribution([1, 1])).toEqual([0.5, 0.5]);
  });
});

describe('RRF', () => {
  it('sums 1 / (k + rank) over the lists that hold the document; absent lists add nothing', () => {
    const hits = fuse([A, B], { method: 'rrf', k: 60 });
    // a: 1/61; b: 1/62 + 1/61; c: 1/63; d: 1/62
    expectScores(hits, { a: 0.01639344262295082, b: 0.03252247488101534, c: 0.015873015873015872, d: 0.016129032258064516 });
    expect(order(hits)).toEqual(['b', 'a', 'd', 'c']);
    const b = hits[0].sources;
    expect(b[0]).toEqual({ rank: 2, score: 6, normalized: null, contribution: 1 / 62 });
    expect(b[1]).toEqual({ rank: 1, score: 0.9, normalized: null, contribution: 1 / 61 });
    expect(hits[1].sources[1]).toEqual({ rank: null, score: null, normalized: null, contribution: 0 });
  });
  it('defaults k to 60 and multiplies each list by its weight', () => {
    expect(scores(fuse([A, B], { method: 'rrf' }))).toEqual(scores(fuse([A, B], { method: 'rrf', k: 60 })));
    // k = 0, A x 2: a 2/1 = 2; b 2/2 + 1/1 = 2; c 2/3; d 1/2. a and b tie at 2: both best rank 1 -> key order
    const hits = fuse([{ ...A, weight: 2 }, B], { method: 'rrf', k: 0 });
    expectScores(hits, { a: 2, b: 2, c: 2 / 3, d: 0.5 });
    expect(order(hits)).toEqual(['a', 'b', 'c', 'd']);
  });
  it('ranks come from list order, not from the scores given', () => {
    const hits = fuse([{ name: 'X', keys: ['p', 'q'], scores: [1, 5] }], { method: 'rrf', k: 1 });
    expect(hits.map((h) => [h.key, h.score])).toEqual([
      ['p', 1 / 2],
      ['q', 1 / 3],
    ]);
  });
});

describe('convex combination', () => {
  it('min-max: sum of weight x normalized / sum of weights, absent = 0', () => {
    // A: a 1, b 0.5, c 0.001   B: b 1, d 0.001
    // a (1 + 0)/2 = 0.5; b (0.5 + 1)/2 = 0.75; c 0.001/2; d 0.001/2
    const hits = fuse([A, B], { method: 'convex', normalization: 'min_max' });
    expectScores(hits, { a: 0.5, b: 0.75, c: 0.0005, d: 0.0005 });
    // c and d tie: d is ranked 2nd by B, c 3rd by A -> d first
    expect(order(hits)).toEqual(['b', 'a', 'd', 'c']);
    expect(hits[0].sources[0]).toEqual({ rank: 2, score: 6, normalized: 0.5, contribution: 0.25 });
    expect(hits[1].sources[1]).toEqual({ rank: null, score: null, normalized: null, contribution: 0 });
  });
  it('uses min-max when no normalization is given', () => {
    expect(scores(fuse([A, B], { method: 'convex' }))).toEqual(scores(fuse([A, B], { method: 'convex', normalization: 'min_max' })));
  });
  it('weights: OpenSearch arithmetic_mean when they sum to 1, scale-free otherwise', () => {
    // a 0.3 x 1 = 0.3; b 0.3 x 0.5 + 0.7 x 1 = 0.85; c 0.3 x 0.001; d 0.7 x 0.001
    const w = fuse(
      [
        { ...A, weight: 0.3 },
        { ...B, weight: 0.7 },
      ],
      { method: 'convex' },
    );
    expectScores(w, { a: 0.3, b: 0.85, c: 0.0003, d: 0.0007 });
    expect(order(w)).toEqual(['b', 'a', 'd', 'c']);
    expectScores(
      fuse(
        [
          { ...A, weight: 3 },
          { ...B, weight: 7 },
        ],
        { method: 'convex' },
      ),
      { a: 0.3, b: 0.85, c: 0.0003, d: 0.0007 },
    );
  });
  it('z-score', () => {
    // A: a 1, b 0.001, c 0.001   B: b 1/sqrt(2), d 0.001
    const hits = fuse([A, B], { method: 'convex', normalization: 'z_score' });
    expectScores(hits, { a: 0.5, b: (0.001 + Math.SQRT1_2) / 2, c: 0.0005, d: 0.0005 });
    expect(order(hits)).toEqual(['a', 'b', 'd', 'c']);
  });
  it('l2', () => {
    // A / sqrt(140), B / sqrt(1.06)
    const hits = fuse([A, B], { method: 'convex', normalization: 'l2' });
    expectScores(hits, {
      a: 10 / Math.sqrt(140) / 2,
      b: (6 / Math.sqrt(140) + 0.9 / Math.sqrt(1.06)) / 2,
      c: 2 / Math.sqrt(140) / 2,
      d: 0.5 / Math.sqrt(1.06) / 2,
    });
    expect(hits[0].score).toBeCloseTo(0.6906249144793239, 12);
    expect(order(hits)).toEqual(['b', 'a', 'd', 'c']);
  });
  it('a zero-weight list still brings its documents, at 0', () => {
    const hits = fuse([A, { ...B, weight: 0 }], { method: 'convex' });
    expectScores(hits, { a: 1, b: 0.5, c: 0.001, d: 0 });
    expect(() => fuse([{ ...A, weight: 0 }], { method: 'convex' })).toThrow(/positive sum of weights/);
  });
});

describe('DBSF', () => {
  it('sums the 3-sigma normalized scores, absent = 0', () => {
    // a 2/3; b 0.5 + 0.61785113; c 1/3; d 0.38214887
    const hits = fuse([A, B], { method: 'dbsf' });
    expectScores(hits, { a: 2 / 3, b: 0.5 + 0.6178511301977579, c: 1 / 3, d: 0.38214886980224205 });
    expect(order(hits)).toEqual(['b', 'a', 'd', 'c']);
    expect(hits[0].sources[1].normalized).toBeCloseTo(0.6178511301977579, 12);
  });
  it('weights multiply each list', () => {
    expectScores(fuse([{ ...A, weight: 2 }, B], { method: 'dbsf' }), {
      a: 4 / 3,
      b: 1 + 0.6178511301977579,
      c: 2 / 3,
      d: 0.38214886980224205,
    });
  });
  it('clip ties outliers at 1; without it they keep their order', () => {
    // X: x0 100, x1..x19 0 (x0 normalizes to 1.2081 or 1); Y: y 1, x0 0 -> y 0.5 + (1/sqrt 2)/6 = 0.6179, x0 0.3821
    const keys = Array.from({ length: 20 }, (_, i) => `x${i}`);
    const X = { name: 'X', keys, scores: [100, ...new Array(19).fill(0)] };
    const Y = { name: 'Y', keys: ['y', 'x0'], scores: [1, 0] };
    const plain = fuse([X, Y], { method: 'dbsf' });
    expect(plain[0].key).toBe('x0');
    expect(plain[0].score).toBeCloseTo(1.2080881929 + 0.3821488698, 9);
    const clipped = fuse([X, Y], { method: 'dbsf', clip: true });
    expect(clipped[0].score).toBeCloseTo(1 + 0.3821488698, 9);
    expect(clipped[0].sources[0].normalized).toBe(1);
  });
});

describe('edge cases', () => {
  it('an empty list contributes nothing; no lists give nothing', () => {
    const empty = { name: 'E', keys: [], scores: [] };
    expectScores(fuse([A, empty], { method: 'rrf', k: 60 }), { a: 1 / 61, b: 1 / 62, c: 1 / 63 });
    expect(fuse([A, empty], { method: 'convex' })[0].sources[1]).toEqual({ rank: null, score: null, normalized: null, contribution: 0 });
    expect(fuse([], { method: 'dbsf' })).toEqual([]);
  });
  it('equal fused scores: best rank in any list first, then key ascending', () => {
    // k = 0: a1 1/1 = 1, a2 1/2 = 0.5; B x 0.5: b1 0.5/1 = 0.5 -> a2 and b1 tie; b1 has rank 1
    const hits = fuse(
      [
        { name: 'A', keys: ['a1', 'a2'], scores: [2, 1] },
        { name: 'B', keys: ['b1'], scores: [9], weight: 0.5 },
      ],
      { method: 'rrf', k: 0 },
    );
    expect(order(hits)).toEqual(['a1', 'b1', 'a2']);
    // mirror lists tie on score and best rank -> key order, whatever the list order
    const x = fuse(
      [
        { name: 'A', keys: ['y', 'x'], scores: [1, 0] },
        { name: 'B', keys: ['x', 'y'], scores: [1, 0] },
      ],
      { method: 'rrf' },
    );
    const y = fuse(
      [
        { name: 'B', keys: ['x', 'y'], scores: [1, 0] },
        { name: 'A', keys: ['y', 'x'], scores: [1, 0] },
      ],
      { method: 'rrf' },
    );
    expect(order(x)).toEqual(['x', 'y']);
    expect(order(y)).toEqual(['x', 'y']);
    // numeric keys (document numbers) sort numerically, not as strings
    const n = fuse(
      [
        { name: 'A', keys: [10, 9], scores: [1, 1] },
        { name: 'B', keys: [9, 10], scores: [1, 1] },
      ],
      { method: 'rrf' },
    );
    expect(n.map((h) => h.key)).toEqual([9, 10]);
  });
  it('a key twice in one list is a programming error', () => {
    expect(() => fuse([{ name: 'A', keys: ['a', 'a'], scores: [1, 1] }], { method: 'rrf' })).toThrow(/twice/);
  });
});
