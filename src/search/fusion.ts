// Fusion of ranked lists from several retrievers into one ranking: reciprocal rank fusion (RRF),
// convex combination of normalized scores (OpenSearch's normalization processor) and
// distribution-based score fusion (Qdrant's DBSF). Pure functions over plain arrays, so they are
// tested against hand-computed values and reused by the evaluation harness.
//
// Semantics shared by every method (docs/search.md states them for users):
// - A list is one retriever's answer, best first: rank = position + 1, whatever its scores say.
// - A document missing from a list gets nothing from it: in RRF that term of the sum is absent, in
//   convex and DBSF its normalized score from that list is 0 (as OpenSearch does).
// - Ties of the fused score are broken by the best (lowest) rank the document has in any list, then
//   by key ascending (for the service: the document number, i.e. indexing order), so the same inputs
//   always give the same order.

/** One retriever's ranked list. `keys[i]` has score `scores[i]`; the list is best first. */
export interface RankedList<K> {
  name: string;
  keys: ArrayLike<K>;
  scores: ArrayLike<number>;
  /** Multiplier of this list's contribution; default 1. Finite, >= 0. */
  weight?: number;
}

export const FUSION_METHODS = ['rrf', 'convex', 'dbsf'] as const;
export type FusionMethod = (typeof FUSION_METHODS)[number];
export const NORMALIZATIONS = ['min_max', 'z_score', 'l2'] as const;
export type Normalization = (typeof NORMALIZATIONS)[number];

/** RRF's rank constant when none is given (Cormack, Clarke & Büttcher 2009; Elasticsearch's default). */
export const DEFAULT_RRF_K = 60;
/** Convex combination's normalization when none is given (OpenSearch's default). */
export const DEFAULT_NORMALIZATION: Normalization = 'min_max';
/**
 * OpenSearch gives a listed document at least this normalized score (min-max's lowest, a z-score
 * at or below the mean, an all-zero list under L2), so it still outranks a document that is absent.
 */
export const MIN_NORMALIZED = 0.001;

export type FusionSpec =
  | { method: 'rrf'; k?: number }
  | { method: 'convex'; normalization?: Normalization }
  | { method: 'dbsf'; clip?: boolean };

/** What one list gave one fused document. */
export interface SourceDetail {
  /** 1-based rank in that list; null when the document is not in it. */
  rank: number | null;
  /** The retriever's own score; null when absent. */
  score: number | null;
  /** The score after the method's normalization; null when absent and for RRF (which has none). */
  normalized: number | null;
  /** What this list added to the fused score (0 when absent). */
  contribution: number;
}

export interface FusedHit<K> {
  key: K;
  score: number;
  /** One entry per input list, in input order. */
  sources: SourceDetail[];
}

// ---------------------------------------------------------------------------------------------
// Normalizations of one list's scores. Each returns a new array of the same length.

/**
 * Min-max as OpenSearch: (s − min) / (max − min); the lowest becomes MIN_NORMALIZED rather than 0;
 * a list whose scores are all equal (one hit included) gives 1 to each.
 */
export function minMax(scores: ArrayLike<number>): number[] {
  const n = scores.length;
  if (n === 0) return [];
  let lo = Infinity,
    hi = -Infinity;
  for (let i = 0; i < n; i++) {
    lo = Math.min(lo, scores[i]);
    hi = Math.max(hi, scores[i]);
  }
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    if (hi === lo) out[i] = 1;
    else {
      const v = (scores[i] - lo) / (hi - lo);
      out[i] = v === 0 ? MIN_NORMALIZED : v;
    }
  }
  return out;
}

/** Mean and sample standard deviation (n − 1 denominator, as Apache Commons' and Qdrant's); sd 0 for n < 2. */
export function meanAndSd(scores: ArrayLike<number>): { mean: number; sd: number } {
  const n = scores.length;
  if (n === 0) return { mean: 0, sd: 0 };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += scores[i];
  const mean = sum / n;
  if (n < 2) return { mean, sd: 0 };
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (scores[i] - mean) ** 2;
  return { mean, sd: Math.sqrt(ss / (n - 1)) };
}

/**
 * Z-score as OpenSearch: (s − mean) / sd, sd the sample standard deviation; a value at or below 0
 * becomes MIN_NORMALIZED (OpenSearch combines z-scores with the arithmetic mean, which needs them
 * positive); a list whose scores are all equal (one hit included) gives 1 to each.
 */
export function zScore(scores: ArrayLike<number>): number[] {
  const { mean, sd } = meanAndSd(scores);
  const out = new Array<number>(scores.length);
  for (let i = 0; i < scores.length; i++) {
    if (sd === 0) out[i] = 1;
    else {
      const z = (scores[i] - mean) / sd;
      out[i] = z <= 0 ? MIN_NORMALIZED : z;
    }
  }
  return out;
}

/** L2 as OpenSearch: s / sqrt(Σ s²) over the list; an all-zero list gives MIN_NORMALIZED to each. */
export function l2(scores: ArrayLike<number>): number[] {
  let ss = 0;
  for (let i = 0; i < scores.length; i++) ss += scores[i] * scores[i];
  const norm = Math.sqrt(ss);
  const out = new Array<number>(scores.length);
  for (let i = 0; i < scores.length; i++) out[i] = norm === 0 ? MIN_NORMALIZED : scores[i] / norm;
  return out;
}

/**
 * DBSF's normalization (Qdrant's `distr_norm`): (s − (mean − 3·sd)) / (6·sd) with the sample
 * standard deviation; a list of one hit, or whose scores are all equal, gives 0.5 to each. Qdrant
 * does not clip, so a score beyond 3 sd maps above 1 (or below 0) and keeps its order; with `clip`
 * values are clipped to [0, 1], which ties every outlier at 1 (on SciFact with windows of 1000 that
 * ties the top ~16 documents of each list and costs most of nDCG@10: bench/results/hybrid-scifact).
 */
export function distribution(scores: ArrayLike<number>, clip = false): number[] {
  const { mean, sd } = meanAndSd(scores);
  const lo = mean - 3 * sd;
  const out = new Array<number>(scores.length);
  for (let i = 0; i < scores.length; i++) {
    if (sd === 0) out[i] = 0.5;
    else {
      const v = (scores[i] - lo) / (6 * sd);
      out[i] = clip ? Math.min(1, Math.max(0, v)) : v;
    }
  }
  return out;
}

export function normalize(scores: ArrayLike<number>, how: Normalization): number[] {
  switch (how) {
    case 'min_max':
      return minMax(scores);
    case 'z_score':
      return zScore(scores);
    case 'l2':
      return l2(scores);
  }
}

// ---------------------------------------------------------------------------------------------

function defaultCompare<K>(a: K, b: K): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Fuses `lists` with `spec`:
 *
 * - `rrf`: score(d) = Σ over lists containing d of weight / (k + rank), k default 60.
 * - `convex`: score(d) = Σ weight · n(d) / Σ weight over all lists, n the list's normalization
 *   (min_max default, z_score, l2) and n(d) = 0 where d is absent; with weights summing to 1 this is
 *   OpenSearch's arithmetic_mean combination exactly.
 * - `dbsf`: score(d) = Σ weight · n(d), n DBSF's 3-sigma normalization (clipped to [0, 1] with
 *   `clip`), 0 where absent.
 *
 * Returns every document of any list, best first (ties: best rank in any list, then `compare` on
 * keys, ascending). Parameters must already be valid (see hybrid.ts for the request's checks);
 * this throws a plain Error on a programming mistake such as a key twice in one list.
 */
export function fuse<K>(
  lists: readonly RankedList<K>[],
  spec: FusionSpec,
  compare: (a: K, b: K) => number = defaultCompare,
): FusedHit<K>[] {
  const m = lists.length;
  const weights = lists.map((l) => l.weight ?? 1);
  let divisor = 1;
  if (spec.method === 'convex') {
    divisor = weights.reduce((a, b) => a + b, 0);
    if (!(divisor > 0)) throw new Error('convex fusion needs a positive sum of weights');
  }
  const rrfK = spec.method === 'rrf' ? (spec.k ?? DEFAULT_RRF_K) : 0;

  const byKey = new Map<K, FusedHit<K> & { best: number }>();
  lists.forEach((list, li) => {
    const n = list.keys.length;
    if (list.scores.length !== n) throw new Error(`list '${list.name}': ${n} keys but ${list.scores.length} scores`);
    const normalized =
      spec.method === 'convex'
        ? normalize(list.scores, spec.normalization ?? DEFAULT_NORMALIZATION)
        : spec.method === 'dbsf'
          ? distribution(list.scores, spec.clip ?? false)
          : null;
    for (let i = 0; i < n; i++) {
      const key = list.keys[i];
      let hit = byKey.get(key);
      if (!hit) {
        hit = { key, score: 0, best: Infinity, sources: lists.map(() => ({ rank: null, score: null, normalized: null, contribution: 0 })) };
        byKey.set(key, hit);
      }
      const src = hit.sources[li];
      if (src.rank !== null) throw new Error(`list '${list.name}' holds key ${String(key)} twice`);
      const rank = i + 1;
      src.rank = rank;
      src.score = list.scores[i];
      if (normalized) {
        src.normalized = normalized[i];
        src.contribution = (weights[li] * normalized[i]) / divisor;
      } else {
        src.contribution = weights[li] / (rrfK + rank);
      }
      hit.best = Math.min(hit.best, rank);
    }
  });

  const hits = [...byKey.values()];
  // Sum in list order, so a document's score does not depend on the order lists were visited.
  for (const h of hits) {
    let s = 0;
    for (let li = 0; li < m; li++) s += h.sources[li].contribution;
    h.score = s;
  }
  hits.sort((a, b) => b.score - a.score || a.best - b.best || compare(a.key, b.key));
  return hits.map(({ key, score, sources }) => ({ key, score, sources }));
}
