// The storage choices of a sparse segment (docs/segment-format.md): inverted lists in runs of
// 65,536-document windows with 16-bit ids, forward term ids in 16 bits when the vocabulary allows,
// and document weights at f16 precision on request. Each is checked against the brute-force scorer.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IndexError, SparseIndex, type SparseBatch } from '../../index/index.js';
import { bruteForce, type OracleDoc, randomDocs, randomQuery, rng, sliceBatch, toOracle } from '../helpers/sparse-random.js';
import { removeDir, tempDir } from '../helpers/temp-dir.js';

/** Round half to even. */
function roundEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d !== 0.5) return d > 0.5 ? f + 1 : f;
  return f % 2 === 0 ? f : f + 1;
}

/** A positive weight as an f16 stores it (ties to even; below the smallest half, the smallest half). */
function toF16(x: number): number {
  if (x < 2 ** -14) return Math.max(1, roundEven(x * 2 ** 24)) / 2 ** 24;
  const ulp = 2 ** (Math.floor(Math.log2(x)) - 10);
  return roundEven(x / ulp) * ulp;
}

function expectOracle(idx: SparseIndex, docs: OracleDoc[], q: ReturnType<typeof randomQuery>, k: number, deleted?: Set<number>) {
  const got = idx.search(q, { k });
  const want = bruteForce(docs, q, k, deleted);
  expect(Array.from(got.docs)).toEqual(want.map((h) => h.docno));
  got.scores.forEach((s, i) => expect(s).toBeCloseTo(want[i].score, 4));
}

describe('inverted lists over several 65,536-document windows', () => {
  const N = 140_000;
  const VOCAB = 300;
  let batch: SparseBatch;
  let docs: OracleDoc[];
  beforeEach(() => {
    batch = randomDocs(N, VOCAB, 4, 77);
    docs = toOracle(batch, 0);
  });

  it('scores every window exactly, finds documents in each, and deletes across them', async () => {
    const idx = SparseIndex.create({ vocab: VOCAB, approx: { postings: 1_000_000 } });
    await idx.add(batch);
    const seg = idx.stats().segmentStats[0];
    expect(seg.runs).toBeGreaterThan(2 * VOCAB * 0.9); // most terms occur in all three windows
    expect(seg.sectionBytes.invDocs).toBe(2 * seg.nnz);
    for (const d of [0, 65_535, 65_536, 131_072, N - 1]) {
      const v = idx.document(d)!;
      expect(new Map(Array.from(v.terms, (t, i) => [t, v.weights[i]]))).toEqual(docs[d].vec);
    }
    const r = rng(3);
    const deleted = new Set([65_535, 65_536, 131_071, 131_072, N - 1]);
    for (let i = 0; i < 8; i++) {
      const q = randomQuery(VOCAB, 6, r);
      expectOracle(idx, docs, q, 10);
      // Nothing pruned (every posting is heavy, every term visited): partial scores are full scores.
      const a = idx.search(q, { k: 10, mode: 'approx', queryCut: 1000, rerank: 100 });
      expect(Array.from(a.docs)).toEqual(Array.from(idx.search(q, { k: 10 }).docs));
    }
    idx.delete(Uint32Array.from(deleted));
    for (let i = 0; i < 8; i++) expectOracle(idx, docs, randomQuery(VOCAB, 6, r), 20, deleted);
  });

  it("keeps the pruned lists (each run's heavy start) exact in score and merges windows", async () => {
    const idx = SparseIndex.create({ vocab: VOCAB, approx: { postings: 3000 }, mergeFactor: 3 });
    await idx.add(sliceBatch(batch, 0, 50_000));
    await idx.add({ ...sliceBatch(batch, 50_000, 100_000), docnos: Uint32Array.from({ length: 50_000 }, (_, i) => 50_000 + i) });
    await idx.add({ ...sliceBatch(batch, 100_000, N), docnos: Uint32Array.from({ length: N - 100_000 }, (_, i) => 100_000 + i) });
    await idx.settle();
    expect(idx.stats().segments).toBe(1);
    const r = rng(5);
    for (let i = 0; i < 8; i++) {
      const q = randomQuery(VOCAB, 6, r);
      expectOracle(idx, docs, q, 10);
      const a = idx.search(q, { k: 10, mode: 'approx', queryCut: 1000, rerank: 200 });
      const all = new Map(bruteForce(docs, q, N).map((h) => [h.docno, h.score]));
      a.docs.forEach((d, j) => expect(a.scores[j]).toBeCloseTo(all.get(d)!, 4));
    }
  });
});

describe('f16 document weights', () => {
  const VOCAB = 400;
  let dir: string;
  beforeEach(() => {
    dir = tempDir('lsr-f16-');
  });
  afterEach(() => removeDir(dir));

  it('stores each weight rounded to f16 and ranks exactly by the rounded vectors, in memory and on disk', async () => {
    const batch = randomDocs(3000, VOCAB, 20, 41);
    // Weights that are not multiples of 1/8: rounding to f16 changes them.
    const r0 = rng(9);
    batch.weights = batch.weights.map((w) => w * (1 + r0()) + 1e-9);
    const rounded: SparseBatch = { ...batch, weights: batch.weights.map(toF16) };
    const docs = toOracle(rounded, 0);
    const idx = SparseIndex.open(dir, { vocab: VOCAB, weightPrecision: 'f16', quantizeU8: true, approx: { postings: 200 } });
    await idx.add(batch);
    const seg = idx.stats().segmentStats[0];
    expect(seg.weightsF16).toBe(true);
    expect(seg.terms16).toBe(true);
    expect(seg.sectionBytes.fwdWeights).toBe(2 * seg.nnz);
    expect(seg.sectionBytes.fwdTerms).toBe(2 * seg.nnz);
    const v = idx.document(7)!;
    expect(new Map(Array.from(v.terms, (t, i) => [t, v.weights[i]]))).toEqual(docs[7].vec);
    const r = rng(10);
    const qs = Array.from({ length: 20 }, () => randomQuery(VOCAB, 30, r));
    for (const q of qs) expectOracle(idx, docs, q, 10);
    const before = qs.map((q) => idx.search(q, { k: 10, mode: 'approx' }));
    await idx.commit({ seq: 1 });
    await idx.close();
    const again = SparseIndex.open(dir, { weightPrecision: 'f16' });
    qs.forEach((q, i) => {
      expectOracle(again, docs, q, 10);
      expect(again.search(q, { k: 10, mode: 'approx' })).toEqual(before[i]);
    });
    await again.close();
  });

  it('keeps a weight below the smallest half as the smallest half, not zero', async () => {
    const idx = SparseIndex.create({ vocab: 10, weightPrecision: 'f16' });
    await idx.add({ offsets: Uint32Array.of(0, 2), terms: Uint32Array.of(1, 2), weights: Float32Array.of(1e-12, 2.5) });
    expect(Array.from(idx.document(0)!.weights)).toEqual([2 ** -24, 2.5]);
  });

  it('refuses weights an f16 cannot hold, and an unknown precision, naming the field', async () => {
    const idx = SparseIndex.create({ vocab: 10, weightPrecision: 'f16' });
    const err = await idx
      .add({ offsets: Uint32Array.of(0, 2), terms: Uint32Array.of(1, 2), weights: Float32Array.of(1, 70000) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IndexError);
    expect((err as IndexError).code).toBe('INVALID_ARGUMENT');
    expect((err as IndexError).message).toMatch(/batch\.weights\[1\] = 70000 exceeds 65504/);
    expect(() => SparseIndex.create({ weightPrecision: 'f8' as 'f16' })).toThrow(/weightPrecision must be 'f32' or 'f16', got f8/);
  });
});
