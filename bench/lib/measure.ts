// Timing and quality measures shared by the engine runs: per-query latencies on the calling
// thread (medians over repeated passes, as docs/benchmarks.md asks on noisy shared machines),
// recall against the exact oracle, and the exact-match check.
import type { TopK } from '../../index/types.js';
import type { Oracle } from './vectors-io.js';

export interface Timing {
  qps: number;
  p50_ms: number;
  p99_ms: number;
  mean_ms: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * Runs `search(q)` for every query, `reps` timed passes after an optional untimed warm-up pass.
 * QPS is the median over passes of queries / summed search time; latencies are pooled.
 */
export function timeQueries(nq: number, reps: number, search: (q: number) => TopK, warmup = true): { results: TopK[]; timing: Timing } {
  if (warmup) for (let q = 0; q < nq; q++) search(q);
  const results: TopK[] = new Array(nq);
  const lat = new Float64Array(nq * reps);
  const qps: number[] = [];
  for (let r = 0; r < reps; r++) {
    let total = 0;
    for (let q = 0; q < nq; q++) {
      const t0 = process.hrtime.bigint();
      results[q] = search(q);
      const dt = Number(process.hrtime.bigint() - t0) / 1e6;
      lat[r * nq + q] = dt;
      total += dt;
    }
    qps.push(nq / (total / 1000));
  }
  lat.sort();
  let sum = 0;
  for (const x of lat) sum += x;
  return {
    results,
    timing: {
      qps: median(qps),
      p50_ms: lat[Math.floor(lat.length / 2)],
      p99_ms: lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.99))],
      mean_ms: sum / lat.length,
    },
  };
}

/** Median throughput of `reps` whole-batch runs (wall clock), after one warm-up run. */
export async function timeBatch(nq: number, reps: number, run: () => Promise<unknown>): Promise<number> {
  await run();
  const qps: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    await run();
    qps.push(nq / (Number(process.hrtime.bigint() - t0) / 1e9));
  }
  return median(qps);
}

/** Mean over queries of |ids[q][0..k) ∩ oracle top-k| / k. */
export function recallAt(k: number, nq: number, idsOf: (q: number) => ArrayLike<number>, oracle: Oracle): number {
  let total = 0;
  for (let q = 0; q < nq; q++) {
    const truth = new Set<number>();
    for (let i = 0; i < k; i++) {
      const d = oracle.ids[q * oracle.depth + i];
      if (d !== 0xffffffff) truth.add(d);
    }
    const ids = idsOf(q);
    let hit = 0;
    for (let i = 0; i < Math.min(k, ids.length); i++) if (truth.has(ids[i])) hit++;
    total += hit / k;
  }
  return total / nq;
}

export interface OracleMatch {
  matches_oracle: boolean;
  /** Queries whose result differs from the oracle beyond what the rule allows. */
  mismatched_queries: number;
  /** Of those, how many differ only by a swap of documents whose exact scores differ by < 1e-6 relative (float32 rounding). */
  near_tie_only: number;
  max_rel_score_err: number;
  first_mismatch?: { query: number; ours: { doc: number; score: number }[]; oracle: { doc: number; score: number }[] };
}

/**
 * The exact-mode contract: same documents in the same order as the float64 brute-force oracle,
 * scores within 1e-4 relative; order may differ only among documents whose exact scores are
 * exactly equal.
 */
export function matchOracle(k: number, results: TopK[], oracle: Oracle): OracleMatch {
  const D = oracle.depth;
  let bad = 0,
    nearOnly = 0,
    maxRel = 0;
  let first: OracleMatch['first_mismatch'];
  for (let q = 0; q < results.length; q++) {
    const r = results[q];
    const m = oracle.ids.subarray(q * D, q * D + D);
    const s = oracle.scores.subarray(q * D, q * D + D);
    let expect = 0;
    while (expect < Math.min(k, D) && m[expect] !== 0xffffffff) expect++;
    let ok = r.docs.length === expect,
      near = ok;
    for (let i = 0; i < Math.min(r.docs.length, expect); i++) {
      const rel = Math.abs(r.scores[i] - s[i]) / Math.max(Math.abs(s[i]), 1e-30);
      maxRel = Math.max(maxRel, rel);
      if (rel > 1e-4) ok = near = false;
      if (r.docs[i] === m[i]) continue;
      const j = m.indexOf(r.docs[i]);
      if (j >= 0 && s[j] === s[i]) continue;
      ok = false;
      if (!(j >= 0 && Math.abs(s[j] - s[i]) <= 1e-6 * Math.abs(s[i]))) near = false;
    }
    if (!ok) {
      bad++;
      if (near) nearOnly++;
      first ??= {
        query: q,
        ours: Array.from(r.docs, (d, i) => ({ doc: d, score: r.scores[i] })),
        oracle: Array.from(m.subarray(0, k), (d, i) => ({ doc: d, score: s[i] })),
      };
    }
  }
  return {
    matches_oracle: bad === 0,
    mismatched_queries: bad,
    near_tie_only: nearOnly,
    max_rel_score_err: maxRel,
    ...(first ? { first_mismatch: first } : {}),
  };
}
