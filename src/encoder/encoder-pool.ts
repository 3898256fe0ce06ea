// The encoder pool: SpladeEncoders in piscina worker threads behind a bounded queue. A caller that
// finds the queue full waits (back-pressure reaches the ingest stream instead of memory filling up),
// results come back in submission order, close() drains what was accepted, then stops the workers.
import { Piscina } from 'piscina';
import { fail } from '../api/errors.js';
import type { SparseVectors } from './fused-head.js';
import { cudaStatus } from './gpu-encoder.js';
import { inspectModelDir } from './model-dir.js';
import { validateEncoderOptions, type EncoderOptions } from './splade-encoder.js';
import { SpladeTokenizer } from './tokenizer.js';
import type { WorkerConfig, WorkerTask } from './encoder-worker.js';

export interface PoolOptions extends EncoderOptions {
  /** Worker threads, each with its own model. Default 1. */
  workers?: number;
  /** Batches accepted but not finished before `encode` waits. Default 2 × workers. */
  maxPending?: number;
}

// From dist/ the worker is compiled JS; from sources (vitest, tsx) a JS bootstrap registers tsx in
// the worker thread and imports the .ts worker (see ts-worker-bootstrap.mjs).
const FROM_SOURCE = import.meta.url.endsWith('.ts');
export const WORKER = FROM_SOURCE
  ? { filename: new URL('./ts-worker-bootstrap.mjs', import.meta.url).href, workerData: { tsWorker: new URL('./encoder-worker.ts', import.meta.url).href } }
  : { filename: new URL('./encoder-worker.js', import.meta.url).href };

/** Texts per worker below which a batch is not split (splitting costs a message per part). */
const MIN_SPLIT = 64;

function concatVectors(parts: SparseVectors[]): SparseVectors {
  const texts = parts.reduce((n, p) => n + p.offsets.length - 1, 0);
  const nnz = parts.reduce((n, p) => n + p.terms.length, 0);
  const offsets = new Uint32Array(texts + 1), terms = new Uint32Array(nnz), weights = new Float32Array(nnz);
  let x = 0, at = 0;
  for (const p of parts) {
    for (let i = 1; i < p.offsets.length; i++) offsets[++x] = at + p.offsets[i];
    terms.set(p.terms, at);
    weights.set(p.weights, at);
    at += p.terms.length;
  }
  return { offsets, terms, weights };
}

export class EncoderPool {
  private pending = 0;
  private waiters: (() => void)[] = [];
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly piscina: Piscina,
    private readonly config: WorkerConfig,
    readonly tokenizer: SpladeTokenizer,
    readonly maxPending: number,
    readonly workers: number,
  ) {}

  /** Starts the workers and loads the model in each; a bad model rejects here, with its code and field. */
  static async open(dir: string, options: PoolOptions = {}, field = 'model'): Promise<EncoderPool> {
    const { workers = 1, maxPending, ...enc } = options;
    validateEncoderOptions(enc);
    if (!Number.isInteger(workers) || workers < 1) fail('VALIDATION_FAILED', `workers must be a positive integer, got ${workers}`, 'encoder.workers');
    if (maxPending !== undefined && (!Number.isInteger(maxPending) || maxPending < 1))
      fail('VALIDATION_FAILED', `maxPending must be a positive integer, got ${maxPending}`, 'encoder.maxPending');
    const model = inspectModelDir(dir, field);
    if (enc.device === 'cuda') {
      // Checked here, where the error keeps its code (a worker's error crosses threads as a plain Error).
      const cuda = cudaStatus();
      if (!cuda.ok) fail('CUDA_UNAVAILABLE', `the sparse encoder is set to run on the GPU (device 'cuda', LSR_ENCODER_DEVICE) but cannot: ${cuda.reason}`, 'encoder.device');
    }
    const tokenizer = await SpladeTokenizer.load(model.dir, field);
    const piscina = new Piscina({
      ...WORKER,
      minThreads: workers,
      maxThreads: workers,
      // One batch per worker at a time: a batch already uses the worker's ONNX threads.
      concurrentTasksPerWorker: 1,
      idleTimeout: Infinity,
    });
    const pool = new EncoderPool(piscina, { dir: model.dir, options: enc, field }, tokenizer, maxPending ?? 2 * workers, workers);
    try {
      // Load the model in every worker now so the first request does not pay for it.
      await Promise.all(Array.from({ length: workers }, () => piscina.run({ kind: 'ready', config: pool.config })));
    } catch (e) {
      await piscina.destroy();
      throw e;
    }
    return pool;
  }

  /** Batches accepted and not yet finished. */
  get inFlight(): number {
    return this.pending;
  }

  /**
   * Encodes one batch of texts; waits while `maxPending` batches are in flight. A batch larger
   * than MIN_SPLIT per worker is split over the workers (an ingest batch is thousands of texts)
   * and put back together in order.
   */
  async encode(texts: string[]): Promise<SparseVectors> {
    const parts = Math.min(this.workers, Math.floor(texts.length / MIN_SPLIT));
    if (parts <= 1) return this.submit({ kind: 'encode', texts });
    const size = Math.ceil(texts.length / parts);
    const chunks: Promise<SparseVectors>[] = [];
    for (let i = 0; i < texts.length; i += size) chunks.push(this.submit({ kind: 'encode', texts: texts.slice(i, i + size) }));
    return concatVectors(await Promise.all(chunks));
  }

  /** Encodes token id lists (already tokenized and truncated). */
  async encodeIds(lists: number[][]): Promise<SparseVectors> {
    return this.submit({ kind: 'ids', lists });
  }

  /** Encodes a stream of batches with up to `maxPending` in flight, yielding results in order. */
  async *encodeAll(batches: AsyncIterable<string[]> | Iterable<string[]>): AsyncGenerator<SparseVectors> {
    const queue: Promise<SparseVectors>[] = [];
    try {
      for await (const texts of batches) {
        // Wait for the oldest before reading further input: the stream's consumer sets the pace.
        if (queue.length >= this.maxPending) yield await queue.shift()!;
        const p = this.encode(texts);
        p.catch(() => {}); // observed when its turn comes; avoid an unhandled rejection meanwhile
        queue.push(p);
      }
      while (queue.length) yield await queue.shift()!;
    } finally {
      // An abandoned stream still lets its accepted batches finish (close() waits for them).
      for (const p of queue) p.catch(() => {});
    }
  }

  private async submit(task: WorkerTask): Promise<SparseVectors> {
    if (this.closing) fail('ENCODER_CLOSED', 'the encoder pool is shutting down', 'encoder');
    while (this.pending >= this.maxPending) await new Promise<void>((r) => this.waiters.push(r));
    if (this.closing) fail('ENCODER_CLOSED', 'the encoder pool is shutting down', 'encoder');
    this.pending++;
    try {
      return (await this.piscina.run({ ...task, config: this.config })) as SparseVectors;
    } finally {
      this.pending--;
      this.waiters.shift()?.();
    }
  }

  /** Refuses new work, lets accepted batches finish, stops the workers. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      // Callers waiting for a slot are woken to fail with ENCODER_CLOSED rather than hang.
      for (const w of this.waiters.splice(0)) w();
      while (this.pending > 0) await new Promise((r) => setTimeout(r, 5));
      await this.piscina.destroy();
    })();
    return this.closing;
  }
}
