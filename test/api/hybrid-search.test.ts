// Hybrid search on a real server: BM25 and SPLADE (the tiny random-weight fixture model, siamese)
// in one collection, fused by RRF, convex combination and DBSF. Expected results are computed here
// from each retriever's own single-retriever answer, so the test checks the wiring (windows,
// filter on each retriever, pagination, explain) and the fused arithmetic end to end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ndjson, removeDir, startTestServer, type TestServer } from '../helpers/server.js';
import { TINY_MODEL } from '../encoder/fixture.js';
import { RETRIEVERS } from '../../src/retrievers/registry.js';

const MODEL = `dir:${TINY_MODEL}`;
const TOPICS = [
  'cats and kittens',
  'dogs bark at cats',
  'solar power energy',
  'cancer genes in mice',
  'heart disease and blood pressure',
  'birds sing in trees',
];
// 30 documents mixing the topics, so BM25 and SPLADE rank them differently; metadata.year splits them.
const DOCS = Array.from({ length: 30 }, (_, i) => ({
  _id: `d${i}`,
  title: TOPICS[i % TOPICS.length],
  text: `${TOPICS[(i * 7 + 3) % TOPICS.length]} ${TOPICS[(i * 5 + 1) % TOPICS.length]} note ${i}`,
  metadata: { year: 2000 + (i % 4) },
}));

interface Hit {
  _id: string;
  score: number;
  explain?: any;
}

let s: TestServer;

async function search(body: Record<string, unknown>): Promise<{ status: number; body: any }> {
  return s.req('POST', '/v1/collections/mix/search', body);
}

async function single(retriever: string, query: string, k: number, filter?: unknown): Promise<Hit[]> {
  const r = await search({ query, retriever, k, ...(filter ? { filter } : {}) });
  expect(r.status).toBe(200);
  return r.body.hits;
}

/** RRF by its definition: sum of weight / (k + rank) over lists holding the document. */
function rrf(lists: Hit[][], k: number, weights = lists.map(() => 1)): Map<string, number> {
  const out = new Map<string, number>();
  lists.forEach((l, li) => l.forEach((h, i) => out.set(h._id, (out.get(h._id) ?? 0) + weights[li] / (k + i + 1))));
  return out;
}

/** Convex min-max (OpenSearch): lowest of a list 0.001, constant list 1, absent 0; divided by the weights' sum. */
function convexMinMax(lists: Hit[][], weights: number[]): Map<string, number> {
  const sumW = weights.reduce((a, b) => a + b, 0);
  const out = new Map<string, number>();
  lists.forEach((l, li) => {
    const lo = Math.min(...l.map((h) => h.score));
    const hi = Math.max(...l.map((h) => h.score));
    for (const h of l) {
      const n = hi === lo ? 1 : (h.score - lo) / (hi - lo) || 0.001;
      out.set(h._id, (out.get(h._id) ?? 0) + (weights[li] * n) / sumW);
    }
  });
  for (const l of lists) for (const h of l) if (!out.has(h._id)) out.set(h._id, 0);
  return out;
}

function expectFused(hits: Hit[], want: Map<string, number>, k: number): void {
  // Order by score; equal scores may come in either order here (the service breaks them by rank, then docno).
  const sorted = [...want].sort((a, b) => b[1] - a[1]).slice(0, k);
  expect(hits.length).toBe(sorted.length);
  hits.forEach((h, i) => {
    expect(h.score).toBeCloseTo(sorted[i][1], 10);
    expect(want.get(h._id)).toBeCloseTo(h.score, 10);
  });
}

beforeAll(async () => {
  s = await startTestServer();
  const c = await s.req('POST', '/v1/collections', { name: 'mix', retrievers: { splade: { model: MODEL, query: 'siamese' } } });
  expect(c.status).toBe(201);
  const r = await s.ndjson('/v1/collections/mix/documents?wait=true', ndjson(DOCS));
  expect(r.body.indexed).toBe(DOCS.length);
  const plain = await s.req('POST', '/v1/collections', { name: 'plain' });
  expect(plain.status).toBe(201);
  await s.ndjson('/v1/collections/plain/documents?wait=true', ndjson(DOCS));
});

afterAll(async () => {
  await s.close();
  removeDir(s.dataDir);
});

describe('hybrid search', () => {
  const query = 'cats with heart disease';

  it("RRF fuses each retriever's window (k defaults to 60)", async () => {
    const bm25 = await single('bm25', query, 8);
    const splade = await single('splade', query, 5);
    expect(bm25.length).toBe(8);
    const r = await search({
      query,
      k: 10,
      retrievers: [
        { name: 'bm25', window: 8 },
        { name: 'splade', window: 5 },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.retriever).toBe('hybrid');
    expect(r.body.fusion).toEqual({ method: 'rrf', k: 60, weights: { bm25: 1, splade: 1 } });
    expect(r.body.retrievers).toEqual([
      { name: 'bm25', window: 8, weight: 1, hits: 8 },
      { name: 'splade', window: 5, weight: 1, hits: 5 },
    ]);
    expectFused(r.body.hits, rrf([bm25, splade], 60), 10);
    // a document both retrievers ranked first has the highest possible score
    const both = await search({
      query,
      k: 3,
      retrievers: [
        { name: 'bm25', window: 8 },
        { name: 'splade', window: 5 },
      ],
      fusion: { method: 'rrf', k: 1 },
    });
    expectFused(both.body.hits, rrf([bm25, splade], 1), 3);
  });

  it('RRF weights come from each retriever or from fusion.weights', async () => {
    const bm25 = await single('bm25', query, 10);
    const splade = await single('splade', query, 10);
    const want = rrf([bm25, splade], 60, [2, 0.5]);
    const a = await search({
      query,
      k: 10,
      retrievers: [
        { name: 'bm25', window: 10, weight: 2 },
        { name: 'splade', window: 10, weight: 0.5 },
      ],
    });
    const b = await search({
      query,
      k: 10,
      retrievers: [
        { name: 'bm25', window: 10 },
        { name: 'splade', window: 10 },
      ],
      fusion: { method: 'rrf', weights: { bm25: 2, splade: 0.5 } },
    });
    expectFused(a.body.hits, want, 10);
    expect(b.body.hits).toEqual(a.body.hits);
  });

  it('convex min-max with weights, and each hit explained per retriever', async () => {
    const bm25 = await single('bm25', query, 6);
    const splade = await single('splade', query, 6);
    const r = await search({
      query,
      k: 20,
      explain: true,
      retrievers: [
        { name: 'bm25', window: 6 },
        { name: 'splade', window: 6 },
      ],
      fusion: { method: 'convex', normalization: 'min_max', weights: { bm25: 0.3, splade: 0.7 } },
    });
    expect(r.status).toBe(200);
    expect(r.body.fusion).toEqual({ method: 'convex', normalization: 'min_max', weights: { bm25: 0.3, splade: 0.7 } });
    expectFused(r.body.hits, convexMinMax([bm25, splade], [0.3, 0.7]), 20);
    for (const h of r.body.hits as Hit[]) {
      expect(h.explain.retriever).toBe('hybrid');
      expect(h.explain.method).toBe('convex');
      expect(h.explain.retrievers.map((x: any) => x.name)).toEqual(['bm25', 'splade']);
      const sum = h.explain.retrievers.reduce((a: number, x: any) => a + x.contribution, 0);
      expect(sum).toBeCloseTo(h.score, 12);
      h.explain.retrievers.forEach((x: any, i: number) => {
        const list = [bm25, splade][i];
        const at = list.findIndex((l) => l._id === h._id);
        if (at < 0) {
          expect(x).toEqual({ name: x.name, rank: null, score: null, normalized: null, contribution: 0 });
        } else {
          expect(x.rank).toBe(at + 1);
          expect(x.score).toBe(list[at].score);
          expect(x.contribution).toBeCloseTo(([0.3, 0.7][i] * x.normalized) / 1, 12);
          // the retriever's own term contributions add up to its raw score
          expect(x.terms.reduce((a: number, t: any) => a + t.contribution, 0)).toBeCloseTo(x.score, 4);
        }
      });
    }
    // at least one hit is missing from one of the lists (the windows are short), so null ranks were checked
    expect((r.body.hits as Hit[]).some((h) => h.explain.retrievers.some((x: any) => x.rank === null))).toBe(true);
  });

  it('z-score, l2 and DBSF answer with their own arithmetic', async () => {
    for (const fusion of [
      { method: 'convex', normalization: 'z_score' },
      { method: 'convex', normalization: 'l2' },
      { method: 'dbsf' },
      { method: 'dbsf', clip: true },
    ]) {
      const r = await search({
        query,
        k: 10,
        explain: true,
        retrievers: [
          { name: 'bm25', window: 10 },
          { name: 'splade', window: 10 },
        ],
        fusion,
      });
      expect(r.status).toBe(200);
      expect(r.body.fusion.method).toBe(fusion.method);
      if (fusion.method === 'dbsf') expect(r.body.fusion.clip).toBe('clip' in fusion);
      const hits = r.body.hits as Hit[];
      for (let i = 1; i < hits.length; i++) expect(hits[i].score).toBeLessThanOrEqual(hits[i - 1].score);
      for (const h of hits) {
        for (const x of h.explain.retrievers) if (x.rank !== null && fusion.method === 'convex') expect(x.normalized).toBeGreaterThan(0);
        if ('clip' in fusion)
          for (const x of h.explain.retrievers) if (x.rank !== null) expect(x.normalized >= 0 && x.normalized <= 1).toBe(true);
      }
    }
  });

  it('the filter applies to every retriever', async () => {
    const filter = { year: { gte: 2002 } };
    const bm25 = await single('bm25', query, 5, filter);
    const splade = await single('splade', query, 5, filter);
    const r = await search({
      query,
      k: 10,
      filter,
      fields: ['metadata'],
      retrievers: [
        { name: 'bm25', window: 5 },
        { name: 'splade', window: 5 },
      ],
    });
    expect(r.body.candidates).toBe(DOCS.filter((d) => d.metadata.year >= 2002).length);
    expectFused(r.body.hits, rrf([bm25, splade], 60), 10);
    for (const h of r.body.hits) expect(h.metadata.year).toBeGreaterThanOrEqual(2002);
  });

  it('pages through the fused list', async () => {
    const body = {
      query,
      retrievers: [
        { name: 'bm25', window: 12 },
        { name: 'splade', window: 12 },
      ],
      fusion: { method: 'dbsf' },
    };
    const all = (await search({ ...body, k: 30 })).body.hits as Hit[];
    expect(all.length).toBeGreaterThan(12);
    const p2 = (await search({ ...body, k: 5, offset: 5 })).body;
    expect(p2.offset).toBe(5);
    expect(p2.hits).toEqual(all.slice(5, 10));
    const past = (await search({ ...body, k: 5, offset: 100 })).body;
    expect(past.hits).toEqual([]);
  });

  it('the default window is max(100, offset + k)', async () => {
    const r = await search({ query, k: 10, offset: 95, retrievers: [{ name: 'bm25' }, { name: 'splade', window: 3 }] });
    expect(r.body.retrievers.map((x: any) => x.window)).toEqual([105, 3]);
  });

  it('a retriever may have its own query or vector', async () => {
    const bm25 = await single('bm25', 'solar energy', 10);
    const spl = await search({ vector: { cats: 1.5, heart: 0.5 }, retriever: 'splade', k: 10 });
    const r = await search({
      k: 10,
      retrievers: [
        { name: 'bm25', query: 'solar energy', window: 10 },
        { name: 'splade', vector: { cats: 1.5, heart: 0.5 }, window: 10 },
      ],
    });
    expect(r.status).toBe(200);
    expectFused(r.body.hits, rrf([bm25, spl.body.hits], 60), 10);
    // the request's query is the default for retrievers that give none
    const mixed = await search({
      query: 'solar energy',
      k: 10,
      retrievers: [
        { name: 'bm25', window: 10 },
        { name: 'splade', vector: { cats: 1.5, heart: 0.5 }, window: 10 },
      ],
    });
    expect(mixed.body.hits).toEqual(r.body.hits);
  });

  it('one retriever in `retrievers` is its own list renormalized', async () => {
    const bm25 = await single('bm25', query, 10);
    const r = await search({ query, k: 10, retrievers: [{ name: 'bm25', window: 10 }] });
    expect(r.body.hits.map((h: Hit) => h._id)).toEqual(bm25.map((h) => h._id));
  });

  it('leaves the single-retriever request and response as they were', async () => {
    const r = await search({ query, k: 3, explain: true });
    expect(r.status).toBe(200);
    expect(r.body.retriever).toBe('bm25');
    expect(r.body).not.toHaveProperty('fusion');
    expect(r.body).not.toHaveProperty('retrievers');
    expect(Object.keys(r.body.hits[0].explain)).toEqual(['retriever', 'terms']);
  });
});

describe('hybrid request errors', () => {
  const base = { query: 'cats', retrievers: [{ name: 'bm25' }, { name: 'splade' }] };
  const cases: [string, Record<string, unknown>, string, string, RegExp, string?][] = [
    [
      'unknown retriever',
      { query: 'cats', retrievers: [{ name: 'bm25' }, { name: 'dense' }] },
      'UNKNOWN_RETRIEVER',
      'retrievers[1].name',
      /retriever 'dense' is not available in collection 'mix' \(available: bm25, splade\)/,
    ],
    [
      'a retriever no service has',
      { query: 'cats', retrievers: [{ name: 'colbert' }] },
      'UNKNOWN_RETRIEVER',
      'retrievers[0].name',
      new RegExp(`retriever 'colbert' is not one this service has \\(${RETRIEVERS.join(', ')}\\)`),
    ],
    [
      'a retriever twice',
      { query: 'cats', retrievers: [{ name: 'bm25' }, { name: 'bm25' }] },
      'VALIDATION_FAILED',
      'retrievers[1].name',
      /retriever 'bm25' is listed twice \(retrievers\[0\] and retrievers\[1\]\)/,
    ],
    [
      'retriever and retrievers',
      { ...base, retriever: 'bm25' },
      'VALIDATION_FAILED',
      'retriever',
      /give `retriever` \(one retriever\) or `retrievers` \(a hybrid search\), not both/,
    ],
    [
      'fusion without retrievers',
      { query: 'cats', fusion: { method: 'rrf' } },
      'VALIDATION_FAILED',
      'fusion',
      /`fusion` applies to a hybrid search/,
    ],
    [
      'no retrievers',
      { query: 'cats', retrievers: [] },
      'VALIDATION_FAILED',
      'retrievers',
      /retrievers must be an array of 1 to 8 retrievers/,
    ],
    [
      'window 0',
      { query: 'cats', retrievers: [{ name: 'bm25', window: 0 }] },
      'VALIDATION_FAILED',
      'retrievers[0].window',
      /window must be an integer from 1 to 10000/,
    ],
    [
      'window too large',
      { query: 'cats', retrievers: [{ name: 'bm25' }, { name: 'splade', window: 10001 }] },
      'VALIDATION_FAILED',
      'retrievers[1].window',
      /window must be an integer from 1 to 10000/,
    ],
    [
      'negative weight',
      { ...base, fusion: { method: 'convex', weights: { bm25: -1 } } },
      'VALIDATION_FAILED',
      'fusion.weights.bm25',
      /weight of 'bm25' must be a number from 0 to 1000000/,
    ],
    [
      'weight of an absent retriever',
      { ...base, fusion: { method: 'dbsf', weights: { dense: 1 } } },
      'VALIDATION_FAILED',
      'fusion.weights.dense',
      /'dense' is not one of the request's retrievers \(bm25, splade\)/,
    ],
    [
      'weight given twice',
      { query: 'cats', retrievers: [{ name: 'bm25', weight: 1 }], fusion: { method: 'rrf', weights: { bm25: 2 } } },
      'VALIDATION_FAILED',
      'fusion.weights.bm25',
      /weight of 'bm25' is given twice \(retrievers\[0\]\.weight and fusion\.weights\.bm25\)/,
    ],
    [
      'all convex weights 0',
      { ...base, fusion: { method: 'convex', weights: { bm25: 0, splade: 0 } } },
      'VALIDATION_FAILED',
      'fusion.weights',
      /convex fusion needs at least one retriever with a weight above 0/,
    ],
    [
      'unknown method',
      { ...base, fusion: { method: 'borda' } },
      'VALIDATION_FAILED',
      'fusion.method',
      /method must be one of: rrf, convex, dbsf/,
    ],
    [
      'normalization with rrf',
      { ...base, fusion: { method: 'rrf', normalization: 'l2' } },
      'VALIDATION_FAILED',
      'fusion.normalization',
      /normalization applies to method 'convex' only, not 'rrf'/,
    ],
    [
      'clip with rrf',
      { ...base, fusion: { method: 'rrf', clip: true } },
      'VALIDATION_FAILED',
      'fusion.clip',
      /clip applies to method 'dbsf' only, not 'rrf'/,
    ],
    [
      'clip not a boolean',
      { ...base, fusion: { method: 'dbsf', clip: 1 } },
      'VALIDATION_FAILED',
      'fusion.clip',
      /clip must be true or false/,
    ],
    [
      'k with convex',
      { ...base, fusion: { method: 'convex', k: 60 } },
      'VALIDATION_FAILED',
      'fusion.k',
      /k applies to method 'rrf' only, not 'convex'/,
    ],
    [
      'negative rrf k',
      { ...base, fusion: { method: 'rrf', k: -1 } },
      'VALIDATION_FAILED',
      'fusion.k',
      /k must be a number from 0 to 1000000/,
    ],
    [
      'unknown normalization',
      { ...base, fusion: { method: 'convex', normalization: 'max' } },
      'VALIDATION_FAILED',
      'fusion.normalization',
      /normalization must be one of: min_max, z_score, l2/,
    ],
    [
      'unknown entry key',
      { query: 'cats', retrievers: [{ name: 'bm25', size: 3 }] },
      'VALIDATION_FAILED',
      'retrievers[0].size',
      /retrievers\[0\]\.size is not a known property/,
    ],
    [
      'no query anywhere',
      { retrievers: [{ name: 'bm25', query: 'cats' }, { name: 'splade' }] },
      'INVALID_QUERY',
      'retrievers[1].query',
      /retriever 'splade' has no query/,
    ],
    [
      'dense_vector for a sparse retriever',
      { query: 'cats', retrievers: [{ name: 'bm25', dense_vector: [0.5, 0.5] }] },
      'INVALID_QUERY',
      'retrievers[0].dense_vector',
      /retriever 'bm25' is not dense; `dense_vector` applies to a dense retriever/,
    ],
    [
      'query and vector in one entry',
      { retrievers: [{ name: 'bm25', query: 'cats', vector: { cats: 1 } }] },
      'INVALID_QUERY',
      'retrievers[0].query',
      /not both/,
    ],
  ];
  for (const [what, body, code, field, message] of cases) {
    it(`${what}: ${code} naming ${field}`, async () => {
      const r = await search(body);
      expect(r.status).toBe(400);
      expect(r.body.code).toBe(code);
      expect(r.body.field).toBe(field);
      expect(r.body.message).toMatch(message);
    });
  }

  it('a collection without SPLADE says which retrievers it has', async () => {
    const r = await s.req('POST', '/v1/collections/plain/search', base);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'UNKNOWN_RETRIEVER', field: 'retrievers[1].name' });
    expect(r.body.message).toMatch(/available: bm25\)/);
  });

  it('the OpenAPI document describes retrievers and fusion', async () => {
    const doc = (await s.req('GET', '/openapi.json')).body;
    const body = doc.paths['/v1/collections/{name}/search'].post.requestBody.content['application/json'].schema;
    expect(body.properties.retrievers.items.required).toEqual(['name']);
    expect(body.properties.retrievers.maxItems).toBe(8);
    const methods = body.properties.fusion.anyOf.map((b: any) => b.properties.method.enum?.[0] ?? b.properties.method.const);
    expect(methods).toEqual(['rrf', 'convex', 'dbsf']);
    expect(JSON.stringify(body.properties.fusion)).toMatch(/Default 60/);
  });
});
