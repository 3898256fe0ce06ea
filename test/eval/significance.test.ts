// Paired tests checked against closed forms: Student's t with 1 and 2 degrees of freedom has an
// elementary CDF, and the exact randomization test on n ≤ 16 pairs can be counted by hand.

import { describe, expect, it } from 'vitest';
import { incompleteBeta, logGamma, pairedTTest, randomizationTest, studentTTwoSided } from '../../src/eval/significance.js';

describe('special functions', () => {
  it('logGamma matches factorials', () => {
    expect(logGamma(1)).toBeCloseTo(0, 13);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 13);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 13);
  });
  it('incompleteBeta of a=b=1 is the identity and of (a,1) is x^a', () => {
    expect(incompleteBeta(0.3, 1, 1)).toBeCloseTo(0.3, 13);
    expect(incompleteBeta(0.7, 3, 1)).toBeCloseTo(0.343, 13);
  });
  it('Student t tails match the closed forms for df 1 and 2', () => {
    for (const t of [0.1, 1, 2.5, 10]) {
      expect(studentTTwoSided(t, 1)).toBeCloseTo(1 - (2 / Math.PI) * Math.atan(t), 12);
      expect(studentTTwoSided(t, 2)).toBeCloseTo(1 - t / Math.sqrt(2 + t * t), 12);
    }
  });
});

describe('pairedTTest', () => {
  it('computes t, df and p for differences 1, 2, 3', () => {
    const r = pairedTTest([0, 0, 0], [1, 2, 3]);
    expect(r.t).toBeCloseTo(2 * Math.sqrt(3), 12);
    expect(r.df).toBe(2);
    expect(r.meanDifference).toBeCloseTo(2, 15);
    expect(r.pValue).toBeCloseTo(1 - (2 * Math.sqrt(3)) / Math.sqrt(14), 12);
  });
  it('is symmetric in the order of the systems', () => {
    expect(pairedTTest([1, 2, 3], [0, 0, 0]).pValue).toBeCloseTo(pairedTTest([0, 0, 0], [1, 2, 3]).pValue, 15);
  });
  it('gives p = 1 for identical systems and p = 0 for a constant non-zero shift', () => {
    expect(pairedTTest([0.1, 0.5], [0.1, 0.5]).pValue).toBe(1);
    expect(pairedTTest([0, 0.5], [0.25, 0.75]).pValue).toBe(0);
  });
  it('rejects unequal lengths', () => {
    expect(() => pairedTTest([1], [1, 2])).toThrow(/equal lengths/);
  });
});

describe('randomizationTest', () => {
  it('is exact for small n: differences 1, 2, 3 reach |sum| 6 in 2 of 8 assignments', () => {
    expect(randomizationTest([0, 0, 0], [1, 2, 3]).pValue).toBe(0.25);
  });
  it('counts ties with the observed statistic: differences 1, 1 reach |sum| 2 in 2 of 4', () => {
    expect(randomizationTest([0, 0], [1, 1]).pValue).toBe(0.5);
  });
  it('gives p = 1 when nothing differs', () => {
    expect(randomizationTest([0.3, 0.4], [0.3, 0.4]).pValue).toBe(1);
  });
  it('Monte Carlo agrees with exact enumeration and is reproducible by seed', () => {
    const a = Array.from({ length: 14 }, (_, i) => ((i * 7) % 5) / 5);
    const b = a.map((x, i) => x + (i % 3 === 0 ? 0.2 : -0.05));
    const exact = randomizationTest(a, b).pValue;
    const mc = randomizationTest(a, b, { exactUpTo: 0, trials: 20_000, seed: 7 });
    // 20,000 trials: standard error ≤ 0.0036; 5 of them is far outside chance.
    expect(Math.abs(mc.pValue - exact)).toBeLessThan(0.02);
    expect(randomizationTest(a, b, { exactUpTo: 0, trials: 2000, seed: 7 }).pValue).toBe(
      randomizationTest(a, b, { exactUpTo: 0, trials: 2000, seed: 7 }).pValue,
    );
  });
  it('finds a large consistent difference significant and never reports p = 0', () => {
    const a = Array.from({ length: 100 }, (_, i) => (i % 10) / 10);
    const b = a.map((x) => x + 0.1);
    const r = randomizationTest(a, b, { trials: 999 });
    expect(r.pValue).toBe(1 / 1000);
  });
});
