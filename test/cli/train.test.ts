// `lsr train` as users run it (a child process): every flag checked with a message that names it
// (exit 2), the fit stage refused with a clear message when its Python packages are missing (exit 3,
// nothing done), and a --prepare-only run whose --json stdout is prepare.json's content.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { type CliResult, runLsr } from '../helpers/lsr-cli.js';
import { removeDir, tempDir } from '../helpers/temp-dir.js';
import { writeCorpusFolder } from '../train/corpus.js';

const TINY_BERT = fileURLToPath(new URL('../../models/fixtures/tiny-bert', import.meta.url));
const TINY_DENSE = fileURLToPath(new URL('../../models/fixtures/tiny-dense', import.meta.url));
const root = tempDir('lsr-train-cli-');
const corpus = writeCorpusFolder(join(root, 'beir'));
afterAll(() => removeDir(root));

const base = ['--corpus', corpus, '--out', join(root, 'm'), '--base', `dir:${TINY_BERT}`, '--dense-model', `dir:${TINY_DENSE}`];
const lsr = (args: string[], env: Record<string, string> = {}): Promise<CliResult> => runLsr(['train', ...args], env);

describe('lsr train', () => {
  it('names the flag at fault, with the error code, and exits 2', async () => {
    const cases: [string[], RegExp][] = [
      [['--out', join(root, 'm')], /VALIDATION_FAILED \(--corpus\) --corpus <BEIR folder> is required/],
      [['--corpus', corpus], /\(--out\) --out <dir> is required/],
      [['--corpus', join(root, 'nope'), '--out', join(root, 'm')], /\(--corpus\) --corpus .*nope does not exist/],
      [['--corpus', root, '--out', join(root, 'm')], /\(--corpus\) .* is not a BEIR folder: it has no corpus\.jsonl/],
      [
        [...base, '--teachers', 'bm25,colbert'],
        /\(--teachers\) --teachers takes a comma-separated list of bm25, dense, splade; got "colbert"/,
      ],
      [[...base, '--teachers', 'bm25,bm25'], /\(--teachers\) --teachers names a teacher twice/],
      [[...base, '--queries-per-doc', '0'], /\(--queries-per-doc\) --queries-per-doc must be an integer from 1 to 100, got "0"/],
      [[...base, '--max-docs', 'ten'], /\(--max-docs\) --max-docs must be an integer/],
      [[...base, '--negatives', '1.5'], /\(--negatives\) --negatives must be an integer from 1 to 1000/],
      [[...base, '--depth=-3'], /\(--depth\) --depth must be an integer from 1 to 1000/],
      [[...base, '--seed', 'x'], /\(--seed\) --seed must be an integer from 0 to 4294967295/],
      [[...base, '--steps', '0'], /\(--steps\) --steps must be an integer/],
      [[...base, '--batch', '0'], /\(--batch\) --batch must be an integer from 1 to 65536/],
      [[...base, '--gpus', '0'], /\(--gpus\) --gpus must be an integer from 1 to 1024, got "0"/],
      [[...base, '--holdout=-1'], /\(--holdout\) --holdout must be an integer from 0 to 1000000, got "-1"/],
      [[...base, '--lr', '2'], /\(--lr\) --lr must be a number in \(0, 1\), got "2"/],
      [[...base, '--device', 'tpu'], /\(--device\) --device must be one of auto, cpu, cuda, got "tpu"/],
      [[...base, '--work', join(root, 'm')], /\(--work\) --work must be another folder than --out/],
      [[...base, '--base', 'dir:/no/such/model'], /INVALID_MODEL \(--base\)/],
      [
        [...base, '--teachers', 'bm25', '--dense-model', `dir:${TINY_DENSE}`],
        /\(--dense-model\) --dense-model applies when --teachers has dense/,
      ],
      [[...base, '--collection', 'scifact'], /\(--collection\) --collection is not supported/],
      [[...base, '--frobnicate'], /Unknown option '--frobnicate'/],
    ];
    for (const [args, message] of cases) {
      const r = await lsr(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stdout).toBe('');
    }
    expect(existsSync(join(root, 'm.work'))).toBe(false);
  }, 240_000);

  it('prints its help, which says that only the corpus is read', async () => {
    const r = await lsr(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Only corpus\.jsonl is read: never queries\.jsonl, never qrels/);
    expect(r.stdout).toMatch(/--prepare-only/);
  });

  it('refuses the fit stage without PyTorch and transformers, before doing anything (exit 3)', async () => {
    const r = await lsr(base, { LSR_PYTHON: join(root, 'no-python') });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/PyTorch and transformers are needed for the fit stage/);
    expect(r.stderr).toMatch(/Run with --prepare-only/);
    expect(r.stderr).toMatch(/python3 models\/train\/train\.py --data .*m\.work\/data --base .*tiny-bert --out .*m --seed 1/);
    expect(existsSync(join(root, 'm.work'))).toBe(false);
  });

  it('prepares only, printing prepare.json with --json', async () => {
    const r = await lsr([...base, '--prepare-only', '--json', '--max-docs', '12', '--depth', '5', '--negatives', '3'], {
      LSR_ENCODER_WORKERS: '1',
    });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const report = JSON.parse(lines[0]);
    expect(report).toMatchObject({ documents: 12, max_docs: 12, depth: 5, negatives: 3, seed: 1 });
    expect(Object.keys(report.teachers)).toEqual(['bm25', 'dense']);
    expect(existsSync(join(root, 'm.work', 'data', 'train.jsonl'))).toBe(true);
    expect(existsSync(join(root, 'm'))).toBe(false);
  }, 120_000);

  it('runs the trainer after prepare with the flags passed through, and reports its failure', async () => {
    // A stand-in for the Python interpreter (an outside program, not the trainer): it says yes to the
    // import check and records the trainer's command line, exiting with FAKE_EXIT.
    const python = join(root, 'fake-python');
    const argsFile = join(root, 'trainer-args');
    writeFileSync(python, `#!/bin/sh\nif [ "$1" = "-c" ]; then exit 0; fi\nprintf '%s\\n' "$@" > "${argsFile}"\nexit \${FAKE_EXIT:-0}\n`);
    chmodSync(python, 0o755);
    const args = [
      ...base,
      '--out',
      join(root, 'fit'),
      '--max-docs',
      '12',
      '--steps',
      '5',
      '--batch',
      '4',
      '--lr',
      '0.001',
      '--device',
      'cpu',
      '--holdout',
      '0',
      '--gpus',
      '1',
    ];
    const ok = await lsr(args, { LSR_PYTHON: python, LSR_ENCODER_WORKERS: '1' });
    expect(ok.code, ok.stderr).toBe(0);
    expect(readFileSync(argsFile, 'utf8').trim().split('\n')).toEqual([
      join(fileURLToPath(new URL('../..', import.meta.url)), 'models', 'train', 'train.py'),
      '--data',
      join(root, 'fit.work', 'data'),
      '--base',
      TINY_BERT,
      '--base-source',
      `dir:${TINY_BERT}`,
      '--out',
      join(root, 'fit'),
      '--seed',
      '1',
      '--steps',
      '5',
      '--batch',
      '4',
      '--lr',
      '0.001',
      '--device',
      'cpu',
      '--holdout',
      '0',
      '--gpus',
      '1',
    ]);
    expect(existsSync(join(root, 'fit.work', 'data', 'train.jsonl'))).toBe(true);
    const failed = await lsr(args, { LSR_PYTHON: python, LSR_ENCODER_WORKERS: '1', FAKE_EXIT: '5' });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/the trainer exited with 5/);
  }, 120_000);
});
