// What every sparse kind shares: search over a sparse storage (exact, or approximate when the
// storage was built with `approx`), explain by term, client-vector checks, and the `approx` block
// of a sparse kind's config.
import { Type } from 'typebox';
import type { TopK } from '../../index/index.js';
import type {
  Candidates,
  SparseApproxConfig,
  SparseScoring,
  SparseStorage,
  SparseStorageConfig,
  SparseStrategy,
} from '../backends/backend.js';
import { termContributions } from '../backends/contributions.js';
import { fail } from '../errors.js';
import type { SparseEncoderPool } from '../encoder/sparse/sparse-pool.js';
import type { PassageSettings } from '../text/passages.js';
import { keepsPassages } from './passages.js';
import type {
  EncodedDocuments,
  EncodedQuery,
  QuerySource,
  Retriever,
  RetrieverContext,
  SearchStrategy,
  StoredVector,
  TermContribution,
} from './retriever.js';

/** The `approx` block of a sparse kind's config (build-time settings of its approximate structures). */
export const SparseApproxSchema = Type.Object(
  {
    postings: Type.Integer({
      minimum: 1,
      maximum: 10_000_000,
      description: 'Postings kept per term, heaviest first (λ); the pruned lists the `pruned` strategy walks.',
    }),
    block_ratio: Type.Optional(
      Type.Number({ minimum: 0, maximum: 1, description: 'Blocks per kept posting (β / λ), above 0. Default 0.1.' }),
    ),
    summary_energy: Type.Optional(
      Type.Number({ minimum: 0, maximum: 1, description: "Fraction of a block summary's L1 mass kept (α). Default 0.4." }),
    ),
    blocks: Type.Optional(
      Type.Boolean({ description: 'Also build Seismic-style blocks with summaries (the `blocks` strategy). Default false.' }),
    ),
  },
  {
    additionalProperties: false,
    description: 'Build the approximate structures so searches may ask for `mode: "approx"` (docs/engine.md). Absent: exact search only.',
  },
);

/** The `storage` block of a sparse kind's config: the precision of what the embedded engine stores. */
export const SparseStorageSchema = Type.Object(
  {
    weights: Type.Optional(
      Type.Union([Type.Literal('f32'), Type.Literal('f16')], {
        description:
          'Stored document weights: "f32" (default) or "f16" (rounded to half precision at ingest, relative error <= 2^-11; halves the forward index; weights above 65504 are refused).',
      }),
    ),
    impacts: Type.Optional(
      Type.Union([Type.Literal('f32'), Type.Literal('u8')], {
        description:
          'Posting-list impacts: "f32" (default) or "u8" (a byte per posting; exact search stays exact by re-scoring within the quantization bound).',
      }),
    ),
  },
  {
    additionalProperties: false,
    description: 'How the embedded engine stores this retriever\'s vectors (docs/engine.md "Storage"); fixed at creation.',
  },
);

const APPROX_KEYS = ['postings', 'block_ratio', 'summary_energy', 'blocks'];
const STORAGE_KEYS = ['weights', 'impacts'];
const STRATEGY_KEYS = ['mode', 'strategy', 'query_cut', 'rerank', 'heap_factor'];

/** How a sparse search walks its storage: per request, or as a retriever's default in its collection config. */
export const SparseStrategySchema = Type.Object(
  {
    mode: Type.Optional(
      Type.Union([Type.Literal('exact'), Type.Literal('approx')], {
        description:
          '"exact" (default): what a brute-force scorer returns. "approx": the pruned lists or blocks (needs `approx` at creation).',
      }),
    ),
    strategy: Type.Optional(
      Type.Union([Type.Literal('pruned'), Type.Literal('blocks')], {
        description: 'approx: "pruned" (default) or "blocks" (needs approx.blocks).',
      }),
    ),
    query_cut: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 100_000,
        description: 'approx: query terms, heaviest first, whose lists are visited. Default: all (pruned), 10 (blocks).',
      }),
    ),
    rerank: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 100_000, description: 'approx pruned: candidates re-scored exactly (at least k). Default 100.' }),
    ),
    heap_factor: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 1,
        description:
          'approx blocks: open a block when its bound reaches heap_factor × the k-th score; lower is more thorough. Default 0.9.',
      }),
    ),
  },
  { additionalProperties: false, description: 'Default search strategy of this retriever; a request may override each knob.' },
);

/** Checks a sparse kind's default `search` strategy against its `approx`; undefined when absent. */
export function parseSparseStrategy(raw: unknown, approx: SparseApproxConfig | undefined, field: string): SparseStrategy | undefined {
  if (raw === undefined) return undefined;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    fail('VALIDATION_FAILED', 'search must be an object such as {"mode": "approx"}', field);
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!STRATEGY_KEYS.includes(k))
      fail('VALIDATION_FAILED', `unknown property '${k}' (allowed: ${STRATEGY_KEYS.join(', ')})`, `${field}.${k}`);
  if (o.mode !== undefined && o.mode !== 'exact' && o.mode !== 'approx')
    fail('VALIDATION_FAILED', `mode must be 'exact' or 'approx', got ${JSON.stringify(o.mode)}`, `${field}.mode`);
  if (o.mode === 'approx' && !approx)
    fail('VALIDATION_FAILED', "mode 'approx' needs `approx` (the approximate structures) in the same config", `${field}.mode`);
  if (o.strategy !== undefined && o.strategy !== 'pruned' && o.strategy !== 'blocks')
    fail('VALIDATION_FAILED', `strategy must be 'pruned' or 'blocks', got ${JSON.stringify(o.strategy)}`, `${field}.strategy`);
  if (o.strategy === 'blocks' && !approx?.blocks)
    fail('VALIDATION_FAILED', "strategy 'blocks' needs approx.blocks: true in the same config", `${field}.strategy`);
  for (const k of ['query_cut', 'rerank'])
    if (o[k] !== undefined && (!Number.isInteger(o[k]) || (o[k] as number) < 1 || (o[k] as number) > 100_000))
      fail('VALIDATION_FAILED', `${k} must be an integer from 1 to 100000, got ${JSON.stringify(o[k])}`, `${field}.${k}`);
  if (o.heap_factor !== undefined && (typeof o.heap_factor !== 'number' || !(o.heap_factor >= 0 && o.heap_factor <= 1)))
    fail('VALIDATION_FAILED', `heap_factor must be a number from 0 to 1, got ${JSON.stringify(o.heap_factor)}`, `${field}.heap_factor`);
  return o as SparseStrategy;
}

/** Checks a sparse kind's `approx` (after the schema, for callers that skip it); undefined when absent. */
export function parseSparseApprox(raw: unknown, field: string): SparseApproxConfig | undefined {
  if (raw === undefined) return undefined;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    fail('VALIDATION_FAILED', `approx must be an object such as {"postings": 1000}`, field);
  const a = raw as Record<string, unknown>;
  for (const k of Object.keys(a))
    if (!APPROX_KEYS.includes(k))
      fail('VALIDATION_FAILED', `unknown property '${k}' (allowed: ${APPROX_KEYS.join(', ')})`, `${field}.${k}`);
  if (!Number.isInteger(a.postings) || (a.postings as number) < 1 || (a.postings as number) > 10_000_000)
    fail('VALIDATION_FAILED', `postings must be an integer from 1 to 10000000, got ${JSON.stringify(a.postings)}`, `${field}.postings`);
  const fraction = (k: string) => {
    const v = a[k];
    if (v !== undefined && (typeof v !== 'number' || !(v > 0 && v <= 1)))
      fail('VALIDATION_FAILED', `${k} must be a number in (0, 1], got ${JSON.stringify(v)}`, `${field}.${k}`);
  };
  fraction('block_ratio');
  fraction('summary_energy');
  if (a.blocks !== undefined && typeof a.blocks !== 'boolean') fail('VALIDATION_FAILED', 'blocks must be true or false', `${field}.blocks`);
  const out: SparseApproxConfig = { postings: a.postings as number };
  if (a.block_ratio !== undefined) out.block_ratio = a.block_ratio as number;
  if (a.summary_energy !== undefined) out.summary_energy = a.summary_energy as number;
  if (a.blocks !== undefined) out.blocks = a.blocks as boolean;
  return out;
}

/** Checks a sparse kind's `storage` (after the schema, for callers that skip it); undefined when absent. */
export function parseSparseStorage(raw: unknown, field: string): SparseStorageConfig | undefined {
  if (raw === undefined) return undefined;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    fail('VALIDATION_FAILED', 'storage must be an object such as {"weights": "f16", "impacts": "u8"}', field);
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!STORAGE_KEYS.includes(k))
      fail('VALIDATION_FAILED', `unknown property '${k}' (allowed: ${STORAGE_KEYS.join(', ')})`, `${field}.${k}`);
  if (o.weights !== undefined && o.weights !== 'f32' && o.weights !== 'f16')
    fail('VALIDATION_FAILED', `weights must be 'f32' or 'f16', got ${JSON.stringify(o.weights)}`, `${field}.weights`);
  if (o.impacts !== undefined && o.impacts !== 'f32' && o.impacts !== 'u8')
    fail('VALIDATION_FAILED', `impacts must be 'f32' or 'u8', got ${JSON.stringify(o.impacts)}`, `${field}.impacts`);
  return o as SparseStorageConfig;
}

/** A client sparse vector's weights must be finite and >= 0; `field` names the vector. */
export function checkSparseVector(vector: Record<string, unknown>, field: string): Record<string, number> {
  for (const [t, w] of Object.entries(vector))
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0)
      fail('INVALID_QUERY', `vector weight of '${t}' must be a finite number >= 0`, `${field}.${t}`);
  return vector as Record<string, number>;
}

function sparseOf(q: EncodedQuery) {
  if (q.shape !== 'sparse') throw new Error('a sparse retriever was given a dense query');
  return q;
}

/** The stored vectors of `docnos` in a model's sparse storage, each term with its token string (Retriever.stored). */
export async function storedSparse(
  storage: SparseStorage,
  token: (id: number) => string,
  docnos: ArrayLike<number>,
): Promise<(StoredVector | undefined)[]> {
  return Promise.all(
    Array.from(docnos, async (d): Promise<StoredVector | undefined> => {
      const doc = await storage.document(d);
      return doc ? { shape: 'sparse', terms: doc.terms, weights: doc.weights, labels: Array.from(doc.terms, token) } : undefined;
    }),
  );
}

/** What every sparse kind's config may carry: its storage, approximate structures and default strategy. */
export interface SparseSearchConfig {
  storage?: SparseStorageConfig;
  approx?: SparseApproxConfig;
  /** Default search strategy (a request may override each knob). */
  search?: SparseStrategy;
}

/** The schema fields of SparseSearchConfig, spread into a sparse kind's config and view schemas. */
export const SparseSearchFields = {
  storage: Type.Optional(SparseStorageSchema),
  approx: Type.Optional(SparseApproxSchema),
  search: Type.Optional(SparseStrategySchema),
};

/** Checks `storage`, `approx` and `search` of a sparse kind's config `o` (at `field`); only the keys given come back. */
export function parseSparseSearch(o: Record<string, unknown>, field: string): SparseSearchConfig {
  const storage = parseSparseStorage(o.storage, `${field}.storage`);
  const approx = parseSparseApprox(o.approx, `${field}.approx`);
  const search = parseSparseStrategy(o.search, approx, `${field}.search`);
  return { ...(storage ? { storage } : {}), ...(approx ? { approx } : {}), ...(search ? { search } : {}) };
}

/**
 * What a kind whose documents a sparse model encodes needs when it opens: the model's encoder pool,
 * and a sparse storage with document frequencies (IDF-weighted and client-vector queries read them).
 */
export async function openSparseModel(
  ctx: RetrieverContext<{ model: string; passages?: PassageSettings } & SparseSearchConfig>,
): Promise<{ pool: SparseEncoderPool; storage: SparseStorage; field: string }> {
  const field = `retrievers.${ctx.name}.model`;
  if (!ctx.encoders) fail('INVALID_MODEL', `collection '${ctx.collection}' has a sparse model but no encoder registry was given`, field);
  const pool = await ctx.encoders.sparse(ctx.config.model, field);
  const storage = ctx.backend.sparse(ctx.name, {
    ...(ctx.config.storage ? { storage: ctx.config.storage } : {}),
    ...(ctx.config.approx ? { approx: ctx.config.approx } : {}),
    df: true,
    ...(keepsPassages(ctx.config.passages) ? { passages: true } : {}),
  });
  return { pool, storage, field };
}

export abstract class SparseRetrieverBase<S extends SparseScoring = SparseScoring> implements Retriever {
  readonly shape = 'sparse';
  readonly vectorField = 'vector';

  constructor(
    readonly name: string,
    protected readonly storage: S,
    /** The collection's default strategy for this retriever (its config's `search`). */
    protected readonly defaults: SparseStrategy = {},
  ) {}

  /** The request's knobs over the collection's defaults. */
  private strategyOf(s: SearchStrategy | undefined): SparseStrategy {
    // Most searches give no strategy: no object is made for them (this runs once per query).
    return s === undefined ? this.defaults : { ...this.defaults, ...s };
  }

  abstract encodeDocuments(texts: string[]): Promise<EncodedDocuments> | undefined;
  /** Encodes query text. */
  protected abstract encodeText(text: string): EncodedQuery | Promise<EncodedQuery>;
  /** Encodes a checked client vector (term string -> weight). */
  protected abstract encodeVector(vector: Record<string, number>): EncodedQuery | Promise<EncodedQuery>;

  encodeQuery(source: QuerySource, field: string): EncodedQuery | Promise<EncodedQuery> {
    if (source.query !== undefined) return this.encodeText(source.query);
    return this.encodeVector(checkSparseVector(source.vector!, field));
  }

  checkStrategy(given: SearchStrategy | undefined, prefix: string): void {
    if (given === undefined) return; // the collection's defaults were checked at creation
    if (given?.ef !== undefined) fail('VALIDATION_FAILED', `ef applies to a dense retriever, not '${this.name}'`, `${prefix}approx.ef`);
    const s = this.strategyOf(given);
    if (s.mode === 'approx' && !this.storage.approx)
      fail(
        'VALIDATION_FAILED',
        `mode 'approx' needs a collection created with retrievers.${this.name}.approx; this one searches '${this.name}' exactly`,
        `${prefix}mode`,
      );
    if (s.mode !== 'approx')
      for (const k of ['strategy', 'query_cut', 'rerank', 'heap_factor'] as const)
        if (given?.[k] !== undefined) fail('VALIDATION_FAILED', `${k} applies to mode 'approx'`, `${prefix}approx.${k}`);
    if (s.mode === 'approx' && s.strategy === 'blocks' && !this.storage.approxBlocks)
      fail(
        'VALIDATION_FAILED',
        `strategy 'blocks' needs a collection created with retrievers.${this.name}.approx.blocks`,
        `${prefix}approx.strategy`,
      );
  }

  search(q: EncodedQuery, k: number, candidates: Candidates, strategy?: SearchStrategy): Promise<TopK> {
    return this.storage.search(sparseOf(q).query, k, candidates, this.strategyOf(strategy));
  }

  /**
   * Query weight × stored document weight per matching term, largest first; they sum to the score.
   * A storage that keeps passages scored the document by its best passage: that passage's weights.
   */
  async explain(q: EncodedQuery, docno: number): Promise<TermContribution[]> {
    const { query, terms } = sparseOf(q);
    const storage = this.storage as S & Partial<Pick<SparseStorage, 'passagesOf'>>;
    if (storage.passagesOf) {
      let best: TermContribution[] = [];
      let top = Number.NEGATIVE_INFINITY;
      for (const p of await storage.passagesOf(docno)) {
        const c = termContributions(query, terms, p.vector);
        const s = c.reduce((n, t) => n + t.contribution, 0);
        if (s > top) {
          top = s;
          best = c;
        }
      }
      return best;
    }
    const doc = await this.storage.document(docno);
    return doc ? termContributions(query, terms, doc) : [];
  }
}
