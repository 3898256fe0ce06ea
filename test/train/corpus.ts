// A corpus of 36 small documents for the `lsr train` tests: six topics, titled except every seventh
// document, bodies of several sentences (some of inverse-cloze length, some too short or too long),
// written as a BEIR folder whose queries.jsonl and qrels are dangling links, so that any read of
// them fails the test.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const TOPICS = [
  ['cats', 'kittens', 'whiskers', 'purring', 'litter'],
  ['volcanoes', 'magma', 'eruptions', 'crust', 'lava'],
  ['solar', 'panels', 'energy', 'sunlight', 'batteries'],
  ['cancer', 'genes', 'mice', 'tumors', 'mutations'],
  ['heart', 'blood', 'pressure', 'arteries', 'patients'],
  ['birds', 'songs', 'nests', 'feathers', 'migration'],
];

export interface FixtureDoc {
  _id: string;
  title: string;
  text: string;
}

export const DOCS: FixtureDoc[] = Array.from({ length: 36 }, (_, i) => {
  const t = TOPICS[i % TOPICS.length];
  const u = TOPICS[(i + 2) % TOPICS.length];
  const w = (j: number) => t[(i + j) % t.length];
  const sentences = [
    `Researchers studied ${w(0)} and ${w(1)} in ${2000 + i} across several sites.`,
    `The ${w(2)} showed strong links with ${w(3)} while ${u[i % u.length]} mattered less.`,
    'Short note.',
    `Further work on ${w(4)} and ${u[(i + 1) % u.length]} is planned by the team of doctor number ${i}.`,
  ];
  return {
    _id: `doc${i}`,
    // Every seventh document has no title; one has a title under three words.
    title: i % 7 === 3 ? '' : i === 5 ? 'Lava' : `On ${w(0)} and ${w(1)} number ${i}`,
    text: sentences.join(' '),
  };
});

/** Writes the corpus as `<dir>/corpus.jsonl`, with queries.jsonl and qrels/test.tsv linking to nothing. */
export function writeCorpusFolder(dir: string, docs: readonly FixtureDoc[] = DOCS): string {
  mkdirSync(join(dir, 'qrels'), { recursive: true });
  writeFileSync(join(dir, 'corpus.jsonl'), `${docs.map((d) => JSON.stringify(d)).join('\n')}\n`);
  symlinkSync(join(dir, 'no-such-queries.jsonl'), join(dir, 'queries.jsonl'));
  symlinkSync(join(dir, 'no-such-qrels.tsv'), join(dir, 'qrels', 'test.tsv'));
  return dir;
}
