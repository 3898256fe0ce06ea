// A collection's default fusion over HTTP: set, read, used by a hybrid request without `fusion`
// (its weights limited to the request's retrievers; a request's own fusion or weight wins),
// refused with the field named, removed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ndjson, removeDir, startTestServer, type TestServer } from '../helpers/server.js';
import { DOCS } from '../helpers/topic-docs.js';
import { TINY_MODEL } from '../encoder/fixture.js';

let s: TestServer;
const path = '/v1/collections/c/default-fusion';

beforeAll(async () => {
  s = await startTestServer();
  const c = await s.req('POST', '/v1/collections', { name: 'c', retrievers: { splade: { model: `dir:${TINY_MODEL}` } } });
  expect(c.status, JSON.stringify(c.body)).toBe(201);
  expect((await s.ndjson('/v1/collections/c/documents?wait=true', ndjson(DOCS))).body.indexed).toBe(DOCS.length);
});

afterAll(async () => {
  await s?.close();
  if (s) removeDir(s.dataDir);
});

describe('default fusion', () => {
  it('is none at first, then fuses hybrid requests that give no fusion', async () => {
    expect((await s.req('GET', path)).body).toEqual({ fusion: null });
    const body = { query: 'cats and heart disease', k: 6, retrievers: [{ name: 'bm25' }, { name: 'splade' }] };
    const before = await s.req('POST', '/v1/collections/c/search', body);
    expect(before.body.fusion).toMatchObject({ method: 'rrf', k: 60 });
    const fusion = { method: 'convex', normalization: 'z_score', weights: { bm25: 0.7, splade: 0.3 } };
    const put = await s.req('PUT', path, fusion);
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body).toEqual({ fusion });
    expect((await s.req('GET', path)).body).toEqual({ fusion });
    const after = await s.req('POST', '/v1/collections/c/search', body);
    expect(after.body.fusion).toEqual({ ...fusion });
    const explicit = await s.req('POST', '/v1/collections/c/search', { ...body, fusion: fusion });
    expect(after.body.hits).toEqual(explicit.body.hits);
    // Only the request's retrievers; a retriever's own weight wins.
    const one = await s.req('POST', '/v1/collections/c/search', { ...body, retrievers: [{ name: 'bm25' }, { name: 'splade', weight: 2 }] });
    expect(one.body.fusion.weights).toEqual({ bm25: 0.7, splade: 2 });
    // A request's own fusion wins.
    const own = await s.req('POST', '/v1/collections/c/search', { ...body, fusion: { method: 'rrf', k: 10 } });
    expect(own.body.fusion).toMatchObject({ method: 'rrf', k: 10 });
  });

  it('names the field it refuses, and is removed by DELETE', async () => {
    const bad = await s.req('PUT', path, { method: 'convex', weights: { dense: 1 } });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'UNKNOWN_RETRIEVER', field: 'weights.dense' });
    const wrong = await s.req('PUT', path, { method: 'rrf', normalization: 'l2' });
    expect(wrong.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'normalization' });
    expect((await s.req('DELETE', path)).body).toEqual({ fusion: null });
    const plain = await s.req('POST', '/v1/collections/c/search', { query: 'cats', retrievers: [{ name: 'bm25' }, { name: 'splade' }] });
    expect(plain.body.fusion).toMatchObject({ method: 'rrf', k: 60 });
    expect((await s.req('GET', '/v1/collections/nope/default-fusion')).status).toBe(404);
  });
});
