// Every client mistake gets a 4xx with a code and the offending field; none is a 500, the server
// stays healthy and committed data is untouched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ndjson, removeDir, startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
const MAX_DOC = 4096;

beforeAll(async () => {
  s = await startTestServer({ LSR_MAX_DOCUMENT_BYTES: String(MAX_DOC), LSR_BODY_LIMIT: String(64 * 1024) });
  await s.req('POST', '/v1/collections', { name: 'keep' });
  const r = await s.ndjson(
    '/v1/collections/keep/documents?wait=true',
    ndjson(Array.from({ length: 50 }, (_, i) => ({ _id: `k${i}`, text: `kept document ${i} about zebras`, metadata: { n: i } }))),
  );
  expect(r.body.indexed).toBe(50);
});

afterAll(async () => {
  await s.close();
  removeDir(s.dataDir);
});

interface Row {
  name: string;
  method: string;
  path: string;
  body?: unknown;
  raw?: string | Buffer;
  headers?: Record<string, string>;
  status: number;
  code: string;
  field?: string;
}

const search = '/v1/collections/keep/search';
const bad = (body: unknown, status: number, code: string, field?: string, name?: string): Row => ({
  name: name ?? `search ${JSON.stringify(body).slice(0, 60)}`,
  method: 'POST',
  path: search,
  body,
  status,
  code,
  field,
});

const requestRows: Row[] = [
  {
    name: 'collection name with path tricks',
    method: 'POST',
    path: '/v1/collections',
    body: { name: '../x' },
    status: 400,
    code: 'INVALID_COLLECTION_NAME',
    field: 'name',
  },
  {
    name: 'collection name with slash',
    method: 'POST',
    path: '/v1/collections',
    body: { name: 'a/b' },
    status: 400,
    code: 'INVALID_COLLECTION_NAME',
    field: 'name',
  },
  {
    name: 'collection name uppercase and space',
    method: 'POST',
    path: '/v1/collections',
    body: { name: 'A B' },
    status: 400,
    code: 'INVALID_COLLECTION_NAME',
    field: 'name',
  },
  {
    name: 'collection name empty',
    method: 'POST',
    path: '/v1/collections',
    body: { name: '' },
    status: 400,
    code: 'INVALID_COLLECTION_NAME',
    field: 'name',
  },
  {
    name: 'collection name of wrong type',
    method: 'POST',
    path: '/v1/collections',
    body: { name: 12 },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'name',
  },
  {
    name: 'collection name missing',
    method: 'POST',
    path: '/v1/collections',
    body: {},
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'name',
  },
  {
    name: 'unknown collection property',
    method: 'POST',
    path: '/v1/collections',
    body: { name: 'x', shards: 3 },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'shards',
  },
  {
    name: 'bm25 k1 out of range',
    method: 'POST',
    path: '/v1/collections',
    body: { name: 'x', retrievers: { bm25: { k1: -1 } } },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'retrievers.bm25.k1',
  },
  {
    name: 'unknown default retriever',
    method: 'POST',
    path: '/v1/collections',
    body: { name: 'x', default_retriever: 'nope' },
    status: 400,
    code: 'UNKNOWN_RETRIEVER',
    field: 'default_retriever',
  },
  {
    name: 'no text fields',
    method: 'POST',
    path: '/v1/collections',
    body: { name: 'x', fields: [] },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'fields',
  },
  {
    name: 'reserved text field',
    method: 'POST',
    path: '/v1/collections',
    body: { name: 'x', fields: ['_id'] },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'fields',
  },
  {
    name: 'malformed JSON body',
    method: 'POST',
    path: '/v1/collections',
    raw: '{"name": ',
    headers: { 'content-type': 'application/json' },
    status: 400,
    code: 'INVALID_JSON',
  },
  {
    name: 'invalid UTF-8 in a JSON body',
    method: 'POST',
    path: '/v1/collections',
    raw: Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    headers: { 'content-type': 'application/json' },
    status: 400,
    code: 'INVALID_UTF8',
  },
  {
    name: 'oversize JSON body',
    method: 'POST',
    path: search,
    raw: JSON.stringify({ query: 'z'.repeat(100_000) }),
    headers: { 'content-type': 'application/json' },
    status: 413,
    code: 'BODY_TOO_LARGE',
  },
  {
    name: 'unsupported content type',
    method: 'POST',
    path: '/v1/collections',
    raw: '<name>x</name>',
    headers: { 'content-type': 'application/xml' },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'collection path with dot-dot',
    method: 'GET',
    path: '/v1/collections/..%2Fx',
    status: 400,
    code: 'INVALID_COLLECTION_NAME',
    field: 'name',
  },
  { name: 'missing collection', method: 'GET', path: '/v1/collections/missing', status: 404, code: 'COLLECTION_NOT_FOUND', field: 'name' },
  {
    name: 'search in a missing collection',
    method: 'POST',
    path: '/v1/collections/missing/search',
    body: { query: 'x' },
    status: 404,
    code: 'COLLECTION_NOT_FOUND',
    field: 'name',
  },
  bad({ query: 'zebra', k: 0 }, 400, 'VALIDATION_FAILED', 'k'),
  bad({ query: 'zebra', k: 1001 }, 400, 'VALIDATION_FAILED', 'k'),
  bad({ query: 'zebra', k: '3' }, 400, 'VALIDATION_FAILED', 'k'),
  bad({ query: 'zebra', k: 2.5 }, 400, 'VALIDATION_FAILED', 'k'),
  bad({ query: 'zebra', offset: -1 }, 400, 'VALIDATION_FAILED', 'offset'),
  bad({ query: 'zebra', offset: 9995, k: 10 }, 400, 'RESULT_WINDOW_TOO_LARGE', 'offset'),
  bad({ k: 3 }, 400, 'INVALID_QUERY', 'query', 'search without query or vector'),
  bad({ query: 'zebra', vector: { zebra: 1 } }, 400, 'INVALID_QUERY', 'query', 'search with both query and vector'),
  bad({ vector: { zebra: -1 } }, 400, 'VALIDATION_FAILED', 'vector.zebra'),
  bad({ query: 42 }, 400, 'VALIDATION_FAILED', 'query'),
  bad({ query: 'zebra', explain: 'yes' }, 400, 'VALIDATION_FAILED', 'explain'),
  bad({ query: 'zebra', fields: 'title' }, 400, 'VALIDATION_FAILED', 'fields'),
  bad({ query: 'zebra', retriever: 'splade' }, 400, 'UNKNOWN_RETRIEVER', 'retriever'),
  bad({ query: 'zebra', filter: { n: { near: 3 } } }, 400, 'INVALID_FILTER', 'filter.n.near'),
  bad({ query: 'zebra', filter: { 'n"); DROP TABLE docs; --': 1 } }, 400, 'INVALID_FILTER'),
  bad({ query: 'zebra', filter: { n: { gt: 'a' } } }, 400, 'INVALID_FILTER', 'filter.n.gt'),
  bad({ query: 'zebra', filter: { n: null } }, 400, 'INVALID_FILTER', 'filter.n'),
  bad({ query: 'zebra', filter: { n: { in: [] } } }, 400, 'INVALID_FILTER', 'filter.n.in'),
  bad({ query: 'zebra', filter: [1, 2] }, 400, 'INVALID_FILTER', 'filter'),
  bad({ query: 'zebra', size: 3 }, 400, 'VALIDATION_FAILED', 'size', 'search with an unknown property'),
  { name: 'search body is an array', method: 'POST', path: search, body: [{ query: 'zebra' }], status: 400, code: 'VALIDATION_FAILED' },
  {
    name: 'search with an empty body',
    method: 'POST',
    path: search,
    raw: '',
    headers: { 'content-type': 'application/json' },
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'unknown job',
    method: 'GET',
    path: '/v1/jobs/00000000-0000-0000-0000-000000000000',
    status: 404,
    code: 'JOB_NOT_FOUND',
    field: 'id',
  },
  {
    name: 'bulk ingest sent as JSON',
    method: 'POST',
    path: '/v1/collections/keep/documents',
    body: [{ _id: 'a' }],
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'bulk ingest into a missing collection',
    method: 'POST',
    path: '/v1/collections/missing/documents',
    raw: '{"_id":"a"}\n',
    headers: { 'content-type': 'application/x-ndjson' },
    status: 404,
    code: 'COLLECTION_NOT_FOUND',
  },
  {
    name: 'bulk ingest with a bad wait flag',
    method: 'POST',
    path: '/v1/collections/keep/documents?wait=yes',
    raw: '{"_id":"a"}\n',
    headers: { 'content-type': 'application/x-ndjson' },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'wait',
  },
  { name: 'unknown route', method: 'GET', path: '/v1/nothing', status: 404, code: 'ROUTE_NOT_FOUND' },
  {
    name: 'encode with a model folder outside the model roots',
    method: 'POST',
    path: '/v1/encode',
    body: { model: 'dir:/etc', texts: ['x'] },
    status: 400,
    code: 'INVALID_MODEL',
    field: 'model',
  },
  {
    name: 'collection with a model folder outside the model roots',
    method: 'POST',
    path: '/v1/collections',
    body: { name: 'x', retrievers: { splade: { model: 'dir:/etc' } } },
    status: 400,
    code: 'INVALID_MODEL',
    field: 'retrievers.splade.model',
  },
  {
    name: 'put document with mismatched _id',
    method: 'PUT',
    path: '/v1/collections/keep/documents/a',
    body: { _id: 'b', text: 'x' },
    status: 400,
    code: 'INVALID_DOCUMENT',
    field: '_id',
  },
  {
    name: 'put document with a non-string text field',
    method: 'PUT',
    path: '/v1/collections/keep/documents/a',
    body: { text: 5 },
    status: 400,
    code: 'INVALID_DOCUMENT',
    field: 'text',
  },
  {
    name: 'put document with array metadata',
    method: 'PUT',
    path: '/v1/collections/keep/documents/a',
    body: { text: 'x', metadata: [1] },
    status: 400,
    code: 'INVALID_DOCUMENT',
    field: 'metadata',
  },
  {
    name: 'get a missing document',
    method: 'GET',
    path: '/v1/collections/keep/documents/nope',
    status: 404,
    code: 'DOCUMENT_NOT_FOUND',
    field: 'id',
  },
  {
    name: 'delete by both ids and filter',
    method: 'POST',
    path: '/v1/collections/keep/documents/delete',
    body: { ids: ['k1'], filter: { n: 1 } },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'ids',
  },
  {
    name: 'delete by an invalid filter',
    method: 'POST',
    path: '/v1/collections/keep/documents/delete',
    body: { filter: { n: { between: [1, 2] } } },
    status: 400,
    code: 'INVALID_FILTER',
  },
];

interface LineRow {
  name: string;
  line: string | Buffer;
  code: string;
  field?: string;
}

const lineRows: LineRow[] = [
  { name: 'malformed JSON line', line: '{"_id": "a", "text": ', code: 'INVALID_JSON' },
  { name: 'array instead of an object', line: '[1, 2]', code: 'INVALID_DOCUMENT' },
  { name: 'null line', line: 'null', code: 'INVALID_DOCUMENT' },
  { name: 'missing _id', line: '{"text": "no id"}', code: 'MISSING_ID', field: '_id' },
  { name: 'numeric _id', line: '{"_id": 7, "text": "x"}', code: 'INVALID_DOCUMENT', field: '_id' },
  { name: 'empty _id', line: '{"_id": "", "text": "x"}', code: 'INVALID_DOCUMENT', field: '_id' },
  { name: 'overlong _id', line: JSON.stringify({ _id: 'i'.repeat(600), text: 'x' }), code: 'INVALID_DOCUMENT', field: '_id' },
  { name: 'text field of wrong type', line: '{"_id": "t1", "title": {"a": 1}}', code: 'INVALID_DOCUMENT', field: 'title' },
  { name: 'metadata not an object', line: '{"_id": "t2", "metadata": "x"}', code: 'INVALID_DOCUMENT', field: 'metadata' },
  { name: 'huge field', line: JSON.stringify({ _id: 'big', text: 'w '.repeat(MAX_DOC) }), code: 'DOCUMENT_TOO_LARGE' },
  {
    name: 'invalid UTF-8',
    line: Buffer.concat([Buffer.from('{"_id": "u", "text": "'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
    code: 'INVALID_UTF8',
  },
];

describe('bad requests', () => {
  it.each(requestRows)('$name -> $status $code', async (row) => {
    const headers = { ...(row.headers ?? {}) };
    let body: string | Buffer | undefined;
    if (row.raw !== undefined) body = row.raw;
    else if (row.body !== undefined) {
      body = JSON.stringify(row.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(s.url + row.path, { method: row.method, headers, body });
    const json = (await res.json()) as { code: string; field?: string; statusCode: number; message: string };
    expect({ status: res.status, code: json.code }).toEqual({ status: row.status, code: row.code });
    expect(json.statusCode).toBe(row.status);
    expect(json.message.length).toBeGreaterThan(0);
    if (row.field !== undefined) expect(json.field).toBe(row.field);
  });
});

describe('bad NDJSON lines', () => {
  it('rejects each bad line with its line number and code, and indexes the good ones', async () => {
    await s.req('POST', '/v1/collections', { name: 'lines' });
    const parts: Buffer[] = [Buffer.from(JSON.stringify({ _id: 'good-0', text: 'first good line' }) + '\n')];
    for (const r of lineRows) parts.push(Buffer.isBuffer(r.line) ? r.line : Buffer.from(r.line), Buffer.from('\n'));
    parts.push(Buffer.from(JSON.stringify({ _id: 'good-0', text: 'duplicate in this job' }) + '\n'));
    parts.push(Buffer.from(JSON.stringify({ _id: 'good-1', text: 'last good line' }) + '\n'));
    const res = await fetch(s.url + '/v1/collections/lines/documents?wait=true', {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: Buffer.concat(parts),
    });
    expect(res.status).toBe(200);
    const job = (await res.json()) as {
      state: string;
      indexed: number;
      rejected: number;
      errors: { line: number; code: string; field?: string }[];
    };
    expect(job.state).toBe('committed');
    expect(job.indexed).toBe(2);
    expect(job.rejected).toBe(lineRows.length + 1);
    const byLine = new Map(job.errors.map((e) => [e.line, e]));
    lineRows.forEach((r, i) => {
      const e = byLine.get(i + 2);
      expect({ name: r.name, code: e?.code, field: e?.field }).toEqual({ name: r.name, code: r.code, field: r.field });
    });
    expect(byLine.get(lineRows.length + 2)?.code).toBe('DUPLICATE_ID');
  });
});

describe('after bad input', () => {
  it('stays healthy and keeps committed data', async () => {
    expect((await s.req('GET', '/healthz')).status).toBe(200);
    const c = await s.req('GET', '/v1/collections/keep');
    expect(c.body.stats.documents).toBe(50);
    const r = await s.req('POST', search, { query: 'zebras', k: 100 });
    expect(r.body.hits).toHaveLength(50);
    const m = await s.req('GET', '/metrics');
    expect(m.body).not.toMatch(/status="5\d\d"/);
  });
});
