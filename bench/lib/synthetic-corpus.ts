// A seeded synthetic learned-sparse corpus with the statistics of SPLADE vectors of MS MARCO
// (docs/benchmarks.md): ~120 non-zeros per document, ~43 per query, heavy-tailed term document
// frequencies, weights in (0, 3] skewed small, and topical structure so that queries and documents
// correlate. Pruning methods (Seismic-style block summaries, block-max) behave very differently on
// uniform random vectors, so the structure is the point of this file, not a detail.
//
// The model:
// - a background distribution over the vocabulary, Zipf-like over a seeded permutation of term ids
//   (the frequent "function-ish" expansion terms every SPLADE document carries with low weight);
// - `topics` latent topics, each a Zipf-weighted distribution over its own set of terms drawn from
//   a flattened version of the background (topical terms are mid-frequency, as content words are);
//   topics themselves are Zipf-popular;
// - a document picks 1-3 topics with Dirichlet(1) mixture weights, takes `docTopicFraction` of its
//   terms from its topic mix and the rest from the background; topical terms get larger weights;
// - a query picks a target document, takes `queryDocFraction` of its terms from that document
//   (weight-proportional, so the document's salient terms: the lexical match of a relevant
//   passage), `queryTopicFraction` from the document's topic mix, and the rest from the background.
import { Prng, sampleCumulative } from './prng.js';

export interface CorpusParams {
  seed: number;
  docs: number;
  queries: number;
  vocab: number;
  topics: number;
  /** Mean number of terms per topic (each topic's count is log-normal around it, sd = mean / 2). */
  topicTerms: number;
  /** Exponent s of the background term distribution p(rank) ∝ (rank + zipfOffset)^-s. */
  zipfExponent: number;
  zipfOffset: number;
  /** Exponent of the term distribution inside a topic, over the topic's own terms. */
  topicZipfExponent: number;
  /** Topic terms are drawn with probability ∝ background^topicFlatten (0 = uniform, 1 = background). */
  topicFlatten: number;
  /** Exponent of topic popularity. */
  topicPopularityExponent: number;
  docNnzMean: number;
  docNnzSd: number;
  queryNnzMean: number;
  queryNnzSd: number;
  docTopicFraction: number;
  queryDocFraction: number;
  queryTopicFraction: number;
  /** Log-normal weights (mean, sd of the weight itself) by where the term came from; clamped to (0, 3]. */
  weightTopic: [number, number];
  weightBackground: [number, number];
  queryWeightTopic: [number, number];
  queryWeightBackground: [number, number];
}

export const DEFAULT_CORPUS: Omit<CorpusParams, 'docs' | 'queries'> = {
  seed: 42,
  vocab: 30522,
  topics: 2000,
  topicTerms: 400,
  zipfExponent: 1.1,
  zipfOffset: 20,
  topicZipfExponent: 0.9,
  topicFlatten: 0.4,
  topicPopularityExponent: 0.7,
  docNnzMean: 120,
  docNnzSd: 40,
  queryNnzMean: 43,
  queryNnzSd: 15,
  docTopicFraction: 0.6,
  queryDocFraction: 0.25,
  queryTopicFraction: 0.5,
  weightTopic: [0.75, 0.5],
  weightBackground: [0.3, 0.25],
  queryWeightTopic: [0.7, 0.45],
  queryWeightBackground: [0.25, 0.2],
};

/** CSR vectors; `terms` ascend within each row. */
export interface Vectors {
  offsets: Uint32Array;
  terms: Uint32Array;
  weights: Float32Array;
}

export interface Corpus {
  params: CorpusParams;
  docs: Vectors;
  queries: Vectors;
  /** The document each query was drawn from. */
  targets: Uint32Array;
  /** For generateQueries: further query sets over these documents. */
  sampler: QuerySampler;
  generateSeconds: number;
}

const MAX_WEIGHT = 3;
const MIN_WEIGHT = 0.01;

function clampWeight(w: number): number {
  return Math.fround(Math.min(MAX_WEIGHT, Math.max(MIN_WEIGHT, w)));
}

function cumulativeOf(weights: Float64Array): Float64Array {
  const c = new Float64Array(weights.length);
  let s = 0;
  for (let i = 0; i < weights.length; i++) c[i] = s += weights[i];
  return c;
}

/**
 * Sorts row [from, to) of (terms, weights) by term. Each pair is packed as term * 2^32 + the
 * weight's bits in a float64 (exact below 2^53) so the typed array's native sort does the work:
 * a comparator callback per pair would dominate generation time at 1M documents.
 */
function sortRow(terms: Uint32Array, weights: Float32Array, from: number, to: number, scratch: Float64Array, bits: Uint32Array): void {
  const n = to - from;
  const wbits = new Uint32Array(weights.buffer, weights.byteOffset, weights.length);
  for (let i = 0; i < n; i++) scratch[i] = terms[from + i] * 4294967296 + wbits[from + i];
  const s = scratch.subarray(0, n).sort();
  for (let i = 0; i < n; i++) {
    const v = s[i];
    const t = Math.floor(v / 4294967296);
    terms[from + i] = t;
    bits[0] = v - t * 4294967296;
    wbits[from + i] = bits[0];
  }
}

interface Model {
  bgCum: Float64Array;
  topicOffsets: Uint32Array;
  topicTerms: Uint32Array;
  topicCum: Float64Array;
  topicPopCum: Float64Array;
}

function buildModel(p: CorpusParams, rng: Prng): Model {
  const V = p.vocab;
  // Background: Zipf over a random permutation of the ids, so frequency is unrelated to id order.
  const perm = new Uint32Array(V);
  for (let i = 0; i < V; i++) perm[i] = i;
  for (let i = V - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  const bg = new Float64Array(V);
  for (let r = 0; r < V; r++) bg[perm[r]] = Math.pow(r + p.zipfOffset, -p.zipfExponent);
  const bgCum = cumulativeOf(bg);

  const flat = new Float64Array(V);
  for (let t = 0; t < V; t++) flat[t] = Math.pow(bg[t], p.topicFlatten);
  const flatCum = cumulativeOf(flat);

  const sizes = new Uint32Array(p.topics);
  let total = 0;
  for (let k = 0; k < p.topics; k++) {
    sizes[k] = Math.max(20, Math.min(4 * p.topicTerms, Math.round(rng.logNormal(p.topicTerms, p.topicTerms / 2))));
    total += sizes[k];
  }
  const topicOffsets = new Uint32Array(p.topics + 1);
  const topicTerms = new Uint32Array(total);
  const topicCum = new Float64Array(total);
  const seen = new Int32Array(V).fill(-1);
  for (let k = 0; k < p.topics; k++) {
    const at = topicOffsets[k];
    let n = 0;
    for (let tries = 0; n < sizes[k] && tries < sizes[k] * 20; tries++) {
      const t = sampleCumulative(flatCum, 0, V, rng.next());
      if (seen[t] === k) continue;
      seen[t] = k;
      topicTerms[at + n] = t;
      // In-topic rank is the draw order: a topic's core terms are not its most frequent overall.
      const w = Math.pow(n + 1, -p.topicZipfExponent);
      topicCum[at + n] = (n > 0 ? topicCum[at + n - 1] : 0) + w;
      n++;
    }
    topicOffsets[k + 1] = at + n;
  }
  const pop = new Float64Array(p.topics);
  for (let k = 0; k < p.topics; k++) pop[k] = Math.pow(k + 1, -p.topicPopularityExponent);
  return { bgCum, topicOffsets, topicTerms: topicTerms.subarray(0, topicOffsets[p.topics]), topicCum, topicPopCum: cumulativeOf(pop) };
}

const MAX_TOPICS_PER_DOC = 3;

export function generateCorpus(params: CorpusParams): Corpus {
  const t0 = performance.now();
  const p = params;
  const rng = new Prng(p.seed);
  const m = buildModel(p, rng);
  const V = p.vocab;
  const stamp = new Int32Array(V).fill(-1);
  const drawTopicTerm = (k: number): number =>
    m.topicTerms[sampleCumulative(m.topicCum, m.topicOffsets[k], m.topicOffsets[k + 1], rng.next())];
  const drawBackground = (): number => sampleCumulative(m.bgCum, 0, V, rng.next());

  // Documents. Lengths first, so the arrays are allocated once at their final upper bound.
  const n = p.docs;
  const docLen = new Uint32Array(n);
  let cap = 0;
  for (let d = 0; d < n; d++) {
    docLen[d] = Math.max(8, Math.min(512, Math.round(rng.logNormal(p.docNnzMean, p.docNnzSd))));
    cap += docLen[d];
  }
  const offsets = new Uint32Array(n + 1);
  const terms = new Uint32Array(cap);
  const weights = new Float32Array(cap);
  const docTopics = new Int32Array(n * MAX_TOPICS_PER_DOC).fill(-1);
  const docMix = new Float32Array(n * MAX_TOPICS_PER_DOC);
  const scratch = new Float64Array(1024);
  const bits = new Uint32Array(1);
  const mixCum = new Float64Array(MAX_TOPICS_PER_DOC);
  let pos = 0;
  for (let d = 0; d < n; d++) {
    const u = rng.next();
    const nt = u < 0.5 ? 1 : u < 0.85 ? 2 : 3;
    let s = 0;
    for (let i = 0; i < nt; i++) {
      docTopics[d * MAX_TOPICS_PER_DOC + i] = sampleCumulative(m.topicPopCum, 0, p.topics, rng.next());
      docMix[d * MAX_TOPICS_PER_DOC + i] = rng.exp1();
      s += docMix[d * MAX_TOPICS_PER_DOC + i];
    }
    let c = 0;
    for (let i = 0; i < nt; i++) {
      docMix[d * MAX_TOPICS_PER_DOC + i] /= s;
      mixCum[i] = c += docMix[d * MAX_TOPICS_PER_DOC + i];
    }
    const len = docLen[d];
    const nTopic = Math.round(len * p.docTopicFraction);
    const start = pos;
    for (let tries = 0; pos - start < nTopic && tries < nTopic * 8; tries++) {
      const k = docTopics[d * MAX_TOPICS_PER_DOC + sampleCumulative(mixCum, 0, nt, rng.next())];
      const t = drawTopicTerm(k);
      if (stamp[t] === d) continue;
      stamp[t] = d;
      terms[pos] = t;
      weights[pos++] = clampWeight(rng.logNormal(p.weightTopic[0], p.weightTopic[1]));
    }
    for (let tries = 0; pos - start < len && tries < len * 8; tries++) {
      const t = drawBackground();
      if (stamp[t] === d) continue;
      stamp[t] = d;
      terms[pos] = t;
      weights[pos++] = clampWeight(rng.logNormal(p.weightBackground[0], p.weightBackground[1]));
    }
    sortRow(terms, weights, start, pos, scratch, bits);
    offsets[d + 1] = pos;
  }
  const docs: Vectors = { offsets, terms: terms.slice(0, pos), weights: weights.slice(0, pos) };

  // Queries, from the same stream (so a seed's corpus and queries are what they always were).
  const sampler: QuerySampler = { p, m, docs, docTopics, docMix };
  const { queries, targets } = drawQueries(sampler, p.queries, rng, null);
  return { params: p, docs, queries, targets, sampler, generateSeconds: (performance.now() - t0) / 1000 };
}

/** What query generation needs from a corpus: its model, documents and their topic mixes. */
export interface QuerySampler {
  p: CorpusParams;
  m: Model;
  docs: Vectors;
  docTopics: Int32Array;
  docMix: Float32Array;
}

/**
 * Another set of `nq` queries over the same documents and topics, from its own seed: the same
 * model as the corpus's own queries, a separate random stream. A query's target document is never
 * one in `excludeTargets` (e.g. another set's targets), so two sets drawn this way share no target
 * and, from different seeds, no query.
 */
export function generateQueries(
  corpus: Corpus,
  nq: number,
  seed: number,
  excludeTargets: Uint32Array | null = null,
): { queries: Vectors; targets: Uint32Array; seed: number } {
  return { ...drawQueries(corpus.sampler, nq, new Prng(seed), excludeTargets), seed };
}

function drawQueries(
  s: QuerySampler,
  nq: number,
  rng: Prng,
  excludeTargets: Uint32Array | null,
): { queries: Vectors; targets: Uint32Array } {
  const { p, m, docTopics, docMix } = s;
  const { offsets, terms, weights } = s.docs;
  const n = offsets.length - 1;
  const V = p.vocab;
  const drawTopicTerm = (k: number): number =>
    m.topicTerms[sampleCumulative(m.topicCum, m.topicOffsets[k], m.topicOffsets[k + 1], rng.next())];
  const drawBackground = (): number => sampleCumulative(m.bgCum, 0, V, rng.next());
  const scratch = new Float64Array(1024);
  const bits = new Uint32Array(1);
  const mixCum = new Float64Array(MAX_TOPICS_PER_DOC);
  const excluded = excludeTargets ? new Set(excludeTargets) : null;
  if (excluded && excluded.size >= n) throw new Error('generateQueries: every document is excluded as a target');
  const qLen = new Uint32Array(nq);
  let qcap = 0;
  for (let q = 0; q < nq; q++) {
    qLen[q] = Math.max(5, Math.min(200, Math.round(rng.logNormal(p.queryNnzMean, p.queryNnzSd))));
    qcap += qLen[q];
  }
  const qOffsets = new Uint32Array(nq + 1);
  const qTerms = new Uint32Array(qcap);
  const qWeights = new Float32Array(qcap);
  const targets = new Uint32Array(nq);
  const qstamp = new Int32Array(V).fill(-1);
  const docCum = new Float64Array(1024);
  let qpos = 0;
  for (let q = 0; q < nq; q++) {
    let d = rng.int(n);
    while (excluded?.has(d)) d = rng.int(n);
    targets[q] = d;
    const a = offsets[d],
      b = offsets[d + 1];
    let c = 0;
    for (let i = a; i < b; i++) docCum[i - a] = c += weights[i];
    let nt = 0,
      cm = 0;
    for (let i = 0; i < MAX_TOPICS_PER_DOC && docTopics[d * MAX_TOPICS_PER_DOC + i] >= 0; i++, nt++)
      mixCum[i] = cm += docMix[d * MAX_TOPICS_PER_DOC + i];
    const len = qLen[q];
    const nDoc = Math.min(b - a, Math.round(len * p.queryDocFraction));
    const nTopic = Math.round(len * p.queryTopicFraction);
    const start = qpos;
    for (let tries = 0; qpos - start < nDoc && tries < nDoc * 8; tries++) {
      const i = a + sampleCumulative(docCum, 0, b - a, rng.next());
      const t = terms[i];
      if (qstamp[t] === q) continue;
      qstamp[t] = q;
      qTerms[qpos] = t;
      // The query's weight follows the document's: a relevant passage's salient terms are the query's.
      qWeights[qpos++] = clampWeight(weights[i] * rng.logNormal(1, 0.35));
    }
    for (let tries = 0; qpos - start < nDoc + nTopic && tries < nTopic * 8; tries++) {
      const k = docTopics[d * MAX_TOPICS_PER_DOC + sampleCumulative(mixCum, 0, nt, rng.next())];
      const t = drawTopicTerm(k);
      if (qstamp[t] === q) continue;
      qstamp[t] = q;
      qTerms[qpos] = t;
      qWeights[qpos++] = clampWeight(rng.logNormal(p.queryWeightTopic[0], p.queryWeightTopic[1]));
    }
    for (let tries = 0; qpos - start < len && tries < len * 8; tries++) {
      const t = drawBackground();
      if (qstamp[t] === q) continue;
      qstamp[t] = q;
      qTerms[qpos] = t;
      qWeights[qpos++] = clampWeight(rng.logNormal(p.queryWeightBackground[0], p.queryWeightBackground[1]));
    }
    sortRow(qTerms, qWeights, start, qpos, scratch, bits);
    qOffsets[q + 1] = qpos;
  }
  const queries: Vectors = { offsets: qOffsets, terms: qTerms.slice(0, qpos), weights: qWeights.slice(0, qpos) };
  return { queries, targets };
}

export interface CorpusStats {
  docs: number;
  queries: number;
  doc_nnz: { mean: number; sd: number; min: number; p50: number; max: number };
  query_nnz: { mean: number; sd: number; min: number; p50: number; max: number };
  /** Terms that occur in at least one document. */
  terms_used: number;
  /** Document frequency (as a fraction of documents) at quantiles over the used terms. */
  df_fraction: { p50: number; p90: number; p99: number; p999: number; max: number };
  /** Share of all postings held by the 1% most frequent terms. */
  top1pct_terms_posting_share: number;
  doc_weight: { mean: number; p10: number; p50: number; p90: number; p99: number; max: number };
  query_weight: { mean: number; p50: number; p90: number; max: number };
  /** Mean fraction of a query's terms that occur in its target document. */
  query_target_overlap: number;
}

function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function lengthStats(offsets: Uint32Array) {
  const n = offsets.length - 1;
  const lens = new Float64Array(n);
  let s = 0,
    s2 = 0;
  for (let i = 0; i < n; i++) {
    lens[i] = offsets[i + 1] - offsets[i];
    s += lens[i];
    s2 += lens[i] * lens[i];
  }
  lens.sort();
  const mean = s / n;
  return { mean, sd: Math.sqrt(Math.max(0, s2 / n - mean * mean)), min: lens[0], p50: quantile(lens, 0.5), max: lens[n - 1] };
}

/** Weight quantiles on a strided sample: exact enough, and cheap on 120M entries. */
function sampleSorted(w: Float32Array, max = 1_000_000): Float32Array {
  const step = Math.max(1, Math.floor(w.length / max));
  const out = new Float32Array(Math.ceil(w.length / step));
  for (let i = 0, j = 0; i < w.length; i += step) out[j++] = w[i];
  return out.sort();
}

export function corpusStats(c: Corpus): CorpusStats {
  const { docs, queries, targets } = c;
  const n = docs.offsets.length - 1;
  const V = c.params.vocab;
  const df = new Float64Array(V);
  for (let i = 0; i < docs.terms.length; i++) df[docs.terms[i]]++;
  const used = Float64Array.from(df.filter((x) => x > 0)).sort();
  const topCount = Math.max(1, Math.round(used.length / 100));
  let top = 0;
  for (let i = used.length - topCount; i < used.length; i++) top += used[i];
  let wsum = 0;
  for (let i = 0; i < docs.weights.length; i++) wsum += docs.weights[i];
  const ws = sampleSorted(docs.weights);
  let qsum = 0;
  for (let i = 0; i < queries.weights.length; i++) qsum += queries.weights[i];
  const qs = Float32Array.from(queries.weights).sort();
  let overlap = 0;
  const nq = queries.offsets.length - 1;
  for (let q = 0; q < nq; q++) {
    const d = targets[q];
    let i = docs.offsets[d],
      hit = 0;
    const e = docs.offsets[d + 1];
    for (let j = queries.offsets[q]; j < queries.offsets[q + 1]; j++) {
      const t = queries.terms[j];
      while (i < e && docs.terms[i] < t) i++;
      if (i < e && docs.terms[i] === t) hit++;
    }
    overlap += hit / Math.max(1, queries.offsets[q + 1] - queries.offsets[q]);
  }
  return {
    docs: n,
    queries: nq,
    doc_nnz: lengthStats(docs.offsets),
    query_nnz: lengthStats(queries.offsets),
    terms_used: used.length,
    df_fraction: {
      p50: quantile(used, 0.5) / n,
      p90: quantile(used, 0.9) / n,
      p99: quantile(used, 0.99) / n,
      p999: quantile(used, 0.999) / n,
      max: used[used.length - 1] / n,
    },
    top1pct_terms_posting_share: top / docs.terms.length,
    doc_weight: {
      mean: wsum / docs.weights.length,
      p10: quantile(ws, 0.1),
      p50: quantile(ws, 0.5),
      p90: quantile(ws, 0.9),
      p99: quantile(ws, 0.99),
      max: ws[ws.length - 1],
    },
    query_weight: { mean: qsum / queries.weights.length, p50: quantile(qs, 0.5), p90: quantile(qs, 0.9), max: qs[qs.length - 1] },
    query_target_overlap: overlap / nq,
  };
}
