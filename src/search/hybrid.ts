// Hybrid search: a request names several retrievers of the collection, each with its own window;
// they run concurrently (each encodes its query and scores on a native thread under the same
// filter), their lists are fused (search/fusion.ts), and only the requested page is hydrated.
//
//   {"query": "...", "retrievers": [{"name": "bm25", "window": 100}, {"name": "splade"}],
//    "fusion": {"method": "rrf", "k": 60}, "k": 10, "explain": true}
//
// Every check names the field at fault with the path a client wrote (`retrievers[1].window`,
// `fusion.weights.bm25`); the HTTP route uses `validateHybridShape` to give these messages where the
// JSON schema alone would only say "must match a schema in anyOf".
import { fail } from '../errors.js';
import { RETRIEVERS } from '../collections/collection-config.js';
import { isPlainObject } from '../collections/documents.js';
import type { Collection } from '../collections/collection.js';
import {
  DEFAULT_NORMALIZATION,
  DEFAULT_RRF_K,
  FUSION_METHODS,
  fuse,
  NORMALIZATIONS,
  type FusionMethod,
  type FusionSpec,
  type Normalization,
  type RankedList,
} from './fusion.js';
import type { TopK } from '../../index/index.js';
import type { EncodedQuery, SparseRetriever } from './retriever.js';
import {
  candidatesOf,
  denseOf,
  denseTopAsync,
  elapsed,
  encodeQuery,
  explainTerms,
  hydrate,
  page,
  topAsync,
  type DenseLike,
  type Hit,
  type SearchRequest,
  type SearchResponse,
  type TermContribution,
} from './search.js';

/** Most retrievers one hybrid request may name. */
export const MAX_HYBRID_RETRIEVERS = 8;
/** Largest window of one retriever (the engine's result window). */
export const MAX_HYBRID_WINDOW = 10_000;
/** Window of a retriever that gives none: max(DEFAULT_WINDOW, offset + k). */
export const DEFAULT_WINDOW = 100;
/** Largest weight and RRF constant accepted: fused scores stay finite. */
export const MAX_WEIGHT = 1_000_000;
export const MAX_RRF_K = 1_000_000;

/** One retriever of a hybrid request. */
export interface RetrieverRequest {
  /** A retriever of the collection (`bm25`, `splade`, ...); each may appear once. */
  name: string;
  /** Hits this retriever contributes to the fusion, 1..10000. Default max(100, offset + k). */
  window?: number;
  /** Multiplier of this retriever's contribution (>= 0, default 1); or give it in `fusion.weights`. */
  weight?: number;
  /** Query text for this retriever only; default the request's `query`. */
  query?: string;
  /** Sparse query vector for this retriever only (term -> weight); default the request's `vector`. */
  vector?: Record<string, number>;
  /** Dense query vector (the model's dimension) for a dense retriever only; default the request's `dense_vector`. */
  dense_vector?: number[];
}

export interface FusionRequest {
  /** `rrf` (default), `convex` or `dbsf`. */
  method?: FusionMethod;
  /** RRF's rank constant, >= 0; default 60. RRF only. */
  k?: number;
  /** `min_max` (default), `z_score` or `l2`. Convex only. */
  normalization?: Normalization;
  /** Retriever name -> weight (>= 0, default 1), instead of each retriever's `weight`. */
  weights?: Record<string, number>;
  /** DBSF only: clip each normalized score to [0, 1]. Default false (Qdrant does not clip). */
  clip?: boolean;
}

export interface HybridSourceExplain {
  name: string;
  rank: number | null;
  score: number | null;
  normalized: number | null;
  contribution: number;
  /** Term contributions of this retriever's score, when the document is in its list. */
  terms?: TermContribution[];
}

export interface HybridExplain {
  retriever: 'hybrid';
  method: FusionMethod;
  retrievers: HybridSourceExplain[];
}

export interface HybridInfo {
  /** The fusion as applied, defaults filled in. */
  fusion: { method: FusionMethod; k?: number; normalization?: Normalization; clip?: boolean; weights: Record<string, number> };
  /** Per retriever, in request order: its window, weight and how many hits it returned. */
  retrievers: { name: string; window: number; weight: number; hits: number }[];
}

interface PlannedRetriever {
  name: string;
  /** A sparse retriever, or the collection's dense one. */
  retriever: { kind: 'sparse'; r: SparseRetriever } | { kind: 'dense'; r: DenseLike };
  window: number;
  weight: number;
  source: { query?: string; vector?: Record<string, number>; dense_vector?: unknown };
  field: string;
}

interface HybridPlan {
  retrievers: PlannedRetriever[];
  spec: FusionSpec;
  weights: Record<string, number>;
}

const ENTRY_KEYS = new Set(['name', 'window', 'weight', 'query', 'vector', 'dense_vector']);
const FUSION_KEYS: Record<FusionMethod, Set<string>> = {
  rrf: new Set(['method', 'k', 'weights']),
  convex: new Set(['method', 'normalization', 'weights']),
  dbsf: new Set(['method', 'clip', 'weights']),
};

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function checkWeight(v: unknown, field: string, what: string): number {
  if (!isFiniteNumber(v) || v < 0 || v > MAX_WEIGHT) fail('VALIDATION_FAILED', `${what} must be a number from 0 to ${MAX_WEIGHT}`, field);
  return v;
}

function checkSource(src: Record<string, unknown>, prefix: string): void {
  if (src.query !== undefined && typeof src.query !== 'string') fail('INVALID_QUERY', '`query` must be a string', `${prefix}query`);
  if (src.vector !== undefined) {
    if (!isPlainObject(src.vector)) fail('INVALID_QUERY', '`vector` must be an object of term -> weight', `${prefix}vector`);
    for (const [t, w] of Object.entries(src.vector))
      if (!isFiniteNumber(w) || w < 0) fail('INVALID_QUERY', `vector weight of '${t}' must be a finite number >= 0`, `${prefix}vector.${t}`);
  }
  if (src.query !== undefined && src.vector !== undefined) fail('INVALID_QUERY', 'give one of `query` (text) or `vector` (sparse term -> weight), not both', `${prefix}query`);
}

/**
 * Checks the hybrid parts of a request (`retriever` vs `retrievers`, each entry, `fusion`) without a
 * collection: shapes, ranges, names given twice, keys that do not belong to the method. Throws the
 * first problem as a coded error naming its field; returns nothing when the shape is right.
 */
export function validateHybridShape(req: Record<string, unknown>): void {
  const entries = req.retrievers;
  if (entries === undefined) {
    if (req.fusion !== undefined) fail('VALIDATION_FAILED', '`fusion` applies to a hybrid search: name the retrievers to fuse in `retrievers`', 'fusion');
    return;
  }
  if (req.retriever !== undefined) fail('VALIDATION_FAILED', 'give `retriever` (one retriever) or `retrievers` (a hybrid search), not both', 'retriever');
  if (!Array.isArray(entries) || entries.length < 1 || entries.length > MAX_HYBRID_RETRIEVERS)
    fail('VALIDATION_FAILED', `retrievers must be an array of 1 to ${MAX_HYBRID_RETRIEVERS} retrievers`, 'retrievers');
  checkSource(req, '');
  const seen = new Map<string, number>();
  entries.forEach((e, i) => {
    const at = `retrievers[${i}]`;
    if (!isPlainObject(e)) fail('VALIDATION_FAILED', `${at} must be an object with a \`name\``, at);
    for (const key of Object.keys(e)) if (!ENTRY_KEYS.has(key)) fail('VALIDATION_FAILED', `${at}.${key} is not a known property (name, window, weight, query, vector, dense_vector)`, `${at}.${key}`);
    if (typeof e.name !== 'string' || e.name.length === 0 || e.name.length > 64) fail('VALIDATION_FAILED', 'name must be a retriever name of 1 to 64 characters', `${at}.name`);
    if (!(RETRIEVERS as readonly string[]).includes(e.name)) fail('UNKNOWN_RETRIEVER', `retriever '${e.name}' is not one this service has (${RETRIEVERS.join(', ')})`, `${at}.name`);
    if (seen.has(e.name)) fail('VALIDATION_FAILED', `retriever '${e.name}' is listed twice (retrievers[${seen.get(e.name)}] and ${at}); each retriever may appear once`, `${at}.name`);
    seen.set(e.name, i);
    if (e.window !== undefined && (!Number.isInteger(e.window) || (e.window as number) < 1 || (e.window as number) > MAX_HYBRID_WINDOW))
      fail('VALIDATION_FAILED', `window must be an integer from 1 to ${MAX_HYBRID_WINDOW}`, `${at}.window`);
    if (e.weight !== undefined) checkWeight(e.weight, `${at}.weight`, 'weight');
    checkSource(e, `${at}.`);
    if (e.dense_vector !== undefined && e.vector !== undefined) fail('INVALID_QUERY', 'give one of `vector` (sparse) or `dense_vector`, not both', `${at}.dense_vector`);
  });

  const f = req.fusion;
  if (f === undefined) return;
  if (!isPlainObject(f)) fail('VALIDATION_FAILED', 'fusion must be an object such as {"method": "rrf", "k": 60}', 'fusion');
  const method = f.method ?? 'rrf';
  if (typeof method !== 'string' || !(FUSION_METHODS as readonly string[]).includes(method))
    fail('VALIDATION_FAILED', `method must be one of: ${FUSION_METHODS.join(', ')}`, 'fusion.method');
  const m = method as FusionMethod;
  for (const key of Object.keys(f)) {
    if (FUSION_KEYS[m].has(key)) continue;
    const owner = (Object.keys(FUSION_KEYS) as FusionMethod[]).find((o) => FUSION_KEYS[o].has(key));
    fail('VALIDATION_FAILED', owner ? `${key} applies to method '${owner}' only, not '${m}'` : `fusion.${key} is not a known property`, `fusion.${key}`);
  }
  if (f.k !== undefined && (!isFiniteNumber(f.k) || f.k < 0 || f.k > MAX_RRF_K)) fail('VALIDATION_FAILED', `k must be a number from 0 to ${MAX_RRF_K}`, 'fusion.k');
  if (f.clip !== undefined && typeof f.clip !== 'boolean') fail('VALIDATION_FAILED', 'clip must be true or false', 'fusion.clip');
  if (f.normalization !== undefined && (typeof f.normalization !== 'string' || !(NORMALIZATIONS as readonly string[]).includes(f.normalization)))
    fail('VALIDATION_FAILED', `normalization must be one of: ${NORMALIZATIONS.join(', ')}`, 'fusion.normalization');
  if (f.weights !== undefined) {
    if (!isPlainObject(f.weights)) fail('VALIDATION_FAILED', 'weights must be an object of retriever name -> weight', 'fusion.weights');
    for (const [name, w] of Object.entries(f.weights)) {
      const field = `fusion.weights.${name}`;
      const i = seen.get(name);
      if (i === undefined) fail('VALIDATION_FAILED', `'${name}' is not one of the request's retrievers (${[...seen.keys()].join(', ')})`, field);
      checkWeight(w, field, `weight of '${name}'`);
      if ((entries[i] as Record<string, unknown>).weight !== undefined) fail('VALIDATION_FAILED', `weight of '${name}' is given twice (retrievers[${i}].weight and ${field})`, field);
    }
  }
}

/** Validates a hybrid request against the collection and fills in the defaults. */
function planHybrid(c: Collection, req: SearchRequest, k: number, offset: number): HybridPlan {
  validateHybridShape(req as unknown as Record<string, unknown>);
  if (req.query !== undefined && req.vector !== undefined) fail('INVALID_QUERY', 'give one of `query` (text) or `vector` (sparse term -> weight), not both', 'query');
  const f = req.fusion ?? {};
  const method = f.method ?? 'rrf';
  const dense = denseOf(c);
  const top = req as SearchRequest & { dense_vector?: unknown };
  const retrievers = req.retrievers!.map((e, i): PlannedRetriever => {
    const field = `retrievers[${i}]`;
    const window = e.window ?? Math.max(DEFAULT_WINDOW, offset + k);
    const weight = e.weight ?? f.weights?.[e.name] ?? 1;
    if (dense && e.name === dense.name && !c.retrievers.has(e.name)) {
      // A dense retriever takes text (encoded with the model's query prompt) or a dense vector.
      if (e.vector !== undefined) fail('INVALID_QUERY', `retriever '${e.name}' is dense: give \`query\` text or a \`dense_vector\`, not a sparse \`vector\``, `${field}.vector`);
      const own = e.query !== undefined || e.dense_vector !== undefined;
      const source = own ? { query: e.query, dense_vector: e.dense_vector } : top.dense_vector !== undefined ? { dense_vector: top.dense_vector } : { query: req.query };
      if (source.query === undefined && source.dense_vector === undefined)
        fail('INVALID_QUERY', `retriever '${e.name}' is dense and has no query: give \`query\` text or a \`dense_vector\` in the request or in ${field}`, `${field}.query`);
      return { name: e.name, retriever: { kind: 'dense', r: dense }, window, weight, source, field: own ? `${field}.dense_vector` : 'dense_vector' };
    }
    if (e.dense_vector !== undefined) fail('INVALID_QUERY', `retriever '${e.name}' is not dense; \`dense_vector\` applies to a dense retriever`, `${field}.dense_vector`);
    const retriever = c.retrievers.get(e.name);
    if (!retriever) {
      const available = [...c.retrievers.keys(), ...(dense && !c.retrievers.has(dense.name) ? [dense.name] : [])];
      fail('UNKNOWN_RETRIEVER', `retriever '${e.name}' is not available in collection '${c.name}' (available: ${available.join(', ')})`, `${field}.name`);
    }
    const source = e.query !== undefined || e.vector !== undefined ? e : req;
    if (source.query === undefined && source.vector === undefined)
      fail('INVALID_QUERY', `retriever '${e.name}' has no query: give \`query\` or \`vector\` in the request or in ${field}`, `${field}.query`);
    return {
      name: e.name,
      retriever: { kind: 'sparse', r: retriever },
      window,
      weight,
      source: { query: source.query, vector: source.vector },
      field: source === e ? `${field}.vector` : 'vector',
    };
  });
  if (method === 'convex' && !(retrievers.reduce((s, r) => s + r.weight, 0) > 0))
    fail('VALIDATION_FAILED', 'convex fusion needs at least one retriever with a weight above 0', 'fusion.weights');
  const spec: FusionSpec =
    method === 'rrf' ? { method, k: f.k ?? DEFAULT_RRF_K } : method === 'convex' ? { method, normalization: f.normalization ?? DEFAULT_NORMALIZATION } : { method, clip: f.clip ?? false };
  return { retrievers, spec, weights: Object.fromEntries(retrievers.map((r) => [r.name, r.weight])) };
}

/**
 * Runs a hybrid search: every retriever concurrently (query encoded by each, scored on a native
 * thread under the request's filter, top `window`), then fusion, then the page `offset`..`offset+k`
 * of the fused list is hydrated. `explain` gives, per hit and retriever, its rank (null when absent),
 * raw score, normalized score and contribution, plus that retriever's term contributions.
 */
export async function hybridSearchAsync(c: Collection, req: SearchRequest): Promise<SearchResponse> {
  const t0 = performance.now();
  const { k, offset } = page(req);
  const plan = planHybrid(c, req, k, offset);
  const { filter, candidates } = candidatesOf(c, req.filter);

  const runs = await Promise.all(
    plan.retrievers.map(async (r): Promise<PlannedRetriever & { encoded?: EncodedQuery; top?: TopK }> => {
      if (r.retriever.kind === 'dense') {
        const d = r.retriever.r;
        const q = r.source.dense_vector !== undefined ? d.encodeVector(r.source.dense_vector, r.field) : await d.encodeText(r.source.query!);
        return { ...r, top: await denseTopAsync(d, q, r.window, filter, candidates) };
      }
      const encoded: EncodedQuery = await encodeQuery(r.retriever.r, r.source, r.field);
      const top = await topAsync(r.retriever.r, encoded, r.window, filter, candidates);
      return { ...r, encoded, top };
    }),
  );
  const lists: RankedList<number>[] = runs.map((r) => ({
    name: r.name,
    keys: r.top?.docs ?? new Uint32Array(0),
    scores: r.top?.scores ?? new Float32Array(0),
    weight: r.weight,
  }));
  const fused = fuse(lists, plan.spec);

  const pageHits = fused.slice(offset, offset + k);
  const read = hydrate(c, Uint32Array.from(pageHits.map((h) => h.key)), req.fields);
  const hits: Hit[] = [];
  pageHits.forEach((h, j) => {
    const base = read[j];
    if (!base) return; // removed between the index answer and this read
    const hit: Hit = { _id: base._id, score: h.score };
    if (base.fields) hit.fields = base.fields;
    if (base.metadata) hit.metadata = base.metadata;
    if (req.explain) {
      hit.explain = {
        retriever: 'hybrid',
        method: plan.spec.method,
        retrievers: h.sources.map((s, i) => {
          const run = runs[i];
          const terms = s.rank !== null && run.retriever.kind === 'sparse' && run.encoded ? { terms: explainTerms(run.retriever.r, h.key, run.encoded) } : {};
          return { name: run.name, ...s, ...terms };
        }),
      };
    }
    hits.push(hit);
  });
  return {
    hits,
    retriever: 'hybrid',
    k,
    offset,
    candidates,
    took_ms: elapsed(t0),
    fusion: { ...plan.spec, weights: plan.weights },
    retrievers: runs.map((r) => ({ name: r.name, window: r.window, weight: r.weight, hits: r.top?.docs.length ?? 0 })),
  };
}
