// `lsr eval`: BEIR-style offline evaluation (see src/eval/runner.ts). Progress and logs go to
// stderr; stdout carries the results table, or with --json one JSON line, last.

import { parseArgs } from 'node:util';
import { DEFAULT_MEASURES, expandMeasureSpec } from '../../eval/metrics.js';
import { measureLabel } from '../../eval/report.js';
import { runEval, type EvalSummary } from '../../eval/runner.js';

const HELP = `Usage: lsr eval --dataset <dir> --retriever <spec> [--retriever <spec> ...] --out <dir> [options]

Indexes a BEIR folder (corpus.jsonl, queries.jsonl, qrels/<split>.tsv) into a collection per
retriever, runs the judged queries, and writes TREC run files, metrics.json, report.md and plot.svg.
Metrics are trec_eval's, averaged over every judged query (trec_eval -c); the first retriever is the
baseline of the significance tests.

Retriever specs:
  bm25                      BM25, collection defaults (k1=0.9, b=0.4)
  bm25:k1=1.2,b=0.75        BM25 with these parameters (its own collection)
  bm25:collection=<name>    search an existing collection, index nothing
  bm25:fields=title+text    text fields indexed, in order (default title+text)
  trec:<file>               evaluate an existing TREC run file

Options:
  --dataset <dir>       BEIR dataset folder (required)
  --retriever <spec>    retriever spec, repeatable (required)
  --out <dir>           output folder (required)
  --server <url>        use a running service instead of starting one
  --api-key <key>       API key for --server (default: env LSR_API_KEY)
  --data-dir <dir>      data folder for the started service (default: a temporary one, removed)
  --reuse               reuse collections built by an earlier run instead of rebuilding them
  --split <name>        qrels split (default test)
  --k <n>               hits per query (default 1000)
  --measures <list>     comma-separated trec_eval names or -m specs, e.g. ndcg_cut.10,100;map
                        (default ${DEFAULT_MEASURES.join(',')})
  --concurrency <n>     queries in flight (default 4)
  --json                print one JSON line last: {dataset, retrievers:[{spec, ndcg_cut_10,
                        recall_100, recip_rank_10, map}], seconds}
  --no-progress         no progress bars
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
        out: { type: 'string' },
        server: { type: 'string' },
        'api-key': { type: 'string' },
        'data-dir': { type: 'string' },
        reuse: { type: 'boolean' },
        split: { type: 'string' },
        k: { type: 'string' },
        measures: { type: 'string' },
        concurrency: { type: 'string' },
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
  const missing = (['dataset', 'retriever', 'out'] as const).filter((k) => values[k] === undefined);
  if (missing.length > 0) {
    process.stderr.write(`lsr eval: missing ${missing.map((m) => `--${m}`).join(', ')}\n\n${HELP}`);
    return 2;
  }
  let k: number;
  let concurrency: number;
  let measures: string[] | undefined;
  try {
    k = positiveInt('k', values.k, 1000);
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
      retrievers: values.retriever as string[],
      out: values.out as string,
      server: values.server,
      apiKey: values['api-key'],
      dataDir: values['data-dir'],
      reuse: values.reuse ?? false,
      split: values.split,
      k,
      measures,
      concurrency,
      progress: !values['no-progress'],
    });
    process.stdout.write(`${formatSummary(summary)}\nwrote ${values.out}/{metrics.json,report.md,plot.svg}\n`);
    if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`lsr eval: ${(e as Error).message}\n`);
    return 1;
  }
}
