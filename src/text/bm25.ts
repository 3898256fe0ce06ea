// BM25 split into a document side and a query side so that score = dot product, which is what the
// native engine computes:
//   document weight  w(t,d) = tf·(k1+1) / (tf + k1·(1 − b + b·dl/avgdl))
//   query weight     q(t)   = idf(t) · count of t in the query,  idf = ln(1 + (N − df + 0.5)/(df + 0.5))
// (Lucene's BM25Similarity, as Anserini uses it). df and N come from the store when the query runs;
// avgdl is the store's value when a batch's segment is built, so early segments of a growing
// collection carry a slightly stale avgdl until the index is rebuilt from the store. Batch
// boundaries depend only on the body and the batch size, and on a client pausing longer than the
// idle flush (collections/ingest.ts), so the same corpus sent the same way scores the same.

export interface Bm25Params {
  /** Term-frequency saturation. Default 0.9 (Anserini). */
  k1: number;
  /** Length normalization, 0..1. Default 0.4 (Anserini). */
  b: number;
}

export const BM25_DEFAULTS: Bm25Params = { k1: 0.9, b: 0.4 };

// Lucene stores a document's length in one byte (SmallFloat.intToByte4) and scores with the decoded
// value; doing the same keeps our rankings on Anserini's, which matters for long documents.
const NUM_FREE_VALUES = 24;

function longToInt4(i: number): number {
  const numBits = 32 - Math.clz32(i);
  if (numBits < 4) return i;
  const shift = numBits - 4;
  return ((i >>> shift) & 0x07) | ((shift + 1) << 3);
}

function int4ToLong(i: number): number {
  const bits = i & 0x07;
  const shift = (i >>> 3) - 1;
  return shift === -1 ? bits : (bits | 0x08) * 2 ** shift;
}

/** The document length Lucene scores with after its one-byte norm encoding. */
export function luceneLength(dl: number): number {
  if (dl < NUM_FREE_VALUES) return dl;
  return NUM_FREE_VALUES + int4ToLong(longToInt4(dl - NUM_FREE_VALUES));
}

export function idf(df: number, n: number): number {
  return Math.log(1 + (n - df + 0.5) / (df + 0.5));
}

/** Fills `out` with the document-side weights of one document. */
export function documentWeights(tfs: Uint32Array, dl: number, avgdl: number, p: Bm25Params, out: Float32Array, at = 0): void {
  const norm = p.k1 * (1 - p.b + (p.b * luceneLength(dl)) / avgdl);
  for (let i = 0; i < tfs.length; i++) out[at + i] = (tfs[i] * (p.k1 + 1)) / (tfs[i] + norm);
}
