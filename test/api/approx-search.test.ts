// Sparse approximate search through the API: built per retriever at creation (`approx`), asked for
// per request (`mode`, `approx` knobs) or as the collection's default (`search`), refused with the
// field at fault where the collection cannot serve it, and still returning k hits under a filter.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ndjson, removeDir, startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;

// 'alpha' in 40 documents with term frequencies 1..4 ('heavy' ones in bucket 0), 'beta' in every
// third, filler words elsewhere: the pruned list of 'alpha' (postings: 3) keeps only heavy ones.
const DOCS = Array.from({ length: 120 }, (_, i) => {
  const words = [`w${i % 17}`, `v${i % 5}`];
  if (i < 40) words.push(...Array(1 + (i % 4)).fill('alpha'));
  if (i % 3 === 0) words.push('beta');
  return { _id: `d${i}`, text: words.join(' '), metadata: { bucket: i < 40 && i % 4 === 3 ? 0 : 1, n: i } };
});

async function search(name: string, body: Record<string, unknown>) {
  return s.req('POST', `/v1/collections/${name}/search`, { k: 10, ...body });
}

beforeAll(async () => {
  s = await startTestServer();
  const specs: [string, unknown][] = [
    ['exact', {}],
    ['pruned', { bm25: { approx: { postings: 3 } } }],
    ['wide', { bm25: { approx: { postings: 1000, blocks: true } } }],
    ['bydefault', { bm25: { approx: { postings: 3 }, search: { mode: 'approx', rerank: 50 } } }],
  ];
  for (const [name, retrievers] of specs) {
    expect((await s.req('POST', '/v1/collections', { name, retrievers })).status).toBe(201);
    expect((await s.ndjson(`/v1/collections/${name}/documents?wait=true`, ndjson(DOCS))).body.indexed).toBe(DOCS.length);
  }
});

afterAll(async () => {
  await s.close();
  removeDir(s.dataDir);
});

const ids = (r: { body: { hits: { _id: string }[] } }) => r.body.hits.map((h) => h._id);

describe('sparse approximate search', () => {
  it('shows the build settings and the default strategy in the collection', async () => {
    expect((await s.req('GET', '/v1/collections/bydefault')).body.retrievers.bm25).toEqual({
      k1: 0.9,
      b: 0.4,
      approx: { postings: 3 },
      search: { mode: 'approx', rerank: 50 },
    });
    expect((await s.req('GET', '/v1/collections/exact')).body.retrievers.bm25).toEqual({ k1: 0.9, b: 0.4 });
  });

  it('with lists long enough to hold every posting, approx returns what exact returns (pruned and blocks)', async () => {
    const exact = await search('wide', { query: 'alpha beta w3' });
    expect(exact.status).toBe(200);
    for (const approx of [{}, { strategy: 'pruned', rerank: 200 }, { strategy: 'blocks', query_cut: 3, heap_factor: 0.5 }]) {
      const r = await search('wide', { query: 'alpha beta w3', mode: 'approx', approx });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(ids(r)).toEqual(ids(exact));
      r.body.hits.forEach((h: { score: number }, i: number) => expect(h.score).toBeCloseTo(exact.body.hits[i].score, 5));
    }
  });

  it('a filtered approximate top-k still returns k whenever k documents match', async () => {
    // bucket 0 holds the tf-4 'alpha' documents (10 of them): all outside the 3-posting pruned list.
    const filter = { bucket: 1, n: { lt: 40 } };
    const exact = await search('pruned', { query: 'alpha', filter });
    const approx = await search('pruned', { query: 'alpha', filter, mode: 'approx' });
    expect(exact.body.hits).toHaveLength(10);
    expect(ids(approx)).toEqual(ids(exact));
  });

  it("uses the collection's default strategy, which a request may override", async () => {
    // query_cut is a knob of approx: refused where the default is exact, taken where it is approx.
    const refused = await search('pruned', { query: 'alpha', approx: { query_cut: 1 } });
    expect(refused.body).toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'approx.query_cut',
      message: "query_cut applies to mode 'approx'",
    });
    expect((await search('bydefault', { query: 'alpha', approx: { query_cut: 1 } })).status).toBe(200);
    const exactOverride = await search('bydefault', { query: 'alpha beta', mode: 'exact' });
    expect(ids(exactOverride)).toEqual(ids(await search('exact', { query: 'alpha beta' })));
  });

  it('refuses what the collection cannot serve, naming the field', async () => {
    expect((await search('exact', { query: 'alpha', mode: 'approx' })).body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'mode' });
    expect((await search('pruned', { query: 'alpha', mode: 'approx', approx: { strategy: 'blocks' } })).body).toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'approx.strategy',
    });
    expect((await search('pruned', { query: 'alpha', mode: 'approx', approx: { ef: 10 } })).body).toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'approx.ef',
    });
    expect((await search('pruned', { query: 'alpha', mode: 'fast' })).body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'mode' });
    const hybrid = await search('exact', { query: 'alpha', retrievers: [{ name: 'bm25', mode: 'approx' }] });
    expect(hybrid.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'retrievers[0].mode' });
    const create = await s.req('POST', '/v1/collections', { name: 'bad', retrievers: { bm25: { search: { mode: 'approx' } } } });
    expect(create.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'retrievers.bm25.search.mode' });
    const zero = await s.req('POST', '/v1/collections', { name: 'bad', retrievers: { bm25: { approx: { postings: 0 } } } });
    expect(zero.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'retrievers.bm25.approx.postings' });
  });

  it('takes the strategy per retriever in a hybrid search', async () => {
    const r = await search('pruned', { query: 'alpha beta', retrievers: [{ name: 'bm25', mode: 'approx', approx: { rerank: 100 } }] });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.hits.length).toBe(10);
  });

  it('refuses to delete by an empty filter', async () => {
    const r = await s.req('POST', '/v1/collections/exact/documents/delete', { filter: {} });
    expect(r.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'filter' });
    expect((await s.req('GET', '/v1/collections/exact')).body.stats.documents).toBe(DOCS.length);
  });
});
