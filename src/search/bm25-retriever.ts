// BM25 on the native engine: documents were indexed with the document side of BM25
// (collections/bm25.ts); the query side is idf × count with df and N read from the store now.
import type { SparseIndex } from '../../index/index.js';
import { idf } from '../collections/bm25.js';
import type { DocumentStore } from '../store/document-store.js';
import type { Analyzer } from '../text/analyzer.js';
import { termCounts } from '../text/analyzer.js';
import type { EncodedQuery, SparseRetriever } from './retriever.js';

export class Bm25Retriever implements SparseRetriever {
  readonly name = 'bm25';

  constructor(
    private readonly store: DocumentStore,
    private readonly analyzer: Analyzer,
    private readonly getIndex: () => SparseIndex,
  ) {}

  get index(): SparseIndex {
    return this.getIndex();
  }

  encodeText(text: string): EncodedQuery {
    return this.weigh(termCounts(this.analyzer.analyze(text)), true);
  }

  /**
   * A client vector names vocabulary terms (already analyzed) and gives their query-side weight;
   * idf is applied on top so a vector of ones is the BM25 query of those terms.
   */
  encodeVector(vector: Record<string, number>): EncodedQuery {
    return this.weigh(new Map(Object.entries(vector)), true);
  }

  private weigh(counts: Map<string, number>, withIdf: boolean): EncodedQuery {
    const vocab = this.store.vocab;
    const n = this.store.size;
    const ids: number[] = [], weights: number[] = [], terms: string[] = [];
    for (const [term, c] of counts) {
      const id = vocab.id(term);
      if (id === undefined) continue;
      const df = vocab.df(id);
      if (df <= 0 || c <= 0) continue;
      ids.push(id);
      weights.push(withIdf ? idf(df, n) * c : c);
      terms.push(term);
    }
    return { query: { terms: Uint32Array.from(ids), weights: Float32Array.from(weights) }, terms };
  }
}
