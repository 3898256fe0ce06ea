// `lsr search --prf` / `--verify` as users run them (a child process) against a running service: the
// flags become the search request's `prf` and `verify` exactly, the response shows the feedback and
// the verification, and a bad value is refused before any request, naming its flag.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TINY_DENSE } from '../../encoder/dense/dense-reference.js';
import { type CliResult, runLsr } from '../../helpers/lsr-cli.js';
import { ndjson, removeDir, startTestServer, type TestServer } from '../../helpers/server.js';

const DOCS = [
  { _id: 'a', title: 'Photosynthesis', text: 'Plants turn light into sugar in their leaves.' },
  { _id: 'b', title: 'Leaves', text: 'Green leaves hold chlorophyll that catches light.' },
  { _id: 'c', title: 'Volcanoes', text: 'Magma rises through the crust and erupts.' },
  { _id: 'd', title: 'Sugar', text: 'Plants store sugar as starch in their roots.' },
  { _id: 'e', title: 'Rivers', text: 'Rivers carve canyons over millions of years.' },
];

describe('lsr search --prf / --verify', () => {
  let s: TestServer;
  const lsr = (...args: string[]): Promise<CliResult> => runLsr(['search', 'fb', ...args, '--server', s.url], { LSR_API_KEYS: '' });

  beforeAll(async () => {
    s = await startTestServer();
    const made = await s.req('POST', '/v1/collections', { name: 'fb', retrievers: { dense: { model: `dir:${TINY_DENSE}` } } });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect((await s.ndjson('/v1/collections/fb/documents?wait=true', ndjson(DOCS))).body.indexed).toBe(DOCS.length);
  });
  afterAll(async () => {
    await s?.close();
    if (s) removeDir(s.dataDir);
  });

  it('--prf and its settings become the request prf: RM3 on BM25 with the feedback and expansion shown', async () => {
    const r = await lsr('plants sugar', '--prf', '--prf-docs', '2', '--prf-terms', '4', '--prf-weight', '0.7', '--json', '--explain');
    expect(r.code, r.stderr).toBe(0);
    const body = JSON.parse(r.stdout);
    expect(body.prf).toHaveLength(1);
    expect(body.prf[0]).toMatchObject({ retriever: 'bm25', method: 'rm3', weight: 0.7, source: 'own' });
    expect(body.prf[0].feedback).toHaveLength(2);
    expect(body.prf[0].terms.filter((t: { feedback_weight: number }) => t.feedback_weight > 0).length).toBeLessThanOrEqual(4);
    // The same search without --prf has no feedback.
    const plain = JSON.parse((await lsr('plants sugar', '--json', '--explain')).stdout);
    expect(plain.prf).toBeUndefined();
    // Human output prints the expanded query.
    const human = await lsr('plants sugar', '--prf-docs', '2', '--explain');
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^prf \(rm3\): \S+=\d/m);
  }, 120_000);

  it('--prf-method picks the method; one the retriever does not take is the service error, naming prf.method', async () => {
    const r = await lsr('light leaves', '--retriever', 'dense', '--prf-method', 'rocchio', '--prf-docs', '3', '--json', '--explain');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).prf[0]).toMatchObject({ retriever: 'dense', method: 'rocchio' });
    const bad = await lsr('light', '--prf-method', 'rocchio');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/prf\.method/);
  }, 120_000);

  it('--verify and its settings become the request verify; explain shows ranks before and after', async () => {
    const r = await lsr('plants sugar', '--verify-candidates', '3', '--verify-weight', '0.5', '--json', '--explain');
    expect(r.code, r.stderr).toBe(0);
    const body = JSON.parse(r.stdout);
    expect(body.verify).toEqual({ retriever: 'dense', candidates: 3, weight: 0.5 });
    expect(body.hits[0].explain.verify).toHaveProperty('rank_before');
    const named = JSON.parse((await lsr('plants', '--verify', '--verify-retriever', 'dense', '--json')).stdout);
    expect(named.verify).toEqual({ retriever: 'dense', candidates: 100, weight: 1 });
    const human = await lsr('plants sugar', '--verify', '--explain');
    expect(human.stdout).toMatch(/verify: rank \d+ -> \d+/);
    const none = await lsr('plants', '--verify', '--verify-retriever', 'bm25');
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/verify\.retriever/);
  }, 120_000);

  it('refuses bad values before any request, naming the flag', async () => {
    const bad = async (args: string[], flag: string) => {
      const r = await lsr('plants', ...args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(flag);
    };
    await bad(['--prf-docs', '0'], '--prf-docs must be an integer from 1 to 100');
    await bad(['--prf-docs', '2.5'], '--prf-docs');
    await bad(['--prf-terms', '1001'], '--prf-terms must be an integer from 1 to 1000');
    await bad(['--prf-weight', '1.5'], '--prf-weight must be a number from 0 to 1');
    await bad(['--prf-method', 'bm25'], '--prf-method must be one of rm3, terms, rocchio');
    await bad(['--prf=3'], '--prf takes no value');
    await bad(['--verify-candidates', '0'], '--verify-candidates must be an integer from 1 to 10000');
    await bad(['--verify-weight', 'x'], '--verify-weight must be a number from 0 to 1');
    await bad(['--verify-retriever'], '--verify-retriever needs a retriever name');
  }, 120_000);

  it('documents the flags in its help', async () => {
    const h = await runLsr(['search', '--help']);
    for (const f of [
      '--prf ',
      '--prf-method',
      '--prf-docs',
      '--prf-terms',
      '--prf-weight',
      '--verify ',
      '--verify-retriever',
      '--verify-candidates',
      '--verify-weight',
    ])
      expect(h.stdout).toContain(f);
  });
});
