// TREC qrels/run reading and writing on real temporary files.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluate } from '../../src/eval/metrics.js';
import { formatQrels, formatRun, parseQrels, parseRun, readQrels, readRun, writeRun } from '../../src/eval/trec-files.js';
import type { Run } from '../../src/eval/types.js';
import { makeFixture } from './fixtures.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lsr-trec-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('qrels', () => {
  it('reads qid iter docno rel, any whitespace, skipping blank lines', async () => {
    const p = join(dir, 'q.txt');
    await writeFile(p, '1 0 d1 2\n1\t0\td2\t0\n\n2 Q0 d3 -1\r\n');
    const q = await readQrels(p);
    expect([...q.keys()]).toEqual(['1', '2']);
    expect(Object.fromEntries(q.get('1')!)).toEqual({ d1: 2, d2: 0 });
    expect(q.get('2')!.get('d3')).toBe(-1);
  });
  it('rejects duplicates, fractions and short lines with the line number', () => {
    expect(() => parseQrels('1 0 a 1\n1 0 a 1\n')).toThrow(/qrels:2: duplicate judgment/);
    expect(() => parseQrels('1 0 a 0.5\n')).toThrow(/qrels:1: relevance "0.5" is not an integer/);
    expect(() => parseQrels('1 a 1\n')).toThrow(/expected 4 fields/);
  });
  it('formats what it parses', () => {
    const text = '1 0 a 1\n1 0 b 0\n2 0 c 3\n';
    expect(formatQrels(parseQrels(text))).toBe(text);
  });
});

describe('runs', () => {
  it('ignores the rank column and re-ranks by score on write', () => {
    const run = parseRun('q1 Q0 a 1 0.5 t\nq1 Q0 b 2 0.9 t\nq1 Q0 c 3 0.9 t\n');
    expect(formatRun(run, 'sys')).toBe('q1 Q0 c 1 0.9 sys\nq1 Q0 b 2 0.9 sys\nq1 Q0 a 3 0.5 sys\n');
  });
  it('rejects duplicate documents like trec_eval, and non-numeric scores', () => {
    expect(() => parseRun('q Q0 a 1 1 t\nq Q0 a 2 0.5 t\n')).toThrow(/run:2: duplicate document "a" for query "q"/);
    expect(() => parseRun('q Q0 a 1 x t\n')).toThrow(/score "x" is not a number/);
    expect(() => parseRun('q Q0 a 1 1\n')).toThrow(/expected 6 fields/);
  });
  it('round-trips scores exactly through a file', async () => {
    const run: Run = new Map([
      [
        'q1',
        new Map([
          ['a', 0.1 + 0.2],
          ['b', 1e-300],
          ['c', -3.5],
        ]),
      ],
      ['q2', new Map([['d', 123456789.12345679]])],
    ]);
    const p = join(dir, 'run.txt');
    await writeRun(p, run, 'tag');
    const back = await readRun(p);
    expect([...back.keys()]).toEqual(['q1', 'q2']);
    for (const [q, docs] of run) for (const [d, s] of docs) expect(back.get(q)!.get(d)).toBe(s);
    expect((await readFile(p, 'utf8')).split('\n')[0]).toBe('q1 Q0 a 1 0.30000000000000004 tag');
  });
  it('refuses ids with whitespace, which a TREC file cannot hold', () => {
    expect(() => formatRun(new Map([['q 1', new Map([['a', 1]])]]))).toThrow(/query id "q 1"/);
    expect(() => formatRun(new Map([['q', new Map([['a b', 1]])]]))).toThrow(/document id "a b"/);
  });
});

// Needs no Python, so it runs everywhere (it used to sit only under the pytrec_eval skip of
// conformance.test.ts).
describe('TREC run-file round trip of generated fixtures', () => {
  it('gives the same metrics and scores after a round trip through a TREC run file', async () => {
    for (let i = 0; i < 50; i++) {
      const fx = makeFixture(5000 + i);
      // Only ids without whitespace reach TREC files; the generator has none.
      const back = parseRun(formatRun(fx.run));
      for (const [q, docs] of fx.run) for (const [d, s] of docs) expect(back.get(q)?.get(d), `seed ${5000 + i} ${q} ${d}`).toBe(s);
      const names = ['ndcg_cut_10', 'map', 'recip_rank_3'];
      expect(evaluate(fx.qrels, back, names).mean, `seed ${5000 + i}`).toEqual(evaluate(fx.qrels, fx.run, names).mean);
    }
    // And through a real file, for one fixture.
    const fx = makeFixture(5000);
    const p = join(dir, 'fixture-run.txt');
    await writeRun(p, fx.run, 'lsr');
    expect(evaluate(fx.qrels, await readRun(p), ['map']).mean).toEqual(evaluate(fx.qrels, fx.run, ['map']).mean);
  });
});
