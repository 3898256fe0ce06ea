// The SPLADE encoder on a CUDA GPU (issue 7): our tokenizer (in worker threads), then the BERT trunk
// in native CUDA with cuBLAS and the sparse head on the device (native/cuda/trunk.h), from the
// model folder's weights (gpu-weights.ts). Built separately from the CPU addon, only where nvcc
// exists (native/cuda/trunk-build.sh -> build/cuda/lsr_cuda_trunk.node); where it is missing or no
// GPU answers, loading fails with CUDA_UNAVAILABLE. docs/gpu.md.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Piscina } from 'piscina';
import { cudaAddonPath, cudaDevice } from '../../config.js';
import { fail } from '../../errors.js';
import type { SparseVectors } from '../sparse/fused-head.js';
import { readBertWeights, type BertShape } from './gpu-weights.js';
import { SpladeTokenizer } from '../tokenizer.js';

export interface GpuEncoderOptions {
  /** Tokens per text, special tokens included. Default 256. */
  maxLength?: number;
  /** Texts per GPU batch (texts are sorted by token length first). Default 32. */
  batchSize?: number;
  /**
   * GEMM inputs and activations between kernels: `fp16` or `bf16` (tensor cores, fp32 accumulation;
   * LayerNorms, softmax and the residual stream stay fp32) or `fp32` (no TF32). fp16 keeps 3 more
   * mantissa bits than bf16 (8× less rounding; BERT activations are far inside its range, and a
   * non-finite output is refused with CUDA_FAILED rather than returned). Default fp16.
   */
  precision?: 'fp16' | 'bf16' | 'fp32';
  /** `auto`: the fused head (build/cuda/liblsr_cuda_head.so) when loadable and fp16/bf16, else the simple one. */
  head?: 'auto' | 'simple';
  /** Keep only weights above this. Default 0. */
  threshold?: number;
  /** Keep at most this many terms per text. Default 0: no limit. */
  topk?: number;
  /** CUDA device ordinal. Default 0 (or LSR_CUDA_DEVICE). */
  device?: number;
  /** Worker threads that tokenize (0: the calling thread). Default 0. */
  tokenizerThreads?: number;
}

/** Thrown where no CUDA build or no GPU is present; `code` is `CUDA_UNAVAILABLE`. */
export class CudaUnavailableError extends Error {
  readonly code = 'CUDA_UNAVAILABLE';
}

interface CudaAddon {
  probe(): { ok: boolean; devices: number; reason: string };
  create(config: Omit<BertShape, never> & { precision: string; device: number }, tensors: Float32Array[]): object;
  encode(
    handle: object,
    ids: Int32Array,
    mask: Uint8Array,
    texts: number,
    seq: number,
    o: { head?: string; threshold?: number; topk?: number; dense?: boolean },
  ): Promise<GpuBatchResult>;
  release(handle: object): void;
  deviceName(handle: object): string;
  profile(handle: object, on?: boolean): Record<string, number>;
}

interface GpuBatchResult extends SparseVectors {
  dense?: Float32Array;
  head: string;
  attention: string;
  trunkMs: number;
  headMs: number;
  copyMs: number;
}

/** GPU milliseconds of the batches encoded so far (CUDA events), and the head that ran. */
export interface GpuTimings {
  batches: number;
  trunkMs: number;
  headMs: number;
  copyMs: number;
  head: string;
  /** 'fused' (one attention kernel) or 'cublas' (batched GEMMs + softmax). */
  attention: string;
}

/** Where the CUDA addon is looked for: LSR_CUDA_ADDON, else <package root>/build/cuda/lsr_cuda_trunk.node (src/config.ts). */
export { cudaAddonPath };

let addon: CudaAddon | null = null;

/** Loads the CUDA addon and checks for a GPU; CudaUnavailableError saying why otherwise. */
export function loadCudaAddon(): CudaAddon {
  if (addon) return addon;
  const path = cudaAddonPath();
  if (!existsSync(path))
    throw new CudaUnavailableError(
      `the CUDA encoder is not built: ${path} is missing (native/cuda/trunk-build.sh, where nvcc exists; docs/gpu.md)`,
    );
  let a: CudaAddon;
  try {
    a = createRequire(import.meta.url)(path) as CudaAddon;
  } catch (e) {
    throw new CudaUnavailableError(`the CUDA encoder does not load (${(e as Error).message})`);
  }
  const p = a.probe();
  if (!p.ok) throw new CudaUnavailableError(`no CUDA device: ${p.reason}`);
  addon = a;
  return a;
}

/** Whether the GPU encoder can run here, and if not why (for tests that skip). */
export function cudaStatus(): { ok: true } | { ok: false; reason: string } {
  try {
    loadCudaAddon();
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
}

const FROM_SOURCE = import.meta.url.endsWith('.ts');
const TOKENIZE_WORKER = FROM_SOURCE
  ? {
      filename: new URL('../ts-worker-bootstrap.mjs', import.meta.url).href,
      workerData: { tsWorker: new URL('./gpu-tokenize-worker.ts', import.meta.url).href },
    }
  : { filename: new URL('./gpu-tokenize-worker.js', import.meta.url).href };

/** Texts per tokenizer task. */
const TOKENIZE_PIECE = 256;
/** Rounds each batch's sequence up to a multiple of this: the fused attention kernel takes 16-key tiles. */
const SEQ_ALIGN = 16;

interface Batch {
  /** Input positions of the batch's texts. */
  idx: number[];
  /** Their token ids: ready, being tokenized in a worker, or to tokenize on this thread. */
  lists: number[][] | Promise<number[][]> | (() => number[][]);
}

/** Sparse rows scattered over batch results -> one SparseVectors in input order. */
function gather(where: { r: SparseVectors; row: number }[]): SparseVectors {
  const n = where.length,
    offsets = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i] + where[i].r.offsets[where[i].row + 1] - where[i].r.offsets[where[i].row];
  const terms = new Uint32Array(offsets[n]),
    weights = new Float32Array(offsets[n]);
  for (let i = 0; i < n; i++) {
    const { r, row } = where[i];
    const a = r.offsets[row],
      b = r.offsets[row + 1];
    terms.set(r.terms.subarray(a, b), offsets[i]);
    weights.set(r.weights.subarray(a, b), offsets[i]);
  }
  return { offsets, terms, weights };
}

export class GpuEncoder {
  private closed = false;
  private inFlight = new Set<Promise<unknown>>();
  readonly timings: GpuTimings = { batches: 0, trunkMs: 0, headMs: 0, copyMs: 0, head: '', attention: '' };

  private constructor(
    readonly dir: string,
    readonly tokenizer: SpladeTokenizer,
    readonly shape: BertShape,
    readonly deviceName: string,
    private readonly cuda: CudaAddon,
    private readonly handle: object,
    private readonly tokenizers: Piscina | null,
    private readonly o: Required<GpuEncoderOptions>,
  ) {}

  static async load(dir: string, options: GpuEncoderOptions = {}, field = 'model'): Promise<GpuEncoder> {
    const o: Required<GpuEncoderOptions> = {
      maxLength: 256,
      batchSize: 32,
      precision: 'fp16',
      head: 'auto',
      threshold: 0,
      topk: 0,
      device: options.device ?? cudaDevice(),
      tokenizerThreads: 0,
      // Options left undefined (a pool passes every field it knows) keep their defaults.
      ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
    };
    const int = (v: number, min: number, name: string) => {
      if (!Number.isInteger(v) || v < min)
        fail('VALIDATION_FAILED', `${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`, `encoder.${name}`);
    };
    int(o.maxLength, 2, 'maxLength');
    int(o.batchSize, 1, 'batchSize');
    int(o.topk, 0, 'topk');
    int(o.device, 0, 'device');
    int(o.tokenizerThreads, 0, 'tokenizerThreads');
    if (!(Number.isFinite(o.threshold) && o.threshold >= 0))
      fail('VALIDATION_FAILED', `threshold must be a finite number >= 0`, 'encoder.threshold');
    if (!['fp16', 'bf16', 'fp32'].includes(o.precision))
      fail('VALIDATION_FAILED', `precision must be 'fp16', 'bf16' or 'fp32', got ${JSON.stringify(o.precision)}`, 'encoder.precision');
    if (o.head !== 'auto' && o.head !== 'simple')
      fail('VALIDATION_FAILED', `head must be 'auto' or 'simple', got ${JSON.stringify(o.head)}`, 'encoder.head');
    const cuda = loadCudaAddon();
    const tokenizer = await SpladeTokenizer.load(dir, field);
    const w = readBertWeights(dir, field);
    if (o.maxLength > w.shape.maxPos)
      fail('VALIDATION_FAILED', `maxLength ${o.maxLength} is above the model's ${w.shape.maxPos} positions`, 'encoder.maxLength');
    if (o.maxLength > 512) fail('VALIDATION_FAILED', `maxLength above 512 is not supported on the GPU`, 'encoder.maxLength');
    let handle: object;
    try {
      handle = cuda.create({ ...w.shape, precision: o.precision, device: o.device }, w.tensors);
    } catch (e) {
      throw new CudaUnavailableError(`the CUDA encoder could not load ${dir}: ${(e as Error).message}`);
    }
    w.tensors.length = 0; // the host copies can go; the device holds the weights now
    const tokenizers =
      o.tokenizerThreads > 0
        ? new Piscina({ ...TOKENIZE_WORKER, minThreads: o.tokenizerThreads, maxThreads: o.tokenizerThreads, idleTimeout: Infinity })
        : null;
    return new GpuEncoder(dir, tokenizer, w.shape, cuda.deviceName(handle), cuda, handle, tokenizers, o);
  }

  get vocab(): number {
    return this.shape.vocab;
  }

  get maxLength(): number {
    return this.o.maxLength;
  }

  /** Texts per GPU batch; may be changed between calls. */
  get batchSize(): number {
    return this.o.batchSize;
  }

  set batchSize(n: number) {
    if (!Number.isInteger(n) || n < 1)
      fail('VALIDATION_FAILED', `batchSize must be an integer >= 1, got ${JSON.stringify(n)}`, 'encoder.batchSize');
    this.o.batchSize = n;
  }

  /** Which sparse head runs: 'fused' (liblsr_cuda_head.so) or 'simple'; may be changed between calls. */
  get head(): 'auto' | 'simple' {
    return this.o.head;
  }

  set head(h: 'auto' | 'simple') {
    if (h !== 'auto' && h !== 'simple')
      fail('VALIDATION_FAILED', `head must be 'auto' or 'simple', got ${JSON.stringify(h)}`, 'encoder.head');
    this.o.head = h;
  }

  /** Token ids of each text, truncated to `maxLength` (in the tokenizer workers when there are some). */
  async tokenize(texts: string[]): Promise<number[][]> {
    if (!this.tokenizers) return texts.map((t) => this.tokenizer.ids(t, this.o.maxLength));
    const parts: Promise<number[][]>[] = [];
    for (let i = 0; i < texts.length; i += TOKENIZE_PIECE)
      parts.push(
        this.tokenizers.run({ dir: this.dir, maxLength: this.o.maxLength, texts: texts.slice(i, i + TOKENIZE_PIECE) }) as Promise<
          number[][]
        >,
      );
    return (await Promise.all(parts)).flat();
  }

  /**
   * One sparse vector per text, in the order given. Texts are sorted by character length (as
   * sentence-transformers does) and cut into batches before tokenizing, so the tokenizer workers
   * run ahead of the GPU instead of before it.
   */
  async encode(texts: string[]): Promise<SparseVectors> {
    const where: { r: SparseVectors; row: number }[] = new Array(texts.length);
    await this.runBatches(this.plan(texts), false, (idx, r) => idx.forEach((i, row) => (where[i] = { r, row })));
    return gather(where);
  }

  /** Dense [texts × vocab] weights, in the order given (conformance checks). */
  async encodeDense(texts: string[]): Promise<Float32Array> {
    const V = this.shape.vocab,
      out = new Float32Array(texts.length * V);
    await this.runBatches(this.plan(texts), true, (idx, r) =>
      idx.forEach((i, row) => out.set(r.dense!.subarray(row * V, (row + 1) * V), i * V)),
    );
    return out;
  }

  /** Encodes token id lists: sorted by token length into batches, results in input order. */
  async encodeIds(lists: number[][]): Promise<SparseVectors> {
    const order = lists.map((_, i) => i).sort((a, b) => lists[a].length - lists[b].length || a - b);
    const batches: Batch[] = [];
    for (let s = 0; s < order.length; s += this.o.batchSize) {
      const idx = order.slice(s, s + this.o.batchSize);
      batches.push({ idx, lists: idx.map((i) => lists[i]) });
    }
    const where: { r: SparseVectors; row: number }[] = new Array(lists.length);
    await this.runBatches(batches, false, (idx, r) => idx.forEach((i, row) => (where[i] = { r, row })));
    return gather(where);
  }

  /** Batches of texts by character length, each tokenized in the workers (queued now, in order). */
  private plan(texts: string[]): Batch[] {
    const order = texts.map((_, i) => i).sort((a, b) => texts[a].length - texts[b].length || a - b);
    const batches: Batch[] = [];
    for (let s = 0; s < order.length; s += this.o.batchSize) {
      const idx = order.slice(s, s + this.o.batchSize);
      const mine = idx.map((i) => texts[i]);
      const lists = this.tokenizers
        ? (this.tokenizers.run({ dir: this.dir, maxLength: this.o.maxLength, texts: mine }) as Promise<number[][]>)
        : () => mine.map((t) => this.tokenizer.ids(t, this.o.maxLength));
      if (lists instanceof Promise) lists.catch(() => {}); // observed when its batch's turn comes
      batches.push({ idx, lists });
    }
    return batches;
  }

  /** Runs the batches in order with two in flight on the GPU (the addon serializes them). */
  private async runBatches(batches: Batch[], dense: boolean, take: (idx: number[], r: GpuBatchResult) => void): Promise<void> {
    if (this.closed) fail('ENCODER_CLOSED', 'the GPU encoder is closed', 'encoder');
    const queue: Promise<void>[] = [];
    try {
      for (const b of batches) {
        const lists = typeof b.lists === 'function' ? b.lists() : await b.lists;
        if (queue.length >= 2) await queue.shift();
        const p = this.runBatch(lists, dense).then((r) => take(b.idx, r));
        p.catch(() => {});
        queue.push(p);
      }
      await Promise.all(queue);
    } finally {
      for (const b of batches) if (b.lists instanceof Promise) b.lists.catch(() => {});
    }
  }

  private async runBatch(lists: number[][], dense: boolean): Promise<GpuBatchResult> {
    const texts = lists.length;
    const longest = lists.reduce((m, l) => Math.max(m, l.length), 0);
    if (longest === 0) {
      const V = this.shape.vocab;
      return {
        offsets: new Uint32Array(texts + 1),
        terms: new Uint32Array(0),
        weights: new Float32Array(0),
        dense: dense ? new Float32Array(texts * V) : undefined,
        head: '',
        attention: '',
        trunkMs: 0,
        headMs: 0,
        copyMs: 0,
      };
    }
    const seq = Math.min(Math.ceil(longest / SEQ_ALIGN) * SEQ_ALIGN, this.shape.maxPos);
    const ids = new Int32Array(texts * seq).fill(this.tokenizer.padId),
      mask = new Uint8Array(texts * seq);
    lists.forEach((l, x) => {
      ids.set(l, x * seq);
      mask.fill(1, x * seq, x * seq + l.length);
    });
    const p = this.cuda.encode(this.handle, ids, mask, texts, seq, {
      head: this.o.head,
      threshold: this.o.threshold,
      topk: this.o.topk,
      dense,
    });
    this.inFlight.add(p);
    try {
      const r = await p;
      const t = this.timings;
      t.batches++;
      t.trunkMs += r.trunkMs;
      t.headMs += r.headMs;
      t.copyMs += r.copyMs;
      t.head = r.head;
      t.attention = r.attention;
      return r;
    } finally {
      this.inFlight.delete(p);
    }
  }

  /**
   * GPU milliseconds per trunk step (QKV GEMM, softmax, LayerNorm, ...) over all layers, summed
   * since profiling was switched on; `on` switches it (events between steps: slightly slower).
   */
  profile(on?: boolean): Record<string, number> {
    return on === undefined ? this.cuda.profile(this.handle) : this.cuda.profile(this.handle, on);
  }

  /** Waits for batches in flight, frees the device memory and stops the tokenizer workers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
    this.cuda.release(this.handle);
    await this.tokenizers?.destroy();
  }
}
