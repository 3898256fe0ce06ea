// Dense verification on a real collection (BM25 and the tiny dense fixture): the first stage's top
// candidates re-ranked by the inner products of the query with the documents' vectors (computed
// here from the model's own encodings), the mixed weighting, the first stage's tail kept below,
// explain's ranks before and after, a fusion verified, and the errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/collections/collection-config.js';
import { Collection } from '../../src/collections/collection.js';
import { prepareDocument } from '../../src/collections/documents.js';
import { EncoderRegistry } from '../../src/encoder/encoder-registry.js';
import { isServiceError } from '../../src/errors.js';
import { searchAsync, type SearchRequest } from '../../src/search/search.js';
import { TINY_DENSE } from '../encoder/dense/dense-reference.js';
import { removeDir, tempDir } from '../helpers/temp-dir.js';
import { DOCS } from '../helpers/topic-docs.js';

const quiet = { info() {}, warn() {}, error() {} };
let dirs: string[] = [];
let encoders: EncoderRegistry;
let c: Collection;
let plain: Collection;
let vectors: Map<string, Float32Array>;

beforeAll(async () => {
  encoders = new EncoderRegistry({ workers: 1 });
  dirs = [tempDir('lsr-verify-'), tempDir('lsr-verify-plain-')];
  c = await Collection.create(dirs[0], buildConfig({ name: 'v', retrievers: { dense: { model: `dir:${TINY_DENSE}` } } }), quiet, encoders);
  plain = await Collection.create(dirs[1], buildConfig({ name: 'plain' }), quiet, encoders);
  for (const col of [c, plain])
    await col.write(
      DOCS.map((d) => prepareDocument(d, col.config, col.analyzer)),
      null,
    );
  const enc = (await c.retriever('dense')!.encodeDocuments(DOCS.map((d) => `${d.title} ${d.text}`)))!.vectors as Float32Array[];
  vectors = new Map(DOCS.map((d, i) => [d._id, enc[i]]));
});

afterAll(async () => {
  await c?.close();
  await plain?.close();
  await encoders?.close();
  for (const d of dirs) removeDir(d);
});

async function inner(query: string): Promise<Map<string, number>> {
  const q = await c.retriever('dense')!.encodeQuery({ query }, 'dense_vector');
  if (q.shape !== 'dense') throw new Error('dense query expected');
  return new Map([...vectors].map(([id, v]) => [id, v.reduce((a, x, j) => a + x * q.vector[j], 0)]));
}

async function refused(col: Collection, req: SearchRequest): Promise<{ code: string; field?: string }> {
  try {
    await searchAsync(col, req);
  } catch (e) {
    if (isServiceError(e)) return { code: e.code, field: e.field };
    throw e;
  }
  throw new Error('the request was not refused');
}

describe('dense verification of a sparse retriever', () => {
  it('re-ranks the top candidates by the exact inner product and keeps the rest below', async () => {
    const query = 'cats and heart disease';
    const first = await searchAsync(c, { query, retriever: 'bm25', k: 20 });
    const ip = await inner(query);
    const r = await searchAsync(c, { query, retriever: 'bm25', k: 20, explain: true, verify: { candidates: 6 } });
    expect(r.verify).toEqual({ retriever: 'dense', candidates: 6, weight: 1 });
    const head = first.hits.slice(0, 6).map((h) => h._id);
    const want = [...head].sort((a, b) => ip.get(b)! - ip.get(a)!);
    expect(r.hits.slice(0, 6).map((h) => h._id)).toEqual(want);
    r.hits.slice(0, 6).forEach((h) => expect(h.score).toBeCloseTo(ip.get(h._id)!, 4));
    // Below the candidates, the first stage's order, scored under the lowest verified score.
    expect(r.hits.slice(6).map((h) => h._id)).toEqual(first.hits.slice(6).map((h) => h._id));
    expect(r.hits[6].score).toBeLessThan(r.hits[5].score);
    r.hits.forEach((h, i) => {
      const v = (h.explain as { verify: { rank_before: number; rank_after: number; first_score: number; dense_score: number | null } })
        .verify;
      expect(v.rank_after).toBe(i + 1);
      expect(v.rank_before).toBe(first.hits.findIndex((f) => f._id === h._id) + 1);
      expect(v.first_score).toBeCloseTo(first.hits[v.rank_before - 1].score, 5);
      if (i < 6) expect(v.dense_score).toBeCloseTo(ip.get(h._id)!, 4);
      else expect(v.dense_score).toBeNull();
    });
  });

  it('weight below 1 mixes z-scores of the dense and first-stage scores over the candidates', async () => {
    const query = 'birds kittens note 5 7';
    const first = await searchAsync(c, { query, retriever: 'bm25', k: 24 });
    expect(new Set(first.hits.map((h) => h.score)).size).toBeGreaterThan(2);
    const ip = await inner(query);
    const z = (xs: number[]) => {
      const m = xs.reduce((a, b) => a + b, 0) / xs.length;
      const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
      return xs.map((x) => (sd > 0 ? (x - m) / sd : 0));
    };
    const zd = z(first.hits.map((h) => ip.get(h._id)!));
    const zf = z(first.hits.map((h) => h.score));
    const mixed = first.hits.map((h, i) => ({ id: h._id, s: 0.3 * zd[i] + 0.7 * zf[i], i })).sort((a, b) => b.s - a.s || a.i - b.i);
    const r = await searchAsync(c, { query, retriever: 'bm25', k: 24, verify: { candidates: 24, weight: 0.3 } });
    expect(r.hits.map((h) => h._id)).toEqual(mixed.map((m) => m.id));
    r.hits.forEach((h, i) => expect(h.score).toBeCloseTo(mixed[i].s, 4));
    // weight 0 keeps the first stage's order.
    const same = await searchAsync(c, { query, retriever: 'bm25', k: 24, verify: { candidates: 24, weight: 0 } });
    expect(same.hits.map((h) => h._id)).toEqual(first.hits.map((h) => h._id));
  });

  it('verifies a fusion, and takes the query as a dense_vector', async () => {
    const query = 'dogs bark';
    const retrievers = [{ name: 'bm25', window: 24 }];
    const fused = await searchAsync(c, { query, k: 24, retrievers, fusion: { method: 'rrf' } });
    const ip = await inner(query);
    const r = await searchAsync(c, { query, k: 10, retrievers, fusion: { method: 'rrf' }, explain: true, verify: { candidates: 10 } });
    const want = fused.hits
      .slice(0, 10)
      .map((h) => h._id)
      .sort((a, b) => ip.get(b)! - ip.get(a)!);
    expect(r.hits.map((h) => h._id)).toEqual(want);
    expect((r.hits[0].explain as { verify: { rank_after: number } }).verify.rank_after).toBe(1);
    const q = await c.retriever('dense')!.encodeQuery({ query }, 'dense_vector');
    if (q.shape !== 'dense') throw new Error('dense query expected');
    const byVector = await searchAsync(c, {
      query,
      dense_vector: Array.from(q.vector),
      retriever: 'bm25',
      k: 10,
      verify: { candidates: 10 },
    });
    const single = await searchAsync(c, { query, retriever: 'bm25', k: 10, verify: { candidates: 10 } });
    expect(byVector.hits.map((h) => h._id)).toEqual(single.hits.map((h) => h._id));
  });

  it('names the field of what it refuses', async () => {
    expect(await refused(plain, { query: 'cats', verify: {} })).toMatchObject({ code: 'VALIDATION_FAILED', field: 'verify.retriever' });
    expect(await refused(c, { query: 'cats', verify: { retriever: 'bm25' } })).toMatchObject({ field: 'verify.retriever' });
    expect(await refused(c, { query: 'cats', verify: { retriever: 'splade' } })).toMatchObject({
      code: 'UNKNOWN_RETRIEVER',
      field: 'verify.retriever',
    });
    expect(await refused(c, { query: 'cats', verify: { candidates: 0 } })).toMatchObject({ field: 'verify.candidates' });
    expect(await refused(c, { query: 'cats', verify: { weight: -1 } })).toMatchObject({ field: 'verify.weight' });
    expect(await refused(c, { query: 'cats', verify: { n: 3 } as object })).toMatchObject({ field: 'verify.n' });
    expect(await refused(c, { vector: { cat: 1 }, retriever: 'bm25', verify: {} })).toMatchObject({
      code: 'INVALID_QUERY',
      field: 'verify',
    });
  });
});
