// `lsr train`'s second stage: the Python trainer (models/train/train.py, PyTorch and transformers) on
// the prepared `<work>/data`, writing the model folder. Python runs only here, offline, never in the
// service's request path. LSR_PYTHON picks the interpreter (default python3), as `lsr models` does.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FitOptions } from './options.js';

/** The trainer script of this package: models/train/train.py under the folder holding package.json (from src/ or dist/src/). */
export function trainerPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; ) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'models', 'train', 'train.py');
    const up = dirname(dir);
    if (up === dir) return join(here, 'train.py');
    dir = up;
  }
}

/** The interpreter of the fit stage. */
export function pythonExe(env: NodeJS.ProcessEnv = process.env): string {
  return env.LSR_PYTHON || 'python3';
}

/**
 * Why the fit stage cannot run here, or undefined when it can: the interpreter runs and imports
 * torch, transformers and sentence-transformers (the trainer's model and losses), and the trainer
 * script exists.
 */
export function fitUnavailable(python: string, trainer = trainerPath()): string | undefined {
  const r = spawnSync(python, ['-c', 'import torch, transformers, sentence_transformers'], { encoding: 'utf8' });
  if (r.error) return `${python} does not run (${r.error.message})`;
  if (r.status !== 0) {
    const last = (r.stderr ?? '').trim().split('\n').pop() ?? `exit ${r.status}`;
    return `${python} cannot import torch, transformers and sentence_transformers (${last})`;
  }
  if (!existsSync(trainer)) return `the trainer ${trainer} is not in this build`;
  return undefined;
}

/** The trainer's command line; `baseSource` (the base as the user named it) goes to the training card. */
export function trainerArgs(
  trainer: string,
  data: string,
  base: { dir: string; source: string },
  out: string,
  seed: number,
  f: FitOptions,
): string[] {
  return [
    trainer,
    '--data',
    data,
    '--base',
    base.dir,
    '--base-source',
    base.source,
    '--out',
    out,
    '--seed',
    String(seed),
    ...(f.steps !== undefined ? ['--steps', String(f.steps)] : []),
    ...(f.epochs !== undefined ? ['--epochs', String(f.epochs)] : []),
    ...(f.batch !== undefined ? ['--batch', String(f.batch)] : []),
    ...(f.lr !== undefined ? ['--lr', String(f.lr)] : []),
    ...(f.device !== undefined ? ['--device', f.device] : []),
    ...(f.holdout !== undefined ? ['--holdout', String(f.holdout)] : []),
    ...(f.gpus !== undefined ? ['--gpus', String(f.gpus)] : []),
  ];
}

/** Runs the trainer with this process's stdio; resolves with its exit code. */
export function runTrainer(python: string, args: string[]): Promise<number> {
  return new Promise((res, rej) => {
    const child = spawn(python, args, { stdio: 'inherit' });
    child.on('error', rej);
    child.on('close', (code, signal) => res(code ?? (signal ? 128 : 1)));
  });
}

/** `<work>/data`, the folder the trainer reads. */
export function dataDir(work: string): string {
  return join(work, 'data');
}
