// What SparseIndex and DenseIndex share: the segment list (one immutable native segment per added
// batch), tiered background merges, tombstone deletes replayed onto segments that builds and merges
// produce, commits (segment files, tombstone files, then the manifest, each a temporary file, fsync,
// rename) and close. Each engine supplies its native calls, its manifest fields and its file names.
// See docs/engine.md for the concurrency rules.
import { existsSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fromNative, IndexError } from './errors.js';
import { writeFileAtomic } from './fs-atomic.js';
import { readTombstones, writeTombstones } from './tombstones.js';

export const MANIFEST = 'manifest.json';
const MANIFEST_VERSION = 1;

/** What the shared code needs of a native segment (SparseSegment and DenseSegment both have it). */
export interface NativeSegmentLike {
  stats(): { docs: number; deleted: number };
  delete(docnos: Uint32Array): number;
  deletedBits(): Uint8Array;
  docnos(): Uint32Array;
  save(path: string): Promise<void>;
}

export interface Seg<N> {
  id: number;
  native: N;
  docs: number;
  /** File name inside the index directory once saved. */
  file?: string;
  /** Tombstone file written at the last commit, and how many deletes it held. */
  delFile?: string;
  delSaved: number;
}

/** The manifest fields every engine writes; each adds its own after `version`. */
export interface ManifestBase {
  version: number;
  nextDocno: number;
  nextSegmentId: number;
  generation: number;
  segments: { id: number; file: string; docs: number; deletes?: string }[];
  /** Caller's data committed atomically with the segments (the service stores its `seq` here). */
  meta: Record<string, unknown>;
}

/** How an engine names things: its class (in messages) and its files, `${prefix}-<id>.${ext}`. */
export interface IndexFiles {
  className: string;
  prefix: string;
  ext: string;
}

/**
 * The manifest in `mpath`, or undefined when there is none. A manifest that cannot be parsed is
 * MANIFEST_CORRUPT; one of another version is SEGMENT_VERSION.
 */
export function readManifest<M extends ManifestBase>(mpath: string): M | undefined {
  if (!existsSync(mpath)) return undefined;
  let m: M;
  try {
    m = JSON.parse(readFileSync(mpath, 'utf8')) as M;
  } catch (e) {
    throw new IndexError('MANIFEST_CORRUPT', `index manifest '${mpath}' cannot be parsed: ${(e as Error).message}`, mpath);
  }
  if (m.version !== MANIFEST_VERSION)
    throw new IndexError('SEGMENT_VERSION', `index manifest '${mpath}' has version ${m.version}, expected ${MANIFEST_VERSION}`, mpath);
  return m;
}

/** Deletes in `seg` the documents whose local-id bit is set in `bits`; returns how many were live. */
function deleteMarked(seg: NativeSegmentLike, bits: Uint8Array): number {
  const docnos = seg.docnos();
  const del: number[] = [];
  for (let i = 0; i < docnos.length; i++) if ((bits[i >> 3] >> (i & 7)) & 1) del.push(docnos[i]);
  return del.length ? seg.delete(Uint32Array.from(del)) : 0;
}

export abstract class SegmentedIndex<N extends NativeSegmentLike> {
  readonly dir: string | undefined;
  protected segments: Seg<N>[] = [];
  protected nextDocno = 0;
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
  readonly #files: IndexFiles;
  readonly #segmentFile: RegExp;
  readonly #mergeFactor: number;

  protected constructor(dir: string | undefined, mergeFactor: number, files: IndexFiles) {
    this.dir = dir;
    this.#mergeFactor = mergeFactor;
    this.#files = files;
    this.#segmentFile = new RegExp(`^${files.prefix}-\\d+\\.(${files.ext}|\\d+\\.del)(\\.tmp)?$`);
  }

  /** Merges live documents of several segments into one (the engine's native merge). */
  protected abstract mergeNative(segs: N[]): Promise<N>;
  /** Opens a segment file (a read-only mapping, checksums verified): on restore and after a commit saves one. */
  protected abstract openNative(path: string): N;
  /** The engine's manifest fields, written after `version`. */
  protected abstract manifestFields(): Record<string, unknown>;

  /**
   * Restores a stored index's counters and segments from its manifest: opens each segment file,
   * lets `check` compare it with the manifest, and applies its saved tombstones.
   */
  protected restore(dir: string, m: ManifestBase, check?: (seg: N, path: string, docs: number) => void): void {
    this.nextDocno = m.nextDocno;
    this.nextSegmentId = m.nextSegmentId;
    this.generation = m.generation;
    this.meta = m.meta ?? {};
    for (const s of m.segments) {
      const path = join(dir, s.file);
      const seg = this.openFile(path);
      check?.(seg, path, s.docs);
      const delSaved = s.deletes ? deleteMarked(seg, readTombstones(join(dir, s.deletes), s.docs)) : 0;
      this.segments.push({ id: s.id, native: seg, docs: s.docs, file: s.file, delFile: s.deletes, delSaved });
    }
  }

  /** Caller data stored by the last commit() (empty for a new index). */
  get committedMeta(): Readonly<Record<string, unknown>> {
    return this.meta;
  }

  /** Next document number add() assigns by default (one above the highest ever added). */
  get nextDocumentNumber(): number {
    return this.nextDocno;
  }

  /** Live (not deleted) documents. */
  get size(): number {
    let n = 0;
    for (const s of this.segments) n += s.docs - s.native.stats().deleted;
    return n;
  }

  protected checkOpen(): void {
    if (this.closed) throw new IndexError('INDEX_CLOSED', 'the index is closed');
  }

  protected natives(): N[] {
    return this.segments.map((s) => s.native);
  }

  /**
   * Adds a batch of `n` validated documents numbered `docnos` (default: the next numbers) as one new
   * segment made by `build`; resolves once they are searchable.
   */
  protected async addSegment(
    n: number,
    docnos: Uint32Array | undefined,
    build: (docnos: Uint32Array) => Promise<N>,
  ): Promise<{ first: number; count: number }> {
    if (n === 0) return { first: this.nextDocno, count: 0 };
    const d = docnos ?? Uint32Array.from({ length: n }, (_, i) => this.nextDocno + i);
    if (d[n - 1] >= 0xffffffff) throw new IndexError('INVALID_ARGUMENT', 'document numbers are exhausted (2^32 - 1)');
    this.nextDocno = d[n - 1] + 1;
    const logStart = this.beginOp();
    try {
      const seg = await build(d);
      this.replayDeletes(seg, logStart);
      this.segments.push({ id: this.nextSegmentId++, native: seg, docs: n, delSaved: 0 });
    } finally {
      this.endOp();
    }
    this.scheduleMerge();
    return { first: d[0], count: n };
  }

  private beginOp(): number {
    this.opsInFlight++;
    return this.deleteLog.length;
  }

  private endOp(): void {
    if (--this.opsInFlight === 0) this.deleteLog = [];
  }

  private replayDeletes(seg: N, from: number): void {
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

  private tier(docs: number): number {
    return Math.floor(Math.log(Math.max(1, docs)) / Math.log(this.#mergeFactor));
  }

  private scheduleMerge(): void {
    if (this.mergeRunning || this.closed) return;
    const group = this.mergeCandidate();
    if (!group) return;
    // Set before any await so a second add() sees the merge as running.
    this.mergeRunning = (async () => {
      try {
        for (let g: Seg<N>[] | null = group; g && !this.closed; g = this.mergeCandidate()) await this.mergeGroup(g);
      } finally {
        this.mergeRunning = null;
      }
    })();
    // Failures surface to whoever awaits settle(); never as an unhandled rejection.
    this.mergeRunning.catch(() => undefined);
  }

  /** The first size tier holding mergeFactor or more segments, if any. */
  private mergeCandidate(): Seg<N>[] | null {
    const tiers = new Map<number, Seg<N>[]>();
    for (const s of this.segments) {
      const t = this.tier(s.docs);
      const g = tiers.get(t) ?? [];
      g.push(s);
      tiers.set(t, g);
    }
    return [...tiers.values()].find((g) => g.length >= this.#mergeFactor) ?? null;
  }

  private mergeGroup(group: Seg<N>[]): Promise<void> {
    const run = this.lock.then(async () => {
      const logStart = this.beginOp();
      try {
        const merged = await this.mergeNative(group.map((s) => s.native));
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

  /** Merges every segment into one (a dense segment's graph is rebuilt), purging deleted documents. */
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
    const { className, prefix, ext } = this.#files;
    if (!dir) throw new IndexError('INVALID_ARGUMENT', `commit() needs an index opened with ${className}.open(dir)`);
    const run = this.lock.then(async () => {
      const gen = ++this.generation;
      const segs = this.segments.slice();
      for (const s of segs) {
        if (!s.file) {
          const file = `${prefix}-${s.id}.${ext}`;
          try {
            await s.native.save(join(dir, file));
          } catch (e) {
            throw fromNative(e, join(dir, file));
          }
          s.file = file;
          s.native = this.mappedCopy(s.native, join(dir, file));
        }
        const deleted = s.native.stats().deleted;
        if (deleted !== s.delSaved) {
          const file = `${prefix}-${s.id}.${gen}.del`;
          writeTombstones(join(dir, file), s.docs, s.native.deletedBits());
          s.delFile = file;
          s.delSaved = deleted;
        }
      }
      const m: ManifestBase = {
        version: MANIFEST_VERSION,
        ...this.manifestFields(),
        nextDocno: this.nextDocno,
        nextSegmentId: this.nextSegmentId,
        generation: gen,
        segments: segs.map((s) => ({ id: s.id, file: s.file!, docs: s.docs, ...(s.delFile ? { deletes: s.delFile } : {}) })),
        meta,
      };
      writeFileAtomic(join(dir, MANIFEST), JSON.stringify(m, null, 1));
      this.meta = meta;
      const live = new Set([MANIFEST, ...m.segments.flatMap((s) => [s.file, s.deletes ?? ''])]);
      for (const f of readdirSync(dir)) if (this.#segmentFile.test(f) && !live.has(f)) unlinkSync(join(dir, f));
    });
    this.lock = run.catch(() => undefined);
    return run;
  }

  /**
   * The segment just saved at `path`, served from there from now on: a read-only mapping costs page
   * cache the kernel can reclaim rather than anonymous memory, so an index may outgrow RAM and still
   * answer (slower, from disk). Runs synchronously from open to swap, so no delete falls between
   * copying the tombstones and the swap; searches already running keep the built image alive.
   */
  private mappedCopy(built: N, path: string): N {
    const seg = this.openFile(path);
    deleteMarked(seg, built.deletedBits());
    return seg;
  }

  /** openNative, its failure an IndexError naming the file. */
  private openFile(path: string): N {
    try {
      return this.openNative(path);
    } catch (e) {
      throw fromNative(e, path);
    }
  }

  /** Waits for merges, then releases the segments. Uncommitted changes are dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.settle();
    this.closed = true;
    this.segments = [];
  }
}
