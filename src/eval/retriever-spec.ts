// Retriever specs as `lsr eval --retriever` takes them:
//
//   <retriever>[:<key>=<value>[,<key>=<value>...]]
//
//   bm25                       BM25 with the collection defaults (k1=0.9, b=0.4, as Anserini)
//   bm25:k1=1.2,b=0.75         BM25 with other parameters (a collection built with them)
//   bm25:collection=scifact    search the existing collection `scifact` instead of indexing
//   bm25:fields=title+text     text fields concatenated into the one BM25 field (default title+text)
//
// Reserved keys: `collection` (use that collection as it is; nothing is indexed) and `fields`
// (`+`-separated). Every other key is a parameter of the retriever, sent as the collection's
// `retrievers.<retriever>` settings when the harness creates the collection; numeric-looking
// values are sent as numbers.

import { createHash } from 'node:crypto';

/** A parsed retriever spec. */
export interface RetrieverSpec {
  /** The text as given, used to label results. */
  raw: string;
  /** Retriever name the service knows (`bm25`, ...). */
  retriever: string;
  /** Retriever parameters (collection-level settings of that retriever). */
  params: Record<string, string | number>;
  /** Text fields indexed, in order; default `['title', 'text']`. */
  fields: string[];
  /** Existing collection to search; when set, nothing is indexed. */
  collection?: string;
}

/** Parses a spec (see the file comment for the syntax). Throws with the offending part named. */
export function parseRetrieverSpec(raw: string): RetrieverSpec {
  const s = raw.trim();
  const colon = s.indexOf(':');
  const retriever = colon < 0 ? s : s.slice(0, colon);
  if (!/^[a-z][a-z0-9_-]*$/.test(retriever)) {
    throw new Error(`retriever spec "${raw}": name "${retriever}" must be lowercase letters, digits, '_' or '-'`);
  }
  const spec: RetrieverSpec = { raw: s, retriever, params: {}, fields: ['title', 'text'] };
  if (colon < 0) return spec;
  const rest = s.slice(colon + 1);
  if (rest === '') throw new Error(`retriever spec "${raw}": nothing after ':'`);
  for (const part of rest.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`retriever spec "${raw}": "${part}" is not key=value`);
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (value === '') throw new Error(`retriever spec "${raw}": "${key}" has no value`);
    if (key === 'collection') spec.collection = value;
    else if (key === 'fields') spec.fields = value.split('+').map((f) => f.trim()).filter(Boolean);
    else {
      if (key in spec.params) throw new Error(`retriever spec "${raw}": "${key}" given twice`);
      spec.params[key] = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value) ? Number(value) : value;
    }
  }
  if (spec.fields.length === 0) throw new Error(`retriever spec "${raw}": fields is empty`);
  return spec;
}

/**
 * Name of the collection the harness builds for `spec` on a dataset: `eval-<dataset>-<hash>`, where
 * the hash covers the dataset path, fields and retriever settings, so specs that need the same index
 * share it and a changed setting never reuses a stale one. Fits the service's name pattern
 * (lowercase letters, digits, `_`, `-`; at most 64 characters).
 */
export function collectionNameFor(spec: RetrieverSpec, datasetPath: string, datasetName: string): string {
  if (spec.collection) return spec.collection;
  const key = JSON.stringify({ d: datasetPath, f: spec.fields, r: spec.retriever, p: Object.entries(spec.params).sort() });
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 10);
  const slug = datasetName.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^[-_]+|[-_]+$/g, '').slice(0, 40) || 'dataset';
  return `eval-${slug}-${hash}`;
}

/** The body of `POST /v1/collections` that builds the collection `spec` needs. */
export function collectionBody(spec: RetrieverSpec, name: string): Record<string, unknown> {
  const body: Record<string, unknown> = { name, fields: spec.fields, default_retriever: spec.retriever };
  if (Object.keys(spec.params).length > 0) body.retrievers = { [spec.retriever]: spec.params };
  return body;
}
