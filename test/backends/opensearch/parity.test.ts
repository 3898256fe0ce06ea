// The OpenSearch backend against the embedded one on the same documents, in one server that holds a
// collection of each: BM25 (Lucene's, with global statistics) ranks and scores as the embedded engine;
// SPLADE and inference-free through rank_features within their 9-bit weights; dense exactly; a hybrid
// fuses the backend's own lists exactly as search/ fuses an embedded collection's; explain sums to the
// score; what the backend cannot do is refused with its code. Then the cases without a cluster: none
// configured, and one that does not answer.
import { type AddressInfo, createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TINY_DENSE } from '../../encoder/dense/dense-reference.js';
import { TINY_MODEL } from '../../encoder/fixture.js';
import { backendEnv, cluster, dropIndices, NO_OPENSEARCH, OPENSEARCH_URL, testPrefix } from '../../helpers/opensearch.js';
import { startChildServer } from '../../helpers/child-server.js';
import { expectSameRanking } from '../../helpers/ranking.js';
import { ndjson, removeDir, startTestServer, tempDir, type TestServer } from '../../helpers/server.js';
import { skipBecause } from '../../helpers/skip-log.js';
import { DOCS } from '../../helpers/topic-docs.js';

interface Hit {
  _id: string;
  score: number;
  explain?: { terms: { term: string; query_weight: number; document_weight: number; contribution: number }[] };
}

const RETRIEVERS = {
  splade: { model: `dir:${TINY_MODEL}` },
  inference_free: { model: `dir:${TINY_MODEL}`, idf: 'collection' },
  dense: { model: `dir:${TINY_DENSE}` },
};
// More text than the topic sentences, so BM25 sees different lengths and term frequencies.
const MORE = Array.from({ length: 16 }, (_, i) => ({
  _id: `m${i}`,
  title: `cats ${'and dogs '.repeat(i % 4)}`,
  text: `${'heart '.repeat((i % 3) + 1)}blood pressure in mice ${i} ${'solar energy '.repeat(i % 5)}`,
  metadata: { year: 2000 + (i % 4), kind: i % 2 ? 'odd' : 'even' },
}));
const ALL = [...DOCS, ...MORE];
const QUERIES = ['cats', 'heart disease and blood pressure', 'solar energy in mice', 'dogs bark', 'birds'];

/** A loopback port that was free a moment ago (a server took it and closed). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const skip = skipBecause(
  import.meta.url,
  'embedded and OpenSearch collections of the same documents',
  OPENSEARCH_URL ? null : NO_OPENSEARCH,
);

describe.skipIf(skip !== null)('embedded and OpenSearch collections of the same documents', () => {
  let s: TestServer;
  const prefix = testPrefix();
  const search = (c: string, body: Record<string, unknown>) => s.req('POST', `/v1/collections/${c}/search`, body);
  const hits = async (c: string, body: Record<string, unknown>): Promise<Hit[]> => {
    const r = await search(c, body);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.hits;
  };

  beforeAll(async () => {
    s = await startTestServer(backendEnv('opensearch', prefix));
    for (const [name, backend] of [
      ['emb', { kind: 'embedded' }],
      ['os', { kind: 'opensearch', shards: 2, replicas: 1 }],
    ] as const) {
      const c = await s.req('POST', '/v1/collections', { name, backend, retrievers: RETRIEVERS });
      expect(c.status, JSON.stringify(c.body)).toBe(201);
      expect(c.body.backend.kind).toBe(backend.kind);
      const r = await s.ndjson(`/v1/collections/${name}/documents?wait=true`, ndjson(ALL));
      expect(r.body.indexed, JSON.stringify(r.body)).toBe(ALL.length);
    }
  }, 120_000);

  afterAll(async () => {
    await s?.close();
    if (s) removeDir(s.dataDir);
    await dropIndices(prefix);
  });

  it('keeps the documents in an index with the collection mapping, two shards, one replica', async () => {
    // The collection's index name is an alias of one concrete index.
    const settings = await cluster('GET', `/${prefix}-os/_settings`);
    expect(Object.keys(settings.body)).toEqual([`${prefix}-os-v1`]);
    const index = settings.body[`${prefix}-os-v1`].settings.index;
    expect(index.number_of_shards).toBe('2');
    expect(index.number_of_replicas).toBe('1');
    expect(index.translog.durability).toBe('request');
    const st = (await s.req('GET', '/v1/collections/os')).body.stats;
    expect(st.documents).toBe(ALL.length);
    expect(st.bytes_on_disk).toBeGreaterThan(0);
    expect(st.avgdl).toBeCloseTo((await s.req('GET', '/v1/collections/emb')).body.stats.avgdl, 6);
  });

  it('BM25 by Lucene with global statistics ranks and scores as the embedded engine', async () => {
    for (const query of QUERIES) {
      const a = await hits('emb', { query, k: 20 });
      const b = await hits('os', { query, k: 20 });
      expectSameRanking(a, b, 1e-5);
    }
  });

  it('BM25 explain comes from Lucene and sums to the score, term by term as embedded', async () => {
    const a = await hits('emb', { query: 'heart blood pressure mice', k: 5, explain: true });
    const b = await hits('os', { query: 'heart blood pressure mice', k: 5, explain: true });
    for (let i = 0; i < b.length; i++) {
      const terms = b[i].explain!.terms;
      expect(terms.reduce((x, t) => x + t.contribution, 0)).toBeCloseTo(b[i].score, 4);
      for (const t of terms) expect(t.contribution).toBeCloseTo(t.query_weight * t.document_weight, 4);
      const same = a.find((h) => h._id === b[i]._id)!;
      const byTerm = new Map(same.explain!.terms.map((t) => [t.term, t]));
      for (const t of terms) {
        expect(t.query_weight).toBeCloseTo(byTerm.get(t.term)!.query_weight, 4);
        expect(t.document_weight).toBeCloseTo(byTerm.get(t.term)!.document_weight, 4);
      }
    }
  });

  it('SPLADE and inference-free through rank_features: the same ranking within 9-bit weights', async () => {
    for (const retriever of ['splade', 'inference_free'])
      for (const query of QUERIES) {
        const a = await hits('emb', { query, k: 10, retriever });
        const b = await hits('os', { query, k: 10, retriever });
        // Stored weights lose at most 2^-8 of their value (truncated), so a score loses at most that.
        expectSameRanking(a, b, 2 ** -8);
      }
  });

  it('inference-free query weights use document frequencies counted in the cluster', async () => {
    const a = await hits('emb', { query: 'blood pressure', k: 3, retriever: 'inference_free', explain: true });
    const b = await hits('os', { query: 'blood pressure', k: 3, retriever: 'inference_free', explain: true });
    const qa = new Map(a[0].explain!.terms.map((t) => [t.term, t.query_weight]));
    for (const t of b[0].explain!.terms) expect(t.query_weight).toBeCloseTo(qa.get(t.term)!, 5);
    for (const h of b) expect(h.explain!.terms.reduce((x, t) => x + t.contribution, 0)).toBeCloseTo(h.score, 4);
  });

  it('RM3 feedback on BM25: the same expansion terms and ranking (document frequencies counted in the cluster)', async () => {
    for (const query of ['heart disease', 'cats and dogs', 'solar energy']) {
      const body = { query, k: 10, prf: {}, explain: true };
      const a = await search('emb', body);
      const b = await search('os', body);
      expect(b.status, JSON.stringify(b.body)).toBe(200);
      type Prf = { feedback: string[]; terms: { term: string; weight: number }[] }[];
      const [pa, pb] = [a.body.prf as Prf, b.body.prf as Prf];
      expect(pb[0].feedback).toEqual(pa[0].feedback);
      expect(pb[0].terms.map((t) => t.term)).toEqual(pa[0].terms.map((t) => t.term));
      // Weights carry the feedback documents' scores: Lucene's and ours agree to float rounding.
      pb[0].terms.forEach((t, i) => expect(t.weight).toBeCloseTo(pa[0].terms[i].weight, 6));
      expectSameRanking(a.body.hits, b.body.hits, 1e-4);
    }
  });

  it('dense: the exact top-k and its scores', async () => {
    for (const query of QUERIES) {
      const a = await hits('emb', { query, k: 10, retriever: 'dense' });
      const b = await hits('os', { query, k: 10, retriever: 'dense' });
      expectSameRanking(a, b, 1e-5);
    }
  });

  it('dense HNSW (lucene engine): approximate top-k with ef and a filter, exact scores, most of the exact top 10', async () => {
    const c = await s.req('POST', '/v1/collections', {
      name: 'os-hnsw',
      backend: { kind: 'opensearch', shards: 2, replicas: 0 },
      retrievers: { dense: { model: `dir:${TINY_DENSE}`, approx: true } },
    });
    expect(c.status, JSON.stringify(c.body)).toBe(201);
    expect((await s.ndjson('/v1/collections/os-hnsw/documents?wait=true', ndjson(ALL))).body.indexed).toBe(ALL.length);
    try {
      let found = 0;
      for (const query of QUERIES) {
        const exact = await hits('emb', { query, k: 10, retriever: 'dense' });
        const all = new Map((await hits('emb', { query, k: ALL.length, retriever: 'dense' })).map((h) => [h._id, h.score]));
        const approx = await hits('os-hnsw', { query, k: 10, retriever: 'dense', mode: 'approx', approx: { ef: 64 } });
        // Whatever the graph walk returns is scored exactly: the raw inner product, the transform undone.
        expect(approx.length).toBe(10);
        for (const h of approx) expect(h.score).toBeCloseTo(all.get(h._id)!, 5);
        found += approx.filter((h) => exact.some((e) => e._id === h._id)).length;
        const filter = { kind: 'odd' };
        const fa = await hits('os-hnsw', { query, k: 5, retriever: 'dense', mode: 'approx', approx: { ef: 64 }, filter });
        expect(fa.length).toBe(5);
        for (const h of fa) expect((ALL.find((d) => d._id === h._id)!.metadata as { kind?: string }).kind).toBe('odd');
      }
      // HNSW is approximate even here (Lucene walks each segment's graph); it must find most of the top 10.
      expect(found / (10 * QUERIES.length)).toBeGreaterThanOrEqual(0.8);
    } finally {
      expect((await s.req('DELETE', '/v1/collections/os-hnsw')).status).toBe(200);
    }
  });

  it('filters select the same documents on both, and a filtered top-k still returns k', async () => {
    for (const filter of [
      { year: { gte: 2001, lt: 2003 } },
      { kind: 'odd' },
      { year: { in: [2000, 2003] }, kind: 'even' },
      { kind: 'none' },
    ]) {
      for (const retriever of ['bm25', 'splade', 'dense']) {
        const a = await hits('emb', { query: 'cats heart solar', k: 8, retriever, filter });
        const b = await hits('os', { query: 'cats heart solar', k: 8, retriever, filter });
        expect(b.map((h) => h._id).sort(), `${retriever} ${JSON.stringify(filter)}`).toEqual(a.map((h) => h._id).sort());
      }
    }
  });

  it('a hybrid fuses the backend lists exactly as an embedded collection does', async () => {
    const body = {
      query: 'heart disease in mice',
      k: 10,
      retrievers: [
        { name: 'bm25', window: 20 },
        { name: 'dense', window: 20 },
      ],
    };
    // BM25 and exact dense lists agree across backends, so their fusions must too, rank for rank.
    for (const fusion of [{ method: 'rrf' }, { method: 'convex', normalization: 'z_score' }]) {
      const a = await hits('emb', { ...body, fusion });
      const b = await hits('os', { ...body, fusion });
      expect(b.map((h) => h._id)).toEqual(a.map((h) => h._id));
      for (let i = 0; i < a.length; i++) expect(b[i].score).toBeCloseTo(a[i].score, 4);
    }
  });

  it('a default fusion is kept in the cluster and fuses a hybrid without `fusion` as on embedded', async () => {
    const fusion = { method: 'convex', normalization: 'z_score', weights: { bm25: 0.3, dense: 0.7 } };
    const body = {
      query: 'heart disease in mice',
      k: 10,
      retrievers: [
        { name: 'bm25', window: 20 },
        { name: 'dense', window: 20 },
      ],
    };
    try {
      for (const c of ['emb', 'os']) {
        const put = await s.req('PUT', `/v1/collections/${c}/default-fusion`, fusion);
        expect(put.status, JSON.stringify(put.body)).toBe(200);
        expect((await s.req('GET', `/v1/collections/${c}/default-fusion`)).body.fusion).toEqual(fusion);
      }
      const explicit = await hits('emb', { ...body, fusion });
      const a = await hits('emb', body);
      const b = await hits('os', body);
      expect(a).toEqual(explicit);
      expect(b.map((h) => h._id)).toEqual(a.map((h) => h._id));
      const doc = await cluster('GET', `/${prefix}.collections/_doc/os`);
      expect(JSON.parse(doc.body._source.default_fusion)).toEqual(fusion);
    } finally {
      for (const c of ['emb', 'os']) expect((await s.req('DELETE', `/v1/collections/${c}/default-fusion`)).status).toBe(200);
    }
    expect((await s.req('GET', '/v1/collections/os/default-fusion')).body.fusion).toBeNull();
  });

  it('documents: get, replace, delete by id and by filter, duplicate ids in a job', async () => {
    const g = await s.req('GET', '/v1/collections/os/documents/m3');
    expect(g.body).toEqual((await s.req('GET', '/v1/collections/emb/documents/m3')).body);
    for (const c of ['emb', 'os']) {
      expect((await s.req('PUT', `/v1/collections/${c}/documents/new1`, { title: 'zebra stripes', metadata: { tmp: true } })).status).toBe(
        201,
      );
      expect(
        (await s.req('PUT', `/v1/collections/${c}/documents/new1`, { title: 'zebra crossing', metadata: { tmp: true } })).body.result,
      ).toBe('updated');
      expect((await hits(c, { query: 'stripes' })).length).toBe(0);
      expect((await hits(c, { query: 'zebra crossing', k: 1 }))[0]._id).toBe('new1');
      expect((await s.req('POST', `/v1/collections/${c}/documents/delete`, { filter: { tmp: true } })).body).toEqual({ deleted: 1 });
      const r = await s.ndjson(
        `/v1/collections/${c}/documents?wait=true`,
        ndjson([
          { _id: 'x', text: 'first' },
          { _id: 'x', text: 'second' },
        ]),
      );
      expect(r.body.errors).toEqual([{ line: 2, code: 'DUPLICATE_ID', message: expect.any(String), field: '_id' }]);
      expect((await s.req('DELETE', `/v1/collections/${c}/documents/x`)).body).toEqual({ deleted: 1 });
      expect((await s.req('GET', `/v1/collections/${c}/documents/x`)).status).toBe(404);
    }
  });

  it('an _id OpenSearch cannot hold is a line error naming the field, not a failed job', async () => {
    const long = 'é'.repeat(300); // 300 characters (allowed), 600 bytes of UTF-8 (over OpenSearch's 512)
    const r = await s.ndjson(
      '/v1/collections/os/documents?wait=true',
      ndjson([
        { _id: long, text: 'x' },
        { _id: 'ok1', text: 'y' },
      ]),
    );
    expect(r.body.indexed).toBe(1);
    expect(r.body.errors).toEqual([{ line: 1, code: 'VALIDATION_FAILED', message: expect.stringContaining('512'), field: '_id' }]);
    await s.req('DELETE', '/v1/collections/os/documents/ok1');
  });

  it('a batch the backend fails is reported line by line: indexed + rejected account for every line read', async () => {
    expect((await s.req('POST', '/v1/collections', { name: 'gone', retrievers: {} })).status).toBe(201);
    // The index deleted behind the service: every write now fails (none may re-create it unmapped).
    expect((await cluster('DELETE', `/${prefix}-gone-v1`)).status).toBe(200);
    const r = await s.ndjson(
      '/v1/collections/gone/documents?wait=true',
      ndjson([
        { _id: 'a', text: 'one' },
        { _id: 'b', text: 'two' },
      ]),
    );
    expect(r.body.state).toBe('failed');
    expect(r.body.error.code).toBe('COLLECTION_NOT_FOUND');
    expect(r.body.indexed).toBe(0);
    expect(r.body.rejected).toBe(2);
    expect(r.body.errors).toEqual([
      { line: 1, code: 'COLLECTION_NOT_FOUND', message: expect.stringContaining('not written') },
      { line: 2, code: 'COLLECTION_NOT_FOUND', message: expect.stringContaining('not written') },
    ]);
    expect((await cluster('GET', `/${prefix}-gone`)).status).toBe(404);
    expect((await s.req('DELETE', '/v1/collections/gone')).status).toBe(200);
  });

  it('refuses what the backend does not have, naming the field', async () => {
    const approx = await s.req('POST', '/v1/collections', { name: 'os-approx', retrievers: { bm25: { approx: { postings: 100 } } } });
    expect(approx.status).toBe(400);
    expect(approx.body).toMatchObject({ code: 'UNSUPPORTED_BY_BACKEND', field: 'retrievers.bm25.approx' });
    const i8 = await s.req('POST', '/v1/collections', {
      name: 'os-i8',
      retrievers: { dense: { model: `dir:${TINY_DENSE}`, storage: 'i8' } },
    });
    expect(i8.body).toMatchObject({ code: 'UNSUPPORTED_BY_BACKEND', field: 'retrievers.dense.storage' });
    const compact = await s.req('POST', '/v1/collections', { name: 'os-compact', retrievers: { bm25: { storage: { impacts: 'u8' } } } });
    expect(compact.body).toMatchObject({ code: 'UNSUPPORTED_BY_BACKEND', field: 'retrievers.bm25.storage' });
    const url = await s.req('POST', '/v1/collections', { name: 'os-url', backend: { kind: 'opensearch', url: 'http://169.254.169.254' } });
    expect(url.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'backend.url' });
    const mode = await search('os', { query: 'cats', mode: 'approx' });
    expect(mode.status).toBe(400);
    // Nothing of the refused collections was left in the cluster.
    expect((await cluster('GET', `/${prefix}-os-approx`)).status).toBe(404);
    expect((await s.req('GET', '/v1/collections')).body.collections.map((c: { name: string }) => c.name)).toEqual(['emb', 'os']);
  });

  it('a second service process (lsr serve, another port) on the same cluster serves the same collections and jobs', async () => {
    const dir = tempDir();
    const other = await startChildServer(dir, backendEnv('opensearch', prefix));
    const req = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(other.url + path, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: r.status, body: (await r.json()) as any };
    };
    try {
      // The same answers from both processes.
      for (const query of QUERIES) {
        const a = await hits('os', { query, k: 5 });
        expect((await req('POST', '/v1/collections/os/search', { query, k: 5 })).body.hits).toEqual(a);
      }
      // A collection made through the other process is found here by name at once; a job run there is readable here.
      expect((await req('POST', '/v1/collections', { name: 'made-elsewhere' })).status).toBe(201);
      const ingest = await fetch(`${other.url}/v1/collections/made-elsewhere/documents?wait=true`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-ndjson' },
        body: ndjson([
          { _id: 'a', text: 'remote words' },
          { _id: 'a', text: 'twice' },
        ]),
      });
      const job = (await ingest.json()) as { id: string; indexed: number };
      expect(job.indexed).toBe(1);
      const seen = await s.req('GET', `/v1/jobs/${job.id}`);
      expect(seen.status).toBe(200);
      expect(seen.body).toMatchObject({ id: job.id, collection: 'made-elsewhere', state: 'committed', indexed: 1, rejected: 1 });
      expect((await s.req('GET', '/v1/jobs')).body.jobs.map((j: { id: string }) => j.id)).toContain(job.id);
      expect((await hits('made-elsewhere', { query: 'remote' })).map((h) => h._id)).toEqual(['a']);
      expect((await s.req('POST', '/v1/collections', { name: 'made-elsewhere' })).body.code).toBe('COLLECTION_EXISTS');
      expect((await req('DELETE', '/v1/collections/made-elsewhere')).status).toBe(200);
      expect((await s.req('GET', '/v1/collections')).body.collections.map((c: { name: string }) => c.name)).toEqual(['emb', 'os']);
      expect((await search('made-elsewhere', { query: 'remote' })).body.code).toBe('COLLECTION_NOT_FOUND');
    } finally {
      other.child.kill('SIGTERM');
      await other.exited;
      removeDir(dir);
    }
  });
});

describe.skipIf(skip !== null)('several node URLs', () => {
  it('a node that refuses connections is passed over for the next one', async () => {
    const prefix = testPrefix();
    // A port nothing listens on first: every request's connection is refused there and moves on.
    const dead = await closedPort();
    const s = await startTestServer({
      ...backendEnv('opensearch', prefix),
      LSR_OPENSEARCH_URL: `http://127.0.0.1:${dead},${OPENSEARCH_URL}`,
    });
    try {
      expect((await s.req('POST', '/v1/collections', { name: 'failover' })).status).toBe(201);
      await s.ndjson('/v1/collections/failover/documents?wait=true', ndjson([{ _id: 'a', text: 'reached through the second url' }]));
      const r = await s.req('POST', '/v1/collections/failover/search', { query: 'second url' });
      expect(r.body.hits.map((h: Hit) => h._id)).toEqual(['a']);
      expect((await s.req('GET', '/v1/collections/failover')).body.backend.kind).toBe('opensearch');
    } finally {
      await s.close();
      removeDir(s.dataDir);
      await dropIndices(prefix);
    }
  });
});

describe('without a usable cluster', () => {
  it('a server with none configured refuses an OpenSearch collection with BACKEND_NOT_CONFIGURED', async () => {
    const s = await startTestServer();
    try {
      const r = await s.req('POST', '/v1/collections', { name: 'x', backend: { kind: 'opensearch' } });
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ code: 'BACKEND_NOT_CONFIGURED', field: 'backend.kind' });
    } finally {
      await s.close();
      removeDir(s.dataDir);
    }
  });

  it('a cluster that does not answer: a clear 503 on its routes, embedded collections keep working', async () => {
    // A loopback port nothing listens on: connections are refused at once.
    const dead = await closedPort();
    const s = await startTestServer({ LSR_OPENSEARCH_URL: `http://127.0.0.1:${dead}`, LSR_OPENSEARCH_TIMEOUT_MS: '2000' });
    try {
      const os = await s.req('POST', '/v1/collections', { name: 'remote', backend: { kind: 'opensearch' } });
      expect(os.status).toBe(503);
      expect(os.body.code).toBe('BACKEND_UNAVAILABLE');
      expect(os.body.message).toContain(`127.0.0.1:${dead}`);
      expect(os.body.message).toContain('ECONNREFUSED');
      expect((await s.req('GET', '/v1/collections/remote')).status).toBe(503);
      expect((await s.req('POST', '/v1/collections', { name: 'local', backend: { kind: 'embedded' } })).status).toBe(201);
      await s.ndjson('/v1/collections/local/documents?wait=true', ndjson([{ _id: 'a', text: 'still here' }]));
      expect((await s.req('POST', '/v1/collections/local/search', { query: 'here' })).body.hits.map((h: Hit) => h._id)).toEqual(['a']);
    } finally {
      await s.close();
      removeDir(s.dataDir);
    }
  });
});
