// `lsr train`: an inference-free learned sparse document encoder trained on a corpus without labels.
// Stage 1 (src/train/prepare.ts) makes the training data with the service's own retrievers as
// teachers; stage 2 (src/train/fit.ts) runs the Python trainer on it. Progress and logs go to stderr;
// stdout carries the prepare summary (one JSON document with --json).

import { parseArgs } from 'node:util';
import { loadConfig } from '../../config.js';
import { isServiceError } from '../../errors.js';
import { dataDir, fitUnavailable, pythonExe, runTrainer, trainerArgs, trainerPath } from '../../train/fit.js';
import { DEFAULT_BASE, DEFAULT_DENSE_MODEL, parseFit, parsePrepare, type TrainFlags } from '../../train/options.js';
import { prepare, type PrepareReport } from '../../train/prepare.js';

/** Exit code when the fit stage cannot run here (no PyTorch or transformers): prepare-only is the way on. */
export const EXIT_NO_TRAINER = 3;

const HELP = `Usage: lsr train --corpus <BEIR folder> --out <model dir> [options]

Trains an inference-free learned sparse document encoder on a corpus, without labels: queries are
made from the documents themselves (titles, inverse-cloze sentences, spans), candidates are mined by
the service's own retrievers (BM25, dense, optionally SPLADE) over the corpus in an embedded
collection, and every candidate is scored exactly by every teacher; the per-query min-max normalized
mean of the teachers is the target. Only corpus.jsonl is read: never queries.jsonl, never qrels.

Stages: (1) prepare: <work>/data/{corpus,queries,train}.jsonl, idf.json, prepare.json (see
docs/training.md); (2) fit: python3 models/train/train.py --data <work>/data --base <base dir>
--base-source <base> --out <out> --seed <seed> [trainer flags], which needs PyTorch and transformers (LSR_PYTHON picks
the interpreter). Without them, run with --prepare-only, carry <work>/data to a machine that has
them (the GPU machine) and run the trainer there.

Options:
  --corpus <dir>          BEIR folder (its corpus.jsonl only) or a corpus .jsonl file (required)
  --out <dir>             the model folder to produce (required)
  --work <dir>            intermediate data (default <out>.work): data/ for the trainer, engine/ the
                          teachers' collection (reused by a later prepare of the same corpus and models)
  --base <source>         document encoder to fine-tune, a model source (default ${DEFAULT_BASE});
                          also the SPLADE teacher's model and the tokenizer of idf.json
  --teachers <list>       comma-separated bm25, dense, splade (default bm25,dense)
  --dense-model <source>  the dense teacher (default ${DEFAULT_DENSE_MODEL})
  --queries-per-doc <n>   queries made from each document, kinds in the order title, ict, span,
                          then more ict and span (default 2)
  --max-docs <n>          read only the first n documents of the corpus (default all)
  --negatives <n>         negatives per query, the highest-target candidates (default 15)
  --depth <n>             candidates per teacher, its top n (default 30)
  --seed <n>              seed of the queries and of the trainer (default 1)
  --steps <n>, --epochs <x>, --batch <n>, --lr <x>, --device auto|cpu|cuda
                          passed to the trainer (models/train/train.py --help)
  --holdout <n>           generated queries held out of training (default 500, at most a tenth): the
                          model is validated on them, graded by the teachers (no judgment read), and
                          the best validated model of the run is the one written (0: no validation)
  --gpus <n|auto>         data-parallel trainer processes, one per GPU (default auto: every visible
                          GPU); --batch is the global batch, split evenly between them
  --prepare-only          stop after writing <work>/data
  --json                  stdout is prepare.json's content, one line
  --no-progress           no progress bars on stderr
  -h, --help              this help

Encoder pools follow the service's settings: LSR_ENCODER_WORKERS (default: the CPU count here),
LSR_ENCODER_THREADS, LSR_ENCODER_DEVICE, LSR_BATCH_SIZE.

Exit codes: 0 done; 1 failed; 2 a bad flag (the message names it); ${EXIT_NO_TRAINER} the fit stage
cannot run here (no PyTorch/transformers, or no trainer script): nothing was done; use
--prepare-only and the GPU flow.
`;

function summary(r: PrepareReport, data: string): string {
  const q = r.queries;
  return [
    `prepared ${data}`,
    `  documents ${r.documents}, queries ${q.total} (title ${q.title}, ict ${q.ict}, span ${q.span}; ${q.documents_without_queries} documents gave none)`,
    `  teachers ${Object.keys(r.teachers).join(', ')}, depth ${r.depth}, candidates per query ${r.candidates.mean} (${r.candidates.min}..${r.candidates.max}), negatives ${r.negatives}`,
    `  idf.json ${r.idf.tokens} tokens; seed ${r.seed}`,
    `  seconds: index ${r.timings_s.read_and_index}, queries ${r.timings_s.queries}, idf ${r.timings_s.idf}, pairs ${r.timings_s.pairs}, total ${r.timings_s.total}`,
  ].join('\n');
}

/** Runs `lsr train` with `argv` (the arguments after `train`); returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        corpus: { type: 'string' },
        collection: { type: 'string' },
        base: { type: 'string' },
        out: { type: 'string' },
        work: { type: 'string' },
        teachers: { type: 'string' },
        'dense-model': { type: 'string' },
        'queries-per-doc': { type: 'string' },
        'max-docs': { type: 'string' },
        negatives: { type: 'string' },
        depth: { type: 'string' },
        seed: { type: 'string' },
        steps: { type: 'string' },
        epochs: { type: 'string' },
        batch: { type: 'string' },
        holdout: { type: 'string' },
        gpus: { type: 'string' },
        lr: { type: 'string' },
        device: { type: 'string' },
        'prepare-only': { type: 'boolean' },
        json: { type: 'boolean' },
        'no-progress': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    process.stderr.write(`lsr train: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const flags = values as TrainFlags & { collection?: string; 'prepare-only'?: boolean; json?: boolean; 'no-progress'?: boolean };
  let options;
  let fit;
  let env;
  try {
    if (flags.collection !== undefined)
      throw Object.assign(new Error('--collection is not supported: give the corpus as a BEIR folder with --corpus'), {
        field: 'collection',
      });
    options = parsePrepare(flags);
    fit = parseFit(flags);
    // The service's encoder settings; the pool uses every core here unless LSR_ENCODER_WORKERS says otherwise.
    const { availableParallelism } = await import('node:os');
    const config = loadConfig({ LSR_ENCODER_WORKERS: String(Math.min(64, availableParallelism())), ...process.env });
    env = {
      encoderWorkers: config.encoderWorkers,
      encoderThreads: config.encoderThreads,
      encoderDevice: config.encoderDevice,
      batchSize: config.batchSize,
      progress: !flags['no-progress'],
      log: (line: string) => process.stderr.write(`${line}\n`),
    };
  } catch (e) {
    const err = e as Error & { code?: string; field?: string };
    const code = isServiceError(e) ? ` ${e.code}` : '';
    const field = err.field !== undefined ? ` (--${err.field})` : '';
    process.stderr.write(`lsr train:${code}${field} ${err.message}\n`);
    return 2;
  }
  // Checked before any preparing: without the trainer's Python packages nothing is done, and the
  // message says how to go on (prepare here, fit on a machine that has them).
  const python = pythonExe();
  const missing = flags['prepare-only'] ? undefined : fitUnavailable(python);
  const data = dataDir(options.work);
  if (missing !== undefined) {
    process.stderr.write(
      `lsr train: PyTorch and transformers are needed for the fit stage, and ${missing}.\n` +
        `Run with --prepare-only to write the training data to ${data}, carry that folder to a machine that has them ` +
        `(the GPU machine) and run the trainer there:\n` +
        `  python3 models/train/train.py ${trainerArgs('', data, { dir: options.baseDir, source: options.base }, options.out, options.seed, fit).slice(1).join(' ')}\n`,
    );
    return EXIT_NO_TRAINER;
  }
  let report: PrepareReport;
  try {
    report = await prepare(options, env);
  } catch (e) {
    const err = e as Error;
    process.stderr.write(`lsr train: ${isServiceError(e) ? `${e.code} ` : ''}${err.message}\n`);
    return 1;
  }
  if (flags.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else process.stdout.write(`${summary(report, data)}\n`);
  if (flags['prepare-only']) return 0;
  const args = trainerArgs(trainerPath(), data, { dir: options.baseDir, source: options.base }, options.out, options.seed, fit);
  process.stderr.write(`lsr train: ${python} ${args.join(' ')}\n`);
  const code = await runTrainer(python, args);
  if (code !== 0) process.stderr.write(`lsr train: the trainer exited with ${code}\n`);
  return code === 0 ? 0 : 1;
}
