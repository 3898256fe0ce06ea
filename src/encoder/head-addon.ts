// The native addon as the fused head uses it. On the main thread it is index/native's instance. On
// a worker thread (the encoder pool) it is a private copy of the .node file: the sparse bindings
// keep one process-wide constructor reference (`static ctor` in native/src/sparse/sparse-binding.cc),
// which a second load from a worker overwrites; the main thread's index then calls into the
// worker's isolate and aborts ("Entering the V8 API without proper locking"). A copy at another
// path is a separate shared object with its own statics, so each thread keeps its own.
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, threadId } from 'node:worker_threads';
import type { NativeAddon } from '../../index/native.js';

function privateCopy(): NativeAddon {
  let root = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(root, 'package.json'))) root = dirname(root);
  const src = join(root, 'build', 'Release', 'lsr_native.node');
  const copy = join(tmpdir(), `lsr-native-${process.pid}-${threadId}.node`);
  copyFileSync(src, copy);
  try {
    return createRequire(import.meta.url)(copy) as NativeAddon;
  } finally {
    // The mapping outlives the file; nothing is left behind in tmp.
    rmSync(copy, { force: true });
  }
}

export const headAddon: NativeAddon = isMainThread ? (await import('../../index/native.js')).native : privateCopy();
