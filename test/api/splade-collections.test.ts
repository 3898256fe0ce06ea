// Collections with a sparse model on a real server: ingest encodes documents through the encoder
// pool, search encodes queries (siamese) or weighs their tokens by IDF (inference-free). Expected
// rankings are computed here by brute force from the in-process encoder's vectors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idf } from '../../src/text/bm25.js';
import type { SparseVectors } from '../../src/encoder/sparse/fused-head.js';
import { SpladeEncoder } from '../../src/encoder/sparse/splade-encoder.js';
import { Analyzer } from '../../src/text/analyzer.js';
import { ndjson, removeDir, startTestServer, type TestServer } from '../helpers/server.js';
import { TINY_MODEL } from '../encoder/fixture.js';

const MODEL = `dir:${TINY_MODEL}`;
const DOCS = [
  { _id: 'd1', title: 'Cats and kittens', text: 'Cats sleep. Kittens play with water.' },
  { _id: 'd2', title: 'Dogs', text: 'Dogs bark at cats and chase birds.' },
  { _id: 'd3', title: 'Solar power', text: 'Light from the sun is converted into energy.' },
  { _id: 'd4', title: 'Cancer genes', text: 'Gene expression in mice with cancer was increased.' },
  { _id: 'd5', title: 'Heart disease', text: 'Blood pressure and heart disease risk in patients.' },
  { _id: 'd6', title: '', text: 'the the the' },
];

let s: TestServer;
let enc: SpladeEncoder;
let docVecs: Map<string, Map<number, number>>;

function asMaps(v: SparseVectors, n: number): Map<number, number>[] {
  return Array.from({ length: n }, (_, x) => {
    const m = new Map<number, number>();
    for (let i = v.offsets[x]; i < v.offsets[x + 1]; i++) m.set(v.terms[i], v.weights[i]);
    return m;
  });
}

/** Ids by descending dot product of `q` with each live document vector, ties by id; zero scores dropped. */
function bruteForce(q: Map<number, number>, live: string[]): { id: string; score: number }[] {
  return live
    .map((id) => {
      let score = 0;
      for (const [t, w] of q) score += w * (docVecs.get(id)!.get(t) ?? 0);
      return { id, score };
    })
    .filter((h) => h.score > 0)
    .sort((a, b) => b.score - a.score || a.id.localeCompare(b.id));
}

function expectRanking(hits: { _id: string; score: number }[], want: { id: string; score: number }[]): void {
  expect(hits.map((h) => h._id)).toEqual(want.map((h) => h.id));
  hits.forEach((h, i) => expect(h.score).toBeCloseTo(want[i].score, 4));
}

beforeAll(async () => {
  enc = await SpladeEncoder.load(TINY_MODEL);
  const vecs = asMaps(await enc.encode(DOCS.map((d) => `${d.title} ${d.text}`)), DOCS.length);
  docVecs = new Map(DOCS.map((d, i) => [d._id, vecs[i]]));
  s = await startTestServer();
  for (const [name, query] of [
    ['sp', 'siamese'],
    ['free', 'inference-free'],
    ['words', 'analyzer'],
  ]) {
    const c = await s.req('POST', '/v1/collections', {
      name,
      retrievers: { splade: { model: MODEL, query } },
      default_retriever: 'splade',
    });
    expect(c.status).toBe(201);
    expect(c.body.retrievers.splade).toEqual({ model: MODEL, query });
    const r = await s.ndjson(`/v1/collections/${name}/documents?wait=true`, ndjson(DOCS));
    expect(r.body.state).toBe('committed');
    expect(r.body.indexed).toBe(DOCS.length);
  }
});

afterAll(async () => {
  await s.close();
  removeDir(s.dataDir);
  await enc.close();
});

describe('collections with a SPLADE model', () => {
  it('siamese: the query goes through the model; hits are the exact dot-product ranking', async () => {
    const query = 'cats and dogs';
    const q = asMaps(await enc.encode([query]), 1)[0];
    const r = await s.req('POST', '/v1/collections/sp/search', { query, k: 10, explain: true });
    expect(r.status).toBe(200);
    expect(r.body.retriever).toBe('splade');
    expectRanking(
      r.body.hits,
      bruteForce(
        q,
        DOCS.map((d) => d._id),
      ),
    );
    // explain names model tokens and its contributions add up to the score
    const top = r.body.hits[0];
    const sum = top.explain.terms.reduce((a: number, t: { contribution: number }) => a + t.contribution, 0);
    expect(sum).toBeCloseTo(top.score, 4);
    for (const t of top.explain.terms) expect(enc.tokenizer.idOf(t.term)).toBeDefined();
  });

  it('inference-free: the query is its tokens weighted by IDF in the collection', async () => {
    const query = 'cats cancer heart';
    const ids = enc.tokenize([query])[0].filter((i) => !enc.tokenizer.isSpecial(i));
    const live = DOCS.map((d) => d._id);
    const df = (t: number) => live.filter((id) => docVecs.get(id)!.has(t)).length;
    const q = new Map<number, number>();
    for (const t of ids) if (df(t) > 0) q.set(t, (q.get(t) ?? 0) + idf(df(t), live.length));
    expect(q.size).toBeGreaterThan(0);
    const r = await s.req('POST', '/v1/collections/free/search', { query, k: 10 });
    expectRanking(r.body.hits, bruteForce(q, live));
  });

  it("analyzer: the same over BM25's analyzed words, stopwords dropped", async () => {
    const query = 'The cats and the CANCER';
    const words = new Analyzer({ stem: false }).analyze(query);
    expect(words).toEqual(['cats', 'cancer']);
    const ids = words.flatMap((w) => enc.tokenize([w])[0].filter((i) => !enc.tokenizer.isSpecial(i)));
    const live = DOCS.map((d) => d._id);
    const df = (t: number) => live.filter((id) => docVecs.get(id)!.has(t)).length;
    const q = new Map<number, number>();
    for (const t of ids) if (df(t) > 0) q.set(t, (q.get(t) ?? 0) + idf(df(t), live.length));
    const r = await s.req('POST', '/v1/collections/words/search', { query, k: 10 });
    expect(r.status).toBe(200);
    expectRanking(r.body.hits, bruteForce(q, live));
    // 'the' and 'and' are model tokens too: the inference-free mode keeps them, this one does not
    const free = await s.req('POST', '/v1/collections/free/search', { query, k: 10, explain: true });
    const words2 = await s.req('POST', '/v1/collections/words/search', { query, k: 10, explain: true });
    const terms = (hits: { explain: { terms: { term: string }[] } }[]) => new Set(hits.flatMap((h) => h.explain.terms.map((t) => t.term)));
    expect(terms(words2.body.hits).has('the')).toBe(false);
    expect(terms(free.body.hits).size).toBeGreaterThanOrEqual(terms(words2.body.hits).size);
  });

  it('deletes leave the SPLADE index and the IDF, and both survive a restart', async () => {
    const del = await s.req('DELETE', '/v1/collections/free/documents/d1');
    expect(del.status).toBe(200);
    const query = 'cats water';
    const live = DOCS.map((d) => d._id).filter((id) => id !== 'd1');
    const df = (t: number) => live.filter((id) => docVecs.get(id)!.has(t)).length;
    const ids = enc.tokenize([query])[0].filter((i) => !enc.tokenizer.isSpecial(i));
    const q = new Map<number, number>();
    for (const t of ids) if (df(t) > 0) q.set(t, (q.get(t) ?? 0) + idf(df(t), live.length));
    const before = await s.req('POST', '/v1/collections/free/search', { query, k: 10 });
    expectRanking(before.body.hits, bruteForce(q, live));

    const dataDir = s.dataDir;
    await s.close();
    s = await startTestServer({}, dataDir);
    const after = await s.req('POST', '/v1/collections/free/search', { query, k: 10 });
    expect(after.body.hits).toEqual(before.body.hits);
    const sp = await s.req('POST', '/v1/collections/sp/search', { query: 'cats and dogs', k: 3 });
    expect(sp.body.hits.length).toBe(3);
  });

  it('a vector query names model tokens; BM25 stays available', async () => {
    const r = await s.req('POST', '/v1/collections/sp/search', { vector: { cats: 1, '##ing': 0.5 }, k: 10 });
    expect(r.status).toBe(200);
    expectRanking(
      r.body.hits,
      bruteForce(
        new Map([
          [enc.tokenizer.idOf('cats')!, 1],
          [enc.tokenizer.idOf('##ing')!, 0.5],
        ]),
        DOCS.map((d) => d._id),
      ),
    );
    const bm25 = await s.req('POST', '/v1/collections/sp/search', { query: 'kittens', retriever: 'bm25' });
    expect(bm25.body.hits.map((h: { _id: string }) => h._id)).toEqual(['d1']);
  });

  it('refuses a missing model or an unknown query mode, naming the field', async () => {
    const bad = await s.req('POST', '/v1/collections', { name: 'bad', retrievers: { splade: { model: 'dir:/nonexistent' } } });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'INVALID_MODEL', field: 'retrievers.splade.model' });
    const mode = await s.req('POST', '/v1/collections', { name: 'bad', retrievers: { splade: { model: MODEL, query: 'telepathy' } } });
    expect(mode.status).toBe(400);
    const def = await s.req('POST', '/v1/collections', { name: 'bad', default_retriever: 'splade' });
    expect(def.body).toMatchObject({ code: 'UNKNOWN_RETRIEVER', field: 'default_retriever' });
    expect((await s.req('GET', '/v1/collections/bad')).status).toBe(404);
  });
});
