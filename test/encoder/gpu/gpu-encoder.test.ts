// The GPU encoder (src/encoder/gpu/gpu-encoder.ts) against the CPU encoder on the tiny fixture. Needs the
// CUDA build (native/cuda/trunk-build.sh) and a GPU; elsewhere (CI) the GPU cases skip with the
// reason, and the one case that runs checks that loading fails with CUDA_UNAVAILABLE.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SparseVectors } from '../../../src/encoder/sparse/fused-head.js';
import { loadConfig, ConfigError } from '../../../src/config.js';
import { SparseEncoderPool } from '../../../src/encoder/sparse/sparse-pool.js';
import { CudaUnavailableError, GpuEncoder, cudaStatus } from '../../../src/encoder/gpu/gpu-encoder.js';
import { SpladeEncoder } from '../../../src/encoder/sparse/splade-encoder.js';
import { skipBecause } from '../../helpers/skip-log.js';
import { TINY_MODEL, TEXTS } from '../fixture.js';

const status = cudaStatus();
const noCuda = skipBecause(import.meta.url, 'GPU encoder on the tiny random BERT (CUDA)', status.ok ? null : `no CUDA: ${status.reason}`);
const hasCuda = skipBecause(
  import.meta.url,
  'GPU encoder without CUDA',
  status.ok ? 'CUDA is available here, so the path without CUDA cannot be exercised' : null,
);

function dense(v: SparseVectors, texts: number, vocab: number): Float32Array {
  const out = new Float32Array(texts * vocab);
  for (let x = 0; x < texts; x++) for (let i = v.offsets[x]; i < v.offsets[x + 1]; i++) out[x * vocab + v.terms[i]] = v.weights[i];
  return out;
}

const maxAbs = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

describe('LSR_ENCODER_DEVICE', () => {
  it("is 'cpu' by default, takes 'cuda', refuses anything else", () => {
    expect(loadConfig({}).encoderDevice).toBe('cpu');
    expect(loadConfig({ LSR_ENCODER_DEVICE: 'cuda' }).encoderDevice).toBe('cuda');
    expect(() => loadConfig({ LSR_ENCODER_DEVICE: 'gpu' })).toThrow(ConfigError);
  });
});

describe.skipIf(hasCuda !== null)('GPU encoder without CUDA', () => {
  it('fails to load with CUDA_UNAVAILABLE and says why', async () => {
    await expect(GpuEncoder.load(TINY_MODEL)).rejects.toBeInstanceOf(CudaUnavailableError);
    await expect(GpuEncoder.load(TINY_MODEL)).rejects.toMatchObject({ code: 'CUDA_UNAVAILABLE' });
  });

  it("an encoder pool with device 'cuda' refuses to open with the coded service error (HTTP 503)", async () => {
    await expect(SparseEncoderPool.open(TINY_MODEL, { device: 'cuda' })).rejects.toMatchObject({
      code: 'CUDA_UNAVAILABLE',
      field: 'encoder.device',
    });
  });
});

describe.skipIf(noCuda !== null)('GPU encoder on the tiny random BERT (CUDA)', () => {
  let cpu: SpladeEncoder, fp32: GpuEncoder, fp16: GpuEncoder, bf16: GpuEncoder;
  let ref: Float32Array;
  beforeAll(async () => {
    cpu = await SpladeEncoder.load(TINY_MODEL, { layout: 'split' });
    fp32 = await GpuEncoder.load(TINY_MODEL, { precision: 'fp32', batchSize: 3 });
    fp16 = await GpuEncoder.load(TINY_MODEL, { precision: 'fp16', batchSize: 3 });
    bf16 = await GpuEncoder.load(TINY_MODEL, { precision: 'bf16', batchSize: 3 });
    ref = dense(await cpu.encode(TEXTS), TEXTS.length, cpu.vocab);
  });
  afterAll(async () => {
    await cpu?.close();
    await fp32?.close();
    await fp16?.close();
    await bf16?.close();
  });

  it('fp32 equals the CPU encoder to 1e-4 (max abs)', async () => {
    const got = dense(await fp32.encode(TEXTS), TEXTS.length, fp32.vocab);
    const d = maxAbs(got, ref);
    console.log(`gpu fp32 vs cpu: max abs ${d.toExponential(2)}`);
    expect(d).toBeLessThan(1e-4);
  });

  it('fp16 and bf16 equal the CPU encoder to 1e-2 (max abs), fused and simple heads alike', async () => {
    for (const [name, enc] of [
      ['fp16', fp16],
      ['bf16', bf16],
    ] as const)
      for (const head of ['auto', 'simple'] as const) {
        enc.head = head;
        const got = dense(await enc.encode(TEXTS), TEXTS.length, enc.vocab);
        const d = maxAbs(got, ref);
        console.log(`gpu ${name} (${enc.timings.head} head) vs cpu: max abs ${d.toExponential(2)}`);
        expect(d).toBeLessThan(1e-2);
      }
  });

  it('sparse output is the dense output above the threshold, in input order', async () => {
    const d = await fp32.encodeDense(TEXTS);
    const s = dense(await fp32.encode(TEXTS), TEXTS.length, fp32.vocab);
    expect(maxAbs(d, s)).toBe(0);
  });

  it("an encoder pool with device 'cuda' encodes through the GPU encoder in its worker", async () => {
    const pool = await SparseEncoderPool.open(TINY_MODEL, { device: 'cuda', precision: 'fp32' });
    try {
      const got = dense(await pool.encode(TEXTS), TEXTS.length, fp32.vocab);
      expect(maxAbs(got, ref)).toBeLessThan(1e-4);
    } finally {
      await pool.close();
    }
  });

  it('a text alone gets the vector it gets in a padded batch', async () => {
    const all = await fp32.encodeDense(TEXTS);
    const V = fp32.vocab;
    for (const i of [0, 3, TEXTS.length - 1]) {
      const one = await fp32.encodeDense([TEXTS[i]]);
      expect(maxAbs(one, all.subarray(i * V, (i + 1) * V))).toBeLessThan(1e-5);
    }
  });
});
