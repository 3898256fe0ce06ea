import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DenseIndex, IndexError } from '../../index/index.js';
import { clusteredVectors } from '../helpers/dense-random.js';
import { fileEndingWith, openError as openDamaged, writeU32 } from '../helpers/index-files.js';
import { removeDir, tempDir } from '../helpers/temp-dir.js';

const dim = 20;
let dir: string;

beforeEach(() => {
  dir = tempDir('lsr-dense-');
});
afterEach(() => removeDir(dir));

async function committedIndex(storage: 'f32' | 'i8' = 'f32') {
  const idx = DenseIndex.open(dir, { dim, storage, approx: { m: 8, efConstruction: 50 } });
  await idx.add({ vectors: clusteredVectors(1500, dim, 10, 0.2, 1) });
  await idx.add({ vectors: clusteredVectors(700, dim, 10, 0.2, 2) });
  idx.delete([3, 1600]);
  await idx.commit({ seq: 42 });
  return idx;
}

const segmentFile = () => fileEndingWith(dir, '.lsrd');
const openError = () => openDamaged(() => DenseIndex.open(dir));

// Header offsets (docs/segment-format.md, "Dense segments"): version at 8, the section table at 56
// (24 bytes per section: u64 offset, u64 length, u32 crc, u32 reserved).
const sectionOffset = (buf: Buffer, s: number) => Number(buf.readBigUInt64LE(56 + 24 * s));

describe('dense segment files', () => {
  for (const storage of ['f32', 'i8'] as const) {
    it(`round-trips ${storage} segments, graphs, tombstones and commit metadata`, async () => {
      const idx = await committedIndex(storage);
      // A commit swaps each saved segment for its read-only mapping.
      expect(idx.stats().segmentStats.every((s) => s.mapped)).toBe(true);
      const qs = clusteredVectors(10, dim, 10, 0.2, 3);
      const rows = Array.from({ length: 10 }, (_, i) => qs.slice(i * dim, (i + 1) * dim));
      const before = rows.map((q) => idx.search(q, { k: 20 }));
      const beforeApprox = rows.map((q) => idx.search(q, { k: 20, mode: 'approx', ef: 40 }));
      await idx.close();
      const again = DenseIndex.open(dir);
      expect(again.committedMeta).toEqual({ seq: 42 });
      expect(again.storage).toBe(storage);
      expect(again.approx).toEqual({ m: 8, efConstruction: 50, seed: 1 });
      expect(again.stats()).toMatchObject({ docs: 2200 - 2, deleted: 2, segments: 2 });
      expect(again.vector(3)).toBeNull();
      rows.forEach((q, i) => {
        expect(again.search(q, { k: 20 })).toEqual(before[i]);
        expect(again.search(q, { k: 20, mode: 'approx', ef: 40 })).toEqual(beforeApprox[i]);
      });
      const { first } = await again.add({ vectors: clusteredVectors(10, dim, 10, 0.2, 4) });
      expect(first).toBe(2200);
      again.delete([5]);
      await again.commit({ seq: 43 });
      await again.optimize();
      await again.commit({ seq: 44 });
      expect(readdirSync(dir).filter((f) => f.endsWith('.lsrd'))).toHaveLength(1);
      expect(readdirSync(dir).some((f) => f.endsWith('.tmp') || f.endsWith('.del'))).toBe(false);
      const third = DenseIndex.open(dir);
      expect(third.stats()).toMatchObject({ docs: 2210 - 3, deleted: 0, segments: 1 });
      expect(third.committedMeta).toEqual({ seq: 44 });
    });
  }

  it('rejects options that contradict the stored index, and open without options on an empty directory', async () => {
    await committedIndex();
    expect(() => DenseIndex.open(dir, { dim: 21 })).toThrow(/has dim 20, options ask for 21/);
    expect(() => DenseIndex.open(dir, { dim: 20, storage: 'i8' })).toThrow(/has storage f32, options ask for i8/);
    const empty = tempDir('lsr-dense-empty-');
    try {
      expect(() => DenseIndex.open(empty)).toThrow(/options with a dim are needed/);
    } finally {
      removeDir(empty);
    }
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
    truncateSync(f, 10);
    expect(openError().code).toBe('SEGMENT_TRUNCATED');
  });

  it('names the file of a segment with a flipped byte in any section (SEGMENT_CORRUPT)', async () => {
    await committedIndex();
    const f = segmentFile();
    const original = readFileSync(f);
    for (const s of [0, 1, 3, 4, 5]) {
      const buf = Buffer.from(original);
      const at = sectionOffset(buf, s) + 3;
      buf[at] ^= 0x40;
      writeFileSync(f, buf);
      const e = openError();
      expect(e.code, `section ${s}`).toBe('SEGMENT_CORRUPT');
      expect(e.message).toContain(f);
      expect(e.message, e.message).toMatch(new RegExp(`checksum in section ${s}`));
    }
    const buf = Buffer.from(original);
    buf[20] ^= 1; // n_docs: caught by the header checksum
    writeFileSync(f, buf);
    expect(openError().message).toMatch(/corrupt header/);
  });

  it('names the file of a segment from another format version (SEGMENT_VERSION)', async () => {
    await committedIndex();
    const f = segmentFile();
    writeU32(f, 8, 2);
    const e = openError();
    expect(e.code).toBe('SEGMENT_VERSION');
    expect(e.message).toContain(f);
    expect(e.message).toMatch(/format version 2, this build reads version 1/);
  });

  it('names a damaged tombstone file and an unparsable manifest', async () => {
    await committedIndex();
    const del = fileEndingWith(dir, '.del');
    const fd = openSync(del, 'r+');
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, 16);
    b[0] ^= 0xff;
    writeSync(fd, b, 0, 1, 16);
    closeSync(fd);
    const e = openError();
    expect(e.code).toBe('SEGMENT_CORRUPT');
    expect(e.file).toBe(del);
    writeFileSync(join(dir, 'manifest.json'), '{ not json');
    expect(openError().code).toBe('MANIFEST_CORRUPT');
  });
});
