// Teachers for one training query: each teacher retriever of the collection names its top `depth`
// documents, the candidates are their union (the source document included), and then every
// candidate is scored exactly by every teacher, never imputed from a rank. The exact route is the
// engine's own search restricted to the candidates: a filter bitset that allows only them and k =
// their count, so each teacher's score of a candidate is the number its search would return for it
// (the same query encoding, the same kernel). A sparse teacher (BM25, SPLADE) does not return a
// candidate that shares no term with the query: its score is exactly 0.
//
// Scores are then normalized per query and per teacher by min-max over the candidates, and the
// target is their mean: the per-query normalized heterogeneous ensemble of Geng et al. ("Towards
// Competitive Search Relevance For Inference-Free Learned Sparse Retrievers", 2024).
import type { Candidates } from '../backends/backend.js';
import type { Collection } from '../collections/collection.js';
import type { EncodedQuery, Retriever } from '../retrievers/retriever.js';
import { topAsync } from '../search/single.js';
import type { Teacher } from './options.js';

/** One query's candidates and each teacher's exact score of each (aligned with `docnos`). */
export interface ScoredCandidates {
  /** Document numbers: the source first, then each teacher's top `depth` in teacher order, first seen kept. */
  docnos: number[];
  raw: Record<string, number[]>;
}

/** The teacher retrievers of a collection, in teacher order. */
export function teacherRetrievers(c: Collection, teachers: readonly Teacher[]): [Teacher, Retriever][] {
  return teachers.map((t) => {
    const r = c.retriever(t);
    if (!r) throw new Error(`the teachers' collection has no '${t}' retriever`);
    return [t, r];
  });
}

/** A bitset over document numbers 0..limit-1 allowing `docnos` (the embedded backend's filter form). */
export function candidateBits(docnos: readonly number[], limit: number): Candidates {
  const bits = new Uint8Array((Math.max(limit, 1) + 7) >>> 3);
  for (const d of docnos) bits[d >>> 3] |= 1 << (d & 7);
  return { bits, matches: new Set(docnos).size };
}

/**
 * Mines and scores the candidates of query `text` whose positive is `source` (a document number).
 * `limit` is one past the collection's highest document number (the filter covers them all).
 */
export async function scoreCandidates(
  c: Collection,
  teachers: readonly [Teacher, Retriever][],
  text: string,
  source: number,
  depth: number,
  limit: number,
): Promise<ScoredCandidates> {
  const all = await c.candidates();
  const encoded: EncodedQuery[] = await Promise.all(teachers.map(([, r]) => r.encodeQuery({ query: text }, 'query')));
  const tops = await Promise.all(teachers.map(([, r], i) => topAsync(r, encoded[i], depth, all, undefined)));
  const seen = new Set<number>([source]);
  const docnos = [source];
  for (const top of tops)
    if (top)
      for (const d of top.docs)
        if (!seen.has(d)) {
          seen.add(d);
          docnos.push(d);
        }
  const only = candidateBits(docnos, limit);
  const raw: Record<string, number[]> = {};
  await Promise.all(
    teachers.map(async ([t, r], i) => {
      const top = await topAsync(r, encoded[i], docnos.length, only, { mode: 'exact' });
      const by = new Map<number, number>();
      if (top) for (let j = 0; j < top.docs.length; j++) by.set(top.docs[j], top.scores[j]);
      raw[t] = docnos.map((d) => by.get(d) ?? 0);
    }),
  );
  return { docnos, raw };
}

/**
 * Min-max over one query's candidates: (s − min) / (max − min), in [0, 1]. A teacher that scores
 * every candidate alike (max = min) tells nothing about them: all 0.
 */
export function minMax(xs: readonly number[]): number[] {
  let lo = Number.POSITIVE_INFINITY,
    hi = Number.NEGATIVE_INFINITY;
  for (const x of xs) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  const span = hi - lo;
  return xs.map((x) => (span > 0 ? (x - lo) / span : 0));
}

/** The training example of a query: the source and its `negatives` highest-target other candidates. */
export interface Example {
  /** Indexes into the candidates: the source (0) first, then the negatives by target, highest first. */
  picked: number[];
  /** Per teacher, min-max normalized over all candidates. */
  normalized: Record<string, number[]>;
  /** Mean of the normalized scores, per candidate. */
  target: number[];
  /** Per teacher, [min, max] of its raw scores over all candidates (what min-max divided by). */
  range: Record<string, [number, number]>;
}

export function buildExample(raw: Record<string, number[]>, teachers: readonly string[], negatives: number): Example {
  const normalized: Record<string, number[]> = {};
  const range: Record<string, [number, number]> = {};
  for (const t of teachers) {
    normalized[t] = minMax(raw[t]);
    range[t] = [Math.min(...raw[t]), Math.max(...raw[t])];
  }
  const n = raw[teachers[0]].length;
  const target = Array.from({ length: n }, (_, i) => teachers.reduce((s, t) => s + normalized[t][i], 0) / teachers.length);
  // Ties keep candidate order (Array.prototype.sort is stable): the source first, then teacher order.
  const others = Array.from({ length: n - 1 }, (_, i) => i + 1).sort((a, b) => target[b] - target[a]);
  return { picked: [0, ...others.slice(0, negatives)], normalized, target, range };
}
