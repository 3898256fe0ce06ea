// `passages.score: 'max'` (MaxP) over the API, on the real encoders (the tiny fixtures): every passage
// of a long document is indexed, and the document's score is the best passage's, as encoding each
// passage alone (cut here with the model's own tokenizer) and scoring it against the query gives.
// Explain names that passage and breaks its score into terms; filters, deletes, hybrid fusion,
// dense verification and pseudo-relevance feedback see documents, never passages.
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
const long = (shift: number) => Array.from({ length: 24 }, (_, i) => `${SENT[(i + shift) % 4].slice(0, -1)} number ${i}.`).join(' ');
const DOCS = [
  { _id: 'long', title: 'Notes', text: long(0), metadata: { kind: 'a' } },
  { _id: 'long2', title: 'Notes', text: long(1), metadata: { kind: 'b' } },
  { _id: 'short', title: 'Notes', text: 'Solar cats purr.', metadata: { kind: 'a' } },
  { _id: 'other', title: 'Misc', text: 'Mail carriers walk far.', metadata: { kind: 'b' } },
];
const SPARSE = { tokens: 32, overlap: 8 };
const DENSE = { overlap: 4 };
const QUERY = 'solar panels power number 13';

interface Hit {
  _id: string;
  score: number;
  explain: Record<string, unknown>;
}

describe('passages scored by their best (MaxP) over the API', () => {
  let s: TestServer;
  const encoders = new EncoderRegistry({ workers: 1, threads: 1 });

  beforeAll(async () => {
    s = await startTestServer();
    const made = await s.req('POST', '/v1/collections', {
      name: 'maxp',
      retrievers: {
        bm25: {},
        splade: { model: `dir:${TINY_MODEL}`, passages: SPARSE },
        dense: { model: `dir:${TINY_DENSE}`, passages: DENSE },
      },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body.retrievers.splade.passages).toEqual({ ...SPARSE, score: 'max' });
    const r = await s.ndjson('/v1/collections/maxp/documents?wait=true', ndjson(DOCS));
    expect(r.body.indexed).toBe(4);
    expect(r.body.encoding.splade.truncated).toBe(0);
  });
  afterAll(async () => {
    await encoders.close();
    await s?.close();
    if (s) removeDir(s.dataDir);
  });

  /** The passages of a document's model text (its fields joined by a space), cut with the model's tokenizer. */
  async function spansOf(dir: string, text: string, budget: number, overlap: number) {
    const tok = await SpladeTokenizer.load(dir);
    return passageSpans(text, (x) => tok.ids(x, Number.MAX_SAFE_INTEGER).length - 2, budget, overlap);
  }

  /** Each passage's sparse score against the siamese query, encoded one by one. */
  async function sparseScores(text: string) {
    const spans = await spansOf(TINY_MODEL, text, SPARSE.tokens, SPARSE.overlap);
    const pool = await encoders.sparse(`dir:${TINY_MODEL}`);
    const q = await pool.encode([QUERY]);
    const v = await pool.encode(spans.map((x) => x.text));
    const weight = (i: number, t: number) => {
      for (let j = v.offsets[i]; j < v.offsets[i + 1]; j++) if (v.terms[j] === t) return v.weights[j];
      return 0;
    };
    return { spans, scores: spans.map((_, i) => Array.from(q.terms).reduce((a, t, j) => a + q.weights[j] * weight(i, t), 0)) };
  }

  async function denseScores(text: string) {
    const spans = await spansOf(TINY_DENSE, text, 46, DENSE.overlap);
    const pool = await encoders.dense(`dir:${TINY_DENSE}`);
    const q = await pool.encodeQueries([QUERY]);
    const v = await pool.encodeDocuments(spans.map((x) => x.text));
    return { spans, scores: spans.map((_, i) => q.reduce((a, x, k) => a + x * v[i * pool.dim + k], 0)) };
  }

  const search = async (body: object) => {
    const r = await s.req('POST', '/v1/collections/maxp/search', { query: QUERY, ...body });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.hits as Hit[];
  };

  it('sparse: a long document scores as its best passage; explain names it and its terms sum to the score', async () => {
    const hits = await search({ retriever: 'splade', k: 10, explain: true });
    expect(new Set(hits.map((h) => h._id)).size).toBe(hits.length);
    for (const id of ['long', 'long2']) {
      const d = DOCS.find((x) => x._id === id)!;
      const { spans, scores } = await sparseScores(`${d.title} ${d.text}`);
      expect(spans.length).toBeGreaterThan(3);
      const best = scores.indexOf(Math.max(...scores));
      const hit = hits.find((h) => h._id === id)!;
      expect(hit.score).toBeCloseTo(scores[best], 3);
      const p = hit.explain.passage as { index: number; start: number; end: number; score: number; passages: number; terms?: unknown };
      expect(p).toMatchObject({ index: best, start: spans[best].start, end: spans[best].end, passages: spans.length });
      expect(p.terms).toBeUndefined();
      expect(p.score).toBeCloseTo(hit.score, 5);
      const terms = hit.explain.terms as { contribution: number }[];
      expect(terms.reduce((a, t) => a + t.contribution, 0)).toBeCloseTo(hit.score, 4);
    }
  });

  it('dense: a long document scores as its best passage by inner product', async () => {
    const hits = await search({ retriever: 'dense', k: 10, explain: true });
    expect(hits.map((h) => h._id).sort()).toEqual(['long', 'long2', 'other', 'short']);
    for (const id of ['long', 'long2']) {
      const d = DOCS.find((x) => x._id === id)!;
      const { spans, scores } = await denseScores(`${d.title} ${d.text}`);
      const best = scores.indexOf(Math.max(...scores));
      const hit = hits.find((h) => h._id === id)!;
      expect(hit.score).toBeCloseTo(scores[best], 4);
      expect(hit.explain.passage).toMatchObject({ index: best, start: spans[best].start, end: spans[best].end, passages: spans.length });
    }
  });

  it('filters, hybrid fusion, verification and feedback see documents', async () => {
    const filtered = await search({ retriever: 'dense', k: 10, filter: { kind: 'a' } });
    expect(filtered.map((h) => h._id).sort()).toEqual(['long', 'short']);
    const fused = await search({ retrievers: [{ name: 'bm25' }, { name: 'splade' }, { name: 'dense' }], k: 10, explain: true });
    expect(new Set(fused.map((h) => h._id)).size).toBe(fused.length);
    const parts = fused.find((h) => h._id === 'long')!.explain.retrievers as { name: string; passage?: { passages: number } }[];
    expect(parts.find((x) => x.name === 'dense')!.passage!.passages).toBeGreaterThan(3);
    // Verification re-scores with the dense model's exact inner product: for MaxP, the best passage's.
    const dense = await search({ retriever: 'dense', k: 10 });
    const verified = await search({ retriever: 'bm25', k: 10, explain: true, verify: { candidates: 10 } });
    for (const h of verified) {
      const v = (h.explain.verify as { dense_score: number | null }).dense_score;
      const want = dense.find((x) => x._id === h._id);
      if (want) expect(v).toBeCloseTo(want.score, 4);
    }
    const prf = await search({ retriever: 'splade', k: 5, explain: true, prf: { docs: 2, terms: 5 } });
    expect(prf.length).toBeGreaterThan(0);
  });

  it('a deleted document leaves no passage behind; an upsert replaces all of them', async () => {
    expect((await s.req('DELETE', '/v1/collections/maxp/documents/long')).body).toEqual({ deleted: 1 });
    for (const retriever of ['splade', 'dense']) expect((await search({ retriever, k: 10 })).map((h) => h._id)).not.toContain('long');
    const up = await s.ndjson('/v1/collections/maxp/documents?wait=true', ndjson([{ _id: 'long2', title: 'Notes', text: 'Cats only.' }]));
    expect(up.body.indexed).toBe(1);
    const hit = (await search({ retriever: 'dense', k: 10, explain: true })).find((h) => h._id === 'long2')!;
    // One passage now: no passage field, and the score is the short text's.
    expect(hit.explain).not.toHaveProperty('passage');
    const { scores } = await denseScores('Notes Cats only.');
    expect(hit.score).toBeCloseTo(scores[0], 4);
  });
});
