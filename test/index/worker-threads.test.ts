import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { SparseIndex } from '../../index/index.js';
import { randomDocs, randomQuery, rng } from '../helpers/sparse-random.js';

// The addon loaded by a worker thread while the main thread holds an index: each environment must
// keep its own class constructor (a process-wide one made the main thread call into the worker's
// isolate and abort).
describe('the addon in worker threads', () => {
  it('serves the main thread and workers side by side', async () => {
    const idx = SparseIndex.create({ vocab: 300 });
    await idx.add(randomDocs(500, 300, 10, 1));
    const q = randomQuery(300, 10, rng(2));
    const before = idx.search(q, { k: 5 });
    const addon = join(process.cwd(), 'build', 'Release', 'lsr_native.node');
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const native = require(workerData.addon);
      const seg = native.buildSparseSegment(new Uint32Array([0, 1]), new Uint32Array([0, 1, 2]), new Uint32Array([3, 4]),
        new Float32Array([1, 2]), 10, {}, false);
      const hits = native.searchSparse([seg], new Uint32Array([4]), new Float32Array([1]), { k: 2 });
      parentPort.postMessage(Array.from(hits.docs));`;
    for (let i = 0; i < 3; i++) {
      const w = new Worker(code, { eval: true, workerData: { addon } });
      const got = await new Promise((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      });
      expect(got).toEqual([1]);
      await w.terminate();
    }
    // The main thread still builds segments (its constructor) and searches them.
    await idx.add(randomDocs(100, 300, 10, 3));
    expect(idx.stats().segments).toBe(2);
    const after = idx.search(q, { k: 5 });
    expect(after.docs.length).toBe(5);
    expect(Array.from(after.scores)[4]).toBeGreaterThanOrEqual(Array.from(before.scores)[4]);
  });
});
