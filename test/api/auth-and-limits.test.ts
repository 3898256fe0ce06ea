// API keys (read-only and read-write) and the optional rate limit on a real server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestServer, type TestServer } from '../helpers/server.js';

describe('API keys', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ LSR_API_KEYS: 'writer-key,reader-key:read' });
  });
  afterAll(async () => {
    await s.close();
    removeDir(s.dataDir);
  });

  it('requires a key except on health and metrics', async () => {
    expect((await s.req('GET', '/healthz')).status).toBe(200);
    expect((await s.req('GET', '/metrics')).status).toBe(200);
    const r = await s.req('GET', '/v1/collections');
    expect(r.status).toBe(401);
    expect(r.body.code).toBe('UNAUTHORIZED');
    expect((await s.req('GET', '/v1/collections', undefined, { authorization: 'Bearer wrong' })).status).toBe(401);
  });

  it('lets read keys search but not write', async () => {
    const w = { authorization: 'Bearer writer-key' };
    const rd = { 'x-api-key': 'reader-key' };
    expect((await s.req('POST', '/v1/collections', { name: 'sec' }, w)).status).toBe(201);
    const denied = await s.req('POST', '/v1/collections', { name: 'sec2' }, rd);
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe('FORBIDDEN');
    expect((await s.req('PUT', '/v1/collections/sec/documents/a', { text: 'x' }, rd)).status).toBe(403);
    expect((await s.req('PUT', '/v1/collections/sec/documents/a', { text: 'secret cats' }, w)).status).toBe(201);
    const found = await s.req('POST', '/v1/collections/sec/search', { query: 'cats' }, rd);
    expect(found.status).toBe(200);
    expect(found.body.hits).toHaveLength(1);
  });
});

describe('rate limit', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ LSR_RATE_LIMIT: '3' });
  });
  afterAll(async () => {
    await s.close();
    removeDir(s.dataDir);
  });

  it('answers 429 with a code past the per-second budget', async () => {
    const statuses: number[] = [];
    let limited: { code?: string } | undefined;
    // Requests are sent at once; even if a second boundary passes, 20 requests exceed 2 windows of 3.
    const rs = await Promise.all(Array.from({ length: 20 }, () => s.req('GET', '/v1/collections')));
    for (const r of rs) {
      statuses.push(r.status);
      if (r.status === 429) limited = r.body;
    }
    expect(statuses.filter((x) => x === 429).length).toBeGreaterThan(0);
    expect(limited?.code).toBe('RATE_LIMITED');
    expect((await s.req('GET', '/healthz')).status).toBe(200);
  });
});
