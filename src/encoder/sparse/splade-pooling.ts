// SPLADE pooling of materialized logits: the reference the fused head must equal, and the full
// layout's path. w[v] = max over the text's tokens of log(1 + ReLU(logit[t, v])).
import type { SparseVectors } from './fused-head.js';

/** Dense [texts × vocab] SPLADE weights from logits [texts × seq × vocab] and a [texts × seq] mask. */
export function poolLogits(logits: Float32Array, mask: Uint8Array, texts: number, seq: number, vocab: number): Float32Array {
  const out = new Float32Array(texts * vocab);
  for (let x = 0; x < texts; x++) {
    const row = out.subarray(x * vocab, (x + 1) * vocab);
    for (let t = 0; t < seq; t++) {
      if (!mask[x * seq + t]) continue;
      const base = (x * seq + t) * vocab;
      // log1p∘relu is monotonic, so take the max of raw logits and transform once; relu(max) is
      // the 0 floor already in `row`.
      for (let v = 0; v < vocab; v++) if (logits[base + v] > row[v]) row[v] = logits[base + v];
    }
    for (let v = 0; v < vocab; v++) row[v] = Math.log1p(row[v]);
  }
  return out;
}

/**
 * Dense rows to sparse vectors with the fused head's rules: weights above `threshold`, at most
 * `topk` per text (0: all), terms ascending.
 */
export function sparsify(dense: Float32Array, texts: number, vocab: number, threshold = 0, topk = 0): SparseVectors {
  const offsets = new Uint32Array(texts + 1);
  const terms: number[] = [],
    weights: number[] = [];
  for (let x = 0; x < texts; x++) {
    let keep: number[] = [];
    for (let v = 0; v < vocab; v++) if (dense[x * vocab + v] > threshold) keep.push(v);
    if (topk > 0 && keep.length > topk) {
      keep.sort((a, b) => dense[x * vocab + b] - dense[x * vocab + a] || a - b);
      keep = keep.slice(0, topk).sort((a, b) => a - b);
    }
    for (const v of keep) {
      terms.push(v);
      weights.push(dense[x * vocab + v]);
    }
    offsets[x + 1] = terms.length;
  }
  return { offsets, terms: Uint32Array.from(terms), weights: Float32Array.from(weights) };
}
