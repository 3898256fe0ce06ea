// Seeded random inputs of the fused sparse LM head: hidden states (standard normal, LayerNorm scale),
// ragged masks (the last text all padding), weights ~ N(0, 1/dim), bias ~ N(biasMean, biasSpread²).
import type { HeadBatch, HeadWeights } from '../../src/encoder/sparse/fused-head.js';
import { rng } from './sparse-random.js';

export function gaussian(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

export function randomHead(
  texts: number,
  seq: number,
  dim: number,
  vocab: number,
  seed: number,
  biasMean = -0.5,
  biasSpread = 0.5,
): { b: HeadBatch; w: HeadWeights } {
  const r = rng(seed);
  const hidden = Float32Array.from({ length: texts * seq * dim }, () => gaussian(r));
  const mask = new Uint8Array(texts * seq);
  for (let x = 0; x < texts; x++) {
    const len = x === texts - 1 ? 0 : 1 + Math.floor(r() * seq); // the last text is all padding
    mask.fill(1, x * seq, x * seq + len);
  }
  const weights = Float32Array.from({ length: vocab * dim }, () => gaussian(r) / Math.sqrt(dim));
  const bias = Float32Array.from({ length: vocab }, () => gaussian(r) * biasSpread + biasMean);
  return { b: { hidden, mask, texts, seq }, w: { dim, vocab, weights, bias } };
}
