// What a collection is made of, persisted in its store's `meta` table at creation.
import { fail } from '../errors.js';
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

/** HNSW settings of a dense index (index/dense-index.ts DenseApproxOptions). */
export interface DenseApproxConfig {
  /** Links per node, 2..128. Default 16. */
  m?: number;
  /** Candidate list while inserting, m..10000. Default 200. */
  efConstruction?: number;
  /** Seed of the level draws, a 32-bit unsigned integer. Default 1. */
  seed?: number;
}

export interface DenseConfig {
  /** Model source of a sentence-transformers style model; documents are encoded with it at ingest. */
  model: string;
  /** `f32` (default): vectors as encoded. `i8`: one byte per component and a scale per vector. */
  storage: 'f32' | 'i8';
  /** Build HNSW graphs so searches may ask for `mode: 'approx'`. Absent: exact search only. */
  approx?: DenseApproxConfig;
}

export interface CollectionConfig {
  name: string;
  /** Text fields the retrievers read, concatenated in this order with a space (one BM25 field). */
  fields: string[];
  retrievers: { bm25: Bm25Params; splade?: SpladeConfig; dense?: DenseConfig };
  /** Retriever used when a search names none. */
  defaultRetriever: string;
  createdAt: string;
}

export interface CollectionSpec {
  name: string;
  fields?: string[];
  retrievers?: {
    bm25?: Partial<Bm25Params>;
    splade?: { model: string; query?: SpladeQueryMode };
    dense?: { model: string; storage?: string; approx?: DenseApproxConfig | boolean };
  };
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

export const RETRIEVERS = ['bm25', 'splade', 'dense'] as const;

/** Checks `retrievers.dense`; every message names its field. `approx: true` means the default HNSW settings. */
export function buildDenseConfig(d: unknown, field = 'retrievers.dense'): DenseConfig {
  if (d === null || typeof d !== 'object' || Array.isArray(d)) fail('VALIDATION_FAILED', `${field} must be an object with a model`, field);
  const o = d as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!['model', 'storage', 'approx'].includes(k)) fail('VALIDATION_FAILED', `unknown property '${k}' (allowed: model, storage, approx)`, `${field}.${k}`);
  resolveModelSource(o.model, `${field}.model`);
  const storage = o.storage ?? 'f32';
  if (storage !== 'f32' && storage !== 'i8') fail('VALIDATION_FAILED', `storage must be 'f32' or 'i8', got ${JSON.stringify(o.storage)}`, `${field}.storage`);
  const out: DenseConfig = { model: o.model as string, storage };
  if (o.approx === undefined || o.approx === false) return out;
  if (o.approx === true) return { ...out, approx: {} };
  if (o.approx === null || typeof o.approx !== 'object' || Array.isArray(o.approx))
    fail('VALIDATION_FAILED', `approx must be true or an object of HNSW settings (m, efConstruction, seed), got ${JSON.stringify(o.approx)}`, `${field}.approx`);
  const a = o.approx as Record<string, unknown>;
  for (const k of Object.keys(a))
    if (!['m', 'efConstruction', 'seed'].includes(k)) fail('VALIDATION_FAILED', `unknown property '${k}' (allowed: m, efConstruction, seed)`, `${field}.approx.${k}`);
  const int = (v: unknown, lo: number, hi: number, name: string) => {
    if (v !== undefined && (!Number.isInteger(v) || (v as number) < lo || (v as number) > hi))
      fail('VALIDATION_FAILED', `${name} must be an integer from ${lo} to ${hi}, got ${JSON.stringify(v)}`, `${field}.approx.${name}`);
  };
  int(a.m, 2, 128, 'm');
  int(a.efConstruction, (a.m as number | undefined) ?? 16, 10_000, 'efConstruction');
  int(a.seed, 0, 0xffffffff, 'seed');
  const approx: DenseApproxConfig = {};
  if (a.m !== undefined) approx.m = a.m as number;
  if (a.efConstruction !== undefined) approx.efConstruction = a.efConstruction as number;
  if (a.seed !== undefined) approx.seed = a.seed as number;
  return { ...out, approx };
}

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
  const dense = spec.retrievers?.dense !== undefined ? buildDenseConfig(spec.retrievers.dense) : undefined;
  const def = spec.default_retriever ?? 'bm25';
  const available = RETRIEVERS.filter((r) => r === 'bm25' || (r === 'splade' && splade) || (r === 'dense' && dense));
  if (!(available as readonly string[]).includes(def))
    fail('UNKNOWN_RETRIEVER', `default_retriever '${def}' is not one of: ${available.join(', ')}`, 'default_retriever');
  return {
    name,
    fields,
    retrievers: { bm25, ...(splade ? { splade } : {}), ...(dense ? { dense } : {}) },
    defaultRetriever: def,
    createdAt: new Date().toISOString(),
  };
}
