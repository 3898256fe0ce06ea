// The fused sparse LM head on the CPU: SPLADE pooling straight from the MLM head's transformed
// hidden states, without a [tokens × vocabulary] logits buffer (native/src/head).
import { native, type HeadScreenStats, type NativeHeadScreen } from '../../../index/native.js';

/** Hidden states of a batch of texts, as the ONNX trunk returns them. */
export interface HeadBatch {
  /** [texts × seq × dim] row-major. */
  hidden: Float32Array;
  /** [texts × seq]; 1 = real token, 0 = padding (ignored by the max). */
  mask: Uint8Array;
  texts: number;
  seq: number;
}

/** The vocabulary projection: out[v] = log1p(relu(max_t hidden[t] · weights[v] + bias[v])). */
export interface HeadWeights {
  dim: number;
  vocab: number;
  /**
   * [vocab × dim] as f32, or as bf16 (the upper 16 bits of each f32) in a Uint16Array. With bf16
   * weights the head also rounds the hidden states to bf16 (round to nearest even) and sums the
   * exact bf16 × bf16 products in f32: vdpbf16ps where the CPU has AVX512_BF16, the f32 kernels on
   * widened values elsewhere (the same products, so the paths agree to f32 summation order).
   */
  weights: Float32Array | Uint16Array;
  /** [vocab], or null for no bias. */
  bias: Float32Array | null;
  /**
   * The screened head's prepared form of these f32 weights (prepareScreen): the head then proves most
   * terms zero with an int8 pass and a rigorous error bound, and runs f32 only on the rest. The output
   * is bit-identical to the plain f32 head's. Absent or null: the plain head.
   */
  screen?: NativeHeadScreen | null;
}

export interface HeadOptions {
  /** Native threads over vocabulary tiles. Default 1. */
  threads?: number;
  /** Keep only weights above this value (after log1p). Default 0: every positive weight. */
  threshold?: number;
  /** Keep at most this many of each text's heaviest terms. Default 0: no limit. */
  topk?: number;
}

/** One sparse vector per text, terms ascending. */
export interface SparseVectors {
  offsets: Uint32Array;
  terms: Uint32Array;
  weights: Float32Array;
}

export class HeadInputError extends Error {
  readonly code = 'INVALID_HEAD_INPUT';
}

function check(cond: boolean, message: string): void {
  if (!cond) throw new HeadInputError(message);
}

/** Converts f32 weights to bf16 with round-to-nearest-even (the reduced-precision option). */
export function toBf16(w: Float32Array): Uint16Array {
  const u = new Uint32Array(w.buffer, w.byteOffset, w.length);
  const out = new Uint16Array(w.length);
  for (let i = 0; i < u.length; i++) {
    const x = u[i];
    out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
  return out;
}

function validate(b: HeadBatch, w: HeadWeights, o: HeadOptions): void {
  check(Number.isInteger(b.texts) && b.texts >= 0, `texts must be a non-negative integer, got ${b.texts}`);
  check(Number.isInteger(b.seq) && b.seq >= 0, `seq must be a non-negative integer, got ${b.seq}`);
  check(Number.isInteger(w.dim) && w.dim > 0, `dim must be a positive integer, got ${w.dim}`);
  check(Number.isInteger(w.vocab) && w.vocab > 0, `vocab must be a positive integer, got ${w.vocab}`);
  check(
    b.hidden instanceof Float32Array && b.hidden.length === b.texts * b.seq * w.dim,
    `hidden must be a Float32Array of texts × seq × dim = ${b.texts * b.seq * w.dim} values, got ${b.hidden?.length}`,
  );
  check(
    b.mask instanceof Uint8Array && b.mask.length === b.texts * b.seq,
    `mask must be a Uint8Array of texts × seq = ${b.texts * b.seq} values, got ${b.mask?.length}`,
  );
  check(
    (w.weights instanceof Float32Array || w.weights instanceof Uint16Array) && w.weights.length === w.vocab * w.dim,
    `weights must be a Float32Array or Uint16Array (bf16) of vocab × dim = ${w.vocab * w.dim} values, got ${w.weights?.length}`,
  );
  check(w.screen == null || w.weights instanceof Float32Array, 'screen needs the f32 weights it was prepared from, not bf16');
  check(
    w.bias === null || (w.bias instanceof Float32Array && w.bias.length === w.vocab),
    `bias must be null or a Float32Array of vocab = ${w.vocab} values`,
  );
  check(o.threads === undefined || (Number.isInteger(o.threads) && o.threads >= 1), `threads must be a positive integer, got ${o.threads}`);
  check(
    o.threshold === undefined || (Number.isFinite(o.threshold) && o.threshold >= 0),
    `threshold must be a finite number >= 0, got ${o.threshold}`,
  );
  check(o.topk === undefined || (Number.isInteger(o.topk) && o.topk >= 0), `topk must be a non-negative integer, got ${o.topk}`);
}

/**
 * The kernel the head runs on this CPU for f32 or bf16 weights (after LSR_SIMD), e.g.
 * `avx512-panel`, `avx512bf16-panel`, `avx2-rows (bf16 widened)`; for benchmarks and reports.
 */
export function headKernel(bf16: boolean): string {
  return native.fusedHeadKernel(bf16);
}

/**
 * Prepares f32 weights for the screened head (int8 panels, scales and norms: ~dim + 20 bytes per
 * term, once per model). Null where the CPU lacks AVX512_VNNI (or LSR_SIMD caps it off), or for bf16
 * weights: the plain head runs then.
 */
export function prepareScreen(w: HeadWeights, threads = 1): NativeHeadScreen | null {
  if (!(w.weights instanceof Float32Array)) return null;
  check(Number.isInteger(threads) && threads >= 1, `threads must be a positive integer, got ${threads}`);
  check(w.weights.length === w.vocab * w.dim, `weights must hold vocab × dim = ${w.vocab * w.dim} values, got ${w.weights.length}`);
  return native.prepareHeadScreen(w.weights, w.vocab, w.dim, threads);
}

/** Whether this CPU runs the screened head (AVX512_VNNI, after LSR_SIMD); prepareScreen is null otherwise. */
export function screenSupported(): boolean {
  return native.headScreenSupported();
}

/** Counters of a prepared screen: calls screened or run plain, and the (text, term) pairs left to f32. */
export function screenStats(screen: NativeHeadScreen): HeadScreenStats {
  return native.headScreenStats(screen);
}

/** SPLADE vectors of a batch through the fused head. */
export function fusedHead(b: HeadBatch, w: HeadWeights, o: HeadOptions = {}): SparseVectors {
  validate(b, w, o);
  const r = native.fusedSparseHead(b.hidden, b.mask, b.texts, b.seq, w.dim, w.weights, w.bias, w.vocab, {
    threads: o.threads ?? 1,
    threshold: o.threshold ?? 0,
    topk: o.topk ?? 0,
    screen: w.screen ?? undefined,
  });
  return { offsets: r.offsets, terms: r.terms, weights: r.weights };
}

/**
 * Dense [texts × vocab] output, fused or through the materializing reference (`unfused`, which
 * allocates seq × vocab logits per text: the benchmark's baseline).
 */
export function headDense(b: HeadBatch, w: HeadWeights, o: { threads?: number; unfused?: boolean } = {}): Float32Array {
  validate(b, w, o);
  return native.fusedSparseHead(b.hidden, b.mask, b.texts, b.seq, w.dim, w.weights, w.bias, w.vocab, {
    threads: o.threads ?? 1,
    dense: true,
    unfused: o.unfused ?? false,
    screen: w.screen ?? undefined,
  }).dense!;
}
