// One collection: its store (truth), its derived index, and the commit protocol between them.
//
// Write path, serialized per collection: store transaction (rows get increasing seq) -> index.delete
// of replaced/removed numbers -> index.add of new rows under their store numbers -> now and then
// index.commit({seq}). Open path: SparseIndex.open, then replay store rows and tombstones with seq
// above the index's committed seq; a damaged index (SEGMENT_*, MANIFEST_CORRUPT) or one that
// disagrees with the store is rebuilt from the store. The SPLADE and dense indexes (index/splade,
// index/dense) follow the same protocol under the same seq and document numbers.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DenseIndex, IndexError, SparseIndex, type SparseBatch } from '../../index/index.js';
import { fail } from '../errors.js';
import type { DenseEncoderPool } from '../encoder/dense/dense-pool.js';
import type { SparseEncoderPool } from '../encoder/sparse/sparse-pool.js';
import type { EncoderRegistry } from '../encoder/encoder-registry.js';
import { Bm25Retriever } from '../search/bm25-retriever.js';
import { DenseRetriever } from '../search/dense-retriever.js';
import { SpladeRetriever } from '../search/splade-retriever.js';
import type { SparseRetriever } from '../search/retriever.js';
import { DocumentStore, type DenseRow, type NewDocument, type SpladeVector, type StoredVector } from '../store/document-store.js';
import { Analyzer } from '../text/analyzer.js';
import { documentWeights } from './bm25.js';
import type { CollectionConfig, DenseConfig, SpladeQueryMode } from './collection-config.js';

/** Term ids are store vocabulary ids; segments are sized by their largest id, so the cap is free. */
const VOCAB = 0x7fffffff;
/** Rows per index batch during replay and rebuild. */
const REBUILD_CHUNK = 20_000;
/** Commit the index once this many changes are uncommitted (replay on open stays short). */
const COMMIT_EVERY_CHANGES = 100_000;

export interface Logger {
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

export interface CollectionStats {
  documents: number;
  /** Deleted or replaced documents still held as tombstones in index segments (purged by merges). */
  deleted: number;
  segments: number;
  bytes_on_disk: number;
  index_bytes: number;
  vocabulary: number;
  avgdl: number;
  /** Store seq the last durable index commit covers. */
  committed_seq: number;
  seq: number;
}

export interface WriteResult {
  written: number;
  /** Input positions refused because their `_id` was already written by the same job. */
  duplicates: { index: number; id: string }[];
}

function dirBytes(dir: string): number {
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return n;
}

/**
 * The learned-sparse side of a collection with a sparse model: the encoder pool, its index (a second
 * SparseIndex under index/splade, numbered by the same store docnos and committed with the same
 * seq as BM25's) and document frequencies for inference-free queries.
 */
interface SpladeSide {
  pool: SparseEncoderPool;
  index: SparseIndex;
  /** df per model vocabulary id over live documents (kept in memory; recounted from the store on open). */
  df: Map<number, number>;
}

/**
 * The dense side of a collection with a dense model: its encoder pool and a DenseIndex under
 * index/dense, numbered by the store's docnos and committed with the same seq as BM25's.
 */
interface DenseSide {
  pool: DenseEncoderPool;
  index: DenseIndex;
  config: DenseConfig;
  retriever: DenseRetriever;
}

export class Collection {
  readonly config: CollectionConfig;
  readonly dir: string;
  readonly store: DocumentStore;
  readonly analyzer = new Analyzer();
  readonly retrievers: ReadonlyMap<string, SparseRetriever>;
  private bm25: SparseIndex;
  private splade: SpladeSide | null = null;
  private dense: DenseSide | null = null;
  private readonly log: Logger;
  private queue: Promise<unknown> = Promise.resolve();
  /** Every store change up to this seq is in the in-memory index. */
  private indexedSeq = 0;
  private committedSeq = 0;
  private closed = false;

  private constructor(dir: string, store: DocumentStore, config: CollectionConfig, index: SparseIndex, log: Logger) {
    this.dir = dir;
    this.store = store;
    this.config = config;
    this.bm25 = index;
    this.log = log;
    this.retrievers = new Map<string, SparseRetriever>([['bm25', new Bm25Retriever(store, this.analyzer, () => this.bm25)]]);
  }

  private static spladeDir(dir: string): string {
    return join(dir, 'index', 'splade');
  }

  private static denseDir(dir: string): string {
    return join(dir, 'index', 'dense');
  }

  /** The dense retriever, when the collection has a dense model (search/search.ts plans with it). */
  get denseRetriever(): DenseRetriever | null {
    return this.dense?.retriever ?? null;
  }

  static storePath(dir: string): string {
    return join(dir, 'store.sqlite');
  }

  private static indexDir(dir: string): string {
    return join(dir, 'index', 'bm25');
  }

  /** Creates the collection's directory and store; the config row commits last, marking it complete. */
  static async create(dir: string, config: CollectionConfig, log: Logger, encoders?: EncoderRegistry): Promise<Collection> {
    // Load the models first: a bad model must fail the create before anything is on disk.
    const pool = config.retrievers.splade ? await Collection.encoderFor(config, encoders) : null;
    const densePool = config.retrievers.dense ? await Collection.denseEncoderFor(config, encoders) : null;
    mkdirSync(dir, { recursive: true });
    const store = new DocumentStore(Collection.storePath(dir));
    store.setMeta('config', JSON.stringify(config));
    return Collection.openWith(dir, store, config, log, pool, densePool);
  }

  private static async denseEncoderFor(config: CollectionConfig, encoders?: EncoderRegistry): Promise<DenseEncoderPool> {
    if (!encoders) fail('INVALID_MODEL', `collection '${config.name}' has a dense model but no encoder registry was given`, 'retrievers.dense.model');
    return encoders.getDense(config.retrievers.dense!.model, 'retrievers.dense.model');
  }

  private static async encoderFor(config: CollectionConfig, encoders?: EncoderRegistry): Promise<SparseEncoderPool> {
    if (!encoders) fail('INVALID_MODEL', `collection '${config.name}' has a sparse model but no encoder registry was given`, 'retrievers.splade.model');
    return encoders.get(config.retrievers.splade!.model, 'retrievers.splade.model');
  }

  /** Opens an existing collection; undefined when the directory holds no complete collection. */
  static async open(dir: string, log: Logger, encoders?: EncoderRegistry): Promise<Collection | undefined> {
    if (!existsSync(Collection.storePath(dir))) return undefined;
    const store = new DocumentStore(Collection.storePath(dir));
    const raw = store.getMeta('config');
    if (!raw) {
      store.close();
      return undefined;
    }
    const config = JSON.parse(raw) as CollectionConfig;
    let pool: SparseEncoderPool | null = null;
    let densePool: DenseEncoderPool | null = null;
    try {
      if (config.retrievers.splade) pool = await Collection.encoderFor(config, encoders);
      if (config.retrievers.dense) densePool = await Collection.denseEncoderFor(config, encoders);
    } catch (e) {
      store.close();
      throw e;
    }
    return Collection.openWith(dir, store, config, log, pool, densePool);
  }

  private static async openWith(
    dir: string,
    store: DocumentStore,
    config: CollectionConfig,
    log: Logger,
    pool: SparseEncoderPool | null = null,
    densePool: DenseEncoderPool | null = null,
  ): Promise<Collection> {
    const idxDir = Collection.indexDir(dir);
    let index: SparseIndex | undefined;
    try {
      index = SparseIndex.open(idxDir, { vocab: VOCAB });
    } catch (e) {
      if (!(e instanceof IndexError) || e.code === 'INVALID_ARGUMENT' || e.code === 'INDEX_CLOSED') {
        store.close();
        throw e;
      }
      log.warn({ collection: config.name, code: e.code, file: e.file, err: e.message }, 'index damaged; rebuilding it from the store');
    }
    const c = new Collection(dir, store, config, index ?? SparseIndex.create({ vocab: VOCAB }), log);
    // SPLADE before BM25's replay: that replay may commit, which prunes tombstones both need.
    try {
      if (pool) await c.openSplade(pool, config.retrievers.splade!.query);
      if (densePool) await c.openDense(densePool, config.retrievers.dense!);
    } catch (e) {
      await c.bm25.close();
      await c.splade?.index.close();
      store.close();
      throw e;
    }
    if (!index) await c.rebuildIndex();
    else if (!(await c.replay())) {
      log.warn({ collection: config.name }, 'index disagrees with the store; rebuilding it from the store');
      await c.rebuildIndex();
    }
    return c;
  }

  /** Opens the SPLADE index and brings it up to the store, rebuilding it when they disagree. */
  private async openSplade(pool: SparseEncoderPool, mode: SpladeQueryMode): Promise<void> {
    const dir = Collection.spladeDir(this.dir);
    let index: SparseIndex | null = null;
    try {
      index = SparseIndex.open(dir, { vocab: VOCAB });
    } catch (e) {
      if (!(e instanceof IndexError) || e.code === 'INVALID_ARGUMENT' || e.code === 'INDEX_CLOSED') throw e;
      this.log.warn({ collection: this.name, code: e.code, file: e.file, err: e.message }, 'SPLADE index damaged; rebuilding it from the store');
    }
    const df = new Map<number, number>();
    this.splade = { pool, index: index ?? SparseIndex.create({ vocab: VOCAB }), df };
    if (!index || !(await this.replaySplade())) {
      if (index) this.log.warn({ collection: this.name }, 'SPLADE index disagrees with the store; rebuilding it from the store');
      await this.rebuildSplade();
    }
    // Document frequencies for inference-free queries: one pass over the stored vectors.
    for (const v of this.store.spladeAfter(-1)) for (const t of v.terms) df.set(t, (df.get(t) ?? 0) + 1);
    const store = this.store;
    const stats = { df: (t: number) => df.get(t) ?? 0, get docs() { return store.size; } };
    (this.retrievers as Map<string, SparseRetriever>).set('splade', new SpladeRetriever(pool, mode, stats, () => this.splade!.index));
  }

  /** Opens the dense index and brings it up to the store, rebuilding it when damaged or when they disagree. */
  private async openDense(pool: DenseEncoderPool, config: DenseConfig): Promise<void> {
    const dir = Collection.denseDir(this.dir);
    const options = { dim: pool.dim, storage: config.storage, ...(config.approx ? { approx: config.approx } : {}) };
    let index: DenseIndex | null = null;
    try {
      index = DenseIndex.open(dir, options);
    } catch (e) {
      if (!(e instanceof IndexError) || e.code === 'INDEX_CLOSED') throw e;
      if (e.code === 'INVALID_ARGUMENT') {
        // The stored index disagrees with the model (another dimension): the stored vectors came
        // from a different model too, so rebuilding would not help.
        const stored = this.store.denseAfter(-1).next();
        if (!stored.done && stored.value.vector.length !== pool.dim)
          fail('INVALID_MODEL', `collection '${this.name}' holds ${stored.value.vector.length}-dimensional vectors but ${config.model} gives ${pool.dim}`, 'retrievers.dense.model');
      }
      this.log.warn({ collection: this.name, code: e.code, file: e.file, err: e.message }, 'dense index damaged; rebuilding it from the store');
    }
    const getIndex = () => this.dense!.index;
    this.dense = { pool, index: index ?? DenseIndex.create(options), config, retriever: new DenseRetriever(pool, config, getIndex) };
    if (!index || !(await this.replayDense())) {
      if (index) this.log.warn({ collection: this.name }, 'dense index disagrees with the store; rebuilding it from the store');
      await this.rebuildDense(options);
    }
  }

  private denseBatch(rows: readonly DenseRow[]): { vectors: Float32Array; docnos: Uint32Array } {
    const dim = this.dense!.pool.dim;
    const vectors = new Float32Array(rows.length * dim), docnos = new Uint32Array(rows.length);
    rows.forEach((r, i) => {
      if (r.vector.length !== dim) fail('INVALID_MODEL', `document ${r.docno} has a ${r.vector.length}-dimensional vector, the model gives ${dim}`, 'retrievers.dense.model');
      vectors.set(r.vector, i * dim);
      docnos[i] = r.docno;
    });
    return { vectors, docnos };
  }

  private async replayDense(): Promise<boolean> {
    const idx = this.dense!.index;
    const from = Number(idx.committedMeta.seq ?? 0);
    const next = idx.nextDocumentNumber;
    let chunk: DenseRow[] = [];
    for (const r of this.store.denseAfter(from)) {
      if (r.docno < next) return false;
      chunk.push(r);
      if (chunk.length >= REBUILD_CHUNK) {
        await idx.add(this.denseBatch(chunk));
        chunk = [];
      }
    }
    if (chunk.length) await idx.add(this.denseBatch(chunk));
    const gone = this.store.tombstonesAfter(from);
    if (gone.length) idx.delete(gone);
    return idx.size === this.store.size;
  }

  private async rebuildDense(options: { dim: number; storage: 'f32' | 'i8'; approx?: DenseConfig['approx'] }): Promise<void> {
    await this.dense!.index.close();
    const dir = Collection.denseDir(this.dir);
    rmSync(dir, { recursive: true, force: true });
    const idx = (this.dense!.index = DenseIndex.open(dir, options));
    let chunk: DenseRow[] = [];
    for (const r of this.store.denseAfter(-1)) {
      chunk.push(r);
      if (chunk.length >= REBUILD_CHUNK) {
        await idx.add(this.denseBatch(chunk));
        chunk = [];
      }
    }
    if (chunk.length) await idx.add(this.denseBatch(chunk));
    await idx.commit({ seq: this.store.lastSeq });
  }

  private spladeBatch(vs: readonly ({ docno: number } & SpladeVector)[]): SparseBatch {
    let nnz = 0;
    for (const v of vs) nnz += v.terms.length;
    const offsets = new Uint32Array(vs.length + 1), terms = new Uint32Array(nnz), weights = new Float32Array(nnz), docnos = new Uint32Array(vs.length);
    vs.forEach((v, i) => {
      terms.set(v.terms, offsets[i]);
      weights.set(v.weights, offsets[i]);
      offsets[i + 1] = offsets[i] + v.terms.length;
      docnos[i] = v.docno;
    });
    return { offsets, terms, weights, docnos };
  }

  private async replaySplade(): Promise<boolean> {
    const idx = this.splade!.index;
    const from = Number(idx.committedMeta.seq ?? 0);
    const next = idx.nextDocumentNumber;
    let chunk: ({ docno: number } & SpladeVector)[] = [];
    for (const v of this.store.spladeAfter(from)) {
      if (v.docno < next) return false;
      chunk.push(v);
      if (chunk.length >= REBUILD_CHUNK) {
        await idx.add(this.spladeBatch(chunk));
        chunk = [];
      }
    }
    if (chunk.length) await idx.add(this.spladeBatch(chunk));
    const gone = this.store.tombstonesAfter(from);
    if (gone.length) idx.delete(gone);
    // Tombstones are pruned only after both indexes commit, so a SPLADE index that missed deletes
    // (e.g. one lost or older than BM25's) shows up here as a count that differs from the store.
    return idx.size === this.store.size;
  }

  private async rebuildSplade(): Promise<void> {
    await this.splade!.index.close();
    const dir = Collection.spladeDir(this.dir);
    rmSync(dir, { recursive: true, force: true });
    const idx = (this.splade!.index = SparseIndex.open(dir, { vocab: VOCAB }));
    let chunk: ({ docno: number } & SpladeVector)[] = [];
    for (const v of this.store.spladeAfter(-1)) {
      chunk.push(v);
      if (chunk.length >= REBUILD_CHUNK) {
        await idx.add(this.spladeBatch(chunk));
        chunk = [];
      }
    }
    if (chunk.length) await idx.add(this.spladeBatch(chunk));
    await idx.commit({ seq: this.store.lastSeq });
  }

  /** Brings the opened index up to the store; false when they cannot be reconciled. */
  private async replay(): Promise<boolean> {
    const from = Number(this.bm25.committedMeta.seq ?? 0);
    this.committedSeq = from;
    const next = this.bm25.nextDocumentNumber;
    let chunk: StoredVector[] = [];
    for (const v of this.store.vectorsAfter(from)) {
      if (v.docno < next) return false;
      chunk.push(v);
      if (chunk.length >= REBUILD_CHUNK) {
        await this.bm25.add(this.indexBatch(chunk));
        chunk = [];
      }
    }
    if (chunk.length) await this.bm25.add(this.indexBatch(chunk));
    const gone = this.store.tombstonesAfter(from);
    if (gone.length) this.bm25.delete(gone);
    this.indexedSeq = this.store.lastSeq;
    if (this.bm25.size !== this.store.size) return false;
    if (this.indexedSeq > this.committedSeq) await this.commitNow();
    return true;
  }

  /** Throws the index away and builds it again from every live store row. */
  private async rebuildIndex(): Promise<void> {
    await this.bm25.close();
    const idxDir = Collection.indexDir(this.dir);
    rmSync(idxDir, { recursive: true, force: true });
    this.bm25 = SparseIndex.open(idxDir, { vocab: VOCAB });
    let chunk: StoredVector[] = [];
    for (const v of this.store.vectorsAfter(-1)) {
      chunk.push(v);
      if (chunk.length >= REBUILD_CHUNK) {
        await this.bm25.add(this.indexBatch(chunk));
        chunk = [];
      }
    }
    if (chunk.length) await this.bm25.add(this.indexBatch(chunk));
    this.indexedSeq = this.store.lastSeq;
    await this.commitNow();
  }

  get name(): string {
    return this.config.name;
  }

  get index(): SparseIndex {
    return this.bm25;
  }

  /** CSR batch with BM25 document weights, numbered by store docno. */
  private indexBatch(vs: readonly StoredVector[]): SparseBatch {
    let nnz = 0;
    for (const v of vs) nnz += v.terms.length;
    const offsets = new Uint32Array(vs.length + 1);
    const terms = new Uint32Array(nnz);
    const weights = new Float32Array(nnz);
    const docnos = new Uint32Array(vs.length);
    const avgdl = this.store.avgdl;
    const p = this.config.retrievers.bm25;
    vs.forEach((v, i) => {
      const at = offsets[i];
      terms.set(v.terms, at);
      documentWeights(v.tfs, v.dl, avgdl, p, weights, at);
      offsets[i + 1] = at + v.terms.length;
      docnos[i] = v.docno;
    });
    return { offsets, terms, weights, docnos };
  }

  /** Runs writes one at a time so store order, seq order and index document numbers agree. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.closed) fail('SHUTTING_DOWN', `collection '${this.name}' is closing`);
      return fn();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Upserts documents; resolves once they are committed to the store and searchable. */
  write(docs: readonly NewDocument[], job: string | null): Promise<WriteResult> {
    // Encoding starts now, outside the write queue, so the next batch encodes while this one is
    // written; the write itself still waits its turn, keeping store order = call order.
    const encoded = this.splade?.pool.encode(docs.map((d) => d.text ?? ''));
    encoded?.catch(() => {}); // observed inside serial(); avoid an unhandled rejection meanwhile
    const denseEncoded = this.dense?.pool.encodeDocuments(docs.map((d) => d.text ?? ''));
    denseEncoded?.catch(() => {});
    return this.serial(async () => {
      if (encoded) {
        const v = await encoded;
        docs = docs.map((d, i) => ({ ...d, splade: { terms: v.terms.slice(v.offsets[i], v.offsets[i + 1]), weights: v.weights.slice(v.offsets[i], v.offsets[i + 1]) } }));
      }
      if (denseEncoded) {
        const v = await denseEncoded, dim = this.dense!.pool.dim;
        docs = docs.map((d, i) => ({ ...d, dense: v.slice(i * dim, (i + 1) * dim) }));
      }
      const r = this.store.writeBatch(docs, job);
      if (r.removed.length) this.bm25.delete(r.removed);
      if (r.written.length) await this.bm25.add(this.indexBatch(r.written));
      if (this.splade) {
        this.spladeRemove(r.removed);
        const byId = new Map(docs.map((d) => [d.id, d.splade!]));
        if (r.written.length) {
          const vs = r.written.map((w) => ({ docno: w.docno, ...byId.get(w.id)! }));
          await this.splade.index.add(this.spladeBatch(vs));
          for (const v of vs) for (const t of v.terms) this.splade.df.set(t, (this.splade.df.get(t) ?? 0) + 1);
        }
      }
      if (this.dense) {
        if (r.removed.length) this.dense.index.delete(r.removed);
        const byId = new Map(docs.map((d) => [d.id, d.dense!]));
        if (r.written.length) await this.dense.index.add(this.denseBatch(r.written.map((w) => ({ docno: w.docno, vector: byId.get(w.id)! }))));
      }
      this.indexedSeq = this.store.lastSeq;
      await this.maybeCommit();
      return { written: r.written.length, duplicates: r.duplicates };
    });
  }

  /** Removes documents by number; resolves with how many were live. */
  remove(docnos: readonly number[]): Promise<number> {
    return this.serial(async () => {
      const removed = this.store.removeDocnos(docnos);
      if (removed.length) this.bm25.delete(removed);
      this.spladeRemove(removed);
      if (removed.length) this.dense?.index.delete(removed);
      this.indexedSeq = this.store.lastSeq;
      await this.maybeCommit();
      return removed.length;
    });
  }

  /** Tombstones removed documents in the SPLADE index, taking their terms out of df first. */
  private spladeRemove(docnos: readonly number[]): void {
    if (!this.splade || docnos.length === 0) return;
    for (const d of docnos) {
      const v = this.splade.index.document(d);
      if (v) for (const t of v.terms) this.splade.df.set(t, (this.splade.df.get(t) ?? 1) - 1);
    }
    this.splade.index.delete(docnos);
  }

  private async maybeCommit(): Promise<void> {
    if (this.indexedSeq - this.committedSeq >= COMMIT_EVERY_CHANGES) await this.commitNow();
  }

  /** Must run inside serial() (or before any write), so the index holds exactly the changes up to indexedSeq. */
  private async commitNow(): Promise<void> {
    if (this.indexedSeq === this.committedSeq && this.bm25.committedMeta.seq !== undefined) return;
    const seq = this.indexedSeq;
    // SPLADE and dense first: tombstones are pruned below only once every index covers them.
    if (this.splade) await this.splade.index.commit({ seq });
    if (this.dense) await this.dense.index.commit({ seq });
    await this.bm25.commit({ seq });
    this.committedSeq = seq;
    this.store.pruneTombstones(seq);
  }

  /** Makes the index durable up to the last write (the store already is). */
  commit(): Promise<void> {
    return this.serial(() => this.commitNow());
  }

  stats(): CollectionStats {
    const s = this.bm25.stats();
    const storeBytes = ['', '-wal', '-shm'].reduce((n, suf) => {
      const p = this.store.path + suf;
      return n + (existsSync(p) ? statSync(p).size : 0);
    }, 0);
    const indexBytes = dirBytes(join(this.dir, 'index'));
    return {
      documents: this.store.size,
      deleted: s.deleted,
      segments: s.segments,
      bytes_on_disk: storeBytes + indexBytes,
      index_bytes: indexBytes,
      vocabulary: this.store.vocab.size,
      avgdl: this.store.avgdl,
      committed_seq: this.committedSeq,
      seq: this.store.lastSeq,
    };
  }

  /** Waits for queued writes, commits the index, closes files. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.commit();
    } catch (e) {
      // The store holds everything; the next open replays what this commit would have saved.
      this.log.error({ collection: this.name, err: (e as Error).message }, 'index commit on close failed');
    }
    this.closed = true;
    await this.queue;
    await this.bm25.close();
    await this.splade?.index.close();
    await this.dense?.index.close();
    this.store.close();
  }

  /** Closes and removes every file of the collection. */
  async destroy(): Promise<void> {
    this.closed = true;
    await this.queue;
    await this.bm25.close();
    await this.splade?.index.close();
    await this.dense?.index.close();
    this.store.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
