// The `passages` setting of a model-backed retriever (splade, inference_free, dense): documents
// longer than the model's window are cut into passages that are all encoded and pooled into the
// document's one vector (encoder/long-documents.ts), instead of the model reading only their start.
// Without it they are truncated, and the ingest job counts them (nothing is dropped without a count).
import { Type } from 'typebox';
import type { DenseEncoderPool } from '../encoder/dense/dense-pool.js';
import type { SparseEncoderPool } from '../encoder/sparse/sparse-pool.js';
import { fail } from '../errors.js';
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
  },
  {
    additionalProperties: false,
    description:
      "Cut documents longer than the model's window into sentence-aligned passages, encode each, and pool them into the document's vector (max for sparse, mean for dense); absent: long documents are truncated (and counted by the ingest job).",
  },
);

export const PassagesView = Type.Object({ tokens: Type.Optional(Type.Integer()), overlap: Type.Integer() });

/** Checks a kind's `passages` (at `field`); undefined when absent. */
export function parsePassages(raw: unknown, field: string): PassageSettings | undefined {
  if (raw === undefined) return undefined;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    fail('VALIDATION_FAILED', 'passages must be an object such as {"tokens": 200, "overlap": 32}', field);
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (k !== 'tokens' && k !== 'overlap') fail('VALIDATION_FAILED', `unknown property '${k}' (allowed: tokens, overlap)`, `${field}.${k}`);
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
  return { ...(tokens !== undefined ? { tokens } : {}), overlap };
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
