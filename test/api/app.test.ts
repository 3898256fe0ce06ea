// The app's own answers against a real server: 405 with Allow for a known path, a path that does not
// decode, the jobs list's limit, and what the OpenAPI document says.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors.js';
import { ERROR_STATUS } from '../../src/api/errors.js';
import { ndjson, removeDir, startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;

beforeAll(async () => {
  s = await startTestServer();
  await s.req('POST', '/v1/collections', { name: 'c' });
  for (let i = 0; i < 3; i++) await s.ndjson('/v1/collections/c/documents?wait=true', ndjson([{ _id: `d${i}`, text: 'otters' }]));
});

afterAll(async () => {
  await s.close();
  removeDir(s.dataDir);
});

describe('methods', () => {
  it.each([
    ['PATCH', '/v1/collections', 'GET, HEAD, POST'],
    ['DELETE', '/v1/collections', 'GET, HEAD, POST'],
    ['PUT', '/v1/collections/c/search', 'POST'],
    ['GET', '/v1/collections/c/search', 'POST'],
    ['POST', '/v1/collections/c/documents/d1', 'DELETE, GET, HEAD, PUT'],
    ['DELETE', '/v1/jobs', 'GET, HEAD'],
    ['POST', '/healthz', 'GET, HEAD'],
    // The route the router picks: /documents/delete is its own route, not a document id.
    ['OPTIONS', '/v1/collections/c/documents/delete', 'POST'],
    ['QUERY', '/v1/jobs', 'GET, HEAD'],
  ])('%s %s is 405 METHOD_NOT_ALLOWED with Allow: %s', async (method, path, allow) => {
    // QUERY without a content type: Fastify would refuse it (400) before routing; the path decides first.
    const r = await s.req(method, path, ['GET', 'DELETE', 'OPTIONS', 'QUERY'].includes(method) ? undefined : {});
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe(allow);
    expect(r.body).toMatchObject({ statusCode: 405, code: 'METHOD_NOT_ALLOWED', error: 'Method Not Allowed' });
    expect(r.body.message).toContain(method);
  });

  it('comes after authentication: without a key, a protected server answers 401 first', async () => {
    const p = await startTestServer({ LSR_API_KEYS: 'secret' });
    try {
      expect((await p.req('PATCH', '/v1/collections', {})).status).toBe(401);
      const r = await p.req('PATCH', '/v1/collections', {}, { authorization: 'Bearer secret' });
      expect([r.status, r.headers.get('allow')]).toEqual([405, 'GET, HEAD, POST']);
    } finally {
      await p.close();
      removeDir(p.dataDir);
    }
  });

  it('an unknown path is still 404 ROUTE_NOT_FOUND, and the table has the new code', async () => {
    for (const path of ['/v1/nothing', '/v1/collections/c/search/more', '/v1/collections/'])
      expect((await s.req('PATCH', path, {})).body).toMatchObject({ code: 'ROUTE_NOT_FOUND' });
    expect(ERROR_STATUS.METHOD_NOT_ALLOWED).toBe(405);
    expect(ERROR_CODES.METHOD_NOT_ALLOWED).toMatch(/Allow/);
  });
});

describe('paths that do not decode', () => {
  it.each(['/v1/collections/%ff', '/v1/collections/c/documents/%ff', '/v1/%', '/%E0%A4%A', '/v1/collections/c/documents/%ed%a0%80'])(
    '%s is 400 VALIDATION_FAILED in the error table body',
    async (path) => {
      const r = await s.req('GET', path);
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED', error: 'Bad Request', field: 'path' });
      expect(r.body.message).toContain('%25');
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    },
  );
});

describe('GET /v1/jobs', () => {
  it('takes limit from 1 to 100', async () => {
    expect((await s.req('GET', '/v1/jobs')).body.jobs).toHaveLength(3);
    expect((await s.req('GET', '/v1/jobs?limit=2')).body.jobs).toHaveLength(2);
    expect((await s.req('GET', '/v1/jobs?limit=100')).body.jobs).toHaveLength(3);
  });

  it.each(['-5', '0', '101', '2.5', 'ten', '', '%ff'])('refuses limit=%s naming `limit`', async (limit) => {
    const r = await s.req('GET', `/v1/jobs?limit=${limit}`);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'limit',
      message: expect.stringMatching(/^limit must be an integer from 1 to 100/),
    });
  });
});

describe('the OpenAPI document', () => {
  it('says what the service is', async () => {
    const spec = (await s.req('GET', '/openapi.json')).body;
    expect(spec.info.description).not.toMatch(/BM25 search\./);
    expect(spec.info.description).toMatch(/SPLADE/);
    expect(spec.info.description).toMatch(/dense/);
    expect(spec.info.description).toMatch(/hybrid/);
  });

  it('states the search body rules between fields, and the route keeps its exact messages', async () => {
    const spec = (await s.req('GET', '/openapi.json')).body;
    const body = spec.paths['/v1/collections/{name}/search'].post.requestBody.content['application/json'].schema;
    expect(body.not).toEqual({
      anyOf: [{ required: ['retriever', 'retrievers'] }, { required: ['fusion'], not: { required: ['retrievers'] } }],
    });
    const both = await s.req('POST', '/v1/collections/c/search', { query: 'otters', retriever: 'bm25', retrievers: [{ name: 'bm25' }] });
    expect(both.body).toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'retriever',
      message: 'give `retriever` (one retriever) or `retrievers` (a hybrid search), not both',
    });
    const fusion = await s.req('POST', '/v1/collections/c/search', { query: 'otters', fusion: { method: 'rrf' } });
    expect(fusion.body).toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'fusion',
      message: '`fusion` applies to a hybrid search: name the retrievers to fuse in `retrievers`',
    });
    // A field error inside the retrievers is still named, before the rule between fields.
    const entry = await s.req('POST', '/v1/collections/c/search', {
      query: 'otters',
      retriever: 'bm25',
      retrievers: [{ name: 'bm25', window: 0 }],
    });
    expect(entry.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'retrievers[0].window' });
    expect((await s.req('GET', '/v1/jobs?limit=1')).status).toBe(200);
    const jobs = spec.paths['/v1/jobs'].get.parameters.find((p: { name: string }) => p.name === 'limit');
    expect(jobs).toMatchObject({ in: 'query', required: false });
  });
});
