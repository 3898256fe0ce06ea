// BEIR folder loading on a generated folder, plus the real SciFact/CISI copies when ../shared is there.

import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batches, loadBeir, streamCorpus } from '../../src/eval/beir.js';
import { skipBecause } from '../helpers/skip-log.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lsr-beir-'));
  await mkdir(join(dir, 'qrels'));
  await writeFile(
    join(dir, 'corpus.jsonl'),
    [
      JSON.stringify({ _id: 'd1', title: 'T1', text: 'one' }),
      '',
      JSON.stringify({ _id: 2, text: 'two', extra: { k: 1 } }),
      JSON.stringify({ _id: 'd3', title: 'T3', text: 'three' }),
    ].join('\n') + '\n',
  );
  await writeFile(
    join(dir, 'queries.jsonl'),
    [
      { _id: 'q1', text: 'first', metadata: {} },
      { _id: 'q2', text: 'second' },
      { _id: 'q3', text: 'third' },
    ]
      .map((q) => JSON.stringify(q))
      .join('\n'),
  );
  await writeFile(join(dir, 'qrels', 'test.tsv'), 'query-id\tcorpus-id\tscore\nq1\td1\t1\nq3\t2\t2\nq3\td3\t0\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('BEIR loaders', () => {
  it('streams the corpus with titles defaulted and extra fields kept', async () => {
    const docs = [];
    for await (const d of streamCorpus(join(dir, 'corpus.jsonl'))) docs.push(d);
    expect(docs).toEqual([
      { _id: 'd1', title: 'T1', text: 'one' },
      { _id: '2', title: '', text: 'two', metadata: { extra: { k: 1 } } },
      { _id: 'd3', title: 'T3', text: 'three' },
    ]);
  });
  it('batches a stream', async () => {
    const sizes = [];
    for await (const b of batches(streamCorpus(join(dir, 'corpus.jsonl')), 2)) sizes.push(b.length);
    expect(sizes).toEqual([2, 1]);
  });
  it('keeps only judged queries and reads graded qrels', async () => {
    const ds = await loadBeir(dir);
    expect(ds.queries.map((q) => q.id)).toEqual(['q1', 'q3']);
    expect(ds.totalQueries).toBe(3);
    expect(Object.fromEntries(ds.qrels.get('q3')!)).toEqual({ '2': 2, d3: 0 });
  });
  it('names missing files and bad lines', async () => {
    await expect(loadBeir(dir, 'dev')).rejects.toThrow(/missing .*qrels\/dev\.tsv/);
    const bad = join(dir, 'bad.jsonl');
    await writeFile(bad, '{"_id": "x"}\n{not json}\n');
    const it2 = streamCorpus(bad);
    await expect(
      (async () => {
        for await (const _ of it2) void _;
      })(),
    ).rejects.toThrow(/bad\.jsonl:2: invalid JSON/);
  });
  it('rejects judged queries that have no text', async () => {
    await writeFile(join(dir, 'qrels', 'orphan.tsv'), 'query-id\tcorpus-id\tscore\nq9\td1\t1\n');
    await expect(loadBeir(dir, 'orphan')).rejects.toThrow(/1 judged queries are not in/);
  });
});

const shared = fileURLToPath(new URL('../../../shared/data', import.meta.url));
const noShared = skipBecause(
  import.meta.url,
  'shared collections',
  existsSync(join(shared, 'scifact')) ? null : `${shared}/scifact is absent (no ../shared beside the checkout)`,
);
describe.skipIf(noShared !== null)('shared collections', () => {
  it('SciFact test split has the documented sizes', async () => {
    const ds = await loadBeir(join(shared, 'scifact'));
    expect(ds.queries.length).toBe(300);
    let judgments = 0;
    for (const j of ds.qrels.values()) judgments += j.size;
    expect(judgments).toBe(339);
    let docs = 0;
    for await (const _ of streamCorpus(ds.corpusPath)) docs++;
    expect(docs).toBe(5183);
  });
  it('CISI has 76 judged queries of 112', async () => {
    const ds = await loadBeir(join(shared, 'cisi'));
    expect(ds.queries.length).toBe(76);
    expect(ds.totalQueries).toBe(112);
  });
});
