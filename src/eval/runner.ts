// `lsr eval` end to end: load a BEIR folder, get each retriever's collection indexed, run the judged
// queries, write TREC runs, metrics.json, timings.json, report.md and plot.svg, and return the
// summary line.
//
// What is averaged: every query judged in the split (trec_eval -c, as Pyserini's BEIR regressions
// run it); a judged query that gets no hits scores 0. Queries without judgments are not run.

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { loadBeir, streamCorpus } from './beir.js';
import { compareSystems } from './compare.js';
import { DEFAULT_MEASURES, evaluate, parseMeasure } from './metrics.js';
import { clientApiKey } from '../config.js';
import { type GetJson, ProgressBar, watchIngest } from './progress.js';
import { renderMarkdown, renderSvg, type ComparisonRow, type HybridComparison, type SystemResult } from './report.js';
import {
  collectionBody,
  collectionHosts,
  collectionNameFor,
  parseRetrieverSpec,
  searchBody,
  type RetrieverSpec,
} from './retriever-spec.js';
import { remoteService, type ServiceClient, type ServiceHandle } from './service-client.js';
import { readRun, writeRun } from './trec-files.js';
import { settingSpec, tuneFusion, type FusionSetting, type MemberLists, type TuneOptions } from './tune.js';
import type { EvalQuery, Run } from './types.js';

/** Options of `runEval`. */
export interface EvalOptions {
  /** BEIR folder with corpus.jsonl, queries.jsonl, qrels/<split>.tsv. */
  dataset: string;
  /** Qrels split; default `test`. */
  split?: string;
  /**
   * Retriever specs (see retriever-spec.ts), or `trec:<file>` to evaluate an existing TREC run
   * file; the first is the baseline of comparisons.
   */
  retrievers: string[];
  /** Base URL of a running service; default: start one on a temporary data folder. */
  server?: string;
  /** API key for `server` (sent as a Bearer token); default env `LSR_API_KEY`. */
  apiKey?: string;
  /** Data folder for the started service; default a temporary folder removed afterwards. */
  dataDir?: string;
  /** Output folder (created). */
  out: string;
  /** Hits per query; default 1000 (what trec_eval's R@1000 and Pyserini's BEIR runs use). */
  k?: number;
  /** Measures, trec_eval names; default `DEFAULT_MEASURES`. The first one drives "moved" queries and the plot. */
  measures?: string[];
  /** Reuse a collection the harness built earlier (same name) instead of rebuilding it; default false. */
  reuse?: boolean;
  /** Queries in flight at once; default 4. */
  concurrency?: number;
  /** Draw progress bars on stderr; default true. */
  progress?: boolean;
  /** Log line sink (stderr by default). */
  log?: (line: string) => void;
  /**
   * Cross-validated fusion tuning (tune.ts): for each set of retrievers fused by a convex or RRF
   * spec of the run, a tuned convex and a tuned RRF system are added, scored by k-fold
   * cross-validation over the queries. Absent: no tuning.
   */
  tune?: TuneOptions;
  /** A spec of the run (as written) that every other system is also compared with (paired tests). */
  reference?: string;
  /**
   * With `tune`: save the setting chosen on every query, of the tuned system (convex or RRF) that
   * scored higher cross-validated, as the default fusion of the collection searched.
   */
  saveFusion?: boolean;
}

/** One tuned system of the summary: the setting each fold chose, and the one all queries choose. */
export interface TunedSummary {
  spec: string;
  folds: { fold: number; queries: number; setting: string; train_ndcg_cut_10: number }[];
  /** The setting the grid picks on every query (what `--save-fusion` keeps); not a result. */
  all: string;
  all_setting: FusionSetting;
}

/** Every system against the reference spec, on the headline measure. */
export interface ReferenceSummary {
  reference: string;
  measure: string;
  rows: { spec: string; delta: number; p_randomization: number; p_ttest: number }[];
}

/** Per-retriever line of the summary. */
export interface RetrieverSummary {
  spec: string;
  ndcg_cut_10: number;
  recall_100: number;
  recip_rank_10: number;
  map: number;
  /** Only in runs that hold a fusion: whether this spec fuses several retrievers. */
  fusion?: boolean;
}

/** The best fusion against the best single retriever, on the headline measure (runs with both). */
export interface HybridSummary {
  measure: string;
  best_single: string;
  best_fusion: string;
  /** best_fusion − best_single, mean over the judged queries. */
  delta: number;
  p_randomization: number;
  p_ttest: number;
}

/** What `lsr eval --json` prints. */
export interface EvalSummary {
  dataset: string;
  retrievers: RetrieverSummary[];
  /** Only when the run holds fusions and single retrievers. */
  hybrid?: HybridSummary;
  /** With --tune: the tuned systems and their choices per fold. */
  tuned?: TunedSummary[];
  /** With --reference. */
  reference?: ReferenceSummary;
  seconds: number;
}

/** The summary measures always computed, whatever `measures` says, because the JSON line has them. */
const SUMMARY_MEASURES = ['ndcg_cut_10', 'recall_100', 'recip_rank_10', 'map'] as const;

function slug(s: string): string {
  return (
    s
      .toLowerCase()
      .replace(/^trec:(.*[\\/])?/, 'trec-')
      .replace(/\.(trec|txt|run|tsv)$/, '')
      .replace(/[^a-z0-9.=_-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'run'
  );
}

async function countDocuments(path: string): Promise<number> {
  let n = 0;
  for await (const _ of streamCorpus(path)) n++;
  return n;
}

/** Documents currently in a collection description, whatever the service calls the field. */
function documentCount(desc: Record<string, unknown>): number | undefined {
  for (const key of ['documents', 'document_count', 'num_documents', 'count', 'size']) {
    const v = desc[key];
    if (typeof v === 'number') return v;
  }
  const stats = desc.stats;
  if (stats && typeof stats === 'object') return documentCount(stats as Record<string, unknown>);
  return undefined;
}

/**
 * Reads the service's job reports for progress: the same base URL and API key as the harness's
 * client (none for the service it starts itself), with a timeout so a poll never outlives a stalled
 * service by long.
 */
function jobReader(baseUrl: string, opts: EvalOptions): GetJson {
  const key = opts.server ? (opts.apiKey ?? clientApiKey() ?? null) : null;
  const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
  return async (path) => {
    const res = await fetch(`${baseUrl}${path}`, { headers, signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
    return res.json();
  };
}

async function ensureCollection(
  client: ServiceClient,
  spec: RetrieverSpec,
  name: string,
  corpusPath: string,
  corpusSize: number,
  opts: EvalOptions,
  log: (line: string) => void,
  others: readonly RetrieverSpec[] = [],
): Promise<number> {
  if (spec.collection) {
    if (!(await client.getCollection(name))) throw new Error(`retriever "${spec.raw}": collection "${name}" does not exist`);
    log(`${spec.raw}: searching existing collection "${name}"`);
    return 0;
  }
  const existing = await client.getCollection(name);
  if (existing && opts.reuse) {
    const n = documentCount(existing);
    if (n === undefined || n === corpusSize) {
      log(`${spec.raw}: reusing collection "${name}"`);
      return 0;
    }
    log(`${spec.raw}: collection "${name}" holds ${n} documents, not ${corpusSize}; rebuilding`);
  }
  if (existing) await client.deleteCollection(name);
  const t0 = performance.now();
  await client.createCollection(collectionBody(spec, name, others));
  // The bar counts what the service committed, not what was sent: with an encoder every document is
  // sent within seconds and then encoded for minutes, and the job's counts are what moves then.
  const bar = new ProgressBar(`index ${spec.raw}`, corpusSize, { enabled: opts.progress ?? true, unit: 'docs' });
  let sent = 0;
  let committed = 0;
  const note = () => (sent < corpusSize ? `sent ${sent}` : 'all sent, the service is encoding and indexing');
  const ingest = () =>
    client.ingest(name, streamCorpus(corpusPath), (n) => {
      sent = n;
      bar.update(committed, note());
    });
  let job: Record<string, unknown>;
  try {
    const report = bar.live
      ? await watchIngest(jobReader(client.baseUrl, opts), name, ingest, (j) => {
          committed = j.indexed + j.rejected;
          bar.update(committed, note());
        })
      : await ingest();
    job = (typeof report.job === 'object' && report.job !== null ? report.job : report) as Record<string, unknown>;
    if (typeof job.indexed === 'number') bar.update(job.indexed + (typeof job.rejected === 'number' ? job.rejected : 0));
  } finally {
    // Ends the bar's line before an error message is printed after it.
    bar.finish('');
  }
  // A document the service rejected is missing from every ranking: the numbers would be wrong
  // without anything looking broken, so stop here.
  if (typeof job.rejected === 'number' && job.rejected > 0) {
    throw new Error(
      `${spec.raw}: the service rejected ${job.rejected} of ${corpusSize} documents: ${JSON.stringify(job.errors ?? job).slice(0, 500)}`,
    );
  }
  if (typeof job.indexed === 'number' && job.indexed !== corpusSize) {
    throw new Error(`${spec.raw}: the service indexed ${job.indexed} of ${corpusSize} documents`);
  }
  return (performance.now() - t0) / 1000;
}

async function runQueries(
  client: ServiceClient,
  spec: RetrieverSpec,
  name: string,
  queries: EvalQuery[],
  k: number,
  opts: EvalOptions,
): Promise<{ run: Run; seconds: number }> {
  const t0 = performance.now();
  const run: Run = new Map();
  // Fill in query order so the run file follows queries.jsonl, whatever order answers come in.
  for (const q of queries) run.set(q.id, new Map());
  const bar = new ProgressBar(`search ${spec.raw}`, queries.length, { enabled: opts.progress ?? true, unit: 'queries' });
  const body = (text: string) => searchBody(spec, text, k);
  let next = 0;
  let done = 0;
  let failed = false;
  const worker = async () => {
    // After one failure the others stop taking queries instead of hammering a broken service.
    while (next < queries.length && !failed) {
      const q = queries[next++];
      let hits;
      try {
        hits = await client.searchWith(name, body(q.text));
      } catch (e) {
        failed = true;
        throw new Error(`query "${q.id}": ${(e as Error).message}`);
      }
      const scores = run.get(q.id)!;
      for (const h of hits) {
        // The service never returns a document twice; if it did, trec_eval would reject the run.
        if (scores.has(h._id)) throw new Error(`search for query "${q.id}" returned document "${h._id}" twice`);
        scores.set(h._id, h.score);
      }
      bar.update(++done);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));
  } finally {
    // Ends the bar's line before an error message is printed after it.
    bar.finish();
  }
  return { run, seconds: (performance.now() - t0) / 1000 };
}

/**
 * Runs the whole evaluation and writes, under `opts.out`: `run.<n>.<spec>.trec` per retriever,
 * `metrics.json` (the same bytes for the same command on the same machine), `timings.json` (wall-clock
 * seconds per retriever), `report.md` and `plot.svg`. Returns the summary `lsr eval --json` prints.
 */
export async function runEval(opts: EvalOptions): Promise<EvalSummary> {
  const t0 = performance.now();
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (opts.retrievers.length === 0) throw new Error('give at least one --retriever');
  // `trec:<file>` evaluates an existing run file; anything else is a retriever spec for the service.
  const specs = opts.retrievers.map((r) => (r.startsWith('trec:') ? null : parseRetrieverSpec(r)));
  const k = opts.k ?? 1000;
  if (!Number.isInteger(k) || k < 1) throw new Error(`k must be a positive integer, got ${k}`);
  const measures = [...(opts.measures ?? DEFAULT_MEASURES)];
  measures.forEach(parseMeasure);
  for (const m of SUMMARY_MEASURES) if (!measures.includes(m)) measures.push(m);

  const datasetDir = resolve(opts.dataset);
  const datasetName = basename(datasetDir);
  const split = opts.split ?? 'test';
  const ds = await loadBeir(datasetDir, split);
  const corpusSize = await countDocuments(ds.corpusPath);
  log(`${datasetName}: ${corpusSize} documents, ${ds.queries.length} judged queries (of ${ds.totalQueries}), split ${split}`);
  await mkdir(opts.out, { recursive: true });

  let service: ServiceHandle | undefined;
  let tempData: string | undefined;
  const systems: SystemResult[] = [];
  // Collections built (or checked) in this run: specs that need the same index share it.
  const ready = new Set<string>();
  const singles = specs.filter((s): s is RetrieverSpec => s !== null && !s.fusion);
  // Specs whose retrievers are all in a larger collection of this run search that one.
  const hosts = collectionHosts(specs);
  const tuned: TunedSummary[] = [];
  try {
    for (let i = 0; i < specs.length; i++) {
      const spec = specs[i];
      let run: Run;
      let seconds = { index: 0, search: 0 };
      let label: string;
      if (spec === null) {
        label = opts.retrievers[i];
        run = await readRun(resolve(label.slice('trec:'.length)));
      } else {
        label = spec.raw;
        if (!service) {
          if (opts.server) service = remoteService(opts.server, opts.apiKey);
          else {
            // Loaded on demand: it pulls in the whole service and its native engine, which
            // evaluating `trec:` run files does not need.
            const { startLocalService } = await import('./local-service.js');
            if (!opts.dataDir) tempData = await mkdtemp(join(tmpdir(), 'lsr-eval-'));
            service = await startLocalService(opts.dataDir ?? tempData!);
          }
        }
        const host = specs[hosts[i]]!;
        const name = collectionNameFor(host, datasetDir, datasetName, singles);
        let indexSeconds = 0;
        if (ready.has(name)) log(`${spec.raw}: searching collection "${name}" built earlier in this run`);
        else indexSeconds = await ensureCollection(service.client, host, name, ds.corpusPath, corpusSize, opts, log, singles);
        ready.add(name);
        const searched = await runQueries(service.client, spec, name, ds.queries, k, opts);
        run = searched.run;
        seconds = { index: indexSeconds, search: searched.seconds };
      }
      const runFile = `run.${i + 1}.${slug(label)}.trec`;
      await writeRun(join(opts.out, runFile), run, slug(label).replace(/[=.]/g, '-'));
      const ev = evaluate(ds.qrels, run, measures, { averageOver: 'qrels' });
      // A verified ranking combines two retrievers too: it is not a single retriever's.
      const fusion = spec?.fusion !== undefined || spec?.verify !== undefined;
      systems.push({ spec: label, mean: ev.mean, perQuery: ev.perQuery, runFile, seconds, fusion });
    }
    if (opts.tune && service) {
      const nameOf = (host: number) => collectionNameFor(specs[host]!, datasetDir, datasetName, singles);
      for (const t of tuneTargets(specs, hosts, nameOf)) {
        const name = collectionNameFor(specs[t.host]!, datasetDir, datasetName, singles);
        const t1 = performance.now();
        const lists = await memberLists(service.client, name, t.members, t.windows, ds.queries, opts);
        const search = (performance.now() - t1) / 1000;
        const pair: { cv: number; setting: FusionSetting; label: string }[] = [];
        for (const method of ['convex', 'rrf'] as const) {
          const result = tuneFusion(t.members, lists, ds.qrels, k, { ...opts.tune, methods: [method] });
          const label = `${method}:${t.members.join('+')},tuned=${result.folds.length}-fold`;
          for (const f of result.folds)
            log(
              `${label}: fold ${f.fold} (${f.queries} queries scored, trained on the others: nDCG@10 ${f.train_ndcg_cut_10.toFixed(4)}): ${settingSpec(t.members, f.setting)}`,
            );
          log(`${label}: chosen on every query (a collection default, not a result): ${settingSpec(t.members, result.all)}`);
          const runFile = `run.${systems.length + 1}.${slug(label)}.trec`;
          await writeRun(join(opts.out, runFile), result.run, slug(label).replace(/[=.]/g, '-'));
          const ev = evaluate(ds.qrels, result.run, measures, { averageOver: 'qrels' });
          systems.push({ spec: label, mean: ev.mean, perQuery: ev.perQuery, runFile, seconds: { index: 0, search }, fusion: true });
          pair.push({ cv: ev.mean.ndcg_cut_10, setting: result.all, label });
          tuned.push({
            spec: label,
            folds: result.folds.map((f) => ({
              fold: f.fold,
              queries: f.queries,
              setting: settingSpec(t.members, f.setting),
              train_ndcg_cut_10: f.train_ndcg_cut_10,
            })),
            all: settingSpec(t.members, result.all),
            all_setting: result.all,
          });
        }
        if (opts.saveFusion) {
          const best = pair.reduce((a, b) => (b.cv > a.cv ? b : a));
          const { method, normalization, k: rrfK, weights } = best.setting;
          await service.client.setDefaultFusion(name, {
            method,
            ...(method === 'convex' ? { normalization } : { k: rrfK }),
            weights,
          });
          log(`saved as the default fusion of collection "${name}" (${best.label} scored higher): ${settingSpec(t.members, best.setting)}`);
          if (!opts.server && !opts.dataDir)
            log('  (the service this run started keeps its data in a temporary folder, removed at the end)');
        }
      }
    }
  } finally {
    await service?.close();
    if (tempData) await rm(tempData, { recursive: true, force: true });
  }

  const comparisons: ComparisonRow[] = [];
  for (const s of systems.slice(1)) {
    comparisons.push(...compareSystems(systems[0].spec, systems[0].perQuery, s.spec, s.perQuery, measures));
  }
  const numQueries = systems[0].perQuery.size;
  const hybrid = hybridComparison(systems, measures);
  let against: ComparisonRow[] = [];
  if (opts.reference !== undefined) {
    const ref = systems.find((s) => s.spec === opts.reference);
    if (!ref) throw new Error(`--reference "${opts.reference}" is not one of the run's specs`);
    against = systems.filter((s) => s !== ref).flatMap((s) => compareSystems(ref.spec, ref.perQuery, s.spec, s.perQuery, measures));
  }
  const headline = measures.includes('ndcg_cut_10') ? 'ndcg_cut_10' : measures[0];
  const anyFusion = systems.some((s) => s.fusion);
  const input = {
    dataset: datasetName,
    split,
    numQueries,
    measures,
    systems,
    comparisons,
    queryText: new Map(ds.queries.map((q) => [q.id, q.text])),
    plotFile: 'plot.svg',
    hybrid,
  };
  const metrics = {
    dataset: datasetName,
    dataset_path: datasetDir,
    split,
    averaged_over: 'every judged query; a query without results scores 0 (trec_eval -c)',
    num_queries: numQueries,
    k,
    measures,
    retrievers: systems.map((s) => ({
      spec: s.spec,
      ...(anyFusion ? { fusion: s.fusion } : {}),
      run_file: s.runFile,
      mean: s.mean,
      per_query: Object.fromEntries(s.perQuery),
    })),
    significance: comparisons.map(comparisonJson),
    ...(opts.reference !== undefined ? { reference: opts.reference, against_reference: against.map(comparisonJson) } : {}),
    ...(tuned.length > 0 ? { tuned } : {}),
    ...(hybrid
      ? {
          hybrid: {
            measure: hybrid.measure,
            best_single: hybrid.bestSingle,
            best_fusion: hybrid.bestFusion,
            against_best_single: hybrid.rows.map(comparisonJson),
          },
        }
      : {}),
  };
  // metrics.json holds only what the same command gives again on the same machine, byte for byte
  // (test/eval/deterministic-eval.test.ts); wall-clock times go to timings.json.
  await writeFile(join(opts.out, 'metrics.json'), JSON.stringify(metrics, null, 2) + '\n');
  const seconds = Math.round((performance.now() - t0) / 10) / 100;
  const timings = { retrievers: systems.map((s) => ({ spec: s.spec, seconds: s.seconds })), seconds };
  await writeFile(join(opts.out, 'timings.json'), JSON.stringify(timings, null, 2) + '\n');
  await writeFile(join(opts.out, 'report.md'), renderMarkdown(input) + referenceMarkdown(opts.reference, against, headline, tuned));
  await writeFile(join(opts.out, 'plot.svg'), renderSvg(input));
  return {
    dataset: datasetName,
    retrievers: systems.map((s) => ({
      spec: s.spec,
      ndcg_cut_10: s.mean.ndcg_cut_10,
      recall_100: s.mean.recall_100,
      recip_rank_10: s.mean.recip_rank_10,
      map: s.mean.map,
      ...(anyFusion ? { fusion: s.fusion } : {}),
    })),
    ...(hybrid ? { hybrid: hybridSummary(hybrid) } : {}),
    ...(tuned.length > 0 ? { tuned } : {}),
    ...(opts.reference !== undefined
      ? {
          reference: {
            reference: opts.reference,
            measure: headline,
            rows: against
              .filter((r) => r.measure === headline)
              .map((r) => ({ spec: r.spec, delta: r.meanDifference, p_randomization: r.pRandomization, p_ttest: r.pTTest })),
          },
        }
      : {}),
    seconds,
  };
}

/** Fusion member sets to tune: one per convex or RRF spec's members, windows and collection (`nameOf(host)`). */
function tuneTargets(
  specs: readonly (RetrieverSpec | null)[],
  hosts: readonly number[],
  nameOf: (host: number) => string,
): { members: string[]; windows: Record<string, number | undefined>; host: number }[] {
  const out = new Map<string, { members: string[]; windows: Record<string, number | undefined>; host: number }>();
  specs.forEach((s, i) => {
    const f = s?.fusion;
    if (!f || (f.method !== 'convex' && f.method !== 'rrf') || s.verify || f.prf !== undefined) return;
    const windows = Object.fromEntries(f.members.map((m) => [m, f.windows[m] ?? f.window]));
    const key = JSON.stringify([f.members, windows, nameOf(hosts[i])]);
    if (!out.has(key)) out.set(key, { members: f.members, windows, host: hosts[i] });
  });
  return [...out.values()];
}

/** Each member's own list for every query (its window, default the run's k): what a hybrid search fuses. */
async function memberLists(
  client: ServiceClient,
  name: string,
  members: string[],
  windows: Record<string, number | undefined>,
  queries: EvalQuery[],
  opts: EvalOptions,
): Promise<MemberLists> {
  const runs: Run[] = [];
  for (const m of members) {
    const spec = parseRetrieverSpec(m);
    runs.push((await runQueries(client, spec, name, queries, windows[m] ?? opts.k ?? 1000, opts)).run);
  }
  return new Map(
    queries.map((q) => [
      q.id,
      members.map((m, j) => {
        const hits = runs[j].get(q.id) ?? new Map<string, number>();
        return { name: m, keys: [...hits.keys()], scores: [...hits.values()] };
      }),
    ]),
  );
}

/** The report's sections on the reference spec and the tuned systems' choices. */
function referenceMarkdown(
  reference: string | undefined,
  rows: readonly ComparisonRow[],
  measure: string,
  tuned: readonly TunedSummary[],
): string {
  const parts: string[] = [];
  if (reference !== undefined) {
    parts.push(`\n## Against ${reference}\n`, `Paired tests on ${measure} (randomization 10,000 trials, seed 42; t-test).\n`);
    parts.push('| system | difference | wins / losses | p (randomization) | p (t-test) |', '| --- | --- | --- | --- | --- |');
    for (const r of rows.filter((x) => x.measure === measure))
      parts.push(
        `| ${r.spec} | ${r.meanDifference >= 0 ? '+' : ''}${r.meanDifference.toFixed(4)} | ${r.wins} / ${r.losses} | ${r.pRandomization.toFixed(4)} | ${r.pTTest.toFixed(4)} |`,
      );
  }
  for (const t of tuned) {
    parts.push(
      `\n## ${t.spec}: the setting each fold chose\n`,
      '| fold | queries scored | chosen on the other folds | their nDCG@10 |',
      '| --- | --- | --- | --- |',
    );
    for (const f of t.folds) parts.push(`| ${f.fold} | ${f.queries} | \`${f.setting}\` | ${f.train_ndcg_cut_10.toFixed(4)} |`);
    parts.push('', `Chosen on every query (a collection default; its score on these queries is not a result): \`${t.all}\``);
  }
  return parts.length > 0 ? `${parts.join('\n')}\n` : '';
}

/**
 * Every fusion against the best single retriever (by the headline measure: nDCG@10 when measured,
 * else the first measure), on every measure; undefined unless the run holds both kinds.
 */
/** A comparison row as metrics.json writes it. */
function comparisonJson(c: ComparisonRow) {
  return {
    spec: c.spec,
    baseline: c.baseline,
    measure: c.measure,
    mean_difference: c.meanDifference,
    wins: c.wins,
    losses: c.losses,
    p_randomization: c.pRandomization,
    p_ttest: c.pTTest,
  };
}

export function hybridComparison(systems: readonly SystemResult[], measures: readonly string[]): HybridComparison | undefined {
  const singles = systems.filter((s) => !s.fusion);
  const fusions = systems.filter((s) => s.fusion);
  if (singles.length === 0 || fusions.length === 0) return undefined;
  const measure = measures.includes('ndcg_cut_10') ? 'ndcg_cut_10' : measures[0];
  const best = (xs: readonly SystemResult[]) => xs.reduce((a, b) => (b.mean[measure] > a.mean[measure] ? b : a));
  const bestSingle = best(singles);
  const bestFusion = best(fusions);
  const rows = fusions.flatMap((f) => compareSystems(bestSingle.spec, bestSingle.perQuery, f.spec, f.perQuery, measures));
  return { measure, bestSingle: bestSingle.spec, bestFusion: bestFusion.spec, rows };
}

function hybridSummary(h: HybridComparison): HybridSummary {
  const row = h.rows.find((r) => r.spec === h.bestFusion && r.measure === h.measure)!;
  return {
    measure: h.measure,
    best_single: h.bestSingle,
    best_fusion: h.bestFusion,
    delta: row.meanDifference,
    p_randomization: row.pRandomization,
    p_ttest: row.pTTest,
  };
}
