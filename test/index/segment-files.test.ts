import { readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IndexError, SparseIndex } from '../../index/index.js';
import { fileEndingWith, openError as openDamaged, writeU32 } from '../helpers/index-files.js';
import { randomDocs, randomQuery, rng } from '../helpers/sparse-random.js';
import { removeDir, tempDir } from '../helpers/temp-dir.js';

const VOCAB = 300;
let dir: string;

beforeEach(() => {
  dir = tempDir('lsr-seg-');
});
afterEach(() => removeDir(dir));

async function committedIndex(opts = {}) {
  const idx = SparseIndex.open(dir, { vocab: VOCAB, approx: { postings: 100, blocks: true }, ...opts });
  await idx.add(randomDocs(1500, VOCAB, 20, 1));
  await idx.add(randomDocs(700, VOCAB, 20, 2));
  idx.delete([3, 1600]);
  await idx.commit({ seq: 42 });
  return idx;
}

const segmentFile = () => fileEndingWith(dir, '.lsr');
const openError = () => openDamaged(() => SparseIndex.open(dir));

describe('on-disk segments', () => {
  it('serves committed segments from their mapped files, keeping deletes made before and after the commit', async () => {
    const idx = SparseIndex.open(dir, { vocab: VOCAB, approx: { postings: 100 } });
    await idx.add(randomDocs(1500, VOCAB, 20, 1));
    idx.delete([3, 7]);
    const r = rng(4);
    const qs = Array.from({ length: 10 }, () => randomQuery(VOCAB, 25, r));
    const before = qs.map((q) => [idx.search(q, { k: 20 }), idx.search(q, { k: 20, mode: 'approx' })]);
    expect(idx.stats().segmentStats.map((s) => s.mapped)).toEqual([false]);
    await idx.commit({ seq: 1 });
    expect(idx.stats().segmentStats.map((s) => s.mapped)).toEqual([true]);
    expect(qs.map((q) => [idx.search(q, { k: 20 }), idx.search(q, { k: 20, mode: 'approx' })])).toEqual(before);
    const gone = before[0][0].docs[0];
    expect(idx.delete([gone])).toBe(1);
    expect(Array.from(idx.search(qs[0], { k: 20 }).docs)).not.toContain(gone);
    expect(idx.stats().docs).toBe(1500 - 3);
    await idx.close();
  });

  it('round-trips segments, tombstones and commit metadata', async () => {
    const idx = await committedIndex();
    const r = rng(4);
    const qs = Array.from({ length: 10 }, () => randomQuery(VOCAB, 25, r));
    const before = qs.map((q) => idx.search(q, { k: 20 }));
    const beforeApprox = qs.map((q) => idx.search(q, { k: 20, mode: 'approx' }));
    const beforeBlocks = qs.map((q) => idx.search(q, { k: 20, mode: 'approx', strategy: 'blocks' }));
    await idx.close();
    const again = SparseIndex.open(dir);
    expect(again.committedMeta).toEqual({ seq: 42 });
    expect(again.stats().docs).toBe(2200 - 2);
    expect(again.document(3)).toBeNull();
    qs.forEach((q, i) => {
      expect(again.search(q, { k: 20 })).toEqual(before[i]);
      expect(again.search(q, { k: 20, mode: 'approx' })).toEqual(beforeApprox[i]);
      expect(again.search(q, { k: 20, mode: 'approx', strategy: 'blocks' })).toEqual(beforeBlocks[i]);
    });
    // New documents continue the numbering; a new commit keeps only live files.
    const { first } = await again.add(randomDocs(10, VOCAB, 5, 3));
    expect(first).toBe(2200);
    again.delete([5]);
    await again.commit({ seq: 43 });
    await again.optimize();
    await again.commit({ seq: 44 });
    expect(readdirSync(dir).filter((f) => f.endsWith('.lsr'))).toHaveLength(1);
    expect(readdirSync(dir).some((f) => f.endsWith('.tmp'))).toBe(false);
    const third = SparseIndex.open(dir);
    expect(third.stats()).toMatchObject({ docs: 2210 - 3, deleted: 0, segments: 1 });
  });

  it('names the file of a truncated segment (SEGMENT_TRUNCATED)', async () => {
    await committedIndex();
    const f = segmentFile();
    truncateSync(f, Math.floor(statSync(f).size / 2));
    const e = openError();
    expect(e).toBeInstanceOf(IndexError);
    expect(e.code).toBe('SEGMENT_TRUNCATED');
    expect(e.message).toContain(f);
    expect(e.file).toBe(f);
  });

  it('detects a flipped byte anywhere in the file (SEGMENT_CORRUPT)', async () => {
    await committedIndex();
    const f = segmentFile();
    const size = statSync(f).size;
    // The header, the section table, and bytes deep inside the data sections.
    for (const at of [2, 100, 700, Math.floor(size / 3), size - 70]) {
      const orig = readFileSync(f);
      const bad = Buffer.from(orig);
      bad[at] ^= 0x10;
      writeFileSync(f, bad);
      const e = openError();
      expect(e.code, `byte ${at}`).toBe('SEGMENT_CORRUPT');
      expect(e.message).toContain(f);
      writeFileSync(f, orig);
    }
    expect(() => SparseIndex.open(dir)).not.toThrow();
  });

  it('refuses another format version (SEGMENT_VERSION)', async () => {
    await committedIndex();
    const f = segmentFile();
    writeU32(f, 8, 99); // the version follows the 8-byte magic
    const e = openError();
    expect(e.code).toBe('SEGMENT_VERSION');
    expect(e.message).toMatch(/format version 99, this build reads version 2/);
    expect(e.message).toContain(f);
  });

  it('rejects a damaged tombstone file and a damaged manifest with their names', async () => {
    await committedIndex();
    const del = fileEndingWith(dir, '.del');
    const orig = readFileSync(del);
    const bad = Buffer.from(orig);
    bad[bad.length - 1] ^= 1;
    writeFileSync(del, bad);
    let e = openError();
    expect(e.code).toBe('SEGMENT_CORRUPT');
    expect(e.file).toBe(del);
    writeFileSync(del, orig);
    writeFileSync(join(dir, 'manifest.json'), '{"version": 1, "segm');
    e = openError();
    expect(e.code).toBe('MANIFEST_CORRUPT');
    expect(e.message).toContain('manifest.json');
  });

  it('ignores uncommitted segment files: the manifest decides what is live', async () => {
    const idx = await committedIndex();
    await idx.add(randomDocs(50, VOCAB, 5, 9)); // never committed
    const n = idx.stats().docs;
    await idx.close();
    writeFileSync(join(dir, 'seg-999.lsr.tmp'), 'partial write');
    const again = SparseIndex.open(dir);
    expect(again.stats().docs).toBe(n - 50);
    expect(again.nextDocumentNumber).toBe(2200);
  });
});
