// Argument checks for the engine's public entry points, with messages that name the field.
// The native layer trusts what passes here.
import { IndexError } from './errors.js';
import type { SearchOptions, SparseBatch, SparseQuery } from './types.js';

export const MAX_K = 100_000;

function fail(message: string): never {
  throw new IndexError('INVALID_ARGUMENT', message);
}

export function validateBatch(b: SparseBatch, vocab: number, minDocno: number, maxWeight = Infinity): number {
  if (!(b.offsets instanceof Uint32Array)) fail('batch.offsets must be a Uint32Array');
  if (!(b.terms instanceof Uint32Array)) fail('batch.terms must be a Uint32Array');
  if (!(b.weights instanceof Float32Array)) fail('batch.weights must be a Float32Array');
  if (b.offsets.length < 1) fail('batch.offsets must have at least one entry (0)');
  const n = b.offsets.length - 1;
  if (b.terms.length !== b.weights.length) fail(`batch.terms has ${b.terms.length} entries but batch.weights has ${b.weights.length}`);
  if (b.offsets[0] !== 0) fail('batch.offsets[0] must be 0');
  if (b.offsets[n] !== b.terms.length) fail(`batch.offsets[${n}] must equal batch.terms.length (${b.terms.length})`);
  for (let i = 0; i < n; i++) if (b.offsets[i + 1] < b.offsets[i]) fail(`batch.offsets must be non-decreasing (at ${i + 1})`);
  for (let i = 0; i < b.terms.length; i++) {
    if (b.terms[i] >= vocab) fail(`batch.terms[${i}] = ${b.terms[i]} is outside the vocabulary (${vocab})`);
    const w = b.weights[i];
    if (!(w >= 0) || w === Infinity) fail(`batch.weights[${i}] = ${w} must be finite and >= 0`);
    if (w > maxWeight) fail(`batch.weights[${i}] = ${w} exceeds ${maxWeight}, the largest weight the index's weightPrecision stores`);
  }
  if (b.docnos !== undefined) {
    if (!(b.docnos instanceof Uint32Array)) fail('batch.docnos must be a Uint32Array');
    if (b.docnos.length !== n) fail(`batch.docnos has ${b.docnos.length} entries for ${n} documents`);
    for (let i = 0; i < n; i++) {
      if (b.docnos[i] < (i === 0 ? minDocno : b.docnos[i - 1] + 1))
        fail(`batch.docnos[${i}] = ${b.docnos[i]} must be strictly increasing and >= ${i === 0 ? minDocno : b.docnos[i - 1] + 1}`);
    }
  }
  return n;
}

export function validateQuery(q: SparseQuery, vocab: number, field = 'query'): void {
  if (!q || !(q.terms instanceof Uint32Array)) fail(`${field}.terms must be a Uint32Array`);
  if (!(q.weights instanceof Float32Array)) fail(`${field}.weights must be a Float32Array`);
  if (q.terms.length !== q.weights.length)
    fail(`${field}.terms has ${q.terms.length} entries but ${field}.weights has ${q.weights.length}`);
  for (let i = 0; i < q.terms.length; i++) {
    if (q.terms[i] >= vocab) fail(`${field}.terms[${i}] = ${q.terms[i]} is outside the vocabulary (${vocab})`);
    const w = q.weights[i];
    if (!(w >= 0) || w === Infinity) fail(`${field}.weights[${i}] = ${w} must be finite and >= 0`);
  }
}

export function validateSearch(o: SearchOptions): void {
  if (!o || !Number.isInteger(o.k) || o.k < 1 || o.k > MAX_K) fail(`k must be an integer from 1 to ${MAX_K}, got ${o?.k}`);
  if (o.mode !== undefined && o.mode !== 'exact' && o.mode !== 'approx') fail(`mode must be "exact" or "approx", got ${String(o.mode)}`);
  if (o.queryCut !== undefined && (!Number.isInteger(o.queryCut) || o.queryCut < 1))
    fail(`queryCut must be a positive integer, got ${o.queryCut}`);
  if (o.heapFactor !== undefined && !(o.heapFactor > 0 && o.heapFactor <= 1)) fail(`heapFactor must be in (0, 1], got ${o.heapFactor}`);
  if (o.strategy !== undefined && o.strategy !== 'pruned' && o.strategy !== 'blocks')
    fail(`strategy must be "pruned" or "blocks", got ${String(o.strategy)}`);
  if (o.rerank !== undefined && (!Number.isInteger(o.rerank) || o.rerank < 1 || o.rerank > MAX_K))
    fail(`rerank must be an integer from 1 to ${MAX_K}, got ${o.rerank}`);
  if (o.filter !== undefined && !(o.filter instanceof Uint8Array)) fail('filter must be a Uint8Array bitset');
}

// Dense entry points (DenseIndex).

/** Checks a batch of row-major vectors; returns the number of rows. */
export function validateDenseBatch(vectors: unknown, docnos: unknown, dim: number, minDocno: number): number {
  if (!(vectors instanceof Float32Array)) fail('batch.vectors must be a Float32Array');
  if (vectors.length % dim !== 0) fail(`batch.vectors has ${vectors.length} values, not a multiple of the index dimension ${dim}`);
  const n = vectors.length / dim;
  for (let i = 0; i < vectors.length; i++) {
    const v = vectors[i];
    if (!Number.isFinite(v)) fail(`batch.vectors[${i}] = ${v} (row ${Math.floor(i / dim)}, component ${i % dim}) must be finite`);
  }
  if (docnos !== undefined) {
    if (!(docnos instanceof Uint32Array)) fail('batch.docnos must be a Uint32Array');
    if (docnos.length !== n) fail(`batch.docnos has ${docnos.length} entries for ${n} vectors`);
    for (let i = 0; i < n; i++) {
      if (docnos[i] < (i === 0 ? minDocno : docnos[i - 1] + 1))
        fail(`batch.docnos[${i}] = ${docnos[i]} must be strictly increasing and >= ${i === 0 ? minDocno : docnos[i - 1] + 1}`);
    }
  }
  return n;
}

export function validateDenseQuery(q: unknown, dim: number, field = 'query'): asserts q is Float32Array {
  if (!(q instanceof Float32Array)) fail(`${field} must be a Float32Array`);
  if (q.length !== dim) fail(`${field} has ${q.length} components but the index dimension is ${dim}`);
  for (let i = 0; i < dim; i++) if (!Number.isFinite(q[i])) fail(`${field}[${i}] = ${q[i]} must be finite`);
}

export const MAX_EF = 100_000;

/** `docnoLimit`: the index's next document number; a filter must cover every number below it. */
export function validateDenseSearch(o: { k: number; mode?: string; ef?: number; filter?: Uint8Array }, docnoLimit: number): void {
  if (!o || !Number.isInteger(o.k) || o.k < 1 || o.k > MAX_K) fail(`k must be an integer from 1 to ${MAX_K}, got ${o?.k}`);
  if (o.mode !== undefined && o.mode !== 'exact' && o.mode !== 'approx') fail(`mode must be "exact" or "approx", got ${String(o.mode)}`);
  if (o.ef !== undefined && (!Number.isInteger(o.ef) || o.ef < 1 || o.ef > MAX_EF))
    fail(`ef must be an integer from 1 to ${MAX_EF}, got ${o.ef}`);
  if (o.filter !== undefined) {
    if (!(o.filter instanceof Uint8Array)) fail('filter must be a Uint8Array bitset');
    const need = Math.ceil(docnoLimit / 8);
    if (o.filter.length < need)
      fail(`filter has ${o.filter.length} bytes but must cover document numbers 0..${docnoLimit - 1} (at least ${need} bytes)`);
  }
}
