// The dense encoder pool: DenseEncoders in the same piscina worker threads as the sparse pool
// (encoder-worker.ts, task kinds 'dense-ready' / 'dense'), behind the same bounded queue (WorkerPool,
// worker-pool.ts): a caller that finds `maxPending` batches in flight waits, results come back in
// submission order, close() drains what was accepted, then stops the workers.
import type { PassageSettings, PassageSpan } from '../../text/passages.js';
import type { LongResult } from '../encoder-worker.js';
import { addReports, concatPassageEncodings } from '../long-documents.js';
import type { Piscina } from 'piscina';
import { validateDenseOptions, type DenseEncoderOptions, type DenseRole } from './dense-encoder.js';
import { inspectDenseModelDir, type DenseModelDir } from './dense-model-dir.js';
import type { WorkerConfig } from '../encoder-worker.js';
import { type PoolSizeOptions, startWorkers, validatePoolSize, WorkerPool } from '../worker-pool.js';

export interface DensePoolOptions extends DenseEncoderOptions, PoolSizeOptions {}

export class DenseEncoderPool extends WorkerPool<Float32Array> {
  private constructor(
    piscina: Piscina,
    config: WorkerConfig,
    readonly model: DenseModelDir,
    /** Floats per vector. */
    readonly dim: number,
    maxPending: number,
    workers: number,
  ) {
    super(piscina, config, maxPending, workers);
  }

  /** Starts the workers and loads the model in each; a bad model rejects here, with its code and field. */
  static async open(dir: string, options: DensePoolOptions = {}, field = 'model'): Promise<DenseEncoderPool> {
    const { workers = 1, maxPending, ...enc } = options;
    validateDenseOptions(enc);
    validatePoolSize(workers, maxPending);
    // Checked here too so a bad folder fails before any thread starts, naming the file.
    const model = inspectDenseModelDir(dir, field, enc.name);
    const dim = model.hidden * (enc.pooling ? 1 : model.pooling.length);
    const config: WorkerConfig = { dir: model.dir, options: {}, field, dense: enc };
    const piscina = await startWorkers(workers, { kind: 'dense-ready', config });
    return new DenseEncoderPool(piscina, config, model, dim, maxPending ?? 2 * workers, workers);
  }

  /** One row of `dim` floats per query, the model's query prompt applied. */
  encodeQueries(texts: string[]): Promise<Float32Array> {
    return this.encode(texts, 'query');
  }

  /** One row of `dim` floats per document, the model's document prompt applied. */
  encodeDocuments(texts: string[]): Promise<Float32Array> {
    return this.encode(texts, 'document');
  }

  /**
   * Documents, each truncated at the model's window (counted in the report) or, with `passages`, cut
   * into passages whose vectors are averaged (long-documents.ts); one row of `dim` floats each. With
   * `score: 'max'`, one row per passage instead, `passages` saying whose.
   */
  async encodeLongDocuments(texts: string[], passages: PassageSettings | null): Promise<LongResult<Float32Array>> {
    const run = (t: string[]) => this.submit({ kind: 'dense-long', texts: t, passages }) as unknown as Promise<LongResult<Float32Array>>;
    const parts = await this.splitAny(texts, run);
    const out = new Float32Array(parts.reduce((n, p) => n + p.vectors.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p.vectors, at);
      at += p.vectors.length;
    }
    const result: LongResult<Float32Array> = { vectors: out, report: parts.map((p) => p.report).reduce(addReports) };
    if (passages?.score === 'max') result.passages = concatPassageEncodings(parts.map((p) => p.passages!));
    return result;
  }

  /** The passages `encodeLongDocuments` cuts `text` into with `passages` (one, the whole text, when it fits), with offsets. */
  async cut(text: string, passages: PassageSettings): Promise<PassageSpan[]> {
    return (await this.submit({ kind: 'dense-cut', text, passages })) as unknown as PassageSpan[];
  }

  /** Encodes one batch; waits while `maxPending` batches are in flight; a large batch is split over the workers. */
  async encode(texts: string[], role: DenseRole): Promise<Float32Array> {
    return this.split(
      texts,
      (t) => this.submit({ kind: 'dense', role, texts: t }),
      (got) => {
        const out = new Float32Array(texts.length * this.dim);
        let at = 0;
        for (const g of got) {
          out.set(g, at);
          at += g.length;
        }
        return out;
      },
    );
  }

  /** Encodes a stream of batches with up to `maxPending` in flight, yielding results in order. */
  encodeAll(batches: AsyncIterable<string[]> | Iterable<string[]>, role: DenseRole = 'document'): AsyncGenerator<Float32Array> {
    return this.ordered(batches, (texts) => this.encode(texts, role));
  }
}
