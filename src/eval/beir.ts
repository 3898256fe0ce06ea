// BEIR dataset folders: `corpus.jsonl` (`_id`, `title`, `text`), `queries.jsonl` (`_id`, `text`),
// `qrels/<split>.tsv` (header `query-id corpus-id score`, tab-separated). The corpus is streamed:
// BEIR corpora run to millions of documents and the indexer consumes them in batches.

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readLines, parseRelevance } from './trec-files.js';
import type { BeirDocument, EvalQuery, Qrels } from './types.js';

/** Paths of the files of a BEIR dataset folder for one split (default `test`). */
export function beirPaths(dir: string, split = 'test'): { corpus: string; queries: string; qrels: string } {
  return {
    corpus: join(dir, 'corpus.jsonl'),
    queries: join(dir, 'queries.jsonl'),
    qrels: join(dir, 'qrels', `${split}.tsv`),
  };
}

/** Throws a message naming every missing file when `dir` is not a BEIR folder with `split`. */
export async function checkBeirDir(dir: string, split = 'test'): Promise<void> {
  const missing: string[] = [];
  for (const p of Object.values(beirPaths(dir, split))) {
    try {
      if (!(await stat(p)).isFile()) missing.push(p);
    } catch {
      missing.push(p);
    }
  }
  if (missing.length > 0) throw new Error(`not a BEIR dataset folder (split "${split}"): missing ${missing.join(', ')}`);
}

function parseJsonLine(line: string, where: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    throw new Error(`${where}: invalid JSON (${(e as Error).message})`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${where}: expected a JSON object`);
  return v as Record<string, unknown>;
}

function idOf(o: Record<string, unknown>, where: string): string {
  const id = o._id;
  // BEIR ids are strings, but some converted corpora write numbers; both name the same document.
  if (typeof id === 'string' && id !== '') return id;
  if (typeof id === 'number' && Number.isFinite(id)) return String(id);
  throw new Error(`${where}: missing or empty "_id"`);
}

/** Streams the documents of `corpus.jsonl` one at a time; blank lines are skipped. */
export async function* streamCorpus(path: string): AsyncGenerator<BeirDocument> {
  for await (const [line, n] of readLines(path)) {
    if (line.trim() === '') continue;
    const where = `${path}:${n}`;
    const o = parseJsonLine(line, where);
    const { _id, title, text, ...rest } = o;
    void _id;
    const doc: BeirDocument = {
      _id: idOf(o, where),
      title: typeof title === 'string' ? title : '',
      text: typeof text === 'string' ? text : '',
    };
    if (Object.keys(rest).length > 0) doc.metadata = rest;
    yield doc;
  }
}

/** Streams a corpus in arrays of at most `size` documents (default 1,000). */
export async function* batches<T>(items: AsyncIterable<T>, size = 1000): AsyncGenerator<T[]> {
  let batch: T[] = [];
  for await (const item of items) {
    batch.push(item);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** Reads `queries.jsonl` into a list in file order. Duplicate ids are an error. */
export async function readQueries(path: string): Promise<EvalQuery[]> {
  const out: EvalQuery[] = [];
  const seen = new Set<string>();
  for await (const [line, n] of readLines(path)) {
    if (line.trim() === '') continue;
    const where = `${path}:${n}`;
    const o = parseJsonLine(line, where);
    const id = idOf(o, where);
    if (seen.has(id)) throw new Error(`${where}: duplicate query id "${id}"`);
    seen.add(id);
    out.push({ id, text: typeof o.text === 'string' ? o.text : '' });
  }
  return out;
}

/**
 * Reads BEIR qrels (`qrels/<split>.tsv`): an optional header line starting with `query-id`, then
 * `query-id<TAB>corpus-id<TAB>score` rows with integer scores. Duplicate pairs are an error.
 */
export async function readBeirQrels(path: string): Promise<Qrels> {
  const qrels: Qrels = new Map();
  for await (const [line, n] of readLines(path)) {
    if (line.trim() === '') continue;
    const where = `${path}:${n}`;
    const f = line.split('\t').map((s) => s.trim());
    if (n === 1 && f[0] === 'query-id') continue;
    if (f.length !== 3) throw new Error(`${where}: expected 3 tab-separated fields "query-id corpus-id score", got ${f.length}`);
    const rel = parseRelevance(f[2], where);
    let q = qrels.get(f[0]);
    if (!q) {
      q = new Map();
      qrels.set(f[0], q);
    }
    if (q.has(f[1])) throw new Error(`${where}: duplicate judgment for query "${f[0]}" document "${f[1]}"`);
    q.set(f[1], rel);
  }
  return qrels;
}

/** A loaded BEIR dataset, minus the corpus, which stays a stream (see `streamCorpus`). */
export interface BeirDataset {
  dir: string;
  split: string;
  corpusPath: string;
  /** Queries that have judgments in the split, in `queries.jsonl` order. */
  queries: EvalQuery[];
  /** Number of queries in `queries.jsonl` (with or without judgments). */
  totalQueries: number;
  qrels: Qrels;
}

/**
 * Loads the queries and judgments of a BEIR folder. Only queries judged in `split` are kept, as
 * Pyserini's BEIR topics are: the others cannot change any metric. Judged queries absent from
 * `queries.jsonl` are an error, since they would silently score 0.
 */
export async function loadBeir(dir: string, split = 'test'): Promise<BeirDataset> {
  await checkBeirDir(dir, split);
  const p = beirPaths(dir, split);
  const [all, qrels] = await Promise.all([readQueries(p.queries), readBeirQrels(p.qrels)]);
  const ids = new Set(all.map((q) => q.id));
  const missing = [...qrels.keys()].filter((q) => !ids.has(q));
  if (missing.length > 0) {
    throw new Error(`${p.qrels}: ${missing.length} judged queries are not in ${p.queries} (first: "${missing[0]}")`);
  }
  return {
    dir,
    split,
    corpusPath: p.corpus,
    queries: all.filter((q) => qrels.has(q.id)),
    totalQueries: all.length,
    qrels,
  };
}
