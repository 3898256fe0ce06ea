import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  fusedHead,
  HeadInputError,
  headDense,
  headKernel,
  toBf16,
  type HeadBatch,
  type HeadWeights,
} from '../../../src/encoder/sparse/fused-head.js';
import { randomHead } from '../../helpers/head-random.js';

/** float64 reference that materializes the logits: log1p(relu(logits)) then max over unmasked tokens. */
function reference(b: HeadBatch, w: HeadWeights, weights: ArrayLike<number> = w.weights as Float32Array): Float64Array {
  const out = new Float64Array(b.texts * w.vocab);
  for (let x = 0; x < b.texts; x++)
    for (let t = 0; t < b.seq; t++) {
      if (!b.mask[x * b.seq + t]) continue;
      const h = (x * b.seq + t) * w.dim;
      for (let v = 0; v < w.vocab; v++) {
        let s = w.bias ? w.bias[v] : 0;
        for (let k = 0; k < w.dim; k++) s += b.hidden[h + k] * weights[v * w.dim + k];
        out[x * w.vocab + v] = Math.max(out[x * w.vocab + v], Math.log1p(Math.max(0, s)));
      }
    }
  return out;
}

/** bf16 values (upper halves of f32) back to f32. */
function widen(x: Uint16Array): Float32Array {
  return new Float32Array(Uint32Array.from(x, (v) => v << 16).buffer);
}

/** Relative error, with values below 0.01 compared absolutely (float32 sums of hundreds of terms). */
function maxRelErr(got: Float32Array, want: Float64Array): number {
  let m = 0;
  for (let i = 0; i < want.length; i++) m = Math.max(m, Math.abs(got[i] - want[i]) / Math.max(1e-2, Math.abs(want[i])));
  return m;
}

describe('fused sparse LM head', () => {
  // dim 100 exercises the SIMD remainder; vocab 70 a partial tile and a partial 4-row group.
  it.each([
    [5, 9, 100, 70],
    [3, 33, 64, 129],
    [2, 4, 768, 40],
  ])('equals the materializing float64 reference (texts %i, seq %i, dim %i, vocab %i)', (texts, seq, dim, vocab) => {
    const { b, w } = randomHead(texts, seq, dim, vocab, texts * 7 + seq);
    const want = reference(b, w);
    const fused = headDense(b, w, { threads: 2 });
    expect(maxRelErr(fused, want)).toBeLessThan(1e-5);
    expect(maxRelErr(headDense(b, w, { unfused: true }), want)).toBeLessThan(1e-5);
  });

  it('ignores padded tokens entirely, and an all-padding text gets an empty vector', () => {
    const { b, w } = randomHead(4, 12, 48, 50, 3);
    const before = fusedHead(b, w);
    const poisoned = Float32Array.from(b.hidden);
    for (let i = 0; i < b.mask.length; i++) if (!b.mask[i]) poisoned.fill(1e6, i * w.dim, (i + 1) * w.dim);
    const after = fusedHead({ ...b, hidden: poisoned }, w);
    expect(after).toEqual(before);
    expect(before.offsets[4] - before.offsets[3]).toBe(0);
  });

  it('returns the positive weights as sparse vectors, with threshold and top-k', () => {
    const { b, w } = randomHead(6, 10, 32, 200, 5);
    const dense = headDense(b, w);
    const all = fusedHead(b, w);
    for (let x = 0; x < b.texts; x++) {
      const want = [...Array(w.vocab).keys()].filter((v) => dense[x * w.vocab + v] > 0);
      expect(Array.from(all.terms.subarray(all.offsets[x], all.offsets[x + 1]))).toEqual(want);
    }
    const top = fusedHead(b, w, { topk: 5, threshold: 0.1 });
    for (let x = 0; x < b.texts; x++) {
      const row = Array.from(dense.subarray(x * w.vocab, (x + 1) * w.vocab));
      const want = row
        .map((s, v) => [s, v])
        .filter(([s]) => s > 0.1)
        .sort((a, c) => c[0] - a[0] || a[1] - c[1])
        .slice(0, 5)
        .map(([, v]) => v)
        .sort((a, c) => a - c);
      expect(Array.from(top.terms.subarray(top.offsets[x], top.offsets[x + 1]))).toEqual(want);
    }
  });

  it('bf16 weights: exact bf16 × bf16 products summed in f32 (the hidden states rounded to bf16 too)', () => {
    const { b, w } = randomHead(4, 16, 256, 300, 11);
    const bf = toBf16(w.weights as Float32Array);
    const hb = widen(toBf16(b.hidden));
    // Against a float64 reference on the rounded operands only f32 summation is left: each of the
    // panel kernels' lanes sums one dot product's 256 terms in sequence (~1e-6 absolute here, so up to
    // ~1e-4 against the 0.01 floor of maxRelErr); a second bf16 rounding anywhere would be ~4e-3.
    expect(maxRelErr(headDense(b, { ...w, weights: bf }, { threads: 2 }), reference({ ...b, hidden: hb }, w, widen(bf)))).toBeLessThan(
      1e-4,
    );
    expect(maxRelErr(headDense(b, { ...w, weights: bf }, { unfused: true }), reference({ ...b, hidden: hb }, w, widen(bf)))).toBeLessThan(
      1e-4,
    );
  });

  // The error of the reduced-precision head against the exact result, at BERT-base's hidden size and
  // with LayerNorm-scaled hidden states, as the encoder feeds it; printed for docs/encoder.md.
  it("bf16 head error against the float64 reference at dim 768 (max abs, relative to each text's top weight)", () => {
    const texts = 6,
      seq = 48,
      dim = 768,
      vocab = 512;
    const { b, w } = randomHead(texts, seq, dim, vocab, 768);
    b.mask.fill(1, 0, seq); // text 0: every token
    const want = reference(b, w);
    const err = (got: Float32Array) => {
      let maxAbs = 0,
        maxRelTop = 0;
      for (let x = 0; x < texts; x++) {
        let top = 0;
        for (let v = 0; v < vocab; v++) top = Math.max(top, want[x * vocab + v]);
        for (let v = 0; v < vocab; v++) {
          const d = Math.abs(got[x * vocab + v] - want[x * vocab + v]);
          maxAbs = Math.max(maxAbs, d);
          if (top > 0) maxRelTop = Math.max(maxRelTop, d / top);
        }
      }
      return { maxAbs, maxRelTop };
    };
    const f32 = err(headDense(b, w, { threads: 2 }));
    const bf16 = err(headDense(b, { ...w, weights: toBf16(w.weights as Float32Array) }, { threads: 2 }));
    console.log(
      `head error vs float64 (dim ${dim}, ${texts} texts × ${seq} tokens, vocab ${vocab}): ` +
        `f32 max abs ${f32.maxAbs.toExponential(2)}, rel to top ${f32.maxRelTop.toExponential(2)}; ` +
        `bf16 (${headKernel(true)}) max abs ${bf16.maxAbs.toExponential(2)}, rel to top ${bf16.maxRelTop.toExponential(2)}`,
    );
    expect(f32.maxRelTop).toBeLessThan(1e-5);
    expect(bf16.maxAbs).toBeGreaterThan(0);
    expect(bf16.maxRelTop).toBeLessThan(2e-2);
  });

  it('rejects mismatched shapes naming the field', () => {
    const { b, w } = randomHead(2, 4, 8, 10, 1);
    expect(() => fusedHead({ ...b, hidden: new Float32Array(3) }, w)).toThrow(
      /hidden must be a Float32Array of texts × seq × dim = 64 values, got 3/,
    );
    expect(() => fusedHead({ ...b, mask: new Uint8Array(1) }, w)).toThrow(HeadInputError);
    expect(() => fusedHead(b, { ...w, bias: new Float32Array(2) })).toThrow(/bias must be null or a Float32Array of vocab = 10/);
    expect(() => fusedHead(b, w, { topk: -1 })).toThrow(/topk must be a non-negative integer/);
  });

  it('gives the same output on every kernel path (scalar, AVX2, AVX-512 rows and panels; bf16: vdpbf16ps and widened)', () => {
    // dim 101: an odd dim (the bf16 pairs' zero pad, the SIMD remainders); vocab 133: two full
    // 64-row panels and a partial one, a partial 32-row tile; 8 tokens in one text: a partial group of 6.
    const script = `
      import { headDense, headKernel, toBf16 } from './src/encoder/sparse/fused-head.ts';
      const dim = 101, vocab = 133, texts = 3, seq = 8;
      let s = 1; const r = () => ((s = (s * 16807) % 2147483647) / 2147483647) - 0.5;
      const hidden = Float32Array.from({ length: texts * seq * dim }, r);
      const mask = new Uint8Array(texts * seq).fill(1); mask[5] = 0; mask[9] = 0;
      const weights = Float32Array.from({ length: vocab * dim }, r);
      const bias = Float32Array.from({ length: vocab }, () => r() * 0.2);
      const f32 = headDense({ hidden, mask, texts, seq }, { dim, vocab, weights, bias }, { threads: 2 });
      const bf16 = headDense({ hidden, mask, texts, seq }, { dim, vocab, weights: toBf16(weights), bias }, { threads: 2 });
      console.log(JSON.stringify({ kernels: [headKernel(false), headKernel(true)], f32: Array.from(f32), bf16: Array.from(bf16) }));`;
    const run = (env: Record<string, string>) => {
      const p = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        env: { ...process.env, ...env },
        encoding: 'utf8',
      });
      expect(p.status, p.stderr).toBe(0);
      return JSON.parse(p.stdout.trim().split('\n').pop()!) as { kernels: string[]; f32: number[]; bf16: number[] };
    };
    const scalar = run({ LSR_SIMD: 'scalar' });
    expect(scalar.kernels).toEqual(['scalar-rows', 'scalar-rows (bf16 widened)']);
    const seen = new Set<string>();
    const envs: Record<string, string>[] = [{ LSR_SIMD: 'avx2' }, { LSR_SIMD: 'avx512' }, { LSR_SIMD: 'avx512', LSR_HEAD_F32: 'rows' }, {}];
    for (const env of envs) {
      const o = run(env);
      o.kernels.forEach((k) => seen.add(k));
      o.f32.forEach((v, i) => expect(Math.abs(v - scalar.f32[i])).toBeLessThan(1e-5));
      o.bf16.forEach((v, i) => expect(Math.abs(v - scalar.bf16[i])).toBeLessThan(1e-5));
    }
    console.log(`kernels compared with scalar: ${[...seen].join(', ')}`);
  });
});
