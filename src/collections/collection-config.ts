// What a collection is made of, persisted in its store's `meta` table at creation.
import { fail } from '../api/errors.js';
import { resolveModelSource } from '../encoder/model-source.js';
import { BM25_DEFAULTS, type Bm25Params } from './bm25.js';

/** How a SPLADE retriever encodes queries. */
export const SPLADE_QUERY_MODES = ['siamese', 'inference-free', 'analyzer'] as const;
export type SpladeQueryMode = (typeof SPLADE_QUERY_MODES)[number];

export interface SpladeConfig {
  /** Model source (`dir:<path>`); documents are encoded with it at ingest. */
  model: string;
  /**
   * `siamese`: queries go through the same encoder. `inference-free`: a query is its token ids,
   * each weighted by its IDF in this collection's SPLADE index (no model run at search time).
   * `analyzer`: inference-free over the words of BM25's analyzer (NFKC, lowercase, UAX #29 words,
   * English stopwords dropped; not stemmed), each tokenized by the model's tokenizer.
   */
  query: SpladeQueryMode;
}

export interface CollectionConfig {
  name: string;
  /** Text fields the retrievers read, concatenated in this order with a space (one BM25 field). */
  fields: string[];
  retrievers: { bm25: Bm25Params; splade?: SpladeConfig };
  /** Retriever used when a search names none. */
  defaultRetriever: string;
  createdAt: string;
}

export interface CollectionSpec {
  name: string;
  fields?: string[];
  retrievers?: { bm25?: Partial<Bm25Params>; splade?: { model: string; query?: SpladeQueryMode } };
  default_retriever?: string;
}

/** Names become directory names: lowercase letters, digits, `_` and `-`, no dots or slashes. */
export const COLLECTION_NAME_PATTERN = '^[a-z0-9][a-z0-9_-]{0,63}$';
const NAME_RE = new RegExp(COLLECTION_NAME_PATTERN);

export function validateCollectionName(name: unknown, field = 'name'): string {
  if (typeof name !== 'string' || !NAME_RE.test(name))
    fail('INVALID_COLLECTION_NAME', `collection name ${JSON.stringify(name)} is invalid: use 1-64 lowercase letters, digits, '_' or '-', starting with a letter or digit`, field);
  return name;
}

export const RETRIEVERS = ['bm25', 'splade'] as const;

export function buildConfig(spec: CollectionSpec): CollectionConfig {
  const name = validateCollectionName(spec.name);
  const fields = spec.fields ?? ['title', 'text'];
  if (fields.length === 0) fail('VALIDATION_FAILED', 'fields must name at least one text field', 'fields');
  if (new Set(fields).size !== fields.length) fail('VALIDATION_FAILED', 'fields must not repeat a name', 'fields');
  for (const f of fields) if (f === '_id' || f === 'metadata') fail('VALIDATION_FAILED', `'${f}' is reserved and cannot be a text field`, 'fields');
  const bm25 = { ...BM25_DEFAULTS, ...(spec.retrievers?.bm25 ?? {}) };
  let splade: SpladeConfig | undefined;
  if (spec.retrievers?.splade) {
    const s = spec.retrievers.splade;
    resolveModelSource(s.model, 'retrievers.splade.model');
    const query = s.query ?? 'siamese';
    if (!(SPLADE_QUERY_MODES as readonly string[]).includes(query))
      fail('VALIDATION_FAILED', `query must be one of: ${SPLADE_QUERY_MODES.join(', ')}`, 'retrievers.splade.query');
    splade = { model: s.model, query };
  }
  const def = spec.default_retriever ?? 'bm25';
  const available = splade ? RETRIEVERS : (['bm25'] as const);
  if (!(available as readonly string[]).includes(def))
    fail('UNKNOWN_RETRIEVER', `default_retriever '${def}' is not one of: ${available.join(', ')}`, 'default_retriever');
  return { name, fields, retrievers: { bm25, ...(splade ? { splade } : {}) }, defaultRetriever: def, createdAt: new Date().toISOString() };
}
