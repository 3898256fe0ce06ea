// A Zipfian vocabulary of pronounceable fake words: the df spread of natural text without a
// corpus, for the benchmarks that need BM25 text (bench/http.ts, bench/hybrid.ts).
import type { Prng } from './prng.js';

const VOCAB = 50_000;
const syll = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'ze', 'pa', 'do', 'gu', 'be', 'fi', 'ho', 'ju'];
const words = Array.from({ length: VOCAB }, (_, i) => {
  let w = '',
    n = i + 1;
  while (n > 0) {
    w += syll[n % 16];
    n = Math.floor(n / 16);
  }
  return w + 'x';
});
const cum = new Float64Array(VOCAB);
for (let i = 0, s = 0; i < VOCAB; i++) cum[i] = s += 1 / Math.pow(i + 1, 1.07);

/** One word drawn with probability ∝ 1 / rank^1.07. */
export function zipf(r: Prng): string {
  const u = r.next() * cum[VOCAB - 1];
  let lo = 0,
    hi = VOCAB - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cum[mid] < u) lo = mid + 1;
    else hi = mid;
  }
  return words[lo];
}
