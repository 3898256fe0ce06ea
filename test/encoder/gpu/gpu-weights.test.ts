// The CUDA trunk's weights (src/encoder/gpu/gpu-weights.ts) read on a machine without a GPU: the tensors,
// in native/cuda/trunk.h's order and layouts, run through a float64 BERT forward that follows the
// CUDA code step by step (fused QKV, masked softmax, residual + LayerNorm, erf GELU, the MLM
// transform, max-pooled log1p(ReLU)) and must give the CPU encoder's vectors. This checks what the
// GPU gets (names, transposes, order); the GPU arithmetic itself is checked in gpu-encoder.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SparseVectors } from '../../../src/encoder/sparse/fused-head.js';
import { readBertWeights, type BertWeights } from '../../../src/encoder/gpu/gpu-weights.js';
import { SpladeEncoder } from '../../../src/encoder/sparse/splade-encoder.js';
import { TINY_MODEL, TEXTS } from '../fixture.js';

function dense(v: SparseVectors, texts: number, vocab: number): Float64Array {
  const out = new Float64Array(texts * vocab);
  for (let x = 0; x < texts; x++) for (let i = v.offsets[x]; i < v.offsets[x + 1]; i++) out[x * vocab + v.terms[i]] = v.weights[i];
  return out;
}

/** One text (no padding) through the trunk + head, float64, trunk.h's tensor order. */
function reference(w: BertWeights, ids: number[]): Float64Array {
  const { hidden: H, heads, intermediate: I, vocab: V, layers, eps } = w.shape;
  const t = w.tensors,
    T = ids.length,
    dh = H / heads;
  const ln = (x: Float64Array, g: Float32Array, b: Float32Array) => {
    for (let r = 0; r < T; r++) {
      let m = 0,
        q = 0;
      for (let c = 0; c < H; c++) m += x[r * H + c];
      m /= H;
      for (let c = 0; c < H; c++) q += (x[r * H + c] - m) ** 2;
      const rs = 1 / Math.sqrt(q / H + eps);
      for (let c = 0; c < H; c++) x[r * H + c] = (x[r * H + c] - m) * rs * g[c] + b[c];
    }
  };
  // Y[T, out] = X[T, in] · W[out, in]^T + b
  const linear = (x: Float64Array, W: Float32Array, b: Float32Array, inp: number, out: number) => {
    const y = new Float64Array(T * out);
    for (let r = 0; r < T; r++)
      for (let o = 0; o < out; o++) {
        let s = b[o];
        for (let k = 0; k < inp; k++) s += x[r * inp + k] * W[o * inp + k];
        y[r * out + o] = s;
      }
    return y;
  };
  const gelu = (v: number) => 0.5 * v * (1 + erf(v / Math.SQRT2));
  let x = new Float64Array(T * H);
  for (let r = 0; r < T; r++) for (let c = 0; c < H; c++) x[r * H + c] = t[0][ids[r] * H + c] + t[1][r * H + c] + t[2][c];
  ln(x, t[3], t[4]);
  for (let l = 0; l < layers; l++) {
    const p = t.slice(5 + 16 * l, 5 + 16 * (l + 1));
    const q = linear(x, p[0], p[1], H, H),
      k = linear(x, p[2], p[3], H, H),
      v = linear(x, p[4], p[5], H, H);
    const ctx = new Float64Array(T * H);
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < T; i++) {
        const s = new Float64Array(T);
        let mx = -Infinity;
        for (let j = 0; j < T; j++) {
          let d = 0;
          for (let e = 0; e < dh; e++) d += q[i * H + h * dh + e] * k[j * H + h * dh + e];
          s[j] = d / Math.sqrt(dh);
          mx = Math.max(mx, s[j]);
        }
        let sum = 0;
        for (let j = 0; j < T; j++) sum += s[j] = Math.exp(s[j] - mx);
        for (let e = 0; e < dh; e++) {
          let o = 0;
          for (let j = 0; j < T; j++) o += (s[j] / sum) * v[j * H + h * dh + e];
          ctx[i * H + h * dh + e] = o;
        }
      }
    const a = linear(ctx, p[6], p[7], H, H);
    for (let i = 0; i < a.length; i++) x[i] += a[i];
    ln(x, p[8], p[9]);
    const f = linear(x, p[10], p[11], H, I).map(gelu);
    const o = linear(f, p[12], p[13], I, H);
    for (let i = 0; i < o.length; i++) x[i] += o[i];
    ln(x, p[14], p[15]);
  }
  const e = t.slice(5 + 16 * layers);
  x = linear(x, e[0], e[1], H, H).map(gelu);
  ln(x, e[2], e[3]);
  const out = new Float64Array(V);
  for (let vv = 0; vv < V; vv++) {
    let mx = -Infinity;
    for (let r = 0; r < T; r++) {
      let d = 0;
      for (let c = 0; c < H; c++) d += x[r * H + c] * e[4][vv * H + c];
      mx = Math.max(mx, d);
    }
    out[vv] = Math.log1p(Math.max(0, mx + e[5][vv]));
  }
  return out;
}

// Abramowitz-Stegun 7.1.26 is too coarse here (1.5e-7); use the series / continued fraction split.
function erf(x: number): number {
  const s = Math.sign(x),
    a = Math.abs(x);
  if (a < 2.5) {
    let term = a,
      sum = a;
    for (let n = 1; n < 60; n++) {
      term *= (-a * a) / n;
      sum += term / (2 * n + 1);
    }
    return (s * 2 * sum) / Math.sqrt(Math.PI);
  }
  // erfc continued fraction (Lentz) for the tail
  let f = a,
    C = a,
    D = 0;
  for (let n = 1; n < 200; n++) {
    const an = n / 2;
    D = a + an * D;
    D = 1 / D;
    C = a + an / C;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return s * (1 - Math.exp(-a * a) / (f * Math.sqrt(Math.PI)));
}

describe('GPU encoder weights (no GPU needed)', () => {
  let cpu: SpladeEncoder;
  let w: BertWeights;
  beforeAll(async () => {
    cpu = await SpladeEncoder.load(TINY_MODEL, { layout: 'split' });
    w = readBertWeights(TINY_MODEL);
  });
  afterAll(async () => {
    await cpu.close();
  });

  it('reads trunk.onnx + head.bin into trunk.h order with the configured shapes', () => {
    const { hidden: H, intermediate: I, vocab: V, layers, maxPos } = w.shape;
    expect(w.tensors.length).toBe(5 + 16 * layers + 6);
    expect(w.tensors[0].length).toBe(V * H);
    expect(w.tensors[1].length).toBe(maxPos * H);
    expect(w.tensors[5 + 10].length).toBe(I * H);
    expect(w.tensors[5 + 12].length).toBe(H * I);
    expect(w.tensors[5 + 16 * layers + 4].length).toBe(V * H);
    expect(w.source.trunk.endsWith('trunk.onnx')).toBe(true);
    expect(w.source.head.endsWith('head.bin')).toBe(true);
  });

  it('a float64 forward over those tensors gives the CPU encoder vectors (max abs error <= 1e-5)', async () => {
    const texts = TEXTS.filter((t) => t.length > 0).slice(0, 5);
    const V = w.shape.vocab;
    const got = dense(await cpu.encode(texts), texts.length, V);
    let maxAbs = 0;
    texts.forEach((text, x) => {
      const ref = reference(w, cpu.tokenize([text])[0]);
      for (let v = 0; v < V; v++) maxAbs = Math.max(maxAbs, Math.abs(ref[v] - got[x * V + v]));
    });
    console.log(`gpu-weights reference vs CPU encoder: ${texts.length} texts, max abs difference ${maxAbs.toExponential(2)}`);
    expect(maxAbs).toBeLessThan(1e-5);
  });
});
