// The dense encoder pool: DenseEncoders in the same piscina worker threads as the sparse pool
// (encoder-worker.ts, task kinds 'dense-ready' / 'dense'), behind the same bounded queue: a caller that
// finds `maxPending` batches in flight waits, results come back in submission order, close() drains
// what was accepted, then stops the workers.
import { Piscina } from 'piscina';
import { fail } from '../api/errors.js';
import { validateDenseOptions, type DenseEncoderOptions, type DenseRole } from './dense-encoder.js';
import { inspectDenseModelDir, type DenseModelDir } from './dense-model-dir.js';
import { WORKER } from './encoder-pool.js';
import type { WorkerConfig, WorkerTask } from './encoder-worker.js';

export interface DensePoolOptions extends DenseEncoderOptions {
  /** Worker threads, each with its own model. Default 1. */
  workers?: number;
  /** Batches accepted but not finished before `encode` waits. Default 2 × workers. */
  maxPending?: number;
}

/** Texts per worker below which a batch is not split (splitting costs a message per part). */
const MIN_SPLIT = 64;

export class DenseEncoderPool {
  private pending = 0;
  private waiters: (() => void)[] = [];
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly piscina: Piscina,
    private readonly config: WorkerConfig,
    readonly model: DenseModelDir,
    /** Floats per vector. */
    readonly dim: number,
    readonly maxPending: number,
    readonly workers: number,
  ) {}

  /** Starts the workers and loads the model in each; a bad model rejects here, with its code and field. */
  static async open(dir: string, options: DensePoolOptions = {}, field = 'model'): Promise<DenseEncoderPool> {
    const { workers = 1, maxPending, ...enc } = options;
    validateDenseOptions(enc);
    if (!Number.isInteger(workers) || workers < 1) fail('VALIDATION_FAILED', `workers must be a positive integer, got ${workers}`, 'encoder.workers');
    if (maxPending !== undefined && (!Number.isInteger(maxPending) || maxPending < 1))
      fail('VALIDATION_FAILED', `maxPending must be a positive integer, got ${maxPending}`, 'encoder.maxPending');
    // Checked here too so a bad folder fails before any thread starts, naming the file.
    const model = inspectDenseModelDir(dir, field, enc.name);
    const dim = model.hidden * (enc.pooling ? 1 : model.pooling.length);
    const piscina = new Piscina({ ...WORKER, minThreads: workers, maxThreads: workers, concurrentTasksPerWorker: 1, idleTimeout: Infinity });
    const pool = new DenseEncoderPool(piscina, { dir: model.dir, options: {}, field, dense: enc }, model, dim, maxPending ?? 2 * workers, workers);
    try {
      await Promise.all(Array.from({ length: workers }, () => piscina.run({ kind: 'dense-ready', config: pool.config })));
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

  /** One row of `dim` floats per query, the model's query prompt applied. */
  encodeQueries(texts: string[]): Promise<Float32Array> {
    return this.encode(texts, 'query');
  }

  /** One row of `dim` floats per document, the model's document prompt applied. */
  encodeDocuments(texts: string[]): Promise<Float32Array> {
    return this.encode(texts, 'document');
  }

  /** Encodes one batch; waits while `maxPending` batches are in flight; a large batch is split over the workers. */
  async encode(texts: string[], role: DenseRole): Promise<Float32Array> {
    const parts = Math.min(this.workers, Math.floor(texts.length / MIN_SPLIT));
    if (parts <= 1) return this.submit({ kind: 'dense', role, texts });
    const size = Math.ceil(texts.length / parts);
    const chunks: Promise<Float32Array>[] = [];
    for (let i = 0; i < texts.length; i += size) chunks.push(this.submit({ kind: 'dense', role, texts: texts.slice(i, i + size) }));
    const got = await Promise.all(chunks);
    const out = new Float32Array(texts.length * this.dim);
    let at = 0;
    for (const g of got) {
      out.set(g, at);
      at += g.length;
    }
    return out;
  }

  /** Encodes a stream of batches with up to `maxPending` in flight, yielding results in order. */
  async *encodeAll(batches: AsyncIterable<string[]> | Iterable<string[]>, role: DenseRole = 'document'): AsyncGenerator<Float32Array> {
    const queue: Promise<Float32Array>[] = [];
    try {
      for await (const texts of batches) {
        if (queue.length >= this.maxPending) yield await queue.shift()!;
        const p = this.encode(texts, role);
        p.catch(() => {}); // observed when its turn comes
        queue.push(p);
      }
      while (queue.length) yield await queue.shift()!;
    } finally {
      for (const p of queue) p.catch(() => {});
    }
  }

  private async submit(task: WorkerTask): Promise<Float32Array> {
    if (this.closing) fail('ENCODER_CLOSED', 'the encoder pool is shutting down', 'encoder');
    while (this.pending >= this.maxPending) await new Promise<void>((r) => this.waiters.push(r));
    if (this.closing) fail('ENCODER_CLOSED', 'the encoder pool is shutting down', 'encoder');
    this.pending++;
    try {
      return (await this.piscina.run({ ...task, config: this.config })) as Float32Array;
    } finally {
      this.pending--;
      this.waiters.shift()?.();
    }
  }

  /** Refuses new work, lets accepted batches finish, stops the workers. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const w of this.waiters.splice(0)) w();
      while (this.pending > 0) await new Promise((r) => setTimeout(r, 5));
      await this.piscina.destroy();
    })();
    return this.closing;
  }
}
