// What the sparse and dense encoder pools share: encoders in piscina worker threads (encoder-worker.ts)
// behind a bounded queue. A caller that finds `maxPending` batches in flight waits (back-pressure
// reaches the ingest stream instead of memory filling up), results come back in submission order,
// close() drains what was accepted, then stops the workers. Each pool adds its own tasks and results.
import { Piscina } from 'piscina';
import { fail, fromTransferable } from '../errors.js';
import type { WorkerConfig, WorkerTask } from './encoder-worker.js';

// From dist/ the worker is compiled JS; from sources (vitest, tsx) a JS bootstrap registers tsx in
// the worker thread and imports the .ts worker (see ts-worker-bootstrap.mjs).
const FROM_SOURCE = import.meta.url.endsWith('.ts');
export const WORKER = FROM_SOURCE
  ? {
      filename: new URL('./ts-worker-bootstrap.mjs', import.meta.url).href,
      workerData: { tsWorker: new URL('./encoder-worker.ts', import.meta.url).href },
    }
  : { filename: new URL('./encoder-worker.js', import.meta.url).href };

/** Texts per worker below which a batch is not split (splitting costs a message per part). */
const MIN_SPLIT = 64;

export interface PoolSizeOptions {
  /** Worker threads, each with its own model. Default 1. */
  workers?: number;
  /** Batches accepted but not finished before `encode` waits. Default 2 × workers. */
  maxPending?: number;
}

/** Checks a pool's size options (VALIDATION_FAILED on encoder.workers or encoder.maxPending). */
export function validatePoolSize(workers: number, maxPending: number | undefined): void {
  if (!Number.isInteger(workers) || workers < 1)
    fail('VALIDATION_FAILED', `workers must be a positive integer, got ${workers}`, 'encoder.workers');
  if (maxPending !== undefined && (!Number.isInteger(maxPending) || maxPending < 1))
    fail('VALIDATION_FAILED', `maxPending must be a positive integer, got ${maxPending}`, 'encoder.maxPending');
}

/**
 * Starts `workers` threads and runs `ready` in each, so the model loads now rather than on the first
 * request and a bad model rejects here; on failure the threads are stopped and the error rethrown.
 */
export async function startWorkers(workers: number, ready: WorkerTask & { config: WorkerConfig }): Promise<Piscina> {
  const piscina = new Piscina({
    ...WORKER,
    minThreads: workers,
    maxThreads: workers,
    // One batch per worker at a time: a batch already uses the worker's ONNX threads.
    concurrentTasksPerWorker: 1,
    idleTimeout: Infinity,
  });
  try {
    await Promise.all(Array.from({ length: workers }, () => piscina.run(ready)));
  } catch (e) {
    await piscina.destroy();
    throw fromTransferable(e);
  }
  return piscina;
}

/** The bounded queue over a pool's workers; `R` is what one task returns. */
export abstract class WorkerPool<R> {
  private pending = 0;
  private waiters: (() => void)[] = [];
  private closing: Promise<void> | null = null;

  protected constructor(
    private readonly piscina: Piscina,
    protected readonly config: WorkerConfig,
    readonly maxPending: number,
    readonly workers: number,
  ) {}

  /** Batches accepted and not yet finished. */
  get inFlight(): number {
    return this.pending;
  }

  /**
   * Runs `run` on the whole batch, or, for more than MIN_SPLIT texts per worker, on one part per
   * worker (an ingest batch is thousands of texts) and puts the results back together in order.
   */
  protected async split(texts: string[], run: (texts: string[]) => Promise<R>, join: (parts: R[]) => R): Promise<R> {
    const parts = Math.min(this.workers, Math.floor(texts.length / MIN_SPLIT));
    if (parts <= 1) return run(texts);
    const size = Math.ceil(texts.length / parts);
    const chunks: Promise<R>[] = [];
    for (let i = 0; i < texts.length; i += size) chunks.push(run(texts.slice(i, i + size)));
    return join(await Promise.all(chunks));
  }

  /** As split(), for tasks whose results are not R: the parts in order, for the caller to join. */
  protected async splitAny<T>(texts: string[], run: (texts: string[]) => Promise<T>): Promise<T[]> {
    const parts = Math.min(this.workers, Math.floor(texts.length / MIN_SPLIT));
    if (parts <= 1) return [await run(texts)];
    const size = Math.ceil(texts.length / parts);
    const chunks: Promise<T>[] = [];
    for (let i = 0; i < texts.length; i += size) chunks.push(run(texts.slice(i, i + size)));
    return Promise.all(chunks);
  }

  /** Encodes a stream of batches with up to `maxPending` in flight, yielding results in order. */
  protected async *ordered(
    batches: AsyncIterable<string[]> | Iterable<string[]>,
    encode: (texts: string[]) => Promise<R>,
  ): AsyncGenerator<R> {
    const queue: Promise<R>[] = [];
    try {
      for await (const texts of batches) {
        // Wait for the oldest before reading further input: the stream's consumer sets the pace.
        if (queue.length >= this.maxPending) yield await queue.shift()!;
        const p = encode(texts);
        p.catch(() => {}); // observed when its turn comes; avoid an unhandled rejection meanwhile
        queue.push(p);
      }
      while (queue.length) yield await queue.shift()!;
    } finally {
      // An abandoned stream still lets its accepted batches finish (close() waits for them).
      for (const p of queue) p.catch(() => {});
    }
  }

  /** Runs one task in a worker once fewer than `maxPending` are in flight. */
  protected async submit(task: WorkerTask): Promise<R> {
    if (this.closing) fail('ENCODER_CLOSED', 'the encoder pool is shutting down', 'encoder');
    while (this.pending >= this.maxPending) await new Promise<void>((r) => this.waiters.push(r));
    if (this.closing) fail('ENCODER_CLOSED', 'the encoder pool is shutting down', 'encoder');
    this.pending++;
    try {
      return (await this.piscina.run({ ...task, config: this.config })) as R;
    } catch (e) {
      throw fromTransferable(e);
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
