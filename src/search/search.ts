// Query planning and execution: pick the retriever, encode the query, ask the index for
// offset + k hits (restricted by the filter bitset), hydrate the page from the store, and explain
// scores term by term when asked.
import { fail } from '../api/errors.js';
import type { Collection } from '../collections/collection.js';
import { filterBitset, type Filter } from './filter.js';
import type { TopK } from '../../index/index.js';
import type { EncodedQuery, SparseRetriever } from './retriever.js';

export const MAX_K = 1000;
export const MAX_WINDOW = 10_000;

export interface SearchRequest {
  /** Query text, analyzed by the retriever. */
  query?: string;
  /** Sparse query vector: vocabulary term -> weight. */
  vector?: Record<string, number>;
  /** Retriever name; default: the collection's default retriever. */
  retriever?: string;
  /** Hits to return, 1..1000. Default 10. */
  k?: number;
  /** Hits to skip (pagination); offset + k <= 10000. Default 0. */
  offset?: number;
  /** Metadata filter (see search/filter.ts); validated when the query runs. */
  filter?: Filter | object;
  /** Stored fields to return with each hit; `metadata` returns the metadata object. Default none. */
  fields?: string[];
  /** Return each matching term's contribution to the score. Default false. */
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
  explain?: { retriever: string; terms: TermContribution[] };
}

export interface SearchResponse {
  hits: Hit[];
  retriever: string;
  k: number;
  offset: number;
  /** Documents allowed by the filter (all live documents when there is none). */
  candidates: number;
  took_ms: number;
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

/** Validates the request, picks the retriever, encodes the query and builds the filter bitset. */
function plan(c: Collection, req: SearchRequest): Omit<Plan, 'encoded'> & { encoded: EncodedQuery | Promise<EncodedQuery> } {
  const t0 = performance.now();
  const name = req.retriever ?? c.config.defaultRetriever;
  const retriever = c.retrievers.get(name);
  if (!retriever) fail('UNKNOWN_RETRIEVER', `retriever '${name}' is not available in collection '${c.name}' (available: ${[...c.retrievers.keys()].join(', ')})`, 'retriever');
  const k = req.k ?? 10;
  const offset = req.offset ?? 0;
  if (!Number.isInteger(k) || k < 1 || k > MAX_K) fail('VALIDATION_FAILED', `k must be an integer from 1 to ${MAX_K}`, 'k');
  if (!Number.isInteger(offset) || offset < 0) fail('VALIDATION_FAILED', 'offset must be a non-negative integer', 'offset');
  if (offset + k > MAX_WINDOW) fail('RESULT_WINDOW_TOO_LARGE', `offset + k must be at most ${MAX_WINDOW}, got ${offset + k}`, 'offset');
  if ((req.query === undefined) === (req.vector === undefined)) fail('INVALID_QUERY', 'give exactly one of `query` (text) or `vector` (sparse term -> weight)', 'query');

  let encoded: EncodedQuery | Promise<EncodedQuery>;
  if (req.query !== undefined) encoded = retriever.encodeText(req.query);
  else {
    for (const [t, w] of Object.entries(req.vector!))
      if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) fail('INVALID_QUERY', `vector weight of '${t}' must be a finite number >= 0`, `vector.${t}`);
    encoded = retriever.encodeVector(req.vector!);
  }

  let filter: Uint8Array | undefined;
  let candidates = c.store.size;
  if (req.filter !== undefined) {
    const f = filterBitset(c.store, req.filter);
    filter = f.bits;
    candidates = f.matches;
  }
  return { t0, retriever, encoded, k, offset, filter, candidates };
}

function runnable(p: Plan): boolean {
  return p.encoded.query.terms.length > 0 && p.candidates > 0;
}

/** Searches on the calling thread (CLI, benchmarks, evaluation). */
export function search(c: Collection, req: SearchRequest): SearchResponse {
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
 * and answering other requests meanwhile (the HTTP route uses this).
 */
export async function searchAsync(c: Collection, req: SearchRequest): Promise<SearchResponse> {
  const planned = plan(c, req);
  const p: Plan = { ...planned, encoded: await planned.encoded };
  const top = runnable(p) ? (await p.retriever.index.searchBatch([p.encoded.query], { k: p.offset + p.k, filter: p.filter }, 1))[0] : undefined;
  return respond(c, req, p, top);
}

function respond(c: Collection, req: SearchRequest, p: Plan, top: TopK | undefined): SearchResponse {
  const { retriever, encoded, offset, k } = p;
  const hits: Hit[] = [];
  if (top) {
    const wanted = req.fields ?? [];
    const wantMeta = wanted.includes('metadata');
    const page = top.docs.subarray(Math.min(offset, top.docs.length));
    // One store read for the whole page; ids only unless fields were asked for.
    const ids = wanted.length === 0 ? c.store.idsOf(page) : undefined;
    const docs = wanted.length > 0 ? c.store.getMany(page) : undefined;
    for (let j = 0; j < page.length; j++) {
      const docno = page[j];
      const score = top.scores[offset + j];
      // A document removed between the index answer and this read is simply not returned.
      let hit: Hit;
      if (ids) {
        const id = ids.get(docno);
        if (id === undefined) continue;
        hit = { _id: id, score };
      } else {
        const doc = docs!.get(docno);
        if (!doc) continue;
        hit = { _id: doc.id, score };
        const fields: Record<string, unknown> = {};
        for (const f of wanted) if (f !== 'metadata' && Object.hasOwn(doc.fields, f)) fields[f] = doc.fields[f];
        hit.fields = fields;
        if (wantMeta) hit.metadata = doc.metadata;
      }
      if (req.explain) hit.explain = { retriever: retriever.name, terms: explainHit(retriever.index.document(docno), encoded) };
      hits.push(hit);
    }
  }
  return { hits, retriever: retriever.name, k, offset, candidates: p.candidates, took_ms: Math.round((performance.now() - p.t0) * 1000) / 1000 };
}

/** Per-term contributions: query weight × stored document weight, largest first; they sum to the score. */
function explainHit(doc: { terms: Uint32Array; weights: Float32Array } | null, q: EncodedQuery): TermContribution[] {
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
