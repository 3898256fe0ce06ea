// A sparse retriever's `storage` through the API: u8 impacts rank exactly as f32 ones (the same
// hits and scores), f16 weights rank by the rounded weights (scores within 2^-11 relative), both
// with the approximate structures, across a restart; a bad value is refused naming the field.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ndjson, removeDir, startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;

const DOCS = Array.from({ length: 300 }, (_, i) => {
  const words = [`w${i % 17}`, `v${i % 5}`, `u${i % 29}`];
  if (i < 90) words.push(...Array(1 + (i % 4)).fill('alpha'));
  if (i % 3 === 0) words.push('beta', `x${i % 7}`);
  return { _id: `d${i}`, text: words.join(' ') };
});
const QUERIES = ['alpha beta w3', 'v1 u7 x2', 'alpha', 'beta v4 w16 u28'];

type Hits = { body: { hits: { _id: string; score: number }[] } };
const search = (name: string, body: Record<string, unknown>) => s.req('POST', `/v1/collections/${name}/search`, { k: 20, ...body });

beforeAll(async () => {
  s = await startTestServer();
  const specs: [string, unknown][] = [
    ['f32', { bm25: { approx: { postings: 1000 } } }],
    ['u8', { bm25: { storage: { impacts: 'u8' }, approx: { postings: 1000 } } }],
    ['compact', { bm25: { storage: { weights: 'f16', impacts: 'u8' }, approx: { postings: 1000 } } }],
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

async function expectRankings() {
  for (const query of QUERIES)
    for (const mode of ['exact', 'approx']) {
      const want = (await search('f32', { query, mode })) as Hits;
      const u8 = (await search('u8', { query, mode })) as Hits;
      const compact = (await search('compact', { query, mode })) as Hits;
      expect(want.body.hits.length).toBeGreaterThan(0);
      expect(u8.body.hits).toEqual(want.body.hits);
      // f16 weights: the same documents; each score within the rounding of its weights.
      expect(new Set(compact.body.hits.map((h) => h._id))).toEqual(new Set(want.body.hits.map((h) => h._id)));
      const score = new Map(want.body.hits.map((h) => [h._id, h.score]));
      for (const h of compact.body.hits) expect(Math.abs(h.score - score.get(h._id)!)).toBeLessThanOrEqual(score.get(h._id)! * 2 ** -10);
    }
}

describe('sparse storage precision', () => {
  it('shows the storage in the collection', async () => {
    expect((await s.req('GET', '/v1/collections/compact')).body.retrievers.bm25).toMatchObject({
      storage: { weights: 'f16', impacts: 'u8' },
      approx: { postings: 1000 },
    });
    expect((await s.req('GET', '/v1/collections/f32')).body.retrievers.bm25.storage).toBeUndefined();
  });

  it('ranks u8 impacts exactly as f32 and f16 weights within their rounding, exact and approximate, across a restart', async () => {
    await expectRankings();
    await s.close();
    s = await startTestServer({}, s.dataDir);
    await expectRankings();
  });

  it('refuses an unknown precision, naming the field', async () => {
    const r = await s.req('POST', '/v1/collections', { name: 'bad', retrievers: { bm25: { storage: { weights: 'f8' } } } });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'retrievers.bm25.storage.weights' });
    const r2 = await s.req('POST', '/v1/collections', { name: 'bad', retrievers: { bm25: { storage: { bits: 4 } } } });
    expect(r2.status).toBe(400);
    expect(r2.body.code).toBe('VALIDATION_FAILED');
    expect(JSON.stringify(r2.body)).toMatch(/bits/);
  });
});
