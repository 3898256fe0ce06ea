// Seeded random sparse data and a brute-force scorer: the oracle the engine's tests compare against.
import type { SparseBatch, SparseQuery } from '../../index/index.js';

import { mulberry32 as rng } from './prng.js';

export { rng };

/** Documents with skewed term frequencies (low ids common), weights in (0, 3]. */
export function randomDocs(n: number, vocab: number, avgTerms: number, seed: number): SparseBatch {
  const r = rng(seed);
  const offsets = new Uint32Array(n + 1);
  const terms: number[] = [];
  const weights: number[] = [];
  for (let d = 0; d < n; d++) {
    const len = 1 + Math.floor(r() * 2 * avgTerms);
    const seen = new Set<number>();
    for (let i = 0; i < len; i++) {
      const t = Math.min(vocab - 1, Math.floor(vocab * Math.pow(r(), 2.5)));
      if (seen.has(t)) continue;
      seen.add(t);
      terms.push(t);
      // Quantized to 1/8 so that exact score ties happen and tie-breaking is exercised.
      weights.push(Math.max(0.125, Math.round(r() * 3 * 8) / 8));
    }
    offsets[d + 1] = terms.length;
  }
  return { offsets, terms: Uint32Array.from(terms), weights: Float32Array.from(weights) };
}

/** Documents [from, to) of a batch, as a batch of their own (offsets rebased). */
export function sliceBatch(b: SparseBatch, from: number, to: number): SparseBatch {
  const a = b.offsets[from];
  return {
    offsets: b.offsets.slice(from, to + 1).map((o) => o - a),
    terms: b.terms.slice(a, b.offsets[to]),
    weights: b.weights.slice(a, b.offsets[to]),
  };
}

export function randomQuery(vocab: number, len: number, r: () => number): SparseQuery {
  const terms = new Uint32Array(len);
  const weights = new Float32Array(len);
  for (let i = 0; i < len; i++) {
    terms[i] = Math.min(vocab - 1, Math.floor(vocab * Math.pow(r(), 2)));
    weights[i] = Math.max(0.125, Math.round(r() * 2 * 8) / 8);
  }
  return { terms, weights };
}

export interface OracleDoc {
  docno: number;
  vec: Map<number, number>;
}

export function toOracle(b: SparseBatch, firstDocno: number): OracleDoc[] {
  const out: OracleDoc[] = [];
  for (let d = 0; d + 1 < b.offsets.length; d++) {
    const vec = new Map<number, number>();
    for (let i = b.offsets[d]; i < b.offsets[d + 1]; i++) vec.set(b.terms[i], Math.max(vec.get(b.terms[i]) ?? 0, b.weights[i]));
    out.push({ docno: b.docnos ? b.docnos[d] : firstDocno + d, vec });
  }
  return out;
}

/** Brute force in float64: every live document with a positive score, best first, ties by docno. */
export function bruteForce(docs: OracleDoc[], q: SparseQuery, k: number, deleted = new Set<number>(), allow?: (d: number) => boolean) {
  const qv = new Map<number, number>();
  for (let i = 0; i < q.terms.length; i++) qv.set(q.terms[i], (qv.get(q.terms[i]) ?? 0) + q.weights[i]);
  const hits: { docno: number; score: number }[] = [];
  for (const d of docs) {
    if (deleted.has(d.docno) || (allow && !allow(d.docno))) continue;
    let s = 0;
    for (const [t, w] of qv) s += w * (d.vec.get(t) ?? 0);
    if (s > 0) hits.push({ docno: d.docno, score: s });
  }
  hits.sort((a, b) => b.score - a.score || a.docno - b.docno);
  return hits.slice(0, k);
}
