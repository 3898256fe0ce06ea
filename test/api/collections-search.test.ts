// The API end to end on a real listening server: collections, ingest jobs, search (filters,
// pagination, explain, vectors), documents by id, deletes, ops endpoints. The same assertions run
// on both backends: embedded (real SQLite files and the native engine) and OpenSearch (a real
// cluster; skipped with the reason when none is given).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendEnv, dropIndices, NO_OPENSEARCH, OPENSEARCH_URL, testPrefix } from '../helpers/opensearch.js';
import { ndjson, removeDir, startTestServer, type TestServer } from '../helpers/server.js';
import { skipBecause } from '../helpers/skip-log.js';

for (const kind of ['embedded', 'opensearch'] as const) {
  const skip = kind === 'opensearch' ? skipBecause(import.meta.url, 'opensearch backend', OPENSEARCH_URL ? null : NO_OPENSEARCH) : null;
  describe.skipIf(skip !== null)(`${kind} backend`, () => {
    let s: TestServer;
    const prefix = testPrefix();

    const DOCS = [
      {
        _id: 'd1',
        title: 'Cats and kittens',
        text: 'Cats purr. Kittens play with yarn.',
        metadata: { year: 2019, lang: 'en', tags: ['pets', 'cats'] },
      },
      {
        _id: 'd2',
        title: 'Dogs',
        text: 'Dogs bark at cats and chase the mail carrier.',
        metadata: { year: 2020, lang: 'en', tags: ['pets'] },
      },
      {
        _id: 'd3',
        title: 'Solar power',
        text: 'Photovoltaic cells convert sunlight into electricity.',
        metadata: { year: 2021, lang: 'en' },
      },
      { _id: 'd4', title: 'Chats', text: 'Les chats dorment beaucoup.', metadata: { year: 2021, lang: 'fr', tags: ['cats'] } },
      {
        _id: 'd5',
        title: 'Cat genetics',
        text: 'Coat color in cats is sex-linked; calico cats are mostly female.',
        metadata: { year: 2022, lang: 'en', score: 4.5 },
      },
    ];

    beforeAll(async () => {
      s = await startTestServer(backendEnv(kind, prefix));
      expect((await s.req('POST', '/v1/collections', { name: 'pets' })).status).toBe(201);
      const r = await s.ndjson('/v1/collections/pets/documents?wait=true', ndjson(DOCS));
      expect(r.status).toBe(200);
      expect(r.body.state).toBe('committed');
    });

    afterAll(async () => {
      await s?.close();
      if (s) removeDir(s.dataDir);
      if (kind === 'opensearch') await dropIndices(prefix);
    });

    describe('collections', () => {
      it('creates with BM25 over title and text by default and reports stats', async () => {
        const r = await s.req('GET', '/v1/collections/pets');
        expect(r.status).toBe(200);
        expect(r.body.fields).toEqual(['title', 'text']);
        expect(r.body.retrievers.bm25).toEqual({ k1: 0.9, b: 0.4 });
        expect(r.body.default_retriever).toBe('bm25');
        expect(r.body.stats.documents).toBe(5);
        expect(r.body.stats.bytes_on_disk).toBeGreaterThan(0);
        expect(r.body.stats.segments).toBeGreaterThanOrEqual(1);
      });

      it('lists, refuses duplicates, deletes', async () => {
        expect(
          (await s.req('POST', '/v1/collections', { name: 'tmp-1', fields: ['body'], retrievers: { bm25: { k1: 1.2, b: 0.75 } } })).status,
        ).toBe(201);
        const dup = await s.req('POST', '/v1/collections', { name: 'tmp-1' });
        expect(dup.status).toBe(409);
        expect(dup.body.code).toBe('COLLECTION_EXISTS');
        const list = await s.req('GET', '/v1/collections');
        expect(list.body.collections.map((c: { name: string }) => c.name)).toEqual(['pets', 'tmp-1']);
        expect((await s.req('DELETE', '/v1/collections/tmp-1')).status).toBe(200);
        expect((await s.req('GET', '/v1/collections/tmp-1')).body.code).toBe('COLLECTION_NOT_FOUND');
      });
    });

    describe('search', () => {
      it('ranks by BM25 with the default retriever from query and k alone', async () => {
        const r = await s.req('POST', '/v1/collections/pets/search', { query: 'cats', k: 3 });
        expect(r.status).toBe(200);
        expect(r.body.retriever).toBe('bm25');
        expect(r.body.hits).toHaveLength(3);
        const ids = r.body.hits.map((h: { _id: string }) => h._id);
        expect(ids).not.toContain('d3');
        for (let i = 1; i < r.body.hits.length; i++) expect(r.body.hits[i - 1].score).toBeGreaterThanOrEqual(r.body.hits[i].score);
        expect(r.body.hits[0]).not.toHaveProperty('fields');
      });

      it('returns requested fields and metadata', async () => {
        const r = await s.req('POST', '/v1/collections/pets/search', { query: 'photovoltaic', fields: ['title', 'metadata'] });
        expect(r.body.hits).toEqual([
          { _id: 'd3', score: expect.any(Number), fields: { title: 'Solar power' }, metadata: { year: 2021, lang: 'en' } },
        ]);
      });

      it('explain gives per-term contributions that sum to the score', async () => {
        const r = await s.req('POST', '/v1/collections/pets/search', { query: 'calico cats genetics', explain: true, k: 5 });
        for (const h of r.body.hits) {
          const sum = h.explain.terms.reduce((a: number, t: { contribution: number }) => a + t.contribution, 0);
          expect(sum).toBeCloseTo(h.score, 4);
          for (const t of h.explain.terms) expect(t.contribution).toBeCloseTo(t.query_weight * t.document_weight, 5);
        }
        expect(r.body.hits[0]._id).toBe('d5');
        expect(r.body.hits[0].explain.terms.map((t: { term: string }) => t.term).sort()).toEqual(['calico', 'cat', 'genet']);
      });

      it('filters by equality, in, ranges and array membership', async () => {
        const q = async (filter: unknown) =>
          (await s.req('POST', '/v1/collections/pets/search', { query: 'cats dogs chats solar', k: 10, filter })).body.hits
            .map((h: { _id: string }) => h._id)
            .sort();
        expect(await q({ lang: 'fr' })).toEqual(['d4']);
        expect(await q({ year: { gte: 2020, lt: 2022 } })).toEqual(['d2', 'd3', 'd4']);
        expect(await q({ year: { in: [2019, 2022] } })).toEqual(['d1', 'd5']);
        expect(await q({ tags: 'cats' })).toEqual(['d1', 'd4']);
        expect(await q({ lang: 'en', year: { gt: 2020 } })).toEqual(['d3', 'd5']);
        expect(await q({ lang: 'de' })).toEqual([]);
      });

      it('a filtered top-k still returns k hits when k documents match', async () => {
        const r = await s.req('POST', '/v1/collections/pets/search', { query: 'cats', k: 2, filter: { lang: 'en' } });
        // Only d1, d2, d5 mention cats in English; the filter must not cut the list short.
        expect(r.body.hits.map((h: { _id: string }) => h._id).sort()).toEqual(['d1', 'd5']);
      });

      it('paginates with offset', async () => {
        const all = (await s.req('POST', '/v1/collections/pets/search', { query: 'cats', k: 4 })).body.hits.map(
          (h: { _id: string }) => h._id,
        );
        const p2 = (await s.req('POST', '/v1/collections/pets/search', { query: 'cats', k: 2, offset: 2 })).body.hits.map(
          (h: { _id: string }) => h._id,
        );
        expect(p2).toEqual(all.slice(2, 4));
      });

      it('searches with a sparse vector of vocabulary terms', async () => {
        const r = await s.req('POST', '/v1/collections/pets/search', { vector: { calico: 1, unknownterm: 3 }, k: 3 });
        expect(r.body.hits.map((h: { _id: string }) => h._id)).toEqual(['d5']);
      });
    });

    describe('documents', () => {
      it('gets, upserts, deletes by id and by filter', async () => {
        const g = await s.req('GET', '/v1/collections/pets/documents/d3');
        expect(g.body).toEqual({ _id: 'd3', fields: { title: 'Solar power', text: DOCS[2].text }, metadata: { year: 2021, lang: 'en' } });

        const put = await s.req('PUT', '/v1/collections/pets/documents/d6', {
          title: 'Wind power',
          text: 'Turbines turn wind into electricity.',
          metadata: { year: 2023 },
        });
        expect(put.status).toBe(201);
        expect(put.body.result).toBe('created');
        const upd = await s.req('PUT', '/v1/collections/pets/documents/d6', {
          title: 'Wind energy',
          text: 'Offshore turbines.',
          metadata: { year: 2024 },
        });
        expect(upd.body.result).toBe('updated');
        const hits = (await s.req('POST', '/v1/collections/pets/search', { query: 'turbines', k: 10 })).body.hits;
        expect(hits.map((h: { _id: string }) => h._id)).toEqual(['d6']);
        expect(
          (await s.req('POST', '/v1/collections/pets/search', { query: 'electricity', k: 10 })).body.hits.map(
            (h: { _id: string }) => h._id,
          ),
        ).toEqual(['d3']);

        expect((await s.req('DELETE', '/v1/collections/pets/documents/d6')).body).toEqual({ deleted: 1 });
        expect((await s.req('GET', '/v1/collections/pets/documents/d6')).status).toBe(404);
        expect((await s.req('POST', '/v1/collections/pets/search', { query: 'turbines' })).body.hits).toEqual([]);

        await s.req('PUT', '/v1/collections/pets/documents/x1', { title: 'Temp cats', metadata: { temp: true } });
        await s.req('PUT', '/v1/collections/pets/documents/x2', { title: 'Temp cats too', metadata: { temp: true } });
        expect((await s.req('POST', '/v1/collections/pets/documents/delete', { filter: { temp: true } })).body).toEqual({ deleted: 2 });
        expect((await s.req('POST', '/v1/collections/pets/documents/delete', { ids: ['nope'] })).body).toEqual({ deleted: 0 });
        expect((await s.req('GET', '/v1/collections/pets')).body.stats.documents).toBe(5);
      });

      it('an NDJSON line with an existing _id replaces the document', async () => {
        await s.req('POST', '/v1/collections', { name: 'upserts' });
        await s.ndjson('/v1/collections/upserts/documents?wait=true', ndjson([{ _id: 'a', text: 'alpha one' }]));
        await s.ndjson('/v1/collections/upserts/documents?wait=true', ndjson([{ _id: 'a', text: 'beta two' }]));
        const st = (await s.req('GET', '/v1/collections/upserts')).body.stats;
        expect(st.documents).toBe(1);
        expect((await s.req('POST', '/v1/collections/upserts/search', { query: 'alpha' })).body.hits).toEqual([]);
        expect(
          (await s.req('POST', '/v1/collections/upserts/search', { query: 'beta' })).body.hits.map((h: { _id: string }) => h._id),
        ).toEqual(['a']);
      });
    });

    describe('ingest jobs', () => {
      it('answers 202 with a job id and reports the job until committed', async () => {
        await s.req('POST', '/v1/collections', { name: 'jobs' });
        const lines = Array.from({ length: 300 }, (_, i) => JSON.stringify({ _id: `j${i}`, text: `document number ${i}` }));
        lines.splice(10, 0, '{not json');
        lines.splice(20, 0, JSON.stringify({ text: 'no id' }));
        const r = await s.ndjson('/v1/collections/jobs/documents', lines.join('\n'));
        expect(r.status).toBe(202);
        expect(['queued', 'running', 'committed']).toContain(r.body.state);
        let job = r.body;
        while (job.state !== 'committed' && job.state !== 'failed') job = (await s.req('GET', `/v1/jobs/${r.body.id}`)).body;
        expect(job.state).toBe('committed');
        expect(job.indexed).toBe(300);
        expect(job.rejected).toBe(2);
        expect(job.errors).toEqual([
          { line: 11, code: 'INVALID_JSON', message: expect.any(String) },
          { line: 21, code: 'MISSING_ID', message: expect.any(String), field: '_id' },
        ]);
        expect(job.docs_per_second).toBeGreaterThan(0);
        expect(job.eta_seconds).toBe(0);
        expect((await s.req('GET', '/v1/jobs')).body.jobs.some((j: { id: string }) => j.id === r.body.id)).toBe(true);
      });

      it('refuses a repeated _id within one job', async () => {
        await s.req('POST', '/v1/collections', { name: 'dups' });
        const r = await s.ndjson(
          '/v1/collections/dups/documents?wait=true',
          ndjson([
            { _id: 'x', text: 'first' },
            { _id: 'y', text: 'y' },
            { _id: 'x', text: 'second' },
          ]),
        );
        expect(r.body.indexed).toBe(2);
        expect(r.body.errors).toEqual([{ line: 3, code: 'DUPLICATE_ID', message: expect.any(String), field: '_id' }]);
        expect((await s.req('GET', '/v1/collections/dups/documents/x')).body.fields.text).toBe('first');
      });
    });

    describe('operations', () => {
      it('serves health, readiness, metrics and the OpenAPI document', async () => {
        expect((await s.req('GET', '/healthz')).body).toEqual({ status: 'ok' });
        expect((await s.req('GET', '/readyz')).body).toEqual({ status: 'ready' });
        const m = await s.req('GET', '/metrics');
        expect(m.body).toMatch(
          /lsr_http_request_duration_seconds_bucket\{method="POST",route="\/v1\/collections\/:name\/search",status="200",le="0.001"\}/,
        );
        expect(m.body).toMatch(/lsr_collection_documents\{collection="pets"\} \d+/);
        expect(m.body).toMatch(/lsr_ingest_documents_total\{collection="pets"\} \d+/);
        const o = await s.req('GET', '/openapi.json');
        expect(o.body.openapi).toMatch(/^3\./);
        expect(Object.keys(o.body.paths)).toEqual(
          expect.arrayContaining(['/v1/collections', '/v1/collections/{name}/search', '/v1/collections/{name}/documents', '/v1/jobs/{id}']),
        );
        expect(o.body.paths['/v1/collections/{name}/documents'].post.requestBody.content).toHaveProperty('application/x-ndjson');
        expect((await fetch(s.url + '/docs/')).status).toBe(200);
      });
    });
  });
}
