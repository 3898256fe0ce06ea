// A document's passages seen as one vector, for what reads a document whole (pseudo-relevance
// feedback; dense verification keeps the passages): the pooling `passages.score: 'pooled'` applies at
// ingest (encoder/long-documents.ts), over the passages a storage that keeps them holds.
import type { SparseQuery } from '../../index/index.js';
import { poolDense, poolSparse } from '../encoder/long-documents.js';
import type { PassageOf } from './backend.js';

/** The element-wise max of sparse passages (terms ascending), or null for none. */
export function maxOfPassages(passages: readonly PassageOf<SparseQuery>[]): SparseQuery | null {
  if (passages.length === 0) return null;
  const offsets = new Uint32Array(passages.length + 1);
  passages.forEach((p, i) => {
    offsets[i + 1] = offsets[i] + p.vector.terms.length;
  });
  const terms = new Uint32Array(offsets[passages.length]);
  const weights = new Float32Array(offsets[passages.length]);
  passages.forEach((p, i) => {
    terms.set(p.vector.terms, offsets[i]);
    weights.set(p.vector.weights, offsets[i]);
  });
  const pooled = poolSparse({ offsets, terms, weights }, new Array(passages.length).fill(0), 1);
  return {
    terms: pooled.terms.subarray(pooled.offsets[0], pooled.offsets[1]),
    weights: pooled.weights.subarray(pooled.offsets[0], pooled.offsets[1]),
  };
}

/** The mean of dense passages (not renormalized), or undefined for none. */
export function meanOfPassages(passages: readonly PassageOf<Float32Array>[], dim: number): Float32Array | undefined {
  if (passages.length === 0) return undefined;
  const rows = new Float32Array(passages.length * dim);
  passages.forEach((p, i) => rows.set(p.vector, i * dim));
  return poolDense(rows, dim, new Array(passages.length).fill(0), 1, false);
}
