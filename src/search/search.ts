// Query planning and execution: pick the retriever, encode the query, ask the index for
// offset + k hits (restricted by the filter bitset), hydrate the page from the store, and explain
// scores term by term when asked. A request that names several `retrievers` is a hybrid search:
// search/hybrid.ts runs each of them with the pieces below and fuses their lists (search/fusion.ts).
import { fail } from '../errors.js';
import type { Collection } from '../collections/collection.js';
import { filterBitset, type Filter } from './filter.js';
import type { TopK } from '../../index/index.js';
import type { EncodedQuery, SparseRetriever } from './retriever.js';
import { hybridSearchAsync, type FusionRequest, type HybridExplain, type HybridInfo, type RetrieverRequest } from './hybrid.js';

export const MAX_K = 1000;
export const MAX_WINDOW = 10_000;

export interface SearchRequest {
  /** Query text, analyzed by the retriever. */
  query?: string;
  /** Sparse query vector: vocabulary term -> weight. */
  vector?: Record<string, number>;
  /** Dense query vector (the dense model's dimension), for the dense retriever. */
  dense_vector?: number[];
  /** Retriever name; default: the collection's default retriever. Not with `retrievers`. */
  retriever?: string;
  /** Hybrid search: the retrievers to run and fuse, each with its own window (see search/hybrid.ts). */
  retrievers?: RetrieverRequest[];
  /** How `retrievers` are fused; default `{"method": "rrf", "k": 60}`. Only with `retrievers`. */
  fusion?: FusionRequest;
  /** Hits to return, 1..1000. Default 10. */
  k?: number;
  /** Hits to skip (pagination); offset + k <= 10000. Default 0. */
  offset?: number;
  /** Metadata filter (see search/filter.ts); validated when the query runs. */
  filter?: Filter | object;
  /** Stored fields to return with each hit; `metadata` returns the metadata object. Default none. */
  fields?: string[];
  /** Return each matching term's contribution to the score (hybrid: each retriever's rank and score). Default false. */
  explain?: boolean;
}

export interface TermContribution {
  term: string;
  query_weight: number;
  document_weight: number;
  contribution: number;
}

export interface Hit {
  _id: string;
  score: number;
  fields?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  explain?: { retriever: string; terms: TermContribution[] } | HybridExplain;
}

export interface SearchResponse {
  hits: Hit[];
  retriever: string;
  k: number;
  offset: number;
  /** Documents allowed by the filter (all live documents when there is none). */
  candidates: number;
  took_ms: number;
  /** Hybrid searches only: the fusion applied and what each retriever returned. */
  fusion?: HybridInfo['fusion'];
  retrievers?: HybridInfo['retrievers'];
}

interface Plan {
  t0: number;
  retriever: SparseRetriever;
  encoded: EncodedQuery;
  k: number;
  offset: number;
  filter?: Uint8Array;
  candidates: number;
}

/**
 * What search needs of the collection's dense retriever (search/dense-retriever.ts), by shape: the
 * query text encoded with the model's query prompt, or a client vector, and an index searched on a
 * native thread.
 */
export interface DenseLike {
  readonly name: string;
  encodeText(text: string): Promise<Float32Array>;
  encodeVector(vector: unknown, field?: string): Float32Array;
  readonly index: {
    readonly approx?: unknown;
    searchBatch(queries: readonly Float32Array[], o: { k: number; mode?: 'exact' | 'approx'; filter?: Uint8Array }, threads?: number): Promise<TopK[]>;
  };
}

/** The collection's dense retriever, when it has a dense model. */
export function denseOf(c: Collection): DenseLike | null {
  return (c as unknown as { denseRetriever?: DenseLike | null }).denseRetriever ?? null;
}

/** Retriever names of the collection, the dense one included. */
function available(c: Collection): string[] {
  const dense = denseOf(c);
  return [...c.retrievers.keys(), ...(dense && !c.retrievers.has(dense.name) ? [dense.name] : [])];
}

/** The collection's retriever `name`; UNKNOWN_RETRIEVER naming `field` otherwise. */
export function pickRetriever(c: Collection, name: string, field: string): SparseRetriever {
  const retriever = c.retrievers.get(name);
  if (!retriever) fail('UNKNOWN_RETRIEVER', `retriever '${name}' is not available in collection '${c.name}' (available: ${available(c).join(', ')})`, field);
  return retriever;
}

/** Top `k` of a dense query on a native thread (HNSW when the index has graphs, else exact); undefined when nothing can match. */
export async function denseTopAsync(d: DenseLike, q: Float32Array, k: number, filter: Uint8Array | undefined, candidates: number): Promise<TopK | undefined> {
  if (candidates === 0) return undefined;
  return (await d.index.searchBatch([q], { k, mode: d.index.approx ? 'approx' : 'exact', ...(filter ? { filter } : {}) }, 1))[0];
}

/** Validated `k` and `offset` of a request. */
export function page(req: SearchRequest): { k: number; offset: number } {
  const k = req.k ?? 10;
  const offset = req.offset ?? 0;
  if (!Number.isInteger(k) || k < 1 || k > MAX_K) fail('VALIDATION_FAILED', `k must be an integer from 1 to ${MAX_K}`, 'k');
  if (!Number.isInteger(offset) || offset < 0) fail('VALIDATION_FAILED', 'offset must be a non-negative integer', 'offset');
  if (offset + k > MAX_WINDOW) fail('RESULT_WINDOW_TOO_LARGE', `offset + k must be at most ${MAX_WINDOW}, got ${offset + k}`, 'offset');
  return { k, offset };
}

/** Encodes text or a client vector for `retriever`; `field` names the request's vector for errors. */
export function encodeQuery(retriever: SparseRetriever, src: { query?: string; vector?: Record<string, number> }, field: string): EncodedQuery | Promise<EncodedQuery> {
  if (src.query !== undefined) return retriever.encodeText(src.query);
  for (const [t, w] of Object.entries(src.vector!))
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) fail('INVALID_QUERY', `vector weight of '${t}' must be a finite number >= 0`, `${field}.${t}`);
  return retriever.encodeVector(src.vector!);
}

/** The filter's bitset and how many live documents it allows (all of them without a filter). */
export function candidatesOf(c: Collection, filter: SearchRequest['filter']): { filter?: Uint8Array; candidates: number } {
  if (filter === undefined) return { candidates: c.store.size };
  const f = filterBitset(c.store, filter);
  return { filter: f.bits, candidates: f.matches };
}

/** Top `k` of an encoded query on a native thread; undefined when nothing can match. */
export async function topAsync(retriever: SparseRetriever, encoded: EncodedQuery, k: number, filter: Uint8Array | undefined, candidates: number): Promise<TopK | undefined> {
  if (encoded.query.terms.length === 0 || candidates === 0) return undefined;
  return (await retriever.index.searchBatch([encoded.query], { k, filter }, 1))[0];
}

/** Validates the request, picks the retriever, encodes the query and builds the filter bitset. */
function plan(c: Collection, req: SearchRequest): Omit<Plan, 'encoded'> & { encoded: EncodedQuery | Promise<EncodedQuery> } {
  const t0 = performance.now();
  if (req.fusion !== undefined) fail('VALIDATION_FAILED', '`fusion` applies to a hybrid search: name the retrievers to fuse in `retrievers`', 'fusion');
  const retriever = pickRetriever(c, req.retriever ?? c.config.defaultRetriever, 'retriever');
  const { k, offset } = page(req);
  if (req.dense_vector !== undefined) fail('INVALID_QUERY', `\`dense_vector\` applies to a dense retriever, not '${retriever.name}'`, 'dense_vector');
  if ((req.query === undefined) === (req.vector === undefined)) fail('INVALID_QUERY', 'give exactly one of `query` (text) or `vector` (sparse term -> weight)', 'query');
  const encoded = encodeQuery(retriever, req, 'vector');
  return { t0, retriever, encoded, k, offset, ...candidatesOf(c, req.filter) };
}

function runnable(p: Plan): boolean {
  return p.encoded.query.terms.length > 0 && p.candidates > 0;
}

/** Searches on the calling thread (CLI, benchmarks, evaluation). One retriever; hybrid searches go through searchAsync. */
export function search(c: Collection, req: SearchRequest): SearchResponse {
  if (req.retrievers !== undefined) fail('VALIDATION_FAILED', 'a hybrid search (`retrievers`) runs its retrievers concurrently and is searched through the HTTP API (searchAsync)', 'retrievers');
  if (isDense(c, req)) fail('UNKNOWN_RETRIEVER', 'the dense retriever encodes queries with a model and is searched through the HTTP API (searchAsync)', 'retriever');
  const planned = plan(c, req);
  // A model-encoded query (siamese SPLADE) answers asynchronously; only searchAsync can wait for it.
  if (planned.encoded instanceof Promise) {
    planned.encoded.catch(() => {});
    fail('UNKNOWN_RETRIEVER', `retriever '${planned.retriever.name}' encodes queries with a model and is searched through the HTTP API (searchAsync)`, 'retriever');
  }
  const p = planned as Plan;
  const top = runnable(p) ? p.retriever.index.search(p.encoded.query, { k: p.offset + p.k, filter: p.filter }) : undefined;
  return respond(c, req, p, top);
}

/**
 * Same result as search(), but the index is scored on a native thread, so a server keeps parsing
 * and answering other requests meanwhile (the HTTP route uses this). A request with `retrievers`
 * is a hybrid search (search/hybrid.ts).
 */
export async function searchAsync(c: Collection, req: SearchRequest): Promise<SearchResponse> {
  if (req.retrievers !== undefined) return hybridSearchAsync(c, req);
  if (isDense(c, req)) return denseSearchAsync(c, req, denseOf(c)!);
  const planned = plan(c, req);
  const p: Plan = { ...planned, encoded: await planned.encoded };
  const top = await topAsync(p.retriever, p.encoded, p.offset + p.k, p.filter, p.candidates);
  return respond(c, req, p, top);
}

/** Whether a single-retriever request names (or defaults to) the collection's dense retriever. */
function isDense(c: Collection, req: SearchRequest): boolean {
  const dense = denseOf(c);
  if (req.fusion !== undefined) return false; // plan() explains that `fusion` needs `retrievers`
  return dense !== null && (req.retriever ?? c.config.defaultRetriever) === dense.name && !c.retrievers.has(dense.name);
}

/** One dense retriever: `query` text (encoded with the model's query prompt) or `dense_vector`. */
async function denseSearchAsync(c: Collection, req: SearchRequest, dense: DenseLike): Promise<SearchResponse> {
  const t0 = performance.now();
  const { k, offset } = page(req);
  if (req.vector !== undefined) fail('INVALID_QUERY', "retriever 'dense' takes `query` text or a `dense_vector`, not a sparse `vector`", 'vector');
  if ((req.query === undefined) === (req.dense_vector === undefined)) fail('INVALID_QUERY', 'give exactly one of `query` (text) or `dense_vector`', 'query');
  const q = req.dense_vector !== undefined ? dense.encodeVector(req.dense_vector, 'dense_vector') : await dense.encodeText(req.query!);
  const { filter, candidates } = candidatesOf(c, req.filter);
  const top = await denseTopAsync(dense, q, offset + k, filter, candidates);
  // A dense score has no terms to break it into.
  const hits = pageHits(c, top, offset, req.fields, req.explain ? () => ({ retriever: dense.name, terms: [] }) : undefined);
  return { hits, retriever: dense.name, k, offset, candidates, took_ms: elapsed(t0) };
}

/**
 * The hits of `top` from `offset` on, hydrated with `fields`; a document removed between the index
 * answer and the store read is simply not returned. `explain` gives a hit's explanation.
 */
function pageHits(c: Collection, top: TopK | undefined, offset: number, fields: string[] | undefined, explain?: (docno: number) => Hit['explain']): Hit[] {
  const hits: Hit[] = [];
  if (!top) return hits;
  const pageDocs = top.docs.subarray(Math.min(offset, top.docs.length));
  const read = hydrate(c, pageDocs, fields);
  for (let j = 0; j < pageDocs.length; j++) {
    const base = read[j];
    if (!base) continue;
    const hit: Hit = { _id: base._id, score: top.scores[offset + j] };
    if (base.fields) hit.fields = base.fields;
    if (base.metadata) hit.metadata = base.metadata;
    if (explain) hit.explain = explain(pageDocs[j]);
    hits.push(hit);
  }
  return hits;
}

/**
 * Reads the documents of `docnos` from the store: ids only, or `fields` (and `metadata` when named).
 * One store read for the whole page. A document removed meanwhile is undefined at its position.
 */
export function hydrate(c: Collection, docnos: Uint32Array, fields: string[] | undefined): (Pick<Hit, '_id' | 'fields' | 'metadata'> | undefined)[] {
  const wanted = fields ?? [];
  const wantMeta = wanted.includes('metadata');
  const ids = wanted.length === 0 ? c.store.idsOf(docnos) : undefined;
  const docs = wanted.length > 0 ? c.store.getMany(docnos) : undefined;
  const out: (Pick<Hit, '_id' | 'fields' | 'metadata'> | undefined)[] = [];
  for (const docno of docnos) {
    if (ids) {
      const id = ids.get(docno);
      out.push(id === undefined ? undefined : { _id: id });
      continue;
    }
    const doc = docs!.get(docno);
    if (!doc) {
      out.push(undefined);
      continue;
    }
    const f: Record<string, unknown> = {};
    for (const name of wanted) if (name !== 'metadata' && Object.hasOwn(doc.fields, name)) f[name] = doc.fields[name];
    out.push(wantMeta ? { _id: doc.id, fields: f, metadata: doc.metadata } : { _id: doc.id, fields: f });
  }
  return out;
}

function respond(c: Collection, req: SearchRequest, p: Plan, top: TopK | undefined): SearchResponse {
  const { retriever, encoded, offset, k } = p;
  const explain = req.explain ? (docno: number) => ({ retriever: retriever.name, terms: explainTerms(retriever, docno, encoded) }) : undefined;
  const hits = pageHits(c, top, offset, req.fields, explain);
  return { hits, retriever: retriever.name, k, offset, candidates: p.candidates, took_ms: elapsed(p.t0) };
}

export function elapsed(t0: number): number {
  return Math.round((performance.now() - t0) * 1000) / 1000;
}

/** Per-term contributions: query weight × stored document weight, largest first; they sum to the score. */
export function explainTerms(retriever: SparseRetriever, docno: number, q: EncodedQuery): TermContribution[] {
  const doc = retriever.index.document(docno);
  if (!doc) return [];
  const dw = new Map<number, number>();
  for (let i = 0; i < doc.terms.length; i++) dw.set(doc.terms[i], doc.weights[i]);
  const out: TermContribution[] = [];
  for (let i = 0; i < q.query.terms.length; i++) {
    const w = dw.get(q.query.terms[i]);
    if (w === undefined) continue;
    out.push({ term: q.terms[i], query_weight: q.query.weights[i], document_weight: w, contribution: q.query.weights[i] * w });
  }
  return out.sort((a, b) => b.contribution - a.contribution);
}
