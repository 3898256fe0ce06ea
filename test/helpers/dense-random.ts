// Seeded dense fixtures and the float64 brute-force oracle the dense engine is checked against.
import { mulberry32 } from './prng.js';

/** n row-major vectors with components uniform in [-1, 1). */
export function uniformVectors(n: number, dim: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  const v = new Float32Array(n * dim);
  for (let i = 0; i < v.length; i++) v[i] = r() * 2 - 1;
  return v;
}

function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/**
 * Unit vectors around `clusters` random centres (noise of standard deviation `spread` per
 * component before normalizing): the shape of real embeddings, where a graph index is not
 * trivially easy (uniform random data in high dimension has no neighbourhoods).
 */
export function clusteredVectors(n: number, dim: number, clusters: number, spread: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  const centres = Array.from({ length: clusters }, () => Float64Array.from({ length: dim }, () => gauss(r)));
  const v = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const c = centres[Math.floor(r() * clusters)];
    let norm = 0;
    const row = new Float64Array(dim);
    for (let j = 0; j < dim; j++) {
      row[j] = c[j] / Math.sqrt(dim) + spread * gauss(r);
      norm += row[j] * row[j];
    }
    norm = Math.sqrt(norm) || 1;
    for (let j = 0; j < dim; j++) v[i * dim + j] = row[j] / norm;
  }
  return v;
}

export interface Scored {
  docno: number;
  score: number;
}

/** Exact top-k in float64 over rows whose docno passes `keep`; ties by ascending docno. */
export function denseOracle(
  vectors: Float32Array,
  docnos: ArrayLike<number>,
  dim: number,
  q: Float32Array,
  k: number,
  keep: (docno: number) => boolean = () => true,
): Scored[] {
  const out: Scored[] = [];
  for (let i = 0; i < docnos.length; i++) {
    if (!keep(docnos[i])) continue;
    let s = 0;
    for (let j = 0; j < dim; j++) s += q[j] * vectors[i * dim + j];
    out.push({ docno: docnos[i], score: s });
  }
  out.sort((a, b) => b.score - a.score || a.docno - b.docno);
  return out.slice(0, k);
}

/** |result ∩ truth| / |truth| over the first k of each. */
export function recall(got: ArrayLike<number>, truth: Scored[]): number {
  if (truth.length === 0) return 1;
  const t = new Set(truth.map((x) => x.docno));
  let hit = 0;
  for (let i = 0; i < Math.min(got.length, truth.length); i++) if (t.has(got[i])) hit++;
  return hit / truth.length;
}
