// GET /v1/access, which the console (and any client) asks to know what its key may do, GET
// /v1/models (the model cache, offered by the create form), and the /ui route's answers. No browser.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
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
