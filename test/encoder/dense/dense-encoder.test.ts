// The dense encoder on the committed tiny random BERT (models/fixtures/tiny-dense: model.safetensors,
// its ONNX export, sentence-transformers configs with mean pooling, Normalize, max_seq_length 48 and
// a "query: " prompt) against the float64 numpy reference, every pooling mode; prompts; bad folders.
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DenseEncoder } from '../../../src/encoder/dense/dense-encoder.js';
import { FAMILY_PROMPTS, inspectDenseModelDir } from '../../../src/encoder/dense/dense-model-dir.js';
import { l2Normalize, poolHidden } from '../../../src/encoder/dense/dense-pooling.js';
import { skipBecause } from '../../helpers/skip-log.js';
import { removeDir, tempDir } from '../../helpers/temp-dir.js';
import { TEXTS } from '../fixture.js';
import { maxAbsDiff, numpyReference, referenceMissing, TINY_DENSE } from './dense-reference.js';

const LONG = 'Blood pressure and heart disease risk increased with age in the patients of this clinical trial. '.repeat(8);
const DENSE_TEXTS = [...TEXTS, LONG];

// The numpy reference checks of this file skip when the reference cannot run.
const skipReason = skipBecause(import.meta.url, '', referenceMissing());

function norms(v: Float32Array, dim: number): number[] {
  return Array.from({ length: v.length / dim }, (_, i) => Math.hypot(...v.subarray(i * dim, (i + 1) * dim)));
}

describe('dense encoder (tiny fixture)', () => {
  let enc: DenseEncoder;
  beforeAll(async () => {
    enc = await DenseEncoder.load(TINY_DENSE);
  });
  afterAll(async () => {
    await enc.close();
  });

  it('reads pooling, normalization, prompts and max length from the sentence-transformers configs', () => {
    expect(enc.pooling).toEqual(['mean']);
    expect(enc.normalize).toBe(true);
    expect(enc.prompts).toEqual({ query: 'query: ', document: '' });
    expect(enc.maxLength).toBe(48);
    expect(enc.dim).toBe(64);
    // The long text is truncated to max_seq_length with its closing [SEP] kept.
    const ids = enc.tokenize([LONG], 'document')[0];
    expect(ids.length).toBe(48);
    expect(enc.tokenizer.token(ids[47])).toBe('[SEP]');
  });

  it.skipIf(skipReason !== null)('documents and queries equal the numpy BERT forward + mean pooling + L2 (≤ 1e-5)', async () => {
    for (const role of ['document', 'query'] as const) {
      const got = await enc.encode(DENSE_TEXTS, role);
      const ref = numpyReference({
        dir: TINY_DENSE,
        texts: DENSE_TEXTS,
        prompt: enc.prompts[role],
        max_length: 48,
        pooling: 'mean',
        normalize: true,
      });
      expect(enc.tokenize(DENSE_TEXTS, role)).toEqual(ref.ids);
      expect(maxAbsDiff(got, ref.vectors, 64)).toBeLessThan(1e-5);
      for (const n of norms(got, 64)) expect(n).toBeCloseTo(1, 5);
    }
  });

  it.skipIf(skipReason !== null).each([
    ['cls', true],
    ['max', false],
    ['lasttoken', true],
    ['mean', false],
    ['mean_sqrt_len', false],
    ['weightedmean', true],
  ] as const)('pooling %s (normalize %s) equals the reference', async (pooling, normalize) => {
    const e = await DenseEncoder.load(TINY_DENSE, { pooling, normalize, batchSize: 3 });
    try {
      const got = await e.encodeDocuments(DENSE_TEXTS);
      const ref = numpyReference({ dir: TINY_DENSE, texts: DENSE_TEXTS, max_length: 48, pooling, normalize });
      expect(maxAbsDiff(got, ref.vectors, 64)).toBeLessThan(1e-5);
      if (!normalize) expect(Math.max(...norms(got, 64).map((n) => Math.abs(n - 1)))).toBeGreaterThan(1e-3);
    } finally {
      await e.close();
    }
  });

  it.skipIf(skipReason !== null)(
    'several pooling modes concatenate, and include_prompt: false leaves the prompt out of pooling',
    async () => {
      const dir = tempDir('lsr-dense-');
      try {
        cpSync(TINY_DENSE, dir, { recursive: true });
        const pc = JSON.parse(readFileSync(join(dir, '1_Pooling/config.json'), 'utf8'));
        writeFileSync(
          join(dir, '1_Pooling/config.json'),
          JSON.stringify({ ...pc, pooling_mode_cls_token: true, pooling_mode_weightedmean_tokens: true, include_prompt: false }),
        );
        const e = await DenseEncoder.load(dir);
        try {
          expect(e.pooling).toEqual(['cls', 'mean', 'weightedmean']);
          expect(e.dim).toBe(192);
          const got = await e.encodeQueries(DENSE_TEXTS);
          const ref = numpyReference({
            dir,
            texts: DENSE_TEXTS,
            prompt: 'query: ',
            max_length: 48,
            pooling: ['cls', 'mean', 'weightedmean'],
            normalize: true,
            include_prompt: false,
          });
          expect(maxAbsDiff(got, ref.vectors, 192)).toBeLessThan(1e-5);
        } finally {
          await e.close();
        }
      } finally {
        removeDir(dir);
      }
    },
  );

  it('puts the query prompt before queries only', async () => {
    const texts = ['cancer genes in mice', 'the cat'];
    const q = await enc.encodeQueries(texts);
    const d = await enc.encodeDocuments(texts);
    // A query is its prompt + text encoded as a document (the fixture's document prompt is empty).
    expect(Array.from(q)).toEqual(Array.from(await enc.encodeDocuments(texts.map((t) => 'query: ' + t))));
    expect(Array.from(q)).not.toEqual(Array.from(d));
    const ids = enc.tokenize(['the cat'], 'query')[0].map((i) => enc.tokenizer.token(i));
    expect(ids).toEqual(['[CLS]', 'query', ':', 'the', 'cat', '[SEP]']);
    expect(enc.tokenize(['the cat'], 'document')[0].map((i) => enc.tokenizer.token(i))).toEqual(['[CLS]', 'the', 'cat', '[SEP]']);
  });

  it('takes prompts from the family table when the model has none (bge, e5), and options override them', async () => {
    const root = tempDir('lsr-dense-');
    try {
      for (const name of ['bge-small-en-v1.5', 'multilingual-e5-small', 'plain-model']) {
        const dir = join(root, name);
        cpSync(TINY_DENSE, dir, { recursive: true });
        writeFileSync(join(dir, 'config_sentence_transformers.json'), JSON.stringify({ prompts: {} }));
      }
      expect(inspectDenseModelDir(join(root, 'bge-small-en-v1.5')).prompts).toEqual({
        query: 'Represent this sentence for searching relevant passages: ',
        document: '',
        from: 'family:bge',
      });
      expect(inspectDenseModelDir(join(root, 'multilingual-e5-small')).prompts).toEqual({
        query: 'query: ',
        document: 'passage: ',
        from: 'family:e5',
      });
      expect(inspectDenseModelDir(join(root, 'plain-model')).prompts).toEqual({ query: '', document: '', from: 'none' });
      // The source's name counts too (a cache folder is named after the source, not the model).
      expect(inspectDenseModelDir(join(root, 'plain-model'), 'model', 'hf:BAAI/bge-base-en-v1.5').prompts.from).toBe('family:bge');
      expect(FAMILY_PROMPTS.map((f) => f.family)).toContain('e5');

      const e = await DenseEncoder.load(join(root, 'bge-small-en-v1.5'));
      const o = await DenseEncoder.load(join(root, 'bge-small-en-v1.5'), { queryPrompt: '', documentPrompt: 'doc: ' });
      try {
        const bge = 'Represent this sentence for searching relevant passages: ';
        expect(Array.from(await e.encodeQueries(['the cat']))).toEqual(Array.from(await e.encodeDocuments([bge + 'the cat'])));
        expect(Array.from(await o.encodeQueries(['the cat']))).toEqual(Array.from(await e.encodeDocuments(['the cat'])));
        expect(Array.from(await o.encodeDocuments(['the cat']))).toEqual(Array.from(await e.encodeDocuments(['doc: the cat'])));
      } finally {
        await e.close();
        await o.close();
      }
    } finally {
      removeDir(root);
    }
  });

  it('returns rows in input order whatever the batching, and nothing for no texts', async () => {
    const small = await DenseEncoder.load(TINY_DENSE, { batchSize: 2 });
    try {
      expect(Array.from(await small.encodeDocuments(DENSE_TEXTS))).toEqual(Array.from(await enc.encodeDocuments(DENSE_TEXTS)));
      expect((await small.encodeDocuments([])).length).toBe(0);
    } finally {
      await small.close();
    }
  });

  it('pools padded batches exactly as single texts (padding never leaks in)', () => {
    const dim = 3,
      seq = 4;
    const hidden = Float32Array.from({ length: 2 * seq * dim }, (_, i) => (i % 7) - 3);
    const mask = Uint8Array.from([1, 1, 1, 0, 1, 1, 0, 0]);
    const poisoned = Float32Array.from(hidden);
    for (const t of [3, 6, 7]) poisoned.fill(1e6, t * dim, (t + 1) * dim);
    for (const mode of ['mean', 'max', 'lasttoken', 'weightedmean', 'mean_sqrt_len', 'cls'] as const)
      expect(poolHidden({ hidden: poisoned, mask, texts: 2, seq, dim }, [mode])).toEqual(
        poolHidden({ hidden, mask, texts: 2, seq, dim }, [mode]),
      );
    expect(Array.from(poolHidden({ hidden, mask, texts: 2, seq, dim }, ['lasttoken']).subarray(3))).toEqual(
      Array.from(hidden.subarray(5 * dim, 6 * dim)),
    );
    expect(Array.from(l2Normalize(new Float32Array([3, 4, 0, 0]), 2))).toEqual([Math.fround(0.6), Math.fround(0.8), 0, 0]);
  });
});

describe('bad dense model folders', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir('lsr-dense-bad-');
  });
  afterAll(() => removeDir(dir));

  /** A copy of the fixture with one change; loading it must fail with INVALID_MODEL naming `file`. */
  async function expectInvalid(name: string, change: (d: string) => void, file: string, message?: RegExp) {
    const d = join(dir, name);
    cpSync(TINY_DENSE, d, { recursive: true });
    change(d);
    const err = await DenseEncoder.load(d, {}, 'retrievers.dense.model').then(
      () => null,
      (e) => e,
    );
    expect(err, name).toMatchObject({ code: 'INVALID_MODEL', field: 'retrievers.dense.model' });
    expect(err.message).toContain(join(d, file));
    if (message) expect(err.message).toMatch(message);
  }

  it('names the file that is missing, unreadable or unsupported', async () => {
    await expectInvalid('no-tokenizer', (d) => rmSync(join(d, 'tokenizer.json')), '', /has no tokenizer\.json/);
    await expectInvalid('no-onnx', (d) => rmSync(join(d, 'model.onnx')), '', /has no model\.onnx/);
    await expectInvalid('config-not-json', (d) => writeFileSync(join(d, 'config.json'), '{'), 'config.json', /is not JSON/);
    await expectInvalid('modules-not-json', (d) => writeFileSync(join(d, 'modules.json'), 'nope'), 'modules.json', /is not JSON/);
    await expectInvalid(
      'modules-dense-layer',
      (d) => {
        const m = JSON.parse(readFileSync(join(d, 'modules.json'), 'utf8'));
        m.splice(2, 0, { idx: 2, name: '2', path: '2_Dense', type: 'sentence_transformers.models.Dense' });
        writeFileSync(join(d, 'modules.json'), JSON.stringify(m));
      },
      'modules.json',
      /module sentence_transformers\.models\.Dense is not supported/,
    );
    await expectInvalid(
      'no-pooling-config',
      (d) => rmSync(join(d, '1_Pooling'), { recursive: true }),
      '1_Pooling/config.json',
      /is missing/,
    );
    await expectInvalid(
      'no-pooling-mode',
      (d) => {
        const p = JSON.parse(readFileSync(join(d, '1_Pooling/config.json'), 'utf8'));
        writeFileSync(join(d, '1_Pooling/config.json'), JSON.stringify({ ...p, pooling_mode_mean_tokens: false }));
      },
      '1_Pooling/config.json',
      /sets no pooling mode/,
    );
    await expectInvalid(
      'bad-max-seq',
      (d) => writeFileSync(join(d, 'sentence_bert_config.json'), '{"max_seq_length": "long"}'),
      'sentence_bert_config.json',
      /max_seq_length must be an integer/,
    );
    await expectInvalid(
      'bad-prompts',
      (d) => writeFileSync(join(d, 'config_sentence_transformers.json'), '{"prompts": {"query": 1}}'),
      'config_sentence_transformers.json',
      /prompts must be an object of strings/,
    );
    await expectInvalid('onnx-garbage', (d) => writeFileSync(join(d, 'model.onnx'), 'not a model'), 'model.onnx', /does not load/);
    // A sparse masked-LM graph has logits, not token states.
    await expectInvalid(
      'sparse-graph',
      (d) => cpSync(join(TINY_DENSE, '../tiny-bert/model.onnx'), join(d, 'model.onnx')),
      'model.onnx',
      /has no last_hidden_state or token_embeddings output \(it has logits\)/,
    );
  });

  it('refuses bad options naming the option', async () => {
    await expect(DenseEncoder.load(TINY_DENSE, { pooling: 'sum' as never })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'encoder.pooling',
    });
    await expect(DenseEncoder.load(TINY_DENSE, { maxLength: 1 })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'encoder.maxLength',
    });
  });
});
