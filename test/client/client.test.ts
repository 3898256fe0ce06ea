// The package's typed client (src/client/) against the real service on a loopback port: collections,
// bulk ingest (documents and raw NDJSON), search, and errors with their code and field.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, LsrError, type LsrClient, type SearchRequest } from '../../src/client/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let lsr: LsrClient;

beforeAll(async () => {
  server = await startTestServer({ LSR_API_KEYS: 'secret' });
  lsr = createClient(`${server.url}/`, { apiKey: 'secret' });
});
afterAll(async () => {
  await server.close();
});

describe('createClient', () => {
  it('creates a collection, ingests documents and searches them', async () => {
    const made = await lsr.createCollection({ name: 'papers', fields: ['title', 'text'] });
    expect(made.name).toBe('papers');
    expect((await lsr.getCollection('papers'))?.name).toBe('papers');
    expect((await lsr.listCollections()).map((c) => c.name)).toContain('papers');

    const sent: number[] = [];
    const job = await lsr.ingest(
      'papers',
      (async function* () {
        for (let i = 0; i < 300; i++)
          yield { _id: `p${i}`, title: i === 7 ? 'learned sparse retrieval' : `paper ${i}`, text: `about topic ${i % 10}` };
      })(),
      { onSent: (n) => sent.push(n) },
    );
    expect(job.state).toBe('committed');
    expect(job.indexed).toBe(300);
    expect(job.rejected).toBe(0);
    expect(sent).toEqual([256, 300]);
    expect((await lsr.job(job.id)).indexed).toBe(300);

    // Raw NDJSON: a line the service refuses is in the report's errors, not thrown.
    const raw = await lsr.ingestNdjson('papers', ['{"_id": "x1", "title": "sparse"}\n', '{"title": "no id"}\n']);
    expect(raw.indexed).toBe(1);
    expect(raw.errors.map((e) => e.code)).toEqual(['MISSING_ID']);

    const r = await lsr.search('papers', { query: 'learned sparse', k: 3, fields: ['title'] });
    expect(r.hits[0]._id).toBe('p7');
    expect(r.hits[0].fields?.title).toBe('learned sparse retrieval');
    expect(r.hits.length).toBe(2);

    await lsr.deleteCollection('papers');
    expect(await lsr.getCollection('papers')).toBeNull();
  });

  it("surfaces the service's error code and the field at fault", async () => {
    await lsr.createCollection({ name: 'errs' });
    const e = await lsr.search('errs', { query: 'x', k: 5000 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LsrError);
    const err = e as LsrError;
    expect([err.status, err.code, err.field]).toEqual([400, 'VALIDATION_FAILED', 'k']);
    expect(err.request).toBe('POST /v1/collections/errs/search');
    expect(err.message).toMatch(/k/);

    // The types refuse this filter at compile time; the service refuses it at run time.
    const filter = { year: { nope: 1 } } as unknown as SearchRequest['filter'];
    const bad = (await lsr.search('errs', { query: 'x', filter }).catch((x: unknown) => x)) as LsrError;
    expect(bad.code).toBe('INVALID_FILTER');
    expect(bad.field).toMatch(/^filter\.year/);

    const missing = (await lsr.search('nope', { query: 'x' }).catch((x: unknown) => x)) as LsrError;
    expect([missing.status, missing.code]).toEqual([404, 'COLLECTION_NOT_FOUND']);

    const exists = (await lsr.createCollection({ name: 'errs' }).catch((x: unknown) => x)) as LsrError;
    expect(exists.code).toBe('COLLECTION_EXISTS');

    const unauthorized = (await createClient(server.url)
      .listCollections()
      .catch((x: unknown) => x)) as LsrError;
    expect([unauthorized.status, unauthorized.code]).toEqual([401, 'UNAUTHORIZED']);

    const ingestMissing = (await lsr.ingest('nope', [{ _id: 'a', title: 't' }]).catch((x: unknown) => x)) as LsrError;
    expect([ingestMissing.status, ingestMissing.code]).toEqual([404, 'COLLECTION_NOT_FOUND']);
    expect(ingestMissing.request).toBe('POST /v1/collections/nope/documents?wait=true');
  });

  it('gives every route typed through api (openapi-fetch)', async () => {
    const { data, error, response } = await lsr.api.GET('/v1/collections/{name}', { params: { path: { name: 'errs' } } });
    expect(response.status).toBe(200);
    expect(error).toBeUndefined();
    expect(data?.fields).toEqual(['title', 'text']);
  });
});
