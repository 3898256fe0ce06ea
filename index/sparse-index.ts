// SparseIndex: the engine as a library. Documents go into immutable native segments (one per added
// batch, merged in tiers in the background); searches run synchronously over the current segment
// list and never wait for a build or a merge. See docs/engine.md for the concurrency rules; the
// segment list, merges and commits are SegmentedIndex's (segmented-index.ts).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { IndexError } from './errors.js';
import { native, type NativeBuildParams, type NativeSegment, type NativeSegmentStats } from './native.js';
import { type ManifestBase, MANIFEST, readManifest, SegmentedIndex } from './segmented-index.js';
import type { SearchOptions, SparseBatch, SparseIndexOptions, SparseQuery, TopK } from './types.js';
import { validateBatch, validateQuery, validateSearch } from './validate.js';

export { MANIFEST };

interface Manifest extends ManifestBase {
  vocab: number;
}

export interface SparseIndexStats {
  docs: number;
  deleted: number;
  segments: number;
  nnz: number;
  bytes: number;
  /** Bytes of the posting lists only (doc ids + impacts) per posting. */
  bytesPerPosting: number;
  segmentStats: NativeSegmentStats[];
}

/** The largest finite half-precision value: the bound on weights stored as f16. */
const F16_MAX = 65504;

export class SparseIndex extends SegmentedIndex<NativeSegment> {
  readonly vocab: number;
  readonly options: Required<Omit<SparseIndexOptions, 'approx'>> & { approx: SparseIndexOptions['approx'] };

  private constructor(options: SparseIndexOptions, dir?: string) {
    const vocab = options.vocab ?? 30522;
    if (!Number.isInteger(vocab) || vocab < 1 || vocab > 0x7fffffff)
      throw new IndexError('INVALID_ARGUMENT', `vocab must be a positive integer, got ${options.vocab}`);
    const a = options.approx;
    if (a && (!Number.isInteger(a.postings) || a.postings < 0))
      throw new IndexError('INVALID_ARGUMENT', `approx.postings must be a non-negative integer, got ${a.postings}`);
    if (a?.blockRatio !== undefined && !(a.blockRatio > 0 && a.blockRatio <= 1))
      throw new IndexError('INVALID_ARGUMENT', `approx.blockRatio must be in (0, 1], got ${a.blockRatio}`);
    if (a?.summaryEnergy !== undefined && !(a.summaryEnergy > 0 && a.summaryEnergy <= 1))
      throw new IndexError('INVALID_ARGUMENT', `approx.summaryEnergy must be in (0, 1], got ${a.summaryEnergy}`);
    if (options.weightPrecision !== undefined && options.weightPrecision !== 'f32' && options.weightPrecision !== 'f16')
      throw new IndexError('INVALID_ARGUMENT', `weightPrecision must be 'f32' or 'f16', got ${String(options.weightPrecision)}`);
    const mergeFactor = options.mergeFactor ?? 8;
    if (!Number.isInteger(mergeFactor) || mergeFactor < 2)
      throw new IndexError('INVALID_ARGUMENT', `mergeFactor must be an integer >= 2, got ${options.mergeFactor}`);
    super(dir, mergeFactor, { className: 'SparseIndex', prefix: 'seg', ext: 'lsr' });
    this.vocab = vocab;
    this.options = {
      vocab,
      quantizeU8: options.quantizeU8 ?? false,
      weightPrecision: options.weightPrecision ?? 'f32',
      approx: a,
      buildThreads: Math.max(1, options.buildThreads ?? 1),
      mergeFactor,
    };
  }

  /** An index held in memory only (commit() is unavailable). */
  static create(options: SparseIndexOptions = {}): SparseIndex {
    return new SparseIndex(options);
  }

  /**
   * Opens the index stored in `dir` (created if absent). A damaged segment or tombstone file raises
   * an IndexError naming the file (code SEGMENT_CORRUPT, SEGMENT_TRUNCATED or SEGMENT_VERSION);
   * the caller rebuilds from its source of truth.
   */
  static open(dir: string, options: SparseIndexOptions = {}): SparseIndex {
    mkdirSync(dir, { recursive: true });
    const mpath = join(dir, MANIFEST);
    const m = readManifest<Manifest>(mpath);
    if (m && options.vocab !== undefined && options.vocab !== m.vocab)
      throw new IndexError('INVALID_ARGUMENT', `index in '${dir}' has vocab ${m.vocab}, options ask for ${options.vocab}`);
    const idx = new SparseIndex({ ...options, vocab: m?.vocab ?? options.vocab }, dir);
    if (m) idx.restore(dir, m);
    return idx;
  }

  private buildParams(): NativeBuildParams {
    const a = this.options.approx;
    return {
      quantizeU8: this.options.quantizeU8,
      weightsF16: this.options.weightPrecision === 'f16',
      threads: this.options.buildThreads,
      approxPostings: a?.postings ?? 0,
      approxBlockRatio: a?.blockRatio ?? 0.1,
      approxSummaryEnergy: a?.summaryEnergy ?? 0.4,
      approxBlocks: a?.blocks ?? false,
    };
  }

  /**
   * Adds a batch; resolves once its documents are searchable, with the numbers they were given.
   * The batch's arrays are read by a worker thread: do not modify them until the promise settles.
   */
  async add(batch: SparseBatch): Promise<{ first: number; count: number }> {
    this.checkOpen();
    const n = validateBatch(batch, this.vocab, this.nextDocno, this.options.weightPrecision === 'f16' ? F16_MAX : Infinity);
    return this.addSegment(n, batch.docnos, (docnos) => {
      // A segment's arrays are sized by the largest term it holds, not by the index's vocabulary,
      // so open vocabularies (BM25 over an analyzer's terms) cost nothing for unused ids.
      let maxTerm = 0;
      for (let i = 0; i < batch.terms.length; i++) if (batch.terms[i] > maxTerm) maxTerm = batch.terms[i];
      return native.buildSparseSegment(docnos, batch.offsets, batch.terms, batch.weights, maxTerm + 1, this.buildParams(), true);
    });
  }

  /** The stored vector of a document, or null when absent or deleted. */
  document(docno: number): SparseQuery | null {
    for (const s of this.segments) {
      const d = s.native.document(docno);
      if (d) return d.deleted ? null : { terms: d.terms, weights: d.weights };
    }
    return null;
  }

  private nativeParams(o: SearchOptions) {
    return {
      k: o.k,
      approx: o.mode === 'approx',
      strategy: o.strategy ?? 'pruned',
      queryCut: o.queryCut ?? (o.strategy === 'blocks' ? 10 : 1000),
      heapFactor: o.heapFactor ?? 0.9,
      rerank: o.rerank ?? 100,
      filter: o.filter,
    };
  }

  /** Top-k by dot product, on the calling thread. */
  search(query: SparseQuery, options: SearchOptions): TopK {
    this.checkOpen();
    validateSearch(options);
    validateQuery(query, this.vocab);
    return native.searchSparse(this.natives(), query.terms, query.weights, this.nativeParams(options));
  }

  /** Many queries spread over `threads` native threads, off the event loop. */
  async searchBatch(queries: readonly SparseQuery[], options: SearchOptions, threads = 1): Promise<TopK[]> {
    this.checkOpen();
    validateSearch(options);
    if (!Number.isInteger(threads) || threads < 1)
      throw new IndexError('INVALID_ARGUMENT', `threads must be a positive integer, got ${threads}`);
    let total = 0;
    queries.forEach((q, i) => {
      validateQuery(q, this.vocab, `queries[${i}]`);
      total += q.terms.length;
    });
    const offsets = new Uint32Array(queries.length + 1);
    const terms = new Uint32Array(total);
    const weights = new Float32Array(total);
    queries.forEach((q, i) => {
      terms.set(q.terms, offsets[i]);
      weights.set(q.weights, offsets[i]);
      offsets[i + 1] = offsets[i] + q.terms.length;
    });
    const r = await native.searchSparseBatch(this.natives(), offsets, terms, weights, this.nativeParams(options), threads);
    return queries.map((_, i) => ({
      docs: r.docs.subarray(r.offsets[i], r.offsets[i + 1]),
      scores: r.scores.subarray(r.offsets[i], r.offsets[i + 1]),
    }));
  }

  protected override openNative(path: string): NativeSegment {
    return native.openSparseSegment(path);
  }

  protected override mergeNative(segs: NativeSegment[]): Promise<NativeSegment> {
    return native.mergeSparseSegments(segs, this.buildParams());
  }

  protected override manifestFields() {
    return { vocab: this.vocab };
  }

  stats(): SparseIndexStats {
    const segmentStats = this.segments.map((s) => s.native.stats());
    let docs = 0,
      deleted = 0,
      nnz = 0,
      bytes = 0,
      postingBytes = 0;
    for (const s of segmentStats) {
      docs += s.docs - s.deleted;
      deleted += s.deleted;
      nnz += s.nnz;
      bytes += s.bytes;
      postingBytes += s.sectionBytes.invDocs + s.sectionBytes.invWeights;
    }
    return { docs, deleted, segments: segmentStats.length, nnz, bytes, bytesPerPosting: nnz ? postingBytes / nnz : 0, segmentStats };
  }
}
