// Loads the compiled addon. The build output lives at <package root>/build/Release whether this file
// runs from index/ (tests, tsx) or dist/index/ (compiled), so walk up to the package root.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NativeHits {
  docs: Uint32Array;
  scores: Float32Array;
}

export interface NativeBatchHits extends NativeHits {
  offsets: Uint32Array;
}

export interface NativeSegmentStats {
  docs: number;
  deleted: number;
  nnz: number;
  vocab: number;
  bytes: number;
  quantized: boolean;
  approx: boolean;
  approxBlocks: boolean;
  blocks: number;
  approxPostings: number;
  approxBlockRatio: number;
  approxSummaryEnergy: number;
  formatVersion: number;
  sectionBytes: Record<string, number>;
}

export interface NativeSegment {
  stats(): NativeSegmentStats;
  delete(docnos: Uint32Array): number;
  deletedBits(): Uint8Array;
  docnos(): Uint32Array;
  document(docno: number): { terms: Uint32Array; weights: Float32Array; deleted: boolean } | null;
  save(path: string): Promise<void>;
}

export interface NativeBuildParams {
  quantizeU8?: boolean;
  threads?: number;
  approxPostings?: number;
  approxBlockRatio?: number;
  approxSummaryEnergy?: number;
  approxBlocks?: boolean;
}

export interface NativeSearchParams {
  k: number;
  approx?: boolean;
  queryCut?: number;
  heapFactor?: number;
  strategy?: 'pruned' | 'blocks';
  rerank?: number;
  filter?: Uint8Array;
}

export interface NativeAddon {
  cpuLevel(): 'avx512' | 'avx2' | 'scalar';
  buildSparseSegment(
    docnos: Uint32Array, offsets: Uint32Array, terms: Uint32Array, weights: Float32Array,
    vocab: number, params: NativeBuildParams, async: true,
  ): Promise<NativeSegment>;
  buildSparseSegment(
    docnos: Uint32Array, offsets: Uint32Array, terms: Uint32Array, weights: Float32Array,
    vocab: number, params: NativeBuildParams, async: false,
  ): NativeSegment;
  openSparseSegment(path: string): NativeSegment;
  searchSparse(segments: NativeSegment[], terms: Uint32Array, weights: Float32Array, params: NativeSearchParams): NativeHits;
  searchSparseBatch(
    segments: NativeSegment[], offsets: Uint32Array, terms: Uint32Array, weights: Float32Array,
    params: NativeSearchParams, threads: number,
  ): Promise<NativeBatchHits>;
  mergeSparseSegments(segments: NativeSegment[], params: NativeBuildParams): Promise<NativeSegment>;
  fusedSparseHead(
    hidden: Float32Array, mask: Uint8Array, texts: number, seq: number, dim: number,
    weights: Float32Array | Uint16Array, bias: Float32Array | null, vocab: number,
    options: { threads?: number; threshold?: number; topk?: number; dense?: boolean; unfused?: boolean },
  ): { offsets: Uint32Array; terms: Uint32Array; weights: Float32Array } & { dense?: Float32Array };
}

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the package root above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}

function load(): NativeAddon {
  const root = packageRoot();
  const path = join(root, 'build', 'Release', 'lsr_native.node');
  if (!existsSync(path)) {
    const err = new Error(`native addon not built: ${path} is missing; run "npm run build:native"`);
    (err as Error & { code: string }).code = 'NATIVE_NOT_BUILT';
    throw err;
  }
  return createRequire(import.meta.url)(path) as NativeAddon;
}

export const native: NativeAddon = load();
