// Generated evaluation fixtures: graded judgments (including 0 and negative), tied scores, scores
// that tie only after rounding to 32-bit float, document ids whose byte order differs from their
// UTF-16 order, queries judged but absent from the run, run queries without judgments, empty
// result lists and queries whose judgments are all non-relevant. Also a tiny BEIR folder for runs
// through the service.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Qrels, Run } from '../../src/eval/types.js';

import { mulberry32 as prng } from '../helpers/prng.js';

export { prng };

// Ids chosen so that numeric, case, accented, private-use (U+E000) and astral characters meet in ties.
const DOC_IDS = [
  'd1',
  'd2',
  'd9',
  'd10',
  'd11',
  'D1',
  'a',
  'B',
  'b',
  'zz',
  'é',
  'e\u0301',
  '\uE000x',
  '\u{1D538}x',
  '100',
  '99',
  'doc-7',
  'doc_7',
  'x',
  'y',
];

export interface Fixture {
  qrels: Qrels;
  run: Run;
  cutoffs: number[];
}

/** Builds one fixture from `seed`. */
export function makeFixture(seed: number): Fixture {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const qrels: Qrels = new Map();
  const run: Run = new Map();
  const nq = 3 + Math.floor(rnd() * 8);
  for (let q = 0; q < nq; q++) {
    const qid = `q${q}`;
    const kind = rnd();
    // ~10% judged only, ~10% run only, ~10% empty result list, rest both.
    const judged = kind >= 0.1;
    const inRun = kind < 0.1 || kind >= 0.2;
    if (judged) {
      const j = new Map<string, number>();
      const nj = 1 + Math.floor(rnd() * 10);
      const allZero = rnd() < 0.1;
      for (let i = 0; i < nj; i++) j.set(pick(DOC_IDS), allZero ? 0 : pick([-1, 0, 0, 1, 1, 1, 2, 3]));
      qrels.set(qid, j);
    }
    if (inRun) {
      const r = new Map<string, number>();
      const empty = kind >= 0.2 && kind < 0.3;
      const nd = empty ? 0 : 1 + Math.floor(rnd() * DOC_IDS.length);
      const style = rnd();
      for (let i = 0; i < nd; i++) {
        const doc = pick(DOC_IDS);
        let score: number;
        if (style < 0.3)
          score = pick([0, 1, 2, 3, -1]); // many exact ties
        else if (style < 0.5)
          score = pick([1, 1000]) + pick([0, 1e-9, 2e-8, 5e-8, 2e-5, 1e-3]); // float32 ties
        else score = Math.round((rnd() * 20 - 5) * 1e6) / 1e6;
        r.set(doc, score);
      }
      run.set(qid, r);
    }
  }
  const cutoffs = [...new Set([1, 2, 3, 5, 10, 1 + Math.floor(rnd() * 25)])].sort((a, b) => a - b);
  return { qrels, run, cutoffs };
}

/** Converts nested Maps to plain objects for JSON. */
export function toObject(m: Map<string, Map<string, number>>): Record<string, Record<string, number>> {
  const o: Record<string, Record<string, number>> = {};
  for (const [k, v] of m) o[k] = Object.fromEntries(v);
  return o;
}

/**
 * Writes a five-document BEIR folder (corpus.jsonl, queries.jsonl, qrels/test.tsv) under `dir` where
 * BM25's ranking is obvious: q1 "apple trees" finds d1 (relevant 2) then d4 (relevant 1), q2 finds
 * d2, q3's only relevant document shares no term with it, q4 is unjudged. BM25 scores nDCG@10,
 * MRR@10 and MAP 2/3 (the corpus test/eval/eval-service.test.ts builds). Returns the folder.
 */
export async function writeFruitBeir(dir: string): Promise<string> {
  await mkdir(join(dir, 'qrels'), { recursive: true });
  const docs = [
    { _id: 'd1', title: 'Apples', text: 'apple orchards grow apple trees' },
    { _id: 'd2', title: 'Bananas', text: 'banana plantations in the tropics' },
    { _id: 'd3', title: 'Cherries', text: 'cherry blossoms in spring' },
    { _id: 'd4', title: 'Fruit', text: 'apple and banana and cherry salad' },
    { _id: 'd5', title: 'Cars', text: 'engines pistons and gearboxes' },
  ];
  await writeFile(join(dir, 'corpus.jsonl'), `${docs.map((d) => JSON.stringify(d)).join('\n')}\n`);
  const queries = [
    { _id: 'q1', text: 'apple trees' },
    { _id: 'q2', text: 'tropical banana plantations' },
    { _id: 'q3', text: 'gearboxes' },
    { _id: 'q4', text: 'unjudged query about cherry' },
  ];
  await writeFile(join(dir, 'queries.jsonl'), `${queries.map((q) => JSON.stringify(q)).join('\n')}\n`);
  await writeFile(join(dir, 'qrels', 'test.tsv'), 'query-id\tcorpus-id\tscore\nq1\td1\t2\nq1\td4\t1\nq2\td2\t1\nq3\td3\t1\n');
  return dir;
}
