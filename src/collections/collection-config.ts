// What a collection is made of, persisted in its store's `meta` table at creation: its name, its
// text fields, and one config per retriever, each checked by its kind (src/retrievers/).
import { fail } from '../errors.js';
import { kindOf, RETRIEVER_KINDS, RETRIEVERS } from '../retrievers/registry.js';

export { RETRIEVERS };

export interface CollectionConfig {
  name: string;
  /** Text fields the retrievers read, concatenated in this order with a space (one BM25 field). */
  fields: string[];
  /** Retriever name -> its kind's config; `bm25` always, first. */
  retrievers: Record<string, unknown>;
  /** Retriever used when a search names none. */
  defaultRetriever: string;
  createdAt: string;
}

export interface CollectionSpec {
  name: string;
  fields?: string[];
  /** Retriever name -> config, as its kind takes it (`{"bm25": {"k1": 1.2}, "splade": {"model": "..."}}`). */
  retrievers?: Record<string, unknown>;
  default_retriever?: string;
}

/** Names become directory names: lowercase letters, digits, `_` and `-`, no dots or slashes. */
export const COLLECTION_NAME_PATTERN = '^[a-z0-9][a-z0-9_-]{0,63}$';
const NAME_RE = new RegExp(COLLECTION_NAME_PATTERN);

export function validateCollectionName(name: unknown, field = 'name'): string {
  if (typeof name !== 'string' || !NAME_RE.test(name))
    fail(
      'INVALID_COLLECTION_NAME',
      `collection name ${JSON.stringify(name)} is invalid: use 1-64 lowercase letters, digits, '_' or '-', starting with a letter or digit`,
      field,
    );
  return name;
}

export function buildConfig(spec: CollectionSpec): CollectionConfig {
  const name = validateCollectionName(spec.name);
  const fields = spec.fields ?? ['title', 'text'];
  if (fields.length === 0) fail('VALIDATION_FAILED', 'fields must name at least one text field', 'fields');
  if (new Set(fields).size !== fields.length) fail('VALIDATION_FAILED', 'fields must not repeat a name', 'fields');
  for (const f of fields)
    if (f === '_id' || f === 'metadata') fail('VALIDATION_FAILED', `'${f}' is reserved and cannot be a text field`, 'fields');
  const given = spec.retrievers ?? {};
  if (given === null || typeof given !== 'object' || Array.isArray(given))
    fail('VALIDATION_FAILED', 'retrievers must be an object of retriever name -> config', 'retrievers');
  for (const k of Object.keys(given))
    if (!kindOf(k)) fail('UNKNOWN_RETRIEVER', `retriever '${k}' is not one this service has (${RETRIEVERS.join(', ')})`, `retrievers.${k}`);
  // BM25 is always there (with its defaults when not given); the others when given.
  const retrievers: Record<string, unknown> = {};
  for (const kind of RETRIEVER_KINDS)
    if (kind.name === 'bm25' || given[kind.name] !== undefined)
      retrievers[kind.name] = kind.parseConfig(given[kind.name], `retrievers.${kind.name}`);
  const def = spec.default_retriever ?? 'bm25';
  const available = Object.keys(retrievers);
  if (!available.includes(def))
    fail('UNKNOWN_RETRIEVER', `default_retriever '${def}' is not one of: ${available.join(', ')}`, 'default_retriever');
  return { name, fields, retrievers, defaultRetriever: def, createdAt: new Date().toISOString() };
}

/** A config read back from a store, in today's form (kinds rename keys they once spelled otherwise). */
export function storedConfig(raw: string): CollectionConfig {
  const c = JSON.parse(raw) as CollectionConfig;
  const retrievers: Record<string, unknown> = {};
  for (const [name, conf] of Object.entries(c.retrievers)) {
    const kind = kindOf(name);
    retrievers[name] = kind?.upgradeStored ? kind.upgradeStored(conf) : conf;
  }
  return { ...c, retrievers };
}
