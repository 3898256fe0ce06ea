// Damaging and reopening stored indexes, shared by the sparse and dense segment file tests.
import { closeSync, openSync, readdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { IndexError } from '../../index/index.js';

/** The path of the first file in `dir` whose name ends with `suffix` ('.lsr', '.lsrd', '.del'). */
export function fileEndingWith(dir: string, suffix: string): string {
  const f = readdirSync(dir).find((x) => x.endsWith(suffix));
  if (!f) throw new Error(`no ${suffix} file in ${dir}`);
  return join(dir, f);
}

/** The error `open` throws; fails the test if it opens the damaged index. */
export function openError(open: () => unknown): IndexError {
  try {
    open();
  } catch (e) {
    return e as IndexError;
  }
  throw new Error('open succeeded on a damaged index');
}

/** Overwrites a little-endian u32 at byte `at` of `file` (a segment's version follows its 8-byte magic). */
export function writeU32(file: string, at: number, value: number): void {
  const fd = openSync(file, 'r+');
  const v = Buffer.alloc(4);
  v.writeUInt32LE(value);
  writeSync(fd, v, 0, 4, at);
  closeSync(fd);
}
