// SparseIndex: the engine as a library. Documents go into immutable native segments (one per added
// batch, merged in tiers in the background); searches run synchronously over the current segment
// list and never wait for a build or a merge. See docs/engine.md for the concurrency rules.
import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fromNative, IndexError } from './errors.js';
import { writeFileAtomic } from './fs-atomic.js';
import { native, type NativeBuildParams, type NativeSegment, type NativeSegmentStats } from './native.js';
import { readTombstones, writeTombstones } from './tombstones.js';
import type { SearchOptions, SparseBatch, SparseIndexOptions, SparseQuery, TopK } from './types.js';
import { validateBatch, validateQuery, validateSearch } from './validate.js';

export const MANIFEST = 'manifest.json';
const MANIFEST_VERSION = 1;

interface Seg {
  id: number;
  native: NativeSegment;
  docs: number;
  /** File name inside the index directory once saved. */
  file?: string;
  /** Tombstone file written at the last commit, and how many deletes it held. */
  delFile?: string;
  delSaved: number;
}

interface Manifest {
  version: number;
  vocab: number;
  nextDocno: number;
  nextSegmentId: number;
  generation: number;
  segments: { id: number; file: string; docs: number; deletes?: string }[];
  /** Caller's data committed atomically with the segments (the service stores its `seq` here). */
  meta: Record<string, unknown>;
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

export class SparseIndex {
  readonly vocab: number;
  readonly options: Required<Omit<SparseIndexOptions, 'approx'>> & { approx: SparseIndexOptions['approx'] };
  readonly dir: string | undefined;
  private segments: Seg[] = [];
  private nextDocno = 0;
  private nextSegmentId = 1;
  private generation = 0;
  private closed = false;
  /** Serializes structural changes (merges, commits) so each sees a stable segment list. */
  private lock: Promise<unknown> = Promise.resolve();
  /** Deletes logged while builds or merges run, replayed onto the segments they produce. */
  private deleteLog: Uint32Array[] = [];
  private opsInFlight = 0;
  private mergeRunning: Promise<void> | null = null;
  private meta: Record<string, unknown> = {};

  private constructor(options: SparseIndexOptions, dir?: string) {
    this.vocab = options.vocab ?? 30522;
    if (!Number.isInteger(this.vocab) || this.vocab < 1 || this.vocab > 0x7fffffff)
      throw new IndexError('INVALID_ARGUMENT', `vocab must be a positive integer, got ${options.vocab}`);
    const a = options.approx;
    if (a && (!Number.isInteger(a.postings) || a.postings < 0))
      throw new IndexError('INVALID_ARGUMENT', `approx.postings must be a non-negative integer, got ${a.postings}`);
    if (a?.blockRatio !== undefined && !(a.blockRatio > 0 && a.blockRatio <= 1))
      throw new IndexError('INVALID_ARGUMENT', `approx.blockRatio must be in (0, 1], got ${a.blockRatio}`);
    if (a?.summaryEnergy !== undefined && !(a.summaryEnergy > 0 && a.summaryEnergy <= 1))
      throw new IndexError('INVALID_ARGUMENT', `approx.summaryEnergy must be in (0, 1], got ${a.summaryEnergy}`);
    const mergeFactor = options.mergeFactor ?? 8;
    if (!Number.isInteger(mergeFactor) || mergeFactor < 2)
      throw new IndexError('INVALID_ARGUMENT', `mergeFactor must be an integer >= 2, got ${options.mergeFactor}`);
    this.options = {
      vocab: this.vocab,
      quantizeU8: options.quantizeU8 ?? false,
      approx: a,
      buildThreads: Math.max(1, options.buildThreads ?? 1),
      mergeFactor,
    };
    this.dir = dir;
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
    let m: Manifest | undefined;
    if (existsSync(mpath)) {
      try {
        m = JSON.parse(readFileSync(mpath, 'utf8')) as Manifest;
      } catch (e) {
        throw new IndexError('MANIFEST_CORRUPT', `index manifest '${mpath}' cannot be parsed: ${(e as Error).message}`, mpath);
      }
      if (m.version !== MANIFEST_VERSION)
        throw new IndexError('SEGMENT_VERSION', `index manifest '${mpath}' has version ${m.version}, expected ${MANIFEST_VERSION}`, mpath);
      if (options.vocab !== undefined && options.vocab !== m.vocab)
        throw new IndexError('INVALID_ARGUMENT', `index in '${dir}' has vocab ${m.vocab}, options ask for ${options.vocab}`);
    }
    const idx = new SparseIndex({ ...options, vocab: m?.vocab ?? options.vocab }, dir);
    if (!m) return idx;
    idx.nextDocno = m.nextDocno;
    idx.nextSegmentId = m.nextSegmentId;
    idx.generation = m.generation;
    idx.meta = m.meta ?? {};
    for (const s of m.segments) {
      const path = join(dir, s.file);
      let seg: NativeSegment;
      try {
        seg = native.openSparseSegment(path);
      } catch (e) {
        throw fromNative(e, path);
      }
      let delSaved = 0;
      if (s.deletes) {
        const bits = readTombstones(join(dir, s.deletes), s.docs);
        const docnos = seg.docnos();
        const del: number[] = [];
        for (let i = 0; i < s.docs; i++) if ((bits[i >> 3] >> (i & 7)) & 1) del.push(docnos[i]);
        delSaved = seg.delete(Uint32Array.from(del));
      }
      idx.segments.push({ id: s.id, native: seg, docs: s.docs, file: s.file, delFile: s.deletes, delSaved });
    }
    return idx;
  }

  /** Caller data stored by the last commit() (empty for a new index). */
  get committedMeta(): Readonly<Record<string, unknown>> {
    return this.meta;
  }

  /** Next document number add() assigns by default. */
  get nextDocumentNumber(): number {
    return this.nextDocno;
  }

  /** Live (not deleted) documents. */
  get size(): number {
    let n = 0;
    for (const s of this.segments) n += s.docs - s.native.stats().deleted;
    return n;
  }

  private buildParams(): NativeBuildParams {
    const a = this.options.approx;
    return {
      quantizeU8: this.options.quantizeU8,
      threads: this.options.buildThreads,
      approxPostings: a?.postings ?? 0,
      approxBlockRatio: a?.blockRatio ?? 0.1,
      approxSummaryEnergy: a?.summaryEnergy ?? 0.4,
      approxBlocks: a?.blocks ?? false,
    };
  }

  private checkOpen(): void {
    if (this.closed) throw new IndexError('INDEX_CLOSED', 'the index is closed');
  }

  /**
   * Adds a batch; resolves once its documents are searchable, with the numbers they were given.
   * The batch's arrays are read by a worker thread: do not modify them until the promise settles.
   */
  async add(batch: SparseBatch): Promise<{ first: number; count: number }> {
    this.checkOpen();
    const n = validateBatch(batch, this.vocab, this.nextDocno);
    if (n === 0) return { first: this.nextDocno, count: 0 };
    const docnos = batch.docnos ?? Uint32Array.from({ length: n }, (_, i) => this.nextDocno + i);
    if (docnos[n - 1] >= 0xffffffff) throw new IndexError('INVALID_ARGUMENT', 'document numbers are exhausted (2^32 - 1)');
    this.nextDocno = docnos[n - 1] + 1;
    const logStart = this.beginOp();
    try {
      // A segment's arrays are sized by the largest term it holds, not by the index's vocabulary,
      // so open vocabularies (BM25 over an analyzer's terms) cost nothing for unused ids.
      let maxTerm = 0;
      for (let i = 0; i < batch.terms.length; i++) if (batch.terms[i] > maxTerm) maxTerm = batch.terms[i];
      const seg = await native.buildSparseSegment(docnos, batch.offsets, batch.terms, batch.weights, maxTerm + 1, this.buildParams(), true);
      this.replayDeletes(seg, logStart);
      this.segments.push({ id: this.nextSegmentId++, native: seg, docs: n, delSaved: 0 });
    } finally {
      this.endOp();
    }
    this.scheduleMerge();
    return { first: docnos[0], count: n };
  }

  private beginOp(): number {
    this.opsInFlight++;
    return this.deleteLog.length;
  }

  private endOp(): void {
    if (--this.opsInFlight === 0) this.deleteLog = [];
  }

  private replayDeletes(seg: NativeSegment, from: number): void {
    for (let i = from; i < this.deleteLog.length; i++) seg.delete(this.deleteLog[i]);
  }

  /** Marks documents deleted (tombstones); returns how many were live. Takes effect for every later search. */
  delete(docnos: Uint32Array | readonly number[]): number {
    this.checkOpen();
    const d = docnos instanceof Uint32Array ? docnos : Uint32Array.from(docnos);
    let n = 0;
    for (const s of this.segments) n += s.native.delete(d);
    if (this.opsInFlight > 0) this.deleteLog.push(d.slice());
    return n;
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
    return native.searchSparse(this.segments.map((s) => s.native), query.terms, query.weights, this.nativeParams(options));
  }

  /** Many queries spread over `threads` native threads, off the event loop. */
  async searchBatch(queries: readonly SparseQuery[], options: SearchOptions, threads = 1): Promise<TopK[]> {
    this.checkOpen();
    validateSearch(options);
    if (!Number.isInteger(threads) || threads < 1) throw new IndexError('INVALID_ARGUMENT', `threads must be a positive integer, got ${threads}`);
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
    const r = await native.searchSparseBatch(this.segments.map((s) => s.native), offsets, terms, weights, this.nativeParams(options), threads);
    return queries.map((_, i) => ({ docs: r.docs.subarray(r.offsets[i], r.offsets[i + 1]), scores: r.scores.subarray(r.offsets[i], r.offsets[i + 1]) }));
  }

  private tier(docs: number): number {
    return Math.floor(Math.log(Math.max(1, docs)) / Math.log(this.options.mergeFactor));
  }

  private scheduleMerge(): void {
    if (this.mergeRunning || this.closed) return;
    const group = this.mergeCandidate();
    if (!group) return;
    // Set before any await so a second add() sees the merge as running.
    this.mergeRunning = (async () => {
      try {
        for (let g: Seg[] | null = group; g && !this.closed; g = this.mergeCandidate()) await this.mergeGroup(g);
      } finally {
        this.mergeRunning = null;
      }
    })();
    // Failures surface to whoever awaits settle(); never as an unhandled rejection.
    this.mergeRunning.catch(() => undefined);
  }

  /** The first size tier holding mergeFactor or more segments, if any. */
  private mergeCandidate(): Seg[] | null {
    const tiers = new Map<number, Seg[]>();
    for (const s of this.segments) {
      const t = this.tier(s.docs);
      const g = tiers.get(t) ?? [];
      g.push(s);
      tiers.set(t, g);
    }
    return [...tiers.values()].find((g) => g.length >= this.options.mergeFactor) ?? null;
  }

  private mergeGroup(group: Seg[]): Promise<void> {
    const run = this.lock.then(async () => {
      const logStart = this.beginOp();
      try {
        const merged = await native.mergeSparseSegments(group.map((s) => s.native), this.buildParams());
        this.replayDeletes(merged, logStart);
        const gone = new Set(group);
        const at = this.segments.findIndex((s) => gone.has(s));
        const rest = this.segments.filter((s) => !gone.has(s));
        rest.splice(at, 0, { id: this.nextSegmentId++, native: merged, docs: merged.stats().docs, delSaved: 0 });
        this.segments = rest;
      } finally {
        this.endOp();
      }
    });
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** Waits for background merges to finish. */
  async settle(): Promise<void> {
    while (this.mergeRunning) await this.mergeRunning;
    await this.lock;
  }

  /** Merges every segment into one, purging deleted documents. */
  async optimize(): Promise<void> {
    this.checkOpen();
    await this.settle();
    if (this.segments.length > 1 || this.segments.some((s) => s.native.stats().deleted > 0)) await this.mergeGroup(this.segments.slice());
  }

  /**
   * Makes the current state durable in the index directory: new segments are written (temporary
   * file, fsync, rename), tombstones saved, then the manifest replaced atomically with `meta`.
   * Files no longer referenced are removed afterwards.
   */
  async commit(meta: Record<string, unknown> = {}): Promise<void> {
    this.checkOpen();
    const dir = this.dir;
    if (!dir) throw new IndexError('INVALID_ARGUMENT', 'commit() needs an index opened with SparseIndex.open(dir)');
    const run = this.lock.then(async () => {
      const gen = ++this.generation;
      const segs = this.segments.slice();
      for (const s of segs) {
        if (!s.file) {
          const file = `seg-${s.id}.lsr`;
          try {
            await s.native.save(join(dir, file));
          } catch (e) {
            throw fromNative(e, join(dir, file));
          }
          s.file = file;
        }
        const deleted = s.native.stats().deleted;
        if (deleted !== s.delSaved) {
          const file = `seg-${s.id}.${gen}.del`;
          writeTombstones(join(dir, file), s.docs, s.native.deletedBits());
          s.delFile = file;
          s.delSaved = deleted;
        }
      }
      const m: Manifest = {
        version: MANIFEST_VERSION,
        vocab: this.vocab,
        nextDocno: this.nextDocno,
        nextSegmentId: this.nextSegmentId,
        generation: gen,
        segments: segs.map((s) => ({ id: s.id, file: s.file!, docs: s.docs, ...(s.delFile ? { deletes: s.delFile } : {}) })),
        meta,
      };
      writeFileAtomic(join(dir, MANIFEST), JSON.stringify(m, null, 1));
      this.meta = meta;
      const live = new Set([MANIFEST, ...m.segments.flatMap((s) => [s.file, s.deletes ?? ''])]);
      for (const f of readdirSync(dir))
        if (/^seg-\d+\.(lsr|\d+\.del)(\.tmp)?$/.test(f) && !live.has(f)) unlinkSync(join(dir, f));
    });
    this.lock = run.catch(() => undefined);
    return run;
  }

  stats(): SparseIndexStats {
    const segmentStats = this.segments.map((s) => s.native.stats());
    let docs = 0, deleted = 0, nnz = 0, bytes = 0, postingBytes = 0;
    for (const s of segmentStats) {
      docs += s.docs - s.deleted;
      deleted += s.deleted;
      nnz += s.nnz;
      bytes += s.bytes;
      postingBytes += s.sectionBytes.invDocs + s.sectionBytes.invWeights;
    }
    return { docs, deleted, segments: segmentStats.length, nnz, bytes, bytesPerPosting: nnz ? postingBytes / nnz : 0, segmentStats };
  }

  /** Waits for merges, then releases the segments. Uncommitted changes are dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.settle();
    this.closed = true;
    this.segments = [];
  }
}
