// The independent reference of the dense encoder tests: models/bert-numpy-reference.py (BERT's forward
// pass in float64 numpy from model.safetensors, Hugging Face `tokenizers`, sentence-transformers
// pooling). Tests skip, saying why, where python3, numpy or tokenizers is missing.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

/** The committed tiny dense model (models/make-random-bert.py --dense). */
export const TINY_DENSE = fileURLToPath(new URL('../../../models/fixtures/tiny-dense', import.meta.url));

const SCRIPT = fileURLToPath(new URL('../../../models/bert-numpy-reference.py', import.meta.url));

export interface ReferenceRequest {
  dir: string;
  texts: string[];
  prompt?: string;
  max_length: number;
  pooling: string | string[];
  normalize: boolean;
  include_prompt?: boolean;
}

/** Why the reference cannot run here, or null. */
export function referenceMissing(): string | null {
  const r = spawnSync('python3', ['-c', 'import numpy, tokenizers'], { encoding: 'utf8' });
  if (r.error) return `python3 not found (${r.error.message})`;
  if (r.status !== 0)
    return `python3 cannot import numpy and tokenizers; pip install numpy tokenizers (${r.stderr.trim().split('\n').pop()})`;
  return null;
}

export function numpyReference(req: ReferenceRequest): { ids: number[][]; vectors: number[][] } {
  const r = spawnSync('python3', [SCRIPT], { input: JSON.stringify(req), encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`bert-numpy-reference.py failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Largest |got - want| over all rows; also checks the shape. */
export function maxAbsDiff(got: Float32Array, want: number[][], dim: number): number {
  expect(got.length).toBe(want.length * dim);
  let m = 0;
  want.forEach((row, i) => {
    expect(row.length).toBe(dim);
    row.forEach((x, d) => (m = Math.max(m, Math.abs(x - got[i * dim + d]))));
  });
  return m;
}
