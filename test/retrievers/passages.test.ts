// Long documents with the `passages` setting, on the real encoders (the tiny fixtures): a document over
// the window is cut into passages (text/passages.ts) whose vectors are pooled — the element-wise max
// for learned sparse, the renormalized mean for dense — exactly as encoding the passages one by one
// and pooling them gives; without the setting the document is truncated and counted. Over the API,
// the ingest job reports both, per retriever.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EncoderRegistry } from '../../src/encoder/encoder-registry.js';
import { SpladeTokenizer } from '../../src/encoder/tokenizer.js';
import { passagesOf } from '../../src/text/passages.js';
import { TINY_DENSE } from '../encoder/dense/dense-reference.js';
import { TINY_MODEL } from '../encoder/fixture.js';
import { ndjson, removeDir, startTestServer, type TestServer } from '../helpers/server.js';

const SENT = ['Cats sleep most of the day.', 'Dogs bark at the mail carrier.', 'Solar panels turn light into power.'];
/** 40 sentences: over both fixtures' windows (dense 48 tokens, sparse 256). */
const LONG = Array.from({ length: 40 }, (_, i) => `${SENT[i % 3].slice(0, -1)} number ${i}.`).join(' ');
const SHORT = 'Cats purr.';

describe('passages on the encoders', () => {
  const encoders = new EncoderRegistry({ workers: 1, threads: 1 });
  afterAll(() => encoders.close());

  it('sparse: the element-wise max of the passages encoded one by one', async () => {
    const pool = await encoders.sparse(`dir:${TINY_MODEL}`);
    const tok = await SpladeTokenizer.load(TINY_MODEL);
    const count = (s: string) => tok.ids(s, Number.MAX_SAFE_INTEGER).length - 2;
    const settings = { tokens: 40, overlap: 8 };
    const got = await pool.encodeDocuments([SHORT, LONG], settings);
    const parts = passagesOf(LONG, count, 40, 8);
    expect(parts.length).toBeGreaterThan(5);
    expect(got.report).toEqual({ long: 1, truncated: 0, passages: 1 + parts.length });
    const each = await pool.encode(parts);
    const want = new Map<number, number>();
    for (let j = 0; j < each.terms.length; j++) want.set(each.terms[j], Math.max(want.get(each.terms[j]) ?? 0, each.weights[j]));
    const terms = got.vectors.terms.subarray(got.vectors.offsets[1], got.vectors.offsets[2]);
    const weights = got.vectors.weights.subarray(got.vectors.offsets[1], got.vectors.offsets[2]);
    expect(Array.from(terms)).toEqual([...want.keys()].sort((a, b) => a - b));
    terms.forEach((t, j) => expect(weights[j]).toBe(want.get(t)));
    // The short document is encoded as it is.
    const alone = await pool.encode([SHORT]);
    expect(Array.from(got.vectors.terms.subarray(0, got.vectors.offsets[1]))).toEqual(Array.from(alone.terms));
  });

  it('sparse without passages: a document over the window is truncated and counted', async () => {
    const pool = await encoders.sparse(`dir:${TINY_MODEL}`);
    const got = await pool.encodeDocuments([SHORT, LONG, LONG], null);
    expect(got.report).toEqual({ long: 2, truncated: 2, passages: 3 });
    const plain = await pool.encode([SHORT, LONG, LONG]);
    expect(Array.from(got.vectors.weights)).toEqual(Array.from(plain.weights));
  });

  it('dense: the renormalized mean of the passages encoded one by one', async () => {
    const pool = await encoders.dense(`dir:${TINY_DENSE}`);
    const tok = await SpladeTokenizer.load(TINY_DENSE);
    const count = (s: string) => tok.ids(s, Number.MAX_SAFE_INTEGER).length - 2;
    const got = await pool.encodeLongDocuments([LONG], { overlap: 4 });
    // The window: 48 tokens less the two special ones (the fixture has no document prompt).
    const parts = passagesOf(LONG, count, 46, 4);
    expect(got.report).toEqual({ long: 1, truncated: 0, passages: parts.length });
    const each = await pool.encodeDocuments(parts);
    const dim = pool.dim;
    const mean = new Float64Array(dim);
    for (let i = 0; i < parts.length; i++) for (let k = 0; k < dim; k++) mean[k] += each[i * dim + k] / parts.length;
    const norm = Math.hypot(...mean);
    for (let k = 0; k < dim; k++) expect(got.vectors[k]).toBeCloseTo(mean[k] / norm, 5);
    const truncated = await pool.encodeLongDocuments([LONG, SHORT], null);
    expect(truncated.report).toEqual({ long: 1, truncated: 1, passages: 2 });
  });
});

describe('passages over the API', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s?.close();
    if (s) removeDir(s.dataDir);
  });

  it('the ingest job reports, per retriever, documents over the window, truncated, and passages', async () => {
    const retrievers = (passages?: object) => ({
      splade: { model: `dir:${TINY_MODEL}`, ...(passages ? { passages } : {}) },
      dense: { model: `dir:${TINY_DENSE}`, ...(passages ? { passages } : {}) },
    });
    const docs = [
      { _id: 'long', text: LONG },
      { _id: 'short', text: SHORT },
    ];
    expect((await s.req('POST', '/v1/collections', { name: 'cut', retrievers: retrievers() })).status).toBe(201);
    const cut = await s.ndjson('/v1/collections/cut/documents?wait=true', ndjson(docs));
    expect(cut.body.encoding).toEqual({
      splade: { long: 1, truncated: 1, passages: 2 },
      dense: { long: 1, truncated: 1, passages: 2 },
    });
    const c = await s.req('POST', '/v1/collections', { name: 'parts', retrievers: retrievers({ tokens: 32, overlap: 8 }) });
    expect(c.status, JSON.stringify(c.body)).toBe(201);
    expect(c.body.retrievers.dense.passages).toEqual({ tokens: 32, overlap: 8, score: 'max' });
    const parts = await s.ndjson('/v1/collections/parts/documents?wait=true', ndjson(docs));
    expect(parts.body.indexed).toBe(2);
    expect(parts.body.encoding.splade.truncated).toBe(0);
    expect(parts.body.encoding.splade.passages).toBeGreaterThan(5);
    expect(parts.body.encoding.dense).toMatchObject({ long: 1, truncated: 0 });
    // Each document is ranked once, by its best passage.
    const r = await s.req('POST', '/v1/collections/parts/search', { query: 'solar power', retriever: 'dense', k: 2 });
    expect(r.body.hits.map((h: { _id: string }) => h._id).sort()).toEqual(['long', 'short']);
  });

  it('refuses bad passage settings, naming the field', async () => {
    const bad = async (passages: unknown, field: string) => {
      const r = await s.req('POST', '/v1/collections', { name: 'bad', retrievers: { dense: { model: `dir:${TINY_DENSE}`, passages } } });
      expect(r.status).toBe(400);
      expect(r.body.field).toBe(field);
    };
    await bad({ tokens: 8 }, 'retrievers.dense.passages.tokens');
    await bad({ tokens: 64, overlap: 64 }, 'retrievers.dense.passages.overlap');
    await bad({ size: 64 }, 'retrievers.dense.passages.size');
    await bad({ score: 'mean' }, 'retrievers.dense.passages.score');
  });
});

describe('passages settings', () => {
  it("default to score 'max'; a setting stored before `score` existed keeps pooling", async () => {
    const { parsePassages } = await import('../../src/retrievers/passages.js');
    const { splade } = await import('../../src/retrievers/splade.js');
    const { dense } = await import('../../src/retrievers/dense.js');
    const { inferenceFree } = await import('../../src/retrievers/inference-free.js');
    expect(parsePassages({ tokens: 64 }, 'p')).toEqual({ tokens: 64, overlap: 32, score: 'max' });
    expect(parsePassages({ score: 'pooled' }, 'p')).toEqual({ overlap: 32, score: 'pooled' });
    const old = { model: 'dir:m', query: 'siamese' as const, passages: { overlap: 32 } };
    expect(splade.upgradeStored!(old).passages).toEqual({ overlap: 32, score: 'pooled' });
    expect(inferenceFree.upgradeStored!({ model: 'dir:m', idf: 'model', passages: { overlap: 8 } }).passages!.score).toBe('pooled');
    expect(dense.upgradeStored!({ model: 'dir:m', storage: 'f32', passages: { overlap: 4 } }).passages!.score).toBe('pooled');
    const now = { model: 'dir:m', query: 'siamese' as const, passages: { overlap: 32, score: 'max' as const } };
    expect(splade.upgradeStored!(now)).toBe(now);
  });
});
