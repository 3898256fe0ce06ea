import { describe, expect, it } from 'vitest';
import { native, SparseIndex } from '../../index/index.js';
import { expectSameOnEverySimdLevel } from '../helpers/simd.js';
import { bruteForce, randomDocs, randomQuery, rng, sliceBatch, toOracle } from '../helpers/sparse-random.js';

const VOCAB = 400;

describe.each([
  { strategy: 'pruned' as const, blocks: false },
  { strategy: 'blocks' as const, blocks: true },
])('approximate search ($strategy)', ({ strategy, blocks }) => {
  it('is exact when no posting is pruned and every list and block is visited', async () => {
    const idx = SparseIndex.create({ vocab: VOCAB, approx: { postings: 1_000_000, summaryEnergy: 1, blocks } });
    const batch = randomDocs(3000, VOCAB, 20, 21);
    await idx.add(batch);
    const docs = toOracle(batch, 0);
    const r = rng(2);
    for (let i = 0; i < 20; i++) {
      const q = randomQuery(VOCAB, 30, r);
      const a = idx.search(q, { k: 10, mode: 'approx', strategy, queryCut: 1000, heapFactor: 1e-6, rerank: 3000 });
      const e = idx.search(q, { k: 10 });
      expect(Array.from(a.docs)).toEqual(Array.from(e.docs));
      expect(Array.from(a.scores)).toEqual(Array.from(e.scores));
      expect(a.docs.length).toBe(bruteForce(docs, q, 10).length);
    }
  });

  it('returns exact scores for the documents it finds, and recall grows as pruning relaxes', async () => {
    const idx = SparseIndex.create({ vocab: VOCAB, approx: { postings: 300, blocks } });
    const batch = randomDocs(5000, VOCAB, 25, 22);
    await idx.add(batch);
    const docs = toOracle(batch, 0);
    const r = rng(3);
    const qs = Array.from({ length: 30 }, () => randomQuery(VOCAB, 20, r));
    const recall = (queryCut: number, heapFactor: number, rerank: number) => {
      let found = 0,
        total = 0;
      for (const q of qs) {
        const want = bruteForce(docs, q, 10);
        const got = idx.search(q, { k: 10, mode: 'approx', strategy, queryCut, heapFactor, rerank });
        const exactScore = new Map(bruteForce(docs, q, 100000).map((h) => [h.docno, h.score]));
        got.docs.forEach((d, i) => expect(got.scores[i]).toBeCloseTo(exactScore.get(d)!, 4));
        const w = new Set(want.map((h) => h.docno));
        found += Array.from(got.docs).filter((d) => w.has(d)).length;
        total += want.length;
      }
      return found / total;
    };
    const tight = recall(2, 1, 10);
    const loose = recall(20, 0.5, 300);
    expect(loose).toBeGreaterThanOrEqual(tight);
    expect(loose).toBeGreaterThan(0.8);
  });
});

describe('u8-quantized impacts', () => {
  it('keeps exact search exact: the same documents and scores as f32 impacts, under deletes and filters', async () => {
    const batch = randomDocs(2000, VOCAB, 20, 31);
    const exact = SparseIndex.create({ vocab: VOCAB });
    const quant = SparseIndex.create({ vocab: VOCAB, quantizeU8: true });
    // Two segments each, so the k-th score held from the first bounds the second's candidates.
    for (const idx of [exact, quant]) {
      await idx.add(sliceBatch(batch, 0, 1000));
      await idx.add(sliceBatch(batch, 1000, 2000));
      idx.delete(Uint32Array.from([3, 17, 1500, 1999]));
    }
    expect(quant.stats().bytesPerPosting).toBe(3);
    expect(exact.stats().bytesPerPosting).toBe(6);
    const docs = toOracle(batch, 0);
    const deleted = new Set([3, 17, 1500, 1999]);
    const filter = new Uint8Array(250);
    for (let d = 0; d < 2000; d += 3) filter[d >> 3] |= 1 << (d & 7);
    const r = rng(8);
    for (let i = 0; i < 30; i++) {
      const q = randomQuery(VOCAB, 30, r);
      for (const opts of [{ k: 1 }, { k: 10 }, { k: 100 }, { k: 10, filter }]) {
        const got = quant.search(q, opts);
        const want = exact.search(q, opts);
        expect(Array.from(got.docs)).toEqual(Array.from(want.docs));
        expect(Array.from(got.scores)).toEqual(Array.from(want.scores));
        const oracle = bruteForce(docs, q, opts.k, deleted, opts.filter ? (d) => d % 3 === 0 : undefined);
        expect(Array.from(got.docs)).toEqual(oracle.map((h) => h.docno));
      }
    }
  });
});

describe('SIMD dispatch', () => {
  it('gives the same results on the scalar, AVX2 and AVX-512 paths', () => {
    const script = `
      import { SparseIndex, native } from './index/index.js';
      import { randomDocs, randomQuery, rng } from './test/helpers/sparse-random.js';
      const idx = SparseIndex.create({ vocab: 400, approx: { postings: 200, blocks: true } });
      const lean = SparseIndex.create({ vocab: 400, quantizeU8: true, weightPrecision: 'f16', approx: { postings: 200 } });
      const big = SparseIndex.create({ vocab: 70000, weightPrecision: 'f16' });
      const docs = randomDocs(3000, 400, 20, 5);
      await idx.add(docs);
      await lean.add(docs);
      await big.add({ ...docs, terms: docs.terms.map((t) => t * 170) });
      const r = rng(1); const out = [];
      for (let i = 0; i < 20; i++) {
        const q = randomQuery(400, 25, r);
        for (const opts of [{ mode: 'exact' }, { mode: 'approx' }, { mode: 'approx', strategy: 'blocks' }]) {
          const h = idx.search(q, { k: 10, ...opts });
          out.push([Array.from(h.docs), Array.from(h.scores).map((s) => s.toFixed(4))]);
        }
        for (const opts of [{ mode: 'exact' }, { mode: 'approx' }]) {
          const h = lean.search(q, { k: 10, ...opts });
          out.push([Array.from(h.docs), Array.from(h.scores).map((s) => s.toFixed(4))]);
        }
        const h = big.search({ terms: q.terms.map((t) => t * 170), weights: q.weights }, { k: 10 });
        out.push([Array.from(h.docs), Array.from(h.scores).map((s) => s.toFixed(4))]);
      }
      console.log(JSON.stringify({ level: native.cpuLevel(), out }));`;
    expectSameOnEverySimdLevel(script);
    expect(['scalar', 'avx2', 'avx512']).toContain(native.cpuLevel());
  });
});
