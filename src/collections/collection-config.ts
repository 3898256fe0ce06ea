// What a collection is made of, persisted in its store's `meta` table at creation: its name, its
// text fields, and one config per retriever, each checked by its kind (src/retrievers/).
import { fail } from '../errors.js';
import { kindOf, RETRIEVER_KINDS, RETRIEVERS } from '../retrievers/registry.js';

export { RETRIEVERS };

/** Where a collection's data lives (src/backends/); absent in configs stored before there was a choice: embedded. */
export type BackendConfig = { kind: 'embedded' } | { kind: 'opensearch'; index: string; shards: number; replicas: number };

export interface CollectionConfig {
  name: string;
  backend?: BackendConfig;
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
  /** `{"kind": "embedded"}` (default) or `{"kind": "opensearch", "index": ..., "shards": N, "replicas": R}`. */
  backend?: unknown;
}

/** What the server offers collections: its default backend and, when configured, its OpenSearch cluster. */
export interface BackendChoice {
  default: 'embedded' | 'opensearch';
  /** The configured cluster's URL and index prefix; absent: only embedded collections. */
  opensearch?: { url: string; prefix: string };
}

export const EMBEDDED_ONLY: BackendChoice = { default: 'embedded' };

const INDEX_NAME_RE = /^[a-z0-9][a-z0-9._-]{0,199}$/;
const BACKEND_KEYS = ['kind', 'url', 'index', 'shards', 'replicas'];

/** Checks a create request's `backend` (or fills the server's default), with messages naming the field. */
export function parseBackend(raw: unknown, name: string, choice: BackendChoice): BackendConfig {
  const o = (raw ?? { kind: choice.default }) as Record<string, unknown>;
  if (typeof o !== 'object' || Array.isArray(o) || o === null)
    fail('VALIDATION_FAILED', 'backend must be an object such as {"kind": "opensearch", "shards": 2, "replicas": 1}', 'backend');
  for (const k of Object.keys(o))
    if (!BACKEND_KEYS.includes(k))
      fail('VALIDATION_FAILED', `unknown property '${k}' (allowed: ${BACKEND_KEYS.join(', ')})`, `backend.${k}`);
  const kind = o.kind ?? choice.default;
  if (kind !== 'embedded' && kind !== 'opensearch')
    fail('VALIDATION_FAILED', `backend.kind must be 'embedded' or 'opensearch', got ${JSON.stringify(kind)}`, 'backend.kind');
  if (kind === 'embedded') {
    for (const k of ['url', 'index', 'shards', 'replicas'])
      if (o[k] !== undefined) fail('VALIDATION_FAILED', `${k} applies to backend kind 'opensearch'`, `backend.${k}`);
    return { kind };
  }
  const os = choice.opensearch;
  if (!os) fail('BACKEND_NOT_CONFIGURED', 'this server has no OpenSearch cluster configured (LSR_OPENSEARCH_URL)', 'backend.kind');
  // The cluster is the server's to name: a URL taken from a request would let any client make the
  // server connect, with its credentials, wherever the client says. A client may repeat it.
  if (o.url !== undefined && (typeof o.url !== 'string' || o.url.replace(/\/+$/, '') !== os.url.replace(/\/+$/, '')))
    fail(
      'VALIDATION_FAILED',
      `backend.url must be the server's configured cluster (${os.url}) or be left out; clusters are named in the server's configuration`,
      'backend.url',
    );
  const index = o.index ?? `${os.prefix}-${name}`;
  if (typeof index !== 'string' || !INDEX_NAME_RE.test(index))
    fail(
      'VALIDATION_FAILED',
      "backend.index must be 1-200 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit",
      'backend.index',
    );
  if (index === `${os.prefix}.collections` || index === `${os.prefix}.jobs`)
    fail('VALIDATION_FAILED', `backend.index '${index}' is one of the service's own indexes`, 'backend.index');
  const int = (k: 'shards' | 'replicas', def: number, lo: number, hi: number) => {
    const v = o[k] ?? def;
    if (!Number.isInteger(v) || (v as number) < lo || (v as number) > hi)
      fail('VALIDATION_FAILED', `backend.${k} must be an integer from ${lo} to ${hi}, got ${JSON.stringify(o[k])}`, `backend.${k}`);
    return v as number;
  };
  return { kind, index, shards: int('shards', 1, 1, 1024), replicas: int('replicas', 1, 0, 15) };
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

export function buildConfig(spec: CollectionSpec, choice: BackendChoice = EMBEDDED_ONLY): CollectionConfig {
  const name = validateCollectionName(spec.name);
  const backend = parseBackend(spec.backend, name, choice);
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
  return { name, backend, fields, retrievers, defaultRetriever: def, createdAt: new Date().toISOString() };
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
