// The dense encoder in the piscina worker pool (the sparse pool's worker file, 'dense' task kind) and
// in the encoder registry, on the committed tiny dense fixture.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DenseEncoder } from '../../../src/encoder/dense/dense-encoder.js';
import { DenseEncoderPool } from '../../../src/encoder/dense/dense-pool.js';
import { EncoderRegistry } from '../../../src/encoder/encoder-registry.js';
import { streamChecked } from '../../helpers/pool-stream.js';
import { TEXTS, TINY_MODEL } from '../fixture.js';
import { TINY_DENSE } from './dense-reference.js';

describe('dense encoder pool (piscina workers)', () => {
  let pool: DenseEncoderPool, local: DenseEncoder;
  beforeAll(async () => {
    pool = await DenseEncoderPool.open(TINY_DENSE, { workers: 2, maxPending: 2 });
    local = await DenseEncoder.load(TINY_DENSE);
  });
  afterAll(async () => {
    await pool.close();
    await local.close();
  });

  it('encodes queries and documents in worker threads exactly as in-process', async () => {
    expect(pool.dim).toBe(64);
    expect(Array.from(await pool.encodeDocuments(TEXTS))).toEqual(Array.from(await local.encodeDocuments(TEXTS)));
    expect(Array.from(await pool.encodeQueries(TEXTS))).toEqual(Array.from(await local.encodeQueries(TEXTS)));
  });

  it('yields a stream of batches in submission order with at most maxPending in flight', async () => {
    const batches = Array.from({ length: 10 }, (_, i) => [TEXTS[i % TEXTS.length], TEXTS[(i * 3) % TEXTS.length]]);
    const got = (await streamChecked(pool, batches)).map((v) => Array.from(v));
    expect(got).toEqual(await Promise.all(batches.map(async (b) => Array.from(await local.encodeDocuments(b)))));
  });

  it('splits a large batch over the workers and puts it back in order', async () => {
    const many = Array.from({ length: 150 }, (_, i) => `${TEXTS[i % TEXTS.length]} ${i}`);
    expect(Array.from(await pool.encodeQueries(many))).toEqual(Array.from(await local.encodeQueries(many)));
  });

  it('close() finishes accepted batches, then refuses new ones with ENCODER_CLOSED', async () => {
    const p = await DenseEncoderPool.open(TINY_DENSE, { maxPending: 1 });
    const accepted = p.encodeDocuments(TEXTS);
    const waiting = expect(p.encodeDocuments(['waits for a slot'])).rejects.toMatchObject({ code: 'ENCODER_CLOSED' });
    const closed = p.close();
    expect(Array.from(await accepted)).toEqual(Array.from(await local.encodeDocuments(TEXTS)));
    await waiting;
    await closed;
    await expect(p.encodeQueries(['late'])).rejects.toMatchObject({ code: 'ENCODER_CLOSED', field: 'encoder' });
  });

  it('a bad model or option fails open() with its code and field', async () => {
    await expect(DenseEncoderPool.open('/nonexistent/model', {}, 'retrievers.dense.model')).rejects.toMatchObject({
      code: 'INVALID_MODEL',
      field: 'retrievers.dense.model',
    });
    // A sparse model folder is not a dense one: its model.onnx has logits (checked in the worker).
    await expect(DenseEncoderPool.open(TINY_MODEL, {}, 'retrievers.dense.model')).rejects.toMatchObject({
      code: 'INVALID_MODEL',
      field: 'retrievers.dense.model',
    });
    await expect(DenseEncoderPool.open(TINY_DENSE, { workers: 0 })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'encoder.workers',
    });
    await expect(DenseEncoderPool.open(TINY_DENSE, { pooling: 'sum' as never })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'encoder.pooling',
    });
  });
});

describe('encoder registry', () => {
  it('hands out one pool per model source and kind, and closes them all', async () => {
    const reg = new EncoderRegistry({ workers: 1 });
    try {
      const a = await reg.dense(`dir:${TINY_DENSE}`);
      expect(await reg.dense(`dir:${TINY_DENSE}`)).toBe(a);
      const sparse = await reg.sparse(`dir:${TINY_MODEL}`);
      expect(sparse).not.toBe(a);
      expect((await a.encodeQueries(['the cat'])).length).toBe(64);
      await expect((async () => reg.dense('pypi:not-cached==1.0', 'retrievers.dense.model'))()).rejects.toMatchObject({
        code: 'INVALID_MODEL',
        field: 'retrievers.dense.model',
      });
      await expect(reg.dense(`dir:${TINY_MODEL}`, 'retrievers.dense.model')).rejects.toMatchObject({ code: 'INVALID_MODEL' });
    } finally {
      await reg.close();
    }
  });
});
