// The embedded backend's dense storage: a DenseIndex (f32 or i8 rows, HNSW graphs when asked) under
// index/<retriever>, numbered by store document numbers, fed from the store's table of the
// retriever's vectors.
import { DenseIndex, type IndexError, type TopK } from '../../../index/index.js';
import { fail } from '../../errors.js';
import type { DenseRow } from '../../store/document-store.js';
import type { Candidates, DenseSpec, DenseStorage, DenseStrategy } from '../backend.js';
import { IndexSide, type AppliedBatch, type SideContext } from './index-side.js';

export class DenseSide extends IndexSide<DenseIndex, DenseRow> implements DenseStorage {
  constructor(
    name: string,
    ctx: SideContext,
    private readonly spec: DenseSpec,
  ) {
    super(name, ctx);
    ctx.store.vectorTable(name, 'dense');
  }

  private get options() {
    const a = this.spec.approx;
    const approx = a && {
      ...(a.m !== undefined ? { m: a.m } : {}),
      ...(a.ef_construction !== undefined ? { efConstruction: a.ef_construction } : {}),
      ...(a.seed !== undefined ? { seed: a.seed } : {}),
    };
    return { dim: this.spec.dim, storage: this.spec.storage, ...(approx ? { approx } : {}) };
  }

  protected openIndex(): DenseIndex {
    return DenseIndex.open(this.ctx.dir, this.options);
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

  private opts(k: number, candidates: Candidates, s: DenseStrategy | undefined) {
    const mode = s?.mode ?? (this.approx ? 'approx' : 'exact');
    return { k, mode, ...(candidates.bits ? { filter: candidates.bits } : {}), ...(s?.ef !== undefined ? { ef: s.ef } : {}) };
  }

  async search(query: Float32Array, k: number, candidates: Candidates, strategy?: DenseStrategy): Promise<TopK> {
    return (await this.index.searchBatch([query], this.opts(k, candidates, strategy), 1))[0];
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
    const dim = this.spec.dim;
    const vectors = new Float32Array(rows.length * dim),
      docnos = new Uint32Array(rows.length);
    rows.forEach((r, i) => {
      if (r.vector.length !== dim)
        fail(
          'INVALID_MODEL',
          `document ${r.docno} has a ${r.vector.length}-dimensional vector, the model gives ${dim}`,
          this.spec.modelField,
        );
      vectors.set(r.vector, i * dim);
      docnos[i] = r.docno;
    });
    return this.index.add({ vectors, docnos });
  }
}
