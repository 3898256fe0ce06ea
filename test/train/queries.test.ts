// Training queries made from documents: kinds in preference order, lengths, determinism per seed and
// per document, skipped short queries.
import { describe, expect, it } from 'vitest';
import { documentQueries, ictSentences, MIN_QUERY_WORDS } from '../../src/train/queries.js';
import { DOCS } from './corpus.js';

const asDoc = (d: (typeof DOCS)[number]) => ({ id: d._id, title: d.title, body: d.text });
const words = (s: string) => s.split(' ');

describe('documentQueries', () => {
  it('takes kinds in the order title, ict, span, then more ict and span', () => {
    const d = asDoc(DOCS[0]);
    expect(documentQueries(d, 1, 1).map((q) => q.kind)).toEqual(['title']);
    expect(documentQueries(d, 2, 1).map((q) => q.kind)).toEqual(['title', 'ict']);
    expect(documentQueries(d, 3, 1).map((q) => q.kind)).toEqual(['title', 'ict', 'span']);
    const five = documentQueries(d, 5, 1);
    expect(five.map((q) => q.kind)).toEqual(['title', 'ict', 'span', 'ict', 'span']);
    expect(five.map((q) => q.id)).toEqual(['doc0#title', 'doc0#ict', 'doc0#span', 'doc0#ict2', 'doc0#span2']);
    expect(new Set(five.map((q) => q.text)).size).toBe(5);
    for (const q of five) expect(q.source).toBe('doc0');
  });

  it('passes over a missing title and skips a title under three words', () => {
    const untitled = asDoc(DOCS[3]);
    expect(untitled.title).toBe('');
    expect(documentQueries(untitled, 2, 1).map((q) => q.kind)).toEqual(['ict', 'span']);
    const short = asDoc(DOCS[5]);
    expect(short.title).toBe('Lava');
    expect(documentQueries(short, 1, 1).map((q) => q.kind)).toEqual(['ict']);
  });

  it('draws ICT sentences of 5 to 40 words from the body and spans of 6 to 16 consecutive words', () => {
    for (let seed = 0; seed < 20; seed++)
      for (const doc of DOCS.slice(0, 8)) {
        const d = asDoc(doc);
        const body = words(d.body);
        for (const q of documentQueries(d, 6, seed)) {
          expect(words(q.text).length).toBeGreaterThanOrEqual(MIN_QUERY_WORDS);
          if (q.kind === 'ict') {
            expect(ictSentences(d.body)).toContain(q.text);
            expect(words(q.text).length).toBeGreaterThanOrEqual(5);
            expect(words(q.text).length).toBeLessThanOrEqual(40);
          }
          if (q.kind === 'span') {
            const n = words(q.text).length;
            expect(n).toBeGreaterThanOrEqual(6);
            expect(n).toBeLessThanOrEqual(16);
            const at = body.findIndex((_, i) => body.slice(i, i + n).join(' ') === q.text);
            expect(at).toBeGreaterThanOrEqual(0);
          }
        }
      }
    // "Short note." (2 words) is never an ICT sentence.
    expect(ictSentences(DOCS[0].text)).not.toContain('Short note.');
    expect(ictSentences(DOCS[0].text)).toHaveLength(3);
  });

  it('is deterministic in the seed and the document, whatever other documents are read', () => {
    const all = DOCS.map((d) => documentQueries(asDoc(d), 3, 7));
    expect(DOCS.map((d) => documentQueries(asDoc(d), 3, 7))).toEqual(all);
    // One document alone gives the queries it gave among all.
    expect(documentQueries(asDoc(DOCS[11]), 3, 7)).toEqual(all[11]);
    const other = DOCS.map((d) => documentQueries(asDoc(d), 3, 8));
    expect(other).not.toEqual(all);
  });

  it('gives nothing for a document with neither a title nor a body of query length', () => {
    expect(documentQueries({ id: 'x', title: 'Hi', body: 'Too short here.' }, 3, 1)).toEqual([]);
    // Six words: one ICT sentence, the whole body; every span of it is that same text, so it is skipped.
    const six = documentQueries({ id: 'y', title: '', body: 'one two three four five six' }, 3, 1);
    expect(six.map((q) => q.kind)).toEqual(['ict']);
  });
});
