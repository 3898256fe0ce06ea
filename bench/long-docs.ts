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
import { copyFileSync, createReadStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Prng } from './lib/prng.js';

const args = process.argv.slice(2);
const opt = (name: string, def?: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
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
