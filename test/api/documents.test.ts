// Document routes against a real server: delete by ids, by filter, or every document with
// `all: true` (an empty filter alone is refused), and the document id rule on every route.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ndjson, removeDir, startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;

const docs = (n: number, prefix = 'd') =>
  ndjson(Array.from({ length: n }, (_, i) => ({ _id: `${prefix}${i}`, text: `document ${i} about otters`, metadata: { n: i } })));
const count = async (name: string) => (await s.req('GET', `/v1/collections/${name}`)).body.stats.documents as number;
const del = (name: string, body: unknown) => s.req('POST', `/v1/collections/${name}/documents/delete`, body);

beforeAll(async () => {
  s = await startTestServer();
});

afterAll(async () => {
  await s.close();
  removeDir(s.dataDir);
});

describe('delete documents', () => {
  it('deletes every document with all: true, alone or with the empty filter; the collection stays', async () => {
    for (const [name, body] of [
      ['all-alone', { all: true }],
      ['all-empty-filter', { filter: {}, all: true }],
    ] as const) {
      await s.req('POST', '/v1/collections', { name });
      expect((await s.ndjson(`/v1/collections/${name}/documents?wait=true`, docs(30))).body.indexed).toBe(30);
      expect((await del(name, body)).body).toEqual({ deleted: 30 });
      expect(await count(name)).toBe(0);
      expect((await s.req('POST', `/v1/collections/${name}/search`, { query: 'otters' })).body.hits).toEqual([]);
      // Still a collection that takes documents.
      expect((await s.ndjson(`/v1/collections/${name}/documents?wait=true`, docs(2, 'e'))).body.indexed).toBe(2);
      expect(await count(name)).toBe(2);
      expect((await del(name, body)).body).toEqual({ deleted: 2 });
    }
  });

  it('refuses an empty filter without all: true, naming `filter` and saying how', async () => {
    await s.req('POST', '/v1/collections', { name: 'guarded' });
    await s.ndjson('/v1/collections/guarded/documents?wait=true', docs(10));
    for (const body of [{ filter: {} }, { filter: {}, all: false }]) {
      const r = await del('guarded', body);
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'filter', message: expect.stringContaining('"all": true') });
    }
    expect(await count('guarded')).toBe(10);
  });

  it.each([
    ['nothing', {}, 'ids'],
    ['all: false alone', { all: false }, 'ids'],
    ['all with ids', { all: true, ids: ['d1'] }, 'ids'],
    ['ids with a filter', { ids: ['d1'], filter: { n: 1 } }, 'ids'],
    ['all with conditions', { all: true, filter: { n: 1 } }, 'all'],
    ['all not a boolean', { all: 'yes' }, 'all'],
    ['an unknown property', { everything: true }, 'everything'],
  ])('refuses %s, naming the field and deleting nothing', async (_name, body, field) => {
    const r = await del('guarded', body);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'VALIDATION_FAILED', field });
    expect(await count('guarded')).toBe(10);
  });

  it('still deletes by ids and by a filter (all: false is the same as no all)', async () => {
    expect((await del('guarded', { ids: ['d1', 'd2', 'nope'], all: false })).body).toEqual({ deleted: 2 });
    expect((await del('guarded', { filter: { n: { gte: 8 } } })).body).toEqual({ deleted: 2 });
    expect((await del('guarded', { filter: { n: 3 }, all: false })).body).toEqual({ deleted: 1 });
    expect(await count('guarded')).toBe(5);
    const bad = await del('guarded', { filter: { n: { between: [1, 2] } } });
    expect(bad.body).toMatchObject({ code: 'INVALID_FILTER', field: 'filter.n.between' });
  });

  it('states the rule in the OpenAPI document (oneOf), so generated clients see it', async () => {
    const spec = (await s.req('GET', '/openapi.json')).body;
    const body = spec.paths['/v1/collections/{name}/documents/delete'].post.requestBody.content['application/json'].schema;
    expect(body.properties.all.type).toBe('boolean');
    expect(body.oneOf).toHaveLength(3);
    expect(body.description).toMatch(/all: true/);
  });
});

describe('document ids', () => {
  beforeAll(async () => {
    await s.req('POST', '/v1/collections', { name: 'ids' });
  });

  it('refuses NDJSON lines whose _id holds a control character or a lone surrogate, line by line', async () => {
    const lines = [
      JSON.stringify({ _id: 'ok-1', text: 'fine' }),
      JSON.stringify({ _id: 'tab\there', text: 'x' }),
      JSON.stringify({ _id: 'nul\u0000', text: 'x' }),
      JSON.stringify({ _id: 'del\u007f', text: 'x' }),
      JSON.stringify({ _id: 'c1\u0085', text: 'x' }),
      '{"_id": "lone\\ud800", "text": "x"}',
      JSON.stringify({ _id: 'café 😀', text: 'fine too' }),
    ];
    const r = await s.ndjson('/v1/collections/ids/documents?wait=true', lines.join('\n') + '\n');
    expect(r.body).toMatchObject({ state: 'committed', indexed: 2, rejected: 5 });
    expect(r.body.errors.map((e: { line: number; code: string; field: string }) => [e.line, e.code, e.field])).toEqual(
      [2, 3, 4, 5, 6].map((line) => [line, 'INVALID_DOCUMENT', '_id']),
    );
    expect((await s.req('GET', `/v1/collections/ids/documents/${encodeURIComponent('café 😀')}`)).status).toBe(200);
  });

  it('refuses the same in a PUT body and in a path id, on PUT, GET and DELETE', async () => {
    const put = await s.req('PUT', '/v1/collections/ids/documents/x', { _id: 'x\u0007', text: 'y' });
    expect(put.body).toMatchObject({ code: 'INVALID_DOCUMENT', field: '_id' });
    for (const method of ['PUT', 'GET', 'DELETE'])
      for (const id of ['a%00b', 'a%0Ab', 'a%7F', 'a%C2%9F']) {
        const r = await s.req(method, `/v1/collections/ids/documents/${id}`, method === 'PUT' ? { text: 'y' } : undefined);
        expect({ method, id, status: r.status, code: r.body.code, field: r.body.field }).toEqual({
          method,
          id,
          status: 400,
          code: 'INVALID_DOCUMENT',
          field: 'id',
        });
        expect(r.body.message).toMatch(/^id must hold printable characters only, got control character U\+00/);
      }
    expect(await count('ids')).toBe(2);
  });
});
