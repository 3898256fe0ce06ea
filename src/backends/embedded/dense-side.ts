// The embedded backend's dense storage: a DenseIndex (f32 or i8 rows, HNSW graphs when asked) under
// index/<retriever>, numbered by store document numbers, fed from the store's table of the
// retriever's vectors.
import { DenseIndex, type IndexError, type TopK } from '../../../index/index.js';
import { fail } from '../../errors.js';
import type { DenseRow } from '../../store/document-store.js';
import type { Candidates, DenseSpec, DenseStorage, DenseStrategy } from '../backend.js';
import { IndexSide, type AppliedBatch, type SideContext } from './index-side.js';

/** The DenseIndex options of a dense storage's spec. */
export function denseIndexOptions(spec: DenseSpec) {
  const a = spec.approx;
  const approx = a && {
    ...(a.m !== undefined ? { m: a.m } : {}),
    ...(a.ef_construction !== undefined ? { efConstruction: a.ef_construction } : {}),
    ...(a.seed !== undefined ? { seed: a.seed } : {}),
  };
  return { dim: spec.dim, storage: spec.storage, ...(approx ? { approx } : {}) };
}

/**
 * An index batch of rows (entry number `docno`, its vector); a vector of another width than the
 * model's is INVALID_MODEL naming document `documentOf(row)`.
 */
export function denseBatch<R extends DenseRow>(rows: readonly R[], spec: DenseSpec, documentOf: (r: R) => number) {
  const dim = spec.dim;
  const vectors = new Float32Array(rows.length * dim),
    docnos = new Uint32Array(rows.length);
  rows.forEach((r, i) => {
    if (r.vector.length !== dim)
      fail(
        'INVALID_MODEL',
        `document ${documentOf(r)} has a ${r.vector.length}-dimensional vector, the model gives ${dim}`,
        spec.modelField,
      );
    vectors.set(r.vector, i * dim);
    docnos[i] = r.docno;
  });
  return { vectors, docnos };
}

/** A dense search's options: approximate by default when the graphs were built (`approx`). */
export function denseSearchOptions(k: number, candidates: Candidates, s: DenseStrategy | undefined, approx: boolean) {
  const mode = s?.mode ?? (approx ? 'approx' : 'exact');
  return { k, mode, ...(candidates.bits ? { filter: candidates.bits } : {}), ...(s?.ef !== undefined ? { ef: s.ef } : {}) };
}

export class DenseSide extends IndexSide<DenseIndex, DenseRow> implements DenseStorage {
  constructor(
    name: string,
    ctx: SideContext,
    private readonly spec: DenseSpec,
  ) {
    super(name, ctx);
    ctx.store.vectorTable(name, 'dense');
  }

  protected openIndex(): DenseIndex {
    return DenseIndex.open(this.ctx.dir, denseIndexOptions(this.spec));
  }

  /** An index of another dimension than the model's: refuse when the stored vectors have it too. */
  protected override rebuildable(e: IndexError): boolean {
    if (e.code === 'INDEX_CLOSED') return false;
    if (e.code === 'INVALID_ARGUMENT') {
      // The stored vectors came from a different model too, so rebuilding would not help.
      const stored = this.ctx.store.denseAfter(this.name, -1).next();
      if (!stored.done && stored.value.vector.length !== this.spec.dim)
        fail(
          'INVALID_MODEL',
          `collection '${this.ctx.collection}' holds ${stored.value.vector.length}-dimensional vectors but the model gives ${this.spec.dim}`,
          this.spec.modelField,
        );
    }
    return true;
  }

  get dim(): number {
    return this.spec.dim;
  }

  get storage(): 'f32' | 'i8' {
    return this.spec.storage;
  }

  get approx(): boolean {
    return this.index.approx !== null && this.index.approx !== undefined;
  }

  async search(query: Float32Array, k: number, candidates: Candidates, strategy?: DenseStrategy): Promise<TopK> {
    return (await this.index.searchBatch([query], denseSearchOptions(k, candidates, strategy, this.approx), 1))[0];
  }

  async vector(docno: number): Promise<Float32Array | undefined> {
    return this.ctx.store.denseVector(this.name, docno);
  }

  /** The index itself, for tests and benchmarks that look at its storage and graphs. */
  get native(): DenseIndex {
    return this.index;
  }

  protected rowsAfter(seq: number): Iterable<DenseRow> {
    return this.ctx.store.denseAfter(this.name, seq);
  }

  protected rowsOf(batch: AppliedBatch): DenseRow[] {
    return batch.written.map((w) => ({ docno: w.docno, vector: batch.vectorOf(this.name, w.id) as Float32Array }));
  }

  protected addRows(rows: DenseRow[]): Promise<unknown> {
    return this.index.add(denseBatch(rows, this.spec, (r) => r.docno));
  }
}
