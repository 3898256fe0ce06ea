// `lsr eval` on a generated BEIR folder with existing TREC runs (`trec:` specs): the whole path from
// arguments to files, without a service. The service path is covered where the service runs.

import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluate } from '../../src/eval/metrics.js';
import { parseQrels, readRun } from '../../src/eval/trec-files.js';
import { captureEval } from '../helpers/capture-eval.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lsr-eval-cmd-'));
  const data = join(dir, 'toy');
  await mkdir(join(data, 'qrels'), { recursive: true });
  await writeFile(
    join(data, 'corpus.jsonl'),
    ['a', 'b', 'c', 'd'].map((id) => JSON.stringify({ _id: id, title: '', text: id })).join('\n'),
  );
  await writeFile(
    join(data, 'queries.jsonl'),
    ['q1', 'q2', 'q3', 'q4'].map((id) => JSON.stringify({ _id: id, text: `text of ${id}` })).join('\n'),
  );
  // q4 has no judgments; q3 is judged but neither run answers it.
  await writeFile(join(data, 'qrels', 'test.tsv'), 'query-id\tcorpus-id\tscore\nq1\ta\t2\nq1\tb\t1\nq2\tc\t1\nq3\td\t1\n');
  await writeFile(join(dir, 'one.trec'), 'q1 Q0 b 1 3 x\nq1 Q0 a 2 2 x\nq2 Q0 d 1 1 x\nq2 Q0 c 2 1 x\nq4 Q0 a 1 1 x\n');
  await writeFile(join(dir, 'two.trec'), 'q1 Q0 a 1 3 y\nq1 Q0 b 2 2 y\nq2 Q0 c 1 5 y\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const capture = captureEval;

describe('lsr eval with trec: runs', () => {
  it('writes runs, metrics.json, report.md and plot.svg; with --json stdout is the one JSON document', async () => {
    const out = join(dir, 'out');
    const r = await capture([
      '--dataset',
      join(dir, 'toy'),
      '--retriever',
      `trec:${join(dir, 'one.trec')}`,
      '--retriever',
      `trec:${join(dir, 'two.trec')}`,
      '--out',
      out,
      '--json',
      '--no-progress',
    ]);
    expect(r.err).toContain('4 documents, 3 judged queries (of 4)');
    expect(r.code).toBe(0);
    // Nothing but the document on stdout: the table and the files written go to stderr.
    const summary = JSON.parse(r.out);
    expect(r.out.trim().split('\n').length).toBe(1);
    expect(r.err).toMatch(/^retriever\s+nDCG@10/m);
    expect(r.err).toContain(`wrote ${join(out, '{metrics.json,timings.json,report.md,plot.svg}')}`);
    expect(Object.keys(summary)).toEqual(['dataset', 'retrievers', 'seconds']);
    expect(summary.dataset).toBe('toy');
    expect(Object.keys(summary.retrievers[0])).toEqual(['spec', 'ndcg_cut_10', 'recall_100', 'recip_rank_10', 'map']);

    const files = (await readdir(out)).sort();
    expect(files).toEqual(['metrics.json', 'plot.svg', 'report.md', 'run.1.trec-one.trec', 'run.2.trec-two.trec', 'timings.json']);

    // Hand-computed, over the 3 judged queries (q3 unanswered scores 0):
    // one: q1 ranks b(1), a(2) → DCG 1 + 2/log2 3, ideal 2 + 1/log2 3; q2 ranks d, c (tie → d first) → 1/log2 3.
    const ideal = 2 + 1 / Math.log2(3);
    const ndcgOne = ((1 + 2 / Math.log2(3)) / ideal + 1 / Math.log2(3)) / 3;
    expect(summary.retrievers[0].ndcg_cut_10).toBeCloseTo(ndcgOne, 12);
    expect(summary.retrievers[0].recip_rank_10).toBeCloseTo((1 + 0.5) / 3, 12);
    expect(summary.retrievers[1].ndcg_cut_10).toBeCloseTo(2 / 3, 12);
    expect(summary.retrievers[1].map).toBeCloseTo(2 / 3, 12);

    const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.num_queries).toBe(3);
    expect(Object.keys(metrics.retrievers[0].per_query)).toEqual(['q1', 'q2', 'q3']);
    expect(metrics.significance.length).toBe(metrics.measures.length);
    // The written run evaluates to the reported numbers.
    const qrels = parseQrels('q1 0 a 2\nq1 0 b 1\nq2 0 c 1\nq3 0 d 1\n');
    const back = evaluate(qrels, await readRun(join(out, 'run.1.trec-one.trec')), ['ndcg_cut_10']);
    expect(back.mean.ndcg_cut_10).toBeCloseTo(ndcgOne, 12);

    const report = await readFile(join(out, 'report.md'), 'utf8');
    expect(report).toContain('3 judged queries');
    expect(report).toContain('## Significance against');
    expect(await readFile(join(out, 'plot.svg'), 'utf8')).toMatch(/^<svg [^>]*>[\s\S]*<\/svg>\n$/);
  });

  it('takes trec_eval -m style measure lists', async () => {
    const out = join(dir, 'out-measures');
    const r = await capture([
      '--dataset',
      join(dir, 'toy'),
      '--retriever',
      `trec:${join(dir, 'two.trec')}`,
      '--out',
      out,
      '--measures',
      'ndcg_cut.1,3;P_1,map',
      '--no-progress',
    ]);
    expect(r.code).toBe(0);
    const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
    // The four summary measures are always added after the requested ones.
    expect(metrics.measures).toEqual(['ndcg_cut_1', 'ndcg_cut_3', 'P_1', 'map', 'ndcg_cut_10', 'recall_100', 'recip_rank_10']);
    expect(metrics.retrievers[0].mean.P_1).toBeCloseTo(2 / 3, 12);
    const bad = await capture(['--dataset', join(dir, 'toy'), '--retriever', 'trec:x', '--out', out, '--measures', 'ndcg']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('unknown measure "ndcg"');
  });

  it('exits 2 with the usage on missing or bad arguments, 1 on a failing evaluation', async () => {
    expect((await capture(['--dataset', dir])).code).toBe(2);
    expect((await capture(['--bogus'])).code).toBe(2);
    const bad = await capture(['--dataset', join(dir, 'toy'), '--retriever', 'bm25', '--out', join(dir, 'o2'), '--k', '0']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--k must be a positive integer');
    const missing = await capture(['--dataset', join(dir, 'nope'), '--retriever', 'trec:x', '--out', join(dir, 'o3')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('not a BEIR dataset folder');
  });
});
