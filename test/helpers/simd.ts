// Runs a script under each SIMD level the addon can be forced to (LSR_SIMD), for the kernel
// equivalence tests of both engines.
import { spawnSync } from 'node:child_process';
import { expect } from 'vitest';

/** Runs `script` (an ES module, from the package root) with LSR_SIMD=`level`; returns its last stdout line, parsed. */
export function runWithSimd(script: string, level: string): { level: string; out: unknown } {
  const p = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, LSR_SIMD: level },
    encoding: 'utf8',
  });
  expect(p.status, p.stderr).toBe(0);
  return JSON.parse(p.stdout.trim().split('\n').pop()!);
}

/**
 * `script` prints `{ level, out }`; checks that LSR_SIMD=scalar really runs the scalar path and that
 * AVX2 and AVX-512 give the same `out` (LSR_SIMD caps the level: on a CPU without
 * AVX-512 that run repeats the best level it has).
 */
export function expectSameOnEverySimdLevel(script: string): void {
  const scalar = runWithSimd(script, 'scalar');
  expect(scalar.level).toBe('scalar');
  for (const level of ['avx2', 'avx512']) expect(runWithSimd(script, level).out).toEqual(scalar.out);
}
