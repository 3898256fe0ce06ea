// One retriever: pick it, check the query source it takes, encode, score offset + k under the
// filter, hydrate the page, explain term by term when asked. Every kind goes the same way.
import type { TopK } from '../../index/index.js';
import type { Candidates } from '../backends/backend.js';
import type { Collection } from '../collections/collection.js';
import { fail } from '../errors.js';
import type { EncodedQuery, Retriever, SearchStrategy } from '../retrievers/retriever.js';
import { elapsed, pageHits } from './hits.js';
import { checkPrf, expand, type Feedback, type PrfExplain, type PrfPlan } from './prf.js';
import { RESULT_WINDOW, strategyOf, type SearchRequest, type SearchResponse } from './request.js';
import { explainPassage } from './passage-explain.js';
import { checkVerify, verify, type VerifyExplain, type VerifyPlan } from './verify.js';

/** How errors name each kind's client vector. */
const VECTOR_WORDS = { vector: '`vector` (sparse term -> weight)', dense_vector: '`dense_vector`' } as const;

/** `k` and `offset` with their defaults; their ranges were checked at the edge, the window is checked here. */
export function page(req: Pick<SearchRequest, 'k' | 'offset'>): { k: number; offset: number } {
  const k = req.k ?? 10;
  const offset = req.offset ?? 0;
  if (offset + k > RESULT_WINDOW)
    fail('RESULT_WINDOW_TOO_LARGE', `offset + k must be at most ${RESULT_WINDOW}, got ${offset + k}`, 'offset');
  return { k, offset };
}

/** The collection's retriever `name`; UNKNOWN_RETRIEVER naming `field` otherwise. */
export function pickRetriever(c: Collection, name: string, field: string): Retriever {
  const r = c.retriever(name);
  if (!r)
    fail(
      'UNKNOWN_RETRIEVER',
      `retriever '${name}' is not available in collection '${c.name}' (available: ${[...c.retrievers.keys()].join(', ')})`,
      field,
    );
  return r;
}

/** A query that can match nothing (a sparse query none of whose terms any document has). */
export function matchesNothing(q: EncodedQuery): boolean {
  return q.shape === 'sparse' && q.query.terms.length === 0;
}

/** Top `k` on a native thread; undefined when nothing can match. */
export async function topAsync(
  r: Retriever,
  q: EncodedQuery,
  k: number,
  candidates: Candidates,
  strategy: SearchStrategy | undefined,
): Promise<TopK | undefined> {
  if (matchesNothing(q) || candidates.matches === 0) return undefined;
  return r.search(q, k, candidates, strategy);
}

interface Plan {
  t0: number;
  retriever: Retriever;
  prf: PrfPlan | undefined;
  verify: VerifyPlan | undefined;
  /** The dense query of `verify`, encoding meanwhile. */
  verifyQuery: Promise<EncodedQuery> | undefined;
  strategy: SearchStrategy | undefined;
  encoded: EncodedQuery | Promise<EncodedQuery>;
  k: number;
  offset: number;
  candidates: Promise<Candidates>;
}

function plan(c: Collection, req: SearchRequest): Plan {
  const t0 = performance.now();
  if (req.fusion !== undefined)
    fail('VALIDATION_FAILED', '`fusion` applies to a hybrid search: name the retrievers to fuse in `retrievers`', 'fusion');
  const retriever = pickRetriever(c, req.retriever ?? c.config.defaultRetriever, 'retriever');
  const { k, offset } = page(req);
  const own = retriever.vectorField,
    other = own === 'vector' ? 'dense_vector' : 'vector';
  // With `verify`, a sparse retriever's request may carry the dense query of the verification.
  if (req[other] !== undefined && !(other === 'dense_vector' && req.verify !== undefined))
    fail(
      'INVALID_QUERY',
      other === 'dense_vector'
        ? `\`dense_vector\` applies to a dense retriever, not '${retriever.name}'`
        : `retriever '${retriever.name}' takes \`query\` text or a \`dense_vector\`, not a sparse \`vector\``,
      other,
    );
  if ((req.query === undefined) === (req[own] === undefined))
    fail('INVALID_QUERY', `give exactly one of \`query\` (text) or ${VECTOR_WORDS[own]}`, 'query');
  const strategy = strategyOf(req);
  retriever.checkStrategy(strategy, '');
  const prf = req.prf !== undefined ? checkPrf(req.prf, 'prf', retriever) : undefined;
  const ver = req.verify !== undefined ? checkVerify(c, req.verify) : undefined;
  // The filter's candidates are read while a model encodes the query.
  const candidates = c.candidates(req.filter);
  const encoded = retriever.encodeQuery(req, own);
  const verifyQuery = ver ? verifyQueryOf(ver, req, retriever === ver.retriever ? encoded : undefined) : undefined;
  verifyQuery?.catch(() => {}); // observed after the first stage
  return { t0, retriever, prf, verify: ver, verifyQuery, strategy, encoded, k, offset, candidates };
}

/**
 * The dense query of a verification: the request's `dense_vector`, else its `query` encoded by the
 * dense model (`reuse`: that encoding, when the retriever searched is the dense one itself).
 */
export function verifyQueryOf(
  plan: VerifyPlan,
  req: Pick<SearchRequest, 'query' | 'dense_vector'>,
  reuse?: EncodedQuery | Promise<EncodedQuery>,
): Promise<EncodedQuery> {
  if (reuse !== undefined) return Promise.resolve(reuse);
  if (req.dense_vector === undefined && req.query === undefined)
    fail('INVALID_QUERY', 'verify needs the query as text (`query`) or as a `dense_vector`', 'verify');
  return Promise.resolve(
    plan.retriever.encodeQuery(req.dense_vector !== undefined ? { dense_vector: req.dense_vector } : { query: req.query }, 'dense_vector'),
  );
}

/** The `_id`s of feedback documents, best first, for explain. */
export async function feedbackIds(c: Collection, fb: Feedback, n: number): Promise<string[]> {
  const docnos = Array.from({ length: Math.min(n, fb.docnos.length) }, (_, i) => fb.docnos[i]);
  const ids = await c.backend.idsOf(docnos);
  return docnos.map((d) => ids.get(d)).filter((id): id is string => id !== undefined);
}

/** The top documents of a ranking as feedback. */
export function feedbackOf(top: TopK | undefined): Feedback {
  return top ? { docnos: top.docs, scores: top.scores } : { docnos: new Uint32Array(0), scores: new Float32Array(0) };
}

/** One retriever: the query encoded and scored on a native thread, so the server keeps answering meanwhile. */
export async function searchOne(c: Collection, req: SearchRequest): Promise<SearchResponse> {
  const p = plan(c, req);
  // Most queries encode synchronously (BM25, inference-free, client vectors): no Promise.all then.
  if (p.encoded instanceof Promise) p.candidates.catch(() => {}); // observed below, after the encoding
  let encoded = p.encoded instanceof Promise ? await p.encoded : p.encoded;
  const candidates = await p.candidates;
  const { retriever, offset, k } = p;
  let prf: PrfExplain[] | undefined;
  if (p.prf) {
    const fb = feedbackOf(await topAsync(retriever, encoded, p.prf.docs, candidates, p.strategy));
    const ex = await expand(c, retriever, req, encoded, fb, p.prf);
    encoded = ex.encoded;
    if (req.explain) prf = [{ retriever: retriever.name, source: 'own', feedback: await feedbackIds(c, fb, p.prf.docs), ...ex.explain }];
  }
  const depth = p.verify ? Math.max(offset + k, p.verify.candidates) : offset + k;
  const top = await topAsync(retriever, encoded, depth, candidates, p.strategy);
  const first = feedbackOf(top);
  let ranked: { docs: ArrayLike<number>; scores: ArrayLike<number> } = { docs: first.docnos, scores: first.scores };
  let verified: VerifyExplain[] | undefined;
  if (p.verify) {
    const v = await verify(p.verify, await p.verifyQuery!, ranked.docs, ranked.scores);
    ranked = { docs: v.docnos, scores: v.scores };
    verified = v.explain;
  }
  const from = Math.min(offset, ranked.docs.length),
    to = Math.min(offset + k, ranked.docs.length);
  const docs = Uint32Array.from({ length: to - from }, (_, j) => ranked.docs[from + j]);
  const scores = Array.from({ length: to - from }, (_, j) => ranked.scores[from + j]);
  const final = encoded;
  const explain = req.explain
    ? async (j: number) => {
        const passage = await explainPassage(c, retriever, final, docs[j]);
        return {
          retriever: retriever.name,
          terms: await retriever.explain(final, docs[j]),
          ...(passage ? { passage } : {}),
          ...(verified ? { verify: verified[from + j] } : {}),
        };
      }
    : undefined;
  const hits = await pageHits(c, docs, scores, req.fields, explain);
  return {
    hits,
    retriever: retriever.name,
    k,
    offset,
    candidates: candidates.matches,
    took_ms: elapsed(p.t0),
    ...(p.verify ? { verify: { retriever: p.verify.retriever.name, candidates: p.verify.candidates, weight: p.verify.weight } } : {}),
    ...(prf ? { prf } : {}),
  };
}
