// The encoder pool: SpladeEncoders in piscina worker threads behind a bounded queue. A caller that
// finds the queue full waits (back-pressure reaches the ingest stream instead of memory filling up),
// results come back in submission order, close() drains what was accepted, then stops the workers.
// The queue and the workers are WorkerPool's (worker-pool.ts), shared with the dense pool.
import type { PassageSettings, PassageSpan } from '../../text/passages.js';
import type { LongResult } from '../encoder-worker.js';
import { addReports, concatPassageEncodings } from '../long-documents.js';
import type { Piscina } from 'piscina';
import { fail } from '../../errors.js';
import type { SparseVectors } from './fused-head.js';
import { cudaStatus } from '../gpu/gpu-encoder.js';
import { inspectModelDir } from './sparse-model-dir.js';
import { validateEncoderOptions, type EncoderOptions } from './splade-encoder.js';
import { SpladeTokenizer } from '../tokenizer.js';
import type { WorkerConfig } from '../encoder-worker.js';
import { type PoolSizeOptions, startWorkers, validatePoolSize, WorkerPool } from '../worker-pool.js';

export { WORKER } from '../worker-pool.js';

export interface PoolOptions extends EncoderOptions, PoolSizeOptions {}

function concatVectors(parts: SparseVectors[]): SparseVectors {
  const texts = parts.reduce((n, p) => n + p.offsets.length - 1, 0);
  const nnz = parts.reduce((n, p) => n + p.terms.length, 0);
  const offsets = new Uint32Array(texts + 1),
    terms = new Uint32Array(nnz),
    weights = new Float32Array(nnz);
  let x = 0,
    at = 0;
  for (const p of parts) {
    for (let i = 1; i < p.offsets.length; i++) offsets[++x] = at + p.offsets[i];
    terms.set(p.terms, at);
    weights.set(p.weights, at);
    at += p.terms.length;
  }
  return { offsets, terms, weights };
}

export class SparseEncoderPool extends WorkerPool<SparseVectors> {
  private constructor(
    piscina: Piscina,
    config: WorkerConfig,
    readonly tokenizer: SpladeTokenizer,
    maxPending: number,
    workers: number,
  ) {
    super(piscina, config, maxPending, workers);
  }

  /** Starts the workers and loads the model in each; a bad model rejects here, with its code and field. */
  static async open(dir: string, options: PoolOptions = {}, field = 'model'): Promise<SparseEncoderPool> {
    const { workers = 1, maxPending, ...enc } = options;
    validateEncoderOptions(enc);
    validatePoolSize(workers, maxPending);
    const model = inspectModelDir(dir, field);
    if (enc.device === 'cuda') {
      // Checked here, where the error keeps its code (a worker's error crosses threads as a plain Error).
      const cuda = cudaStatus();
      if (!cuda.ok)
        fail(
          'CUDA_UNAVAILABLE',
          `the sparse encoder is set to run on the GPU (device 'cuda', LSR_ENCODER_DEVICE) but cannot: ${cuda.reason}`,
          'encoder.device',
        );
    }
    const tokenizer = await SpladeTokenizer.load(model.dir, field);
    const config: WorkerConfig = { dir: model.dir, options: enc, field };
    const piscina = await startWorkers(workers, { kind: 'ready', config });
    return new SparseEncoderPool(piscina, config, tokenizer, maxPending ?? 2 * workers, workers);
  }

  /**
   * Encodes one batch of texts; waits while `maxPending` batches are in flight. A batch larger
   * than MIN_SPLIT per worker is split over the workers (an ingest batch is thousands of texts)
   * and put back together in order.
   */
  async encode(texts: string[]): Promise<SparseVectors> {
    return this.split(texts, (t) => this.submit({ kind: 'encode', texts: t }), concatVectors);
  }

  /**
   * Encodes documents: each truncated at the model's window (counted in the report) or, with
   * `passages`, cut into passages encoded and max-pooled into one vector, or (`score: 'max'`) kept
   * one vector per passage, `passages` saying whose (long-documents.ts).
   */
  async encodeDocuments(texts: string[], passages: PassageSettings | null): Promise<LongResult<SparseVectors>> {
    const run = (t: string[]) => this.submit({ kind: 'encode-long', texts: t, passages }) as unknown as Promise<LongResult<SparseVectors>>;
    const parts = await this.splitAny(texts, run);
    const out: LongResult<SparseVectors> = {
      vectors: concatVectors(parts.map((p) => p.vectors)),
      report: parts.map((p) => p.report).reduce(addReports),
    };
    if (passages?.score === 'max') out.passages = concatPassageEncodings(parts.map((p) => p.passages!));
    return out;
  }

  /** The passages `encodeDocuments` cuts `text` into with `passages` (one, the whole text, when it fits), with offsets. */
  async cut(text: string, passages: PassageSettings): Promise<PassageSpan[]> {
    return (await this.submit({ kind: 'cut', text, passages })) as unknown as PassageSpan[];
  }

  /** Encodes token id lists (already tokenized and truncated). */
  async encodeIds(lists: number[][]): Promise<SparseVectors> {
    return this.submit({ kind: 'ids', lists });
  }

  /** Encodes a stream of batches with up to `maxPending` in flight, yielding results in order. */
  encodeAll(batches: AsyncIterable<string[]> | Iterable<string[]>): AsyncGenerator<SparseVectors> {
    return this.ordered(batches, (texts) => this.encode(texts));
  }
}
