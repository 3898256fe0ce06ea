// Quick BM25 relevance check on SciFact, in-process through the service's own collection and search
// code: indexes ../shared/data/scifact into a temporary data directory and prints nDCG@10 and
// Recall@100 (trec_eval conventions: linear gain, queries without judgments skipped).
// Reference (Anserini BM25 flat, k1=0.9 b=0.4): nDCG@10 0.6789, Recall@100 0.9253.
// The full harness is `lsr eval`; this is the service's own sanity check.
import { mkdtempSync, readFileSync, rmSync, createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CollectionRegistry } from '../src/collections/registry.js';
import { IngestJob } from '../src/collections/ingest-job.js';
import { runIngest } from '../src/collections/ingest.js';
import { searchAsync } from '../src/search/search.js';

const dir = process.argv.find((a) => a.startsWith('--data='))?.slice(7) ?? join(import.meta.dirname, '../../shared/data/scifact');
const json = process.argv.includes('--json');
const quiet = { info() {}, warn: console.warn, error: console.error };

const qrels = new Map<string, Map<string, number>>();
for (const line of readFileSync(join(dir, 'qrels/test.tsv'), 'utf8').split('\n').slice(1)) {
  const [q, d, s] = line.trim().split('\t');
  if (!q || !d) continue;
  if (!qrels.has(q)) qrels.set(q, new Map());
  qrels.get(q)!.set(d, Number(s));
}
const queries = readFileSync(join(dir, 'queries.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as { _id: string; text: string });

const data = mkdtempSync(join(tmpdir(), 'lsr-scifact-'));
const registry = await CollectionRegistry.open(data, quiet);
try {
  const c = await registry.create({ name: 'scifact' });
  const job = new IngestJob('scifact', null);
  const t0 = performance.now();
  await runIngest(c, createReadStream(join(dir, 'corpus.jsonl')), job, { batchSize: 2000, maxDocumentBytes: 1 << 20 });
  const indexSecs = (performance.now() - t0) / 1000;
  if (job.state !== 'committed' || job.rejected) throw new Error(`ingest ended ${job.state} with ${job.rejected} rejected lines`);

  let ndcg = 0,
    recall = 0,
    n = 0;
  const t1 = performance.now();
  for (const q of queries) {
    const rel = qrels.get(q._id);
    if (!rel) continue;
    const hits = (await searchAsync(c, { query: q.text, k: 100 })).hits;
    let dcg = 0;
    hits.slice(0, 10).forEach((h, i) => (dcg += (rel.get(h._id) ?? 0) / Math.log2(i + 2)));
    const ideal = [...rel.values()]
      .filter((g) => g > 0)
      .sort((a, b) => b - a)
      .slice(0, 10);
    const idcg = ideal.reduce((s, g, i) => s + g / Math.log2(i + 2), 0);
    ndcg += idcg > 0 ? dcg / idcg : 0;
    const relevant = [...rel.entries()].filter(([, g]) => g > 0).map(([d]) => d);
    const found = hits.filter((h) => (rel.get(h._id) ?? 0) > 0).length;
    recall += relevant.length ? found / relevant.length : 0;
    n++;
  }
  const searchSecs = (performance.now() - t1) / 1000;
  const out = {
    docs: job.indexed,
    queries: n,
    ndcg_cut_10: ndcg / n,
    recall_100: recall / n,
    index_seconds: indexSecs,
    qps: n / searchSecs,
  };
  if (json) console.log(JSON.stringify(out));
  else
    console.log(
      `SciFact BM25: ${out.docs} docs indexed in ${indexSecs.toFixed(1)} s, ${n} queries at ${out.qps.toFixed(0)} q/s\n` +
        `  nDCG@10 ${out.ndcg_cut_10.toFixed(4)} (Anserini 0.6789)   Recall@100 ${out.recall_100.toFixed(4)} (Anserini 0.9253)`,
    );
} finally {
  await registry.close();
  rmSync(data, { recursive: true, force: true });
}
