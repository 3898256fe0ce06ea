// The routes added with the console, for any client: GET /v1/access (what the key may do), GET
// /v1/models (the model cache, offered by the create form), GET /v1/datasets (BEIR folders under
// LSR_DATASET_ROOTS, for Compare over a query set), and the /ui route's answers. No browser.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeDir, startTestServer, tempDir, type TestServer } from '../helpers/server.js';

describe('GET /v1/models', () => {
  it("lists the model cache's complete models by source, not the interrupted or foreign ones", async () => {
    const cache = tempDir();
    // What `lsr models pull` leaves: a folder named by the source's slug with the manifest naming it.
    mkdirSync(join(cache, 'pypi-some-model-1.0'));
    writeFileSync(join(cache, 'pypi-some-model-1.0', 'manifest.json'), JSON.stringify({ source: 'pypi:some-model==1.0', files: {} }));
    mkdirSync(join(cache, 'pypi-other-2.0.partial'));
    mkdirSync(join(cache, 'renamed'));
    writeFileSync(join(cache, 'renamed', 'manifest.json'), JSON.stringify({ source: 'pypi:other==2.0', files: {} }));
    const s = await startTestServer({ LSR_MODEL_CACHE: cache });
    try {
      const r = await s.req('GET', '/v1/models');
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ models: [{ source: 'pypi:some-model==1.0' }] });
    } finally {
      await s.close();
      await removeDir(s.dataDir);
      await removeDir(cache);
    }
  });
});

describe('GET /v1/access', () => {
  let open: TestServer;
  let keyed: TestServer;
  beforeAll(async () => {
    open = await startTestServer();
    keyed = await startTestServer({ LSR_API_KEYS: 'writer-key,reader-key:read' });
  });
  afterAll(async () => {
    for (const s of [open, keyed]) {
      await s?.close();
      if (s) await removeDir(s.dataDir);
    }
  });

  it('answers write without keys configured', async () => {
    const r = await open.req('GET', '/v1/access');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ access: 'write', keys_required: false });
  });

  it("names the key's access: read or write", async () => {
    expect((await keyed.req('GET', '/v1/access', undefined, { authorization: 'Bearer reader-key' })).body).toEqual({
      access: 'read',
      keys_required: true,
    });
    expect((await keyed.req('GET', '/v1/access', undefined, { 'x-api-key': 'writer-key' })).body).toEqual({
      access: 'write',
      keys_required: true,
    });
  });

  it('refuses a missing or unknown key with UNAUTHORIZED and the field', async () => {
    for (const headers of [{}, { authorization: 'Bearer nope' }] as Record<string, string>[]) {
      const r = await keyed.req('GET', '/v1/access', undefined, headers);
      expect(r.status).toBe(401);
      expect(r.body.code).toBe('UNAUTHORIZED');
      expect(r.body.field).toBe('authorization');
    }
  });

  it('is in the OpenAPI document; the console files are not', async () => {
    const spec = (await open.req('GET', '/openapi.json')).body;
    expect(spec.paths['/v1/access'].get).toBeDefined();
    expect(Object.keys(spec.paths).filter((p) => p.startsWith('/ui'))).toEqual([]);
  });

  it('serves /ui without a key (the page holds no data) and answers a file it lacks with ROUTE_NOT_FOUND', async () => {
    const page = await keyed.req('GET', '/ui');
    // 200 where the console is built (npm install builds it), else a 404 that says how to build it.
    if (page.status === 404) expect(page.body.message).toMatch(/npm run build:ui/);
    else expect(page.status).toBe(200);
    const missing = await keyed.req('GET', '/ui/assets/none.js');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('ROUTE_NOT_FOUND');
    expect(missing.body.field).toBe('path');
    expect((await open.req('POST', '/ui')).status).toBe(405);
  });
});

describe('GET /v1/datasets', () => {
  let s: TestServer;
  let root: string;
  let outside: string;
  const saved = process.env.LSR_DATASET_ROOTS;
  const beir = (dir: string, qrels = 'query-id\tcorpus-id\tscore\nq1\td1\t2\nq1\td2\t1\nq3\td3\t1\n') => {
    mkdirSync(join(dir, 'qrels'), { recursive: true });
    writeFileSync(
      join(dir, 'queries.jsonl'),
      '{"_id": "q1", "text": "apple"}\n{"_id": "q2", "text": "unjudged"}\n{"_id": "q3", "text": "cherry"}\n',
    );
    writeFileSync(join(dir, 'qrels', 'test.tsv'), qrels);
  };
  beforeAll(async () => {
    root = tempDir();
    outside = tempDir();
    beir(join(root, 'toy'));
    beir(join(root, 'broken'), 'q1\td1\tvery\n');
    mkdirSync(join(root, 'not-beir'));
    beir(join(outside, 'secret'));
    // A link under the root to a dataset outside it: neither listed nor read.
    symlinkSync(join(outside, 'secret'), join(root, 'escape'));
    process.env.LSR_DATASET_ROOTS = root;
    s = await startTestServer();
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.LSR_DATASET_ROOTS;
    else process.env.LSR_DATASET_ROOTS = saved;
    await s?.close();
    if (s) await removeDir(s.dataDir);
    await removeDir(root);
    await removeDir(outside);
  });

  it('lists the BEIR folders directly under the roots with their splits, not links leading out', async () => {
    const r = await s.req('GET', '/v1/datasets');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      datasets: [
        { name: 'broken', splits: ['test'] },
        { name: 'toy', splits: ['test'] },
      ],
    });
  });

  it("answers a split's judged queries and its qrels", async () => {
    const r = await s.req('GET', '/v1/datasets/toy/judgments?split=test');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      name: 'toy',
      split: 'test',
      queries: [
        { id: 'q1', text: 'apple' },
        { id: 'q3', text: 'cherry' },
      ],
      qrels: [
        { query: 'q1', doc: 'd1', relevance: 2 },
        { query: 'q1', doc: 'd2', relevance: 1 },
        { query: 'q3', doc: 'd3', relevance: 1 },
      ],
    });
  });

  it('refuses names that are not one folder, links out of the root, missing datasets and splits', async () => {
    for (const path of ['/v1/datasets/..%2Foutside/judgments', '/v1/datasets/.hidden/judgments', '/v1/datasets/%2Fetc/judgments']) {
      const r = await s.req('GET', path);
      expect(r.status, path).toBe(400);
      expect(r.body.field, path).toBe('name');
    }
    const esc = await s.req('GET', '/v1/datasets/escape/judgments');
    expect([esc.status, esc.body.code, esc.body.message]).toEqual([
      404,
      'DATASET_NOT_FOUND',
      "dataset 'escape' leads outside the dataset roots",
    ]);
    expect((await s.req('GET', '/v1/datasets/not-beir/judgments')).body.code).toBe('DATASET_NOT_FOUND');
    const split = await s.req('GET', '/v1/datasets/toy/judgments?split=dev');
    expect([split.status, split.body.code, split.body.field]).toEqual([404, 'DATASET_NOT_FOUND', 'split']);
    expect((await s.req('GET', '/v1/datasets/toy/judgments?split=..%2Ftest')).status).toBe(400);
    const broken = await s.req('GET', '/v1/datasets/broken/judgments');
    expect([broken.status, broken.body.code]).toEqual([400, 'INVALID_DATASET']);
    expect(broken.body.message).toMatch(/broken\/qrels\/test\.tsv line 1/);
  });

  it('offers nothing where LSR_DATASET_ROOTS is unset', async () => {
    const none = await startTestServer({}, tempDir());
    const before = process.env.LSR_DATASET_ROOTS;
    delete process.env.LSR_DATASET_ROOTS;
    try {
      expect((await none.req('GET', '/v1/datasets')).body).toEqual({ datasets: [] });
      const r = await none.req('GET', '/v1/datasets/toy/judgments');
      expect([r.status, r.body.code]).toEqual([404, 'DATASET_NOT_FOUND']);
      expect(r.body.message).toMatch(/LSR_DATASET_ROOTS is not set/);
    } finally {
      process.env.LSR_DATASET_ROOTS = before;
      await none.close();
      await removeDir(none.dataDir);
    }
  });
});
