// bench:dense — the dense engine (exact f32, exact i8, HNSW) beside hnswlib on one seeded synthetic
// set of normalized, clustered vectors.
//
//   npm run bench:dense -- --docs 100000 --dim 384 --queries 1000 [--json] [--no-peers]
//
// One process tree, one data set, one machine. Every search is timed on one thread, search only,
// medians over repeated passes (docs/benchmarks.md); builds use --build-threads for both systems.
// Every recall@10 (ours exact f32, exact i8, HNSW at each ef, and hnswlib's) is against a float64
// numpy brute-force inner-product top-10 over every query (bench/peers/dense-oracle.py), which runs
// whether or not a peer does; without numpy the bench says so and every recall is null. Our exact
// f32 results are checked against that oracle (same documents, same order, scores within 1e-4) as
// returned by the path that is timed, search() one query at a time, for every query (the first
// --exact-queries are timed, the rest are run through the same call untimed). No settings are
// chosen here (every ef is reported), so there is no tuning query set. With --json the last line of
// stdout is one JSON object.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DenseIndex, type DenseSearchOptions } from '../index/dense-index.js';
import { native } from '../index/native.js';
import type { TopK } from '../index/types.js';
import { matchOracle, recallAt, timeBatch, timeQueries, type Timing } from './lib/measure.js';
import { ensurePython, runPeer } from './lib/peers.js';
import { Prng } from './lib/prng.js';
import { table, type Cell } from './lib/table.js';
import { readIds, readOracle, type Oracle } from './lib/vectors-io.js';

const { values: args } = parseArgs({
  options: {
    docs: { type: 'string', default: '100000' },
    dim: { type: 'string', default: '384' },
    queries: { type: 'string', default: '1000' },
    // Exact search reads every vector per query (150 MB at 100K x 384 f32): timing fewer queries
    // keeps the run short without changing its per-query cost. Every query is still run (untimed
    // past this count) through the same search() call and checked.
    'exact-queries': { type: 'string', default: '200' },
    seed: { type: 'string', default: '7' },
    clusters: { type: 'string', default: '100' },
    subclusters: { type: 'string', default: '1' },
    // Norm of the isotropic noise next to the centre's 1 and the sub-centre's 0.6.
    noise: { type: 'string', default: '1.0' },
    k: { type: 'string', default: '10' },
    reps: { type: 'string', default: '3' },
    m: { type: 'string', default: '16' },
    'ef-construction': { type: 'string', default: '200' },
    efs: { type: 'string', default: '16,32,64,128,256' },
    'build-threads': { type: 'string', default: '2' },
    // Also build and walk HNSW over i8 rows.
    'no-hnsw-i8': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    'no-peers': { type: 'boolean', default: false },
    'no-install': { type: 'boolean', default: false },
    'peer-timeout': { type: 'string', default: '1800' },
  },
  strict: true,
});

const N = Number(args.docs);
const DIM = Number(args.dim);
const NQ = Number(args.queries);
const NQ_EXACT = Math.min(NQ, Number(args['exact-queries']));
const K = Number(args.k);
const REPS = Number(args.reps);
const M = Number(args.m);
const EFC = Number(args['ef-construction']);
const EFS = args.efs.split(',').map(Number);
const BUILD_THREADS = Number(args['build-threads']);

const log = (s: string) => process.stderr.write(`${s}\n`);
const out = (s: string) => process.stdout.write(`${s}\n`);

/**
 * Unit vectors from a two-level mixture: `clusters` centres, each with `subclusters` sub-centres,
 * plus isotropic noise (norms 1 : 0.6 : --noise before normalizing). Queries are further draws from
 * the same mixture (not copies of documents). The defaults (100 clusters, no sub-clusters, noise
 * as large as the centre) put each query's top-10 among the ~1000 documents of its cluster, ordered
 * by the noise: tighter settings were tried first and gave recall@10 >= 0.99 at ef 16 (a graph
 * with nothing to do); uniform random vectors would have no neighbourhoods at all.
 */
function generate(n: number, nq: number, dim: number, seed: number) {
  const rng = new Prng(seed);
  const C = Number(args.clusters),
    S = Number(args.subclusters),
    NOISE = Number(args.noise);
  const gaussVec = (norm: number) => {
    const v = new Float32Array(dim);
    for (let j = 0; j < dim; j++) v[j] = (rng.normal() * norm) / Math.sqrt(dim);
    return v;
  };
  const centres = Array.from({ length: C }, () => gaussVec(1));
  const subs = Array.from({ length: C * S }, () => gaussVec(0.6));
  const draw = (rows: number) => {
    const v = new Float32Array(rows * dim);
    for (let i = 0; i < rows; i++) {
      const c = rng.int(C),
        s = c * S + rng.int(S);
      let norm = 0;
      for (let j = 0; j < dim; j++) {
        const x = centres[c][j] + subs[s][j] + (rng.normal() * NOISE) / Math.sqrt(dim);
        v[i * dim + j] = x;
        norm += x * x;
      }
      norm = Math.sqrt(norm);
      for (let j = 0; j < dim; j++) v[i * dim + j] /= norm;
    }
    return v;
  };
  return { docs: draw(n), queries: draw(nq), params: { clusters: C, subclusters: S, norms: [1, 0.6, NOISE], seed } };
}

function row(v: Float32Array, i: number): Float32Array {
  return v.subarray(i * DIM, (i + 1) * DIM);
}

/**
 * The timed results of the first `timed.length` queries plus, for the rest, the same search() call
 * run untimed: every query's result from the path whose speed is reported.
 */
function completeResults(timed: TopK[], nq: number, search: (q: number) => TopK): TopK[] {
  const all = timed.slice();
  for (let q = timed.length; q < nq; q++) all.push(search(q));
  return all;
}

function sameTopK(a: TopK, b: TopK): boolean {
  if (a.docs.length !== b.docs.length) return false;
  for (let i = 0; i < a.docs.length; i++) if (a.docs[i] !== b.docs[i] || a.scores[i] !== b.scores[i]) return false;
  return true;
}

async function build(docs: Float32Array, storage: 'f32' | 'i8', hnsw: boolean) {
  const idx = DenseIndex.create({
    dim: DIM,
    storage,
    buildThreads: BUILD_THREADS,
    ...(hnsw ? { approx: { m: M, efConstruction: EFC } } : {}),
  });
  const t0 = performance.now();
  await idx.add({ vectors: docs });
  const buildS = (performance.now() - t0) / 1000;
  return { idx, buildS, bytesPerVector: idx.stats().bytesPerVector };
}

async function main() {
  const t00 = performance.now();
  const seed = Number(args.seed);
  log(`generating ${N} x ${DIM} documents and ${NQ} queries (seed ${seed})`);
  const { docs, queries, params } = generate(N, NQ, DIM, seed);
  const dir = mkdtempSync(join(tmpdir(), 'lsr-bench-dense-'));
  const installs: Record<string, unknown> = {};
  try {
    writeFileSync(join(dir, 'docs.f32'), new Uint8Array(docs.buffer));
    writeFileSync(join(dir, 'queries.f32'), new Uint8Array(queries.buffer));
    writeFileSync(join(dir, 'meta.json'), JSON.stringify({ docs: N, queries: NQ, dim: DIM }));

    // The peer's build runs first, alone, so the two builds do not share the cores; its searches
    // are timed right after ours for the same ef (see run-hnswlib.py on why they interleave).
    let peer: { ok: boolean; result?: PeerBuild; error?: string } = { ok: false, error: 'skipped (--no-peers)' };
    const peerCfg = { m: M, ef_construction: EFC, k: K, reps: REPS, threads: BUILD_THREADS };

    // The oracle: float64 numpy brute force over every query, independent of any peer.
    const numpy = ensurePython('numpy', ['numpy'], !args['no-install']);
    installs.numpy = numpy.ok ? 'ok' : numpy.reason;
    let oracle: Oracle | null = null;
    let oracleNote: string | null = null;
    if (numpy.ok) {
      log('exact oracle (numpy, float64, every query)');
      const r = await runPeer<{ seconds: number; numpy: string }>('dense-oracle.py', [dir, String(K)], {}, Number(args['peer-timeout']));
      if (r.ok) oracle = readOracle(dir, NQ);
      else oracleNote = r.error ?? 'oracle failed';
    } else oracleNote = `numpy unavailable: ${numpy.reason}`;
    if (!oracle) log(`no oracle (${oracleNote}): every recall and the exact check are null`);
    const recall = (idsOf: (q: number) => ArrayLike<number>): number | null => (oracle ? recallAt(K, NQ, idsOf, oracle) : null);

    if (!args['no-peers']) {
      const avail = ensurePython('hnswlib', ['hnswlib'], !args['no-install']);
      installs.hnswlib = avail.ok ? 'ok' : avail.reason;
      if (avail.ok && numpy.ok) {
        log('hnswlib: build');
        peer = await runPeer<PeerBuild>(
          'run-hnswlib.py',
          [dir, dir, JSON.stringify({ ...peerCfg, mode: 'build' })],
          {},
          Number(args['peer-timeout']),
        );
      } else {
        peer = { ok: false, error: avail.reason ?? numpy.reason };
      }
      if (!peer.ok) log(`hnswlib unavailable: ${peer.error}`);
    }
    const peerRunsRaw: PeerRun[] = [];
    const peerSearch = async (ef: number) => {
      if (!peer.ok) return;
      const r = await runPeer<{ runs: PeerRun[] }>(
        'run-hnswlib.py',
        [dir, dir, JSON.stringify({ ...peerCfg, mode: 'search', efs: [ef] })],
        {},
        Number(args['peer-timeout']),
      );
      if (r.ok && r.result) peerRunsRaw.push(...r.result.runs);
      else log(`hnswlib search at ef ${ef} failed: ${r.error}`);
    };

    // Exact f32, checked against the oracle on every query as returned by the timed call.
    log('exact f32');
    const f32 = await build(docs, 'f32', false);
    const exactOpts: DenseSearchOptions = { k: K };
    const exactSearch = (q: number) => f32.idx.search(row(queries, q), exactOpts);
    const exact = timeQueries(NQ_EXACT, REPS, exactSearch);
    const exactAll = completeResults(exact.results, NQ, exactSearch);
    const oracleCheck = oracle ? matchOracle(K, exactAll, oracle) : null;
    const exactRecall = recall((q) => exactAll[q].docs);
    // The batched path (timed below) must return what the single-query path returns.
    const batchCheck = await f32.idx.searchBatch(queries, exactOpts, 2);
    const batchSame = batchCheck.every((r, q) => sameTopK(r, exactAll[q]));
    const exactBatch1 = await timeBatch(NQ, REPS, () => f32.idx.searchBatch(queries, exactOpts, 1));
    const exactBatch2 = await timeBatch(NQ, REPS, () => f32.idx.searchBatch(queries, exactOpts, 2));
    log(
      `exact f32: ${exact.timing.qps.toFixed(1)} q/s, batched ${exactBatch1.toFixed(0)} (1 thread) ${exactBatch2.toFixed(0)} (2), oracle ${oracleCheck?.matches_oracle ?? 'not run'}, recall ${exactRecall}`,
    );
    await f32.idx.close();

    log('exact i8');
    const i8 = await build(docs, 'i8', false);
    const i8Search = (q: number) => i8.idx.search(row(queries, q), exactOpts);
    const exactI8 = timeQueries(NQ_EXACT, REPS, i8Search);
    const i8All = completeResults(exactI8.results, NQ, i8Search);
    const i8Recall = recall((q) => i8All[q].docs);
    let maxErr = 0;
    for (let q = 0; q < NQ; q++) {
      const r = i8All[q];
      for (let i = 0; i < r.docs.length; i++) {
        const d = r.docs[i],
          qv = row(queries, q),
          dv = row(docs, d);
        let s = 0;
        for (let j = 0; j < DIM; j++) s += qv[j] * dv[j];
        maxErr = Math.max(maxErr, Math.abs(s - r.scores[i]));
      }
    }
    const i8Batch1 = await timeBatch(NQ, REPS, () => i8.idx.searchBatch(queries, exactOpts, 1));
    log(
      `exact i8: ${exactI8.timing.qps.toFixed(1)} q/s, recall@10 ${i8Recall?.toFixed(4) ?? 'null'}, max score error ${maxErr.toExponential(2)}`,
    );
    await i8.idx.close();

    log(`HNSW f32 (M ${M}, efConstruction ${EFC}, ${BUILD_THREADS} build threads)`);
    const h = await build(docs, 'f32', true);
    log(`built in ${h.buildS.toFixed(1)} s, ${h.bytesPerVector.toFixed(0)} bytes/vector`);
    const runs: (Timing & { ef: number; recall_at_10: number | null; batch_1t_qps: number })[] = [];
    for (const ef of EFS) {
      const opts: DenseSearchOptions = { k: K, mode: 'approx', ef };
      const r = timeQueries(NQ, REPS, (q) => h.idx.search(row(queries, q), opts));
      const rec = recall((q) => r.results[q].docs);
      const b1 = await timeBatch(NQ, REPS, () => h.idx.searchBatch(queries, opts, 1));
      runs.push({ ef, ...r.timing, recall_at_10: rec, batch_1t_qps: b1 });
      log(`  ef ${ef}: ${r.timing.qps.toFixed(0)} q/s, recall@10 ${rec?.toFixed(4) ?? 'null'}`);
      await peerSearch(ef);
    }
    const best = [...EFS].pop()!;
    const runsI8: { ef: number; qps: number; p50_ms: number; p99_ms: number; recall_at_10: number | null }[] = [];
    let hI8: { buildS: number; bytesPerVector: number } | null = null;
    const hnswBatch2 = await timeBatch(NQ, REPS, () => h.idx.searchBatch(queries, { k: K, mode: 'approx', ef: best }, 2));
    await h.idx.close();
    if (!args['no-hnsw-i8']) {
      log('HNSW i8');
      const b = await build(docs, 'i8', true);
      hI8 = { buildS: b.buildS, bytesPerVector: b.bytesPerVector };
      for (const ef of EFS) {
        const r = timeQueries(NQ, REPS, (q) => b.idx.search(row(queries, q), { k: K, mode: 'approx', ef }));
        runsI8.push({
          ef,
          qps: r.timing.qps,
          p50_ms: r.timing.p50_ms,
          p99_ms: r.timing.p99_ms,
          recall_at_10: recall((q) => r.results[q].docs),
        });
        log(`  ef ${ef}: ${r.timing.qps.toFixed(0)} q/s, recall@10 ${runsI8[runsI8.length - 1].recall_at_10?.toFixed(4) ?? 'null'}`);
      }
      await b.idx.close();
    }

    const peerRuns = peerRunsRaw.map((r) => {
      const ids = readIds(join(dir, `hnswlib.ef${r.ef}.ids.u32`));
      return { ...r, recall_at_10: recall((q) => ids.subarray(q * K, (q + 1) * K)) };
    });

    const rows: Cell[][] = [
      ['ours', 'exact f32', '', exact.timing.qps, exact.timing.p50_ms, exact.timing.p99_ms, exactRecall, f32.buildS, f32.bytesPerVector],
      ['ours', 'exact i8', '', exactI8.timing.qps, exactI8.timing.p50_ms, exactI8.timing.p99_ms, i8Recall, i8.buildS, i8.bytesPerVector],
      ...runs.map((r): Cell[] => ['ours', 'HNSW f32', `ef ${r.ef}`, r.qps, r.p50_ms, r.p99_ms, r.recall_at_10, h.buildS, h.bytesPerVector]),
      ...runsI8.map((r): Cell[] => [
        'ours',
        'HNSW i8',
        `ef ${r.ef}`,
        r.qps,
        r.p50_ms,
        r.p99_ms,
        r.recall_at_10,
        hI8!.buildS,
        hI8!.bytesPerVector,
      ]),
      ...peerRuns.map((r): Cell[] => [
        `hnswlib ${peer.result!.version}`,
        'HNSW f32',
        `ef ${r.ef}`,
        r.qps,
        r.p50_ms,
        r.p99_ms,
        r.recall_at_10,
        peer.result!.build_s,
        peer.result!.bytes_per_vector,
      ]),
    ];
    out(
      table(
        `dense, ${N} x ${DIM}, k ${K}, one search thread (timed: exact ${NQ_EXACT} queries, HNSW ${NQ}; recall@10 over all ${NQ} vs ${oracle ? 'the numpy float64 oracle' : 'no oracle: null'}; M ${M}, efConstruction ${EFC})`,
        ['system', 'mode', 'settings', 'QPS', 'p50 ms', 'p99 ms', 'recall@10', 'build s', 'bytes/vector'],
        rows,
      ),
    );
    out(
      table(
        'batched (searchBatch / one knn_query call), queries per second',
        ['system', 'mode', '1 thread', '2 threads'],
        [
          ['ours', 'exact f32', exactBatch1, exactBatch2],
          ['ours', 'exact i8', i8Batch1, null],
          ...runs.map((r): Cell[] => ['ours', `HNSW ef ${r.ef}`, r.batch_1t_qps, r.ef === best ? hnswBatch2 : null]),
          ...peerRuns.map((r): Cell[] => ['hnswlib', `HNSW ef ${r.ef}`, r.batch_qps, null]),
        ],
      ),
    );
    if (oracleCheck)
      out(
        `\nexact f32 (search(), every query) vs numpy float64 oracle (${NQ} queries): matches=${oracleCheck.matches_oracle} (${oracleCheck.mismatched_queries} mismatched, ${oracleCheck.near_tie_only} only by float32 near ties), max relative score error ${oracleCheck.max_rel_score_err.toExponential(2)}`,
      );
    else out(`\nno oracle: ${oracleNote}; every recall@10 above is null`);
    if (!batchSame) out('\nWARNING: searchBatch (2 threads) returned results different from search() for exact f32');
    if (!peer.ok) out(`\nhnswlib: not run (${peer.error})`);

    const result = {
      bench: 'dense',
      data: { docs: N, dim: DIM, queries: NQ, exact_timed_queries: NQ_EXACT, k: K, ...params },
      oracle: oracle ? { kind: 'numpy float64 brute-force inner product', queries: NQ, depth: K } : null,
      why_no_oracle: oracle ? undefined : oracleNote,
      recall_over_queries: oracle ? NQ : 0,
      tuning: 'none: no setting is chosen, every ef is reported',
      simd: native.denseSimdLevel(),
      build_threads: BUILD_THREADS,
      exact_f32: {
        ...exact.timing,
        build_s: f32.buildS,
        bytes_per_vector: f32.bytesPerVector,
        batch_1t_qps: exactBatch1,
        batch_2t_qps: exactBatch2,
        recall_at_10: exactRecall,
        matches_oracle: oracleCheck?.matches_oracle ?? null,
        oracle_check: oracleCheck ? { ...oracleCheck, first_mismatch: undefined, queries: NQ, path: 'search()' } : null,
        batch_matches_single: batchSame,
      },
      exact_i8: {
        ...exactI8.timing,
        build_s: i8.buildS,
        bytes_per_vector: i8.bytesPerVector,
        recall_at_10: i8Recall,
        max_abs_score_error: maxErr,
        batch_1t_qps: i8Batch1,
      },
      hnsw_f32: {
        m: M,
        ef_construction: EFC,
        build_s: h.buildS,
        bytes_per_vector: h.bytesPerVector,
        runs,
        batch_2t_qps_at_max_ef: hnswBatch2,
      },
      hnsw_i8: hI8 ? { m: M, ef_construction: EFC, build_s: hI8.buildS, bytes_per_vector: hI8.bytesPerVector, runs: runsI8 } : null,
      peers: {
        hnswlib: peer.result
          ? { version: peer.result.version, build_s: peer.result.build_s, bytes_per_vector: peer.result.bytes_per_vector, runs: peerRuns }
          : null,
        why_null: peer.ok ? undefined : peer.error,
        installs,
      },
      cpu: cpus()[0]?.model,
      total_s: (performance.now() - t00) / 1000,
    };
    if (args.json) out(JSON.stringify(result));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface PeerBuild {
  version: string;
  build_s: number;
  index_bytes: number;
  bytes_per_vector: number;
}

interface PeerRun {
  ef: number;
  qps: number;
  p50_ms: number;
  p99_ms: number;
  mean_ms: number;
  batch_qps: number;
}

await main();
