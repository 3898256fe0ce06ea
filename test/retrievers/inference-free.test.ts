// The inference-free kind (src/retrievers/inference-free.ts), the kind added to show that a kind is
// one file and a registry line: documents through the sparse model at ingest, queries through no
// model (unique tokens weighted by the model's idf.json, or by IDF over the retriever's documents).
// Rankings are checked by brute force against the in-process encoder's document vectors.
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpladeEncoder } from '../../src/encoder/sparse/splade-encoder.js';
import { idf } from '../../src/text/bm25.js';
import { TINY_MODEL } from '../encoder/fixture.js';
import { ndjson, removeDir, startTestServer, tempDir, type TestServer } from '../helpers/server.js';

const DOCS = [
  { _id: 'd1', title: 'Cats and kittens', text: 'Cats sleep. Kittens play with water.', metadata: { kind: 'pet' } },
  { _id: 'd2', title: 'Dogs', text: 'Dogs bark at cats and chase birds.', metadata: { kind: 'pet' } },
  { _id: 'd3', title: 'Solar power', text: 'Light from the sun is converted into energy.', metadata: { kind: 'science' } },
  { _id: 'd4', title: 'Cancer genes', text: 'Gene expression in mice with cancer was increased.', metadata: { kind: 'science' } },
  { _id: 'd5', title: 'Heart disease', text: 'Blood pressure and heart disease risk in patients.', metadata: { kind: 'science' } },
];

let s: TestServer;
let enc: SpladeEncoder;
let docVecs: Map<string, Map<number, number>>;
const modelDir = tempDir('lsr-idf-model-');
/** The idf.json written into the copied model: a weight for a few tokens only. */
let modelIdf: Map<number, number>;

function ranking(q: Map<number, number>): { id: string; score: number }[] {
  return [...docVecs]
    .map(([id, v]) => ({ id, score: [...q].reduce((a, [t, w]) => a + w * (v.get(t) ?? 0), 0) }))
    .filter((h) => h.score > 0)
    .sort((a, b) => b.score - a.score || a.id.localeCompare(b.id));
}

function expectRanking(hits: { _id: string; score: number }[], want: { id: string; score: number }[]): void {
  expect(hits.map((h) => h._id)).toEqual(want.map((h) => h.id));
  hits.forEach((h, i) => expect(h.score).toBeCloseTo(want[i].score, 4));
}

/** The query's unique non-special tokens that some document has. */
function queryTokens(text: string): number[] {
  const ids = new Set(enc.tokenize([text])[0].filter((i) => !enc.tokenizer.isSpecial(i)));
  return [...ids].filter((t) => [...docVecs.values()].some((v) => v.has(t)));
}

beforeAll(async () => {
  enc = await SpladeEncoder.load(TINY_MODEL);
  const v = await enc.encode(DOCS.map((d) => `${d.title} ${d.text}`));
  docVecs = new Map(
    DOCS.map((d, x) => {
      const m = new Map<number, number>();
      for (let i = v.offsets[x]; i < v.offsets[x + 1]; i++) m.set(v.terms[i], v.weights[i]);
      return [d._id, m];
    }),
  );
  cpSync(TINY_MODEL, modelDir, { recursive: true });
  const weights: Record<string, number> = {};
  modelIdf = new Map();
  queryTokens('cats cancer heart disease').forEach((t, i) => {
    const w = 0.5 + i;
    weights[enc.tokenizer.token(t)] = w;
    modelIdf.set(t, w);
  });
  writeFileSync(join(modelDir, 'idf.json'), JSON.stringify({ ...weights, '[PAD]': 0.3, 'not-a-token-here': 9 }));

  // The copied model lies in a temporary folder, outside the default model roots.
  s = await startTestServer({ LSR_MODEL_ROOTS: modelDir });
  for (const [name, model] of [
    ['free', `dir:${TINY_MODEL}`],
    ['doconly', `dir:${modelDir}`],
  ]) {
    const c = await s.req('POST', '/v1/collections', {
      name,
      retrievers: { inference_free: { model } },
      default_retriever: 'inference_free',
    });
    expect(c.status).toBe(201);
    const r = await s.ndjson(`/v1/collections/${name}/documents?wait=true`, ndjson(DOCS));
    expect(r.body.indexed).toBe(DOCS.length);
  }
});

afterAll(async () => {
  await s.close();
  removeDir(s.dataDir);
  removeDir(modelDir);
  await enc.close();
});

describe('inference_free retriever', () => {
  it('picks its query weights: the model idf.json when the folder has one, else the collection', async () => {
    expect((await s.req('GET', '/v1/collections/free')).body.retrievers.inference_free).toEqual({
      model: `dir:${TINY_MODEL}`,
      idf: 'collection',
    });
    expect((await s.req('GET', '/v1/collections/doconly')).body.retrievers.inference_free).toEqual({
      model: `dir:${modelDir}`,
      idf: 'model',
    });
  });

  it('collection IDF: the unique query tokens weighted by IDF over its documents, exact dot-product ranking', async () => {
    const query = 'cats cats cancer heart disease water energy sun mice';
    const live = [...docVecs.keys()];
    const q = new Map(queryTokens(query).map((t) => [t, idf(live.filter((id) => docVecs.get(id)!.has(t)).length, live.length)]));
    expect(q.size).toBeGreaterThan(0);
    const r = await s.req('POST', '/v1/collections/free/search', { query, k: 10, explain: true });
    expect(r.status).toBe(200);
    expect(r.body.retriever).toBe('inference_free');
    expectRanking(r.body.hits, ranking(q));
    const top = r.body.hits[0];
    expect(top.explain.terms.reduce((a: number, t: { contribution: number }) => a + t.contribution, 0)).toBeCloseTo(top.score, 4);
  });

  it("model IDF: the weights are the model's idf.json, tokens without a weight are left out", async () => {
    const query = 'cats cancer heart disease water';
    const q = new Map(
      queryTokens(query)
        .filter((t) => modelIdf.has(t))
        .map((t) => [t, modelIdf.get(t)!]),
    );
    const r = await s.req('POST', '/v1/collections/doconly/search', { query, k: 10, explain: true });
    expectRanking(r.body.hits, ranking(q));
    for (const h of r.body.hits)
      for (const t of h.explain.terms) expect(t.query_weight).toBeCloseTo(modelIdf.get(enc.tokenizer.idOf(t.term)!)!, 6);
  });

  it('filters and fuses like every retriever', async () => {
    const f = await s.req('POST', '/v1/collections/free/search', { query: 'cats heart', k: 10, filter: { kind: 'science' } });
    expect(f.body.hits.length).toBeGreaterThan(0);
    for (const h of f.body.hits) expect(['d3', 'd4', 'd5']).toContain(h._id);
    const h = await s.req('POST', '/v1/collections/free/search', {
      query: 'cats',
      k: 3,
      retrievers: [{ name: 'bm25' }, { name: 'inference_free' }],
      explain: true,
    });
    expect(h.status).toBe(200);
    expect(h.body.retrievers.map((x: { name: string }) => x.name)).toEqual(['bm25', 'inference_free']);
    expect(h.body.hits[0].explain.retrievers[1].name).toBe('inference_free');
  });

  it('refuses a model IDF the model does not have, and unknown settings, naming the field', async () => {
    const bad = await s.req('POST', '/v1/collections', {
      name: 'bad',
      retrievers: { inference_free: { model: `dir:${TINY_MODEL}`, idf: 'model' } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'INVALID_MODEL', field: 'retrievers.inference_free.idf' });
    const odd = await s.req('POST', '/v1/collections', {
      name: 'bad',
      retrievers: { inference_free: { model: `dir:${TINY_MODEL}`, idf: 'corpus' } },
    });
    expect(odd.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'retrievers.inference_free.idf' });
  });
});
