// `lsr train`'s first stage: the training data of an inference-free sparse document encoder, from a
// corpus alone (no queries, no judgments), written to `<work>/data/` for the trainer
// (models/train/train.py). docs/training.md ("Preparing the training data") gives each file's
// contract; in short:
//   corpus.jsonl   {"id","text"}: the text the service encodes for the document
//   queries.jsonl  {"id","text","kind","source"}: queries made from the documents (queries.ts)
//   train.jsonl    per query: the source and its hardest negatives, each teacher's exact and
//                  normalized scores, the ensemble target (teachers.ts)
//   idf.json       token -> query weight, as the served model weighs queries (idf.ts)
//   prepare.json   what was done, with what, how long it took
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SpladeTokenizer } from '../encoder/tokenizer.js';
import { ProgressBar } from '../eval/progress.js';
import { BM25_DEFAULTS } from '../text/bm25.js';
import { ENGINE_COLLECTION, IDF_RETRIEVER, openEngine } from './engine.js';
import { documentFrequencies, idfMismatch, idfTable } from './idf.js';
import type { PrepareOptions } from './options.js';
import { documentQueries, QUERY_KINDS, type QueryKind, type TrainQuery } from './queries.js';
import { buildExample, scoreCandidates, teacherRetrievers } from './teachers.js';

export interface PrepareEnv {
  /** Encoder pool size, as the service's LSR_ENCODER_WORKERS / _THREADS / _DEVICE. */
  encoderWorkers: number;
  encoderThreads: number;
  encoderDevice: 'cpu' | 'cuda';
  /** Documents per write batch (LSR_BATCH_SIZE). */
  batchSize: number;
  /** Queries mined and scored at once. Default 8. */
  concurrency?: number;
  progress: boolean;
  log: (line: string) => void;
}

/** prepare.json, the record of a prepare run. */
export interface PrepareReport {
  corpus: string;
  documents: number;
  max_docs: number | null;
  queries: Record<QueryKind, number> & { total: number; documents_without_queries: number };
  queries_per_doc: number;
  base: { source: string; dir: string };
  teachers: Record<string, Record<string, unknown>>;
  depth: number;
  negatives: number;
  candidates: { mean: number; min: number; max: number };
  normalization: string;
  target: string;
  seed: number;
  idf: { tokens: number; documents: number; computed_as: string; left_out: string };
  engine: { dir: string; collection: string; reused: boolean };
  timings_s: { read_and_index: number; queries: number; idf: number; pairs: number; total: number };
  read: string[];
  labels: string;
  files: string[];
}

const seconds = (t: number) => Math.round((performance.now() - t) / 10) / 100;

function line(stream: WriteStream, o: unknown): Promise<void> | undefined {
  if (stream.write(`${JSON.stringify(o)}\n`)) return undefined;
  return new Promise((res) => stream.once('drain', res));
}

async function closeStream(stream: WriteStream): Promise<void> {
  await new Promise<void>((res, rej) => stream.end((e?: Error | null) => (e ? rej(e) : res())));
}

/** Runs the prepare stage; returns what it wrote to prepare.json. */
export async function prepare(o: PrepareOptions, env: PrepareEnv): Promise<PrepareReport> {
  const t0 = performance.now();
  const data = join(o.work, 'data');
  await mkdir(data, { recursive: true });
  const engineDir = join(o.work, 'engine');
  env.log(`prepare: corpus ${o.corpusPath} (queries and qrels are never read), teachers ${o.teachers.join(', ')}, base ${o.base}`);
  const engine = await openEngine({
    corpusPath: o.corpusPath,
    maxDocs: o.maxDocs,
    teachers: o.teachers,
    base: o.base,
    denseModel: o.denseModel,
    dir: engineDir,
    encoderWorkers: env.encoderWorkers,
    encoderThreads: env.encoderThreads,
    encoderDevice: env.encoderDevice,
    batchSize: env.batchSize,
    progress: env.progress,
    log: env.log,
  });
  try {
    const { collection, docs, docnos } = engine;
    const tIndexed = seconds(t0);
    env.log(
      `prepare: ${docs.length} documents ${engine.reused ? 'in the reused collection' : `indexed in ${engine.indexSeconds.toFixed(1)} s`}`,
    );

    const corpus = createWriteStream(join(data, 'corpus.jsonl'));
    for (const d of docs) await line(corpus, { id: d.id, text: d.text });
    await closeStream(corpus);

    const t1 = performance.now();
    const queries: TrainQuery[] = [];
    const counts: Record<QueryKind, number> = { title: 0, ict: 0, span: 0 };
    let without = 0;
    const qs = createWriteStream(join(data, 'queries.jsonl'));
    for (const d of docs) {
      const made = documentQueries({ id: d.id, title: d.title, body: d.body }, o.queriesPerDoc, o.seed);
      if (made.length === 0) without++;
      for (const q of made) {
        counts[q.kind]++;
        queries.push(q);
        await line(qs, q);
      }
    }
    await closeStream(qs);
    const tQueries = seconds(t1);
    env.log(
      `prepare: ${queries.length} queries (${QUERY_KINDS.map((k) => `${k} ${counts[k]}`).join(', ')}); ${without} documents gave none`,
    );
    if (queries.length === 0) throw new Error('no document gave a query of 3 words or more');

    const t2 = performance.now();
    const ifRetriever = collection.retriever(IDF_RETRIEVER);
    if (!ifRetriever) throw new Error(`the teachers' collection has no ${IDF_RETRIEVER} retriever`);
    const all = docs.map((d) => docnos.get(d.id)!);
    const idOf = new Map(docs.map((d) => [docnos.get(d.id)!, d.id]));
    const tokenizer = await SpladeTokenizer.load(o.baseDir, 'base');
    const { df, labels } = await documentFrequencies(ifRetriever, all);
    const table = idfTable(df, labels, collection.size, (id) => tokenizer.isSpecial(id));
    await writeFile(join(data, 'idf.json'), `${JSON.stringify(table)}\n`);
    const tIdf = seconds(t2);
    env.log(`prepare: idf.json, ${Object.keys(table).length} tokens over ${collection.size} documents`);

    const t3 = performance.now();
    const teachers = teacherRetrievers(collection, o.teachers);
    const limit = Math.max(...all) + 1;
    const stats = { sum: 0, min: Number.POSITIVE_INFINITY, max: 0 };
    const out = createWriteStream(join(data, 'train.jsonl'));
    const bar = new ProgressBar(`pairs ${o.teachers.join('+')}`, queries.length, { enabled: env.progress, unit: 'queries' });
    // Lines are written in query order whatever order the searches finish in.
    const ready = new Map<number, unknown>();
    let nextToWrite = 0;
    let next = 0;
    let done = 0;
    let failed = false;
    const worker = async () => {
      while (next < queries.length && !failed) {
        const i = next++;
        const q = queries[i];
        try {
          const scored = await scoreCandidates(collection, teachers, q.text, docnos.get(q.source)!, o.depth, limit);
          const ex = buildExample(scored.raw, o.teachers, o.negatives);
          // The query as the served model's retriever encodes it (written in the line as query_weights).
          const enc = await ifRetriever.encodeQuery({ query: q.text }, 'query');
          if (enc.shape !== 'sparse') throw new Error('the inference-free retriever gave a dense query');
          const bad = idfMismatch(table, enc.terms, enc.query.weights) ?? missingTokens(table, enc.terms, tokenizer, q.text);
          if (bad) throw new Error(`idf.json disagrees with the inference-free retriever on query "${q.id}": ${bad}`);
          const ids = scored.docnos.map((d) => idOf.get(d)!);
          const n = scored.docnos.length;
          stats.sum += n;
          stats.min = Math.min(stats.min, n);
          stats.max = Math.max(stats.max, n);
          ready.set(i, {
            qid: q.id,
            query: q.text,
            kind: q.kind,
            docs: ex.picked.map((j) => ids[j]),
            teachers: Object.fromEntries(o.teachers.map((t) => [t, ex.picked.map((j) => ex.normalized[t][j])])),
            raw: Object.fromEntries(o.teachers.map((t) => [t, ex.picked.map((j) => scored.raw[t][j])])),
            target: ex.picked.map((j) => ex.target[j]),
            range: ex.range,
            candidates: n,
            query_weights: Object.fromEntries(enc.terms.map((t, j) => [t, enc.query.weights[j]])),
          });
        } catch (e) {
          failed = true;
          throw e;
        }
        while (ready.has(nextToWrite)) {
          const l = ready.get(nextToWrite);
          ready.delete(nextToWrite++);
          await line(out, l);
        }
        bar.update(++done);
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.max(1, env.concurrency ?? 8) }, worker));
    } finally {
      bar.finish();
      await closeStream(out);
    }
    const tPairs = seconds(t3);

    const report: PrepareReport = {
      corpus: o.corpusPath,
      documents: docs.length,
      max_docs: o.maxDocs ?? null,
      queries: { ...counts, total: queries.length, documents_without_queries: without },
      queries_per_doc: o.queriesPerDoc,
      base: { source: o.base, dir: o.baseDir },
      teachers: Object.fromEntries(
        o.teachers.map((t) => [
          t,
          t === 'bm25'
            ? { retriever: 'bm25', fields: 'title+text', ...BM25_DEFAULTS }
            : t === 'dense'
              ? { retriever: 'dense', model: o.denseModel, query: 'encoded by the dense retriever as a search query' }
              : { retriever: 'splade', model: o.base, query: 'siamese' },
        ]),
      ),
      depth: o.depth,
      negatives: o.negatives,
      candidates: { mean: Math.round((stats.sum / queries.length) * 100) / 100, min: stats.min, max: stats.max },
      normalization:
        'per query and per teacher, min-max over the candidates (the union of every teacher\u2019s top depth and the source), each scored exactly by every teacher; a teacher scoring all candidates alike gives 0 to each',
      target: 'mean of the teachers\u2019 normalized scores',
      seed: o.seed,
      idf: {
        tokens: Object.keys(table).length,
        documents: collection.size,
        computed_as:
          "the inference_free retriever's idf: 'collection' weights over the base model's document vectors: idf(df, N) = ln(1 + (N - df + 0.5)/(df + 0.5)); checked against the retriever's encoding of every training query",
        left_out: 'special tokens (the tokenizer\u2019s all_special_ids) and tokens no document holds, as the query side leaves them out',
      },
      engine: { dir: engineDir, collection: ENGINE_COLLECTION, reused: engine.reused },
      timings_s: { read_and_index: tIndexed, queries: tQueries, idf: tIdf, pairs: tPairs, total: seconds(t0) },
      read: [o.corpusPath],
      labels: 'none: no queries.jsonl and no qrels were read; the only input file is the corpus',
      files: ['corpus.jsonl', 'queries.jsonl', 'train.jsonl', 'idf.json', 'prepare.json'],
    };
    await writeFile(join(data, 'prepare.json'), `${JSON.stringify(report, null, 2)}\n`);
    return report;
  } finally {
    await engine.close();
  }
}

/** A token of the query the table weighs but the service left out (or the reverse is caught by idfMismatch). */
function missingTokens(
  table: Readonly<Record<string, number>>,
  terms: readonly string[],
  tok: SpladeTokenizer,
  text: string,
): string | undefined {
  const got = new Set(terms);
  for (const id of new Set(tok.ids(text, Number.MAX_SAFE_INTEGER))) {
    if (tok.isSpecial(id)) continue;
    const t = tok.token(id);
    if (table[t] !== undefined && !got.has(t)) return `token ${JSON.stringify(t)} is in idf.json but the service left it out`;
  }
  return undefined;
}
