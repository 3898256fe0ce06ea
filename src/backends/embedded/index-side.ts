// One retriever's native index in the embedded backend, and the commit protocol every such index
// follows (docs/architecture.md): the store is the truth; the index under index/<retriever> records
// the store seq its last commit covers; on open, store rows and tombstones above that seq are
// replayed; an index that is damaged (SEGMENT_*, MANIFEST_CORRUPT) or disagrees with the store is
// thrown away and rebuilt from the store, with a warning that names the file. Subclasses say only
// where their rows come from and how a batch of rows becomes an index batch.
import { rmSync } from 'node:fs';
import { IndexError } from '../../../index/index.js';
import type { DocumentStore, WrittenDocument } from '../../store/document-store.js';

/** Rows per index batch during replay and rebuild. */
const REBUILD_CHUNK = 20_000;

export interface Logger {
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

/** What the engine library's indexes have in common, as the protocol uses them. */
export interface NativeIndex {
  readonly size: number;
  readonly nextDocumentNumber: number;
  readonly committedMeta: Record<string, unknown>;
  delete(docnos: readonly number[]): void;
  commit(meta: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
  stats(): { segments: number; deleted: number };
}

/** One store batch as the sides see it: the rows written (with each document's vectors) and the numbers removed. */
export interface AppliedBatch {
  written: readonly WrittenDocument[];
  removed: readonly number[];
  /** The vector retriever `name` gave document `id` in this batch. */
  vectorOf(name: string, id: string): unknown;
}

export interface SideContext {
  store: DocumentStore;
  /** This side's own folder (index/<retriever>). */
  dir: string;
  log: Logger;
  collection: string;
}

export abstract class IndexSide<I extends NativeIndex, Row extends { docno: number }> {
  protected index!: I;

  constructor(
    readonly name: string,
    protected readonly ctx: SideContext,
  ) {}

  /** Opens (or creates) the index in its folder; throws IndexError when it is damaged. */
  protected abstract openIndex(): I;
  /** Store rows written after `seq`, in document-number order. */
  protected abstract rowsAfter(seq: number): Iterable<Row>;
  /** The rows of a freshly written batch. */
  protected abstract rowsOf(batch: AppliedBatch): Row[];
  /** Adds rows (ascending document numbers) to the index. */
  protected abstract addRows(rows: Row[]): Promise<unknown>;
  /** Called before entries leave the index (their stored weights are still readable). */
  protected removing(_docnos: readonly number[]): void {}
  /** Called once rows are in the index. */
  protected added(_rows: readonly Row[]): void {}
  /**
   * The index entries of documents `docnos` (removed or replaced). Identity: an entry per document,
   * numbered by it; a side that keeps one entry per passage maps them (passage-side.ts).
   */
  protected entriesOf(docnos: readonly number[]): readonly number[] {
    return docnos;
  }
  /** Live entries the store says the index should hold once it is up to date. */
  protected expectedEntries(): number {
    return this.ctx.store.size;
  }
  /** Whether an error from openIndex() means "rebuild from the store" rather than "refuse to open". */
  protected rebuildable(e: IndexError): boolean {
    return e.code !== 'INVALID_ARGUMENT' && e.code !== 'INDEX_CLOSED';
  }

  /**
   * Live documents: every document of the store has this retriever's row, so the store's count
   * (a field) rather than the index's (a native call per segment; replay compares the two).
   */
  get size(): number {
    return this.ctx.store.size;
  }

  /** Store seq the last durable commit covers. */
  get committedSeq(): number {
    return Number(this.index.committedMeta.seq ?? 0);
  }

  /** Whether the index has ever committed (a fresh one must, even with nothing to cover). */
  get hasCommitted(): boolean {
    return this.index.committedMeta.seq !== undefined;
  }

  stats(): { segments: number; deleted: number } {
    return this.index.stats();
  }

  /** Opens the index and brings it up to the store: replay above its seq, or rebuild. */
  async open(): Promise<void> {
    let opened = false;
    try {
      this.index = this.openIndex();
      opened = true;
    } catch (e) {
      if (!(e instanceof IndexError) || !this.rebuildable(e)) throw e;
      this.ctx.log.warn(
        { collection: this.ctx.collection, retriever: this.name, code: e.code, file: e.file, err: e.message },
        `${this.name} index damaged; rebuilding it from the store`,
      );
    }
    if (opened && (await this.replay())) return;
    if (opened)
      this.ctx.log.warn(
        { collection: this.ctx.collection, retriever: this.name },
        `${this.name} index disagrees with the store; rebuilding it from the store`,
      );
    await this.rebuild();
  }

  /** Store rows and tombstones above the committed seq into the index; false when they cannot be reconciled. */
  private async replay(): Promise<boolean> {
    const from = this.committedSeq;
    const next = this.index.nextDocumentNumber;
    let chunk: Row[] = [];
    for (const r of this.rowsAfter(from)) {
      if (r.docno < next) return false;
      chunk.push(r);
      if (chunk.length >= REBUILD_CHUNK) {
        await this.addRows(chunk);
        chunk = [];
      }
    }
    if (chunk.length) await this.addRows(chunk);
    const gone = this.entriesOf(this.ctx.store.tombstonesAfter(from));
    if (gone.length) this.index.delete(gone);
    // Tombstones are pruned only after every index has committed past them, so an index that
    // missed deletes (lost, or older than the others) shows up here as a count unlike the store's.
    return this.index.size === this.expectedEntries();
  }

  /** Throws the index away and builds it again from every live store row, then commits it. */
  private async rebuild(): Promise<void> {
    if (this.index) await this.index.close();
    rmSync(this.ctx.dir, { recursive: true, force: true });
    this.index = this.openIndex();
    let chunk: Row[] = [];
    for (const r of this.rowsAfter(-1)) {
      chunk.push(r);
      if (chunk.length >= REBUILD_CHUNK) {
        await this.addRows(chunk);
        chunk = [];
      }
    }
    if (chunk.length) await this.addRows(chunk);
    await this.index.commit({ seq: this.ctx.store.lastSeq });
  }

  /** Applies a store batch: tombstones for replaced or removed numbers, then the new rows. */
  async apply(batch: AppliedBatch): Promise<void> {
    this.remove(batch.removed);
    if (batch.written.length === 0) return;
    const rows = this.rowsOf(batch);
    await this.addRows(rows);
    this.added(rows);
  }

  remove(docnos: readonly number[]): void {
    if (docnos.length === 0) return;
    const entries = this.entriesOf(docnos);
    if (entries.length === 0) return;
    this.removing(entries);
    this.index.delete(entries);
  }

  commit(seq: number): Promise<void> {
    return this.index.commit({ seq });
  }

  close(): Promise<void> {
    return this.index.close();
  }
}
