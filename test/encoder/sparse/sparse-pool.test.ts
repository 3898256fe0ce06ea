import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SparseEncoderPool } from '../../../src/encoder/sparse/sparse-pool.js';
import type { SparseVectors } from '../../../src/encoder/sparse/fused-head.js';
import { SpladeEncoder } from '../../../src/encoder/sparse/splade-encoder.js';
import { streamChecked } from '../../helpers/pool-stream.js';
import { TEXTS, TINY_MODEL } from '../fixture.js';

function rows(v: SparseVectors): [number[], number[]][] {
  return Array.from({ length: v.offsets.length - 1 }, (_, x) => [
    [...v.terms.subarray(v.offsets[x], v.offsets[x + 1])],
    [...v.weights.subarray(v.offsets[x], v.offsets[x + 1])],
  ]);
}

describe('encoder pool (piscina workers)', () => {
  let pool: SparseEncoderPool, local: SpladeEncoder;
  beforeAll(async () => {
    pool = await SparseEncoderPool.open(TINY_MODEL, { workers: 2, maxPending: 2 });
    local = await SpladeEncoder.load(TINY_MODEL);
  });
  afterAll(async () => {
    await pool.close();
    await local.close();
  });

  it('encodes in worker threads exactly as in-process', async () => {
    expect(rows(await pool.encode(TEXTS))).toEqual(rows(await local.encode(TEXTS)));
  });

  it('yields a stream of batches in submission order with at most maxPending in flight', async () => {
    const batches = Array.from({ length: 12 }, (_, i) => [TEXTS[i % TEXTS.length], TEXTS[(i * 3) % TEXTS.length]]);
    const got = (await streamChecked(pool, batches)).map(rows);
    expect(got).toEqual(await Promise.all(batches.map(async (b) => rows(await local.encode(b)))));
  });

  it('splits a large batch over the workers and puts it back in order', async () => {
    const many = Array.from({ length: 150 }, (_, i) => `${TEXTS[i % TEXTS.length]} ${i}`);
    expect(rows(await pool.encode(many))).toEqual(rows(await local.encode(many)));
  });

  it('makes direct callers wait for a slot, and answers each its own batch', async () => {
    const calls = TEXTS.map((t) => pool.encode([t]));
    expect(pool.inFlight).toBeLessThanOrEqual(pool.maxPending);
    const got = await Promise.all(calls);
    for (let i = 0; i < TEXTS.length; i++) expect(rows(got[i])).toEqual(rows(await local.encode([TEXTS[i]])));
  });

  it('close() finishes accepted batches, then refuses new ones with ENCODER_CLOSED', async () => {
    const p = await SparseEncoderPool.open(TINY_MODEL, { maxPending: 1 });
    const accepted = p.encode(TEXTS);
    const waiting = expect(p.encode(['waits for a slot'])).rejects.toMatchObject({ code: 'ENCODER_CLOSED' });
    const closed = p.close();
    expect(rows(await accepted)).toEqual(rows(await local.encode(TEXTS)));
    await waiting;
    await closed;
    await expect(p.encode(['late'])).rejects.toMatchObject({ code: 'ENCODER_CLOSED', field: 'encoder' });
  });

  it('a bad model fails open() with its code and field', async () => {
    await expect(SparseEncoderPool.open('/nonexistent/model', {}, 'retrievers.splade.model')).rejects.toMatchObject({
      code: 'INVALID_MODEL',
      field: 'retrievers.splade.model',
    });
    await expect(SparseEncoderPool.open(TINY_MODEL, { workers: 0 })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'encoder.workers',
    });
  });
});
