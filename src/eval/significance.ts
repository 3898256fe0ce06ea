// Paired significance tests between two systems' per-query scores: Student's paired t-test (what
// trec_eval users run with scipy.stats.ttest_rel) and Fisher's randomization (sign-flip) test, which
// Smucker, Allan & Carterette (CIKM 2007) recommend for IR because it assumes no distribution.
import { mulberry32 } from './prng.js';

/** Result of a paired test. */
export interface PairedTestResult {
  /** Two-sided p-value in [0, 1]. */
  pValue: number;
  /** Mean of b − a over the paired queries. */
  meanDifference: number;
  /** Number of paired observations. */
  n: number;
}

/** Result of the t-test, with its statistic and degrees of freedom. */
export interface TTestResult extends PairedTestResult {
  t: number;
  df: number;
}

function checkPairs(a: readonly number[], b: readonly number[]): void {
  if (a.length !== b.length) throw new Error(`paired test needs equal lengths, got ${a.length} and ${b.length}`);
}

// Lanczos approximation (g = 7, 9 coefficients): relative error below 1e-15 for x > 0.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** Natural log of the gamma function for x > 0. */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let s = LANCZOS[0];
  for (let i = 1; i < 9; i++) s += LANCZOS[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}

// Continued fraction of the incomplete beta function (modified Lentz), valid for x < (a+1)/(a+b+2).
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return h;
}

/** Regularized incomplete beta function I_x(a, b) for a, b > 0 and x in [0, 1]. */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lbt = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  const bt = Math.exp(lbt);
  if (x < (a + 1) / (a + b + 2)) return (bt * betaContinuedFraction(a, b, x)) / a;
  return 1 - (bt * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** Two-sided tail probability P(|T| ≥ |t|) of Student's t with `df` degrees of freedom. */
export function studentTTwoSided(t: number, df: number): number {
  if (!Number.isFinite(t)) return Number.isNaN(t) ? NaN : 0;
  return incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/**
 * Paired two-sided t-test of b against a (same as scipy.stats.ttest_rel). With no variance in the
 * differences, p is 1 when they are all zero and 0 otherwise (the t statistic is infinite).
 * Needs at least 2 pairs; with fewer, p is 1.
 */
export function pairedTTest(a: readonly number[], b: readonly number[]): TTestResult {
  checkPairs(a, b);
  const n = a.length;
  if (n < 2) return { pValue: 1, meanDifference: n === 1 ? b[0] - a[0] : 0, n, t: 0, df: Math.max(0, n - 1) };
  let mean = 0;
  for (let i = 0; i < n; i++) mean += b[i] - a[i];
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (b[i] - a[i] - mean) ** 2;
  const sd = Math.sqrt(ss / (n - 1));
  const df = n - 1;
  if (sd === 0) return { pValue: mean === 0 ? 1 : 0, meanDifference: mean, n, t: mean === 0 ? 0 : Math.sign(mean) * Infinity, df };
  const t = mean / (sd / Math.sqrt(n));
  return { pValue: studentTTwoSided(t, df), meanDifference: mean, n, t, df };
}

/** Options of `randomizationTest`. */
export interface RandomizationOptions {
  /** Number of random sign assignments when exact enumeration is too large; default 10,000. */
  trials?: number;
  /** Seed of the PRNG, so a report is reproducible; default 42. */
  seed?: number;
  /** Enumerate all 2^n sign assignments exactly when n ≤ this; default 16. */
  exactUpTo?: number;
}

/**
 * Paired two-sided randomization test: under the null hypothesis each query's difference b − a is
 * as likely to have either sign, so p is the share of sign assignments whose |mean| reaches the
 * observed |mean|. Exact for n ≤ `exactUpTo`; otherwise Monte Carlo with (count + 1) / (trials + 1),
 * which never reports p = 0 from a finite sample.
 */
export function randomizationTest(a: readonly number[], b: readonly number[], options: RandomizationOptions = {}): PairedTestResult {
  checkPairs(a, b);
  const n = a.length;
  const d = a.map((x, i) => b[i] - x);
  const sum = d.reduce((s, x) => s + x, 0);
  const observed = Math.abs(sum);
  // Sums of the same numbers in different order differ in the last bits; do not let that decide.
  const eps =
    1e-12 *
    Math.max(
      1,
      d.reduce((s, x) => s + Math.abs(x), 0),
    );
  const meanDifference = n > 0 ? sum / n : 0;
  if (n === 0 || observed <= eps) return { pValue: 1, meanDifference, n };
  const exactUpTo = options.exactUpTo ?? 16;
  if (n <= exactUpTo) {
    let hits = 0;
    const total = 2 ** n;
    for (let mask = 0; mask < total; mask++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += mask & (1 << i) ? -d[i] : d[i];
      if (Math.abs(s) >= observed - eps) hits++;
    }
    return { pValue: hits / total, meanDifference, n };
  }
  const trials = options.trials ?? 10_000;
  const rnd = mulberry32(options.seed ?? 42);
  let hits = 0;
  for (let t = 0; t < trials; t++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += rnd() < 0.5 ? -d[i] : d[i];
    if (Math.abs(s) >= observed - eps) hits++;
  }
  return { pValue: (hits + 1) / (trials + 1), meanDifference, n };
}
