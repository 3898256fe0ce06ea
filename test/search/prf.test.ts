// Pseudo-relevance feedback on a real collection (BM25, the tiny SPLADE and dense fixtures): RM3's
// expanded query worked out by hand from its definition (Anserini's), the learned sparse and dense
// expansions from the documents' own vectors, the expanded query searched as given, the hybrid
// request's interpolation (where the feedback comes from, which lists are fused), and the errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/collections/collection-config.js';
import { Collection } from '../../src/collections/collection.js';
import { prepareDocument } from '../../src/collections/documents.js';
import { EncoderRegistry } from '../../src/encoder/encoder-registry.js';
import { isServiceError } from '../../src/errors.js';
import type { ExpansionTerm } from '../../src/search/prf.js';
import { searchAsync, type SearchRequest } from '../../src/search/search.js';
import { TINY_DENSE } from '../encoder/dense/dense-reference.js';
import { TINY_MODEL } from '../encoder/fixture.js';
import { removeDir, tempDir } from '../helpers/temp-dir.js';

// 20 documents: RM3 drops a term held by more than 10% of them (more than 2 here).
const TEXTS = [
  'zinc copper copper silver common',
  'zinc silver nickel common',
  'gold cobalt tin',
  'gold lead common',
  ...Array.from({ length: 16 }, (_, i) => `filler${i} padding${i}`),
];

const quiet = { info() {}, warn() {}, error() {} };
let dir: string;
let encoders: EncoderRegistry;
let c: Collection;

beforeAll(async () => {
  dir = tempDir('lsr-prf-');
  encoders = new EncoderRegistry({ workers: 1 });
  c = await Collection.create(
    dir,
    buildConfig({
      name: 'p',
      retrievers: {
        splade: { model: `dir:${TINY_MODEL}` },
        dense: { model: `dir:${TINY_DENSE}` },
        inference_free: { model: `dir:${TINY_MODEL}`, idf: 'collection' },
      },
    }),
    quiet,
    encoders,
  );
  await c.write(
    TEXTS.map((text, i) => prepareDocument({ _id: `d${i}`, text }, c.config, c.analyzer)),
    null,
  );
});

afterAll(async () => {
  await c?.close();
  await encoders?.close();
  if (dir) removeDir(dir);
});

const ids = (r: { hits: { _id: string }[] }) => r.hits.map((h) => h._id);

async function refused(req: SearchRequest): Promise<{ code: string; field?: string; message: string }> {
  try {
    await searchAsync(c, req);
  } catch (e) {
    if (isServiceError(e)) return { code: e.code, field: e.field, message: e.message };
    throw e;
  }
  throw new Error('the request was not refused');
}

describe('RM3 for BM25', () => {
  it('builds the expanded query of its definition, and searches it as a weighted BM25 query', async () => {
    const first = await searchAsync(c, { query: 'zinc', retriever: 'bm25', k: 2 });
    expect(ids(first).sort()).toEqual(['d0', 'd1']);
    const score = new Map(first.hits.map((h) => [h._id, h.score]));
    const s0 = score.get('d0')!,
      s1 = score.get('d1')!;
    const r = await searchAsync(c, { query: 'zinc', retriever: 'bm25', k: 5, explain: true, prf: { docs: 2 } });
    // d0: zinc 1, copper 2, silver 1 (common is in 3 of 20 documents: dropped) -> length 4;
    // d1: zinc 1, silver 1, nickel 1 -> length 3; each term's tf / length, times the document's score.
    const rm: Record<string, number> = {
      zinc: s0 / 4 + s1 / 3,
      copper: (2 * s0) / 4,
      silver: s0 / 4 + s1 / 3,
      nickel: s1 / 3,
    };
    const sum = Object.values(rm).reduce((a, b) => a + b, 0);
    const want = Object.entries(rm)
      .map(([term, w]) => ({
        term,
        query_weight: term === 'zinc' ? 0.5 : 0,
        feedback_weight: (0.5 * w) / sum,
        weight: (term === 'zinc' ? 0.5 : 0) + (0.5 * w) / sum,
      }))
      .sort((a, b) => b.weight - a.weight || a.term.localeCompare(b.term));
    expect(r.prf).toHaveLength(1);
    const p = r.prf![0];
    expect(p).toMatchObject({ retriever: 'bm25', method: 'rm3', source: 'own', weight: 0.5, feedback: ids(first) });
    expect(p.terms!.map((t) => t.term)).toEqual(want.map((t) => t.term));
    p.terms!.forEach((t: ExpansionTerm, i: number) => {
      expect(t.weight).toBeCloseTo(want[i].weight, 6);
      expect(t.query_weight).toBeCloseTo(want[i].query_weight, 6);
      expect(t.feedback_weight).toBeCloseTo(want[i].feedback_weight, 6);
    });
    // The same query given as a client vector scores the same documents the same.
    const vector = Object.fromEntries(want.map((t) => [t.term, t.weight]));
    const direct = await searchAsync(c, { vector, retriever: 'bm25', k: 5 });
    expect(ids(r)).toEqual(ids(direct));
    r.hits.forEach((h, i) => expect(h.score).toBeCloseTo(direct.hits[i].score, 5));
    // Explain's per-hit terms are the expanded query's.
    const d0 = r.hits.find((h) => h._id === 'd0')!;
    expect((d0.explain as { terms: { term: string }[] }).terms.map((t) => t.term).sort()).toEqual(['copper', 'silver', 'zinc']);
  });

  it('prunes each document and the model to `terms`, and weight 1 keeps the query alone', async () => {
    const first = await searchAsync(c, { query: 'zinc', retriever: 'bm25', k: 2 });
    const score = new Map(first.hits.map((h) => [h._id, h.score]));
    const r = await searchAsync(c, { query: 'zinc', retriever: 'bm25', k: 3, explain: true, prf: { docs: 2, terms: 1 } });
    // Pruned to one term each: d0 keeps copper (tf 2 of 2 kept: d0's score), d1 nickel (three ties at
    // tf 1, broken by term: nickel < silver < zinc; d1's score); the model keeps the heavier one.
    const kept = score.get('d0')! > score.get('d1')! ? 'copper' : 'nickel';
    expect(r.prf![0].terms!.map((t) => t.term).sort()).toEqual([kept, 'zinc'].sort());
    const same = await searchAsync(c, { query: 'zinc', retriever: 'bm25', k: 3, prf: { weight: 1 } });
    const plain = await searchAsync(c, { query: 'zinc', retriever: 'bm25', k: 3 });
    expect(ids(same)).toEqual(ids(plain));
    same.hits.forEach((h, i) => expect(h.score).toBeCloseTo(plain.hits[i].score, 5));
  });
});

describe('feedback for learned sparse and dense retrievers', () => {
  it('terms: the query plus the mean of the feedback vectors pruned to its heaviest tokens', async () => {
    const r = await searchAsync(c, { query: 'gold', retriever: 'splade', k: 4, explain: true, prf: { docs: 2, terms: 5 } });
    const p = r.prf![0];
    expect(p.method).toBe('terms');
    const splade = c.retriever('splade')!;
    const first = await searchAsync(c, { query: 'gold', retriever: 'splade', k: 2 });
    expect(p.feedback).toEqual(ids(first));
    const vecs = (await splade.encodeDocuments(p.feedback.map((id) => TEXTS[Number(id.slice(1))])))!.vectors;
    const mean = new Map<number, number>();
    for (const v of vecs as { terms: Uint32Array; weights: Float32Array }[])
      v.terms.forEach((t, j) => mean.set(t, (mean.get(t) ?? 0) + v.weights[j] / 2));
    const top = [...mean].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, 5);
    const q = await splade.encodeQuery({ query: 'gold' }, 'vector');
    if (q.shape !== 'sparse') throw new Error('sparse query expected');
    const want = new Map<number, number>();
    q.query.terms.forEach((t, j) => want.set(t, 0.5 * q.query.weights[j]));
    for (const [t, w] of top) want.set(t, (want.get(t) ?? 0) + 0.5 * w);
    const total = [...want.values()].reduce((a, b) => a + b, 0);
    expect(p.terms!.length).toBe(want.size);
    expect(p.terms!.reduce((a, t) => a + t.weight, 0)).toBeCloseTo(total, 4);
    expect(p.terms![0].weight).toBeCloseTo(Math.max(...want.values()), 5);
  });

  it('terms for an inference-free retriever: its query tokens plus the feedback tokens, searched as one query', async () => {
    const r = await searchAsync(c, { query: 'gold', retriever: 'inference_free', k: 4, explain: true, prf: { docs: 2, terms: 3 } });
    const p = r.prf![0];
    expect(p.method).toBe('terms');
    const first = await searchAsync(c, { query: 'gold', retriever: 'inference_free', k: 2 });
    expect(p.feedback).toEqual(ids(first));
    const expansion = p.terms!.filter((t) => t.feedback_weight > 0);
    expect(expansion).toHaveLength(3);
    expect(p.terms!.filter((t) => t.query_weight > 0).length).toBeGreaterThan(0);
    // Each hit's terms are those of the expanded query.
    const known = new Set(p.terms!.map((t) => t.term));
    for (const h of r.hits) for (const t of (h.explain as { terms: { term: string }[] }).terms) expect(known.has(t.term)).toBe(true);
  });

  it('rocchio: weight × query + (1 − weight) × the mean of the feedback vectors, searched as a dense vector', async () => {
    const dense = c.retriever('dense')!;
    const r = await searchAsync(c, { query: 'cobalt tin', retriever: 'dense', k: 6, explain: true, prf: { weight: 0.4 } });
    expect(r.prf![0]).toMatchObject({ method: 'rocchio', weight: 0.4 });
    expect(r.prf![0].feedback).toHaveLength(3);
    const q = await dense.encodeQuery({ query: 'cobalt tin' }, 'dense_vector');
    if (q.shape !== 'dense') throw new Error('dense query expected');
    const docs = (await dense.encodeDocuments(r.prf![0].feedback.map((id) => TEXTS[Number(id.slice(1))])))!.vectors as Float32Array[];
    const v = Array.from(q.vector, (x, j) => 0.4 * x + (0.6 / 3) * docs.reduce((a, d) => a + d[j], 0));
    const direct = await searchAsync(c, { dense_vector: v, retriever: 'dense', k: 6 });
    expect(ids(r)).toEqual(ids(direct));
    r.hits.forEach((h, i) => expect(h.score).toBeCloseTo(direct.hits[i].score, 4));
  });
});

describe('interpolation before, after or both', () => {
  const retrievers = (prf: object) => [
    { name: 'bm25', window: 10, prf },
    { name: 'dense', window: 10 },
  ];
  const fusion = { method: 'convex' as const, normalization: 'min_max' as const };

  it('after: feedback from the retriever own list; every list fused', async () => {
    const r = await searchAsync(c, {
      query: 'gold tin',
      k: 5,
      explain: true,
      retrievers: retrievers({ docs: 2 }),
      fusion: { ...fusion, interpolate: 'after' },
    });
    const own = await searchAsync(c, { query: 'gold tin', retriever: 'bm25', k: 2 });
    expect(r.prf![0]).toMatchObject({ source: 'own', feedback: ids(own) });
    expect(r.retrievers!.map((x) => x.name)).toEqual(['bm25', 'dense']);
    expect(r.fusion!.interpolate).toBe('after');
  });

  it('before and both: feedback from the fused first lists; before fuses the expanded retriever alone', async () => {
    const plain = await searchAsync(c, {
      query: 'gold tin',
      k: 2,
      retrievers: retrievers(undefined as unknown as object).map(({ name, window }) => ({ name, window })),
      fusion,
    });
    const before = await searchAsync(c, {
      query: 'gold tin',
      k: 5,
      explain: true,
      retrievers: retrievers({ docs: 2 }),
      fusion: { ...fusion, interpolate: 'before' },
    });
    expect(before.prf![0]).toMatchObject({ source: 'fusion', feedback: ids(plain) });
    expect(before.retrievers!.map((x) => x.name)).toEqual(['bm25']);
    // One list fused by min-max keeps its order: the expanded BM25 query's own ranking.
    const vector = Object.fromEntries(before.prf![0].terms!.map((t) => [t.term, t.weight]));
    const expanded = await searchAsync(c, { vector, retriever: 'bm25', k: 5 });
    expect(ids(before)).toEqual(ids(expanded));
    const both = await searchAsync(c, {
      query: 'gold tin',
      k: 5,
      explain: true,
      retrievers: retrievers({ docs: 2 }),
      fusion: { ...fusion, interpolate: 'both' },
    });
    expect(both.prf![0]).toMatchObject({ source: 'fusion', feedback: ids(plain) });
    expect(both.retrievers!.map((x) => x.name)).toEqual(['bm25', 'dense']);
  });
});

describe('errors name the field', () => {
  it('refuses what a retriever cannot take and misplaced options', async () => {
    expect(await refused({ query: 'gold', retriever: 'bm25', prf: { method: 'rocchio' } })).toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'prf.method',
    });
    expect(await refused({ query: 'gold', retriever: 'dense', prf: { terms: 5 } })).toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'prf.terms',
    });
    expect(await refused({ query: 'gold', retriever: 'bm25', prf: { docs: 0 } })).toMatchObject({ field: 'prf.docs' });
    expect(await refused({ query: 'gold', retriever: 'bm25', prf: { weight: 2 } })).toMatchObject({ field: 'prf.weight' });
    expect(await refused({ query: 'gold', retriever: 'bm25', prf: { depth: 2 } as object })).toMatchObject({ field: 'prf.depth' });
    expect(await refused({ query: 'gold', retrievers: [{ name: 'bm25' }], prf: {} })).toMatchObject({ field: 'prf' });
    expect(await refused({ query: 'gold', retrievers: [{ name: 'bm25' }, { name: 'dense', prf: { method: 'rm3' } }] })).toMatchObject({
      field: 'retrievers[1].prf.method',
    });
    expect(await refused({ query: 'gold', retrievers: [{ name: 'bm25' }], fusion: { method: 'rrf', interpolate: 'both' } })).toMatchObject({
      field: 'fusion.interpolate',
    });
  });
});
