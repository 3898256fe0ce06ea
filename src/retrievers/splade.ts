// SPLADE: documents are encoded at ingest by a masked-LM sparse model (the fused head; encoder/sparse)
// and kept as learned sparse vectors. A query is encoded by the same model (`siamese`), or, with no
// model run at search time, taken as its token ids weighted by their IDF in this collection
// (`inference-free`, Geng et al., "Towards Competitive Search Relevance For Inference-Free Learned
// Sparse Retrievers", 2024), or the same over the words of BM25's analyzer (`analyzer`).
import { Type } from 'typebox';
import type { SparseStorage, SparseStrategy } from '../backends/backend.js';
import type { SparseEncoderPool } from '../encoder/sparse/sparse-pool.js';
import { resolveModelSource } from '../encoder/model-source.js';
import { fail } from '../errors.js';
import type { SparseVector } from '../store/document-store.js';
import { Analyzer } from '../text/analyzer.js';
import { idf } from '../text/bm25.js';
import type { PassageSettings } from '../text/passages.js';
import {
  documentVectors,
  PassagesSchema,
  PassagesView,
  parsePassages,
  sparsePassageVectors,
  storedPassageVectors,
  upgradeStoredPassages,
} from './passages.js';
import type { EncodedDocuments, EncodedQuery, PassageVectors, RetrieverContext, RetrieverKind, StoredVector } from './retriever.js';
import {
  openSparseModel,
  parseSparseSearch,
  SparseRetrieverBase,
  SparseSearchFields,
  storedSparse,
  type SparseSearchConfig,
} from './sparse-retriever.js';

/** How a SPLADE retriever encodes queries. */
export const SPLADE_QUERY_MODES = ['siamese', 'inference-free', 'analyzer'] as const;
export type SpladeQueryMode = (typeof SPLADE_QUERY_MODES)[number];

export interface SpladeConfig extends SparseSearchConfig {
  /** Model source (`dir:<path>`, `pypi:…`); documents are encoded with it at ingest. */
  model: string;
  query: SpladeQueryMode;
  /** Long documents in passages (retrievers/passages.ts); absent: truncated at the model's window. */
  passages?: PassageSettings;
}

const KEYS = ['model', 'query', 'storage', 'approx', 'search', 'passages'];

/** The document side of every kind that keeps a model's sparse vectors. */
export async function encodeSparseDocuments(
  pool: SparseEncoderPool,
  texts: string[],
  passages: PassageSettings | null,
): Promise<EncodedDocuments> {
  const { vectors: v, report, passages: entries } = await pool.encodeDocuments(texts, passages);
  const vectors = documentVectors<SparseVector>(
    texts.length,
    (i) => ({ terms: v.terms.slice(v.offsets[i], v.offsets[i + 1]), weights: v.weights.slice(v.offsets[i], v.offsets[i + 1]) }),
    entries,
  );
  return { vectors, report };
}

/**
 * An inference-free query: the model's token ids of `pieces` without special tokens, each weighted
 * count × IDF over the storage's live documents; terms no document has are left out.
 */
export function inferenceFreeQuery(pool: SparseEncoderPool, storage: SparseStorage, pieces: string[]): Promise<EncodedQuery> {
  const tok = pool.tokenizer;
  const counts = new Map<number, number>();
  for (const p of pieces)
    for (const id of tok.ids(p, Number.MAX_SAFE_INTEGER)) if (!tok.isSpecial(id)) counts.set(id, (counts.get(id) ?? 0) + 1);
  return weighTokens(pool, storage, counts, true);
}

/** A client vector names model vocabulary tokens (`##ing` for a piece); weights are used as given. */
export function tokenVectorQuery(pool: SparseEncoderPool, storage: SparseStorage, vector: Record<string, number>): Promise<EncodedQuery> {
  const counts = new Map<number, number>();
  for (const [token, w] of Object.entries(vector)) {
    const id = pool.tokenizer.idOf(token);
    if (id !== undefined) counts.set(id, w);
  }
  return weighTokens(pool, storage, counts, false);
}

async function weighTokens(
  pool: SparseEncoderPool,
  storage: SparseStorage,
  counts: Map<number, number>,
  withIdf: boolean,
): Promise<EncodedQuery> {
  const given = [...counts].filter(([, c]) => c > 0).sort((a, b) => a[0] - b[0]);
  const { n, df } = await storage.frequencies(given.map(([id]) => id));
  const entries = given.map(([id, c], i) => [id, c, df[i]] as const).filter(([, , d]) => d > 0);
  return {
    shape: 'sparse',
    query: {
      terms: Uint32Array.from(entries.map(([id]) => id)),
      weights: Float32Array.from(entries.map(([, c, d]) => (withIdf ? idf(d, n) * c : c))),
    },
    terms: entries.map(([id]) => pool.tokenizer.token(id)),
  };
}

export class SpladeRetriever extends SparseRetrieverBase<SparseStorage> {
  /** BM25's analysis without stemming: stems are rarely model tokens. */
  private readonly analyzer = new Analyzer({ stem: false });

  constructor(
    name: string,
    storage: SparseStorage,
    private readonly pool: SparseEncoderPool,
    readonly mode: SpladeQueryMode,
    defaults?: SparseStrategy,
    /** Long documents in passages (retrievers/passages.ts); null: truncated at the model's window. */
    private readonly passages: PassageSettings | null = null,
  ) {
    super(name, storage, defaults);
  }

  encodeDocuments(texts: string[]): Promise<EncodedDocuments> {
    return encodeSparseDocuments(this.pool, texts, this.passages);
  }

  passageVectors(text: string): Promise<PassageVectors | null> {
    return sparsePassageVectors(this.pool, this.passages, text);
  }

  storedPassages(docno: number): Promise<PassageVectors | null> {
    return storedPassageVectors(this.storage, docno, (id) => this.pool.tokenizer.token(id));
  }

  protected encodeText(text: string): EncodedQuery | Promise<EncodedQuery> {
    if (this.mode === 'siamese') return this.siamese(text);
    return inferenceFreeQuery(this.pool, this.storage, this.mode === 'analyzer' ? this.analyzer.analyze(text) : [text]);
  }

  private async siamese(text: string): Promise<EncodedQuery> {
    const v = await this.pool.encode([text]);
    const terms = v.terms.subarray(v.offsets[0], v.offsets[1]);
    return {
      shape: 'sparse',
      query: { terms: terms.slice(), weights: v.weights.slice(v.offsets[0], v.offsets[1]) },
      terms: [...terms].map((t) => this.pool.tokenizer.token(t)),
    };
  }

  protected encodeVector(vector: Record<string, number>): Promise<EncodedQuery> {
    return tokenVectorQuery(this.pool, this.storage, vector);
  }

  /** The stored vectors of `docnos` with their token strings (pseudo-relevance feedback: search/prf.ts). */
  stored(docnos: ArrayLike<number>): Promise<(StoredVector | undefined)[]> {
    return storedSparse(this.storage, (id) => this.pool.tokenizer.token(id), docnos);
  }
}

/** Checks `model` of a model-backed kind's config; returns it. */
export function parseModel(o: Record<string, unknown>, field: string): string {
  resolveModelSource(o.model, `${field}.model`);
  return o.model as string;
}

export function checkKeys(o: unknown, keys: string[], field: string, what: string): Record<string, unknown> {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) fail('VALIDATION_FAILED', `${field} must be an object with ${what}`, field);
  for (const k of Object.keys(o))
    if (!keys.includes(k)) fail('VALIDATION_FAILED', `unknown property '${k}' (allowed: ${keys.join(', ')})`, `${field}.${k}`);
  return o as Record<string, unknown>;
}

export const splade: RetrieverKind<SpladeConfig> = {
  name: 'splade',
  configSchema: Type.Object(
    {
      model: Type.String({
        minLength: 1,
        maxLength: 4096,
        description: 'Sparse model source, e.g. "dir:models/fixtures/tiny-bert"; documents are encoded with it at ingest.',
      }),
      query: Type.Optional(
        Type.Union(
          SPLADE_QUERY_MODES.map((m) => Type.Literal(m)),
          {
            description:
              '"siamese" (default): queries run through the same model. "inference-free": a query is its token ids weighted by IDF in this collection. "analyzer": the same over the words of BM25\'s analyzer (stopwords dropped, not stemmed).',
          },
        ),
      ),
      ...SparseSearchFields,
      passages: Type.Optional(PassagesSchema),
    },
    { additionalProperties: false },
  ),
  viewSchema: Type.Object({
    model: Type.String(),
    query: Type.String(),
    ...SparseSearchFields,
    passages: Type.Optional(PassagesView),
  }),

  parseConfig(raw: unknown, field: string): SpladeConfig {
    const o = checkKeys(raw, KEYS, field, 'a model');
    const model = parseModel(o, field);
    const query = o.query ?? 'siamese';
    if (!(SPLADE_QUERY_MODES as readonly unknown[]).includes(query))
      fail('VALIDATION_FAILED', `query must be one of: ${SPLADE_QUERY_MODES.join(', ')}`, `${field}.query`);
    const passages = parsePassages(o.passages, `${field}.passages`);
    return { model, query: query as SpladeQueryMode, ...parseSparseSearch(o, field), ...(passages ? { passages } : {}) };
  },

  upgradeStored: upgradeStoredPassages,

  async open(ctx: RetrieverContext<SpladeConfig>) {
    const { pool, storage } = await openSparseModel(ctx);
    return new SpladeRetriever(ctx.name, storage, pool, ctx.config.query, ctx.config.search, ctx.config.passages ?? null);
  },
};
