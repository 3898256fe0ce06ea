// Documents longer than a model's window, in the encoder workers: each text is either encoded as it is
// (the model reads its first `window` tokens; the rest is counted as truncated) or, with passage
// settings, cut into passages (text/passages.ts) that are encoded in the same batch. Then, by the
// settings' `score`:
//   max (MaxP)      every passage keeps its own vector (with its offsets in the document); the
//                   storage scores a document by its best passage (backends/embedded/passage-side.ts);
//   pooled          one vector per document:
//     learned sparse  element-wise max over the passages' vectors: SPLADE's own max pooling over the
//                     document's tokens, each read in its passage's context;
//     dense           the mean of the passages' vectors, renormalized when the model normalizes.
// docs/relevance.md measures both against truncation: on the long SciFact MaxP scored better than
// pooling (SPLADE nDCG@10 0.62 vs 0.49, dense 0.62 vs 0.20) at 12.6 index entries per document, which
// is why `max` is the default of a new `passages` setting.
import { passageSpans, type PassageSettings } from '../text/passages.js';
import type { SparseVectors } from './sparse/fused-head.js';

/** What encoding a batch of documents did with their length. */
export interface LengthReport {
  /** Documents longer than the model's window. */
  long: number;
  /** Of those, how many the model read only the start of (no passage settings). */
  truncated: number;
  /** Passages encoded (one per document that fits, more for a long one with passage settings). */
  passages: number;
}

export interface PassagePlan {
  /** The texts to encode: every passage of every document, in order. */
  inputs: string[];
  /** inputs[i] belongs to document owner[i]. */
  owner: number[];
  /** inputs[i] lies at spans[2i] .. spans[2i+1] (UTF-16 offsets) of its document's text. */
  spans: number[];
  report: LengthReport;
}

/**
 * A batch of documents encoded passage by passage, unpooled (`score: 'max'`): vectors[i] is
 * passage i's, owner[i] the batch position of its document, spans[2i], spans[2i+1] its offsets in
 * that document's text. A document's passages are consecutive and in text order.
 */
export interface PassageEncoding {
  owner: Uint32Array;
  spans: Uint32Array;
}

/**
 * Plans a batch: `count` gives a text's tokens without special tokens, `window` what the model reads
 * of them. Without `settings` every text is one input; with them long texts become passages of
 * min(settings.tokens, window) tokens.
 */
export function planPassages(
  texts: readonly string[],
  count: (s: string) => number,
  window: number,
  settings: PassageSettings | null,
): PassagePlan {
  const inputs: string[] = [];
  const owner: number[] = [];
  const spans: number[] = [];
  const report: LengthReport = { long: 0, truncated: 0, passages: 0 };
  const budget = Math.max(1, Math.min(settings?.tokens ?? window, window));
  texts.forEach((t, d) => {
    // A text of no more characters than the window cannot hold more tokens than it (a token covers
    // at least one character): no tokenization for short texts.
    const long = t.length > window && count(t) > window;
    if (long) report.long++;
    const ps =
      settings && (long || t.length > budget) ? passageSpans(t, count, budget, settings.overlap) : [{ text: t, start: 0, end: t.length }];
    if (long && ps.length === 1) report.truncated++;
    for (const p of ps) {
      inputs.push(p.text);
      owner.push(d);
      spans.push(p.start, p.end);
    }
  });
  report.passages = inputs.length;
  return { inputs, owner, spans, report };
}

/** One sparse vector per document: the element-wise max of its passages' vectors (terms ascending). */
export function poolSparse(v: SparseVectors, owner: readonly number[], docs: number): SparseVectors {
  if (owner.length === docs) return v;
  const maps: Map<number, number>[] = Array.from({ length: docs }, () => new Map());
  for (let i = 0; i < owner.length; i++) {
    const m = maps[owner[i]];
    for (let j = v.offsets[i]; j < v.offsets[i + 1]; j++) {
      const t = v.terms[j];
      const w = v.weights[j];
      const had = m.get(t);
      if (had === undefined || w > had) m.set(t, w);
    }
  }
  const nnz = maps.reduce((n, m) => n + m.size, 0);
  const offsets = new Uint32Array(docs + 1);
  const terms = new Uint32Array(nnz);
  const weights = new Float32Array(nnz);
  let at = 0;
  maps.forEach((m, d) => {
    const entries = [...m].sort((a, b) => a[0] - b[0]);
    for (const [t, w] of entries) {
      terms[at] = t;
      weights[at++] = w;
    }
    offsets[d + 1] = at;
  });
  return { offsets, terms, weights };
}

/** One dense vector per document: the mean of its passages' rows, renormalized to unit length when asked. */
export function poolDense(v: Float32Array, dim: number, owner: readonly number[], docs: number, normalize: boolean): Float32Array {
  if (owner.length === docs) return v;
  const out = new Float32Array(docs * dim);
  const n = new Uint32Array(docs);
  for (let i = 0; i < owner.length; i++) {
    const d = owner[i];
    n[d]++;
    for (let k = 0; k < dim; k++) out[d * dim + k] += v[i * dim + k];
  }
  for (let d = 0; d < docs; d++) {
    let norm = 0;
    for (let k = 0; k < dim; k++) {
      out[d * dim + k] /= n[d];
      norm += out[d * dim + k] ** 2;
    }
    if (normalize && norm > 0) {
      const s = 1 / Math.sqrt(norm);
      for (let k = 0; k < dim; k++) out[d * dim + k] *= s;
    }
  }
  return out;
}

export function addReports(a: LengthReport, b: LengthReport): LengthReport {
  return { long: a.long + b.long, truncated: a.truncated + b.truncated, passages: a.passages + b.passages };
}

/**
 * The passage encodings of consecutive parts of one batch as one: each part's owners are shifted by
 * the documents of the parts before it (every document has at least one passage, so a part holds
 * its last owner + 1 documents).
 */
export function concatPassageEncodings(parts: readonly PassageEncoding[]): PassageEncoding {
  if (parts.length === 1) return parts[0];
  const n = parts.reduce((s, p) => s + p.owner.length, 0);
  const owner = new Uint32Array(n);
  const spans = new Uint32Array(2 * n);
  let at = 0;
  let docs = 0;
  for (const p of parts) {
    for (let i = 0; i < p.owner.length; i++) owner[at + i] = p.owner[i] + docs;
    spans.set(p.spans, 2 * at);
    at += p.owner.length;
    if (p.owner.length > 0) docs += p.owner[p.owner.length - 1] + 1;
  }
  return { owner, spans };
}
