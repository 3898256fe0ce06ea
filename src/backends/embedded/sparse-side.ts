// The embedded backend's sparse storages: a SparseIndex under index/<retriever>, numbered by store
// document numbers. `LexicalSide` holds BM25 (document weights computed from the store's term counts
// with the avgdl of the moment: text/bm25.ts); `LearnedSparseSide` holds the vectors a model gave at
// ingest (kept in the store's table for the retriever), and, when asked, document frequencies per
// model term for inference-free queries.
import { join } from 'node:path';
import { SparseIndex, type SearchOptions, type SparseBatch, type SparseQuery, type TopK } from '../../../index/index.js';
import type { StoredVector, SparseVector } from '../../store/document-store.js';
import { documentWeights, idf } from '../../text/bm25.js';
import type {
  Candidates,
  LexicalSpec,
  LexicalStorage,
  SparseApproxConfig,
  SparseScoring,
  SparseSpec,
  SparseStorage,
  SparseStrategy,
  WeighedQuery,
} from '../backend.js';
import { type Contribution, termContributions } from '../contributions.js';
import { IndexSide, type AppliedBatch, type SideContext } from './index-side.js';

/** Term ids are store (or model) vocabulary ids; segments are sized by their largest id, so the cap is free. */
const VOCAB = 0x7fffffff;

export function indexOptions(approx: SparseApproxConfig | undefined) {
  return {
    vocab: VOCAB,
    ...(approx
      ? {
          approx: {
            postings: approx.postings,
            ...(approx.block_ratio !== undefined ? { blockRatio: approx.block_ratio } : {}),
            ...(approx.summary_energy !== undefined ? { summaryEnergy: approx.summary_energy } : {}),
            ...(approx.blocks !== undefined ? { blocks: approx.blocks } : {}),
          },
        }
      : {}),
  };
}

export function searchOptions(k: number, candidates: Candidates, s: SparseStrategy | undefined): SearchOptions {
  const o: SearchOptions = { k };
  if (candidates.bits) o.filter = candidates.bits;
  if (s === undefined) return o;
  if (s.mode) o.mode = s.mode;
  if (s.strategy) o.strategy = s.strategy;
  if (s.query_cut !== undefined) o.queryCut = s.query_cut;
  if (s.rerank !== undefined) o.rerank = s.rerank;
  if (s.heap_factor !== undefined) o.heapFactor = s.heap_factor;
  return o;
}

/** A CSR batch of rows, numbered by store docno; `fill` writes a row's weights at `out[at..]`. */
export function csr<R extends { docno: number; terms: Uint32Array }>(
  rows: readonly R[],
  fill: (row: R, out: Float32Array, at: number) => void,
): SparseBatch {
  let nnz = 0;
  for (const r of rows) nnz += r.terms.length;
  const offsets = new Uint32Array(rows.length + 1),
    terms = new Uint32Array(nnz),
    weights = new Float32Array(nnz),
    docnos = new Uint32Array(rows.length);
  rows.forEach((r, i) => {
    terms.set(r.terms, offsets[i]);
    fill(r, weights, offsets[i]);
    offsets[i + 1] = offsets[i] + r.terms.length;
    docnos[i] = r.docno;
  });
  return { offsets, terms, weights, docnos };
}

export abstract class SparseSide<Row extends { docno: number }> extends IndexSide<SparseIndex, Row> implements SparseScoring {
  constructor(
    name: string,
    ctx: SideContext,
    protected readonly approxConfig: SparseApproxConfig | undefined,
  ) {
    super(name, ctx);
  }

  protected openIndex(): SparseIndex {
    return SparseIndex.open(this.ctx.dir, indexOptions(this.approxConfig));
  }

  get approx(): boolean {
    return this.approxConfig !== undefined;
  }

  get approxBlocks(): boolean {
    return this.approxConfig?.blocks === true;
  }

  /**
   * Approximate search visits only the pruned lists; under a filter that leaves fewer than k of its
   * candidates, the exact search runs instead, so a filtered top-k still returns k whenever k
   * documents score above zero.
   */
  async search(query: SparseQuery, k: number, candidates: Candidates, strategy?: SparseStrategy): Promise<TopK> {
    const top = (await this.index.searchBatch([query], searchOptions(k, candidates, strategy), 1))[0];
    if (strategy?.mode !== 'approx' || top.docs.length >= Math.min(k, candidates.matches)) return top;
    return (await this.index.searchBatch([query], searchOptions(k, candidates, undefined), 1))[0];
  }

  async document(docno: number): Promise<SparseQuery | null> {
    return this.index.document(docno);
  }
}

/** BM25: rows are the store's term counts, weighted with the store's avgdl when they are indexed. */
export class LexicalSide extends SparseSide<StoredVector> implements LexicalStorage {
  constructor(
    name: string,
    ctx: SideContext,
    private readonly spec: LexicalSpec,
  ) {
    super(name, ctx, spec.approx);
  }

  /** idf(df, N) × count over the store's vocabulary, so the engine's dot product is the BM25 score. */
  async weigh(counts: ReadonlyMap<string, number>): Promise<WeighedQuery> {
    const vocab = this.ctx.store.vocab;
    const n = this.size;
    const ids: number[] = [],
      weights: number[] = [],
      terms: string[] = [];
    for (const [term, c] of counts) {
      const id = vocab.id(term);
      const df = id === undefined ? 0 : vocab.df(id);
      if (id === undefined || df <= 0 || c <= 0) continue;
      ids.push(id);
      weights.push(idf(df, n) * c);
      terms.push(term);
    }
    return { query: { terms: Uint32Array.from(ids), weights: Float32Array.from(weights) }, terms };
  }

  async explain(q: WeighedQuery, docno: number): Promise<Contribution[] | null> {
    const doc = await this.document(docno);
    return doc ? termContributions(q.query, q.terms, doc) : null;
  }

  async termFrequencies(terms: readonly string[]): Promise<{ n: number; df: Uint32Array }> {
    const vocab = this.ctx.store.vocab;
    return {
      n: this.size,
      df: Uint32Array.from(terms, (t) => {
        const id = vocab.id(t);
        return id === undefined ? 0 : vocab.df(id);
      }),
    };
  }

  protected rowsAfter(seq: number): Iterable<StoredVector> {
    return this.ctx.store.vectorsAfter(seq);
  }

  protected rowsOf(batch: AppliedBatch): StoredVector[] {
    return [...batch.written];
  }

  protected addRows(rows: StoredVector[]): Promise<unknown> {
    const avgdl = this.ctx.store.avgdl;
    return this.index.add(csr(rows, (v, out, at) => documentWeights(v.tfs, v.dl, avgdl, this.spec, out, at)));
  }
}

/** A learned sparse retriever's vectors, from the store's table for it. */
export class LearnedSparseSide extends SparseSide<{ docno: number } & SparseVector> implements SparseStorage {
  /** df per model vocabulary id over live documents (in memory; recounted from the store on open). */
  private readonly dfs: Map<number, number> | null;

  constructor(name: string, ctx: SideContext, spec: SparseSpec) {
    super(name, ctx, spec.approx);
    ctx.store.vectorTable(name, 'sparse');
    this.dfs = spec.df ? new Map() : null;
  }

  override async open(): Promise<void> {
    await super.open();
    if (!this.dfs) return;
    // Document frequencies for inference-free queries: one pass over the stored vectors.
    for (const v of this.ctx.store.sparseAfter(this.name, -1)) for (const t of v.terms) this.dfs.set(t, (this.dfs.get(t) ?? 0) + 1);
  }

  async frequencies(terms: readonly number[]): Promise<{ n: number; df: Uint32Array }> {
    const dfs = this.dfs;
    if (!dfs) throw new Error(`storage '${this.name}' keeps no document frequencies`);
    return { n: this.size, df: Uint32Array.from(terms, (t) => dfs.get(t) ?? 0) };
  }

  protected rowsAfter(seq: number): Iterable<{ docno: number } & SparseVector> {
    return this.ctx.store.sparseAfter(this.name, seq);
  }

  protected rowsOf(batch: AppliedBatch): ({ docno: number } & SparseVector)[] {
    return batch.written.map((w) => ({ docno: w.docno, ...(batch.vectorOf(this.name, w.id) as SparseVector) }));
  }

  protected addRows(rows: ({ docno: number } & SparseVector)[]): Promise<unknown> {
    return this.index.add(csr(rows, (v, out, at) => out.set(v.weights, at)));
  }

  protected override added(rows: readonly ({ docno: number } & SparseVector)[]): void {
    if (this.dfs) for (const v of rows) for (const t of v.terms) this.dfs.set(t, (this.dfs.get(t) ?? 0) + 1);
  }

  /** Takes the removed documents' terms out of df while their stored weights are still readable. */
  protected override removing(docnos: readonly number[]): void {
    if (!this.dfs) return;
    for (const d of docnos) {
      const v = this.index.document(d);
      if (v) for (const t of v.terms) this.dfs.set(t, (this.dfs.get(t) ?? 1) - 1);
    }
  }
}

export function sideDir(root: string, name: string): string {
  return join(root, 'index', name);
}
