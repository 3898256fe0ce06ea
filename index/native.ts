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
  /** Document weights stored as f16 (`weightPrecision: 'f16'`). */
  weightsF16: boolean;
  /** Forward-index term ids stored as u16 (the segment's vocabulary fits). */
  terms16: boolean;
  /** (term, 65,536-document window) runs of the inverted lists. */
  runs: number;
  approx: boolean;
  approxBlocks: boolean;
  blocks: number;
  approxPostings: number;
  approxBlockRatio: number;
  approxSummaryEnergy: number;
  formatVersion: number;
  /** Served from its file through a read-only mapping (a committed or opened segment), not from owned memory. */
  mapped: boolean;
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
  weightsF16?: boolean;
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

export interface NativeDenseSegmentStats {
  docs: number;
  deleted: number;
  dim: number;
  int8: boolean;
  /** An HNSW graph is present. */
  graph: boolean;
  hnswM: number;
  hnswEfConstruction: number;
  hnswMaxLevel: number;
  bytes: number;
  formatVersion: number;
  /** As NativeSegmentStats.mapped. */
  mapped: boolean;
  sectionBytes: Record<'docnos' | 'vectors' | 'scales' | 'links0' | 'upperOffsets' | 'upperLinks', number>;
}

export interface NativeDenseSegment {
  stats(): NativeDenseSegmentStats;
  delete(docnos: Uint32Array): number;
  deletedBits(): Uint8Array;
  docnos(): Uint32Array;
  /** The stored vector (dequantized for int8), or null when the segment does not hold the document. */
  vector(docno: number): { vector: Float32Array; deleted: boolean } | null;
  save(path: string): Promise<void>;
}

export interface NativeDenseBuildParams {
  int8?: boolean;
  threads?: number;
  /** HNSW links per node (2M on level 0); 0 = no graph. */
  hnswM?: number;
  hnswEfConstruction?: number;
  hnswSeed?: number;
}

export interface NativeDenseSearchParams {
  k: number;
  approx?: boolean;
  ef?: number;
  filter?: Uint8Array;
}

/** Opaque: the screened head's prepared weights (native/src/head/screened-head.h). */
export type NativeHeadScreen = { readonly __brand: 'NativeHeadScreen' };

/** How often the screened head ran, and the share of (text, term) pairs it left to the f32 kernel. */
export interface HeadScreenStats {
  callsScreened: number;
  callsPlain: number;
  pairs: number;
  candidates: number;
}

export interface NativeAddon {
  cpuLevel(): 'avx512' | 'avx2' | 'scalar';
  buildSparseSegment(
    docnos: Uint32Array,
    offsets: Uint32Array,
    terms: Uint32Array,
    weights: Float32Array,
    vocab: number,
    params: NativeBuildParams,
    async: true,
  ): Promise<NativeSegment>;
  buildSparseSegment(
    docnos: Uint32Array,
    offsets: Uint32Array,
    terms: Uint32Array,
    weights: Float32Array,
    vocab: number,
    params: NativeBuildParams,
    async: false,
  ): NativeSegment;
  openSparseSegment(path: string): NativeSegment;
  searchSparse(segments: NativeSegment[], terms: Uint32Array, weights: Float32Array, params: NativeSearchParams): NativeHits;
  searchSparseBatch(
    segments: NativeSegment[],
    offsets: Uint32Array,
    terms: Uint32Array,
    weights: Float32Array,
    params: NativeSearchParams,
    threads: number,
  ): Promise<NativeBatchHits>;
  mergeSparseSegments(segments: NativeSegment[], params: NativeBuildParams): Promise<NativeSegment>;
  buildDenseSegment(
    docnos: Uint32Array,
    vectors: Float32Array,
    dim: number,
    params: NativeDenseBuildParams,
    async: true,
  ): Promise<NativeDenseSegment>;
  buildDenseSegment(
    docnos: Uint32Array,
    vectors: Float32Array,
    dim: number,
    params: NativeDenseBuildParams,
    async: false,
  ): NativeDenseSegment;
  openDenseSegment(path: string): NativeDenseSegment;
  searchDense(segments: NativeDenseSegment[], query: Float32Array, params: NativeDenseSearchParams): NativeHits;
  searchDenseBatch(
    segments: NativeDenseSegment[],
    queries: Float32Array,
    dim: number,
    params: NativeDenseSearchParams,
    threads: number,
  ): Promise<NativeBatchHits>;
  mergeDenseSegments(segments: NativeDenseSegment[], params: NativeDenseBuildParams): Promise<NativeDenseSegment>;
  /** The dense kernels' instruction set after the LSR_SIMD cap. */
  denseSimdLevel(): 'avx512' | 'avx2' | 'scalar';
  fusedSparseHead(
    hidden: Float32Array,
    mask: Uint8Array,
    texts: number,
    seq: number,
    dim: number,
    weights: Float32Array | Uint16Array,
    bias: Float32Array | null,
    vocab: number,
    options: { threads?: number; threshold?: number; topk?: number; dense?: boolean; unfused?: boolean; screen?: NativeHeadScreen },
  ): { offsets: Uint32Array; terms: Uint32Array; weights: Float32Array } & { dense?: Float32Array };
  /** The fused head's kernel for f32 or bf16 weights after the LSR_SIMD cap, e.g. `avx512bf16-panel`. */
  fusedHeadKernel(bf16: boolean): string;
  /** The screened head's int8 panels and bounds for f32 weights; null where the CPU lacks AVX512_VNNI. */
  prepareHeadScreen(weights: Float32Array, vocab: number, dim: number, threads: number): NativeHeadScreen | null;
  headScreenStats(screen: NativeHeadScreen): HeadScreenStats;
  /** Whether prepareHeadScreen gives a screen on this CPU (AVX512_VNNI, after the LSR_SIMD cap). */
  headScreenSupported(): boolean;
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
