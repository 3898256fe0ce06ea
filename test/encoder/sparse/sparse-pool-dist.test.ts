// The pool as `npm start` runs it: compiled to JavaScript, its workers loading encoder-worker.js
// (under vitest the pool runs from .ts sources through the tsx bootstrap instead).
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { SpladeEncoder } from '../../../src/encoder/sparse/splade-encoder.js';
import { TEXTS, TINY_MODEL } from '../fixture.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

it('runs its workers from compiled JavaScript', async () => {
  // Inside the package (so the addon and node_modules resolve as from dist/), outside git's view.
  const out = join(ROOT, 'node_modules', '.cache', `lsr-dist-test-${process.pid}`);
  try {
    const tsc = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', out], { cwd: ROOT, encoding: 'utf8' });
    expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
    const script = `
      const { SparseEncoderPool } = await import(${JSON.stringify(join(out, 'src', 'encoder', 'sparse', 'sparse-pool.js'))});
      const pool = await SparseEncoderPool.open(${JSON.stringify(TINY_MODEL)}, { workers: 2 });
      const v = await pool.encode(${JSON.stringify(TEXTS)});
      await pool.close();
      console.log(JSON.stringify({ offsets: [...v.offsets], terms: [...v.terms], weights: [...v.weights] }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const enc = await SpladeEncoder.load(TINY_MODEL);
    const want = await enc.encode(TEXTS);
    await enc.close();
    expect(got.offsets).toEqual([...want.offsets]);
    expect(got.terms).toEqual([...want.terms]);
    expect(got.weights).toEqual([...want.weights]);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 240_000);
