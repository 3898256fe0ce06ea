// DenseIndex: dense vectors (f32, or i8 with a per-vector scale) in immutable native segments, with
// the SparseIndex's rules: one segment per added batch, tiered background merges, tombstone deletes,
// searches that never wait for a build, and commits of segment files, tombstone files and a manifest
// (each a temporary file, fsync, rename). Exact search scores every live row; `approx` walks each
// segment's HNSW graph. See docs/engine.md ("Dense vectors"). The segment list, merges and commits
// are the SparseIndex's own code (SegmentedIndex, segmented-index.ts).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { IndexError } from './errors.js';
import { native, type NativeDenseBuildParams, type NativeDenseSegment, type NativeDenseSegmentStats } from './native.js';
import { type ManifestBase, MANIFEST, readManifest, SegmentedIndex } from './segmented-index.js';
import type { TopK } from './types.js';
import { validateDenseBatch, validateDenseQuery, validateDenseSearch } from './validate.js';

export const DENSE_MANIFEST = MANIFEST;

/** HNSW build settings. Defaults: m 16, efConstruction 200, seed 1. */
export interface DenseApproxOptions {
  /** Links per node on the upper levels (2·m on level 0), 2..128. More: better recall, more memory and build time. */
  m?: number;
  /** Candidate list size while inserting, >= m. More: a better graph, slower builds. */
  efConstruction?: number;
  /** Seed of the level draws (a node's level is a hash of seed and its document number). */
  seed?: number;
}

export interface DenseIndexOptions {
  /** Vector dimension, 1..65536. */
  dim: number;
  /**
   * `f32` (default) stores the vectors as given. `i8` stores round(x / s) with s = max|x| / 127 per
   * vector: 4x less memory; each score is off by at most (s / 2) · Σ|q_i| (docs/engine.md).
   */
  storage?: 'f32' | 'i8';
  /** Build an HNSW graph in every segment (for `mode: 'approx'`). Default: off. */
  approx?: DenseApproxOptions;
  /** Threads used to build and merge segments (the graph build is parallel). Default 1. */
  buildThreads?: number;
  /** Tiered merging, as SparseIndex: this many segments in one size tier are merged. Default 8. */
  mergeFactor?: number;
}

/** Row-major vectors: row i is `vectors[i*dim .. (i+1)*dim)`. Components must be finite. */
export interface DenseBatch {
  vectors: Float32Array;
  /**
   * Document numbers, strictly increasing and above every number already in the index. Default:
   * the next numbers after the highest one used.
   */
  docnos?: Uint32Array;
}

export interface DenseSearchOptions {
  /** Number of results, 1..100000. */
  k: number;
  /**
   * `exact` (default) scores every live, allowed vector: the result is what a brute-force scorer
   * returns (ties by ascending document number). `approx` walks each segment's HNSW graph (falls back
   * to exact on segments without one, and for filters that keep under 5% of a segment); scores are
   * the exact scores of the documents found, recall is traded.
   */
  mode?: 'exact' | 'approx';
  /** approx: candidate list size of the graph walk, 1..100000, raised to k. Default 64. */
  ef?: number;
  /**
   * Only documents whose bit is set can match (bit i = document number i, little-endian within a
   * byte). Must cover every document number below `nextDocumentNumber`.
   */
  filter?: Uint8Array;
}

export interface DenseIndexStats {
  docs: number;
  deleted: number;
  segments: number;
  dim: number;
  storage: 'f32' | 'i8';
  bytes: number;
  /** Bytes per live vector of the whole segment files (vectors, scales, graph, docnos). */
  bytesPerVector: number;
  segmentStats: NativeDenseSegmentStats[];
}

interface Manifest extends ManifestBase {
  kind: 'dense';
  dim: number;
  storage: 'f32' | 'i8';
  approx: Required<DenseApproxOptions> | null;
}

export const DEFAULT_EF = 64;

function invalid(message: string): never {
  throw new IndexError('INVALID_ARGUMENT', message);
}

export class DenseIndex extends SegmentedIndex<NativeDenseSegment> {
  readonly dim: number;
  readonly storage: 'f32' | 'i8';
  /** HNSW settings with defaults filled in, or null without a graph. */
  readonly approx: Readonly<Required<DenseApproxOptions>> | null;
  readonly buildThreads: number;
  readonly mergeFactor: number;

  private constructor(options: DenseIndexOptions, dir?: string) {
    if (!options || typeof options !== 'object') invalid('options must be an object with a dim');
    const { dim } = options;
    if (!Number.isInteger(dim) || dim < 1 || dim > 65536) invalid(`dim must be an integer from 1 to 65536, got ${dim}`);
    const storage = options.storage ?? 'f32';
    if (storage !== 'f32' && storage !== 'i8') invalid(`storage must be "f32" or "i8", got ${String(storage)}`);
    const a = options.approx;
    if (a !== undefined && (a === null || typeof a !== 'object')) invalid('approx must be an object (HNSW settings) or absent');
    const m = a?.m ?? 16;
    if (a && (!Number.isInteger(m) || m < 2 || m > 128)) invalid(`approx.m must be an integer from 2 to 128, got ${a.m}`);
    const efc = a?.efConstruction ?? 200;
    if (a && (!Number.isInteger(efc) || efc < m || efc > 10_000))
      invalid(`approx.efConstruction must be an integer from approx.m (${m}) to 10000, got ${a.efConstruction}`);
    const seed = a?.seed ?? 1;
    if (a && (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff))
      invalid(`approx.seed must be a 32-bit unsigned integer, got ${a.seed}`);
    const mergeFactor = options.mergeFactor ?? 8;
    if (!Number.isInteger(mergeFactor) || mergeFactor < 2) invalid(`mergeFactor must be an integer >= 2, got ${options.mergeFactor}`);
    const threads = options.buildThreads ?? 1;
    if (!Number.isInteger(threads) || threads < 1) invalid(`buildThreads must be a positive integer, got ${options.buildThreads}`);
    super(dir, mergeFactor, { className: 'DenseIndex', prefix: 'dseg', ext: 'lsrd' });
    this.dim = dim;
    this.storage = storage;
    this.approx = a ? { m, efConstruction: efc, seed } : null;
    this.buildThreads = threads;
    this.mergeFactor = mergeFactor;
  }

  /** An index held in memory only (commit() is unavailable). */
  static create(options: DenseIndexOptions): DenseIndex {
    return new DenseIndex(options);
  }

  /**
   * Opens the index stored in `dir` (created with `options` if it holds none). A stored index keeps
   * its dim, storage and HNSW settings: a dim or storage in `options` that differs is rejected, and
   * `options.approx` is ignored (buildThreads and mergeFactor still apply). A damaged segment,
   * tombstone file or manifest raises an IndexError naming the file (SEGMENT_CORRUPT,
   * SEGMENT_TRUNCATED, SEGMENT_VERSION, MANIFEST_CORRUPT); the caller rebuilds from its source of truth.
   */
  static open(dir: string, options?: DenseIndexOptions): DenseIndex {
    mkdirSync(dir, { recursive: true });
    const mpath = join(dir, DENSE_MANIFEST);
    const m = readManifest<Manifest>(mpath);
    if (!m) {
      if (!options) invalid(`no dense index in '${dir}': options with a dim are needed to create one`);
      return new DenseIndex(options, dir);
    }
    if (m.kind !== 'dense' || !Number.isInteger(m.dim) || !Array.isArray(m.segments))
      throw new IndexError('MANIFEST_CORRUPT', `index manifest '${mpath}' is not a dense index manifest`, mpath);
    if (options?.dim !== undefined && options.dim !== m.dim) invalid(`index in '${dir}' has dim ${m.dim}, options ask for ${options.dim}`);
    if (options?.storage !== undefined && options.storage !== m.storage)
      invalid(`index in '${dir}' has storage ${m.storage}, options ask for ${options.storage}`);
    const idx = new DenseIndex(
      {
        dim: m.dim,
        storage: m.storage,
        approx: m.approx ?? undefined,
        buildThreads: options?.buildThreads,
        mergeFactor: options?.mergeFactor,
      },
      dir,
    );
    idx.restore(dir, m, (seg, path, docs) => {
      const st = seg.stats();
      if (st.docs !== docs || st.dim !== m.dim)
        throw new IndexError(
          'SEGMENT_CORRUPT',
          `dense segment file '${path}' holds ${st.docs} vectors of dim ${st.dim}, the manifest says ${docs} of dim ${m.dim}`,
          path,
        );
    });
    return idx;
  }

  private buildParams(): NativeDenseBuildParams {
    return {
      int8: this.storage === 'i8',
      threads: this.buildThreads,
      hnswM: this.approx?.m ?? 0,
      hnswEfConstruction: this.approx?.efConstruction ?? 200,
      hnswSeed: this.approx?.seed ?? 1,
    };
  }

  /**
   * Adds a batch; resolves once its vectors are searchable, with the numbers they were given. The
   * batch's arrays are read by a worker thread: do not modify them until the promise settles.
   */
  async add(batch: DenseBatch): Promise<{ first: number; count: number }> {
    this.checkOpen();
    if (!batch || typeof batch !== 'object') invalid('batch must be an object with vectors');
    const n = validateDenseBatch(batch.vectors, batch.docnos, this.dim, this.nextDocno);
    return this.addSegment(n, batch.docnos, (docnos) =>
      native.buildDenseSegment(docnos, batch.vectors, this.dim, this.buildParams(), true),
    );
  }

  /** The stored vector of a document (dequantized for i8), or null when absent or deleted. */
  vector(docno: number): Float32Array | null {
    for (const s of this.segments) {
      const v = s.native.vector(docno);
      if (v) return v.deleted ? null : v.vector;
    }
    return null;
  }

  private nativeParams(o: DenseSearchOptions) {
    return { k: o.k, approx: o.mode === 'approx', ef: o.ef ?? DEFAULT_EF, filter: o.filter };
  }

  /** Top-k by inner product, on the calling thread. Best first; equal scores by ascending document number. */
  search(query: Float32Array, options: DenseSearchOptions): TopK {
    this.checkOpen();
    validateDenseSearch(options, this.nextDocno);
    validateDenseQuery(query, this.dim);
    return native.searchDense(this.natives(), query, this.nativeParams(options));
  }

  /**
   * Many queries spread over `threads` native threads, off the event loop. `queries` is an array of
   * vectors or one row-major Float32Array of n·dim values. Exact batches score each stored vector
   * against 8 queries at a time (one read from memory for 8 queries).
   */
  async searchBatch(queries: readonly Float32Array[] | Float32Array, options: DenseSearchOptions, threads = 1): Promise<TopK[]> {
    this.checkOpen();
    validateDenseSearch(options, this.nextDocno);
    if (!Number.isInteger(threads) || threads < 1) invalid(`threads must be a positive integer, got ${threads}`);
    let flat: Float32Array;
    if (queries instanceof Float32Array) {
      if (queries.length % this.dim !== 0)
        invalid(`queries has ${queries.length} values, not a multiple of the index dimension ${this.dim}`);
      for (let i = 0; i < queries.length; i++)
        if (!Number.isFinite(queries[i])) invalid(`queries[${i}] = ${queries[i]} (query ${Math.floor(i / this.dim)}) must be finite`);
      flat = queries;
    } else {
      if (!Array.isArray(queries)) invalid('queries must be an array of Float32Array or one Float32Array');
      flat = new Float32Array(queries.length * this.dim);
      queries.forEach((q, i) => {
        validateDenseQuery(q, this.dim, `queries[${i}]`);
        flat.set(q, i * this.dim);
      });
    }
    const nq = flat.length / this.dim;
    if (nq === 0) return [];
    const r = await native.searchDenseBatch(this.natives(), flat, this.dim, this.nativeParams(options), threads);
    return Array.from({ length: nq }, (_, i) => ({
      docs: r.docs.subarray(r.offsets[i], r.offsets[i + 1]),
      scores: r.scores.subarray(r.offsets[i], r.offsets[i + 1]),
    }));
  }

  protected override openNative(path: string): NativeDenseSegment {
    return native.openDenseSegment(path);
  }

  protected override mergeNative(segs: NativeDenseSegment[]): Promise<NativeDenseSegment> {
    return native.mergeDenseSegments(segs, this.buildParams());
  }

  protected override manifestFields() {
    return { kind: 'dense', dim: this.dim, storage: this.storage, approx: this.approx ? { ...this.approx } : null };
  }

  /** Live and deleted (not yet purged) documents, segments, and bytes of the segment images (mapped or in memory). */
  stats(): DenseIndexStats {
    const segmentStats = this.segments.map((s) => s.native.stats());
    let docs = 0,
      deleted = 0,
      bytes = 0;
    for (const s of segmentStats) {
      docs += s.docs - s.deleted;
      deleted += s.deleted;
      bytes += s.bytes;
    }
    return {
      docs,
      deleted,
      segments: segmentStats.length,
      dim: this.dim,
      storage: this.storage,
      bytes,
      bytesPerVector: docs ? bytes / docs : 0,
      segmentStats,
    };
  }
}
