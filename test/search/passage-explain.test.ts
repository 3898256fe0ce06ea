// Explain names the passage that matched, for `passages.score: 'pooled'` (one vector per document;
// 'max' is test/backends/embedded/passage-side.test.ts): for a document of several passages, each hit's explain (and each retriever's part of a hybrid hit's) carries the best passage —
// its index, offsets in the document's text, score and the passage count — computed here again from
// the real encoders: the passages cut independently with the model's tokenizer, each encoded alone and
// scored against the query by inner product. A document within the window, or a retriever without
// `passages`, has no `passage` field.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EncoderRegistry } from '../../src/encoder/encoder-registry.js';
import { SpladeTokenizer } from '../../src/encoder/tokenizer.js';
import { passageSpans } from '../../src/text/passages.js';
import { TINY_DENSE } from '../encoder/dense/dense-reference.js';
import { TINY_MODEL } from '../encoder/fixture.js';
import { ndjson, removeDir, startTestServer, type TestServer } from '../helpers/server.js';

const SENT = [
  'Cats sleep most of the day.',
  'Dogs bark at the mail carrier.',
  'Solar panels turn light into power.',
  'Rivers carve deep canyons.',
];
/** 24 sentences: several passages of both fixtures (dense window 46 tokens, sparse passages of 32). */
const LONG = Array.from({ length: 24 }, (_, i) => `${SENT[i % 4].slice(0, -1)} number ${i}.`).join(' ');
const SHORT = 'Solar cats purr.';
const TITLE = 'Notes';
const SPARSE = { tokens: 32, overlap: 8, score: 'pooled' };
const DENSE = { overlap: 4, score: 'pooled' };
const QUERY = 'solar panels power number 13';

interface Passage {
  index: number;
  start: number;
  end: number;
  score: number;
  passages: number;
  terms?: { term: string; passage: number }[];
}

describe('explain: the passage that matched', () => {
  let s: TestServer;
  const encoders = new EncoderRegistry({ workers: 1, threads: 1 });
  // The model text of a document: its fields in the collection's order joined by a space.
  const text = `${TITLE} ${LONG}`;

  beforeAll(async () => {
    s = await startTestServer();
    const made = await s.req('POST', '/v1/collections', {
      name: 'long',
      retrievers: { splade: { model: `dir:${TINY_MODEL}`, passages: SPARSE }, dense: { model: `dir:${TINY_DENSE}`, passages: DENSE } },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const docs = [
      { _id: 'long', title: TITLE, text: LONG },
      { _id: 'short', title: TITLE, text: SHORT },
    ];
    expect((await s.ndjson('/v1/collections/long/documents?wait=true', ndjson(docs))).body.indexed).toBe(2);
    const plain = await s.req('POST', '/v1/collections', { name: 'plain', retrievers: { dense: { model: `dir:${TINY_DENSE}` } } });
    expect(plain.status).toBe(201);
    await s.ndjson('/v1/collections/plain/documents?wait=true', ndjson(docs));
  });
  afterAll(async () => {
    await encoders.close();
    await s?.close();
    if (s) removeDir(s.dataDir);
  });

  /** The passages of `text` as ingest cuts them, cut here with the model's own tokenizer. */
  async function spansOf(dir: string, budget: number, overlap: number) {
    const tok = await SpladeTokenizer.load(dir);
    return passageSpans(text, (x) => tok.ids(x, Number.MAX_SAFE_INTEGER).length - 2, budget, overlap);
  }

  const hitOf = (body: { hits: { _id: string; explain: Record<string, unknown> }[] }, id: string) => body.hits.find((h) => h._id === id)!;

  it('dense: the best passage by inner product with the query vector, its offsets and the passage count', async () => {
    const r = await s.req('POST', '/v1/collections/long/search', { query: QUERY, retriever: 'dense', k: 2, explain: true });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const p = hitOf(r.body, 'long').explain.passage as Passage;
    const spans = await spansOf(TINY_DENSE, 46, DENSE.overlap);
    expect(spans.length).toBeGreaterThan(3);
    const pool = await encoders.dense(`dir:${TINY_DENSE}`);
    const q = await pool.encodeQueries([QUERY]);
    const v = await pool.encodeDocuments(spans.map((x) => x.text));
    const scores = spans.map((_, i) => q.reduce((a, x, k) => a + x * v[i * pool.dim + k], 0));
    const best = scores.indexOf(Math.max(...scores));
    expect(p).toMatchObject({ index: best, start: spans[best].start, end: spans[best].end, passages: spans.length });
    expect(p.score).toBeCloseTo(scores[best], 5);
    expect(p.terms).toBeUndefined();
    // The short document fits its window: no passage field.
    expect(hitOf(r.body, 'short').explain).not.toHaveProperty('passage');
  });

  it('sparse: the best passage, and for each matched term the passage whose weight the pooled vector kept', async () => {
    const r = await s.req('POST', '/v1/collections/long/search', { query: QUERY, retriever: 'splade', k: 2, explain: true });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const hit = hitOf(r.body, 'long');
    const p = hit.explain.passage as Passage;
    const spans = await spansOf(TINY_MODEL, SPARSE.tokens, SPARSE.overlap);
    expect(spans.length).toBeGreaterThan(3);
    const pool = await encoders.sparse(`dir:${TINY_MODEL}`);
    const qv = await pool.encode([QUERY]); // siamese: the query encoded as a document is
    const v = await pool.encode(spans.map((x) => x.text));
    const weight = (i: number, t: number) => {
      for (let j = v.offsets[i]; j < v.offsets[i + 1]; j++) if (v.terms[j] === t) return v.weights[j];
      return 0;
    };
    const scores = spans.map((_, i) => Array.from(qv.terms).reduce((a, t, j) => a + qv.weights[j] * weight(i, t), 0));
    const best = scores.indexOf(Math.max(...scores));
    expect(p).toMatchObject({ index: best, start: spans[best].start, end: spans[best].end, passages: spans.length });
    expect(p.score).toBeCloseTo(scores[best], 4);
    // Every term explain matched is named with the passage that holds its largest weight.
    const terms = hit.explain.terms as { term: string; contribution: number }[];
    expect(terms.length).toBeGreaterThan(0);
    expect(p.terms!.map((x) => x.term).sort()).toEqual(terms.map((x) => x.term).sort());
    for (const { term, passage } of p.terms!) {
      const t = pool.tokenizer.idOf(term)!;
      const w = spans.map((_, i) => weight(i, t));
      expect(w[passage]).toBe(Math.max(...w));
    }
    // The best passage alone scores no more than the pooled (max per term) document.
    const pooled = terms.reduce((a, x) => a + x.contribution, 0);
    expect(p.score).toBeLessThanOrEqual(pooled + 1e-3);
  });

  it('hybrid: each retriever that ranked the document names its passage', async () => {
    const r = await s.req('POST', '/v1/collections/long/search', {
      query: QUERY,
      retrievers: [{ name: 'splade' }, { name: 'dense' }],
      k: 2,
      explain: true,
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const parts = hitOf(r.body, 'long').explain.retrievers as { name: string; passage?: Passage }[];
    const dense = (await spansOf(TINY_DENSE, 46, DENSE.overlap)).length;
    const sparse = (await spansOf(TINY_MODEL, SPARSE.tokens, SPARSE.overlap)).length;
    expect(parts.find((x) => x.name === 'dense')!.passage!.passages).toBe(dense);
    expect(parts.find((x) => x.name === 'splade')!.passage!.passages).toBe(sparse);
    for (const x of hitOf(r.body, 'short').explain.retrievers as { passage?: Passage }[]) expect(x).not.toHaveProperty('passage');
  });

  it('a retriever without passages has no passage field, even for a long document', async () => {
    const r = await s.req('POST', '/v1/collections/plain/search', { query: QUERY, retriever: 'dense', k: 2, explain: true });
    expect(r.status).toBe(200);
    expect(hitOf(r.body, 'long').explain).not.toHaveProperty('passage');
  });
});
