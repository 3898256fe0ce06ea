// Pseudo-relevance feedback and dense verification over HTTP: the schema takes `prf`,
// `retrievers[].prf`, `fusion.interpolate` and `verify`; the response carries the expansion
// (`prf`), each hit's ranks before and after verification, and the echo of what was applied; the
// schema's refusals name the field.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TINY_DENSE } from '../encoder/dense/dense-reference.js';
import { TINY_MODEL } from '../encoder/fixture.js';
import { ndjson, removeDir, startTestServer, type TestServer } from '../helpers/server.js';
import { DOCS } from '../helpers/topic-docs.js';

let s: TestServer;
const search = (body: Record<string, unknown>) => s.req('POST', '/v1/collections/all/search', body);

beforeAll(async () => {
  s = await startTestServer();
  const c = await s.req('POST', '/v1/collections', {
    name: 'all',
    retrievers: { splade: { model: `dir:${TINY_MODEL}` }, dense: { model: `dir:${TINY_DENSE}` } },
  });
  expect(c.status, JSON.stringify(c.body)).toBe(201);
  const r = await s.ndjson('/v1/collections/all/documents?wait=true', ndjson(DOCS));
  expect(r.body.indexed).toBe(DOCS.length);
});

afterAll(async () => {
  await s?.close();
  if (s) removeDir(s.dataDir);
});

describe('prf over HTTP', () => {
  it('returns the expanded query with explain, and only with explain', async () => {
    const r = await search({ query: 'cats', retriever: 'bm25', k: 5, explain: true, prf: { docs: 3, terms: 4 } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.prf).toHaveLength(1);
    const p = r.body.prf[0];
    expect(p).toMatchObject({ retriever: 'bm25', method: 'rm3', source: 'own', weight: 0.5 });
    expect(p.feedback).toHaveLength(3);
    expect(p.terms.map((t: { term: string }) => t.term)).toContain('cat');
    for (const t of p.terms) expect(t.weight).toBeCloseTo(t.query_weight + t.feedback_weight, 6);
    // RM3's parts are distributions: the query half sums to 0.5, the feedback half to 0.5, or to 0
    // when every term of the feedback documents is in more than 10% of these 24 documents.
    const sum = (k: string) => p.terms.reduce((a: number, t: Record<string, number>) => a + t[k], 0);
    expect(sum('query_weight')).toBeCloseTo(0.5, 6);
    expect([0, 0.5].some((v) => Math.abs(sum('feedback_weight') - v) < 1e-6)).toBe(true);
    const quiet = await search({ query: 'cats', retriever: 'bm25', k: 5, prf: { docs: 3, terms: 4 } });
    expect(quiet.body.prf).toBeUndefined();
    expect(quiet.body.hits.map((h: { _id: string }) => h._id)).toEqual(r.body.hits.map((h: { _id: string }) => h._id));
  });

  it('takes prf per retriever in a hybrid request, with fusion.interpolate echoed', async () => {
    const r = await search({
      query: 'heart disease',
      k: 5,
      explain: true,
      retrievers: [
        { name: 'bm25', prf: {} },
        { name: 'splade', prf: { docs: 2 } },
        { name: 'dense', prf: { method: 'rocchio' } },
      ],
      fusion: { method: 'convex', normalization: 'z_score', interpolate: 'both' },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.fusion).toMatchObject({ method: 'convex', normalization: 'z_score', interpolate: 'both' });
    expect(r.body.prf.map((p: { retriever: string; method: string; source: string }) => [p.retriever, p.method, p.source])).toEqual([
      ['bm25', 'rm3', 'fusion'],
      ['splade', 'terms', 'fusion'],
      ['dense', 'rocchio', 'fusion'],
    ]);
    expect(r.body.prf[2].terms).toBeUndefined();
  });

  it('names the field the schema refuses', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ query: 'x', prf: { docs: 0 } }, 'prf.docs'],
      [{ query: 'x', prf: { fb: 1 } }, 'prf.fb'],
      [{ query: 'x', retrievers: [{ name: 'bm25', prf: { docs: 101 } }] }, 'retrievers[0].prf.docs'],
      [{ query: 'x', retrievers: [{ name: 'bm25', prf: { method: 'bo1' } }] }, 'retrievers[0].prf.method'],
      [{ query: 'x', retrievers: [{ name: 'bm25', prf: {} }], fusion: { method: 'rrf', interpolate: 'never' } }, 'fusion.interpolate'],
      [{ query: 'x', verify: { candidates: 0 } }, 'verify.candidates'],
      [{ query: 'x', verify: { weight: 1.5 } }, 'verify.weight'],
    ];
    for (const [body, field] of cases) {
      const r = await search(body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body, JSON.stringify(body)).toMatchObject({ code: 'VALIDATION_FAILED', field });
    }
  });
});

describe('verify over HTTP', () => {
  it('returns ranks before and after in explain, and the verification applied', async () => {
    const r = await search({ query: 'cats and dogs', retriever: 'splade', k: 8, explain: true, verify: { candidates: 8 } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.verify).toEqual({ retriever: 'dense', candidates: 8, weight: 1 });
    const first = await search({ query: 'cats and dogs', retriever: 'splade', k: 8 });
    r.body.hits.forEach((h: { _id: string; score: number; explain: { verify: Record<string, number> } }, i: number) => {
      expect(h.explain.verify.rank_after).toBe(i + 1);
      expect(first.body.hits[h.explain.verify.rank_before - 1]._id).toBe(h._id);
      expect(h.score).toBeCloseTo(h.explain.verify.dense_score, 5);
    });
    const hybrid = await search({
      query: 'cats and dogs',
      k: 4,
      explain: true,
      retrievers: [{ name: 'bm25' }, { name: 'splade' }],
      verify: { candidates: 20, weight: 0.5 },
    });
    expect(hybrid.status, JSON.stringify(hybrid.body)).toBe(200);
    expect(hybrid.body.hits[0].explain.verify).toMatchObject({ rank_after: 1 });
    expect(hybrid.body.hits[0].explain.retrievers).toHaveLength(2);
  });
});
