/**
 * A batch of sparse documents in CSR form: document i has entries
 * `terms[offsets[i] .. offsets[i+1])` with the same slice of `weights`.
 * Terms need not be sorted; a term repeated within one document keeps its largest weight.
 * Weights are finite and >= 0 (zeros are dropped).
 */
export interface SparseBatch {
  /** `docs + 1` entries, starting at 0 and ending at `terms.length`, non-decreasing. */
  offsets: Uint32Array;
  terms: Uint32Array;
  weights: Float32Array;
  /**
   * Document numbers to give the documents, strictly increasing and above every number already in
   * the index. Default: the next numbers after the highest one used.
   */
  docnos?: Uint32Array;
}

/** A sparse query: repeated terms are summed; weights are finite and >= 0. */
export interface SparseQuery {
  terms: Uint32Array;
  weights: Float32Array;
}

/** Top-k result, best first: ties in score are ordered by ascending document number. */
export interface TopK {
  docs: Uint32Array;
  scores: Float32Array;
}

export interface SearchOptions {
  /** Number of results, 1..100000. */
  k: number;
  /**
   * `exact` (default) returns exactly what a brute-force scorer returns. `approx` visits only the
   * blocked, summarized posting lists (requires an index built with `approx.postings > 0`; falls
   * back to exact on segments without them); returned scores are still exact, recall is traded.
   */
  mode?: 'exact' | 'approx';
  /**
   * approx: `pruned` (default) accumulates the query's `queryCut` heaviest terms over each term's
   * statically pruned list, then re-scores the `rerank` best candidates exactly. `blocks` is the
   * Seismic-style walk over clustered blocks with summaries (needs `approx.blocks` at build time).
   */
  strategy?: 'pruned' | 'blocks';
  /** approx: query terms (heaviest first) whose lists are visited. Default: all for `pruned`, 10 for `blocks`. */
  queryCut?: number;
  /** approx pruned: candidates re-scored exactly from the forward index (at least k). Default 100. */
  rerank?: number;
  /**
   * approx blocks: a block is evaluated when (query · block summary) >= heapFactor × current k-th
   * score. Lower is more thorough (higher recall, slower). Default 0.9.
   */
  heapFactor?: number;
  /** Only documents whose bit is set in this bitset (bit i = document number i) can match. */
  filter?: Uint8Array;
}

export interface ApproxOptions {
  /** Postings kept per term list (lambda), heaviest first. 0 disables the approximate index. */
  postings: number;
  /** Blocks per kept posting (beta / lambda). Default 0.1. */
  blockRatio?: number;
  /** Fraction of each block summary's L1 mass kept (alpha). Default 0.4. */
  summaryEnergy?: number;
  /** Also cluster each pruned list into blocks with summaries (the `blocks` strategy). Default false. */
  blocks?: boolean;
}

export interface SparseIndexOptions {
  /** Term ids are < vocab. Default 30522 (BERT WordPiece). */
  vocab?: number;
  /**
   * Store inverted impacts as u8 with a per-term scale (posting lists 6 -> 3 bytes a posting). Exact
   * search stays exact: the documents within the quantization bound of the k-th score are re-scored
   * from the forward index. Default false.
   */
  quantizeU8?: boolean;
  /**
   * Precision of stored document weights. `f16` rounds each weight to half precision at ingest
   * (relative error <= 2^-11; a weight below the smallest half, 2^-24, is stored as 2^-24) and halves
   * the forward index; every score, `document()` and explain then use the rounded weights. Weights
   * must be <= 65504. A setting applies to segments built or merged from then on. Default `f32`.
   */
  weightPrecision?: 'f32' | 'f16';
  /** Build the approximate (Seismic-style) structures. Default: off. */
  approx?: ApproxOptions;
  /** Threads used to build and merge segments. Default 1. */
  buildThreads?: number;
  /**
   * Tiered merging: when this many segments share a size tier (tiers grow by this factor),
   * they are merged into one in the background. Default 8.
   */
  mergeFactor?: number;
}
