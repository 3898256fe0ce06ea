// Inference-free learned sparse retrieval (a "doc-only" model): documents are encoded at ingest by a
// masked-LM sparse model, and a query runs no model at all. Its vector is its unique token ids
// (special tokens left out), each weighted by an IDF: the model's own `idf.json` (token -> weight,
// calibrated in training, as OpenSearch's neural-sparse doc-only models ship it; Geng et al.,
// "Towards Competitive Search Relevance For Inference-Free Learned Sparse Retrievers", 2024), or,
// for a model without one, the token's IDF over this retriever's documents. Because no model runs,
// a query costs a tokenization and a table lookup per token.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Type } from 'typebox';
import type { SparseStorage, SparseStrategy } from '../backends/backend.js';
import { resolveModelSource } from '../encoder/model-source.js';
import type { SparseEncoderPool } from '../encoder/sparse/sparse-pool.js';
import { fail } from '../errors.js';
import { idf } from '../text/bm25.js';
import type { PassageSettings } from '../text/passages.js';
import {
  PassagesSchema,
  PassagesView,
  parsePassages,
  sparsePassageVectors,
  storedPassageVectors,
  upgradeStoredPassages,
} from './passages.js';
import type { EncodedDocuments, EncodedQuery, PassageVectors, RetrieverContext, RetrieverKind, StoredVector } from './retriever.js';
import { checkKeys, encodeSparseDocuments, parseModel, tokenVectorQuery } from './splade.js';
import {
  openSparseModel,
  parseSparseSearch,
  SparseRetrieverBase,
  SparseSearchFields,
  storedSparse,
  type SparseSearchConfig,
} from './sparse-retriever.js';

/** The file a doc-only model ships its query-token weights in. */
export const IDF_FILE = 'idf.json';

export interface InferenceFreeConfig extends SparseSearchConfig {
  model: string;
  /** `model`: the weights of the model's idf.json; `collection`: each token's IDF over this retriever's documents. */
  idf: 'model' | 'collection';
  /** Long documents in passages (retrievers/passages.ts); absent: truncated at the model's window. */
  passages?: PassageSettings;
}

const KEYS = ['model', 'idf', 'storage', 'approx', 'search', 'passages'];

/** Reads a model's idf.json into weights by token id; tokens the tokenizer does not know are left out. */
function readIdf(dir: string, pool: SparseEncoderPool, field: string): Map<number, number> {
  const path = join(dir, IDF_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    fail('INVALID_MODEL', `${path} is not readable JSON: ${(e as Error).message}`, field);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    fail('INVALID_MODEL', `${path} must be an object of token -> weight`, field);
  const out = new Map<number, number>();
  for (const [token, w] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0)
      fail('INVALID_MODEL', `${path}: the weight of ${JSON.stringify(token)} must be a finite number >= 0`, field);
    const id = pool.tokenizer.idOf(token);
    if (id !== undefined && w > 0) out.set(id, w);
  }
  return out;
}

export class InferenceFreeRetriever extends SparseRetrieverBase<SparseStorage> {
  constructor(
    name: string,
    storage: SparseStorage,
    private readonly pool: SparseEncoderPool,
    /** Token id -> weight from the model's idf.json; null: IDF over this retriever's documents. */
    private readonly modelIdf: Map<number, number> | null,
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

  /** The text's unique non-special token ids, each weighted by its IDF; tokens no document has are left out. */
  protected async encodeText(text: string): Promise<EncodedQuery> {
    if (typeof text !== 'string') fail('INVALID_QUERY', '`query` must be a string', 'query');
    const tok = this.pool.tokenizer;
    const given = [...new Set(tok.ids(text, Number.MAX_SAFE_INTEGER))].filter((id) => !tok.isSpecial(id)).sort((a, b) => a - b);
    const { n, df } = await this.storage.frequencies(given);
    const ids = given.filter((_, i) => df[i] > 0);
    const dfs = df.filter((d) => d > 0);
    const weights = ids.map((id, i) => (this.modelIdf ? (this.modelIdf.get(id) ?? 0) : idf(dfs[i], n)));
    const keep = ids.map((_, i) => i).filter((i) => weights[i] > 0);
    return {
      shape: 'sparse',
      query: { terms: Uint32Array.from(keep.map((i) => ids[i])), weights: Float32Array.from(keep.map((i) => weights[i])) },
      terms: keep.map((i) => tok.token(ids[i])),
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

export const inferenceFree: RetrieverKind<InferenceFreeConfig> = {
  name: 'inference_free',
  configSchema: Type.Object(
    {
      model: Type.String({
        minLength: 1,
        maxLength: 4096,
        description: 'Sparse (masked-LM) model source; documents are encoded with it at ingest, queries never are.',
      }),
      idf: Type.Optional(
        Type.Union([Type.Literal('model'), Type.Literal('collection')], {
          description: `Query token weights: "model", the model's ${IDF_FILE}; "collection", each token's IDF over this retriever's documents. Default: "model" when the model folder has ${IDF_FILE}, else "collection".`,
        }),
      ),
      ...SparseSearchFields,
      passages: Type.Optional(PassagesSchema),
    },
    { additionalProperties: false },
  ),
  viewSchema: Type.Object({
    model: Type.String(),
    idf: Type.String(),
    ...SparseSearchFields,
    passages: Type.Optional(PassagesView),
  }),

  parseConfig(raw: unknown, field: string): InferenceFreeConfig {
    const o = checkKeys(raw, KEYS, field, 'a model');
    const model = parseModel(o, field);
    if (o.idf !== undefined && o.idf !== 'model' && o.idf !== 'collection')
      fail('VALIDATION_FAILED', `idf must be 'model' or 'collection', got ${JSON.stringify(o.idf)}`, `${field}.idf`);
    const src = resolveModelSource(model, `${field}.model`);
    const hasFile = existsSync(join(src.dir, IDF_FILE));
    if (o.idf === 'model' && !hasFile)
      fail('INVALID_MODEL', `idf 'model' needs ${join(src.dir, IDF_FILE)}, which does not exist`, `${field}.idf`);
    const idfSource = (o.idf as InferenceFreeConfig['idf'] | undefined) ?? (hasFile ? 'model' : 'collection');
    const passages = parsePassages(o.passages, `${field}.passages`);
    return { model, idf: idfSource, ...parseSparseSearch(o, field), ...(passages ? { passages } : {}) };
  },

  upgradeStored: upgradeStoredPassages,

  async open(ctx: RetrieverContext<InferenceFreeConfig>) {
    const { pool, storage, field } = await openSparseModel(ctx);
    const modelIdf =
      ctx.config.idf === 'model' ? readIdf(resolveModelSource(ctx.config.model, field).dir, pool, `retrievers.${ctx.name}.idf`) : null;
    return new InferenceFreeRetriever(ctx.name, storage, pool, modelIdf, ctx.config.search, ctx.config.passages ?? null);
  },
};
