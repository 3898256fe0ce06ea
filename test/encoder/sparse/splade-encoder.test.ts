import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SparseVectors } from '../../../src/encoder/sparse/fused-head.js';
import { SpladeEncoder } from '../../../src/encoder/sparse/splade-encoder.js';
import { TINY_MODEL, TEXTS } from '../fixture.js';

function dense(v: SparseVectors, texts: number, vocab: number): Float32Array {
  const out = new Float32Array(texts * vocab);
  for (let x = 0; x < texts; x++) for (let i = v.offsets[x]; i < v.offsets[x + 1]; i++) out[x * vocab + v.terms[i]] = v.weights[i];
  return out;
}

describe('SPLADE encoder on the tiny random BERT', () => {
  let split: SpladeEncoder, full: SpladeEncoder;
  beforeAll(async () => {
    split = await SpladeEncoder.load(TINY_MODEL, { layout: 'split' });
    full = await SpladeEncoder.load(TINY_MODEL, { layout: 'full' });
  });
  afterAll(async () => {
    await split.close();
    await full.close();
  });

  // Both sides compute each logit as a float32 dot product in a different order (MLAS vs our
  // kernel), so each differs from the exact value by ~1e-7 absolute; for a weight near 0 that is a
  // large relative error whatever the implementation. Relative error is therefore taken against
  // each text's largest weight (the scale its weights are compared at when ranking), and
  // element-wise as numpy's allclose(rtol=1e-5, atol=1e-6).
  it('split + fused head equals full + reference pooling to 1e-5 relative', async () => {
    const a = await split.encode(TEXTS),
      b = await full.encode(TEXTS);
    const da = dense(a, TEXTS.length, split.vocab),
      db = dense(b, TEXTS.length, full.vocab);
    const V = split.vocab;
    let maxRel = 0,
      maxElemRel = 0,
      maxAbs = 0,
      nonzero = 0,
      allclose = true;
    for (let x = 0; x < TEXTS.length; x++) {
      let top = 0;
      for (let v = 0; v < V; v++) top = Math.max(top, db[x * V + v]);
      for (let v = 0; v < V; v++) {
        const i = x * V + v,
          d = Math.abs(da[i] - db[i]);
        if (da[i] !== 0 || db[i] !== 0) nonzero++;
        maxAbs = Math.max(maxAbs, d);
        maxRel = Math.max(maxRel, d / top);
        if (db[i] !== 0) maxElemRel = Math.max(maxElemRel, d / db[i]);
        if (d > 1e-5 * Math.abs(db[i]) + 1e-6) allclose = false;
      }
    }
    console.log(
      `conformance: ${TEXTS.length} texts, ${nonzero} nonzero weights, max abs error ${maxAbs.toExponential(2)}, max error relative to the text's top weight ${maxRel.toExponential(2)}, max element-wise relative ${maxElemRel.toExponential(2)}`,
    );
    expect(maxRel).toBeLessThan(1e-5);
    expect(allclose).toBe(true);
    expect(nonzero).toBeGreaterThan(TEXTS.length * 10);
    // Sparse vectors far from full: the bias makes pooling select, as a trained head does.
    expect(nonzero).toBeLessThan(TEXTS.length * split.vocab * 0.9);
    expect(maxRel).toBeLessThan(1e-5);
  });

  it('gives each text the vector it gets alone (length batching and padding do not leak)', async () => {
    const all = dense(await split.encode(TEXTS), TEXTS.length, split.vocab);
    for (const i of [0, 3, TEXTS.length - 1]) {
      const one = dense(await split.encode([TEXTS[i]]), 1, split.vocab);
      const row = all.subarray(i * split.vocab, (i + 1) * split.vocab);
      for (let v = 0; v < split.vocab; v++) expect(Math.abs(one[v] - row[v])).toBeLessThanOrEqual(1e-5 * Math.max(1e-3, Math.abs(row[v])));
    }
  });

  it('truncates to maxLength keeping [CLS] and [SEP], as Hugging Face tokenizers do', async () => {
    const enc = await SpladeEncoder.load(TINY_MODEL, { maxLength: 6 });
    const [ids] = enc.tokenize(['the cats were studying cancer genes in mice']);
    expect(ids).toEqual([2, ...enc.tokenize(['the cats were studying'])[0].slice(1, 5), 3]);
    expect(ids.map((i) => enc.tokenizer.token(i))).toEqual(['[CLS]', 'the', 'cats', 'were', 'study', '[SEP]']);
    await enc.close();
  });

  it('top-k and threshold keep the heaviest terms', async () => {
    const enc = await SpladeEncoder.load(TINY_MODEL, { topk: 5, threshold: 0.01 });
    const v = await enc.encode(TEXTS.slice(0, 3));
    const ref = await split.encode(TEXTS.slice(0, 3));
    for (let x = 0; x < 3; x++) {
      const got = [...v.terms.subarray(v.offsets[x], v.offsets[x + 1])];
      const w = [...ref.weights.subarray(ref.offsets[x], ref.offsets[x + 1])];
      const t = [...ref.terms.subarray(ref.offsets[x], ref.offsets[x + 1])];
      const want = t
        .map((term, i) => ({ term, w: w[i] }))
        .filter((e) => e.w > 0.01)
        .sort((p, q) => q.w - p.w)
        .slice(0, 5)
        .map((e) => e.term)
        .sort((p, q) => p - q);
      expect(got).toEqual(want);
    }
    await enc.close();
  });

  it("empty input gives no vectors; an empty text gives its special tokens' vector", async () => {
    expect((await split.encode([])).offsets).toEqual(new Uint32Array([0]));
    const v = await split.encode(['']);
    expect(v.offsets[1]).toBeGreaterThan(0);
  });

  it('gives bit-identical vectors with the screened head and the plain one', async () => {
    const plain = await SpladeEncoder.load(TINY_MODEL, { layout: 'split', screen: false });
    try {
      const a = await split.encode(TEXTS),
        b = await plain.encode(TEXTS);
      expect(Array.from(a.offsets)).toEqual(Array.from(b.offsets));
      expect(Array.from(a.terms)).toEqual(Array.from(b.terms));
      expect(Array.from(a.weights)).toEqual(Array.from(b.weights));
      expect(plain.headStats()).toBeNull();
      const st = split.headStats(); // null only on a CPU without AVX512_VNNI
      if (st) expect(st.callsScreened + st.callsPlain).toBeGreaterThan(0);
    } finally {
      await plain.close();
    }
  });

  it('refuses a damaged head file and bad options with coded errors naming the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lsr-model-'));
    cpSync(TINY_MODEL, dir, { recursive: true });
    const head = readFileSync(join(dir, 'head.bin'));
    head[100] ^= 0xff;
    writeFileSync(join(dir, 'head.bin'), head);
    await expect(SpladeEncoder.load(dir, {}, 'retrievers.splade.model')).rejects.toMatchObject({
      code: 'INVALID_MODEL',
      field: 'retrievers.splade.model',
      message: expect.stringContaining('checksum'),
    });
    await expect(SpladeEncoder.load(join(dir, 'nope'))).rejects.toMatchObject({ code: 'INVALID_MODEL', field: 'model' });
    await expect(SpladeEncoder.load(TINY_MODEL, { maxLength: 1 })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'encoder.maxLength',
    });
    await expect(SpladeEncoder.load(TINY_MODEL, { layout: 'x' as never })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'encoder.layout',
    });
    await expect(SpladeEncoder.load(TINY_MODEL, { screen: 'yes' as never })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'encoder.screen',
    });
    rmSync(dir, { recursive: true, force: true });
  });
});
