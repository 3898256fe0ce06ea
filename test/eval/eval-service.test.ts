// `lsr eval` against the real service: in-process (the default) and over HTTP to a server listening
// on loopback (`--server`). A tiny corpus where BM25's ranking is obvious gives hand-checkable
// metrics, and both paths must agree exactly.

import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEval } from '../../src/eval/runner.js';
import { ServiceClient } from '../../src/eval/service-client.js';
import { loadConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';

let dir: string;
let data: string;
const quiet = { progress: false, log: () => {} };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lsr-eval-svc-'));
  data = join(dir, 'toy');
  await mkdir(join(data, 'qrels'), { recursive: true });
  const docs = [
    { _id: 'd1', title: 'Apples', text: 'apple orchards grow apple trees' },
    { _id: 'd2', title: 'Bananas', text: 'banana plantations in the tropics' },
    { _id: 'd3', title: 'Cherries', text: 'cherry blossoms in spring' },
    { _id: 'd4', title: 'Fruit', text: 'apple and banana and cherry salad' },
    { _id: 'd5', title: 'Cars', text: 'engines pistons and gearboxes' },
  ];
  await writeFile(join(data, 'corpus.jsonl'), docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
  const queries = [
    { _id: 'q1', text: 'apple trees' },
    { _id: 'q2', text: 'tropical banana plantations' },
    { _id: 'q3', text: 'gearboxes' },
    { _id: 'q4', text: 'unjudged query about cherry' },
  ];
  await writeFile(join(data, 'queries.jsonl'), queries.map((q) => JSON.stringify(q)).join('\n') + '\n');
  // q3's only relevant document is d3, which shares no term with it: nDCG 0.
  await writeFile(join(data, 'qrels', 'test.tsv'), 'query-id\tcorpus-id\tscore\nq1\td1\t2\nq1\td4\t1\nq2\td2\t1\nq3\td3\t1\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('lsr eval through the service', () => {
  let inProcess: Awaited<ReturnType<typeof runEval>>;

  it('indexes, searches and scores with BM25 in-process', async () => {
    const out = join(dir, 'out-local');
    inProcess = await runEval({ dataset: data, retrievers: ['bm25', 'bm25:k1=1.2,b=0.75'], out, ...quiet });
    const [a, b] = inProcess.retrievers;
    // q1: d1 (apple ×2, trees) ranks above d4 (apple once) → ideal order; q2: d2 first; q3: nothing relevant found.
    expect(a.ndcg_cut_10).toBeCloseTo(2 / 3, 12);
    expect(a.recip_rank_10).toBeCloseTo(2 / 3, 12);
    expect(a.map).toBeCloseTo(2 / 3, 12);
    expect(b.ndcg_cut_10).toBeCloseTo(2 / 3, 12);
    const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.retrievers[0].per_query.q3.ndcg_cut_10).toBe(0);
    // Wall-clock times are in timings.json, not metrics.json (which a rerun reproduces byte for byte).
    expect(metrics.retrievers[0].seconds).toBeUndefined();
    const timings = JSON.parse(await readFile(join(out, 'timings.json'), 'utf8'));
    expect(timings.retrievers[0].spec).toBe('bm25');
    expect(timings.retrievers[0].seconds.index).toBeGreaterThan(0);
    const run1 = await readFile(join(out, 'run.1.bm25.trec'), 'utf8');
    expect(run1.split('\n')[0]).toMatch(/^q1 Q0 d1 1 [\d.e+-]+ bm25$/);
    expect(run1).not.toContain('q4 '); // unjudged queries are not run
  });

  it('gives the same numbers through --server, building and then reusing its collection', async () => {
    const config = loadConfig({}, { host: '127.0.0.1', port: '0', 'data-dir': join(dir, 'server-data'), 'log-level': 'warn' });
    const server: RunningServer = await startServer({ ...config, logLevel: 'silent' });
    try {
      const first = await runEval({
        dataset: data,
        retrievers: ['bm25', 'bm25:k1=1.2,b=0.75'],
        out: join(dir, 'out-remote'),
        server: server.url,
        ...quiet,
      });
      expect(first.retrievers).toEqual(inProcess.retrievers);
      const logs: string[] = [];
      const again = await runEval({
        dataset: data,
        retrievers: ['bm25'],
        out: join(dir, 'out-reuse'),
        server: server.url,
        reuse: true,
        progress: false,
        log: (l) => logs.push(l),
      });
      expect(logs.some((l) => l.includes('reusing collection'))).toBe(true);
      expect(again.retrievers[0]).toEqual(inProcess.retrievers[0]);
      // An existing collection named in the spec is searched as it is.
      const client = new ServiceClient(server.url, null);
      const names = (await (await fetch(`${server.url}/v1/collections`)).json()) as
        | { collections?: Array<{ name: string }> }
        | Array<{ name: string }>;
      const list = Array.isArray(names) ? names : (names.collections ?? []);
      const name = list.map((c) => c.name).find((n) => n.startsWith('eval-toy-'));
      expect(name).toBeDefined();
      expect(await client.getCollection(name!)).not.toBeNull();
      const named = await runEval({
        dataset: data,
        retrievers: [`bm25:collection=${name}`],
        out: join(dir, 'out-named'),
        server: server.url,
        ...quiet,
      });
      expect(named.retrievers[0].ndcg_cut_10).toBeCloseTo(2 / 3, 12);
      await expect(
        runEval({ dataset: data, retrievers: ['bm25:collection=missing'], out: join(dir, 'out-missing'), server: server.url, ...quiet }),
      ).rejects.toThrow(/collection "missing" does not exist/);
    } finally {
      await server.close();
    }
  });

  it('sends the API key a protected server asks for, and says so when it is missing', async () => {
    const config = loadConfig({}, { host: '127.0.0.1', port: '0', 'data-dir': join(dir, 'auth-data'), 'api-keys': 'sekret' });
    const server = await startServer({ ...config, logLevel: 'silent' });
    try {
      const saved = process.env.LSR_API_KEY;
      delete process.env.LSR_API_KEY;
      try {
        await expect(
          runEval({ dataset: data, retrievers: ['bm25'], out: join(dir, 'out-noauth'), server: server.url, ...quiet }),
        ).rejects.toThrow(/HTTP 401/);
      } finally {
        if (saved !== undefined) process.env.LSR_API_KEY = saved;
      }
      const ok = await runEval({
        dataset: data,
        retrievers: ['bm25'],
        out: join(dir, 'out-auth'),
        server: server.url,
        apiKey: 'sekret',
        ...quiet,
      });
      expect(ok.retrievers[0].ndcg_cut_10).toBeCloseTo(2 / 3, 12);
    } finally {
      await server.close();
    }
  });
});
