// The search request and response as search/ sees them (the API's schemas, src/api/schemas.ts, are
// their JSON form), and the limits the schemas enforce at the edge; below the edge they are trusted.
import type { FusionMethod, Normalization } from './fusion.js';
import type { Filter } from '../backends/filter.js';
import type { SearchStrategy, TermContribution } from '../retrievers/retriever.js';
import type { Interpolation, PrfExplain, PrfRequest } from './prf.js';
import type { PassageExplain } from './passage-explain.js';
import type { VerifyExplain, VerifyRequest } from './verify.js';

/** Most hits one request returns. */
export const MAX_K = 1000;
/** The result window: offset + k, and a hybrid retriever's window, are at most this (the engine's). */
export const RESULT_WINDOW = 10_000;
/** Most retrievers one hybrid request may name. */
export const MAX_HYBRID_RETRIEVERS = 8;
/** Window of a hybrid retriever that gives none: max(DEFAULT_WINDOW, offset + k). */
export const DEFAULT_WINDOW = 100;
/** Largest weight and RRF constant accepted: fused scores stay finite. */
export const MAX_WEIGHT = 1_000_000;
export const MAX_RRF_K = 1_000_000;

/** How a retriever walks its storage, as a request gives it: `mode` plus the `approx` knobs. */
export interface StrategyRequest {
  /** `exact` or `approx`; default the retriever's (sparse: its collection config's `search.mode`, else exact; dense: approx when built). */
  mode?: 'exact' | 'approx';
  /** Knobs of approximate search (sparse: strategy, query_cut, rerank, heap_factor; dense: ef). */
  approx?: Omit<SearchStrategy, 'mode'>;
}

export interface SearchRequest extends StrategyRequest {
  /** Query text, encoded by each retriever. */
  query?: string;
  /** Sparse query vector: vocabulary term -> weight. */
  vector?: Record<string, number>;
  /** Dense query vector (the dense model's dimension), for a dense retriever. */
  dense_vector?: number[];
  /** Retriever name; default: the collection's default retriever. Not with `retrievers`. */
  retriever?: string;
  /** Hybrid search: the retrievers to run and fuse, each with its own window (search/hybrid.ts). */
  retrievers?: RetrieverRequest[];
  /** How `retrievers` are fused; default `{"method": "rrf", "k": 60}`. Only with `retrievers`. */
  fusion?: FusionRequest;
  /** Hits to return, 1..1000. Default 10. */
  k?: number;
  /** Hits to skip (pagination); offset + k <= 10000. Default 0. */
  offset?: number;
  /** Metadata filter (backends/filter.ts). */
  filter?: Filter | object;
  /** Stored fields to return with each hit; `metadata` returns the metadata object. Default none. */
  fields?: string[];
  /** Return each matching term's contribution to the score (hybrid: each retriever's rank and score). Default false. */
  explain?: boolean;
  /** One retriever: pseudo-relevance feedback (search/prf.ts). In a hybrid request, per retriever in `retrievers[].prf`. */
  prf?: PrfRequest;
  /** Re-score the top candidates of the ranking with a dense retriever's exact inner product (search/verify.ts). */
  verify?: VerifyRequest;
}

/** One retriever of a hybrid request. */
export interface RetrieverRequest extends StrategyRequest {
  /** A retriever of the collection; each may appear once. */
  name: string;
  /** Hits this retriever contributes to the fusion, 1..10000. Default max(100, offset + k). */
  window?: number;
  /** Multiplier of this retriever's contribution (>= 0, default 1); or give it in `fusion.weights`. */
  weight?: number;
  /** Query text for this retriever only; default the request's `query`. */
  query?: string;
  /** Sparse query vector for this retriever only; default the request's `vector`. */
  vector?: Record<string, number>;
  /** Dense query vector for a dense retriever only; default the request's `dense_vector`. */
  dense_vector?: number[];
  /** Pseudo-relevance feedback for this retriever (search/prf.ts). */
  prf?: PrfRequest;
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
  /** With `retrievers[].prf`: fuse before the feedback, after it (default), or both (search/prf.ts). */
  interpolate?: Interpolation;
}

export interface HybridSourceExplain {
  name: string;
  rank: number | null;
  score: number | null;
  normalized: number | null;
  contribution: number;
  /** Term contributions of this retriever's score, when the document is in its list. */
  terms?: TermContribution[];
  /** With `passages` on this retriever and a document of several passages: the one that matched best. */
  passage?: PassageExplain;
}

export interface HybridExplain {
  retriever: 'hybrid';
  method: FusionMethod;
  retrievers: HybridSourceExplain[];
  /** With `verify`: the hit's rank before and after dense verification. */
  verify?: VerifyExplain;
}

export interface Hit {
  _id: string;
  score: number;
  fields?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  explain?: { retriever: string; terms: TermContribution[]; passage?: PassageExplain; verify?: VerifyExplain } | HybridExplain;
}

export interface SearchResponse {
  hits: Hit[];
  retriever: string;
  k: number;
  offset: number;
  /** Documents allowed by the filter (all live documents when there is none). */
  candidates: number;
  took_ms: number;
  /** Hybrid only: the fusion as applied, defaults filled in. */
  fusion?: {
    method: FusionMethod;
    k?: number;
    normalization?: Normalization;
    clip?: boolean;
    weights: Record<string, number>;
    interpolate?: Interpolation;
  };
  /** Hybrid only: per retriever, in request order, its window, weight and how many hits it returned. */
  retrievers?: { name: string; window: number; weight: number; hits: number }[];
  /** With `explain` and feedback: per expanded retriever, its feedback documents and expanded query. */
  prf?: PrfExplain[];
  /** With `verify`: the dense retriever and how many candidates it re-scored. */
  verify?: { retriever: string; candidates: number; weight: number };
}

/** The request's strategy knobs as one object for Retriever.checkStrategy/search; undefined when none. */
export function strategyOf(r: StrategyRequest): SearchStrategy | undefined {
  if (r.mode === undefined && r.approx === undefined) return undefined;
  return { ...r.approx, ...(r.mode !== undefined ? { mode: r.mode } : {}) };
}
