// `lsr eval --tune`: fusion parameters chosen by k-fold cross-validation over the judged queries,
// so the figure reported never saw the judgments of the queries it scores.
//
// The queries are shuffled with a seeded PRNG and dealt into `folds` folds. For each fold, every
// candidate setting is scored (mean nDCG@10) on the other folds' queries only, the best is kept
// (ties: the earlier candidate in the grid), and the fold's queries are fused with it. The run made
// of every fold's own answers is evaluated like any other run: that is the tuned figure. The
// setting chosen on all queries is printed too (what a collection would keep as its default), but
// its score on those same queries is not reported as a result.
//
// Candidates: convex fusion under each normalization (min_max, z_score, l2) with weights on a
// simplex grid (step 0.1 by default: weights i × 0.1 summing to 1; only their ratios matter), and
// RRF with equal weights and k in RRF_KS. Each member's list is what that retriever alone returns for the query with the fusion's window, so fusing them here gives what the
// service's hybrid search gives (search/fusion.ts is the same code).
import { fuse, normalize, NORMALIZATIONS, type FusionSpec, type Normalization, type RankedList } from '../search/fusion.js';
import { mulberry32 } from './prng.js';
import type { Qrels, Run } from './types.js';

/** RRF rank constants tried. */
export const RRF_KS = [1, 2, 5, 10, 20, 30, 40, 60, 80, 100, 150, 200] as const;

export interface TuneOptions {
  folds?: number;
  seed?: number;
  /** Weight grid step, 1 / an integer. Default 0.1. */
  step?: number;
  /** `convex`, `rrf`, or both (default). */
  methods?: readonly ('convex' | 'rrf')[];
}

/** One candidate setting. */
export interface FusionSetting {
  method: 'convex' | 'rrf';
  normalization?: Normalization;
  k?: number;
  /** Member -> weight. */
  weights: Record<string, number>;
}

export interface FoldChoice {
  fold: number;
  /** Queries scored in this fold (the others trained it). */
  queries: number;
  setting: FusionSetting;
  /** Mean nDCG@10 of the setting on the training queries. */
  train_ndcg_cut_10: number;
}

export interface TuneResult {
  members: string[];
  folds: FoldChoice[];
  /** The cross-validated run: each query fused with its own fold's choice. */
  run: Run;
  /** The setting the grid picks on every query (for a collection's default; not a result). */
  all: FusionSetting;
}

/** Members' lists for one query: ids best first with scores, one list per member in member order. */
export type MemberLists = Map<string, RankedList<string>[]>;

/** Every weight vector of `m` members on the simplex grid of `step` (weights i × step summing to 1). */
export function weightGrid(m: number, step: number): number[][] {
  const n = Math.round(1 / step);
  if (!(n >= 1) || Math.abs(n * step - 1) > 1e-9) throw new Error(`step must be 1 / a positive integer, got ${step}`);
  const out: number[][] = [];
  const rec = (prefix: number[], left: number) => {
    if (prefix.length === m - 1) {
      out.push([...prefix, left].map((x) => Number((x / n).toFixed(6))));
      return;
    }
    for (let i = left; i >= 0; i--) rec([...prefix, i], left - i);
  };
  rec([], n);
  return out;
}

/** The candidate settings, in grid order. */
export function candidates(members: string[], opts: TuneOptions = {}): FusionSetting[] {
  const methods = opts.methods ?? ['convex', 'rrf'];
  const out: FusionSetting[] = [];
  const w = (v: number[]) => Object.fromEntries(members.map((m, i) => [m, v[i]]));
  if (methods.includes('convex'))
    for (const normalization of NORMALIZATIONS)
      for (const v of weightGrid(members.length, opts.step ?? 0.1)) out.push({ method: 'convex', normalization, weights: w(v) });
  if (methods.includes('rrf'))
    for (const k of RRF_KS)
      out.push({
        method: 'rrf',
        k,
        weights: w(members.map(() => 1)),
      });
  return out;
}

export function specOf(s: FusionSetting): FusionSpec {
  return s.method === 'rrf' ? { method: 'rrf', k: s.k } : { method: 'convex', normalization: s.normalization };
}

/** The setting as a retriever spec's keys (`convex:a+b,norm=z_score,w.a=0.3,w.b=0.7`). */
export function settingSpec(members: string[], s: FusionSetting): string {
  const head = `${s.method}:${members.join('+')}`;
  const keys = s.method === 'rrf' ? [`k=${s.k}`] : [`norm=${s.normalization}`, ...members.map((m) => `w.${m}=${s.weights[m]}`)];
  return [head, ...keys].join(',');
}

/** nDCG@10 of a ranking (trec_eval's: linear gains, log2 discount, ideal from the judgments). */
function ndcg10(ranked: readonly string[], judgments: Map<string, number>, idcg: number): number {
  if (idcg <= 0) return 0;
  let dcg = 0;
  for (let i = 0; i < Math.min(10, ranked.length); i++) {
    const g = judgments.get(ranked[i]);
    if (g !== undefined && g > 0) dcg += g / Math.log2(i + 2);
  }
  return dcg / idcg;
}

function idealDcg(judgments: Map<string, number>): number {
  const gains = [...judgments.values()].filter((g) => g > 0).sort((a, b) => b - a);
  let s = 0;
  for (let i = 0; i < Math.min(10, gains.length); i++) s += gains[i] / Math.log2(i + 2);
  return s;
}

/**
 * Per query, the union of the members' documents with what each member gives it under each
 * normalization (0 where absent) and its rank in each member (Infinity where absent): the scores
 * of every candidate are then a few multiplications per document.
 */
interface Prepared {
  ids: string[];
  /** [normalization][member][doc] normalized score, 0 where absent. */
  norm: Map<Normalization, Float64Array[]>;
  /** [member][doc] 1-based rank, Infinity where absent. */
  rank: Float64Array[];
  best: Float64Array;
}

function prepare(lists: RankedList<string>[]): Prepared {
  const index = new Map<string, number>();
  for (const l of lists) for (let i = 0; i < l.keys.length; i++) if (!index.has(l.keys[i])) index.set(l.keys[i], index.size);
  const n = index.size;
  const ids = [...index.keys()];
  const rank = lists.map((l) => {
    const r = new Float64Array(n).fill(Infinity);
    for (let i = 0; i < l.keys.length; i++) r[index.get(l.keys[i])!] = i + 1;
    return r;
  });
  const best = new Float64Array(n).fill(Infinity);
  for (const r of rank) for (let d = 0; d < n; d++) best[d] = Math.min(best[d], r[d]);
  const norm = new Map<Normalization, Float64Array[]>();
  for (const how of NORMALIZATIONS)
    norm.set(
      how,
      lists.map((l) => {
        const v = normalize(l.scores, how);
        const out = new Float64Array(n);
        for (let i = 0; i < l.keys.length; i++) out[index.get(l.keys[i])!] = v[i];
        return out;
      }),
    );
  return { ids, norm, rank, best };
}

/** Top 10 ids by score, ties as fuse() breaks them (best rank, then id). */
function top10(p: Prepared, score: Float64Array): string[] {
  const top: number[] = [];
  const better = (a: number, b: number) =>
    score[a] !== score[b] ? score[a] > score[b] : p.best[a] !== p.best[b] ? p.best[a] < p.best[b] : p.ids[a] < p.ids[b];
  for (let d = 0; d < p.ids.length; d++) {
    if (top.length === 10 && !better(d, top[9])) continue;
    let i = Math.min(top.length, 9);
    if (top.length < 10) top.push(d);
    else top[9] = d;
    while (i > 0 && better(d, top[i - 1])) {
      top[i] = top[i - 1];
      i--;
    }
    top[i] = d;
  }
  return top.map((d) => p.ids[d]);
}

function scoreOf(p: Prepared, s: FusionSetting, members: string[]): Float64Array {
  const n = p.ids.length;
  const out = new Float64Array(n);
  members.forEach((m, j) => {
    const w = s.weights[m];
    if (w === 0) return;
    if (s.method === 'convex') {
      const v = p.norm.get(s.normalization!)![j];
      for (let d = 0; d < n; d++) out[d] += w * v[d];
    } else {
      const r = p.rank[j];
      for (let d = 0; d < n; d++) if (r[d] !== Infinity) out[d] += w / (s.k! + r[d]);
    }
  });
  return out;
}

/** Deals the query ids into `folds` folds after a seeded shuffle. */
export function dealFolds(qids: readonly string[], folds: number, seed: number): string[][] {
  const rnd = mulberry32(seed);
  const q = [...qids];
  for (let i = q.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [q[i], q[j]] = [q[j], q[i]];
  }
  return Array.from({ length: folds }, (_, f) => q.filter((_, i) => i % folds === f));
}

/**
 * Cross-validated fusion tuning (see the file comment). `lists` holds every judged query's member
 * lists; queries without judgments are ignored; `depth` is how many fused hits the run keeps.
 */
export function tuneFusion(members: string[], lists: MemberLists, qrels: Qrels, depth: number, opts: TuneOptions = {}): TuneResult {
  const folds = opts.folds ?? 5;
  if (!Number.isInteger(folds) || folds < 2) throw new Error(`folds must be an integer >= 2, got ${folds}`);
  const qids = [...qrels.keys()].filter((q) => (qrels.get(q)?.size ?? 0) > 0);
  if (qids.length < folds) throw new Error(`${qids.length} judged queries cannot make ${folds} folds`);
  const grid = candidates(members, opts);
  // [candidate][query] nDCG@10.
  const scores = grid.map(() => new Float64Array(qids.length));
  qids.forEach((q, qi) => {
    const l = lists.get(q) ?? members.map((name) => ({ name, keys: [], scores: [] }));
    const p = prepare(l);
    const judgments = qrels.get(q)!;
    const idcg = idealDcg(judgments);
    grid.forEach((s, si) => {
      scores[si][qi] = ndcg10(top10(p, scoreOf(p, s, members)), judgments, idcg);
    });
  });
  const pick = (train: Set<number>) => {
    let best = 0,
      bestMean = -Infinity;
    grid.forEach((_, si) => {
      let sum = 0;
      for (const qi of train) sum += scores[si][qi];
      const mean = sum / train.size;
      if (mean > bestMean + 1e-12) {
        best = si;
        bestMean = mean;
      }
    });
    return { setting: grid[best], mean: bestMean };
  };
  const position = new Map(qids.map((q, i) => [q, i]));
  const dealt = dealFolds(qids, folds, opts.seed ?? 42);
  const run: Run = new Map();
  const choices: FoldChoice[] = dealt.map((test, f) => {
    const testSet = new Set(test);
    const train = new Set(qids.filter((q) => !testSet.has(q)).map((q) => position.get(q)!));
    const { setting, mean } = pick(train);
    for (const q of test) {
      const l = (lists.get(q) ?? []).map((x) => ({ ...x, weight: setting.weights[x.name] }));
      const fused = fuse(l, specOf(setting)).slice(0, depth);
      run.set(q, new Map(fused.map((h) => [h.key, h.score])));
    }
    return { fold: f + 1, queries: test.length, setting, train_ndcg_cut_10: mean };
  });
  return { members, folds: choices, run, all: pick(new Set(qids.map((_, i) => i))).setting };
}
