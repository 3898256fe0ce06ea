// The embedded backend's sparse storages: a SparseIndex under index/<retriever>, numbered by store
// document numbers. `LexicalSide` holds BM25 (document weights computed from the store's term counts
// with the avgdl of the moment: text/bm25.ts); `LearnedSparseSide` holds the vectors a model gave at
// ingest (kept in the store's table for the retriever), and, when asked, document frequencies per
// model term for inference-free queries.
import { join } from 'node:path';
import {
  SparseIndex,
  type SearchOptions,
  type SparseBatch,
  type SparseIndexOptions,
  type SparseQuery,
  type TopK,
} from '../../../index/index.js';
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
  SparseStorageConfig,
  SparseStrategy,
  WeighedQuery,
} from '../backend.js';
import { type Contribution, termContributions } from '../contributions.js';
import { IndexSide, type AppliedBatch, type SideContext } from './index-side.js';

/** Term ids are store (or model) vocabulary ids; segments are sized by their largest id, so the cap is free. */
const VOCAB = 0x7fffffff;

export function indexOptions(approx: SparseApproxConfig | undefined, storage: SparseStorageConfig | undefined): SparseIndexOptions {
  return {
    vocab: VOCAB,
    ...(storage?.weights === 'f16' ? { weightPrecision: 'f16' as const } : {}),
    ...(storage?.impacts === 'u8' ? { quantizeU8: true } : {}),
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

/**
 * How many live index entries hold each term (model vocabulary id): the document frequencies of
 * inference-free queries, in memory, counted from the store on open and kept in step with the index.
 */
class TermCounts {
  private readonly counts = new Map<number, number>();

  add(terms: ArrayLike<number>): void {
    for (let i = 0; i < terms.length; i++) this.counts.set(terms[i], (this.counts.get(terms[i]) ?? 0) + 1);
  }

  remove(terms: ArrayLike<number>): void {
    for (let i = 0; i < terms.length; i++) this.counts.set(terms[i], (this.counts.get(terms[i]) ?? 1) - 1);
  }

  of(terms: readonly number[]): Uint32Array {
    return Uint32Array.from(terms, (t) => this.counts.get(t) ?? 0);
  }
}

export abstract class SparseSide<Row extends { docno: number; terms: Uint32Array }>
  extends IndexSide<SparseIndex, Row>
  implements SparseScoring
{
  /** Entries holding each term, when the storage was declared with `df` (else null). */
  private readonly dfs: TermCounts | null;

  private readonly approxConfig: SparseApproxConfig | undefined;
  private readonly storageConfig: SparseStorageConfig | undefined;

  constructor(name: string, ctx: SideContext, spec: Pick<SparseSpec, 'approx' | 'storage' | 'df'>) {
    super(name, ctx);
    this.approxConfig = spec.approx;
    this.storageConfig = spec.storage;
    this.dfs = spec.df ? new TermCounts() : null;
  }

  override async open(): Promise<void> {
    await super.open();
    // Frequencies for inference-free queries: one pass over the rows the index holds.
    if (this.dfs) for (const r of this.rowsAfter(-1)) this.dfs.add(r.terms);
  }

  /** `n` and how many entries hold each of `terms` (storages declared with `df`). */
  protected countedFrequencies(terms: readonly number[], n: number): { n: number; df: Uint32Array } {
    if (!this.dfs) throw new Error(`storage '${this.name}' keeps no document frequencies`);
    return { n, df: this.dfs.of(terms) };
  }

  protected override added(rows: readonly Row[]): void {
    if (this.dfs) for (const r of rows) this.dfs.add(r.terms);
  }

  /** Takes removed entries' terms out of the counts while their stored weights are still readable. */
  protected override removing(entries: readonly number[]): void {
    if (!this.dfs) return;
    for (const e of entries) {
      const v = this.index.document(e);
      if (v) this.dfs.remove(v.terms);
    }
  }

  protected openIndex(): SparseIndex {
    return SparseIndex.open(this.ctx.dir, indexOptions(this.approxConfig, this.storageConfig));
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
    const top = await this.rank(query, k, candidates, strategy);
    if (strategy?.mode !== 'approx' || top.docs.length >= Math.min(k, candidates.matches)) return top;
    return this.rank(query, k, candidates, undefined);
  }

  /** The top `k` documents under `candidates` by one walk of the index (exact when `strategy` is absent). */
  protected async rank(query: SparseQuery, k: number, candidates: Candidates, strategy: SparseStrategy | undefined): Promise<TopK> {
    return (await this.index.searchBatch([query], searchOptions(k, candidates, strategy), 1))[0];
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
    super(name, ctx, { approx: spec.approx, storage: spec.storage });
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
  constructor(name: string, ctx: SideContext, spec: SparseSpec) {
    super(name, ctx, spec);
    ctx.store.vectorTable(name, 'sparse');
  }

  async frequencies(terms: readonly number[]): Promise<{ n: number; df: Uint32Array }> {
    return this.countedFrequencies(terms, this.size);
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
}

export function sideDir(root: string, name: string): string {
  return join(root, 'index', name);
}
