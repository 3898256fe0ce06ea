// `lsr eval` with fusions: `--preset hybrid` end to end through the CLI on a toy BEIR folder (BM25 and
// SPLADE with the tiny fixture model, then their fusions), and the preset's list of specs.

import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hybridPreset } from '../../src/eval/presets.js';
import { readRun } from '../../src/eval/trec-files.js';
import { TINY_MODEL } from '../encoder/fixture.js';
import { captureEval } from '../helpers/capture-eval.js';

let dir: string;
let data: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lsr-eval-hybrid-'));
  data = join(dir, 'toy');
  await mkdir(join(data, 'qrels'), { recursive: true });
  const topics = ['apple orchards', 'banana plantations', 'cherry blossoms', 'car engines', 'heart disease', 'solar power'];
  const docs = Array.from({ length: 24 }, (_, i) => ({
    _id: `d${i}`,
    title: topics[i % 6],
    text: `${topics[(i * 5 + 2) % 6]} and ${topics[(i + 1) % 6]} ${i}`,
  }));
  await writeFile(join(data, 'corpus.jsonl'), docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
  const queries = topics.map((t, i) => ({ _id: `q${i}`, text: t }));
  await writeFile(join(data, 'queries.jsonl'), queries.map((q) => JSON.stringify(q)).join('\n') + '\n');
  const qrels = queries.flatMap((q, i) => [`${q._id}\td${i}\t2`, `${q._id}\td${i + 6}\t1`]);
  await writeFile(join(data, 'qrels', 'test.tsv'), `query-id\tcorpus-id\tscore\n${qrels.join('\n')}\n`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const capture = captureEval;

describe('the hybrid preset', () => {
  it('lists the single retrievers, then the fusions over all of them (and over pairs with three)', () => {
    expect(hybridPreset({ spladeModel: 'dir:m', denseModel: null })).toEqual([
      'bm25',
      'splade:model=dir:m',
      'rrf:bm25+splade',
      'convex:bm25+splade',
      'convex:bm25+splade,norm=z_score',
      'convex:bm25+splade,norm=l2',
      'dbsf:bm25+splade',
      'dbsf:bm25+splade,clip=true',
    ]);
    const three = hybridPreset({ spladeModel: 'dir:m', denseModel: 'dir:d' });
    expect(three.slice(0, 4)).toEqual(['bm25', 'dense:model=dir:d', 'splade:model=dir:m', 'rrf:bm25+dense+splade']);
    expect(three).toContain('rrf:dense+splade');
    expect(three).toContain('convex:bm25+dense');
    expect(three.length).toBe(3 + 6 + 6);
    expect(() => hybridPreset({ spladeModel: null, denseModel: null })).toThrow(/needs a second retriever besides BM25/);
  });

  it('runs BM25, SPLADE and their fusions in one go, and compares the best fusion with the best single retriever', async () => {
    const out = join(dir, 'out');
    const dataDir = join(dir, 'db');
    const r = await capture([
      '--dataset',
      data,
      '--preset',
      'hybrid',
      '--splade-model',
      `dir:${TINY_MODEL}`,
      '--dense-model',
      'none',
      '--out',
      out,
      '--data-dir',
      dataDir,
      '--k',
      '50',
      '--json',
      '--no-progress',
    ]);
    expect(r.err).not.toMatch(/lsr eval:/);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out);
    expect(summary.retrievers.map((x: { spec: string; fusion: boolean }) => [x.spec, x.fusion])).toEqual([
      ['bm25', false],
      [`splade:model=dir:${TINY_MODEL}`, false],
      ['rrf:bm25+splade', true],
      ['convex:bm25+splade', true],
      ['convex:bm25+splade,norm=z_score', true],
      ['convex:bm25+splade,norm=l2', true],
      ['dbsf:bm25+splade', true],
      ['dbsf:bm25+splade,clip=true', true],
    ]);
    const h = summary.hybrid;
    expect(h.measure).toBe('ndcg_cut_10');
    const bySpec = new Map(summary.retrievers.map((x: { spec: string; ndcg_cut_10: number }) => [x.spec, x.ndcg_cut_10]));
    const singles = summary.retrievers.filter((x: { fusion: boolean }) => !x.fusion);
    const fusions = summary.retrievers.filter((x: { fusion: boolean }) => x.fusion);
    expect(bySpec.get(h.best_single)).toBe(Math.max(...singles.map((x: { ndcg_cut_10: number }) => x.ndcg_cut_10)));
    expect(bySpec.get(h.best_fusion)).toBe(Math.max(...fusions.map((x: { ndcg_cut_10: number }) => x.ndcg_cut_10)));
    expect(h.delta).toBeCloseTo((bySpec.get(h.best_fusion) as number) - (bySpec.get(h.best_single) as number), 12);
    for (const p of [h.p_randomization, h.p_ttest]) expect(p >= 0 && p <= 1).toBe(true);
    // The table goes to stderr with --json.
    expect(r.err.split('\n').some((l) => l.startsWith(`best fusion ${h.best_fusion} vs best single ${h.best_single}: nDCG@10`))).toBe(true);

    // Every spec searched one collection (BM25 and SPLADE), built once.
    expect(r.err.match(/built earlier in this run/g)?.length).toBe(7);
    expect((await readdir(join(dataDir, 'collections'))).length).toBe(1);

    // RRF over windows of k = 50 (> corpus): each query's fused list is the union of the two lists,
    // and the fused score of a document is 1/(60 + rank) summed over the lists holding it.
    const files = (await readdir(out)).filter((f) => f.endsWith('.trec')).sort();
    const bm25 = await readRun(join(out, files.find((f) => f.startsWith('run.1.'))!));
    const splade = await readRun(join(out, files.find((f) => f.startsWith('run.2.'))!));
    const rrf = await readRun(join(out, files.find((f) => f.startsWith('run.3.'))!));
    for (const [q, fused] of rrf) {
      const a = bm25.get(q) ?? new Map(),
        b = splade.get(q) ?? new Map();
      expect(new Set(fused.keys())).toEqual(new Set([...a.keys(), ...b.keys()]));
      for (const [d, score] of fused) {
        const bound = (a.has(d) ? 1 / 61 : 0) + (b.has(d) ? 1 / 61 : 0);
        expect(score).toBeLessThanOrEqual(bound + 1e-12);
        expect(score).toBeGreaterThan(0);
      }
    }

    const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.retrievers.map((x: { fusion: boolean }) => x.fusion)).toEqual([false, false, true, true, true, true, true, true]);
    expect(metrics.hybrid.best_single).toBe(h.best_single);
    expect(metrics.hybrid.against_best_single.length).toBe(6 * metrics.measures.length);
    const report = await readFile(join(out, 'report.md'), 'utf8');
    expect(report).toContain('## Fusion against the best single retriever');
    expect(report).toContain(`best fusion: \`${h.best_fusion}\``);
  });

  it('says what is wrong with the preset options', async () => {
    const r = await capture(['--dataset', data, '--retriever', 'bm25', '--out', join(dir, 'x'), '--splade-model', 'dir:m']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--splade-model and --dense-model choose the models of --preset hybrid/);
    const p = await capture(['--dataset', data, '--preset', 'other']);
    expect(p.code).toBe(2);
    expect(p.err).toMatch(/unknown preset "other" \(presets: hybrid\)/);
  });
});
