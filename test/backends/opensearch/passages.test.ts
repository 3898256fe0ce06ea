// Passages scored by their best (MaxP, `passages.score: 'max'`) on OpenSearch against the embedded
// backend, on the same long documents in one server: nested documents scored with score_mode max rank
// and score as the embedded passage index (SPLADE and inference-free within rank_features' 9-bit
// weights, dense exactly, and approximately through the nested HNSW graph); explain names the same
// passage and its terms sum to the score; a filter on the document and a delete apply to all of a
// document's passages; inference-free IDF counts passages in the cluster as embedded counts them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TINY_DENSE } from '../../encoder/dense/dense-reference.js';
import { TINY_MODEL } from '../../encoder/fixture.js';
import { backendEnv, dropIndices, NO_OPENSEARCH, OPENSEARCH_URL, testPrefix } from '../../helpers/opensearch.js';
import { expectSameRanking } from '../../helpers/ranking.js';
import { ndjson, removeDir, startTestServer, type TestServer } from '../../helpers/server.js';
import { skipBecause } from '../../helpers/skip-log.js';

const SENT = [
  'Cats sleep most of the day.',
  'Dogs bark at the mail carrier.',
  'Solar panels turn light into power.',
  'Rivers carve deep canyons.',
  'Heart disease raises blood pressure.',
];
const long = (shift: number, n: number) =>
  Array.from({ length: n }, (_, i) => `${SENT[(i + shift) % SENT.length].slice(0, -1)} number ${i + shift}.`).join(' ');
const DOCS = Array.from({ length: 12 }, (_, d) => ({
  _id: `d${d}`,
  title: `Notes ${d}`,
  text: long(d, 6 + (d % 4) * 6),
  metadata: { kind: d % 2 ? 'odd' : 'even' },
}));
const PASSAGES = { tokens: 32, overlap: 8 };
const RETRIEVERS = {
  splade: { model: `dir:${TINY_MODEL}`, passages: PASSAGES },
  inference_free: { model: `dir:${TINY_MODEL}`, idf: 'collection', passages: PASSAGES },
  dense: { model: `dir:${TINY_DENSE}`, passages: { overlap: 4 }, approx: true },
};
const QUERIES = ['solar panels power', 'heart disease blood pressure', 'cats sleep', 'deep canyons number 7'];

interface Hit {
  _id: string;
  score: number;
  explain?: { terms: { contribution: number }[]; passage?: { index: number; start: number; end: number; passages: number; score: number } };
}

const skip = skipBecause(import.meta.url, 'MaxP on OpenSearch against embedded', OPENSEARCH_URL ? null : NO_OPENSEARCH);

describe.skipIf(skip !== null)('MaxP on OpenSearch against embedded', () => {
  let s: TestServer;
  const prefix = testPrefix();
  const hits = async (c: string, body: Record<string, unknown>): Promise<Hit[]> => {
    const r = await s.req('POST', `/v1/collections/${c}/search`, body);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.hits;
  };

  beforeAll(async () => {
    s = await startTestServer(backendEnv('opensearch', prefix));
    for (const [name, backend] of [
      ['emb', { kind: 'embedded' }],
      ['os', { kind: 'opensearch', shards: 2, replicas: 0 }],
    ] as const) {
      const c = await s.req('POST', '/v1/collections', { name, backend, retrievers: RETRIEVERS });
      expect(c.status, JSON.stringify(c.body)).toBe(201);
      expect(c.body.retrievers.splade.passages.score).toBe('max');
      const r = await s.ndjson(`/v1/collections/${name}/documents?wait=true`, ndjson(DOCS));
      expect(r.body.indexed, JSON.stringify(r.body)).toBe(DOCS.length);
      expect(r.body.encoding.splade.passages).toBeGreaterThan(DOCS.length);
    }
  }, 120_000);

  afterAll(async () => {
    await s?.close();
    if (s) removeDir(s.dataDir);
    await dropIndices(prefix);
  });

  it('SPLADE and inference-free: the same documents by their best passage, scores within 9-bit weights', async () => {
    for (const retriever of ['splade', 'inference_free'])
      for (const query of QUERIES) {
        const a = await hits('emb', { query, k: 20, retriever });
        const b = await hits('os', { query, k: 8, retriever });
        expectSameRanking(a, b, 2 ** -7, 8, `${retriever} '${query}'`);
      }
  });

  it('dense: the exact top-k by best passage, and the nested HNSW walk finds it', async () => {
    for (const query of QUERIES) {
      const a = await hits('emb', { query, k: 20, retriever: 'dense', mode: 'exact' });
      const b = await hits('os', { query, k: 8, retriever: 'dense', mode: 'exact' });
      expectSameRanking(a, b, 1e-5, 8, `dense '${query}'`);
      const c = await hits('os', { query, k: 8, retriever: 'dense', mode: 'approx', approx: { ef: 100 } });
      // Twelve documents, ef 100: the walk sees every passage, so the approximate list is the exact one.
      expectSameRanking(a, c, 1e-5, 8, `dense approx '${query}'`);
    }
  });

  it('explain names the same passage, and its terms sum to the score', async () => {
    for (const retriever of ['splade', 'dense']) {
      const a = await hits('emb', { query: QUERIES[0], k: 5, retriever, explain: true });
      const b = await hits('os', { query: QUERIES[0], k: 5, retriever, explain: true });
      for (const h of b) {
        const e = a.find((x) => x._id === h._id)!;
        if (!e.explain?.passage) {
          expect(h.explain).not.toHaveProperty('passage');
          continue;
        }
        expect(h.explain!.passage).toMatchObject({
          index: e.explain.passage.index,
          start: e.explain.passage.start,
          end: e.explain.passage.end,
          passages: e.explain.passage.passages,
        });
        expect(h.explain!.passage!.score).toBeCloseTo(h.score, 4);
        if (retriever === 'splade') expect(h.explain!.terms.reduce((x, t) => x + t.contribution, 0)).toBeCloseTo(h.score, 4);
      }
    }
  });

  it('a filter on the document applies to its passages; a delete removes them all', async () => {
    for (const retriever of ['splade', 'dense']) {
      const a = await hits('emb', { query: QUERIES[1], k: 8, retriever, filter: { kind: 'odd' } });
      const b = await hits('os', { query: QUERIES[1], k: 8, retriever, filter: { kind: 'odd' } });
      expect(b.map((h) => h._id)).toEqual(a.map((h) => h._id));
      expect(b.every((h) => Number(h._id.slice(1)) % 2 === 1)).toBe(true);
    }
    const top = (await hits('os', { query: QUERIES[0], k: 1, retriever: 'splade' }))[0]._id;
    for (const c of ['emb', 'os']) expect((await s.req('DELETE', `/v1/collections/${c}/documents/${top}`)).body).toEqual({ deleted: 1 });
    for (const retriever of ['splade', 'inference_free', 'dense']) {
      const a = await hits('emb', { query: QUERIES[0], k: 20, retriever });
      const b = await hits('os', { query: QUERIES[0], k: 8, retriever });
      expect(b.map((h) => h._id)).not.toContain(top);
      expectSameRanking(a, b, retriever === 'dense' ? 1e-5 : 2 ** -7, 8, `${retriever} after the delete`);
    }
  });
});
