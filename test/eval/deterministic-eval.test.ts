// The same `lsr eval` command twice must write the same metrics.json, byte for byte: here the hybrid
// preset over BM25, SPLADE and dense (the tiny fixture models) on a toy corpus indexed in several
// batches, each run on its own fresh service. Wall-clock times, which differ run to run, are in
// timings.json instead.

import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../helpers/prng.js';
import { TINY_MODEL } from '../encoder/fixture.js';
import { captureEval } from '../helpers/capture-eval.js';

const TINY_DENSE = fileURLToPath(new URL('../../models/fixtures/tiny-dense', import.meta.url));

let dir: string;
let data: string;
const batchSize = process.env.LSR_BATCH_SIZE;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lsr-eval-determinism-'));
  data = join(dir, 'toy');
  await mkdir(join(data, 'qrels'), { recursive: true });
  const rand = mulberry32(7);
  const words = 'apple banana cherry engine heart disease solar power wind ocean river forest cell gene protein virus trial blood'.split(
    ' ',
  );
  const pick = () => words[Math.floor(rand() * words.length)];
  const docs = Array.from({ length: 400 }, (_, i) => ({
    _id: `d${i}`,
    title: `${pick()} ${pick()}`,
    text: Array.from({ length: 5 + Math.floor(rand() * 30) }, pick).join(' '),
  }));
  await writeFile(join(data, 'corpus.jsonl'), docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
  const queries = Array.from({ length: 30 }, (_, i) => ({ _id: `q${i}`, text: `${pick()} ${pick()}` }));
  await writeFile(join(data, 'queries.jsonl'), queries.map((q) => JSON.stringify(q)).join('\n') + '\n');
  const qrels = queries.flatMap((q, i) => [`${q._id}\td${i}\t2`, `${q._id}\td${(i * 13 + 5) % 400}\t1`]);
  await writeFile(join(data, 'qrels', 'test.tsv'), `query-id\tcorpus-id\tscore\n${qrels.join('\n')}\n`);
  // Several ingest batches, so batch boundaries matter (BM25's per-batch avgdl, encoder padding).
  process.env.LSR_BATCH_SIZE = '64';
});
afterAll(async () => {
  if (batchSize === undefined) delete process.env.LSR_BATCH_SIZE;
  else process.env.LSR_BATCH_SIZE = batchSize;
  await rm(dir, { recursive: true, force: true });
});

async function evalOnce(out: string): Promise<number> {
  return (
    await captureEval([
      '--dataset',
      data,
      '--preset',
      'hybrid',
      '--splade-model',
      `dir:${TINY_MODEL}`,
      '--dense-model',
      `dir:${TINY_DENSE}`,
      '--out',
      out,
      '--k',
      '100',
      '--json',
      '--no-progress',
    ])
  ).code;
}

describe('lsr eval is deterministic', () => {
  it('writes the same metrics.json twice for bm25 + splade + dense and their fusions', async () => {
    const a = join(dir, 'a'),
      b = join(dir, 'b');
    expect(await evalOnce(a)).toBe(0);
    expect(await evalOnce(b)).toBe(0);
    const [ma, mb] = await Promise.all([readFile(join(a, 'metrics.json')), readFile(join(b, 'metrics.json'))]);
    const metrics = JSON.parse(ma.toString('utf8'));
    expect(metrics.retrievers.length).toBe(15);
    expect(metrics.retrievers.some((r: { spec: string }) => r.spec === 'convex:bm25+dense+splade,norm=z_score')).toBe(true);
    expect(ma.equals(mb)).toBe(true);
    // The run files, whose scores every fused number comes from, are the same too.
    for (const f of ['run.1.bm25.trec', 'run.6.convex-bm25-dense-splade-norm=z_score.trec'])
      expect((await readFile(join(a, f))).equals(await readFile(join(b, f)))).toBe(true);
    const timings = JSON.parse(await readFile(join(a, 'timings.json'), 'utf8'));
    expect(timings.retrievers.map((r: { spec: string }) => r.spec)).toEqual(metrics.retrievers.map((r: { spec: string }) => r.spec));
  });
});
