import { describe, expect, it } from 'vitest';
import { IndexError, SparseIndex, type SparseQuery, type TopK } from '../../index/index.js';
import { bruteForce, randomDocs, randomQuery, rng, toOracle } from '../helpers/sparse-random.js';

const VOCAB = 500;

// Float32 accumulation differs from the float64 oracle only by rounding; documents whose oracle
// scores lie within that rounding of each other may legitimately swap places.
function expectMatchesOracle(got: TopK, want: { docno: number; score: number }[]) {
  expect(got.docs.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    expect(got.scores[i]).toBeCloseTo(want[i].score, 3);
    if (got.docs[i] !== want[i].docno) {
      const other = want.find((w) => w.docno === got.docs[i]);
      expect(other, `doc ${got.docs[i]} at rank ${i} is not in the oracle's top-k`).toBeDefined();
      expect(Math.abs(other!.score - want[i].score)).toBeLessThan(1e-4 * Math.max(1, want[i].score));
    }
  }
}

async function build(n: number, seed: number, opts: Parameters<typeof SparseIndex.create>[0] = {}) {
  const idx = SparseIndex.create({ vocab: VOCAB, ...opts });
  const batch = randomDocs(n, VOCAB, 20, seed);
  await idx.add(batch);
  return { idx, docs: toOracle(batch, 0) };
}

describe('SparseIndex exact search', () => {
  it('matches the brute-force oracle on random queries of every length', async () => {
    const { idx, docs } = await build(3000, 1);
    const r = rng(7);
    for (const len of [1, 2, 5, 43, 200, 1500]) {
      for (let i = 0; i < 5; i++) {
        const q = randomQuery(VOCAB, len, r);
        for (const k of [1, 10, 100]) expectMatchesOracle(idx.search(q, { k }), bruteForce(docs, q, k));
      }
    }
  });

  it('sums repeated query terms', async () => {
    const { idx, docs } = await build(500, 2);
    const q: SparseQuery = { terms: new Uint32Array([3, 3, 3, 10]), weights: new Float32Array([0.5, 0.25, 1, 2]) };
    const merged: SparseQuery = { terms: new Uint32Array([3, 10]), weights: new Float32Array([1.75, 2]) };
    const a = idx.search(q, { k: 20 });
    expect(Array.from(a.docs)).toEqual(Array.from(idx.search(merged, { k: 20 }).docs));
    expectMatchesOracle(a, bruteForce(docs, q, 20));
  });

  it('returns nothing for an empty query or terms absent from the index', async () => {
    const { idx } = await build(200, 3);
    expect(idx.search({ terms: new Uint32Array(0), weights: new Float32Array(0) }, { k: 10 }).docs.length).toBe(0);
    // Vocabulary ids no document uses (documents draw ids skewed low; 499 is never drawn at n=200).
    const present = new Set<number>();
    for (let d = 0; d < 200; d++) idx.document(d)?.terms.forEach((t) => present.add(t));
    const absent = [...Array(VOCAB).keys()].filter((t) => !present.has(t)).slice(0, 5);
    expect(absent.length).toBeGreaterThan(0);
    expect(idx.search({ terms: Uint32Array.from(absent), weights: new Float32Array(absent.length).fill(1) }, { k: 10 }).docs.length).toBe(
      0,
    );
  });

  it('returns every match when k exceeds the number of matches', async () => {
    const { idx, docs } = await build(300, 4);
    const q: SparseQuery = { terms: new Uint32Array([VOCAB - 2]), weights: new Float32Array([1]) };
    const want = bruteForce(docs, q, 100000);
    const got = idx.search(q, { k: 100000 });
    expect(got.docs.length).toBe(want.length);
    expectMatchesOracle(got, want);
  });

  it('breaks score ties by document number', async () => {
    const idx = SparseIndex.create({ vocab: 10 });
    const n = 50;
    await idx.add({
      offsets: Uint32Array.from({ length: n + 1 }, (_, i) => i),
      terms: new Uint32Array(n).fill(4),
      weights: new Float32Array(n).fill(1.5),
    });
    const got = idx.search({ terms: new Uint32Array([4]), weights: new Float32Array([1]) }, { k: 7 });
    expect(Array.from(got.docs)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('rejects k = 0, k too large, bad weights and out-of-vocabulary terms with INVALID_ARGUMENT', async () => {
    const { idx } = await build(10, 5);
    const q = { terms: new Uint32Array([1]), weights: new Float32Array([1]) };
    const bad: [unknown, RegExp][] = [
      [() => idx.search(q, { k: 0 }), /k must be an integer from 1/],
      [() => idx.search(q, { k: 100001 }), /k must be an integer from 1/],
      [() => idx.search(q, { k: 1.5 }), /k must be an integer/],
      [() => idx.search({ terms: new Uint32Array([1]), weights: new Float32Array([NaN]) }, { k: 1 }), /query.weights\[0\] = NaN/],
      [() => idx.search({ terms: new Uint32Array([1]), weights: new Float32Array([-1]) }, { k: 1 }), /query.weights\[0\] = -1/],
      [
        () => idx.search({ terms: new Uint32Array([VOCAB]), weights: new Float32Array([1]) }, { k: 1 }),
        /query.terms\[0\] = 500 is outside the vocabulary/,
      ],
      [
        () => idx.search({ terms: new Uint32Array([1, 2]), weights: new Float32Array([1]) }, { k: 1 }),
        /query.terms has 2 entries but query.weights has 1/,
      ],
      [() => idx.search(q, { k: 1, mode: 'fast' as 'exact' }), /mode must be/],
      [() => idx.search(q, { k: 1, heapFactor: 0 }), /heapFactor must be in/],
    ];
    for (const [fn, msg] of bad) {
      let err: unknown;
      try {
        (fn as () => void)();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(IndexError);
      expect((err as IndexError).code).toBe('INVALID_ARGUMENT');
      expect((err as Error).message).toMatch(msg);
    }
  });

  it('rejects malformed batches naming the field', async () => {
    const idx = SparseIndex.create({ vocab: 10 });
    await expect(
      idx.add({ offsets: new Uint32Array([0, 2]), terms: new Uint32Array([1]), weights: new Float32Array([1]) }),
    ).rejects.toThrow(/batch.terms has 1 entries but batch.weights has 1|offsets\[1\] must equal/);
    await expect(
      idx.add({ offsets: new Uint32Array([0, 1]), terms: new Uint32Array([10]), weights: new Float32Array([1]) }),
    ).rejects.toThrow(/batch.terms\[0\] = 10 is outside the vocabulary \(10\)/);
    await expect(
      idx.add({ offsets: new Uint32Array([0, 1]), terms: new Uint32Array([1]), weights: new Float32Array([Infinity]) }),
    ).rejects.toThrow(/batch.weights\[0\] = Infinity/);
    await expect(
      idx.add({ offsets: new Uint32Array([0, 1, 0]), terms: new Uint32Array([1]), weights: new Float32Array([1]) }),
    ).rejects.toThrow(/non-decreasing|must equal/);
    await idx.add({
      offsets: new Uint32Array([0, 1]),
      terms: new Uint32Array([1]),
      weights: new Float32Array([1]),
      docnos: new Uint32Array([5]),
    });
    await expect(
      idx.add({
        offsets: new Uint32Array([0, 1]),
        terms: new Uint32Array([1]),
        weights: new Float32Array([1]),
        docnos: new Uint32Array([5]),
      }),
    ).rejects.toThrow(/batch.docnos\[0\] = 5 must be strictly increasing and >= 6/);
  });

  it('keeps the largest weight of a term repeated inside one document', async () => {
    const idx = SparseIndex.create({ vocab: 10 });
    await idx.add({ offsets: new Uint32Array([0, 3]), terms: new Uint32Array([2, 2, 1]), weights: new Float32Array([0.5, 2, 1]) });
    expect(idx.search({ terms: new Uint32Array([2]), weights: new Float32Array([1]) }, { k: 1 }).scores[0]).toBe(2);
    expect(Array.from(idx.document(0)!.terms)).toEqual([1, 2]);
  });
});

describe('SparseIndex deletes, upserts, segments and merges', () => {
  it('applies tombstones at search time, across segments, and purges them on optimize', async () => {
    const idx = SparseIndex.create({ vocab: VOCAB, mergeFactor: 4 });
    const all = [];
    for (let b = 0; b < 6; b++) {
      const batch = randomDocs(400, VOCAB, 20, 100 + b);
      const { first } = await idx.add(batch);
      all.push(...toOracle(batch, first));
    }
    const r = rng(11);
    const deleted = new Set<number>();
    for (let i = 0; i < 500; i++) deleted.add(Math.floor(r() * 2400));
    expect(idx.delete([...deleted])).toBe(deleted.size);
    expect(idx.delete([...deleted])).toBe(0);
    for (let i = 0; i < 10; i++) {
      const q = randomQuery(VOCAB, 30, r);
      expectMatchesOracle(idx.search(q, { k: 50 }), bruteForce(all, q, 50, deleted));
    }
    await idx.optimize();
    const st = idx.stats();
    expect(st.segments).toBe(1);
    expect(st.deleted).toBe(0);
    expect(st.docs).toBe(2400 - deleted.size);
    for (let i = 0; i < 10; i++) {
      const q = randomQuery(VOCAB, 30, r);
      expectMatchesOracle(idx.search(q, { k: 50 }), bruteForce(all, q, 50, deleted));
    }
    expect(idx.document([...deleted][0])).toBeNull();
  });

  it('upserts: delete the old number, add the new vector under a new number', async () => {
    const idx = SparseIndex.create({ vocab: 10 });
    await idx.add({ offsets: new Uint32Array([0, 1, 2]), terms: new Uint32Array([1, 2]), weights: new Float32Array([1, 1]) });
    idx.delete([0]);
    const { first } = await idx.add({ offsets: new Uint32Array([0, 1]), terms: new Uint32Array([2]), weights: new Float32Array([3]) });
    const got = idx.search({ terms: new Uint32Array([1, 2]), weights: new Float32Array([1, 1]) }, { k: 10 });
    expect(Array.from(got.docs)).toEqual([first, 1]);
  });

  it('merges tiers in the background without losing deletes made during the merge', async () => {
    const idx = SparseIndex.create({ vocab: VOCAB, mergeFactor: 2 });
    const all = [];
    for (let b = 0; b < 8; b++) {
      const batch = randomDocs(300, VOCAB, 15, 200 + b);
      const { first } = await idx.add(batch);
      all.push(...toOracle(batch, first));
      idx.delete([first + 1]); // lands while the merge scheduled by this add may be running
    }
    await idx.settle();
    const deleted = new Set(Array.from({ length: 8 }, (_, b) => b * 300 + 1));
    expect(idx.stats().segments).toBeLessThan(8);
    expect(idx.stats().docs).toBe(2400 - 8);
    const r = rng(3);
    for (let i = 0; i < 10; i++) {
      const q = randomQuery(VOCAB, 40, r);
      expectMatchesOracle(idx.search(q, { k: 30 }), bruteForce(all, q, 30, deleted));
    }
  });

  it('applies a document-number filter and still returns k hits when k documents match', async () => {
    const { idx, docs } = await build(2000, 9);
    const filter = new Uint8Array(Math.ceil(2000 / 8));
    const allow = (d: number) => d % 7 === 3;
    for (let d = 0; d < 2000; d++) if (allow(d)) filter[d >> 3] |= 1 << (d & 7);
    const r = rng(5);
    for (let i = 0; i < 10; i++) {
      const q = randomQuery(VOCAB, 20, r);
      const want = bruteForce(docs, q, 25, new Set(), allow);
      const got = idx.search(q, { k: 25, filter });
      expectMatchesOracle(got, want);
      expect(Array.from(got.docs).every(allow)).toBe(true);
    }
  });
});

describe('SparseIndex concurrency', () => {
  it('searchBatch over threads returns what sequential searches return', async () => {
    const { idx } = await build(3000, 12, { approx: { postings: 200 } });
    const r = rng(13);
    const qs = Array.from({ length: 64 }, () => randomQuery(VOCAB, 30, r));
    for (const mode of ['exact', 'approx'] as const) {
      const batch = await idx.searchBatch(qs, { k: 10, mode }, 2);
      qs.forEach((q, i) => {
        const one = idx.search(q, { k: 10, mode });
        expect(Array.from(batch[i].docs)).toEqual(Array.from(one.docs));
        expect(Array.from(batch[i].scores)).toEqual(Array.from(one.scores));
      });
    }
  });

  it('serves searches while a batch is being built', async () => {
    const { idx, docs } = await build(2000, 14);
    const q = randomQuery(VOCAB, 20, rng(1));
    const before = idx.search(q, { k: 10 });
    const pending = idx.add(randomDocs(20000, VOCAB, 20, 15));
    // The build runs on a worker thread; the current segments stay searchable meanwhile.
    expectMatchesOracle(idx.search(q, { k: 10 }), bruteForce(docs, q, 10));
    expect(Array.from(idx.search(q, { k: 10 }).docs)).toEqual(Array.from(before.docs));
    await pending;
    expect(idx.stats().docs).toBe(22000);
  });
});
