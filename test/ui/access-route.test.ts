// GET /v1/access, which the console (and any client) asks to know what its key may do, and the
// /ui route's answers when a file is missing. No browser needed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestServer, type TestServer } from '../helpers/server.js';

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
    for (const headers of [{}, { authorization: 'Bearer nope' }]) {
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
