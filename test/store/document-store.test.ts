// The SQLite store on a real file: upserts, duplicates within a job, removals, and what survives a reopen.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DocumentStore, type NewDocument } from '../../src/store/document-store.js';
import { removeDir, tempDir } from '../helpers/temp-dir.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(removeDir));

function open(): { path: string; s: DocumentStore } {
  const dir = tempDir('lsr-store-');
  dirs.push(dir);
  const path = join(dir, 'store.sqlite');
  return { path, s: new DocumentStore(path) };
}

const doc = (id: string, words: string[], metadata: object = {}): NewDocument => {
  const counts = new Map<string, number>();
  for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
  return { id, fields: JSON.stringify({ text: words.join(' ') }), metadata: JSON.stringify(metadata), counts, dl: words.length };
};

describe('DocumentStore', () => {
  it('gives increasing seq and docnos, replaces on upsert, refuses a repeat within one job', () => {
    const { s } = open();
    const r1 = s.writeBatch([doc('a', ['x', 'y']), doc('b', ['x'])], 'job1');
    expect(r1.written.map((w) => [w.id, w.docno, w.seq])).toEqual([
      ['a', 1, 1],
      ['b', 2, 2],
    ]);
    const r2 = s.writeBatch([doc('a', ['z']), doc('c', ['x']), doc('a', ['w'])], 'job2');
    expect(r2.removed).toEqual([1]);
    expect(r2.duplicates).toEqual([{ index: 2, id: 'a' }]);
    expect(r2.written.map((w) => w.id)).toEqual(['a', 'c']);
    expect(s.size).toBe(3);
    expect(s.tombstonesAfter(0)).toEqual([1]);
    expect(s.vocab.df(s.vocab.id('x')!)).toBe(2);
    expect(s.vocab.df(s.vocab.id('y')!)).toBe(0);
    expect(s.avgdl).toBeCloseTo(1, 9);
  });

  it('without a job, a repeated id in one batch keeps the last version only', () => {
    const { s } = open();
    const r = s.writeBatch([doc('a', ['one']), doc('a', ['two'])], null);
    expect(r.written.map((w) => w.id)).toEqual(['a']);
    expect(s.size).toBe(1);
    expect(s.get(s.docnoOf('a')!)!.fields).toEqual({ text: 'two' });
  });

  it('keeps counters, vocabulary and rows across a reopen', () => {
    const { path, s } = open();
    s.writeBatch([doc('a', ['x', 'x', 'y'], { n: 1 }), doc('b', ['y'])], 'j');
    s.removeDocnos([s.docnoOf('b')!]);
    s.close();
    const t = new DocumentStore(path);
    expect(t.size).toBe(1);
    expect(t.lastSeq).toBe(3);
    expect(t.avgdl).toBe(3);
    expect(t.highestDocno).toBe(2);
    expect(t.vocab.df(t.vocab.id('y')!)).toBe(1);
    expect([...t.vectorsAfter(0)].map((v) => [v.docno, Array.from(v.tfs)])).toEqual([[1, [2, 1]]]);
    expect(t.idsOf([1, 2])).toEqual(new Map([[1, 'a']]));
    expect(t.getMany([1]).get(1)!.metadata).toEqual({ n: 1 });
    t.pruneTombstones(3);
    expect(t.tombstonesAfter(0)).toEqual([]);
    t.close();
  });
});
