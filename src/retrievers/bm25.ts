// BM25: the document side is the backend's (the embedded backend indexes the store's term counts
// with Lucene's document weights, text/bm25.ts; OpenSearch indexes the analyzed text). The query is
// the analyzed terms with their counts, weighed by the storage: idf × count with df and N read when
// the query runs (embedded, so the engine's dot product is the BM25 score), or the count as a term
// query's boost (OpenSearch, whose Lucene multiplies its own idf).
import { Type } from 'typebox';
import type { LexicalStorage, SparseStrategy } from '../backends/backend.js';
import { fail } from '../errors.js';
import { termCounts, Analyzer } from '../text/analyzer.js';
import { BM25_DEFAULTS, type Bm25Params } from '../text/bm25.js';
import type { EncodedQuery, RetrieverContext, RetrieverKind, TermContribution } from './retriever.js';
import { parseSparseSearch, SparseRetrieverBase, SparseSearchFields, type SparseSearchConfig } from './sparse-retriever.js';

export interface Bm25Config extends Bm25Params, SparseSearchConfig {}

const KEYS = ['k1', 'b', 'storage', 'approx', 'search'];

export class Bm25Retriever extends SparseRetrieverBase<LexicalStorage> {
  private readonly analyzer = new Analyzer();
  /** A client vector names analyzer terms; a document's terms are its text analyzed again (search/prf.ts). */
  readonly analyzed = true;

  constructor(
    name: string,
    protected override readonly storage: LexicalStorage,
    defaults?: SparseStrategy,
  ) {
    super(name, storage, defaults);
  }

  encodeDocuments(): undefined {
    return undefined;
  }

  protected encodeText(text: string): Promise<EncodedQuery> {
    if (typeof text !== 'string') fail('INVALID_QUERY', '`query` must be a string', 'query');
    return this.weigh(termCounts(this.analyzer.analyze(text)));
  }

  /**
   * A client vector names vocabulary terms (already analyzed) and gives their query-side weight;
   * idf is applied on top so a vector of ones is the BM25 query of those terms.
   */
  protected encodeVector(vector: Record<string, number>): Promise<EncodedQuery> {
    return this.weigh(new Map(Object.entries(vector)));
  }

  /** The storage weighs: the embedded engine by idf × count, OpenSearch's Lucene by its own idf. */
  private async weigh(counts: Map<string, number>): Promise<EncodedQuery> {
    const { query, terms } = await this.storage.weigh(counts);
    return { shape: 'sparse', query, terms };
  }

  /** Live documents and how many hold each analyzed term, as the storage counts them. */
  termFrequencies(terms: readonly string[]): Promise<{ n: number; df: Uint32Array }> {
    return this.storage.termFrequencies(terms);
  }

  override async explain(q: EncodedQuery, docno: number): Promise<TermContribution[]> {
    if (q.shape !== 'sparse') throw new Error('BM25 was given a dense query');
    return (await this.storage.explain(q, docno)) ?? [];
  }
}

export const bm25: RetrieverKind<Bm25Config> = {
  name: 'bm25',
  configSchema: Type.Object(
    {
      k1: Type.Optional(Type.Number({ minimum: 0, maximum: 10, description: 'Term-frequency saturation. Default 0.9.' })),
      b: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Length normalization. Default 0.4.' })),
      ...SparseSearchFields,
    },
    { additionalProperties: false },
  ),
  viewSchema: Type.Object({
    k1: Type.Number(),
    b: Type.Number(),
    ...SparseSearchFields,
  }),

  parseConfig(raw: unknown, field: string): Bm25Config {
    const o = (raw ?? {}) as Record<string, unknown>;
    if (typeof o !== 'object' || Array.isArray(o))
      fail('VALIDATION_FAILED', `${field} must be an object such as {"k1": 0.9, "b": 0.4}`, field);
    for (const k of Object.keys(o))
      if (!KEYS.includes(k)) fail('VALIDATION_FAILED', `unknown property '${k}' (allowed: ${KEYS.join(', ')})`, `${field}.${k}`);
    const num = (k: 'k1' | 'b', hi: number) => {
      const v = o[k] ?? BM25_DEFAULTS[k];
      if (typeof v !== 'number' || !(v >= 0 && v <= hi))
        fail('VALIDATION_FAILED', `${k} must be a number from 0 to ${hi}`, `${field}.${k}`);
      return v;
    };
    return { k1: num('k1', 10), b: num('b', 1), ...parseSparseSearch(o, field) };
  },

  async open(ctx: RetrieverContext<Bm25Config>) {
    return new Bm25Retriever(ctx.name, ctx.backend.lexical(ctx.name, ctx.config), ctx.config.search);
  },
};
