// `lsr train` end to end with the real trainer (models/train/train.py): prepare on 36 documents with the
// fixture models, fit a few steps on the CPU, export; then the model folder it wrote is served as an
// `inference_free` retriever (`dir:` under models/trained, idf from the model's idf.json) and its
// query weights are the idf.json the trainer used. Skips, saying why, where the interpreter
// (LSR_PYTHON, default python3) cannot import torch, transformers and sentence_transformers: CI has no
// PyTorch (several GB); the GPU machine runs the same trainer (docs/training.md). Then the data-parallel
// path (`--gpus 2`, two processes over gloo on the CPU) against one process on the same global batch.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/collections/collection-config.js';
import { Collection, type Logger } from '../../src/collections/collection.js';
import { prepareDocument } from '../../src/collections/documents.js';
import { EncoderRegistry } from '../../src/encoder/encoder-registry.js';
import { searchAsync } from '../../src/search/search.js';
import { fitUnavailable, pythonExe } from '../../src/train/fit.js';
import { runLsr } from '../helpers/lsr-cli.js';
import { skipBecause } from '../helpers/skip-log.js';
import { removeDir, tempDir } from '../helpers/temp-dir.js';
import { DOCS, writeCorpusFolder } from './corpus.js';

const TINY_BERT = fileURLToPath(new URL('../../models/fixtures/tiny-bert', import.meta.url));
const TINY_DENSE = fileURLToPath(new URL('../../models/fixtures/tiny-dense', import.meta.url));
const why = fitUnavailable(pythonExe());
const reason = skipBecause(
  import.meta.url,
  'lsr train with the real trainer',
  why === undefined ? null : `PyTorch is not installed for the trainer: ${why}`,
);

const root = tempDir('lsr-train-fit-');
// The model folder must lie under a model root to be served: models/trained is one by default.
const out = fileURLToPath(new URL(`../../models/trained/test-${randomBytes(4).toString('hex')}`, import.meta.url));
const quiet: Logger = { info() {}, warn() {}, error() {} };
afterAll(() => {
  removeDir(root);
  removeDir(out);
});

describe.skipIf(reason !== null)('lsr train with the real trainer', () => {
  it('prepares, fits on the CPU and writes a model folder that the service serves as inference_free', async () => {
    const corpus = writeCorpusFolder(join(root, 'beir'));
    // Three steps of four queries: the trainer's flags pass through `lsr train`.
    const r = await runLsr(
      ['train', '--corpus', corpus, '--out', out, '--base', `dir:${TINY_BERT}`, '--dense-model', `dir:${TINY_DENSE}`].concat([
        // Four queries a document: enough generated ones to hold a tenth out for the validation.
        '--queries-per-doc',
        '4',
        '--steps',
        '3',
        '--batch',
        '4',
        '--device',
        'cpu',
      ]),
      { LSR_ENCODER_WORKERS: '1' },
    );
    expect(r.code, r.stderr).toBe(0);
    for (const f of ['trunk.onnx', 'head.bin', 'model.onnx', 'tokenizer.json', 'idf.json', 'card.json'])
      expect(existsSync(join(out, f)), f).toBe(true);
    const card = JSON.parse(readFileSync(join(out, 'card.json'), 'utf8'));
    expect(card.steps).toBe(3);
    expect(card.seed).toBe(1);
    expect(card.device).toBe('cpu');
    expect(card.qrels_read).toBe(false);
    expect(card.queries).toBeGreaterThan(0);
    expect(card.history.length).toBeGreaterThan(0);
    expect(card.export_check.max_abs_logit_diff).toBeLessThanOrEqual(1e-3);
    expect(card.base_check.max_abs_logit_diff).toBeLessThanOrEqual(1e-3);
    expect(card.prepare.teachers).toBeDefined();
    // The judgment-free validation: held-out generated queries, scored before training and after each
    // step here (a sixth of 3 steps, at least 1), and the best of those models is the one written.
    expect(card.validation.queries).toBeGreaterThanOrEqual(10);
    expect(card.validation.history.map((h: { step: number }) => h.step)).toEqual([0, 1, 2, 3]);
    const best = Math.max(...card.validation.history.map((h: { 'ndcg@10': number }) => h['ndcg@10']));
    expect(card.validation['kept_ndcg@10']).toBe(best);
    expect(card.validation.history.find((h: { step: number }) => h.step === card.validation.kept_step)['ndcg@10']).toBe(best);

    // Served: a collection with the trained model as its inference_free retriever, weights from idf.json.
    const encoders = new EncoderRegistry({ workers: 1 });
    const dir = join(root, 'served');
    const config = buildConfig({ name: 'served', retrievers: { inference_free: { model: `dir:${out}`, idf: 'model' } } });
    const c = await Collection.create(dir, config, quiet, encoders);
    try {
      await c.write(
        DOCS.map((d) => prepareDocument(d, config, c.analyzer)),
        null,
      );
      const res = await searchAsync(c, { query: 'volcanoes magma eruptions', k: 5, retriever: 'inference_free' });
      expect(res.hits.length).toBeGreaterThan(0);
      // The served query weights are the trainer's: idf.json, token by token (float32).
      const idf = JSON.parse(readFileSync(join(out, 'idf.json'), 'utf8')) as Record<string, number>;
      const q = await c.retriever('inference_free')!.encodeQuery({ query: 'volcanoes magma eruptions' }, 'query');
      if (q.shape !== 'sparse') throw new Error('sparse expected');
      expect(q.terms.length).toBeGreaterThan(0);
      q.terms.forEach((t, i) => expect(q.query.weights[i]).toBe(Math.fround(idf[t])));
    } finally {
      await c.close();
      await encoders.close();
    }
  }, 600_000);

  it('trains the same model with two processes as with one (same global batch, no dropout)', () => {
    // The prepared data of the test above; the trainer itself, once per world size.
    const data = `${out}.work/data`;
    expect(existsSync(join(data, 'train.jsonl'))).toBe(true);
    const train = (gpus: number) => {
      const dir = join(root, `world-${gpus}`);
      const r = spawnSync(
        pythonExe(),
        [
          fileURLToPath(new URL('../../models/train/train.py', import.meta.url)),
          ...['--data', data, '--base', TINY_BERT, '--out', dir, '--steps', '3', '--batch', '4', '--group', '4'],
          ...['--max-length', '64', '--device', 'cpu', '--gpus', String(gpus), '--dropout', '0', '--holdout', '0'],
          ...['--no-export', '--log-every', '1'],
        ],
        { encoding: 'utf8', timeout: 300_000 },
      );
      expect(r.status, r.stderr).toBe(0);
      return { dir, card: JSON.parse(readFileSync(join(dir, 'card.json'), 'utf8')) };
    };
    const one = train(1);
    const two = train(2);
    expect(one.card.distributed.world_size).toBe(1);
    expect(two.card.distributed).toMatchObject({ world_size: 2, backend: 'gloo', queries_per_rank_step: 2 });
    // Step 0: the loss of the first global batch, before any update, is the same number.
    expect(two.card.distributed.step0_loss).toBeCloseTo(one.card.distributed.step0_loss, 5);
    // Every logged loss after that, and the weights written, agree up to float summation order.
    expect(two.card.history.length).toBe(one.card.history.length);
    one.card.history.forEach((h: { loss: number }, i: number) => expect(two.card.history[i].loss).toBeCloseTo(h.loss, 3));
    const cmp = spawnSync(
      pythonExe(),
      [
        '-c',
        [
          'import glob, sys',
          'from safetensors.torch import load_file',
          'def w(d):',
          '    out = {}',
          "    [out.update(load_file(f)) for f in sorted(glob.glob(d + '/checkpoint/*.safetensors'))]",
          '    return out',
          'a, b = w(sys.argv[1]), w(sys.argv[2])',
          'assert a.keys() == b.keys() and a',
          'print(max(float((a[k].float() - b[k].float()).abs().max()) for k in a))',
        ].join('\n'),
        one.dir,
        two.dir,
      ],
      { encoding: 'utf8' },
    );
    expect(cmp.status, cmp.stderr).toBe(0);
    expect(Number(cmp.stdout.trim())).toBeLessThan(1e-4);
  }, 600_000);
});
