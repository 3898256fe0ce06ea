// Hybrid search: a request names several retrievers of the collection, each with its own window;
// they run concurrently (each encodes its query and scores on a native thread under the same
// filter), their lists are fused (search/fusion.ts), and only the requested page is hydrated.
//
//   {"query": "...", "retrievers": [{"name": "bm25", "window": 100}, {"name": "splade"}],
//    "fusion": {"method": "rrf", "k": 60}, "k": 10, "explain": true}
//
// The schema checks each field at the edge. checkHybridRequest() checks what a schema cannot (a
// retriever named twice, weights for retrievers not in the request, a weight given twice, ...);
// hybridFieldError() finds the exact field when the schema's own message would only say "must match
// a schema in anyOf". Every message names the field with the path a client wrote.
import type { TopK } from '../../index/index.js';
import type { Collection } from '../collections/collection.js';
import { isPlainObject } from '../collections/documents.js';
import { fail } from '../errors.js';
import type { EncodedQuery, Retriever, SearchStrategy } from '../retrievers/retriever.js';
import { RETRIEVERS } from '../retrievers/registry.js';
import {
  DEFAULT_NORMALIZATION,
  DEFAULT_RRF_K,
  FUSION_METHODS,
  fuse,
  NORMALIZATIONS,
  type FusionMethod,
  type FusionSpec,
  type RankedList,
} from './fusion.js';
import { type DefaultFusion, defaultFusion, fusionFor, usesDefaultFusion } from './default-fusion.js';
import { elapsed, pageHits } from './hits.js';
import {
  checkPrf,
  checkPrfShape,
  expand,
  INTERPOLATIONS,
  type Feedback,
  type Interpolation,
  type PrfExplain,
  type PrfPlan,
} from './prf.js';
import {
  DEFAULT_WINDOW,
  MAX_HYBRID_RETRIEVERS,
  MAX_RRF_K,
  MAX_WEIGHT,
  RESULT_WINDOW,
  strategyOf,
  type HybridExplain,
  type SearchRequest,
  type SearchResponse,
} from './request.js';
import { feedbackIds, feedbackOf, page, pickRetriever, topAsync, verifyQueryOf } from './single.js';
import { explainPassage } from './passage-explain.js';
import { checkVerify, verify, type VerifyExplain } from './verify.js';

interface PlannedRetriever {
  name: string;
  retriever: Retriever;
  window: number;
  weight: number;
  strategy: SearchStrategy | undefined;
  source: { query?: string; vector?: Record<string, number>; dense_vector?: unknown };
  /** The request field holding this retriever's client vector, for errors. */
  field: string;
  prf: PrfPlan | undefined;
}

const ENTRY_KEYS = new Set(['name', 'window', 'weight', 'query', 'vector', 'dense_vector', 'mode', 'approx', 'prf']);
const FUSION_KEYS: Record<FusionMethod, Set<string>> = {
  rrf: new Set(['method', 'k', 'weights', 'interpolate']),
  convex: new Set(['method', 'normalization', 'weights', 'interpolate']),
  dbsf: new Set(['method', 'clip', 'weights', 'interpolate']),
};

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function checkWeight(v: unknown, field: string, what: string): void {
  if (!isFiniteNumber(v) || v < 0 || v > MAX_WEIGHT) fail('VALIDATION_FAILED', `${what} must be a number from 0 to ${MAX_WEIGHT}`, field);
}

function checkSource(src: Record<string, unknown>, prefix: string): void {
  if (src.query !== undefined && typeof src.query !== 'string') fail('INVALID_QUERY', '`query` must be a string', `${prefix}query`);
  if (src.vector !== undefined) {
    if (!isPlainObject(src.vector)) fail('INVALID_QUERY', '`vector` must be an object of term -> weight', `${prefix}vector`);
    for (const [t, w] of Object.entries(src.vector))
      if (!isFiniteNumber(w) || w < 0)
        fail('INVALID_QUERY', `vector weight of '${t}' must be a finite number >= 0`, `${prefix}vector.${t}`);
  }
}

/**
 * Field by field, what the schema checks, with messages that name the exact field: the HTTP route
 * calls this when the schema refused a hybrid request. Throws the first problem; returns when the
 * fields are well formed.
 */
export function hybridFieldError(req: Record<string, unknown>): void {
  const entries = req.retrievers;
  if (entries === undefined) return;
  if (!Array.isArray(entries) || entries.length < 1 || entries.length > MAX_HYBRID_RETRIEVERS)
    fail('VALIDATION_FAILED', `retrievers must be an array of 1 to ${MAX_HYBRID_RETRIEVERS} retrievers`, 'retrievers');
  checkSource(req, '');
  entries.forEach((e, i) => {
    const at = `retrievers[${i}]`;
    if (!isPlainObject(e)) fail('VALIDATION_FAILED', `${at} must be an object with a \`name\``, at);
    for (const key of Object.keys(e))
      if (!ENTRY_KEYS.has(key))
        fail('VALIDATION_FAILED', `${at}.${key} is not a known property (${[...ENTRY_KEYS].join(', ')})`, `${at}.${key}`);
    if (typeof e.name !== 'string' || e.name.length === 0 || e.name.length > 64)
      fail('VALIDATION_FAILED', 'name must be a retriever name of 1 to 64 characters', `${at}.name`);
    if (!RETRIEVERS.includes(e.name))
      fail('UNKNOWN_RETRIEVER', `retriever '${e.name}' is not one this service has (${RETRIEVERS.join(', ')})`, `${at}.name`);
    if (e.window !== undefined && (!Number.isInteger(e.window) || (e.window as number) < 1 || (e.window as number) > RESULT_WINDOW))
      fail('VALIDATION_FAILED', `window must be an integer from 1 to ${RESULT_WINDOW}`, `${at}.window`);
    if (e.weight !== undefined) checkWeight(e.weight, `${at}.weight`, 'weight');
    if (e.mode !== undefined && e.mode !== 'exact' && e.mode !== 'approx')
      fail('VALIDATION_FAILED', "mode must be 'exact' or 'approx'", `${at}.mode`);
    checkSource(e, `${at}.`);
    if (e.prf !== undefined) checkPrfShape(e.prf, `${at}.prf`);
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
    fail(
      'VALIDATION_FAILED',
      owner ? `${key} applies to method '${owner}' only, not '${m}'` : `fusion.${key} is not a known property`,
      `fusion.${key}`,
    );
  }
  if (f.k !== undefined && (!isFiniteNumber(f.k) || f.k < 0 || f.k > MAX_RRF_K))
    fail('VALIDATION_FAILED', `k must be a number from 0 to ${MAX_RRF_K}`, 'fusion.k');
  if (f.clip !== undefined && typeof f.clip !== 'boolean') fail('VALIDATION_FAILED', 'clip must be true or false', 'fusion.clip');
  if (f.interpolate !== undefined && !(INTERPOLATIONS as readonly unknown[]).includes(f.interpolate))
    fail('VALIDATION_FAILED', `interpolate must be one of: ${INTERPOLATIONS.join(', ')}`, 'fusion.interpolate');
  if (
    f.normalization !== undefined &&
    (typeof f.normalization !== 'string' || !(NORMALIZATIONS as readonly string[]).includes(f.normalization))
  )
    fail('VALIDATION_FAILED', `normalization must be one of: ${NORMALIZATIONS.join(', ')}`, 'fusion.normalization');
  if (f.weights !== undefined) {
    if (!isPlainObject(f.weights)) fail('VALIDATION_FAILED', 'weights must be an object of retriever name -> weight', 'fusion.weights');
    for (const [name, w] of Object.entries(f.weights)) checkWeight(w, `fusion.weights.${name}`, `weight of '${name}'`);
  }
  checkHybridRequest(req as SearchRequest);
}

/** What a schema cannot check about a hybrid request (fields already well formed). */
export function checkHybridRequest(req: SearchRequest): void {
  const entries = req.retrievers;
  if (entries === undefined) {
    if (req.fusion !== undefined)
      fail('VALIDATION_FAILED', '`fusion` applies to a hybrid search: name the retrievers to fuse in `retrievers`', 'fusion');
    return;
  }
  if (req.retriever !== undefined)
    fail('VALIDATION_FAILED', 'give `retriever` (one retriever) or `retrievers` (a hybrid search), not both', 'retriever');
  if (req.query !== undefined && req.vector !== undefined)
    fail('INVALID_QUERY', 'give one of `query` (text) or `vector` (sparse term -> weight), not both', 'query');
  if (req.prf !== undefined)
    fail('VALIDATION_FAILED', 'in a hybrid search, pseudo-relevance feedback is per retriever: give it in retrievers[].prf', 'prf');
  if (req.fusion?.interpolate !== undefined && !entries.some((e) => e.prf !== undefined))
    fail('VALIDATION_FAILED', 'interpolate says where fusion happens around feedback: give a retriever `prf`', 'fusion.interpolate');
  const seen = new Map<string, number>();
  entries.forEach((e, i) => {
    const at = `retrievers[${i}]`;
    if (seen.has(e.name))
      fail(
        'VALIDATION_FAILED',
        `retriever '${e.name}' is listed twice (retrievers[${seen.get(e.name)}] and ${at}); each retriever may appear once`,
        `${at}.name`,
      );
    seen.set(e.name, i);
    if (e.query !== undefined && e.vector !== undefined)
      fail('INVALID_QUERY', 'give one of `query` (text) or `vector` (sparse term -> weight), not both', `${at}.query`);
    if (e.dense_vector !== undefined && e.vector !== undefined)
      fail('INVALID_QUERY', 'give one of `vector` (sparse) or `dense_vector`, not both', `${at}.dense_vector`);
  });
  for (const name of Object.keys(req.fusion?.weights ?? {})) {
    const field = `fusion.weights.${name}`;
    const i = seen.get(name);
    if (i === undefined)
      fail('VALIDATION_FAILED', `'${name}' is not one of the request's retrievers (${[...seen.keys()].join(', ')})`, field);
    if (entries[i].weight !== undefined)
      fail('VALIDATION_FAILED', `weight of '${name}' is given twice (retrievers[${i}].weight and ${field})`, field);
  }
}

/** Checks a hybrid request against the collection and fills in the defaults. */
function planHybrid(c: Collection, req: SearchRequest, k: number, offset: number, collectionDefault: DefaultFusion | undefined) {
  checkHybridRequest(req);
  // The request's fusion, else the collection's default (default-fusion.ts), else RRF.
  const f = fusionFor(req, collectionDefault) ?? {};
  const method = f.method ?? 'rrf';
  const ver = req.verify !== undefined ? checkVerify(c, req.verify) : undefined;
  const verifyDepth = ver?.candidates ?? 0;
  const retrievers = req.retrievers!.map((e, i): PlannedRetriever => {
    const at = `retrievers[${i}]`;
    const retriever = pickRetriever(c, e.name, `${at}.name`);
    const own = retriever.vectorField,
      other = own === 'vector' ? 'dense_vector' : 'vector';
    if (e[other] !== undefined)
      fail(
        'INVALID_QUERY',
        own === 'vector'
          ? `retriever '${e.name}' is not dense; \`dense_vector\` applies to a dense retriever`
          : `retriever '${e.name}' is dense: give \`query\` text or a \`dense_vector\`, not a sparse \`vector\``,
        `${at}.${other}`,
      );
    // The entry's own query or vector, else the request's (for a dense retriever, its dense_vector first).
    const entryHas = e.query !== undefined || e[own] !== undefined;
    const source: PlannedRetriever['source'] = entryHas
      ? { query: e.query, [own]: e[own] }
      : own === 'dense_vector' && req.dense_vector !== undefined
        ? { dense_vector: req.dense_vector }
        : { query: req.query, [own]: req[own] };
    if (source.query === undefined && source[own] === undefined)
      fail(
        'INVALID_QUERY',
        `retriever '${e.name}' ${own === 'dense_vector' ? 'is dense and ' : ''}has no query: give \`query\` or \`${own}\` in the request or in ${at}`,
        `${at}.query`,
      );
    // The entry's own strategy, else the request's.
    const ownStrategy = e.mode !== undefined || e.approx !== undefined;
    const strategy = strategyOf(ownStrategy ? e : req);
    retriever.checkStrategy(strategy, ownStrategy ? `${at}.` : '');
    return {
      name: e.name,
      retriever,
      window: e.window ?? Math.max(DEFAULT_WINDOW, offset + k, verifyDepth),
      weight: e.weight ?? f.weights?.[e.name] ?? 1,
      strategy,
      source,
      field: entryHas ? `${at}.${own}` : own,
      prf: e.prf !== undefined ? checkPrf(e.prf, `${at}.prf`, retriever) : undefined,
    };
  });
  if (method === 'convex' && !(retrievers.reduce((s, r) => s + r.weight, 0) > 0))
    fail('VALIDATION_FAILED', 'convex fusion needs at least one retriever with a weight above 0', 'fusion.weights');
  const spec: FusionSpec =
    method === 'rrf'
      ? { method, k: f.k ?? DEFAULT_RRF_K }
      : method === 'convex'
        ? { method, normalization: f.normalization ?? DEFAULT_NORMALIZATION }
        : { method, clip: f.clip ?? false };
  const interpolate: Interpolation | undefined = retrievers.some((r) => r.prf) ? (f.interpolate ?? 'after') : undefined;
  if (interpolate === 'before' && method === 'convex' && !(retrievers.reduce((sum, r) => sum + (r.prf ? r.weight : 0), 0) > 0))
    fail(
      'VALIDATION_FAILED',
      "interpolate 'before' fuses the retrievers with `prf` only: one of them needs a weight above 0",
      'fusion.weights',
    );
  return { retrievers, spec, weights: Object.fromEntries(retrievers.map((r) => [r.name, r.weight])), interpolate, verify: ver };
}

type Run = PlannedRetriever & { encoded: EncodedQuery; top?: TopK };

function listsOf(runs: readonly Run[]): RankedList<number>[] {
  return runs.map((r) => ({
    name: r.name,
    keys: r.top?.docs ?? new Uint32Array(0),
    scores: r.top?.scores ?? new Float32Array(0),
    weight: r.weight,
  }));
}

/**
 * Runs a hybrid search: every retriever concurrently (query encoded by each, scored on a native
 * thread under the request's filter, top `window`), then fusion, then the page `offset`..`offset+k`
 * of the fused list is hydrated. `explain` gives, per hit and retriever, its rank (null when absent),
 * raw score, normalized score and contribution, plus that retriever's term contributions.
 *
 * With `retrievers[].prf`, those retrievers search a second time with their expanded query; the
 * feedback documents are each one's own first list (`fusion.interpolate` `after`, the default) or
 * the fused first lists (`before`, `both`); `before` fuses only the expanded retrievers' lists.
 * With `verify`, the fused list's top candidates are re-scored by the dense retriever (verify.ts).
 */
export async function hybridSearchAsync(c: Collection, req: SearchRequest): Promise<SearchResponse> {
  const t0 = performance.now();
  const { k, offset } = page(req);
  const plan = planHybrid(c, req, k, offset, usesDefaultFusion(req) ? await defaultFusion(c) : undefined);
  const pending = c.candidates(req.filter);
  pending.catch(() => {}); // observed below; avoid an unhandled rejection while queries encode
  const interpolate = plan.interpolate;

  const first = await Promise.all(
    plan.retrievers.map(async (r): Promise<Run> => {
      const [encoded, candidates] = await Promise.all([r.retriever.encodeQuery(r.source, r.field), pending]);
      // Feedback from its own list needs only the feedback documents of an expanded retriever.
      const depth = r.prf && interpolate === 'after' ? r.prf.docs : r.window;
      return { ...r, encoded, top: await topAsync(r.retriever, encoded, depth, candidates, r.strategy) };
    }),
  );
  const candidates = await pending;
  // The verification's dense query: a dense retriever of the request already encoded it.
  const verifyQuery = plan.verify
    ? verifyQueryOf(plan.verify, req, first.find((r) => r.retriever === plan.verify!.retriever)?.encoded)
    : undefined;
  verifyQuery?.catch(() => {});

  let runs = first;
  const prf: PrfExplain[] = [];
  const explained = new Map<string, PrfExplain>();
  if (interpolate) {
    let fused: Feedback | undefined;
    if (interpolate !== 'after') {
      const hits = fuse(listsOf(first), plan.spec);
      fused = { docnos: hits.map((h) => h.key), scores: hits.map((h) => h.score) };
    }
    const second = await Promise.all(
      first.map(async (r): Promise<Run> => {
        if (!r.prf) return r;
        const fb = fused ?? feedbackOf(r.top);
        const ex = await expand(c, r.retriever, r.source, r.encoded, fb, r.prf);
        if (req.explain)
          explained.set(r.name, {
            retriever: r.name,
            source: fused ? 'fusion' : 'own',
            feedback: await feedbackIds(c, fb, r.prf.docs),
            ...ex.explain,
          });
        return { ...r, encoded: ex.encoded, top: await topAsync(r.retriever, ex.encoded, r.window, candidates, r.strategy) };
      }),
    );
    runs = interpolate === 'before' ? second.filter((r) => r.prf) : second;
    // In request order, whichever expansion finished first.
    for (const r of first) if (explained.has(r.name)) prf.push(explained.get(r.name)!);
  }
  let fused = fuse(listsOf(runs), plan.spec);
  let verified: VerifyExplain[] | undefined;
  if (plan.verify) {
    const v = await verify(
      plan.verify,
      await verifyQuery!,
      fused.map((h) => h.key),
      fused.map((h) => h.score),
    );
    const byKey = new Map(fused.map((h) => [h.key, h]));
    fused = Array.from(v.docnos, (d, i) => ({ ...byKey.get(d)!, score: v.scores[i] }));
    verified = v.explain;
  }
  const page_ = fused.slice(offset, offset + k);
  const docs = Uint32Array.from(page_.map((h) => h.key));
  const explain = req.explain
    ? async (j: number): Promise<HybridExplain> => ({
        retriever: 'hybrid',
        method: plan.spec.method,
        retrievers: await Promise.all(
          page_[j].sources.map(async (s, i) => {
            const run = runs[i];
            const terms =
              s.rank !== null && run.retriever.shape === 'sparse' ? { terms: await run.retriever.explain(run.encoded, page_[j].key) } : {};
            const passage = s.rank !== null ? await explainPassage(c, run.retriever, run.encoded, page_[j].key) : undefined;
            return { name: run.name, ...s, ...terms, ...(passage ? { passage } : {}) };
          }),
        ),
        ...(verified ? { verify: verified[offset + j] } : {}),
      })
    : undefined;
  const hits = await pageHits(
    c,
    docs,
    page_.map((h) => h.score),
    req.fields,
    explain,
  );
  return {
    hits,
    retriever: 'hybrid',
    k,
    offset,
    candidates: candidates.matches,
    took_ms: elapsed(t0),
    fusion: { ...plan.spec, weights: plan.weights, ...(interpolate ? { interpolate } : {}) },
    retrievers: runs.map((r) => ({ name: r.name, window: r.window, weight: r.weight, hits: r.top?.docs.length ?? 0 })),
    ...(plan.verify
      ? { verify: { retriever: plan.verify.retriever.name, candidates: plan.verify.candidates, weight: plan.verify.weight } }
      : {}),
    ...(req.explain && prf.length > 0 ? { prf } : {}),
  };
}
