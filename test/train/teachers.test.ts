// The ensemble target of one query: per-teacher min-max over the candidates, their mean, the source
// first and the highest-target negatives after it.
import { describe, expect, it } from 'vitest';
import { buildExample, candidateBits, minMax } from '../../src/train/teachers.js';

describe('minMax', () => {
  it('maps the lowest candidate to 0 and the highest to 1', () => {
    expect(minMax([2, 4, 3, 6])).toEqual([0, 0.5, 0.25, 1]);
    expect(minMax([-1, 1])).toEqual([0, 1]);
  });
  it('gives 0 to every candidate of a teacher that scores them alike', () => {
    expect(minMax([0, 0, 0])).toEqual([0, 0, 0]);
    expect(minMax([5])).toEqual([0]);
  });
});

describe('buildExample', () => {
  it('averages the normalized teachers and keeps the source first, then the negatives by target', () => {
    const raw = { bm25: [10, 0, 5, 10, 2], dense: [0.9, 0.5, 0.8, 0.1, 0.5] };
    const ex = buildExample(raw, ['bm25', 'dense'], 2);
    expect(ex.normalized.bm25).toEqual([1, 0, 0.5, 1, 0.2]);
    expect(ex.normalized.dense.map((x) => Math.round(x * 1e9) / 1e9)).toEqual([1, 0.5, 0.875, 0, 0.5]);
    expect(ex.target.map((x) => Math.round(x * 1e9) / 1e9)).toEqual([1, 0.25, 0.6875, 0.5, 0.35]);
    expect(ex.picked).toEqual([0, 2, 3]);
    expect(ex.range).toEqual({ bm25: [0, 10], dense: [0.1, 0.9] });
  });
  it('keeps candidate order between equal targets and stops at the candidates there are', () => {
    const ex = buildExample({ bm25: [3, 1, 1, 1] }, ['bm25'], 10);
    expect(ex.picked).toEqual([0, 1, 2, 3]);
  });
});

describe('candidateBits', () => {
  it('allows exactly the candidates, over every document number below the limit', () => {
    const c = candidateBits([0, 9, 17, 9], 20);
    expect(c.matches).toBe(3);
    expect(c.bits).toHaveLength(3);
    const allowed = Array.from({ length: 24 }, (_, d) => d).filter((d) => (c.bits![d >>> 3] >> (d & 7)) & 1);
    expect(allowed).toEqual([0, 9, 17]);
  });
});
