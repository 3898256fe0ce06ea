// BM25, SPLADE and dense in one collection created over HTTP (the tiny sparse and dense fixtures):
// the single dense retriever, hybrids of two and three retrievers, and the dense query's errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DenseEncoder } from '../../src/encoder/dense/dense-encoder.js';
import { TINY_MODEL } from '../encoder/fixture.js';
import { TINY_DENSE } from '../encoder/dense/dense-reference.js';
import { ndjson, removeDir, startTestServer, type TestServer } from '../helpers/server.js';
import { DOCS } from '../helpers/topic-docs.js';

let s: TestServer;
let ref: DenseEncoder;
const search = (body: Record<string, unknown>) => s.req('POST', '/v1/collections/all/search', body);

beforeAll(async () => {
  ref = await DenseEncoder.load(TINY_DENSE);
  s = await startTestServer();
  const c = await s.req('POST', '/v1/collections', {
    name: 'all',
    retrievers: { splade: { model: `dir:${TINY_MODEL}` }, dense: { model: `dir:${TINY_DENSE}` } },
    default_retriever: 'dense',
  });
  expect(c.status, JSON.stringify(c.body)).toBe(201);
  expect(c.body.retrievers.dense).toEqual({ model: `dir:${TINY_DENSE}`, storage: 'f32' });
  const r = await s.ndjson('/v1/collections/all/documents?wait=true', ndjson(DOCS));
  expect(r.body.indexed).toBe(DOCS.length);
});

afterAll(async () => {
  await s?.close();
  await ref?.close();
  if (s) removeDir(s.dataDir);
});

describe('the dense retriever in search requests', () => {
  it('answers a single-retriever search (the default here) with raw inner products', async () => {
    const r = await search({ query: 'heart disease', k: 24, explain: true });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.retriever).toBe('dense');
    const q = await ref.encodeQueries(['heart disease']);
    const v = await ref.encodeDocuments(DOCS.map((d) => `${d.title} ${d.text}`));
    const dim = q.length;
    const want = DOCS.map((d, i) => ({ id: d._id, s: v.subarray(i * dim, (i + 1) * dim).reduce((a, x, j) => a + x * q[j], 0) })).sort(
      (a, b) => b.s - a.s,
    );
    expect(r.body.hits.length).toBe(24);
    r.body.hits.forEach((h: { _id: string; score: number; explain: unknown }, i: number) => {
      expect(h.score).toBeCloseTo(want[i].s, 4);
      expect(h.explain).toEqual({ retriever: 'dense', terms: [] });
    });
    // the same list as a hybrid of the dense retriever alone
    const one = await search({ query: 'heart disease', k: 24, retrievers: [{ name: 'dense', window: 24 }] });
    expect(one.body.hits.map((h: { _id: string }) => h._id)).toEqual(r.body.hits.map((h: { _id: string }) => h._id));
  });

  it('takes a top-level dense_vector, and names it when it is wrong', async () => {
    const v = Array.from(await ref.encodeDocuments([`${DOCS[7].title} ${DOCS[7].text}`]));
    const r = await search({ dense_vector: v, retriever: 'dense', k: 1 });
    expect(r.body.hits[0]._id).toBe('d7');
    const bad = await search({ dense_vector: [1, 2], k: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'dense_vector' });
    const both = await search({ query: 'cats', dense_vector: v, k: 1 });
    expect(both.body).toMatchObject({ code: 'INVALID_QUERY', field: 'query' });
    const sparse = await search({ query: 'cats', retriever: 'bm25', dense_vector: v });
    expect(sparse.body).toMatchObject({ code: 'INVALID_QUERY', field: 'dense_vector' });
    const unknown = await search({ query: 'cats', retriever: 'colbert' });
    expect(unknown.body.message).toMatch(/available: bm25, splade, dense\)/);
  });

  it('fuses BM25, SPLADE and dense; explain gives the dense rank and raw score, without terms', async () => {
    const body = { query: 'cats and heart disease', k: 10, explain: true, filter: { year: { gte: 2001 } } };
    const three = await search({
      ...body,
      retrievers: [
        { name: 'bm25', window: 8 },
        { name: 'splade', window: 8 },
        { name: 'dense', window: 8 },
      ],
      fusion: { method: 'convex', normalization: 'l2' },
    });
    expect(three.status, JSON.stringify(three.body)).toBe(200);
    const dense = await search({ ...body, k: 8, retriever: 'dense' });
    for (const h of three.body.hits) {
      expect(h.explain.retrievers.map((x: { name: string }) => x.name)).toEqual(['bm25', 'splade', 'dense']);
      const d = h.explain.retrievers[2];
      expect(d).not.toHaveProperty('terms');
      const at = dense.body.hits.findIndex((x: { _id: string }) => x._id === h._id);
      if (at < 0) expect(d.rank).toBeNull();
      else {
        expect(d.rank).toBe(at + 1);
        expect(d.score).toBe(dense.body.hits[at].score);
      }
      expect(h.explain.retrievers.reduce((a: number, x: { contribution: number }) => a + x.contribution, 0)).toBeCloseTo(h.score, 12);
      expect(DOCS.find((x) => x._id === h._id)!.metadata.year).toBeGreaterThanOrEqual(2001);
    }
    // a dense retriever may get its own vector while BM25 reads the text
    const v = Array.from(await ref.encodeDocuments([`${DOCS[3].title} ${DOCS[3].text}`]));
    const mixed = await search({
      query: 'solar',
      k: 5,
      retrievers: [{ name: 'bm25' }, { name: 'dense', dense_vector: v, window: 1 }],
      fusion: { method: 'rrf' },
    });
    expect(mixed.status).toBe(200);
    expect(mixed.body.retrievers).toEqual([
      { name: 'bm25', window: 100, weight: 1, hits: expect.any(Number) },
      { name: 'dense', window: 1, weight: 1, hits: 1 },
    ]);
    const sparseForDense = await search({ k: 5, retrievers: [{ name: 'dense', vector: { cats: 1 } }] });
    expect(sparseForDense.body).toMatchObject({ code: 'INVALID_QUERY', field: 'retrievers[0].vector' });
  });
});
