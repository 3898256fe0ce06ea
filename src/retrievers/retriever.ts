// A retrieval kind is one unit: its configuration, its document side, its query side, its storage.
// The chain, once (in the spirit of tantivy's Query -> Weight -> Scorer):
//
//   RetrieverKind     a registry line (registry.ts): the kind's name, the JSON schema and validation
//     |               of its collection config, and open().
//     | open(ctx)     given the collection's config, the model encoders and the Backend, the kind
//     v               declares the storage it needs (lexical, sparse or dense; backends/backend.ts)
//   Retriever         one per collection:
//     encodeDocuments   texts -> the vector each document keeps (started before the write queue, so
//                       encoding overlaps writing); BM25 keeps none (the backend indexes the text)
//     encodeQuery       the request's text or vector -> an EncodedQuery (sparse terms and weights, or a
//                       dense vector), checked with messages that name the field
//     search            EncodedQuery -> top-k document numbers under the request's candidates
//     explain           per-term contributions of one hit (sparse kinds; none for dense)
//
// search/ plans, runs and fuses retrievers through this interface only; collections/ calls
// encodeDocuments on write; neither knows the kinds. Adding a kind: one file here, its encoder under
// encoder/, and a line in registry.ts (docs/architecture.md).
import type { TSchema } from 'typebox';
import type { SparseQuery, TopK } from '../../index/index.js';
import type { Backend, Candidates, DenseStrategy, SparseStrategy } from '../backends/backend.js';
import type { EncoderRegistry } from '../encoder/encoder-registry.js';
import type { LengthReport } from '../encoder/long-documents.js';
import type { DocumentPassages, SparseVector } from '../store/document-store.js';

/** A batch of documents as a model-backed kind encoded them. */
export interface EncodedDocuments {
  /** One vector per document, or (passages scored by max) each document's passages. */
  vectors: SparseVector[] | Float32Array[] | DocumentPassages[];
  report: LengthReport;
}

/** What a search request gives a retriever to encode (its own entry's, or the request's). */
export interface QuerySource {
  query?: string;
  /** Sparse query: term -> weight (sparse kinds). */
  vector?: Record<string, number>;
  /** Dense query vector (dense kinds). */
  dense_vector?: unknown;
}

export type EncodedQuery =
  | {
      shape: 'sparse';
      query: SparseQuery;
      /** The term string of each entry of `query`, for `explain`. */
      terms: string[];
    }
  | { shape: 'dense'; vector: Float32Array };

/** Per-request knobs of how the storage is walked; each kind reads the ones of its shape. */
export type SearchStrategy = SparseStrategy & DenseStrategy;

export interface TermContribution {
  term: string;
  query_weight: number;
  document_weight: number;
  contribution: number;
}

/**
 * A document as a retriever keeps it, for what reads documents back at search time
 * (pseudo-relevance feedback, dense verification: search/prf.ts, search/verify.ts): a learned
 * sparse vector (model vocabulary ids, their weights and their token strings) or a dense vector.
 */
export type StoredVector =
  | { shape: 'sparse'; terms: Uint32Array; weights: Float32Array; labels: string[] }
  | {
      shape: 'dense';
      vector: Float32Array;
      /** With passages kept one by one (`passages.score: 'max'`): each passage's vector; `vector` is their mean. */
      passages?: Float32Array[];
    };

/** A document's passages as its retriever cuts them at ingest, each with the vector its encoder gives it. */
export interface PassageVectors {
  /** UTF-16 offsets of each passage in the document's model text. */
  spans: { start: number; end: number }[];
  /** vectors[i] is spans[i]'s, unpooled (sparse: model vocabulary ids ascending). */
  vectors: StoredVector[];
}

export interface Retriever {
  /** The retriever's name in requests and configs (today: its kind's name). */
  readonly name: string;
  /** `sparse` kinds take `vector`, `dense` kinds `dense_vector`; both take `query` text. */
  readonly shape: 'sparse' | 'dense';
  /** The request field holding this kind's client vector. */
  readonly vectorField: 'vector' | 'dense_vector';

  /**
   * The vectors the documents keep, in order, and what their length made the encoder do (truncated,
   * or cut into passages); undefined when the kind keeps none (BM25).
   */
  encodeDocuments(texts: string[]): Promise<EncodedDocuments> | undefined;
  /** Encodes `source.query` text, or the client vector in `source[vectorField]`; `field` names that vector in errors. */
  encodeQuery(source: QuerySource, field: string): EncodedQuery | Promise<EncodedQuery>;
  /**
   * Checks per-request strategy knobs against what the storage was built with. `prefix` is where the
   * request holds them ('' or 'retrievers[1].'): errors name `<prefix>mode` or `<prefix>approx.<knob>`.
   */
  checkStrategy(strategy: SearchStrategy | undefined, prefix: string): void;
  /** Top `k` under `candidates`, off the event loop. */
  search(q: EncodedQuery, k: number, candidates: Candidates, strategy?: SearchStrategy): Promise<TopK>;
  /** What each query term gave document `docno`'s score, largest first (they sum to the score); [] for dense. */
  explain(q: EncodedQuery, docno: number): Promise<TermContribution[]>;
  /**
   * For explain (search/passage-explain.ts): `text` (a document's model text) cut into the passages
   * this retriever's `passages` setting cuts it into at ingest, each encoded on its own. Null when the
   * retriever has no `passages` setting; absent on kinds that keep no model vectors.
   */
  passageVectors?(text: string): Promise<PassageVectors | null>;
  /**
   * For explain: document `docno`'s passages as the storage keeps them, when it keeps one entry per
   * passage (`passages.score: 'max'`); null otherwise. Cheaper than passageVectors (no encoding) and
   * what the score was computed from.
   */
  storedPassages?(docno: number): Promise<PassageVectors | null>;
  /**
   * True when this retriever scores the collection's analyzed text (BM25): a client `vector` names
   * analyzer terms, and a document's terms are its stored text analyzed again. Absent otherwise.
   */
  readonly analyzed?: boolean;
  /** With `analyzed`: live documents and how many hold each analyzed term (RM3's feedback-term filter). */
  termFrequencies?(terms: readonly string[]): Promise<{ n: number; df: Uint32Array }>;
  /** The stored vector of each of `docnos` (undefined where not live); absent on kinds that keep none (BM25). */
  stored?(docnos: ArrayLike<number>): Promise<(StoredVector | undefined)[]>;
}

/** What a kind's open() is given. */
export interface RetrieverContext<C> {
  /** This retriever's name (its key in the collection's `retrievers`). */
  name: string;
  config: C;
  collection: string;
  backend: Backend;
  encoders: EncoderRegistry | undefined;
}

export interface RetrieverKind<C = unknown> {
  /** The kind's name: the key in a collection's `retrievers`, and in search requests. */
  readonly name: string;
  /** JSON schema of the config a client gives at creation (the API's validation and OpenAPI). */
  readonly configSchema: TSchema;
  /** JSON schema of the config as stored and shown. */
  readonly viewSchema: TSchema;
  /** Checks a client's config (after the schema) and fills defaults; `field` is its path (`retrievers.splade`). */
  parseConfig(raw: unknown, field: string): C;
  /** A config stored by an earlier release, in today's form (renamed keys); absent: stored as is. */
  upgradeStored?(stored: C): C;
  /** Loads what the kind needs (models) and declares its storage on ctx.backend; the backend opens later. */
  open(ctx: RetrieverContext<C>): Promise<Retriever>;
}
