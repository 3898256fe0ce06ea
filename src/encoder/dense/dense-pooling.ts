// Pooling of a transformer's token states into one vector per text, as sentence-transformers' Pooling
// module does, and L2 normalization as its Normalize module does.
import type { DensePooling } from './dense-model-dir.js';

export interface HiddenBatch {
  /** last_hidden_state [texts × seq × dim], row-major. */
  hidden: Float32Array;
  /** 1 for a real token, 0 for padding [texts × seq]. */
  mask: Uint8Array;
  texts: number;
  seq: number;
  dim: number;
}

/**
 * Pools each text's unmasked tokens; several modes are concatenated in the order given (the model's
 * output is `dim × modes.length` wide). `skip` leading tokens are left out of pooling, as
 * sentence-transformers does with `include_prompt: false` (it masks the first prompt-length tokens,
 * [CLS] included). Sums run in float64. A text with no token left pools to zeros.
 */
export function poolHidden(b: HiddenBatch, modes: readonly DensePooling[], skip = 0): Float32Array {
  const { hidden, mask, texts, seq, dim } = b;
  const width = dim * modes.length;
  const out = new Float32Array(texts * width);
  const acc = new Float64Array(dim);
  for (let x = 0; x < texts; x++) {
    // Tokens this text pools over: its unmasked positions from `skip` on.
    let count = 0,
      last = -1,
      first = -1,
      weightSum = 0;
    for (let t = skip; t < seq; t++)
      if (mask[x * seq + t]) {
        count++;
        last = t;
        if (first < 0) first = t;
        weightSum += t + 1;
      }
    const row = (t: number) => (x * seq + t) * dim;
    modes.forEach((mode, mi) => {
      const o = x * width + mi * dim;
      if (count === 0) return;
      switch (mode) {
        case 'cls':
          // sentence-transformers takes position 0 whatever the mask.
          out.set(hidden.subarray(row(0), row(0) + dim), o);
          return;
        case 'lasttoken':
          out.set(hidden.subarray(row(last), row(last) + dim), o);
          return;
        case 'max': {
          acc.fill(-Infinity);
          for (let t = skip; t < seq; t++) {
            if (!mask[x * seq + t]) continue;
            const h = row(t);
            for (let d = 0; d < dim; d++) if (hidden[h + d] > acc[d]) acc[d] = hidden[h + d];
          }
          for (let d = 0; d < dim; d++) out[o + d] = acc[d];
          return;
        }
        default: {
          acc.fill(0);
          const weighted = mode === 'weightedmean';
          for (let t = skip; t < seq; t++) {
            if (!mask[x * seq + t]) continue;
            const h = row(t),
              w = weighted ? t + 1 : 1;
            for (let d = 0; d < dim; d++) acc[d] += w * hidden[h + d];
          }
          const div = mode === 'mean' ? count : mode === 'mean_sqrt_len' ? Math.sqrt(count) : weightSum;
          for (let d = 0; d < dim; d++) out[o + d] = acc[d] / div;
        }
      }
    });
  }
  return out;
}

/** Scales each row to unit L2 norm in place (a zero row stays zero, as torch's normalize with eps). */
export function l2Normalize(rows: Float32Array, dim: number): Float32Array {
  for (let o = 0; o < rows.length; o += dim) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += rows[o + d] * rows[o + d];
    const n = Math.max(Math.sqrt(s), 1e-12);
    for (let d = 0; d < dim; d++) rows[o + d] /= n;
  }
  return rows;
}
