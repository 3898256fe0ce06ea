// Dense verification of sparse candidates (the bi-granular idea: a cheap first stage finds
// candidates, a precise second stage looks again): the top `candidates` of a ranking (one sparse
// retriever's, or a fusion's) are re-scored by the dense model's exact inner product of the query
// with each candidate's stored vector, and re-ranked:
//
//   weight 1 (default)  by the inner product alone;
//   weight w < 1        by w · z(inner product) + (1 − w) · z(first-stage score), each z-scored over
//                       the candidates (mean 0, sample standard deviation 1; a constant list gives 0).
//
// Documents below the candidates keep the first stage's order after them, with scores below the
// lowest verified one (lowest − 1, − 2, …), so a deep page still lists them. The dense model runs
// once on the query (or the request's `dense_vector` is used); no dense index is searched.
// Explain gives each hit its rank before and after, its first-stage and its dense score.
import type { Collection } from '../collections/collection.js';
import { isPlainObject } from '../collections/documents.js';
import { fail } from '../errors.js';
import type { EncodedQuery, Retriever } from '../retrievers/retriever.js';

export const DEFAULT_VERIFY_CANDIDATES = 100;
/** Most candidates one request may verify (the result window). */
export const MAX_VERIFY_CANDIDATES = 10_000;

/** `verify` of a search request. */
export interface VerifyRequest {
  /** The dense retriever whose stored vectors re-score; default the collection's only dense retriever. */
  retriever?: string;
  /** Candidates re-scored, 1..10000. Default 100. */
  candidates?: number;
  /** Weight of the dense score in the re-ranking, 0..1. Default 1 (the dense score alone). */
  weight?: number;
}

export interface VerifyPlan {
  retriever: Retriever;
  candidates: number;
  weight: number;
}

/** What explain shows of a verified hit. */
export interface VerifyExplain {
  /** 1-based rank in the first stage. */
  rank_before: number;
  /** 1-based rank after verification. */
  rank_after: number;
  first_score: number;
  /** The exact inner product; null below the candidates or where the document has no stored vector. */
  dense_score: number | null;
}

const KEYS = ['retriever', 'candidates', 'weight'];

/** Checks `verify` against the collection; VALIDATION_FAILED / UNKNOWN_RETRIEVER naming the field. */
export function checkVerify(c: Collection, raw: unknown, field = 'verify'): VerifyPlan {
  if (!isPlainObject(raw)) fail('VALIDATION_FAILED', `${field} must be an object such as {"candidates": 100}`, field);
  for (const k of Object.keys(raw))
    if (!KEYS.includes(k)) fail('VALIDATION_FAILED', `unknown property '${k}' (allowed: ${KEYS.join(', ')})`, `${field}.${k}`);
  const dense = [...c.retrievers.values()].filter((r) => r.shape === 'dense' && r.stored);
  let retriever: Retriever | undefined;
  if (raw.retriever !== undefined) {
    if (typeof raw.retriever !== 'string') fail('VALIDATION_FAILED', 'retriever must be a retriever name', `${field}.retriever`);
    retriever = c.retriever(raw.retriever);
    if (!retriever)
      fail(
        'UNKNOWN_RETRIEVER',
        `retriever '${raw.retriever}' is not available in collection '${c.name}' (available: ${[...c.retrievers.keys()].join(', ')})`,
        `${field}.retriever`,
      );
    if (!dense.includes(retriever))
      fail('VALIDATION_FAILED', `verification re-scores with a dense retriever; '${raw.retriever}' is not one`, `${field}.retriever`);
  } else {
    if (dense.length !== 1)
      fail(
        'VALIDATION_FAILED',
        dense.length === 0
          ? `collection '${c.name}' has no dense retriever to verify with`
          : `collection '${c.name}' has ${dense.length} dense retrievers: name one in ${field}.retriever`,
        `${field}.retriever`,
      );
    retriever = dense[0];
  }
  const n = raw.candidates ?? DEFAULT_VERIFY_CANDIDATES;
  if (!Number.isInteger(n) || (n as number) < 1 || (n as number) > MAX_VERIFY_CANDIDATES)
    fail(
      'VALIDATION_FAILED',
      `candidates must be an integer from 1 to ${MAX_VERIFY_CANDIDATES}, got ${JSON.stringify(raw.candidates)}`,
      `${field}.candidates`,
    );
  const weight = raw.weight ?? 1;
  if (typeof weight !== 'number' || !(weight >= 0 && weight <= 1))
    fail('VALIDATION_FAILED', `weight must be a number from 0 to 1, got ${JSON.stringify(raw.weight)}`, `${field}.weight`);
  return { retriever, candidates: n as number, weight };
}

function zScores(xs: readonly number[]): number[] {
  const n = xs.length;
  if (n < 2) return xs.map(() => 0);
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  return xs.map((x) => (sd > 0 ? (x - mean) / sd : 0));
}

export interface Verified {
  docnos: Uint32Array;
  scores: Float64Array;
  /** Per output position, what explain shows. */
  explain: VerifyExplain[];
}

/**
 * Re-ranks the first stage (`docnos`/`scores`, best first) with `query` encoded by the plan's dense
 * retriever (see the file comment).
 */
export async function verify(
  plan: VerifyPlan,
  query: EncodedQuery,
  docnos: ArrayLike<number>,
  scores: ArrayLike<number>,
): Promise<Verified> {
  if (query.shape !== 'dense') throw new Error('verification needs a dense query');
  const q = query.vector;
  const n = Math.min(plan.candidates, docnos.length);
  const head = Array.from({ length: n }, (_, i) => docnos[i]);
  const vectors = await plan.retriever.stored!(head);
  const dot = (v: Float32Array) => {
    let s = 0;
    for (let j = 0; j < q.length; j++) s += q[j] * v[j];
    return s;
  };
  // A retriever that keeps passages scores a document by its best one (MaxP), and so does verification.
  const dense: (number | null)[] = vectors.map((v) => {
    if (v?.shape !== 'dense') return null;
    return v.passages?.length ? Math.max(...v.passages.map(dot)) : dot(v.vector);
  });
  // Candidates without a stored vector (removed since the first stage) go after the verified ones.
  const scored = head.map((_, i) => i).filter((i) => dense[i] !== null);
  let key: number[];
  if (plan.weight >= 1) key = scored.map((i) => dense[i]!);
  else {
    const zd = zScores(scored.map((i) => dense[i]!));
    const zf = zScores(scored.map((i) => scores[i]));
    key = scored.map((_, j) => plan.weight * zd[j] + (1 - plan.weight) * zf[j]);
  }
  // Ties keep the first stage's order.
  const order = scored.map((i, j) => ({ i, s: key[j] })).sort((a, b) => b.s - a.s || a.i - b.i);
  const outDocs: number[] = [];
  const outScores: number[] = [];
  const explain: VerifyExplain[] = [];
  for (const { i, s } of order) {
    outDocs.push(head[i]);
    outScores.push(s);
    explain.push({ rank_before: i + 1, rank_after: outDocs.length, first_score: scores[i], dense_score: dense[i] });
  }
  let floor = outScores.length > 0 ? outScores[outScores.length - 1] : 0;
  const rest = [...head.map((_, i) => i).filter((i) => dense[i] === null), ...Array.from({ length: docnos.length - n }, (_, j) => n + j)];
  for (const i of rest) {
    floor -= 1;
    outDocs.push(docnos[i]);
    outScores.push(floor);
    explain.push({ rank_before: i + 1, rank_after: outDocs.length, first_score: scores[i], dense_score: null });
  }
  return { docnos: Uint32Array.from(outDocs), scores: Float64Array.from(outScores), explain };
}
