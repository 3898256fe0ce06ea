// A collection with a dense model on a real server (the committed tiny dense fixture): documents go
// in through NDJSON bulk ingest, vectors land in SQLite and the dense index, and hybrid search
// (search/hybrid.ts) runs the dense retriever on query text (with the model's query prompt) or a
// client `dense_vector`, beside BM25; everything survives a restart.
//
// The collection is created through the service's registry: POST /v1/collections does not accept
// `retrievers.dense` yet (src/api/schemas.ts CreateCollectionBody has no `dense`).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DenseEncoder } from '../../src/encoder/dense/dense-encoder.js';
import { TINY_DENSE } from '../encoder/dense/dense-reference.js';
import { ndjson, removeDir, startTestServer, tempDir, type TestServer } from '../helpers/server.js';
import { DOCS } from '../helpers/topic-docs.js';

const MODEL = `dir:${TINY_DENSE}`;

const dataDir = tempDir('lsr-dense-api-');
let s: TestServer;
let ref: DenseEncoder;

beforeAll(async () => {
  ref = await DenseEncoder.load(TINY_DENSE);
  s = await startTestServer({}, dataDir);
  await s.service.registry.create({ name: 'dense', retrievers: { dense: { model: MODEL } } });
  const r = await s.ndjson('/v1/collections/dense/documents?wait=true', ndjson(DOCS));
  expect(r.status).toBe(200);
  expect(r.body.indexed).toBe(DOCS.length);
});

afterAll(async () => {
  await s?.close();
  await ref.close();
  removeDir(dataDir);
});

const search = (body: Record<string, unknown>) => s.req('POST', '/v1/collections/dense/search', body);

/** Expected dense ranking: inner products of the reference encoder's query and document vectors. */
async function expected(query: Float32Array, ids = DOCS.map((d) => d._id)): Promise<string[]> {
  const docs = DOCS.filter((d) => ids.includes(d._id));
  const v = await ref.encodeDocuments(docs.map((d) => `${d.title} ${d.text}`));
  const score = (i: number) => v.subarray(i * 64, (i + 1) * 64).reduce((a, x, j) => a + x * query[j], 0);
  return docs
    .map((d, i) => ({ id: d._id, s: score(i) }))
    .sort((a, b) => b.s - a.s || (a.id < b.id ? -1 : 1))
    .map((x) => x.id);
}

describe('dense collections over HTTP', () => {
  it('ranks by the model with the query prompt applied', async () => {
    const r = await search({ query: 'heart disease', k: 5, retrievers: [{ name: 'dense', window: 5 }] });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const want = await expected(await ref.encodeQueries(['heart disease']));
    expect(r.body.hits.map((h: { _id: string }) => h._id)).toEqual(want.slice(0, 5));
  });

  it('takes a client dense_vector and refuses one of the wrong dimension, naming the field', async () => {
    const v = Array.from(await ref.encodeDocuments([`${DOCS[7].title} ${DOCS[7].text}`]));
    const r = await search({ k: 1, retrievers: [{ name: 'dense', dense_vector: v }] });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.hits[0]._id).toBe('d7');
    const bad = await search({ k: 1, retrievers: [{ name: 'dense', dense_vector: [1, 2, 3] }] });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'retrievers[0].dense_vector',
      message: "retrievers[0].dense_vector must have 64 numbers (the model's dimension), got 3",
    });
  });

  it('fuses with BM25 and applies the filter to the dense retriever', async () => {
    const r = await search({ query: 'cats', k: 10, retrievers: [{ name: 'bm25' }, { name: 'dense' }], filter: { year: 2001 } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const allowed = DOCS.filter((d) => d.metadata.year === 2001).map((d) => d._id);
    for (const h of r.body.hits) expect(allowed).toContain(h._id);
    expect(r.body.retrievers.map((x: { name: string }) => x.name)).toEqual(['bm25', 'dense']);
  });

  it('deletes reach the dense index, and everything survives a restart', async () => {
    const del = await s.req('DELETE', '/v1/collections/dense/documents/d7');
    expect(del.status).toBeLessThan(300);
    const v = Array.from(await ref.encodeDocuments([`${DOCS[7].title} ${DOCS[7].text}`]));
    const after = await search({ k: 30, retrievers: [{ name: 'dense', window: 30, dense_vector: v }] });
    expect(after.body.hits.map((h: { _id: string }) => h._id)).not.toContain('d7');
    expect(after.body.hits).toHaveLength(23);

    await s.close();
    s = await startTestServer({}, dataDir);
    const again = await search({ query: 'heart disease', k: 5, retrievers: [{ name: 'dense', window: 5 }] });
    expect(again.status).toBe(200);
    const want = await expected(
      await ref.encodeQueries(['heart disease']),
      DOCS.map((d) => d._id).filter((id) => id !== 'd7'),
    );
    expect(again.body.hits.map((h: { _id: string }) => h._id)).toEqual(want.slice(0, 5));
  });
});
