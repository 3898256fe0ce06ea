// The screened head (native/src/head/screened-head.cc) must give the plain f32 head's output bit for
// bit: the int8 screen only decides which terms are provably 0, and every other term is computed by
// the same f32 kernel. These tests try to make it wrong: terms whose sign hinges on the last bits,
// non-finite values, empty texts, dense outputs.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  headDense,
  prepareScreen,
  screenStats,
  screenSupported,
  type HeadBatch,
  type HeadWeights,
} from '../../../src/encoder/sparse/fused-head.js';
import { randomHead as headInputs } from '../../helpers/head-random.js';
import { skipBecause } from '../../helpers/skip-log.js';

/** Random batch; `biasMean` well below 0 gives SPLADE-like sparse outputs. */
const randomHead = (texts: number, seq: number, dim: number, vocab: number, seed: number, biasMean: number) =>
  headInputs(texts, seq, dim, vocab, seed, biasMean, 0.3);

/** Float64 max logit (without bias) of each (text, term); -Infinity for a text without tokens. */
function maxLogits(b: HeadBatch, w: HeadWeights): Float64Array {
  const out = new Float64Array(b.texts * w.vocab).fill(-Infinity);
  const W = w.weights as Float32Array;
  for (let x = 0; x < b.texts; x++)
    for (let t = 0; t < b.seq; t++) {
      if (!b.mask[x * b.seq + t]) continue;
      const h = (x * b.seq + t) * w.dim;
      for (let v = 0; v < w.vocab; v++) {
        let s = 0;
        for (let k = 0; k < w.dim; k++) s += b.hidden[h + k] * W[v * w.dim + k];
        out[x * w.vocab + v] = Math.max(out[x * w.vocab + v], s);
      }
    }
  return out;
}

const noVnni = skipBecause(
  import.meta.url,
  'screened head (AVX512_VNNI)',
  screenSupported() ? null : 'this CPU lacks AVX512_VNNI, which the screened head needs',
);

describe.skipIf(noVnni !== null)('screened head (AVX512_VNNI)', () => {
  // dim 100: a partial 4-byte group and SIMD remainder; vocab 129 and 70: partial panels.
  it.each([
    [5, 9, 100, 129, -2.5],
    [4, 40, 768, 70, -3],
    [3, 17, 64, 300, -1],
    [2, 8, 36, 65, 0.5],
  ])('is bit-identical to the plain head (texts %i, seq %i, dim %i, vocab %i, bias mean %f)', (texts, seq, dim, vocab, biasMean) => {
    const { b, w } = randomHead(texts, seq, dim, vocab, texts * 31 + dim, biasMean);
    const plain = headDense(b, w, { threads: 2 });
    const screen = prepareScreen(w, 2)!;
    expect(screen).not.toBeNull();
    const screened = headDense(b, { ...w, screen }, { threads: 2 });
    expect(screened).toEqual(plain);
    const st = screenStats(screen);
    expect(st.callsScreened).toBe(1);
    expect(st.pairs).toBe(texts * vocab);
  });

  it('prunes most terms of a sparse head and keeps every non-zero one', () => {
    const { b, w } = randomHead(6, 64, 256, 2000, 7, -3.2);
    const screen = prepareScreen(w)!;
    const plain = headDense(b, w);
    expect(headDense(b, { ...w, screen })).toEqual(plain);
    const nonzero = plain.reduce((n, v) => n + (v > 0 ? 1 : 0), 0);
    const st = screenStats(screen);
    expect(nonzero).toBeGreaterThan(0);
    expect(st.candidates).toBeGreaterThanOrEqual(nonzero);
    expect(st.candidates / st.pairs).toBeLessThan(0.25); // the bound is tight enough to matter
  });

  it('agrees where the sign of a term hinges on the last bits of its logit', () => {
    // Bias = −(the float64 max logit) + δ, δ from −1e-4 to +1e-4 relative, and exactly 0: each term's
    // f32 max logit + bias lands within a few ulps of 0, on either side.
    const { b, w } = randomHead(3, 24, 200, 320, 11, 0);
    const m = maxLogits(b, w);
    const deltas = [-1e-4, -1e-6, -1e-7, 0, 1e-7, 1e-6, 1e-4];
    const bias = new Float32Array(w.vocab);
    for (let v = 0; v < w.vocab; v++) bias[v] = -m[v] + deltas[v % deltas.length] * Math.abs(m[v]);
    const wb = { ...w, bias };
    const plain = headDense(b, wb);
    expect(plain.some((x) => x > 0)).toBe(true);
    expect(plain.some((x, i) => x === 0 && i < w.vocab)).toBe(true);
    expect(headDense(b, { ...wb, screen: prepareScreen(wb)! })).toEqual(plain);
  });

  it('matches the plain head with non-finite hidden states or weight rows', () => {
    const { b, w } = randomHead(4, 10, 48, 90, 5, -2);
    b.hidden[2 * 48 + 5] = Number.POSITIVE_INFINITY; // text 0
    b.hidden[10 * 48 + 3] = Number.NaN; // text 1
    (w.weights as Float32Array)[17 * 48 + 2] = Number.NEGATIVE_INFINITY; // term 17
    (w.weights as Float32Array)[40 * 48 + 9] = Number.NaN; // term 40
    const plain = headDense(b, w);
    const screened = headDense(b, { ...w, screen: prepareScreen(w)! });
    // toEqual treats NaN as equal to NaN, as Object.is does.
    expect(Array.from(screened)).toEqual(Array.from(plain));
  });

  it('stops screening a head whose output is dense, and tries again later', () => {
    const { b, w } = randomHead(3, 32, 64, 200, 9, 3); // bias +3: nearly every term is non-zero
    const screen = prepareScreen(w)!;
    const ws = { ...w, screen };
    const plain = headDense(b, w);
    for (let i = 0; i < 18; i++) expect(headDense(b, ws)).toEqual(plain);
    const st = screenStats(screen);
    expect(st.callsScreened).toBe(2); // the first call, then the retry after 16 plain calls
    expect(st.callsPlain).toBe(16);
  });

  it('refuses a screen prepared for other weights', () => {
    const a = randomHead(1, 4, 32, 50, 1, -2),
      c = randomHead(1, 4, 32, 60, 2, -2);
    expect(() => headDense(a.b, { ...a.w, screen: prepareScreen(c.w)! })).toThrow(/prepared for other weights/);
    expect(prepareScreen({ ...a.w, weights: new Uint16Array(32 * 50) })).toBeNull();
  });

  it('is off when LSR_SIMD caps the CPU below AVX512_VNNI', () => {
    const script = `import { prepareScreen } from './src/encoder/sparse/fused-head.ts';
      console.log(JSON.stringify(prepareScreen({ dim: 4, vocab: 1, weights: new Float32Array(4), bias: null }) === null));`;
    for (const [cap, off] of [
      ['avx512', true],
      ['avx2', true],
      ['avx512vnni', false],
    ] as const) {
      const p = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        env: { ...process.env, LSR_SIMD: cap },
        encoding: 'utf8',
      });
      expect(p.status, p.stderr).toBe(0);
      expect(JSON.parse(p.stdout.trim()), cap).toBe(off);
    }
  });
});
