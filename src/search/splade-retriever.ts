// SPLADE over the collection's learned-sparse index. Documents were encoded at ingest; a query is
// encoded by the same model (siamese), or, inference-free, taken as its token ids weighted by their
// IDF in this collection (Geng et al., "Towards Competitive Search Relevance For Inference-Free
// Learned Sparse Retrievers", 2024): no model runs at search time.
import type { SparseIndex } from '../../index/index.js';
import { idf } from '../collections/bm25.js';
import type { SpladeQueryMode } from '../collections/collection-config.js';
import type { SparseEncoderPool } from '../encoder/sparse/sparse-pool.js';
import { Analyzer } from '../text/analyzer.js';
import type { EncodedQuery, SparseRetriever } from './retriever.js';

/** Document frequencies of the SPLADE index's terms and its live document count. */
export interface SpladeStats {
  df(term: number): number;
  readonly docs: number;
}

export class SpladeRetriever implements SparseRetriever {
  readonly name = 'splade';
  /** BM25's analysis without stemming: stems are rarely model tokens. */
  private readonly analyzer = new Analyzer({ stem: false });

  constructor(
    private readonly pool: SparseEncoderPool,
    readonly mode: SpladeQueryMode,
    private readonly stats: SpladeStats,
    private readonly getIndex: () => SparseIndex,
  ) {}

  get index(): SparseIndex {
    return this.getIndex();
  }

  encodeText(text: string): EncodedQuery | Promise<EncodedQuery> {
    if (this.mode === 'siamese') return this.siamese(text);
    return this.inferenceFree(this.mode === 'analyzer' ? this.analyzer.analyze(text) : [text]);
  }

  private async siamese(text: string): Promise<EncodedQuery> {
    const v = await this.pool.encode([text]);
    const terms = v.terms.subarray(v.offsets[0], v.offsets[1]);
    return { query: { terms: terms.slice(), weights: v.weights.slice(v.offsets[0], v.offsets[1]) }, terms: [...terms].map((t) => this.pool.tokenizer.token(t)) };
  }

  /** Token ids of the pieces without special tokens, each weighted count × IDF; terms no document has are left out. */
  private inferenceFree(pieces: string[]): EncodedQuery {
    const tok = this.pool.tokenizer;
    const counts = new Map<number, number>();
    for (const p of pieces) for (const id of tok.ids(p, Number.MAX_SAFE_INTEGER)) if (!tok.isSpecial(id)) counts.set(id, (counts.get(id) ?? 0) + 1);
    return this.weigh(counts, true);
  }

  /** A client vector names model vocabulary tokens (`##ing` for a piece); weights are used as given. */
  encodeVector(vector: Record<string, number>): EncodedQuery {
    const counts = new Map<number, number>();
    for (const [token, w] of Object.entries(vector)) {
      const id = this.pool.tokenizer.idOf(token);
      if (id !== undefined) counts.set(id, w);
    }
    return this.weigh(counts, false);
  }

  private weigh(counts: Map<number, number>, withIdf: boolean): EncodedQuery {
    const n = this.stats.docs;
    const entries = [...counts].filter(([id, c]) => c > 0 && this.stats.df(id) > 0).sort((a, b) => a[0] - b[0]);
    return {
      query: {
        terms: Uint32Array.from(entries.map(([id]) => id)),
        weights: Float32Array.from(entries.map(([id, c]) => (withIdf ? idf(this.stats.df(id), n) * c : c))),
      },
      terms: entries.map(([id]) => this.pool.tokenizer.token(id)),
    };
  }
}
