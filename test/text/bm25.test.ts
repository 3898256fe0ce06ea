import { describe, expect, it } from 'vitest';
import { documentWeights, idf, luceneLength } from '../../src/text/bm25.js';

describe('BM25 pieces', () => {
  it('encodes lengths like Lucene SmallFloat.intToByte4: exact below 24, then 4 significant bits', () => {
    for (let i = 0; i < 24; i++) expect(luceneLength(i)).toBe(i);
    // 24 + 8..15 exact (numBits = 4), then steps of 2, 4, ...
    expect(luceneLength(32)).toBe(32);
    expect(luceneLength(41)).toBe(40);
    expect(luceneLength(100)).toBe(96);
    expect(luceneLength(1000)).toBe(984);
    for (let i = 24; i < 5000; i++) expect(luceneLength(i)).toBeLessThanOrEqual(i);
  });

  it("uses Lucene's idf", () => {
    expect(idf(1, 10)).toBeCloseTo(Math.log(1 + 9.5 / 1.5), 12);
    expect(idf(10, 10)).toBeGreaterThan(0);
  });

  it('document weights saturate with tf and shrink with length', () => {
    const p = { k1: 0.9, b: 0.4 };
    const out = new Float32Array(3);
    documentWeights(Uint32Array.from([1, 2, 50]), 10, 10, p, out);
    expect(out[0]).toBeCloseTo(1, 6); // tf 1 at average length: (k1+1)/(1+k1)
    expect(out[1]).toBeGreaterThan(out[0]);
    expect(out[2]).toBeLessThan(p.k1 + 1);
    const long = new Float32Array(1);
    documentWeights(Uint32Array.from([1]), 20, 10, p, long);
    expect(long[0]).toBeLessThan(out[0]);
  });
});
