// The dense pool as `npm start` runs it: compiled to JavaScript, its workers loading encoder-worker.js
// and dense-encoder.js (under vitest the pool runs from .ts sources through the tsx bootstrap).
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { DenseEncoder } from '../../../src/encoder/dense/dense-encoder.js';
import { TEXTS } from '../fixture.js';
import { TINY_DENSE } from './dense-reference.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

it('runs its dense workers from compiled JavaScript', async () => {
  const out = join(ROOT, 'node_modules', '.cache', `lsr-dense-dist-test-${process.pid}`);
  try {
    const tsc = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', out], { cwd: ROOT, encoding: 'utf8' });
    expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
    const script = `
      const { DenseEncoderPool } = await import(${JSON.stringify(join(out, 'src', 'encoder', 'dense', 'dense-pool.js'))});
      const pool = await DenseEncoderPool.open(${JSON.stringify(TINY_DENSE)}, { workers: 2 });
      const q = await pool.encodeQueries(${JSON.stringify(TEXTS)});
      const d = await pool.encodeDocuments(${JSON.stringify(TEXTS)});
      await pool.close();
      console.log(JSON.stringify({ q: [...q], d: [...d] }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const enc = await DenseEncoder.load(TINY_DENSE);
    expect(got.q).toEqual([...(await enc.encodeQueries(TEXTS))]);
    expect(got.d).toEqual([...(await enc.encodeDocuments(TEXTS))]);
    await enc.close();
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 240_000);
