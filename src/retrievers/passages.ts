// The `passages` setting of a model-backed retriever (splade, inference_free, dense): documents
// longer than the model's window are cut into passages that are all encoded (encoder/long-documents.ts),
// instead of the model reading only their start. `score: 'max'` (the default) keeps every passage as
// an index entry and scores a document by its best passage (backends/embedded/passage-side.ts);
// `pooled` pools them into the document's one vector. Without the setting long documents are
// truncated, and the ingest job counts them (nothing is dropped without a count).
import { Type } from 'typebox';
import type { DenseEncoderPool } from '../encoder/dense/dense-pool.js';
import type { SparseEncoderPool } from '../encoder/sparse/sparse-pool.js';
import { fail } from '../errors.js';
import type { SparseQuery } from '../../index/index.js';
import type { PassageOf } from '../backends/backend.js';
import type { PassageEncoding } from '../encoder/long-documents.js';
import type { DocumentPassages, SparseVector } from '../store/document-store.js';
import type { PassageSettings } from '../text/passages.js';
import type { PassageVectors, StoredVector } from './retriever.js';

/** Default overlap between consecutive passages, in tokens (whole sentences up to this many). */
export const DEFAULT_OVERLAP = 32;

export const PassagesSchema = Type.Object(
  {
    tokens: Type.Optional(
      Type.Integer({ minimum: 16, maximum: 8192, description: "Tokens per passage, capped at the model's window. Default: the window." }),
    ),
    overlap: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 4096,
        description: `Tokens of whole sentences repeated between passages. Default ${DEFAULT_OVERLAP}.`,
      }),
    ),
    score: Type.Optional(
      Type.Union([Type.Literal('max'), Type.Literal('pooled')], {
        description:
          '"max" (default): every passage is indexed and a document scores as its best passage (MaxP); explain names that passage. "pooled": one vector per document, pooled over its passages (max per term for sparse, mean for dense): fewer index entries, lower relevance on long documents (docs/relevance.md).',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      "Cut documents longer than the model's window into sentence-aligned passages and encode each; `score` says how they score the document. Absent: long documents are truncated (and counted by the ingest job).",
  },
);

export const PassagesView = Type.Object({
  tokens: Type.Optional(Type.Integer()),
  overlap: Type.Integer(),
  score: Type.Union([Type.Literal('max'), Type.Literal('pooled')]),
});

/** Checks a kind's `passages` (at `field`); undefined when absent. */
export function parsePassages(raw: unknown, field: string): PassageSettings | undefined {
  if (raw === undefined) return undefined;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    fail('VALIDATION_FAILED', 'passages must be an object such as {"tokens": 200, "overlap": 32}', field);
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (k !== 'tokens' && k !== 'overlap' && k !== 'score')
      fail('VALIDATION_FAILED', `unknown property '${k}' (allowed: tokens, overlap, score)`, `${field}.${k}`);
  const int = (k: 'tokens' | 'overlap', lo: number, hi: number) => {
    const v = o[k];
    if (v !== undefined && (!Number.isInteger(v) || (v as number) < lo || (v as number) > hi))
      fail('VALIDATION_FAILED', `${k} must be an integer from ${lo} to ${hi}, got ${JSON.stringify(v)}`, `${field}.${k}`);
    return v as number | undefined;
  };
  const tokens = int('tokens', 16, 8192);
  const overlap = int('overlap', 0, 4096) ?? DEFAULT_OVERLAP;
  if (tokens !== undefined && overlap >= tokens)
    fail('VALIDATION_FAILED', `overlap must be below tokens (${tokens}), got ${overlap}`, `${field}.overlap`);
  const score = o.score ?? 'max';
  if (score !== 'max' && score !== 'pooled')
    fail('VALIDATION_FAILED', `score must be 'max' or 'pooled', got ${JSON.stringify(o.score)}`, `${field}.score`);
  return { ...(tokens !== undefined ? { tokens } : {}), overlap, score };
}

/**
 * A `passages` setting stored before `score` existed: those collections pooled, and their storage
 * holds one vector per document, so they keep doing so.
 */
export function upgradeStoredPassages<C extends { passages?: PassageSettings }>(stored: C): C {
  if (!stored.passages || stored.passages.score !== undefined) return stored;
  return { ...stored, passages: { ...stored.passages, score: 'pooled' } };
}

/** Whether a retriever with these settings keeps one entry per passage (MaxP). */
export function keepsPassages(settings: PassageSettings | null | undefined): boolean {
  return settings?.score === 'max';
}

/** The batch's vectors as documents keep them: one each, or (MaxP) each document's passages with their offsets. */
export function documentVectors<V extends SparseVector | Float32Array>(
  docs: number,
  vectorOf: (i: number) => V,
  passages: PassageEncoding | undefined,
): V[] | DocumentPassages<V>[] {
  if (!passages) return Array.from({ length: docs }, (_, i) => vectorOf(i));
  const out: DocumentPassages<V>[] = Array.from({ length: docs }, () => ({ passages: [] }));
  passages.owner.forEach((d, i) => {
    out[d].passages.push({ start: passages.spans[2 * i], end: passages.spans[2 * i + 1], vector: vectorOf(i) });
  });
  return out;
}

/** A model storage's passages of a document as explain reads them (null when the storage keeps none). */
export async function storedPassageVectors(
  storage: { passagesOf?(docno: number): Promise<PassageOf<SparseQuery | Float32Array>[]> },
  docno: number,
  label: (id: number) => string,
): Promise<PassageVectors | null> {
  if (!storage.passagesOf) return null;
  const ps = await storage.passagesOf(docno);
  return {
    spans: ps.map((p) => ({ start: p.start, end: p.end })),
    vectors: ps.map(
      (p): StoredVector =>
        p.vector instanceof Float32Array
          ? { shape: 'dense', vector: p.vector }
          : { shape: 'sparse', terms: p.vector.terms, weights: p.vector.weights, labels: Array.from(p.vector.terms, label) },
    ),
  };
}

// Explain's which-passage-matched (search/passage-explain.ts): a document's passages re-cut by the
// encoder workers' own code (the pools' `cut`, the one ingest uses) and encoded one by one. This is
// a whole document's encoding again, per explained hit: explain is the slow, per-document path.

/** A sparse kind's passages of `text`, each its own model vector; null without passage settings. */
export async function sparsePassageVectors(
  pool: SparseEncoderPool,
  settings: PassageSettings | null,
  text: string,
): Promise<PassageVectors | null> {
  if (!settings) return null;
  const spans = await pool.cut(text, settings);
  const v = await pool.encode(spans.map((s) => s.text));
  const vectors: StoredVector[] = spans.map((_, i) => {
    const terms = v.terms.slice(v.offsets[i], v.offsets[i + 1]);
    return {
      shape: 'sparse',
      terms,
      weights: v.weights.slice(v.offsets[i], v.offsets[i + 1]),
      labels: Array.from(terms, (t) => pool.tokenizer.token(t)),
    };
  });
  return { spans, vectors };
}

/** A dense kind's passages of `text`, each its own document vector; null without passage settings. */
export async function densePassageVectors(
  pool: DenseEncoderPool,
  settings: PassageSettings | null,
  text: string,
): Promise<PassageVectors | null> {
  if (!settings) return null;
  const spans = await pool.cut(text, settings);
  const v = await pool.encodeDocuments(spans.map((s) => s.text));
  const dim = pool.dim;
  return { spans, vectors: spans.map((_, i) => ({ shape: 'dense', vector: v.slice(i * dim, (i + 1) * dim) })) };
}
