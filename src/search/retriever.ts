// A retriever turns a query into a sparse vector over one index of the collection. BM25 is the first;
// SPLADE (learned sparse) and dense retrievers, and fusion over several, plug in beside it: the
// planner in search/search.ts only talks to this interface.
import type { SparseIndex, SparseQuery } from '../../index/index.js';

export interface EncodedQuery {
  query: SparseQuery;
  /** The term string of each entry of `query`, for `explain`. */
  terms: string[];
}

export interface SparseRetriever {
  readonly name: string;
  readonly index: SparseIndex;
  /** Encodes query text; terms unknown to the collection are left out. A model may answer later. */
  encodeText(text: string): EncodedQuery | Promise<EncodedQuery>;
  /** Encodes a client-given sparse vector (term string -> weight). */
  encodeVector(vector: Record<string, number>): EncodedQuery;
}
