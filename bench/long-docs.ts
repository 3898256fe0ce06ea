// A long-document collection made from a BEIR dataset, for measuring truncation against passages:
// its documents, shuffled with a seed, are concatenated `--group` at a time into one long
// multi-topic document (title and text of each, in order), and the judgments are mapped to them (a
// query's relevance to a long document is the highest of its parts'). Queries are unchanged.
//
//   tsx bench/long-docs.ts --dataset ../shared/data/scifact --out bench/out/long-scifact [--group 8] [--seed 7]
//
// Writes a BEIR folder (corpus.jsonl, queries.jsonl, qrels/test.tsv) and prints one JSON line with
// the sizes. A long document's relevant part sits anywhere in it, so a model that reads only the
// first window of a document (256 tokens here, about one abstract of eight) sees it 1 time in `group`.
//
// The MaxP arm: pooled passages (`passages.score: 'pooled'`, one vector per document) against the
// service's MaxP (`score: 'max'`: one index entry per passage, a document scored by its best), per
// model retriever, on that folder, with a by-hand MaxP as a cross-check of the service's:
//
//   tsx bench/long-docs.ts maxp --data bench/out/long-scifact --service-data bench/out/long-maxp-data \
//     --results bench/results/long-scifact [--overlap 32] [--depth 1000]
//
// It starts the service in-process (src/eval/local-service.ts) and builds three collections:
// `long-pass` (splade and dense with `passages: {overlap, score: 'pooled'}`), `long-maxp-svc` (the
// same with `score: 'max'`), and `long-maxp`, whose documents are the passages themselves
// (`<doc>#<i>`), cut by the service's own encoder workers (the pools' `cut`), so each fits the window
// and is encoded whole; a query takes its top `depth` passages there and a document keeps its best
// passage's score. The service's MaxP must agree with that by hand (the report gives the largest
// per-query nDCG@10 difference). nDCG@10, R@100 and MRR@10 by src/eval/metrics.ts, paired
// randomization and t-tests by src/eval/significance.ts. Writes maxp.json and maxp.md into
// --results and prints one JSON line per retriever.
import { copyFileSync, createReadStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { EncoderRegistry } from '../src/encoder/encoder-registry.js';
import { loadBeir, streamCorpus } from '../src/eval/beir.js';
import { startLocalService } from '../src/eval/local-service.js';
import { evaluate } from '../src/eval/metrics.js';
import { DEFAULT_DENSE_MODEL, DEFAULT_SPLADE_MODEL } from '../src/eval/presets.js';
import type { ServiceClient } from '../src/eval/service-client.js';
import { pairedTTest, randomizationTest } from '../src/eval/significance.js';
import type { BeirDocument, Run } from '../src/eval/types.js';
import type { PassageSettings } from '../src/text/passages.js';
import { Prng } from './lib/prng.js';

const args = process.argv.slice(2);
const opt = (name: string, def?: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};

/** The measures compared, trec_eval names and labels. */
const MEASURES = [
  ['ndcg_cut_10', 'nDCG@10'],
  ['recall_100', 'R@100'],
  ['recip_rank_10', 'MRR@10'],
] as const;

const MODELS = { splade: DEFAULT_SPLADE_MODEL, dense: DEFAULT_DENSE_MODEL } as const;
type Kind = keyof typeof MODELS;

/** Collection stats the arm reports (GET /v1/collections/:name). */
function stats(view: Record<string, unknown> | null): { documents: number; index_bytes: number; bytes_on_disk: number } {
  const s = (view?.stats ?? {}) as Record<string, number>;
  return { documents: s.documents, index_bytes: s.index_bytes, bytes_on_disk: s.bytes_on_disk };
}

/** Ingests `docs` into a new collection `name` with `retrievers`; returns the job report and the seconds it took. */
async function build(client: ServiceClient, name: string, retrievers: Record<string, unknown>, docs: BeirDocument[]) {
  if (await client.getCollection(name)) await client.deleteCollection(name);
  await client.createCollection({ name, fields: ['title', 'text'], retrievers });
  const t0 = performance.now();
  async function* each() {
    yield* docs;
  }
  const report = await client.ingest(name, each());
  const seconds = (performance.now() - t0) / 1000;
  return { report: (report.job ?? report) as Record<string, unknown>, seconds, stats: stats(await client.getCollection(name)) };
}

/** Runs every query on `name` with `retriever` at depth `k`; with `parent`, hits are passages and a document keeps its best one. */
async function runOf(
  client: ServiceClient,
  name: string,
  retriever: Kind,
  queries: { id: string; text: string }[],
  k: number,
  parent?: (id: string) => string,
) {
  const run: Run = new Map();
  let docsPerQuery = 0;
  for (const q of queries) {
    const scores = new Map<string, number>();
    for (const h of await client.search(name, q.text, k, retriever)) {
      const d = parent ? parent(h._id) : h._id;
      const had = scores.get(d);
      if (had === undefined || h.score > had) scores.set(d, h.score);
    }
    docsPerQuery += scores.size;
    run.set(q.id, scores);
  }
  return { run, docsPerQuery: docsPerQuery / queries.length };
}

async function maxpArm() {
  const data = opt('data');
  const serviceData = opt('service-data');
  const results = opt('results');
  const overlap = Number(opt('overlap', '32'));
  const depth = Number(opt('depth', '1000'));
  if (!data || !serviceData || !results)
    throw new Error(
      'usage: tsx bench/long-docs.ts maxp --data <long BEIR folder> --service-data <folder> --results <folder> [--overlap 32] [--depth 1000]',
    );
  const ds = await loadBeir(data);
  const docs: BeirDocument[] = [];
  for await (const d of streamCorpus(ds.corpusPath)) docs.push(d);
  const settings: PassageSettings = { overlap, score: 'pooled' };

  // The passages, cut by the encoder workers' own code with each model's tokenizer and window; the
  // text a model reads of a document is its fields joined by a space (collections/documents.ts).
  const encoders = new EncoderRegistry();
  const cuts: Record<Kind, BeirDocument[]> = { splade: [], dense: [] };
  try {
    const pools = { splade: await encoders.sparse(MODELS.splade), dense: await encoders.dense(MODELS.dense) };
    for (const kind of ['splade', 'dense'] as const)
      for (const d of docs) {
        const spans = await pools[kind].cut([d.title, d.text].join(' '), settings);
        spans.forEach((p, i) => {
          cuts[kind].push({ _id: `${d._id}#${i}`, title: '', text: p.text });
        });
      }
  } finally {
    await encoders.close();
  }
  // One MaxP collection holds both models' passages when they cut alike (same tokenizer and window).
  const same = JSON.stringify(cuts.splade) === JSON.stringify(cuts.dense);
  const service = await startLocalService(serviceData);
  const client = service.client;
  const model = (kind: Kind, passages?: PassageSettings) => ({ model: MODELS[kind], ...(passages ? { passages } : {}) });
  try {
    const pooled = await build(client, 'long-pass', { splade: model('splade', settings), dense: model('dense', settings) }, docs);
    const maxpSettings: PassageSettings = { overlap, score: 'max' };
    const svc = await build(client, 'long-maxp-svc', { splade: model('splade', maxpSettings), dense: model('dense', maxpSettings) }, docs);
    const maxp: Record<Kind, Awaited<ReturnType<typeof build>>> = same
      ? await build(client, 'long-maxp', { splade: model('splade'), dense: model('dense') }, cuts.splade).then((b) => ({
          splade: b,
          dense: b,
        }))
      : {
          splade: await build(client, 'long-maxp-splade', { splade: model('splade') }, cuts.splade),
          dense: await build(client, 'long-maxp-dense', { dense: model('dense') }, cuts.dense),
        };
    const maxpName = (kind: Kind) => (same ? 'long-maxp' : `long-maxp-${kind}`);
    const parent = (id: string) => id.slice(0, id.lastIndexOf('#'));
    const rows: Record<string, unknown>[] = [];
    for (const kind of ['splade', 'dense'] as const) {
      const a = await runOf(client, 'long-pass', kind, ds.queries, depth);
      const hand = await runOf(client, maxpName(kind), kind, ds.queries, depth, parent);
      // The service ranks documents by their best passage itself: 100 documents are all the measures read.
      const b = await runOf(client, 'long-maxp-svc', kind, ds.queries, 100);
      const names = MEASURES.map((m) => m[0]);
      const ea = evaluate(ds.qrels, a.run, names);
      const eb = evaluate(ds.qrels, b.run, names);
      const eh = evaluate(ds.qrels, hand.run, names);
      const qids = [...ea.perQuery.keys()];
      const handCheck = Object.fromEntries(
        MEASURES.map(([m]) => [
          m,
          {
            by_hand: eh.mean[m],
            service: eb.mean[m],
            max_abs_difference_per_query: Math.max(...qids.map((q) => Math.abs(eb.perQuery.get(q)![m] - eh.perQuery.get(q)![m]))),
          },
        ]),
      );
      const tests = Object.fromEntries(
        MEASURES.map(([m]) => {
          const va = qids.map((q) => ea.perQuery.get(q)![m]);
          const vb = qids.map((q) => eb.perQuery.get(q)![m]);
          const r = randomizationTest(va, vb);
          const t = pairedTTest(va, vb);
          const wins = qids.filter((_, i) => vb[i] > va[i]).length;
          const losses = qids.filter((_, i) => vb[i] < va[i]).length;
          return [
            m,
            {
              pooled: ea.mean[m],
              maxp: eb.mean[m],
              delta: eb.mean[m] - ea.mean[m],
              p_randomization: r.pValue,
              p_t: t.pValue,
              maxp_wins: wins,
              maxp_losses: losses,
            },
          ];
        }),
      );
      const entries = cuts[kind].length;
      rows.push({
        retriever: kind,
        model: MODELS[kind],
        queries: qids.length,
        depth,
        by_hand_documents_per_query: Math.round(hand.docsPerQuery * 10) / 10,
        measures: tests,
        service_against_by_hand: handCheck,
        cost: {
          documents: docs.length,
          passages: entries,
          entries_per_document: { pooled: 1, maxp: Math.round((entries / docs.length) * 100) / 100 },
          // Both collections hold both models (splade and dense): the ingest rate and bytes are the pair's.
          ingest_docs_per_second: {
            pooled: Math.round((docs.length / pooled.seconds) * 100) / 100,
            maxp: Math.round((docs.length / svc.seconds) * 100) / 100,
          },
          index_bytes: { pooled: pooled.stats.index_bytes, maxp: svc.stats.index_bytes },
          bytes_on_disk: { pooled: pooled.stats.bytes_on_disk, maxp: svc.stats.bytes_on_disk },
          both_models_in_each_collection: same,
        },
      });
    }
    const summary = {
      dataset: data,
      overlap,
      depth,
      same_passages_for_both_models: same,
      ingest: {
        pooled: pooled.report,
        maxp: svc.report,
        by_hand: same ? maxp.splade.report : { splade: maxp.splade.report, dense: maxp.dense.report },
      },
      retrievers: rows,
    };
    mkdirSync(results, { recursive: true });
    writeFileSync(join(results, 'maxp.json'), `${JSON.stringify(summary, null, 2)}\n`);
    writeFileSync(join(results, 'maxp.md'), markdown(summary.retrievers, ds.queries.length, overlap, depth, same));
    for (const r of rows) {
      const m = r.measures as Record<string, Record<string, number>>;
      console.log(
        JSON.stringify({
          retriever: r.retriever,
          pooled_ndcg10: round(m.ndcg_cut_10.pooled),
          maxp_ndcg10: round(m.ndcg_cut_10.maxp),
          delta: round(m.ndcg_cut_10.delta),
          p_randomization: round(m.ndcg_cut_10.p_randomization),
          pooled_r100: round(m.recall_100.pooled),
          maxp_r100: round(m.recall_100.maxp),
          p_r100: round(m.recall_100.p_randomization),
          pooled_mrr10: round(m.recip_rank_10.pooled),
          maxp_mrr10: round(m.recip_rank_10.maxp),
          p_mrr10: round(m.recip_rank_10.p_randomization),
          by_hand_ndcg10: round((r.service_against_by_hand as Record<string, { by_hand: number }>).ndcg_cut_10.by_hand),
          entries_per_document: (r.cost as { entries_per_document: unknown }).entries_per_document,
          queries: r.queries,
        }),
      );
    }
  } finally {
    await service.close();
  }
}

const round = (x: number) => Math.round(x * 10000) / 10000;
const p4 = (p: number) => (p < 0.0001 ? '<0.0001' : p.toFixed(4));

function markdown(rows: Record<string, unknown>[], queries: number, overlap: number, depth: number, same: boolean): string {
  const lines = [
    '# Long SciFact: pooled passages against MaxP',
    '',
    `${queries} judged queries; passages of the model's window with overlap ${overlap}, cut by the service's encoder workers${same ? ' (the same passages for both models)' : ''}.`,
    "Pooled: one vector per document (max over passages for SPLADE, renormalized mean for dense), `passages.score: 'pooled'`. MaxP: the service's `passages.score: 'max'`, one index entry per passage, a document scored by its best passage.",
    `Cross-check: the same MaxP by hand (each passage indexed as its own document, the top ${depth} passages of a query, each document keeping its best), against the service's, in the second table.`,
    'p: paired randomization test (two-sided, 10,000 trials) and paired t-test, MaxP against pooled.',
    '',
    '| retriever | measure | pooled | MaxP | Δ | MaxP wins / losses | p (randomization) | p (t-test) |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    const m = r.measures as Record<string, Record<string, number>>;
    for (const [name, label] of MEASURES) {
      const x = m[name];
      lines.push(
        `| ${r.retriever} | ${label} | ${x.pooled.toFixed(4)} | ${x.maxp.toFixed(4)} | ${x.delta >= 0 ? '+' : ''}${x.delta.toFixed(4)} | ${x.maxp_wins} / ${x.maxp_losses} | ${p4(x.p_randomization)} | ${p4(x.p_t)} |`,
      );
    }
  }
  lines.push(
    '',
    '| retriever | measure | service MaxP | by-hand MaxP | largest per-query difference |',
    '| --- | --- | ---: | ---: | ---: |',
  );
  for (const r of rows) {
    const h = r.service_against_by_hand as Record<string, Record<string, number>>;
    for (const [name, label] of MEASURES)
      lines.push(
        `| ${r.retriever} | ${label} | ${h[name].service.toFixed(4)} | ${h[name].by_hand.toFixed(4)} | ${h[name].max_abs_difference_per_query.toFixed(4)} |`,
      );
  }
  lines.push(
    '',
    '| retriever | documents | index entries per document (pooled → MaxP) | ingest documents/s (pooled → MaxP) | index bytes (pooled → MaxP) | bytes on disk (pooled → MaxP) |',
    '| --- | ---: | --- | --- | --- | --- |',
  );
  for (const r of rows) {
    const c = r.cost as Record<string, Record<string, number> & number>;
    lines.push(
      `| ${r.retriever} | ${c.documents} | 1 → ${c.entries_per_document.maxp} | ${c.ingest_docs_per_second.pooled} → ${c.ingest_docs_per_second.maxp} | ${c.index_bytes.pooled} → ${c.index_bytes.maxp} | ${c.bytes_on_disk.pooled} → ${c.bytes_on_disk.maxp} |`,
    );
  }
  lines.push(
    '',
    'Ingest and bytes are per collection, and each collection holds both models (and BM25): the cost columns are the same for both rows, the cost of the two models together.',
    '',
  );
  return lines.join('\n');
}

async function buildDataset() {
  const dataset = opt('dataset');
  const out = opt('out');
  const group = Number(opt('group', '8'));
  const seed = Number(opt('seed', '7'));
  if (!dataset || !out) throw new Error('usage: tsx bench/long-docs.ts --dataset <BEIR folder> --out <folder> [--group 8] [--seed 7]');
  if (!existsSync(join(dataset, 'corpus.jsonl')))
    throw new Error(`${dataset}/corpus.jsonl is absent (the BEIR datasets are in ../shared/data beside the checkout)`);

  interface Doc {
    _id: string;
    title?: string;
    text?: string;
  }
  const docs: Doc[] = [];
  for await (const line of createInterface({ input: createReadStream(join(dataset, 'corpus.jsonl')) }))
    if (line.trim()) docs.push(JSON.parse(line) as Doc);

  // Fisher-Yates with the project's seeded generator: the same long documents every run.
  const r = new Prng(seed);
  for (let i = docs.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [docs[i], docs[j]] = [docs[j], docs[i]];
  }
  const owner = new Map<string, string>();
  const long: string[] = [];
  let words = 0;
  for (let g = 0; g * group < docs.length; g++) {
    const id = `L${g}`;
    const parts = docs.slice(g * group, (g + 1) * group);
    for (const d of parts) owner.set(d._id, id);
    const text = parts.map((d) => [d.title, d.text].filter(Boolean).join('. ')).join(' ');
    words += text.split(/\s+/).length;
    long.push(JSON.stringify({ _id: id, title: '', text }));
  }

  mkdirSync(join(out, 'qrels'), { recursive: true });
  writeFileSync(join(out, 'corpus.jsonl'), `${long.join('\n')}\n`);
  copyFileSync(join(dataset, 'queries.jsonl'), join(out, 'queries.jsonl'));
  const rel = new Map<string, number>();
  const qrels = readFileSync(join(dataset, 'qrels', 'test.tsv'), 'utf8')
    .trim()
    .split('\n');
  for (const line of qrels.slice(1)) {
    const [q, d, s] = line.split('\t');
    const key = `${q}\t${owner.get(d)}`;
    if (!owner.has(d)) continue;
    rel.set(key, Math.max(rel.get(key) ?? 0, Number(s)));
  }
  writeFileSync(join(out, 'qrels', 'test.tsv'), `query-id\tcorpus-id\tscore\n${[...rel].map(([k, s]) => `${k}\t${s}`).join('\n')}\n`);
  console.log(
    JSON.stringify({
      dataset,
      out,
      group,
      seed,
      source_documents: docs.length,
      long_documents: long.length,
      mean_words: Math.round(words / long.length),
      judgments: rel.size,
    }),
  );
}

if (args[0] === 'maxp') await maxpArm();
else await buildDataset();
