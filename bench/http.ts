// HTTP search vs in-process search on a BM25 collection (100K synthetic documents by default).
// The collection is built once into bench/out/http-data (reused while its parameters match); the
// same queries are searched in-process (search/search.ts on the data directory) and through
// `lsr serve` in a child process loaded by autocannon at saturation. Goal: HTTP costs no more than
// 20% of in-process QPS (the better of one search in flight and the route's async path at the same
// concurrency). Autocannon shares the machine's cores with the server, which counts against HTTP. `--json` prints one line: {qps, p50_ms, p99_ms, errors, inproc_qps, ...}.
// `--approx` measures the approximate mode instead: the collection's BM25 retriever is built with
// compact storage and pruned lists (`approx.postings` = docs / 400, the engine bench's λ per document)
// and every search asks for `mode: "approx"` (its default query_cut and rerank).
//
//   tsx bench/http.ts [--docs 100000] [--queries 1000] [--duration 15] [--connections 16] [--approx] [--json]
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { CollectionRegistry } from '../src/collections/registry.js';
import { IngestJob } from '../src/collections/ingest-job.js';
import { runIngest } from '../src/collections/ingest.js';
import { searchAsync } from '../src/search/search.js';
import { zipf } from './lib/fake-words.js';
import { Prng } from './lib/prng.js';
import { table } from './lib/table.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const DOCS = opt('docs', 100_000);
const QUERIES = opt('queries', 1000);
const DURATION = opt('duration', 15);
const CONNECTIONS = opt('connections', 16);
const JSON_OUT = args.includes('--json');
const APPROX = args.includes('--approx');
const root = fileURLToPath(new URL('..', import.meta.url));
const dataDir = join(root, 'bench', 'out', APPROX ? 'http-data-approx' : 'http-data');
/** The BM25 retriever's config and what each search adds. */
const BM25 = APPROX ? { storage: { impacts: 'u8', weights: 'f16' }, approx: { postings: Math.max(1, Math.round(DOCS / 400)) } } : undefined;
const MODE = APPROX ? { mode: 'approx' as const } : {};
const log = (s: string) => !JSON_OUT && process.stderr.write(s + '\n');
const quiet = { info() {}, warn: console.warn, error: console.error };

async function* corpus(): AsyncGenerator<Buffer> {
  const r = new Prng(7);
  let chunk: string[] = [];
  for (let i = 0; i < DOCS; i++) {
    const len = 20 + r.int(80);
    const text = Array.from({ length: len }, () => zipf(r)).join(' ');
    chunk.push(JSON.stringify({ _id: `doc${i}`, title: `${zipf(r)} ${zipf(r)}`, text, metadata: { bucket: i % 10 } }));
    if (chunk.length === 1000) {
      yield Buffer.from(chunk.join('\n') + '\n');
      chunk = [];
    }
  }
  if (chunk.length) yield Buffer.from(chunk.join('\n') + '\n');
}

function queries(): string[] {
  const r = new Prng(11);
  return Array.from({ length: QUERIES }, () => Array.from({ length: 2 + r.int(4) }, () => zipf(r)).join(' '));
}

/** Builds the collection unless a matching one exists; returns its ingest rate (docs/s), or null when it was reused. */
async function ensureCollection(): Promise<number | null> {
  const stamp = join(dataDir, 'bench.json');
  const want = JSON.stringify({ docs: DOCS, v: 1, bm25: BM25 });
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return null;
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const reg = await CollectionRegistry.open(dataDir, quiet);
  const c = await reg.create(BM25 ? { name: 'bench', retrievers: { bm25: BM25 } } : { name: 'bench' });
  const job = new IngestJob('bench', null);
  const t = performance.now();
  await runIngest(c, Readable.from(corpus()), job, { batchSize: 5000, maxDocumentBytes: 1 << 20 });
  const seconds = (performance.now() - t) / 1000;
  log(`indexed ${job.indexed} docs in ${seconds.toFixed(1)} s`);
  await reg.close();
  writeFileSync(stamp, want);
  return job.indexed / seconds;
}

async function inProcess(qs: string[]): Promise<{ qps: number; asyncQps: number; p50: number; p99: number }> {
  const reg = await CollectionRegistry.open(dataDir, quiet);
  const c = reg.get('bench');
  for (const q of qs.slice(0, 100)) await searchAsync(c, { query: q, k: 10, ...MODE });
  const lat: number[] = [];
  const end = performance.now() + DURATION * 1000;
  let i = 0;
  const t0 = performance.now();
  // One search in flight: each one's latency on the route's path (scoring on a native thread).
  while (performance.now() < end) {
    const t = performance.now();
    await searchAsync(c, { query: qs[i++ % qs.length], k: 10, ...MODE });
    lat.push(performance.now() - t);
  }
  const secs = (performance.now() - t0) / 1000;
  // The same async path the HTTP route takes (native scoring off the main thread), with as many
  // searches in flight as autocannon has connections: the fair in-process bound for the server.
  let done = 0;
  const endAsync = performance.now() + DURATION * 1000;
  const t1 = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < endAsync) {
        await searchAsync(c, { query: qs[i++ % qs.length], k: 10, ...MODE });
        done++;
      }
    }),
  );
  const asyncQps = done / ((performance.now() - t1) / 1000);
  await reg.close();
  lat.sort((a, b) => a - b);
  return { qps: lat.length / secs, asyncQps, p50: lat[Math.floor(lat.length * 0.5)], p99: lat[Math.floor(lat.length * 0.99)] };
}

async function overHttp(qs: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/lsr.ts'), 'serve', '--port', '0', '--data-dir', dataDir], {
    env: { ...process.env, LSR_LOG_LEVEL: 'info', LSR_API_KEYS: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /"url":"(http:\/\/[^"]+)"[^\n]*"msg":"lsr serving"/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)));
  });
  try {
    let i = 0;
    const run = (duration: number) =>
      autocannon({
        url: `${url}/v1/collections/bench/search`,
        connections: CONNECTIONS,
        duration,
        requests: [
          {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            setupRequest: (req) => ({ ...req, body: JSON.stringify({ query: qs[i++ % qs.length], k: 10, ...MODE }) }),
          },
        ],
      });
    await run(2); // warm-up: JIT and page cache
    return await run(DURATION);
  } finally {
    child.kill('SIGTERM');
  }
}

const ingestRate = await ensureCollection();
const qs = queries();
const inproc = await inProcess(qs);
log(`in-process: ${inproc.qps.toFixed(0)} q/s sync, ${inproc.asyncQps.toFixed(0)} q/s async`);
const r = await overHttp(qs);
const result = {
  qps: Math.round(r.requests.average),
  p50_ms: r.latency.p50,
  p99_ms: r.latency.p99,
  errors: r.errors + r.non2xx + r.timeouts,
  inproc_qps: Math.round(Math.max(inproc.qps, inproc.asyncQps)),
  inproc_serial_qps: Math.round(inproc.qps),
  inproc_async_qps: Math.round(inproc.asyncQps),
  inproc_p50_ms: Number(inproc.p50.toFixed(3)),
  // Against the better of the two in-process numbers, so HTTP is not flattered by threading.
  http_overhead: Number((1 - r.requests.average / Math.max(inproc.qps, inproc.asyncQps)).toFixed(3)),
  docs: DOCS,
  mode: APPROX ? 'approx' : 'exact',
  bm25: BM25 ?? null,
  // NDJSON ingest through the collection's write path (runIngest, batches of 5000), docs/s; null when
  // an existing collection was reused (delete bench/out/http-data to measure it).
  ingest_docs_per_s: ingestRate === null ? null : Math.round(ingestRate),
  connections: CONNECTIONS,
  duration_s: DURATION,
};
if (JSON_OUT) console.log(JSON.stringify(result));
else {
  console.log(
    table(
      `HTTP vs in-process BM25 search (${APPROX ? 'approx, compact storage' : 'exact'}), ${DOCS} docs, k=10`,
      ['path', 'q/s', 'p50 ms', 'p99 ms', 'errors'],
      [
        ['in-process, one search in flight', result.inproc_serial_qps, inproc.p50, inproc.p99, 0],
        [`in-process, native threads (${CONNECTIONS} in flight)`, result.inproc_async_qps, null, null, 0],
        [`HTTP (${CONNECTIONS} connections)`, result.qps, result.p50_ms, result.p99_ms, result.errors],
      ],
    ),
  );
  console.log(`HTTP overhead at saturation: ${(result.http_overhead * 100).toFixed(1)}% (goal <= 20%)`);
}
