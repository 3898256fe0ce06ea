// Retrieval metrics computed exactly as trec_eval (and pytrec_eval, which embeds it) computes them.
// Conventions reproduced here, each checked against pytrec-eval-terrier by test/eval/conformance:
//  - Ranking ignores any rank column: documents are ordered by score descending, scores compared
//    after conversion to 32-bit float (trec_eval keeps `sim` as a C float), ties broken by docno
//    in *descending* strcmp (UTF-8 byte) order.
//  - A judged document with relevance ≥ `relevanceLevel` (default 1) is relevant for the binary
//    measures; relevance ≤ 0 never is. Negative judgments count as "in pool, unjudged" and add no
//    gain to nDCG, neither to the run nor to the ideal ranking.
//  - ndcg_cut gain is the relevance value itself (linear), discount log2(rank + 1), ideal ranking
//    built from all judged documents of the query whatever the relevance level.
//  - P@k divides by k even when fewer than k documents were retrieved; Recall@k and MAP divide by
//    the number of relevant judged documents and are 0 when there are none.
//  - Queries of the run without judgments are ignored. Queries with judgments but no run entry are
//    ignored by trec_eval's default and count as 0 with its `-c` flag (see `AverageOver`).

import type { PerQuery, Qrels, Run } from './types.js';

/** Measure families. `recip_rank` with a cutoff is MRR@k (what Pyserini gets with `-M k -m recip_rank`). */
export type MeasureFamily = 'ndcg_cut' | 'recall' | 'P' | 'recip_rank' | 'map' | 'map_cut';

/** One measure: a family and, for the cut families, a rank cutoff k ≥ 1. */
export interface Measure {
  family: MeasureFamily;
  /** Rank cutoff; absent for `map` and uncut `recip_rank`. */
  k?: number;
}

/** The measures `lsr eval` reports by default, in report order. */
export const DEFAULT_MEASURES: readonly string[] = [
  'ndcg_cut_10',
  'recall_100',
  'recip_rank_10',
  'map',
  'P_10',
  'recall_10',
  'ndcg_cut_100',
  'map_cut_10',
];

const CUT_FAMILIES: readonly MeasureFamily[] = ['ndcg_cut', 'recall', 'P', 'map_cut'];

/**
 * Parses a measure name as trec_eval prints it (`ndcg_cut_10`, `P_5`, `recall_100`, `map`,
 * `map_cut_10`, `recip_rank`) plus `recip_rank_10` for MRR@10. Throws on anything else.
 */
export function parseMeasure(name: string): Measure {
  if (name === 'map') return { family: 'map' };
  if (name === 'recip_rank') return { family: 'recip_rank' };
  const m = /^(ndcg_cut|recall|P|map_cut|recip_rank)_(\d+)$/.exec(name);
  if (!m) throw new Error(`unknown measure "${name}" (expected e.g. ndcg_cut_10, recall_100, P_10, recip_rank_10, map, map_cut_10)`);
  const k = Number(m[2]);
  if (!Number.isSafeInteger(k) || k < 1) throw new Error(`measure "${name}": cutoff must be a positive integer`);
  return { family: m[1] as MeasureFamily, k };
}

/** The name trec_eval prints for a measure (`ndcg_cut_10`, `map`, ...). */
export function measureName(m: Measure): string {
  return m.k === undefined ? m.family : `${m.family}_${m.k}`;
}

/**
 * Expands a trec_eval `-m` style spec (`ndcg_cut.10,100`, `P.5`, `map`) into measure names.
 * A plain name such as `ndcg_cut_10` passes through unchanged.
 */
export function expandMeasureSpec(spec: string): string[] {
  const dot = spec.indexOf('.');
  if (dot < 0) {
    parseMeasure(spec);
    return [spec];
  }
  const family = spec.slice(0, dot);
  const names = spec
    .slice(dot + 1)
    .split(',')
    .map((k) => `${family}_${k.trim()}`);
  for (const n of names) {
    const parsed = parseMeasure(n);
    if (!CUT_FAMILIES.includes(parsed.family) && parsed.family !== 'recip_rank') {
      throw new Error(`measure "${family}" takes no cutoff`);
    }
  }
  return names;
}

/**
 * Compares two strings the way C's strcmp compares their UTF-8 bytes (code point order), which
 * differs from JavaScript's UTF-16 order only for astral characters against U+E000–U+FFFF.
 * Returns a negative number, 0 or a positive number.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca !== cb) {
      // Both strings agree before i, so code points at i start at the same boundary (or both
      // are trailing surrogates, which order the same either way).
      return (a.codePointAt(i) as number) - (b.codePointAt(i) as number);
    }
  }
  return a.length - b.length;
}

/**
 * Orders a query's results as trec_eval does: score descending after rounding to 32-bit float,
 * ties by docno descending in byte order. Returns document ids, best first. NaN scores sort
 * last (trec_eval's comparisons treat them as equal to everything; we make them deterministic).
 */
export function rankDocuments(scores: Map<string, number>): string[] {
  const entries: Array<[string, number]> = [];
  for (const [doc, s] of scores) entries.push([doc, Number.isNaN(s) ? -Infinity : Math.fround(s)]);
  entries.sort((x, y) => {
    if (x[1] > y[1]) return -1;
    if (x[1] < y[1]) return 1;
    return compareUtf8(y[0], x[0]);
  });
  return entries.map((e) => e[0]);
}

/** Options of `evaluate`. */
export interface EvaluateOptions {
  /** Smallest judgment value that counts as relevant for binary measures; default 1 (trec_eval's `-l`). */
  relevanceLevel?: number;
  /**
   * Which queries get a value and enter the mean:
   *  - `'run'` (trec_eval default, pytrec_eval): queries with judgments that appear in the run,
   *    even with an empty result list;
   *  - `'qrels'` (trec_eval `-c`, what Pyserini/Anserini BEIR regressions use): every query with
   *    judgments; one missing from the run scores 0 on every measure.
   * Default `'qrels'`.
   */
  averageOver?: 'run' | 'qrels';
}

/** Result of `evaluate`: per-query values and their means, keyed by measure name. */
export interface EvaluationResult {
  measures: string[];
  perQuery: PerQuery;
  mean: Record<string, number>;
  /** Number of queries averaged over. */
  numQueries: number;
}

/**
 * Computes the values of `measures` for one query from its ranked document ids and judgments.
 * `ranked` must already be in trec_eval order (see `rankDocuments`).
 */
export function evaluateQuery(
  ranked: readonly string[],
  judgments: Map<string, number>,
  measures: readonly Measure[],
  relevanceLevel = 1,
): Record<string, number> {
  // Relevance of each retrieved document; unjudged → undefined.
  const rels = ranked.map((d) => judgments.get(d));
  let numRel = 0;
  const positiveGains: number[] = [];
  for (const r of judgments.values()) {
    if (r >= relevanceLevel && r >= 0) numRel++;
    if (r > 0) positiveGains.push(r);
  }
  positiveGains.sort((a, b) => b - a);
  const isRel = (r: number | undefined): boolean => r !== undefined && r >= 0 && r >= relevanceLevel;

  const out: Record<string, number> = {};
  for (const m of measures) {
    const name = measureName(m);
    const k = m.k ?? Infinity;
    const limit = Math.min(k, rels.length);
    switch (m.family) {
      case 'ndcg_cut': {
        let dcg = 0;
        for (let i = 0; i < limit; i++) {
          const g = rels[i];
          if (g !== undefined && g > 0) dcg += g / Math.log2(i + 2);
        }
        let idcg = 0;
        const il = Math.min(k, positiveGains.length);
        for (let i = 0; i < il; i++) idcg += positiveGains[i] / Math.log2(i + 2);
        out[name] = idcg > 0 ? dcg / idcg : 0;
        break;
      }
      case 'recall': {
        let hit = 0;
        for (let i = 0; i < limit; i++) if (isRel(rels[i])) hit++;
        out[name] = numRel > 0 ? hit / numRel : 0;
        break;
      }
      case 'P': {
        let hit = 0;
        for (let i = 0; i < limit; i++) if (isRel(rels[i])) hit++;
        out[name] = hit / (m.k as number);
        break;
      }
      case 'recip_rank': {
        let v = 0;
        for (let i = 0; i < limit; i++) {
          if (isRel(rels[i])) {
            v = 1 / (i + 1);
            break;
          }
        }
        out[name] = v;
        break;
      }
      case 'map':
      case 'map_cut': {
        let hit = 0;
        let sum = 0;
        for (let i = 0; i < limit; i++) {
          if (isRel(rels[i])) {
            hit++;
            sum += hit / (i + 1);
          }
        }
        out[name] = numRel > 0 ? sum / numRel : 0;
        break;
      }
    }
  }
  return out;
}

/**
 * Evaluates a run against judgments. `measureNames` are trec_eval names (see `parseMeasure`),
 * default `DEFAULT_MEASURES`. Queries are reported in qrels order. A query present in the qrels
 * with no judgment lines cannot exist in this representation only if its map is empty; such a
 * query is treated as unjudged (skipped), like pytrec_eval.
 */
export function evaluate(
  qrels: Qrels,
  run: Run,
  measureNames: readonly string[] = DEFAULT_MEASURES,
  options: EvaluateOptions = {},
): EvaluationResult {
  const measures = measureNames.map(parseMeasure);
  const relevanceLevel = options.relevanceLevel ?? 1;
  const averageOver = options.averageOver ?? 'qrels';
  const perQuery: PerQuery = new Map();
  for (const [qid, judgments] of qrels) {
    if (judgments.size === 0) continue;
    const scores = run.get(qid);
    if (scores === undefined && averageOver === 'run') continue;
    const ranked = scores ? rankDocuments(scores) : [];
    perQuery.set(qid, evaluateQuery(ranked, judgments, measures, relevanceLevel));
  }
  const mean: Record<string, number> = {};
  for (const m of measureNames) {
    let s = 0;
    for (const v of perQuery.values()) s += v[m];
    mean[m] = perQuery.size > 0 ? s / perQuery.size : 0;
  }
  return { measures: [...measureNames], perQuery, mean, numQueries: perQuery.size };
}
