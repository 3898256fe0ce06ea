// TREC qrels and run files, read as streams of lines so large runs never sit in memory twice.
// Formats (whitespace-separated, as trec_eval reads them):
//   qrels: `qid iter docno rel`            (iter ignored; rel an integer)
//   run:   `qid Q0 docno rank score tag`   (Q0 and rank ignored; trec_eval re-ranks by score)
// Duplicate (qid, docno) pairs are an error, as in trec_eval ("duplicate docs"), rather than
// pytrec_eval.parse_run's silent last-one-wins: a run with duplicates is a bug upstream.

import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { rankDocuments } from './metrics.js';
import type { Qrels, Run } from './types.js';

/** Yields the lines of a UTF-8 text file, one at a time, with their 1-based line numbers. */
export async function* readLines(path: string): AsyncGenerator<[string, number]> {
  const rl = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  for await (const line of rl) {
    n++;
    yield [line, n];
  }
}

/** Parses an integer judgment, rejecting fractions and junk that trec_eval's atol would truncate. */
export function parseRelevance(field: string, where: string): number {
  if (!/^[+-]?\d+$/.test(field)) throw new Error(`${where}: relevance "${field}" is not an integer`);
  return Number(field);
}

function addJudgment(qrels: Qrels, qid: string, doc: string, rel: number, where: string): void {
  let q = qrels.get(qid);
  if (!q) {
    q = new Map();
    qrels.set(qid, q);
  }
  if (q.has(doc)) throw new Error(`${where}: duplicate judgment for query "${qid}" document "${doc}"`);
  q.set(doc, rel);
}

/** Parses TREC qrels text (`qid iter docno rel` per line; blank lines skipped). */
export function parseQrels(text: string, source = 'qrels'): Qrels {
  const qrels: Qrels = new Map();
  text.split(/\r?\n/).forEach((line, i) => parseQrelsLine(qrels, line, `${source}:${i + 1}`));
  return qrels;
}

function parseQrelsLine(qrels: Qrels, line: string, where: string): void {
  const f = line.trim().split(/\s+/);
  if (f.length === 1 && f[0] === '') return;
  if (f.length !== 4) throw new Error(`${where}: expected 4 fields "qid iter docno rel", got ${f.length}`);
  addJudgment(qrels, f[0], f[2], parseRelevance(f[3], where), where);
}

/** Reads a TREC qrels file, streaming. */
export async function readQrels(path: string): Promise<Qrels> {
  const qrels: Qrels = new Map();
  for await (const [line, n] of readLines(path)) parseQrelsLine(qrels, line, `${path}:${n}`);
  return qrels;
}

function parseRunLine(run: Run, line: string, where: string): void {
  const f = line.trim().split(/\s+/);
  if (f.length === 1 && f[0] === '') return;
  if (f.length !== 6) throw new Error(`${where}: expected 6 fields "qid Q0 docno rank score tag", got ${f.length}`);
  const score = Number(f[4]);
  if (f[4] === '' || Number.isNaN(score)) throw new Error(`${where}: score "${f[4]}" is not a number`);
  let q = run.get(f[0]);
  if (!q) {
    q = new Map();
    run.set(f[0], q);
  }
  if (q.has(f[2])) throw new Error(`${where}: duplicate document "${f[2]}" for query "${f[0]}"`);
  q.set(f[2], score);
}

/** Parses TREC run text (`qid Q0 docno rank score tag` per line; blank lines skipped). */
export function parseRun(text: string, source = 'run'): Run {
  const run: Run = new Map();
  text.split(/\r?\n/).forEach((line, i) => parseRunLine(run, line, `${source}:${i + 1}`));
  return run;
}

/** Reads a TREC run file, streaming. */
export async function readRun(path: string): Promise<Run> {
  const run: Run = new Map();
  for await (const [line, n] of readLines(path)) parseRunLine(run, line, `${path}:${n}`);
  return run;
}

/**
 * Formats a run as TREC text: per query, documents in trec_eval order with ranks from 1, scores
 * printed in JavaScript's shortest round-trip form so reading the file back gives the same run.
 * `tag` (default `lsr`) must not contain whitespace.
 */
export function formatRun(run: Run, tag = 'lsr'): string {
  return [...runLines(run, tag)].join('');
}

/** Yields the lines (with trailing newline) of a run in TREC format; see `formatRun`. */
export function* runLines(run: Run, tag = 'lsr'): Generator<string> {
  if (tag === '' || /\s/.test(tag)) throw new Error(`run tag "${tag}" must be non-empty without whitespace`);
  for (const [qid, scores] of run) {
    if (qid === '' || /\s/.test(qid)) throw new Error(`query id "${qid}" is empty or contains whitespace; a TREC file cannot hold it`);
    const ranked = rankDocuments(scores);
    for (let i = 0; i < ranked.length; i++) {
      const doc = ranked[i];
      if (doc === '' || /\s/.test(doc)) throw new Error(`document id "${doc}" is empty or contains whitespace; a TREC file cannot hold it`);
      yield `${qid} Q0 ${doc} ${i + 1} ${scores.get(doc) as number} ${tag}\n`;
    }
  }
}

/** Writes a run to a TREC run file (see `formatRun`), streaming line by line. */
export async function writeRun(path: string, run: Run, tag = 'lsr'): Promise<void> {
  const out = createWriteStream(path, { encoding: 'utf8' });
  const done = new Promise<void>((resolve, reject) => {
    out.on('finish', resolve);
    out.on('error', reject);
  });
  try {
    for (const line of runLines(run, tag)) {
      if (!out.write(line)) await once(out, 'drain');
    }
  } finally {
    out.end();
  }
  await done;
}

/** Formats judgments as TREC qrels text (`qid 0 docno rel`), in map order. */
export function formatQrels(qrels: Qrels): string {
  const parts: string[] = [];
  for (const [qid, docs] of qrels) for (const [doc, rel] of docs) parts.push(`${qid} 0 ${doc} ${rel}\n`);
  return parts.join('');
}
