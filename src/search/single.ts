// One retriever: pick it, check the query source it takes, encode, score offset + k under the
// filter, hydrate the page, explain term by term when asked. Every kind goes the same way.
import type { TopK } from '../../index/index.js';
import type { Candidates } from '../backends/backend.js';
import type { Collection } from '../collections/collection.js';
import { fail } from '../errors.js';
import type { EncodedQuery, Retriever, SearchStrategy } from '../retrievers/retriever.js';
import { elapsed, pageHits } from './hits.js';
import { RESULT_WINDOW, strategyOf, type SearchRequest, type SearchResponse } from './request.js';

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
  if (req[other] !== undefined)
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
  // The filter's candidates are read while a model encodes the query.
  const candidates = c.candidates(req.filter);
  const encoded = retriever.encodeQuery(req, own);
  return { t0, retriever, strategy, encoded, k, offset, candidates };
}

/** One retriever: the query encoded and scored on a native thread, so the server keeps answering meanwhile. */
export async function searchOne(c: Collection, req: SearchRequest): Promise<SearchResponse> {
  const p = plan(c, req);
  // Most queries encode synchronously (BM25, inference-free, client vectors): no Promise.all then.
  if (p.encoded instanceof Promise) p.candidates.catch(() => {}); // observed below, after the encoding
  const encoded = p.encoded instanceof Promise ? await p.encoded : p.encoded;
  const candidates = await p.candidates;
  const { retriever, offset, k } = p;
  const top = await topAsync(retriever, encoded, offset + k, candidates, p.strategy);
  const docs = top ? top.docs.subarray(Math.min(offset, top.docs.length)) : new Uint32Array(0);
  const scores = top ? top.scores.subarray(Math.min(offset, top.scores.length)) : new Float32Array(0);
  const explain = req.explain
    ? async (j: number) => ({ retriever: retriever.name, terms: await retriever.explain(encoded, docs[j]) })
    : undefined;
  const hits = await pageHits(c, docs, scores, req.fields, explain);
  return { hits, retriever: retriever.name, k, offset, candidates: candidates.matches, took_ms: elapsed(p.t0) };
}
