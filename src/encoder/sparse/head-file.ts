// Reads the split layout's vocabulary projection (head.bin); the format is docs/encoder-model-format.md.
import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { fail } from '../../errors.js';
import type { HeadWeights } from './fused-head.js';

export const HEAD_MAGIC = 'LSRHEAD1';
export const HEAD_HEADER_BYTES = 32;
export const HEAD_DTYPE_F32 = 1;
export const HEAD_DTYPE_BF16 = 2;
const HAS_BIAS = 1;

/** Parses head.bin; `field` names the model setting the file came from in errors. */
export function readHeadFile(path: string, field = 'model'): HeadWeights {
  const buf = readFileSync(path);
  const bad = (why: string): never => fail('INVALID_MODEL', `${path}: ${why}`, field);
  if (buf.length < HEAD_HEADER_BYTES || buf.toString('latin1', 0, 8) !== HEAD_MAGIC) bad(`not a head file (magic ${HEAD_MAGIC} missing)`);
  const version = buf.readUInt32LE(8),
    dtype = buf.readUInt32LE(12),
    vocab = buf.readUInt32LE(16),
    dim = buf.readUInt32LE(20);
  const flags = buf.readUInt32LE(24),
    sum = buf.readUInt32LE(28);
  if (version !== 1) bad(`format version ${version} is not supported (expected 1)`);
  if (dtype !== HEAD_DTYPE_F32 && dtype !== HEAD_DTYPE_BF16) bad(`dtype ${dtype} is unknown (1 = f32, 2 = bf16)`);
  if (vocab === 0 || dim === 0) bad(`vocab ${vocab} and dim ${dim} must be positive`);
  const wBytes = vocab * dim * (dtype === HEAD_DTYPE_F32 ? 4 : 2);
  const bBytes = flags & HAS_BIAS ? vocab * 4 : 0;
  if (buf.length !== HEAD_HEADER_BYTES + wBytes + bBytes)
    bad(`is ${buf.length} bytes, expected ${HEAD_HEADER_BYTES + wBytes + bBytes} for vocab ${vocab} × dim ${dim}`);
  const payload = buf.subarray(HEAD_HEADER_BYTES);
  if (crc32(payload) !== sum) bad('checksum mismatch (the file is damaged)');
  // Copy into fresh, aligned buffers: Buffer pool slices may not be 4-byte aligned, and the arrays
  // outlive `buf`.
  const wCopy = new Uint8Array(wBytes);
  wCopy.set(payload.subarray(0, wBytes));
  const weights = dtype === HEAD_DTYPE_F32 ? new Float32Array(wCopy.buffer) : new Uint16Array(wCopy.buffer);
  let bias: Float32Array | null = null;
  if (bBytes) {
    const bCopy = new Uint8Array(bBytes);
    bCopy.set(payload.subarray(wBytes));
    bias = new Float32Array(bCopy.buffer);
  }
  return { dim, vocab, weights, bias };
}
