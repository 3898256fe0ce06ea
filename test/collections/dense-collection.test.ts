// Collections with a dense model (the committed tiny dense fixture): config validation with exact
// messages, ingest that stores each document's vector in SQLite in the document's transaction and
// indexes it in index/dense, the dense retriever (query text with the model's prompt, or a client
// vector), and the commit protocol: replay past the committed seq, deletes, rebuild when damaged,
// and a real kill -9 of a writing process.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig, type CollectionSpec } from '../../src/collections/collection-config.js';
import { Collection, type Logger } from '../../src/collections/collection.js';
import { prepareDocument } from '../../src/collections/documents.js';
import { DenseEncoder } from '../../src/encoder/dense/dense-encoder.js';
import { EncoderRegistry } from '../../src/encoder/encoder-registry.js';
import { denseOf, storeOf } from '../helpers/collection-parts.js';
import { removeDir, tempDir } from '../helpers/temp-dir.js';

const MODEL_DIR = fileURLToPath(new URL('../../models/fixtures/tiny-dense', import.meta.url));
const MODEL = `dir:${MODEL_DIR}`;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(removeDir));

let encoders: EncoderRegistry;
let ref: DenseEncoder;
beforeAll(async () => {
  encoders = new EncoderRegistry({ workers: 1 });
  ref = await DenseEncoder.load(MODEL_DIR);
});
afterAll(async () => {
  await encoders.close();
  await ref.close();
});

function logger(): Logger & { warnings: Record<string, unknown>[] } {
  const warnings: Record<string, unknown>[] = [];
  return {
    warnings,
    info() {},
    warn: (o) => warnings.push(o as Record<string, unknown>),
    error: (o) => warnings.push(o as Record<string, unknown>),
  };
}

const TEXTS = [
  'cancer genes in mice',
  'the heart disease risk of patients',
  'dogs and cats at home',
  'learned sparse retrieval of documents',
  'a fast search index',
];

async function fresh(dense: CollectionSpec['retrievers'] = { dense: { model: MODEL } }): Promise<{ dir: string; c: Collection }> {
  const dir = tempDir('lsr-dense-coll-');
  dirs.push(dir);
  const c = await Collection.create(dir, buildConfig({ name: 'c', retrievers: dense }), logger(), encoders);
  return { dir, c };
}

const docs = (c: Collection, from: number, n: number) =>
  Array.from({ length: n }, (_, i) =>
    prepareDocument({ _id: `d${from + i}`, title: `doc ${from + i}`, text: TEXTS[(from + i) % TEXTS.length] }, c.config, c.analyzer),
  );

/** Document ids by dense score for a query text, best first. */
async function ranked(c: Collection, query: string, k = 100): Promise<string[]> {
  const r = denseOf(c)!;
  const top = r.search(await r.encodeText(query), { k });
  const ids = storeOf(c).idsOf(top.docs);
  return Array.from(top.docs, (d) => ids.get(d)!);
}

/** Stands in for kill -9 inside this process: memory is lost, SQLite and committed index files stay. */
function abandon(c: Collection): void {
  storeOf(c).close();
}

describe('retrievers.dense config', () => {
  const err = (spec: unknown) => {
    try {
      buildConfig({ name: 'c', retrievers: { dense: spec } } as CollectionSpec);
    } catch (e) {
      return { code: (e as { code: string }).code, field: (e as { field: string }).field, message: (e as Error).message };
    }
    return null;
  };

  it('accepts a model with storage and approx, and fills the defaults', () => {
    expect(buildConfig({ name: 'c', retrievers: { dense: { model: MODEL } } }).retrievers.dense).toEqual({ model: MODEL, storage: 'f32' });
    expect(buildConfig({ name: 'c', retrievers: { dense: { model: MODEL, storage: 'i8', approx: true } } }).retrievers.dense).toEqual({
      model: MODEL,
      storage: 'i8',
      approx: {},
    });
    expect(
      buildConfig({ name: 'c', retrievers: { dense: { model: MODEL, approx: { m: 8, ef_construction: 40, seed: 3 } } } }).retrievers.dense,
    ).toEqual({
      model: MODEL,
      storage: 'f32',
      approx: { m: 8, ef_construction: 40, seed: 3 },
    });
    // The camelCase spelling of earlier releases is still accepted (deprecated) and stored snake_case.
    expect(buildConfig({ name: 'c', retrievers: { dense: { model: MODEL, approx: { efConstruction: 40 } } } }).retrievers.dense).toEqual({
      model: MODEL,
      storage: 'f32',
      approx: { ef_construction: 40 },
    });
    expect(buildConfig({ name: 'c', retrievers: { dense: { model: MODEL } }, default_retriever: 'dense' }).defaultRetriever).toBe('dense');
  });

  it('refuses bad settings with exact messages naming the field', () => {
    const missing = join(MODEL_DIR, '..', 'nonexistent');
    expect(err({ model: `dir:${missing}` })).toEqual({
      code: 'INVALID_MODEL',
      field: 'retrievers.dense.model',
      message: `model folder ${join(ROOT, 'models', 'fixtures', 'nonexistent')} does not exist`,
    });
    expect(err({ model: 'dir:/nonexistent/model' })).toMatchObject({
      code: 'INVALID_MODEL',
      field: 'retrievers.dense.model',
      message: expect.stringMatching(/^model folder \/nonexistent\/model is outside the model roots .*LSR_MODEL_ROOTS/),
    });
    expect(err({})).toMatchObject({
      code: 'INVALID_MODEL',
      field: 'retrievers.dense.model',
      message: 'model must be a non-empty string like "dir:/path/to/model"',
    });
    expect(err('dir:x')).toEqual({
      code: 'VALIDATION_FAILED',
      field: 'retrievers.dense',
      message: 'retrievers.dense must be an object with a model',
    });
    expect(err({ model: MODEL, storage: 'f16' })).toEqual({
      code: 'VALIDATION_FAILED',
      field: 'retrievers.dense.storage',
      message: `storage must be 'f32' or 'i8', got "f16"`,
    });
    expect(err({ model: MODEL, approx: 'yes' })).toEqual({
      code: 'VALIDATION_FAILED',
      field: 'retrievers.dense.approx',
      message: 'approx must be true or an object of HNSW settings (m, ef_construction, seed), got "yes"',
    });
    expect(err({ model: MODEL, approx: { m: 1 } })).toEqual({
      code: 'VALIDATION_FAILED',
      field: 'retrievers.dense.approx.m',
      message: 'm must be an integer from 2 to 128, got 1',
    });
    expect(err({ model: MODEL, approx: { m: 32, ef_construction: 16 } })).toEqual({
      code: 'VALIDATION_FAILED',
      field: 'retrievers.dense.approx.ef_construction',
      message: 'ef_construction must be an integer from 32 to 10000, got 16',
    });
    expect(err({ model: MODEL, approx: { m: 32, efConstruction: 16 } })).toMatchObject({
      field: 'retrievers.dense.approx.efConstruction',
      message: 'efConstruction must be an integer from 32 to 10000, got 16',
    });
    expect(err({ model: MODEL, approx: { ef: 3 } })).toEqual({
      code: 'VALIDATION_FAILED',
      field: 'retrievers.dense.approx.ef',
      message: "unknown property 'ef' (allowed: m, ef_construction, seed)",
    });
    expect(err({ model: MODEL, dim: 64 })).toEqual({
      code: 'VALIDATION_FAILED',
      field: 'retrievers.dense.dim',
      message: "unknown property 'dim' (allowed: model, storage, approx, passages)",
    });
    expect(() => buildConfig({ name: 'c', default_retriever: 'dense' })).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_RETRIEVER', message: "default_retriever 'dense' is not one of: bm25" }),
    );
  });

  it('a model that does not load fails the create before anything is on disk', async () => {
    const dir = tempDir('lsr-dense-coll-');
    dirs.push(dir);
    const sparse = `dir:${fileURLToPath(new URL('../../models/fixtures/tiny-bert', import.meta.url))}`;
    await expect(
      Collection.create(join(dir, 'c'), buildConfig({ name: 'c', retrievers: { dense: { model: sparse } } }), logger(), encoders),
    ).rejects.toMatchObject({
      code: 'INVALID_MODEL',
      field: 'retrievers.dense.model',
    });
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('dense collection', () => {
  it('stores each document vector in SQLite, equal to the encoder, and finds documents by meaning of the query', async () => {
    const { c } = await fresh();
    await c.write(docs(c, 0, 10), 'job');
    const texts = Array.from({ length: 10 }, (_, i) => `doc ${i} ${TEXTS[i % TEXTS.length]}`);
    const want = await ref.encodeDocuments(texts);
    for (let i = 0; i < 10; i++)
      expect(Array.from(storeOf(c).denseVector('dense', storeOf(c).docnoOf(`d${i}`)!)!)).toEqual(
        Array.from(want.subarray(i * 64, (i + 1) * 64)),
      );
    const r = denseOf(c)!;
    expect(r.dim).toBe(64);
    // The query is encoded with the query prompt, and the scores are inner products with the stored vectors.
    const q = await r.encodeText('cancer genes');
    expect(Array.from(q)).toEqual(Array.from(await ref.encodeQueries(['cancer genes'])));
    const top = r.search(q, { k: 10 });
    const dot = (docno: number) =>
      storeOf(c)
        .denseVector('dense', docno)!
        .reduce((s, x, j) => s + x * q[j], 0);
    expect(top.docs.length).toBe(10);
    for (let i = 0; i < 10; i++) expect(top.scores[i]).toBeCloseTo(dot(top.docs[i]), 5);
    for (let i = 1; i < 10; i++) expect(top.scores[i]).toBeLessThanOrEqual(top.scores[i - 1]);
    // A document's own text (as a document) is its nearest neighbour among the others.
    const self = r.search(want.slice(3 * 64, 4 * 64), { k: 1 });
    expect(storeOf(c).idOf(self.docs[0])).toBe('d3');
    await c.close();
  });

  it('takes a client vector of the model dimension, refusing others with exact messages', async () => {
    const { c } = await fresh();
    await c.write(docs(c, 0, 5), 'job');
    const r = denseOf(c)!;
    const v = Array.from(storeOf(c).denseVector('dense', storeOf(c).docnoOf('d2')!)!);
    expect(storeOf(c).idOf(r.search(r.encodeVector(v), { k: 1 }).docs[0])).toBe('d2');
    expect(() => r.encodeVector([1, 2])).toThrow(
      expect.objectContaining({
        code: 'VALIDATION_FAILED',
        field: 'dense_vector',
        message: "dense_vector must have 64 numbers (the model's dimension), got 2",
      }),
    );
    expect(() => r.encodeVector('1,2')).toThrow(
      expect.objectContaining({ field: 'dense_vector', message: 'dense_vector must be an array of 64 numbers' }),
    );
    expect(() => r.encodeVector([...v.slice(0, 63), 'x'])).toThrow(
      expect.objectContaining({ field: 'dense_vector[63]', message: 'dense_vector[63] must be a finite number, got "x"' }),
    );
    expect(() => r.search(r.encodeVector(v), { k: 1, mode: 'approx' })).toThrow(expect.objectContaining({ field: 'mode' }));
    await c.close();
  });

  it('applies upserts and deletes to the dense index, and filters', async () => {
    const { c } = await fresh();
    await c.write(docs(c, 0, 10), 'job');
    await c.write([prepareDocument({ _id: 'd0', title: 'replaced', text: 'a fast search index' }, c.config, c.analyzer)], null);
    await c.remove([storeOf(c).docnoOf('d1')!]);
    expect(denseOf(c)!.index.size).toBe(9);
    const all = await ranked(c, 'anything');
    expect(all.sort()).toEqual(['d0', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7', 'd8', 'd9']);
    // d0's vector is its new text's.
    expect(Array.from(storeOf(c).denseVector('dense', storeOf(c).docnoOf('d0')!)!)).toEqual(
      Array.from(await ref.encodeDocuments(['replaced a fast search index'])),
    );
    const filter = new Uint8Array(Math.ceil((storeOf(c).highestDocno + 1) / 8));
    const keep = storeOf(c).docnoOf('d7')!;
    filter[keep >> 3] |= 1 << (keep & 7);
    expect(Array.from(denseOf(c)!.search(await denseOf(c)!.encodeText('x'), { k: 5, filter }).docs)).toEqual([keep]);
    await c.close();
  });

  it('replays vectors and deletes the index never committed, and approx graphs survive reopening', async () => {
    const { dir, c } = await fresh({ dense: { model: MODEL, approx: { m: 8, ef_construction: 32 } } });
    await c.write(docs(c, 0, 20), 'job-1');
    await c.commit();
    await c.write(docs(c, 20, 10), 'job-2');
    await c.remove([storeOf(c).docnoOf('d1')!]);
    const before = await ranked(c, 'heart disease');
    abandon(c);

    const log = logger();
    const again = (await Collection.open(dir, log, encoders))!;
    expect(log.warnings).toEqual([]);
    expect(denseOf(again)!.index.size).toBe(29);
    expect(await ranked(again, 'heart disease')).toEqual(before);
    const q = await denseOf(again)!.encodeText('heart disease');
    expect(Array.from(denseOf(again)!.search(q, { k: 5, mode: 'approx', ef: 64 }).docs)).toEqual(
      Array.from(denseOf(again)!.search(q, { k: 5, mode: 'exact' }).docs),
    );
    await again.close();
  });

  it('stores i8 vectors when asked, ranking as f32 does on this fixture', async () => {
    const { c: f32 } = await fresh();
    const { c: i8 } = await fresh({ dense: { model: MODEL, storage: 'i8', approx: true } });
    await f32.write(docs(f32, 0, 25), 'job');
    await i8.write(docs(i8, 0, 25), 'job');
    expect(denseOf(i8)!.index.storage).toBe('i8');
    expect(denseOf(i8)!.index.approx).not.toBeNull();
    const q = await denseOf(f32)!.encodeText('learned sparse retrieval');
    const a = denseOf(f32)!.search(q, { k: 5 }),
      b = denseOf(i8)!.search(q, { k: 5, mode: 'exact' });
    // Same store numbering in both collections; i8 scores are within its rounding bound of f32's.
    expect(Array.from(b.docs).slice(0, 3)).toEqual(Array.from(a.docs).slice(0, 3));
    for (let i = 0; i < 5; i++) expect(Math.abs(b.scores[i] - a.scores[i])).toBeLessThan(0.02);
    await f32.close();
    await i8.close();
  });

  it('rebuilds a damaged dense segment from the store and says which file', async () => {
    const { dir, c } = await fresh();
    await c.write(docs(c, 0, 30), 'job');
    const before = await ranked(c, 'dogs');
    await c.close();
    const idx = join(dir, 'index', 'dense');
    const seg = readdirSync(idx).find((f) => f.endsWith('.lsrd'))!;
    const bytes = readFileSync(join(idx, seg));
    writeFileSync(join(idx, seg), bytes.subarray(0, Math.floor(bytes.length / 2)));

    const log = logger();
    const again = (await Collection.open(dir, log, encoders))!;
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]).toMatchObject({ code: expect.stringMatching(/^SEGMENT_/), file: expect.stringContaining(seg) });
    expect(await ranked(again, 'dogs')).toEqual(before);
    await again.close();
    const log2 = logger();
    const third = (await Collection.open(dir, log2, encoders))!;
    expect(log2.warnings).toEqual([]);
    expect(await ranked(third, 'dogs')).toEqual(before);
    await third.close();
  });

  it('keeps every acknowledged document across a real kill -9 of the writing process', async () => {
    const dir = tempDir('lsr-dense-kill-');
    dirs.push(dir);
    // The child creates the collection, writes batches (never committing the index) and reports each
    // acknowledged write; it is killed mid-stream.
    const script = `
      import { buildConfig } from ${JSON.stringify(join(ROOT, 'src/collections/collection-config.ts'))};
      import { Collection } from ${JSON.stringify(join(ROOT, 'src/collections/collection.ts'))};
      import { prepareDocument } from ${JSON.stringify(join(ROOT, 'src/collections/documents.ts'))};
      import { EncoderRegistry } from ${JSON.stringify(join(ROOT, 'src/encoder/encoder-registry.ts'))};
      const log = { info() {}, warn() {}, error() {} };
      const c = await Collection.create(${JSON.stringify(join(dir, 'c'))}, buildConfig({ name: 'c', retrievers: { dense: { model: ${JSON.stringify(MODEL)} } } }), log, new EncoderRegistry());
      for (let b = 0; ; b++) {
        const batch = Array.from({ length: 5 }, (_, i) => prepareDocument({ _id: 'k' + (b * 5 + i), text: 'kill test batch ' + b + ' doc ' + i }, c.config, c.analyzer));
        await c.write(batch, null);
        if (b === 3) await c.commit();
        console.log('acked ' + (b * 5 + 5));
      }`;
    const file = join(dir, 'writer.mts');
    writeFileSync(file, script);
    const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let acked = 0,
      stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        for (const m of d.toString().matchAll(/acked (\d+)/g)) acked = Math.max(acked, Number(m[1]));
        if (acked >= 40) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited ${code}: ${stderr}`))));
    });
    await new Promise((r) => child.on('close', r));
    const log = logger();
    const c = (await Collection.open(join(dir, 'c'), log, encoders))!;
    try {
      expect(storeOf(c).size).toBeGreaterThanOrEqual(acked);
      expect(denseOf(c)!.index.size).toBe(storeOf(c).size);
      for (let i = 0; i < acked; i++) {
        const docno = storeOf(c).docnoOf('k' + i)!;
        expect(docno, `k${i}`).toBeDefined();
        const v = storeOf(c).denseVector('dense', docno)!;
        // Each acknowledged document is found by its own vector.
        expect(storeOf(c).idOf(denseOf(c)!.search(v, { k: 1 }).docs[0])).toBe('k' + i);
      }
    } finally {
      await c.close();
    }
  }, 120_000);
});
