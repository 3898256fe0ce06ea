// Pseudo-relevance feedback (PRF): a first search's top documents are taken as relevant, and the
// query is expanded with what they hold before a second search. One method per storage shape:
//
//   rm3      BM25 (a retriever over the collection's analyzed text). Lucene/Anserini's RM3: each
//            feedback document's analyzed terms (2-20 characters of [a-z0-9], in at most 10% of the
//            documents) pruned to its `terms` most frequent, each document's term frequencies
//            normalized by that pruned length and weighted by the document's first-stage score,
//            summed, pruned to `terms`, L1-normalized, then interpolated with the L1-normalized
//            query: w(t) = weight × q(t) + (1 − weight) × rm(t). The expanded query is run through
//            the retriever as a client `vector` (term -> weight; BM25 multiplies each by its idf), so
//            it scores Σ w(t) · BM25(t, d), as Anserini's boosted term queries do.
//   terms    learned sparse (SPLADE): the mean of the feedback documents' stored vectors, pruned to
//            its `terms` heaviest tokens, added to the query: w = weight × q + (1 − weight) × mean.
//   rocchio  dense (Vector-PRF, Rocchio form, Li et al.): q' = weight × q + (1 − weight) × mean of
//            the feedback documents' stored vectors.
//
// Where the feedback documents come from (each retriever's own list, or the fusion of all of them)
// is the hybrid request's `fusion.interpolate` (search/hybrid.ts): `after` (default) expands each
// retriever from its own first list and fuses the expanded lists; `before` expands from the fused
// first lists and fuses only the expanded retrievers' lists; `both` expands from the fused first
// lists and fuses every list again. docs/relevance.md states the design and the measured figures.
import type { Collection } from '../collections/collection.js';
import { isPlainObject } from '../collections/documents.js';
import { fail } from '../errors.js';
import type { EncodedQuery, QuerySource, Retriever } from '../retrievers/retriever.js';
import { termCounts } from '../text/analyzer.js';

export const PRF_METHODS = ['rm3', 'terms', 'rocchio'] as const;
export type PrfMethod = (typeof PRF_METHODS)[number];
export const INTERPOLATIONS = ['before', 'after', 'both'] as const;
export type Interpolation = (typeof INTERPOLATIONS)[number];

/** Most feedback documents and expansion terms a request may ask for. */
export const MAX_PRF_DOCS = 100;
export const MAX_PRF_TERMS = 1000;

/** `prf` of a request (one retriever) or of a hybrid request's retriever entry. */
export interface PrfRequest {
  /** Default by the retriever: `rm3` (BM25), `terms` (learned sparse), `rocchio` (dense). */
  method?: PrfMethod;
  /** Feedback documents, 1..100. Default 10 (rm3, terms), 3 (rocchio). */
  docs?: number;
  /** Expansion terms, 1..1000 (rm3, terms). Default 10. */
  terms?: number;
  /** Weight of the original query, 0..1. Default 0.5. */
  weight?: number;
}

/** A checked `prf` with its defaults. */
export interface PrfPlan {
  method: PrfMethod;
  docs: number;
  /** Expansion terms (sparse methods); 0 for rocchio. */
  terms: number;
  weight: number;
}

/** Defaults per method: Anserini's RM3 (fbDocs 10, fbTerms 10, originalQueryWeight 0.5); Vector-PRF's depth 3. */
export const PRF_DEFAULTS: Record<PrfMethod, Omit<PrfPlan, 'method'>> = {
  rm3: { docs: 10, terms: 10, weight: 0.5 },
  terms: { docs: 10, terms: 10, weight: 0.5 },
  rocchio: { docs: 3, terms: 0, weight: 0.5 },
};

const PRF_KEYS = ['method', 'docs', 'terms', 'weight'];

/** Which methods a retriever can take, default first. */
export function prfMethodsOf(r: Retriever): PrfMethod[] {
  if (r.shape === 'dense') return r.stored ? ['rocchio'] : [];
  if (r.analyzed) return ['rm3'];
  return r.stored ? ['terms'] : [];
}

/**
 * Checks a request's `prf` (at `field`) for retriever `r` and fills the defaults. VALIDATION_FAILED
 * names the field: an unknown key, a value out of range, a method the retriever cannot take.
 */
export function checkPrf(raw: unknown, field: string, r: Retriever): PrfPlan {
  const given = checkPrfShape(raw, field);
  const methods = prfMethodsOf(r);
  if (methods.length === 0) fail('VALIDATION_FAILED', `retriever '${r.name}' has no pseudo-relevance feedback`, field);
  const m = given.method ?? methods[0];
  if (!methods.includes(m))
    fail('VALIDATION_FAILED', `method '${m}' does not apply to retriever '${r.name}' (it takes: ${methods.join(', ')})`, `${field}.method`);
  if (m === 'rocchio' && given.terms !== undefined)
    fail('VALIDATION_FAILED', "terms applies to the sparse methods (rm3, terms), not 'rocchio'", `${field}.terms`);
  const d = PRF_DEFAULTS[m];
  return { method: m, docs: given.docs ?? d.docs, terms: m === 'rocchio' ? 0 : (given.terms ?? d.terms), weight: given.weight ?? d.weight };
}

/** What can be checked of a `prf` without its retriever: keys, types and ranges, naming the field. */
export function checkPrfShape(raw: unknown, field: string): PrfRequest {
  if (!isPlainObject(raw)) fail('VALIDATION_FAILED', `${field} must be an object such as {"method": "rm3", "docs": 10}`, field);
  for (const k of Object.keys(raw))
    if (!PRF_KEYS.includes(k)) fail('VALIDATION_FAILED', `unknown property '${k}' (allowed: ${PRF_KEYS.join(', ')})`, `${field}.${k}`);
  if (raw.method !== undefined && (typeof raw.method !== 'string' || !(PRF_METHODS as readonly string[]).includes(raw.method)))
    fail('VALIDATION_FAILED', `method must be one of: ${PRF_METHODS.join(', ')}`, `${field}.method`);
  for (const [k, max] of [
    ['docs', MAX_PRF_DOCS],
    ['terms', MAX_PRF_TERMS],
  ] as const) {
    const v = raw[k];
    if (v !== undefined && (!Number.isInteger(v) || (v as number) < 1 || (v as number) > max))
      fail('VALIDATION_FAILED', `${k} must be an integer from 1 to ${max}, got ${JSON.stringify(v)}`, `${field}.${k}`);
  }
  if (raw.weight !== undefined && (typeof raw.weight !== 'number' || !(raw.weight >= 0 && raw.weight <= 1)))
    fail('VALIDATION_FAILED', `weight must be a number from 0 to 1, got ${JSON.stringify(raw.weight)}`, `${field}.weight`);
  return raw as PrfRequest;
}

/** The feedback documents: document numbers best first, with the scores that ranked them. */
export interface Feedback {
  docnos: ArrayLike<number>;
  scores: ArrayLike<number>;
}

/** One expansion term as explain shows it: final weight = query part + feedback part. */
export interface ExpansionTerm {
  term: string;
  weight: number;
  /** weight × the original query's (normalized, for rm3) weight of the term; 0 when the query lacks it. */
  query_weight: number;
  /** (1 − weight) × the feedback model's weight of the term; 0 when it is not an expansion term. */
  feedback_weight: number;
}

/** What a retriever's feedback did, for explain. */
export interface PrfExplain {
  retriever: string;
  method: PrfMethod;
  /** Where the feedback documents came from: this retriever's first list, or the fused first lists. */
  source: 'own' | 'fusion';
  /** Original query weight. */
  weight: number;
  /** The feedback documents' ids, best first. */
  feedback: string[];
  /** Sparse methods: the expanded query's terms, heaviest first. */
  terms?: ExpansionTerm[];
}

/** The expanded query and what explain shows of it. */
export interface Expansion {
  encoded: EncodedQuery;
  explain: Omit<PrfExplain, 'retriever' | 'source' | 'feedback'>;
}

function byWeightThenTerm<T extends { w: number; key: string | number }>(a: T, b: T): number {
  return b.w - a.w || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/** Anserini's RM3 feedback-term filter: 2 to 20 characters of [a-z0-9]. */
const RM3_TERM = /^[a-z0-9]{2,20}$/;
/** A term in more than this fraction of documents is not a feedback term (Anserini: 10%). */
export const RM3_MAX_DF_RATIO = 0.1;

/** Document frequency of each term (absent: no document holds it) and the live documents, as the storage counts them. */
async function documentFrequencies(r: Retriever, terms: string[]): Promise<{ n: number; df: Map<string, number> }> {
  const out = new Map<string, number>();
  if (terms.length === 0 || !r.termFrequencies) return { n: 0, df: out };
  const { n, df } = await r.termFrequencies(terms);
  terms.forEach((t, i) => {
    if (df[i] > 0) out.set(t, df[i]);
  });
  return { n, df: out };
}

function l1(m: Map<string, number>): Map<string, number> {
  let s = 0;
  for (const v of m.values()) s += v;
  const out = new Map<string, number>();
  if (s > 0) for (const [k, v] of m) out.set(k, v / s);
  return out;
}

function topTerms<K extends string | number>(m: Map<K, number>, n: number): Map<K, number> {
  return new Map(
    [...m]
      .map(([key, w]) => ({ key, w }))
      .sort(byWeightThenTerm)
      .slice(0, n)
      .map((e) => [e.key, e.w]),
  );
}

/** RM3 (see the file comment): the expanded query as term -> weight, and its explain. */
export async function rm3Vector(
  c: Collection,
  r: Retriever,
  source: QuerySource,
  fb: Feedback,
  plan: PrfPlan,
): Promise<{ vector: Map<string, number>; terms: ExpansionTerm[] }> {
  const original =
    source.query !== undefined
      ? l1(termCounts(c.analyzer.analyze(source.query)))
      : l1(new Map(Object.entries(source.vector ?? {}).filter(([, w]) => w > 0)));
  const n = Math.min(plan.docs, fb.docnos.length);
  const docnos = Array.from({ length: n }, (_, i) => fb.docnos[i]);
  const stored = await c.backend.getMany(docnos);
  const counts = docnos.map((d) => {
    const doc = stored.get(d);
    if (!doc) return new Map<string, number>();
    const text = c.config.fields
      .map((f) => doc.fields[f])
      .filter((v): v is string => typeof v === 'string')
      .join(' ');
    return new Map([...termCounts(c.analyzer.analyze(text))].filter(([t]) => RM3_TERM.test(t)));
  });
  const vocab = [...new Set(counts.flatMap((m) => [...m.keys()]))];
  const { n: size, df } = await documentFrequencies(r, vocab);
  const maxRatio = Math.fround(RM3_MAX_DF_RATIO);
  const rm = new Map<string, number>();
  counts.forEach((m, i) => {
    const kept = new Map([...m].filter(([t]) => df.has(t) && Math.fround(df.get(t)! / size) <= maxRatio));
    const pruned = topTerms(kept, plan.terms);
    let norm = 0;
    for (const v of pruned.values()) norm += v;
    if (norm <= 0.001) return;
    for (const [t, tf] of pruned) rm.set(t, (rm.get(t) ?? 0) + (tf / norm) * fb.scores[i]);
  });
  const model = l1(topTerms(rm, plan.terms));
  const vector = new Map<string, number>();
  const terms: ExpansionTerm[] = [];
  for (const t of new Set([...original.keys(), ...model.keys()])) {
    const qw = plan.weight * (original.get(t) ?? 0);
    const fw = (1 - plan.weight) * (model.get(t) ?? 0);
    if (qw + fw <= 0) continue;
    vector.set(t, qw + fw);
    terms.push({ term: t, weight: qw + fw, query_weight: qw, feedback_weight: fw });
  }
  terms.sort((a, b) => b.weight - a.weight || (a.term < b.term ? -1 : a.term > b.term ? 1 : 0));
  return { vector, terms };
}

/**
 * Expands `encoded` (the retriever's first query, from `source`) with the feedback documents.
 * The caller checked `plan` against the retriever (checkPrf).
 */
export async function expand(
  c: Collection,
  r: Retriever,
  source: QuerySource,
  encoded: EncodedQuery,
  fb: Feedback,
  plan: PrfPlan,
): Promise<Expansion> {
  const base = { method: plan.method, weight: plan.weight };
  const n = Math.min(plan.docs, fb.docnos.length);
  if (n === 0) return { encoded, explain: { ...base, ...(plan.method === 'rocchio' ? {} : { terms: [] }) } };
  if (plan.method === 'rm3') {
    const { vector, terms } = await rm3Vector(c, r, source, fb, plan);
    const q = await r.encodeQuery({ vector: Object.fromEntries(vector) }, 'vector');
    return { encoded: q, explain: { ...base, terms } };
  }
  const docs = (await r.stored!(Array.from({ length: n }, (_, i) => fb.docnos[i]))).filter((d) => d !== undefined);
  if (plan.method === 'rocchio') {
    if (encoded.shape !== 'dense' || docs.length === 0) return { encoded, explain: base };
    const q = encoded.vector;
    const out = new Float32Array(q.length);
    for (let j = 0; j < q.length; j++) out[j] = plan.weight * q[j];
    const share = (1 - plan.weight) / docs.length;
    for (const d of docs) {
      if (d.shape !== 'dense') continue;
      for (let j = 0; j < q.length; j++) out[j] += share * d.vector[j];
    }
    return { encoded: { shape: 'dense', vector: out }, explain: base };
  }
  // terms: learned sparse, in the model's vocabulary ids.
  if (encoded.shape !== 'sparse') return { encoded, explain: { ...base, terms: [] } };
  const label = new Map<number, string>();
  const mean = new Map<number, number>();
  for (const d of docs) {
    if (d.shape !== 'sparse') continue;
    for (let j = 0; j < d.terms.length; j++) {
      mean.set(d.terms[j], (mean.get(d.terms[j]) ?? 0) + d.weights[j] / docs.length);
      label.set(d.terms[j], d.labels[j]);
    }
  }
  const model = topTerms(mean, plan.terms);
  const original = new Map<number, number>();
  for (let j = 0; j < encoded.query.terms.length; j++) {
    original.set(encoded.query.terms[j], encoded.query.weights[j]);
    label.set(encoded.query.terms[j], encoded.terms[j]);
  }
  const ids = [...new Set([...original.keys(), ...model.keys()])].sort((a, b) => a - b);
  const terms: ExpansionTerm[] = [];
  const weights = ids.map((id) => {
    const qw = plan.weight * (original.get(id) ?? 0);
    const fw = (1 - plan.weight) * (model.get(id) ?? 0);
    terms.push({ term: label.get(id)!, weight: qw + fw, query_weight: qw, feedback_weight: fw });
    return qw + fw;
  });
  const keep = ids.map((_, i) => i).filter((i) => weights[i] > 0);
  terms.sort((a, b) => b.weight - a.weight || (a.term < b.term ? -1 : a.term > b.term ? 1 : 0));
  return {
    encoded: {
      shape: 'sparse',
      query: { terms: Uint32Array.from(keep, (i) => ids[i]), weights: Float32Array.from(keep, (i) => weights[i]) },
      terms: keep.map((i) => label.get(ids[i])!),
    },
    explain: { ...base, terms: terms.filter((t) => t.weight > 0) },
  };
}
