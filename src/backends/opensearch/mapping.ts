// How a collection lives in one OpenSearch index: the settings and mapping made from the storages its
// retrievers declared, a document's body, and the query clauses. Pure functions (the backend sends
// them), so each choice below is tested without a cluster. docs/scale-out.md states them for users.
//
// One index per collection. A document's `_id` is the client's `_id`; its fields:
//   docno      long     the service's document number (search/ fuses by it; assigned by the backend)
//   job        keyword  the ingest job that wrote it (a second write of an _id in one job is refused)
//   dl         integer  BM25 document length (after stopwords), for avgdl in stats
//   fields     object   the stored fields, not indexed (`enabled: false`): returned as written
//   metadata   object   the metadata, not indexed; filters read `_m` below
//   _m         object   metadata flattened for filters: `_m.n.<path>` doubles, `_m.s.<path>` keywords,
//                       `_m.b.<path>` booleans, `<path>` the key's levels joined with '/', arrays
//                       as multi-values (a condition matches when any element does, as embedded)
//   _bm25      text     the service's analyzer output joined by spaces, indexed by the `whitespace`
//                       analyzer (which splits exactly there), scored by an index similarity of type
//                       BM25 at the collection's k1 and b: the same tokens as the embedded engine
//   _sp_<name> rank_features  a learned sparse vector, one feature per model vocabulary id (decimal:
//                       no dots, so the name-splitting pitfall of dotted feature names cannot occur)
//   _dn_<name> knn_vector     a dense vector, HNSW on the lucene engine, inner product
//   _ps_<name> nested         a learned sparse retriever's passages (`passages.score: 'max'`), one
//                       nested document each: `f` its rank_features, `s`/`e` its offsets in the
//                       document's model text (kept in _source only); a query scores a document by
//                       its best passage (nested query, score_mode max)
//   _pd_<name> nested         a dense retriever's passages the same way, `v` a knn_vector
import type { SparseQuery } from '../../../index/index.js';
import type { KeyCondition, Scalar } from '../filter.js';

/** What the retrievers declared, as the index needs it. */
export interface IndexLayout {
  shards: number;
  replicas: number;
  /** BM25 at these parameters (every collection has one lexical storage). */
  lexical: { name: string; k1: number; b: number } | null;
  sparse: string[];
  dense: { name: string; dim: number; m: number; efConstruction: number }[];
  /** Retrievers that keep one vector per passage (MaxP): nested documents. */
  sparsePassages: string[];
  densePassages: { name: string; dim: number; m: number; efConstruction: number }[];
}

/** Fields of the body that are not the stored document (left out of what a GET returns). */
export const INTERNAL_FIELDS = ['_m', '_bm25', 'dl'];
export const sparseField = (name: string) => `_sp_${name}`;
export const denseField = (name: string) => `_dn_${name}`;
export const sparsePassagesField = (name: string) => `_ps_${name}`;
export const densePassagesField = (name: string) => `_pd_${name}`;
/** A passage's offsets: kept in _source for explain, neither indexed nor in doc values. */
const OFFSET = { type: 'integer', index: false, doc_values: false };
export const BM25_FIELD = '_bm25';
const SIMILARITY = 'lsr_bm25';

/** Metadata keys beyond this many distinct paths per index are refused by OpenSearch (stated in the docs). */
export const TOTAL_FIELDS_LIMIT = 5000;
/** Strings longer than this are kept but not indexed for filters (Lucene's term limit is 32,766 bytes). */
export const KEYWORD_IGNORE_ABOVE = 8191;

export function indexBody(layout: IndexLayout): object {
  const properties: Record<string, unknown> = {
    docno: { type: 'long' },
    job: { type: 'keyword' },
    dl: { type: 'integer' },
    fields: { type: 'object', enabled: false },
    metadata: { type: 'object', enabled: false },
    // The index is strict (a stray field is refused, not mapped by guess) except under `_m`, where
    // each metadata path becomes a field through the templates below.
    _m: {
      type: 'object',
      dynamic: true,
      properties: { n: { type: 'object', dynamic: true }, s: { type: 'object', dynamic: true }, b: { type: 'object', dynamic: true } },
    },
  };
  const settings: Record<string, unknown> = {
    number_of_shards: layout.shards,
    number_of_replicas: layout.replicas,
    // An acknowledged write is fsynced in the translog of every in-sync copy (OpenSearch's default,
    // stated so that no template can change it under us): what a job reports indexed survives kill -9.
    'translog.durability': 'request',
    'mapping.total_fields.limit': TOTAL_FIELDS_LIMIT,
  };
  if (layout.lexical) {
    settings.similarity = { [SIMILARITY]: { type: 'BM25', k1: layout.lexical.k1, b: layout.lexical.b } };
    properties[BM25_FIELD] = { type: 'text', analyzer: 'whitespace', similarity: SIMILARITY, index_options: 'freqs' };
  }
  for (const name of layout.sparse) properties[sparseField(name)] = { type: 'rank_features' };
  for (const name of layout.sparsePassages)
    properties[sparsePassagesField(name)] = { type: 'nested', properties: { s: OFFSET, e: OFFSET, f: { type: 'rank_features' } } };
  if (layout.dense.length > 0 || layout.densePassages.length > 0) settings.knn = true;
  const knn = (d: IndexLayout['dense'][number]) => ({
    type: 'knn_vector',
    dimension: d.dim,
    // Always the lucene engine: faiss and nmslib need native libraries a node started from jars lacks.
    method: { name: 'hnsw', engine: 'lucene', space_type: 'innerproduct', parameters: { m: d.m, ef_construction: d.efConstruction } },
  });
  for (const d of layout.dense) properties[denseField(d.name)] = knn(d);
  for (const d of layout.densePassages)
    properties[densePassagesField(d.name)] = { type: 'nested', properties: { s: OFFSET, e: OFFSET, v: knn(d) } };
  return {
    settings: { index: settings },
    mappings: {
      dynamic: 'strict',
      properties,
      dynamic_templates: [
        { meta_numbers: { path_match: '_m.n.*', mapping: { type: 'double' } } },
        { meta_strings: { path_match: '_m.s.*', mapping: { type: 'keyword', ignore_above: KEYWORD_IGNORE_ABOVE } } },
        { meta_booleans: { path_match: '_m.b.*', mapping: { type: 'boolean' } } },
      ],
    },
  };
}

type Flat = { n: Record<string, number[]>; s: Record<string, string[]>; b: Record<string, boolean[]> };

/**
 * Metadata flattened for filters: every scalar reachable through objects, keyed by its path joined
 * with '/' (filter keys hold no '/'), arrays of scalars as multi-values. Scalars inside arrays of
 * objects are not reachable by a filter path on either backend, so they are not indexed.
 */
export function flattenMetadata(meta: Record<string, unknown>): Flat {
  // Null-prototype objects: a metadata key `__proto__` is data here, never a prototype.
  const out: Flat = { n: Object.create(null), s: Object.create(null), b: Object.create(null) };
  const add = <T>(m: Record<string, T[]>, path: string, v: T) => {
    const list = m[path];
    if (list) list.push(v);
    else m[path] = [v];
  };
  const put = (path: string, v: unknown) => {
    if (typeof v === 'number' && Number.isFinite(v)) add(out.n, path, v);
    else if (typeof v === 'string') add(out.s, path, v);
    else if (typeof v === 'boolean') add(out.b, path, v);
  };
  const walk = (o: Record<string, unknown>, prefix: string, depth: number) => {
    for (const [k, v] of Object.entries(o)) {
      // Filter keys are names of [A-Za-z0-9_-] (filter.ts); any other key can never be filtered on.
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(k)) continue;
      const path = prefix ? `${prefix}/${k}` : k;
      if (Array.isArray(v)) for (const e of v) put(path, e);
      else if (v !== null && typeof v === 'object') {
        if (depth < 7) walk(v as Record<string, unknown>, path, depth + 1);
      } else put(path, v);
    }
  };
  walk(meta, '', 0);
  return out;
}

function typed(path: string, v: Scalar): { field: string; value: Scalar } {
  const t = typeof v === 'number' ? 'n' : typeof v === 'boolean' ? 'b' : 's';
  return { field: `_m.${t}.${path}`, value: v };
}

/**
 * Checked filter conditions as one OpenSearch bool filter; every condition must hold. Types are kept
 * apart as JSON keeps them: 2020 does not match "2020", and `true` does not match 1.
 */
export function filterClause(conditions: readonly KeyCondition[]): object {
  const must: object[] = [];
  for (const c of conditions) {
    const path = c.path.join('/');
    if (c.eq !== undefined) {
      const t = typed(path, c.eq);
      must.push({ term: { [t.field]: t.value } });
    }
    if (c.in !== undefined) {
      const should = c.in.map((v) => {
        const t = typed(path, v);
        return { term: { [t.field]: t.value } };
      });
      must.push({ bool: { should, minimum_should_match: 1 } });
    }
    if (c.ranges.length > 0) {
      const range: Record<string, number> = {};
      for (const r of c.ranges) range[r.op] = r.value;
      must.push({ range: { [`_m.n.${path}`]: range } });
    }
  }
  return { bool: { filter: must } };
}

/**
 * The weight Lucene keeps for a rank feature: FeatureField stores a float's bits shifted right by 15,
 * so 9 significant bits survive (truncated). Explain reports these, so contributions sum to the score.
 */
export function storedFeatureWeight(w: number): number {
  const f = new Float32Array([w]);
  const u = new Uint32Array(f.buffer);
  u[0] &= 0xffff8000;
  return f[0];
}

/** Smallest positive normal float32: FeatureField refuses a document with a weight below it. */
export const MIN_FEATURE_WEIGHT = 1.1754943508222875e-38;

/** A learned sparse vector as a rank_features object; weights <= 0 or subnormal are dropped (they score 0). */
export function featuresOf(terms: ArrayLike<number>, weights: ArrayLike<number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < terms.length; i++) if (weights[i] >= MIN_FEATURE_WEIGHT) out[String(terms[i])] = weights[i];
  return out;
}

/** Lucene refuses a bool query of more should clauses than this (indices.query.bool.max_clause_count). */
export const MAX_CLAUSES = 1024;

/**
 * A bool/should of linear rank_feature clauses, boost = query weight: scores exactly Σ q · stored(d).
 * `field` is the rank_features field (a passage storage's is `<nested path>.f`).
 */
export function sparseQueryClause(name: string, q: SparseQuery, field = sparseField(name)): object[] {
  const should: object[] = [];
  for (let i = 0; i < q.terms.length; i++)
    if (q.weights[i] > 0) should.push({ rank_feature: { field: `${field}.${q.terms[i]}`, linear: {}, boost: q.weights[i] } });
  return should;
}

/** BM25: a term query per analyzed term, its count as the boost; Lucene multiplies idf and the document side. */
export function lexicalQueryClause(terms: readonly string[], weights: ArrayLike<number>): object[] {
  return terms.map((t, i) => ({ term: { [BM25_FIELD]: { value: t, boost: weights[i] } } }));
}

/** The analyzed text as the `_bm25` field holds it: each term repeated by its count (BM25 ignores order). */
export function bm25Text(counts: ReadonlyMap<string, number>): string {
  const parts: string[] = [];
  for (const [t, c] of counts) for (let i = 0; i < c; i++) parts.push(t);
  return parts.join(' ');
}

/**
 * A raw inner product from the lucene engine's score, which maps ip to ip + 1 when ip >= 0 and to
 * 1 / (1 - ip) below (scores must be positive); the k-NN scoring script does the same.
 */
export function innerProductOf(score: number): number {
  return score >= 1 ? score - 1 : 1 - 1 / score;
}

/**
 * Splits a bulk's documents (their NDJSON lines, by index) into requests of at most `maxBytes`:
 * OpenSearch refuses a body over http.max_content_length (100 MB by default), and a batch of large
 * documents can be bigger. A document larger than `maxBytes` goes alone.
 */
export function bulkParts(indices: readonly number[], lines: readonly string[], maxBytes: number): number[][] {
  const out: number[][] = [];
  let part: number[] = [];
  let bytes = 0;
  for (const i of indices) {
    const n = Buffer.byteLength(lines[i]);
    if (part.length > 0 && bytes + n > maxBytes) {
      out.push(part);
      part = [];
      bytes = 0;
    }
    part.push(i);
    bytes += n;
  }
  if (part.length > 0) out.push(part);
  return out;
}
