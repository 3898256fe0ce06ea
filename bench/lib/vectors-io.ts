// The hand-off between the TypeScript bench and the Python peers: raw little-endian arrays in a
// temporary directory (what numpy.fromfile reads without a parser), plus a meta.json.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Vectors } from './synthetic-corpus.js';

function writeArray(path: string, a: Uint32Array | Float32Array | Float64Array): void {
  writeFileSync(path, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

/**
 * `queries` is the scoring set (every reported figure); `tuning`, when given, the disjoint set on
 * which settings are chosen, written as tuning.* (its oracle goes to tuning-oracle.*).
 */
export function writeVectors(dir: string, docs: Vectors, queries: Vectors, vocab: number, tuning?: Vectors): void {
  for (const [name, v] of [['docs', docs], ['queries', queries], ...(tuning ? ([['tuning', tuning]] as const) : [])] as const) {
    writeArray(join(dir, `${name}.offsets.u32`), v.offsets);
    writeArray(join(dir, `${name}.terms.u32`), v.terms);
    writeArray(join(dir, `${name}.weights.f32`), v.weights);
  }
  writeFileSync(
    join(dir, 'meta.json'),
    JSON.stringify({
      docs: docs.offsets.length - 1,
      queries: queries.offsets.length - 1,
      tuning_queries: tuning ? tuning.offsets.length - 1 : 0,
      vocab,
    }),
  );
}

function readBytes(path: string): ArrayBuffer {
  const b = readFileSync(path);
  // Copy into a fresh, aligned buffer: a Node Buffer may be a slice of a shared pool.
  const out = new ArrayBuffer(b.byteLength);
  new Uint8Array(out).set(b);
  return out;
}

/** Result ids a peer wrote, [queries, k] row-major; 0xFFFFFFFF marks a missing result. */
export function readIds(path: string): Uint32Array {
  return new Uint32Array(readBytes(path));
}

export interface Oracle {
  depth: number;
  ids: Uint32Array;
  scores: Float64Array;
}

/** prefix 'oracle' for the scoring set, 'tuning-oracle' for the tuning set. */
export function readOracle(dir: string, queries: number, prefix = 'oracle'): Oracle | null {
  const ip = join(dir, `${prefix}.ids.u32`);
  if (!existsSync(ip)) return null;
  const ids = readIds(ip);
  const scores = new Float64Array(readBytes(join(dir, `${prefix}.scores.f64`)));
  return { depth: ids.length / queries, ids, scores };
}
