// The dense retriever: a query becomes one vector — its text encoded by the collection's dense model
// with the model's query prompt, or a vector the client gives (`dense_vector`) — and the collection's
// DenseIndex returns the documents with the highest inner products (cosine for normalized models).
// search/search.ts and search/hybrid.ts plan and fuse; this file only encodes and asks the index.
import type { DenseIndex, TopK } from '../../index/index.js';
import { fail } from '../errors.js';
import type { DenseConfig } from '../collections/collection-config.js';
import type { DenseEncoderPool } from '../encoder/dense/dense-pool.js';

export interface DenseRetrieveOptions {
  /** Hits, 1..100000. */
  k: number;
  /** Bitset of allowed document numbers (search/filter.ts); absent: every live document. */
  filter?: Uint8Array;
  /**
   * `exact` scores every allowed vector; `approx` walks the HNSW graphs (only when the collection was
   * created with `retrievers.dense.approx`). Default: `approx` when the index has graphs, else `exact`.
   */
  mode?: 'exact' | 'approx';
  /** approx: candidate list size, raised to k. Default: the index's (64). */
  ef?: number;
}

export class DenseRetriever {
  readonly name = 'dense';

  constructor(
    private readonly pool: DenseEncoderPool,
    readonly config: DenseConfig,
    private readonly getIndex: () => DenseIndex,
  ) {}

  get index(): DenseIndex {
    return this.getIndex();
  }

  /** Floats per vector (the model's output width). */
  get dim(): number {
    return this.pool.dim;
  }

  /** The query prompt the model puts before query text ('' for none). */
  get queryPrompt(): string {
    return this.pool.model.prompts.query;
  }

  /** Encodes query text with the model's query prompt. */
  async encodeText(text: string): Promise<Float32Array> {
    if (typeof text !== 'string') fail('VALIDATION_FAILED', 'query must be a string', 'query');
    return this.pool.encodeQueries([text]);
  }

  /**
   * A client-given query vector: exactly `dim` finite numbers. Used as given (not normalized): a
   * normalized model's documents score by cosine only against a unit query.
   */
  encodeVector(vector: unknown, field = 'dense_vector'): Float32Array {
    if (!Array.isArray(vector) && !(vector instanceof Float32Array))
      fail('VALIDATION_FAILED', `${field} must be an array of ${this.dim} numbers`, field);
    const v = vector as ArrayLike<unknown>;
    if (v.length !== this.dim) fail('VALIDATION_FAILED', `${field} must have ${this.dim} numbers (the model's dimension), got ${v.length}`, field);
    const out = new Float32Array(this.dim);
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (typeof x !== 'number' || !Number.isFinite(x)) fail('VALIDATION_FAILED', `${field}[${i}] must be a finite number, got ${JSON.stringify(x)}`, `${field}[${i}]`);
      out[i] = x;
    }
    return out;
  }

  /** Top-k documents by inner product with `query`. */
  search(query: Float32Array, o: DenseRetrieveOptions): TopK {
    const index = this.index;
    const mode = o.mode ?? (index.approx ? 'approx' : 'exact');
    if (mode !== 'exact' && mode !== 'approx') fail('VALIDATION_FAILED', `mode must be 'exact' or 'approx', got ${JSON.stringify(mode)}`, 'mode');
    if (mode === 'approx' && !index.approx)
      fail('VALIDATION_FAILED', "mode 'approx' needs a collection created with retrievers.dense.approx; this one searches exactly", 'mode');
    return index.search(query, { k: o.k, mode, ...(o.filter ? { filter: o.filter } : {}), ...(o.ef !== undefined ? { ef: o.ef } : {}) });
  }

  /** Encodes `text` and searches: the whole query path for one text. */
  async searchText(text: string, o: DenseRetrieveOptions): Promise<TopK> {
    return this.search(await this.encodeText(text), o);
  }
}
