// `lsr train`'s prepare stage end to end on 36 documents with the fixture models (tiny-bert as the
// base and SPLADE teacher, tiny-dense as the dense teacher): only corpus.jsonl is read; queries are
// seeded; every candidate carries every teacher's exact score (the score a direct search of the
// teachers' collection gives), min-max normalized per query; the source comes first; idf.json is
// what the inference-free retriever weighs queries with in `idf: 'collection'` mode.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SparseStorage } from '../../src/backends/backend.js';
import { buildConfig } from '../../src/collections/collection-config.js';
import { Collection, type Logger } from '../../src/collections/collection.js';
import { prepareDocument } from '../../src/collections/documents.js';
import { EncoderRegistry } from '../../src/encoder/encoder-registry.js';
import { SpladeTokenizer } from '../../src/encoder/tokenizer.js';
import { searchAsync } from '../../src/search/search.js';
import { Analyzer } from '../../src/text/analyzer.js';
import { idf } from '../../src/text/bm25.js';
import { ENGINE_COLLECTION } from '../../src/train/engine.js';
import { parsePrepare } from '../../src/train/options.js';
import { prepare, type PrepareReport } from '../../src/train/prepare.js';
import { documentQueries } from '../../src/train/queries.js';
import { removeDir, tempDir } from '../helpers/temp-dir.js';
import { DOCS, writeCorpusFolder } from './corpus.js';

const TINY_BERT = fileURLToPath(new URL('../../models/fixtures/tiny-bert', import.meta.url));
const TINY_DENSE = fileURLToPath(new URL('../../models/fixtures/tiny-dense', import.meta.url));

const quiet: Logger = { info() {}, warn() {}, error() {} };
const root = tempDir('lsr-train-');
const corpusDir = writeCorpusFolder(join(root, 'beir'));

interface Line {
  qid: string;
  query: string;
  kind: string;
  docs: string[];
  teachers: Record<string, number[]>;
  raw: Record<string, number[]>;
  target: number[];
  range: Record<string, [number, number]>;
  candidates: number;
  query_weights: Record<string, number>;
}

const readJsonl = <T>(p: string): T[] =>
  readFileSync(p, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as T);

function options(work: string, extra: Record<string, string> = {}) {
  return parsePrepare({
    corpus: corpusDir,
    out: join(root, 'model'),
    work,
    base: `dir:${TINY_BERT}`,
    'dense-model': `dir:${TINY_DENSE}`,
    teachers: 'bm25,dense,splade',
    depth: '8',
    negatives: '5',
    seed: '3',
    ...extra,
  });
}

const env = { encoderWorkers: 1, encoderThreads: 1, encoderDevice: 'cpu' as const, batchSize: 10, progress: false, log: () => {} };

let report: PrepareReport;
let lines: Line[];
const work = join(root, 'work');
beforeAll(async () => {
  report = await prepare(options(work), env);
  lines = readJsonl<Line>(join(work, 'data', 'train.jsonl'));
}, 180_000);
afterAll(() => removeDir(root));

describe('prepare', () => {
  it('reads only the corpus: the folder’s queries.jsonl and qrels are dangling links', () => {
    expect(report.read).toEqual([join(corpusDir, 'corpus.jsonl')]);
    expect(report.labels).toMatch(/no queries\.jsonl and no qrels were read/);
    expect(report.documents).toBe(DOCS.length);
  });

  it('writes corpus.jsonl with the text the service encodes (title and text as ingest joins them)', () => {
    const corpus = readJsonl<{ id: string; text: string }>(join(work, 'data', 'corpus.jsonl'));
    const config = buildConfig({ name: 'x' });
    const analyzer = new Analyzer();
    expect(corpus.map((d) => d.id)).toEqual(DOCS.map((d) => d._id));
    corpus.forEach((d, i) => expect(d.text).toBe(prepareDocument(DOCS[i], config, analyzer).text));
    // An empty title is still a field the service joins: a leading space, exactly as ingest feeds the encoders.
    expect(corpus[3].text).toBe(` ${DOCS[3].text}`);
  });

  it('writes the seeded queries, the same again for the same seed, others for another', async () => {
    const queries = readJsonl<{ id: string; text: string; kind: string; source: string }>(join(work, 'data', 'queries.jsonl'));
    const expected = DOCS.flatMap((d) => documentQueries({ id: d._id, title: d.title, body: d.text }, 2, 3));
    expect(queries).toEqual(expected.map((q) => ({ id: q.id, text: q.text, kind: q.kind, source: q.source })));
    expect(report.queries.total).toBe(queries.length);
    expect(report.queries.title + report.queries.ict + report.queries.span).toBe(queries.length);
    expect(lines.map((l) => l.qid)).toEqual(queries.map((q) => q.id));

    const again = join(root, 'again');
    const r2 = await prepare(options(again), env);
    expect(r2.engine.reused).toBe(false);
    expect(readFileSync(join(again, 'data', 'queries.jsonl'), 'utf8')).toBe(readFileSync(join(work, 'data', 'queries.jsonl'), 'utf8'));
    expect(readFileSync(join(again, 'data', 'train.jsonl'), 'utf8')).toBe(readFileSync(join(work, 'data', 'train.jsonl'), 'utf8'));
    // A later prepare of the same corpus and models reuses the teachers' collection, with a new seed.
    const r3 = await prepare(options(again, { seed: '4' }), env);
    expect(r3.engine.reused).toBe(true);
    expect(readFileSync(join(again, 'data', 'queries.jsonl'), 'utf8')).not.toBe(readFileSync(join(work, 'data', 'queries.jsonl'), 'utf8'));
  }, 180_000);

  it('puts the source first, then the highest-target negatives, with min-max normalized teacher scores', () => {
    for (const l of lines) {
      expect(l.docs[0]).toBe(l.qid.split('#')[0]);
      expect(new Set(l.docs).size).toBe(l.docs.length);
      expect(l.docs.length).toBe(Math.min(5, l.candidates - 1) + 1);
      for (const t of ['bm25', 'dense', 'splade']) {
        const [lo, hi] = l.range[t];
        l.raw[t].forEach((s, i) => {
          expect(s).toBeGreaterThanOrEqual(lo);
          expect(s).toBeLessThanOrEqual(hi);
          expect(l.teachers[t][i]).toBe(hi > lo ? (s - lo) / (hi - lo) : 0);
        });
      }
      l.target.forEach((x, i) => {
        expect(x).toBeGreaterThanOrEqual(0);
        expect(x).toBeLessThanOrEqual(1);
        expect(x).toBeCloseTo((l.teachers.bm25[i] + l.teachers.dense[i] + l.teachers.splade[i]) / 3, 12);
      });
      const negatives = l.target.slice(1);
      expect(negatives).toEqual([...negatives].sort((a, b) => b - a));
    }
    // Some teacher's minimum and maximum fall on candidates of each query: the range is the candidates'.
    expect(lines.some((l) => l.teachers.bm25.includes(1))).toBe(true);
  });

  it('gives every teacher’s exact score: what a search of the teachers’ collection returns for each document', async () => {
    const encoders = new EncoderRegistry({ workers: 1 });
    const c = await Collection.open(join(work, 'engine', 'collections', ENGINE_COLLECTION), quiet, encoders);
    try {
      expect(c).toBeDefined();
      for (const l of lines.filter((_, i) => i % 9 === 0)) {
        for (const t of ['bm25', 'dense', 'splade']) {
          const res = await searchAsync(c!, { query: l.query, retriever: t, k: 100 });
          const by = new Map(res.hits.map((h) => [h._id, h.score]));
          l.docs.forEach((id, i) => expect(l.raw[t][i], `${l.qid} ${t} ${id}`).toBe(by.get(id) ?? 0));
          // A document a sparse teacher does not return shares no term with the query.
          if (t === 'dense') expect(res.hits).toHaveLength(DOCS.length);
        }
      }
    } finally {
      await c?.close();
      await encoders.close();
    }
  }, 120_000);

  it('writes idf.json as the inference-free retriever weighs queries in collection mode', async () => {
    const table = JSON.parse(readFileSync(join(work, 'data', 'idf.json'), 'utf8')) as Record<string, number>;
    const encoders = new EncoderRegistry({ workers: 1 });
    const dir = join(root, 'if');
    const config = buildConfig({ name: 'if', retrievers: { inference_free: { model: `dir:${TINY_BERT}`, idf: 'collection' } } });
    const c = await Collection.create(dir, config, quiet, encoders);
    try {
      await c.write(
        DOCS.map((d) => prepareDocument(d, config, c.analyzer)),
        null,
      );
      const r = c.retriever('inference_free')!;
      // Every vocabulary id through the storage's own document frequencies.
      const tok = await SpladeTokenizer.load(TINY_BERT);
      const ids = Array.from({ length: tok.vocabSize }, (_, i) => i);
      const { n, df } = await (r as unknown as { storage: SparseStorage }).storage.frequencies(ids);
      expect(n).toBe(DOCS.length);
      const expected: Record<string, number> = {};
      for (const id of ids) if (df[id] > 0 && !tok.isSpecial(id)) expected[tok.token(id)] = idf(df[id], n);
      expect(table).toEqual(expected);
      expect(Object.keys(table).length).toBe(report.idf.tokens);
      for (const special of ['[CLS]', '[SEP]', '[PAD]', '[MASK]', '[UNK]']) expect(table[special]).toBeUndefined();
      // And query by query, as the retriever encodes them: the same tokens, the float32 of each weight.
      for (const l of lines) {
        const q = await r.encodeQuery({ query: l.query }, 'query');
        if (q.shape !== 'sparse') throw new Error('sparse expected');
        expect(Object.fromEntries(q.terms.map((t, i) => [t, q.query.weights[i]]))).toEqual(l.query_weights);
        q.terms.forEach((t, i) => expect(Math.fround(table[t])).toBe(q.query.weights[i]));
      }
    } finally {
      await c.close();
      await encoders.close();
    }
  }, 120_000);

  it('writes prepare.json with the settings, counts and timings', () => {
    const written = JSON.parse(readFileSync(join(work, 'data', 'prepare.json'), 'utf8'));
    expect(written).toEqual(report);
    expect(report).toMatchObject({ depth: 8, negatives: 5, seed: 3, queries_per_doc: 2, max_docs: null });
    expect(Object.keys(report.teachers)).toEqual(['bm25', 'dense', 'splade']);
    expect(report.candidates.min).toBeGreaterThanOrEqual(2);
    expect(report.candidates.max).toBeLessThanOrEqual(3 * 8 + 1);
    for (const k of ['read_and_index', 'queries', 'idf', 'pairs', 'total'] as const) expect(report.timings_s[k]).toBeGreaterThanOrEqual(0);
  });
});
