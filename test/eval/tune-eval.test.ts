// `lsr eval --tune` end to end through the CLI on a toy BEIR folder (BM25 and the tiny dense
// fixture): the tuned systems beside the others, each fold's setting printed and in the summary, the
// tuned figure that of the run file written, the reference comparison, feedback and verification
// specs searched in the same collection, and the setting saved as the collection's default fusion.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBeir } from '../../src/eval/beir.js';
import { evaluate } from '../../src/eval/metrics.js';
import { readRun } from '../../src/eval/trec-files.js';
import { TINY_DENSE } from '../encoder/dense/dense-reference.js';
import { captureEval } from '../helpers/capture-eval.js';

let dir: string;
let data: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lsr-eval-tune-'));
  data = join(dir, 'toy');
  await mkdir(join(data, 'qrels'), { recursive: true });
  const topics = ['apple orchards', 'banana plantations', 'cherry blossoms', 'car engines', 'heart disease', 'solar power'];
  const docs = Array.from({ length: 24 }, (_, i) => ({
    _id: `d${i}`,
    title: topics[i % 6],
    text: `${topics[(i * 5 + 2) % 6]} and ${topics[(i + 1) % 6]} ${i}`,
  }));
  await writeFile(join(data, 'corpus.jsonl'), `${docs.map((d) => JSON.stringify(d)).join('\n')}\n`);
  const queries = topics.map((t, i) => ({ _id: `q${i}`, text: t }));
  await writeFile(join(data, 'queries.jsonl'), `${queries.map((q) => JSON.stringify(q)).join('\n')}\n`);
  const qrels = queries.flatMap((q, i) => [`${q._id}\td${i}\t2`, `${q._id}\td${i + 6}\t1`, `${q._id}\td${(i + 13) % 24}\t1`]);
  await writeFile(join(data, 'qrels', 'test.tsv'), `query-id\tcorpus-id\tscore\n${qrels.join('\n')}\n`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('lsr eval --tune', () => {
  it('adds cross-validated convex and RRF systems, prints each fold, compares with the reference, saves the default', async () => {
    const out = join(dir, 'out');
    const dataDir = join(dir, 'db');
    const dense = `dense:model=dir:${TINY_DENSE}`;
    const specs = ['bm25', dense, 'convex:bm25+dense', 'bm25:prf=rm3,prf.docs=3', 'bm25:verify=true,verify.candidates=5'];
    const r = await captureEval([
      '--dataset',
      data,
      ...specs.flatMap((s) => ['--retriever', s]),
      '--out',
      out,
      '--data-dir',
      dataDir,
      '--k',
      '24',
      '--tune',
      '--folds',
      '3',
      '--save-fusion',
      '--reference',
      'convex:bm25+dense',
      '--json',
      '--no-progress',
    ]);
    expect(r.err).not.toMatch(/lsr eval:/);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out);
    expect(summary.retrievers.map((x: { spec: string; fusion: boolean }) => [x.spec, x.fusion])).toEqual([
      ['bm25', false],
      [dense, false],
      ['convex:bm25+dense', true],
      ['bm25:prf=rm3,prf.docs=3', false],
      ['bm25:verify=true,verify.candidates=5', true],
      ['convex:bm25+dense,tuned=3-fold', true],
      ['rrf:bm25+dense,tuned=3-fold', true],
    ]);
    // Every spec searched the one collection (BM25 and dense).
    expect((await readdir(join(dataDir, 'collections'))).length).toBe(1);

    expect(summary.tuned.map((t: { spec: string }) => t.spec)).toEqual(['convex:bm25+dense,tuned=3-fold', 'rrf:bm25+dense,tuned=3-fold']);
    const ds = await loadBeir(data, 'test');
    for (const t of summary.tuned) {
      expect(t.folds.map((f: { fold: number }) => f.fold)).toEqual([1, 2, 3]);
      expect(t.folds.reduce((a: number, f: { queries: number }) => a + f.queries, 0)).toBe(6);
      for (const f of t.folds) {
        expect(f.setting.startsWith(t.spec.split(',')[0])).toBe(true);
        expect(r.err).toContain(`${t.spec}: fold ${f.fold} (${f.queries} queries scored`);
        expect(r.err).toContain(f.setting);
      }
      // The tuned figure is that of the run file written for it.
      const files = (await readdir(out)).filter((x) => x.endsWith('.trec'));
      const index = summary.retrievers.findIndex((x: { spec: string }) => x.spec === t.spec) + 1;
      const run = await readRun(join(out, files.find((x) => x.startsWith(`run.${index}.`))!));
      const ev = evaluate(ds.qrels, run, ['ndcg_cut_10']);
      expect(summary.retrievers[index - 1].ndcg_cut_10).toBeCloseTo(ev.mean.ndcg_cut_10, 12);
    }

    expect(summary.reference.reference).toBe('convex:bm25+dense');
    expect(summary.reference.rows.map((x: { spec: string }) => x.spec)).toEqual(
      summary.retrievers.map((x: { spec: string }) => x.spec).filter((s: string) => s !== 'convex:bm25+dense'),
    );
    const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.against_reference.length).toBeGreaterThan(0);
    expect(await readFile(join(out, 'report.md'), 'utf8')).toContain('## Against convex:bm25+dense');

    // The better tuned system's setting on every query became the collection's default fusion.
    const [coll] = await readdir(join(dataDir, 'collections'));
    const saved = JSON.parse(await readFile(join(dataDir, 'collections', coll, 'default-fusion.json'), 'utf8'));
    const best = [...summary.tuned].sort(
      (a: { spec: string }, b: { spec: string }) =>
        summary.retrievers.find((x: { spec: string }) => x.spec === b.spec).ndcg_cut_10 -
        summary.retrievers.find((x: { spec: string }) => x.spec === a.spec).ndcg_cut_10,
    )[0];
    expect(saved.method).toBe(best.all_setting.method);
    expect(saved.weights).toEqual(best.all_setting.weights);
    expect(r.err).toMatch(/saved as the default fusion of collection/);
  });

  it('refuses tuning options without --tune, and a step that is not 1/n', async () => {
    const base = ['--dataset', data, '--retriever', 'bm25', '--out', join(dir, 'x')];
    const a = await captureEval([...base, '--folds', '3']);
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/--folds, --tune-seed, --tune-step and --save-fusion apply to --tune/);
    const b = await captureEval([...base, '--tune', '--tune-step', '0.3']);
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/--tune-step must be 1\/n/);
    const c = await captureEval([...base, '--tune', '--folds', '1']);
    expect(c.code).toBe(2);
    expect(c.err).toMatch(/--folds must be at least 2/);
  });
});
