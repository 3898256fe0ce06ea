// The embedded backend: one SQLite store (the truth: documents, BM25 counts, each retriever's vectors,
// a seq per change) and one native index per retriever under index/<retriever>, in this process.
//
// Write: one store transaction (rows get increasing seq) -> every index tombstones the replaced or
// removed numbers and adds the new rows under their store numbers -> now and then every index
// commits with the seq it covers, and only then are store tombstones up to that seq pruned (an
// index replays them on open). Open: each index replays what is above its own seq, or is rebuilt
// from the store when damaged or out of step (index-side.ts).
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { DocumentStore, StoredDocument } from '../../store/document-store.js';
import type { Backend, BackendDocument, BackendStats, Candidates, DenseSpec, LexicalSpec, SparseSpec, WriteResult } from '../backend.js';
import { DenseSide } from './dense-side.js';
import type { AppliedBatch, IndexSide, Logger, NativeIndex } from './index-side.js';
import { DensePassageSide, SparsePassageSide } from './passage-side.js';
import { LearnedSparseSide, LexicalSide, sideDir } from './sparse-side.js';
import { filterBitset, filterToSql } from './sql-filter.js';

/** Commit the indexes once this many changes are uncommitted (replay on open stays short). */
const COMMIT_EVERY_CHANGES = 100_000;

function dirBytes(dir: string): number {
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return n;
}

export class EmbeddedBackend implements Backend {
  private readonly sides: IndexSide<NativeIndex, { docno: number }>[] = [];
  /** Every store change up to this seq is in the in-memory indexes. */
  private indexedSeq = 0;
  private opened = false;

  constructor(
    readonly dir: string,
    readonly store: DocumentStore,
    private readonly log: Logger,
    private readonly collection: string,
  ) {}

  static storePath(dir: string): string {
    return join(dir, 'store.sqlite');
  }

  private declare<S extends IndexSide<NativeIndex, { docno: number }>>(side: S): S {
    if (this.opened) throw new Error(`storage '${side.name}' declared after open()`);
    if (this.sides.some((s) => s.name === side.name)) throw new Error(`storage '${side.name}' declared twice`);
    this.sides.push(side);
    return side;
  }

  private ctx(name: string) {
    return { store: this.store, dir: sideDir(this.dir, name), log: this.log, collection: this.collection };
  }

  lexical(name: string, spec: LexicalSpec): LexicalSide {
    return this.declare(new LexicalSide(name, this.ctx(name), spec));
  }

  sparse(name: string, spec: SparseSpec): LearnedSparseSide | SparsePassageSide {
    return this.declare(
      spec.passages ? new SparsePassageSide(name, this.ctx(name), spec) : new LearnedSparseSide(name, this.ctx(name), spec),
    );
  }

  dense(name: string, spec: DenseSpec): DenseSide | DensePassageSide {
    return this.declare(spec.passages ? new DensePassageSide(name, this.ctx(name), spec) : new DenseSide(name, this.ctx(name), spec));
  }

  get isOpen(): boolean {
    return this.store.db.open;
  }

  async open(): Promise<void> {
    this.opened = true;
    try {
      // Every index replays before any commits: a commit prunes tombstones the others may need.
      for (const s of this.sides) await s.open();
    } catch (e) {
      await this.closeSides();
      this.store.close();
      throw e;
    }
    this.indexedSeq = this.store.lastSeq;
    await this.commitNow();
  }

  async write(docs: readonly BackendDocument[], job: string | null): Promise<WriteResult> {
    const r = this.store.writeBatch(docs, job);
    const byId = new Map(docs.map((d) => [d.id, d]));
    const batch: AppliedBatch = { written: r.written, removed: r.removed, vectorOf: (name, id) => byId.get(id)?.vectors?.[name] };
    for (const s of this.sides) await s.apply(batch);
    this.indexedSeq = this.store.lastSeq;
    await this.maybeCommit();
    return { written: r.written.length, duplicates: r.duplicates };
  }

  async remove(docnos: readonly number[]): Promise<number> {
    const removed = this.store.removeDocnos(docnos);
    for (const s of this.sides) s.remove(removed);
    this.indexedSeq = this.store.lastSeq;
    await this.maybeCommit();
    return removed.length;
  }

  private async maybeCommit(): Promise<void> {
    if (this.indexedSeq - this.committedSeq >= COMMIT_EVERY_CHANGES) await this.commitNow();
  }

  /** Store seq every index's durable commit covers. */
  private get committedSeq(): number {
    return this.sides.length ? Math.min(...this.sides.map((s) => s.committedSeq)) : 0;
  }

  /** The caller serializes it with writes, so the indexes hold exactly the changes up to indexedSeq. */
  private async commitNow(): Promise<void> {
    if (this.sides.every((s) => s.hasCommitted && s.committedSeq === this.indexedSeq)) return;
    const seq = this.indexedSeq;
    for (const s of this.sides) await s.commit(seq);
    // Only now does every index cover these removals.
    this.store.pruneTombstones(seq);
  }

  commit(): Promise<void> {
    return this.commitNow();
  }

  private async closeSides(): Promise<void> {
    for (const s of this.sides) {
      try {
        await s.close();
      } catch {
        // never opened, or already closed
      }
    }
  }

  async close(): Promise<void> {
    await this.closeSides();
    this.store.close();
  }

  async destroy(): Promise<void> {
    await this.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  get size(): number {
    return this.store.size;
  }

  async docnoOf(id: string): Promise<number | undefined> {
    return this.store.docnoOf(id);
  }

  async get(docno: number): Promise<StoredDocument | undefined> {
    return this.store.get(docno);
  }

  async idsOf(docnos: ArrayLike<number>): Promise<Map<number, string>> {
    return this.store.idsOf(docnos);
  }

  async getMany(docnos: ArrayLike<number>): Promise<Map<number, StoredDocument>> {
    return this.store.getMany(docnos);
  }

  async candidates(filter?: object): Promise<Candidates> {
    if (filter === undefined) return { matches: this.store.size };
    const f = filterBitset(this.store, filter);
    return { bits: f.bits, matches: f.matches };
  }

  async docnosMatching(filter: object): Promise<number[]> {
    const { where, params } = filterToSql(filter);
    return this.store.docnosWhere(where, params);
  }

  async statsNow(): Promise<BackendStats> {
    return this.stats();
  }

  /** Segments and tombstones are the first storage's (BM25's: every collection has it). */
  stats(): BackendStats {
    const s = this.sides[0]?.stats() ?? { segments: 0, deleted: 0 };
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
}
