// Tombstone files: the deleted-document bitset of one segment at one commit.
// Layout (little-endian): "LSRDEL01" | u32 docs | u32 crc32 of the bitset | bitset (ceil(docs/8) bytes).
import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { IndexError } from './errors.js';
import { writeFileAtomic } from './fs-atomic.js';

const MAGIC = Buffer.from('LSRDEL01', 'ascii');

export function writeTombstones(path: string, docs: number, bits: Uint8Array): void {
  const out = Buffer.alloc(16 + bits.length);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(docs, 8);
  out.writeUInt32LE(crc32(bits), 12);
  out.set(bits, 16);
  writeFileAtomic(path, out);
}

export function readTombstones(path: string, docs: number): Uint8Array {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new IndexError('SEGMENT_IO', `cannot read tombstone file '${path}': ${(e as Error).message}`, path);
  }
  const want = 16 + Math.ceil(docs / 8);
  if (buf.length < 16 || !buf.subarray(0, 8).equals(MAGIC))
    throw new IndexError('SEGMENT_CORRUPT', `tombstone file '${path}' has a bad magic number`, path);
  if (buf.length !== want || buf.readUInt32LE(8) !== docs)
    throw new IndexError('SEGMENT_TRUNCATED', `tombstone file '${path}' has ${buf.length} bytes, expected ${want}`, path);
  const bits = buf.subarray(16);
  if (crc32(bits) !== buf.readUInt32LE(12)) throw new IndexError('SEGMENT_CORRUPT', `tombstone file '${path}' failed its checksum`, path);
  return new Uint8Array(bits);
}
