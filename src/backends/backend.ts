// Where a collection's data lives. A Backend holds the documents (the source of truth), and, for each
// retriever, a storage of one of three shapes that scores queries:
//
//   lexical  BM25 over the collection's analyzed text fields   (embedded: store counts -> native index)
//   sparse   a learned sparse vector per document              (embedded: side table -> native index)
//   dense    one dense vector per document                     (embedded: side table -> native HNSW/flat)
//
// Retriever kinds (src/retrievers/) declare the storage they need before open() and then only call
// the storage handles below; collections/ drives the generic loop (open, write, remove, commit,
// close); search/ hydrates and filters through the backend. None of them knows which backend it is.
//
// `embedded` (src/backends/embedded/) is SQLite + the native indexes in one process, with the commit
// protocol of docs/architecture.md. A remote engine (OpenSearch: one index holding the text fields,
// `rank_features` and `knn_vector`s) implements the same interface; docs/architecture.md says how.
import type { SparseQuery, TopK } from '../../index/index.js';
import type { NewDocument, StoredDocument } from '../store/document-store.js';
import type { Bm25Params } from '../text/bm25.js';
import type { ErrorCode } from '../errors.js';
import type { Contribution } from './contributions.js';

/** Build-time settings of a sparse storage's approximate structures (index/types.ts ApproxOptions). */
export interface SparseApproxConfig {
  /** Postings kept per term list (λ), heaviest first, 1..10,000,000. */
  postings: number;
  /** Blocks per kept posting (β / λ), (0, 1]. Default 0.1. */
  block_ratio?: number;
  /** Fraction of each block summary's L1 mass kept (α), (0, 1]. Default 0.4. */
  summary_energy?: number;
  /** Also cluster each pruned list into blocks with summaries (the `blocks` strategy). Default false. */
  blocks?: boolean;
}

/**
 * How a sparse storage keeps its vectors (index/types.ts quantizeU8, weightPrecision): `impacts:
 * 'u8'` is lossless for ranking (exact search re-scores within the quantization bound); `weights:
 * 'f16'` rounds every stored weight to half precision. Default: both f32.
 */
export interface SparseStorageConfig {
  weights?: 'f32' | 'f16';
  impacts?: 'f32' | 'u8';
}

/** HNSW settings of a dense storage. */
export interface DenseApproxConfig {
  /** Links per node, 2..128. Default 16. */
  m?: number;
  /** Candidate list while inserting, m..10000. Default 200. */
  ef_construction?: number;
  /** Seed of the level draws, a 32-bit unsigned integer. Default 1. */
  seed?: number;
}

/** How a sparse search walks the index; absent fields take the engine's defaults (docs/engine.md). */
export interface SparseStrategy {
  /** `exact` (default): what a brute-force scorer returns. `approx`: the pruned lists or blocks. */
  mode?: 'exact' | 'approx';
  /** approx: `pruned` (default) or `blocks` (needs `approx.blocks` at creation). */
  strategy?: 'pruned' | 'blocks';
  /** approx: query terms, heaviest first, whose lists are visited. */
  query_cut?: number;
  /** approx pruned: candidates re-scored exactly (at least k). */
  rerank?: number;
  /** approx blocks: open a block when its bound reaches heap_factor × the k-th score. */
  heap_factor?: number;
}

/** How a dense search walks the index. */
export interface DenseStrategy {
  /** `exact` scores every allowed vector; `approx` walks the HNSW graphs. Default: approx when built. */
  mode?: 'exact' | 'approx';
  /** approx: candidate list size, raised to k. */
  ef?: number;
}

/**
 * The documents a search may return: what a metadata filter allows, in the backend's own form (the
 * embedded backend: a bitset over document numbers). `matches` counts them.
 */
export interface Candidates {
  readonly matches: number;
  /** Embedded: bit i set = document number i allowed; absent = every live document. */
  readonly bits?: Uint8Array;
  /** OpenSearch: the filter as a query clause; absent = every live document. */
  readonly clause?: object;
}

export interface StorageBase {
  readonly name: string;
  /** Live documents this storage holds. */
  readonly size: number;
}

/** What the lexical and the learned sparse storages share: a dot-product top-k over term weights. */
export interface SparseScoring extends StorageBase {
  /** Whether the approximate structures were built (a request for `mode: 'approx'` needs them). */
  readonly approx: boolean;
  /** Whether the blocks of the `blocks` strategy were built too. */
  readonly approxBlocks: boolean;
  /** Top `k` by dot product, off the event loop. */
  search(query: SparseQuery, k: number, candidates: Candidates, strategy?: SparseStrategy): Promise<TopK>;
  /** The stored weights of a live document (explain), as the engine scores them, or null. */
  document(docno: number): Promise<SparseQuery | null>;
}

/** One passage of a document, as a storage that keeps passages (`passages: true`) holds it. */
export interface PassageOf<V> {
  /** UTF-16 offsets of the passage in the document's model text (its text fields joined by a space). */
  start: number;
  end: number;
  vector: V;
}

export interface SparseStorage extends SparseScoring {
  /**
   * Present when the storage keeps one entry per passage (`SparseSpec.passages`): a live
   * document's passages in text order, with their weights as the engine scores them ([] when not
   * live). `search` then ranks documents by their best passage, and `document` is the max over them.
   */
  passagesOf?(docno: number): Promise<PassageOf<SparseQuery>[]>;
  /**
   * Live documents (`n`) and, per term (model vocabulary id), how many hold it; only for storages
   * opened with `df: true`. Asynchronous: a remote engine counts them in the cluster.
   */
  frequencies(terms: readonly number[]): Promise<{ n: number; df: Uint32Array }>;
}

/** A query of the lexical storage: term ids (the storage's), their weights, and the term texts. */
export interface WeighedQuery {
  query: SparseQuery;
  terms: string[];
}

export interface LexicalStorage extends SparseScoring {
  /**
   * The BM25 query of analyzed terms with their query-side counts; terms no document holds are left
   * out. Embedded: weight = idf(df, N) × count, so the engine's dot product is the score. OpenSearch:
   * weight = count, as a term query's boost; Lucene multiplies its own idf (global with dfs).
   */
  weigh(counts: ReadonlyMap<string, number>): Promise<WeighedQuery>;
  /**
   * Per query term of a weighed query, what it gave document `docno` (query weight × document
   * weight = contribution), as the engine scored it; null when the document is not live.
   */
  explain(q: WeighedQuery, docno: number): Promise<Contribution[] | null>;
  /** Live documents (`n`) and how many hold each analyzed term (RM3's feedback-term filter). */
  termFrequencies(terms: readonly string[]): Promise<{ n: number; df: Uint32Array }>;
}

export interface DenseStorage extends StorageBase {
  readonly dim: number;
  /** `f32` or `i8` rows. */
  readonly storage: 'f32' | 'i8';
  /** Whether HNSW graphs were built. */
  readonly approx: boolean;
  search(query: Float32Array, k: number, candidates: Candidates, strategy?: DenseStrategy): Promise<TopK>;
  /** The stored vector of a live document (with passages: their mean), or undefined. */
  vector(docno: number): Promise<Float32Array | undefined>;
  /** Present when the storage keeps one vector per passage (`DenseSpec.passages`); as SparseStorage.passagesOf. */
  passagesOf?(docno: number): Promise<PassageOf<Float32Array>[]>;
}

export interface LexicalSpec extends Bm25Params {
  approx?: SparseApproxConfig;
  storage?: SparseStorageConfig;
}
export interface SparseSpec {
  approx?: SparseApproxConfig;
  storage?: SparseStorageConfig;
  /** Keep per-term document frequencies (inference-free queries weigh terms by IDF; with passages, over passages). */
  df?: boolean;
  /**
   * One entry per passage (documents arrive as DocumentPassages), a document scored by its best
   * passage (MaxP; retrievers/passages.ts).
   */
  passages?: boolean;
}
export interface DenseSpec {
  dim: number;
  storage: 'f32' | 'i8';
  approx?: DenseApproxConfig;
  /** Field named when the stored vectors disagree with the model (another dimension). */
  modelField: string;
  /** As SparseSpec.passages. */
  passages?: boolean;
}

export interface WriteResult {
  written: number;
  /** Input positions refused because their `_id` was already written by the same job. */
  duplicates: { index: number; id: string }[];
  /** Input positions the backend refused one by one (OpenSearch's per-item `_bulk` errors); none were written. */
  rejected?: { index: number; id: string; code: ErrorCode; message: string; field?: string }[];
}

export interface BackendStats {
  documents: number;
  /** Deleted or replaced documents still held as tombstones (purged by merges). */
  deleted: number;
  segments: number;
  bytes_on_disk: number;
  index_bytes: number;
  vocabulary: number;
  avgdl: number;
  /** Change sequence the last durable index commit covers. */
  committed_seq: number;
  seq: number;
}

/** A backend document: what the store keeps, plus each retriever's vector keyed by retriever name. */
export type BackendDocument = NewDocument;

export interface Backend {
  /** Declares retriever `name`'s storage; all declarations come before open(). */
  lexical(name: string, spec: LexicalSpec): LexicalStorage;
  sparse(name: string, spec: SparseSpec): SparseStorage;
  dense(name: string, spec: DenseSpec): DenseStorage;

  /** Opens every declared storage and brings it up to the documents (replay or rebuild). */
  open(): Promise<void>;
  /** Upserts documents (an existing `_id` is replaced); resolves once durable and searchable. Serialized by the caller. */
  write(docs: readonly BackendDocument[], job: string | null): Promise<WriteResult>;
  /** Removes documents by number; resolves with how many were live. Serialized by the caller. */
  remove(docnos: readonly number[]): Promise<number>;
  /** Makes every storage durable up to the last write (the documents already are). Serialized by the caller. */
  commit(): Promise<void>;
  close(): Promise<void>;
  /** Closes and removes every file or remote index of the collection. */
  destroy(): Promise<void>;
  /** False once closed or destroyed. */
  readonly isOpen: boolean;

  // Documents. Reads are asynchronous (a remote engine answers over the network); `size` and the
  // storages' statistics (df, term) are synchronous: a remote backend serves them from a snapshot
  // it refreshes, as a query's IDF needs them on every search.
  readonly size: number;
  docnoOf(id: string): Promise<number | undefined>;
  get(docno: number): Promise<StoredDocument | undefined>;
  /** `_id`s of many documents (a search page); absent numbers are left out. */
  idsOf(docnos: ArrayLike<number>): Promise<Map<number, string>>;
  /** Many documents in one read; absent numbers are left out. */
  getMany(docnos: ArrayLike<number>): Promise<Map<number, StoredDocument>>;
  /** What a metadata filter (checked here: INVALID_FILTER naming the field) allows; every live document without one. */
  candidates(filter?: object): Promise<Candidates>;
  /** Document numbers a metadata filter matches. */
  docnosMatching(filter: object): Promise<number[]>;
  /** Statistics now (a remote backend asks its cluster). */
  statsNow(): Promise<BackendStats>;
  /** The latest statistics without waiting (a remote backend's last snapshot): for metrics scrapes. */
  stats(): BackendStats;
}
