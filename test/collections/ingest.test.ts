// Bulk ingest batching. A partial batch is flushed only when the client has sent nothing for the
// idle delay: not when this process was busy while the client's next lines waited in the socket.
// Batch boundaries set BM25's per-batch avgdl, so a boundary that followed timing made the same
// corpus score differently from run to run.
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/collections/collection-config.js';
import { Collection, type Logger } from '../../src/collections/collection.js';
import { runIngest } from '../../src/collections/ingest.js';
import { IngestJob } from '../../src/collections/ingest-job.js';
import { removeDir, tempDir } from '../helpers/temp-dir.js';

const quiet: Logger = { info() {}, warn() {}, error() {} };
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(removeDir));

const lines = (from: number, n: number) =>
  Array.from(
    { length: n },
    (_, i) => JSON.stringify({ _id: `d${from + i}`, title: `doc ${from + i}`, text: `cats and dogs number ${from + i}` }) + '\n',
  ).join('');

function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe('runIngest', () => {
  it('does not flush a partial batch when the next lines were waiting while the process was busy', async () => {
    const dir = tempDir('lsr-ingest-');
    dirs.push(dir);
    const c = await Collection.create(dir, buildConfig({ name: 'c' }), quiet, undefined);
    const job = new IngestJob('c', null);
    const sizes: number[] = [];
    let done!: Promise<void>;
    const server = createServer((socket: Socket) => {
      done = runIngest(c, socket, job, { batchSize: 16, maxDocumentBytes: 1 << 20, idleFlushMs: 200, onCommitted: (n) => sizes.push(n) });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
      await once(client, 'connect');
      // A batch and a half: the first batch is written, the half waits with its idle timer armed.
      client.write(lines(0, 24));
      while (job.lines < 24) await new Promise((r) => setImmediate(r));
      // The rest reaches the socket at once, but this process stays busy past the idle delay.
      client.write(lines(24, 24));
      busyWait(350);
      client.end();
      while (!done) await new Promise((r) => setImmediate(r));
      await done;
      expect(job.indexed).toBe(48);
      expect(sizes).toEqual([16, 16, 16]);
    } finally {
      server.close();
      await c.close();
    }
  });

  // The client in this process (as `lsr eval` runs the service): while this process is busy past
  // the idle delay the client cannot send either, and its next lines reach the socket only one
  // event-loop turn after the timer came due. Wall-clock time since the last line says "idle";
  // the event loop never sat waiting, so this is no pause of the client.
  it('does not flush a partial batch when the process was busy and the client, in this process, sends one loop turn later', async () => {
    const { dir, c, job, sizes, server, port, ingestDone } = await ingestServer(200);
    try {
      const client = connect(port, '127.0.0.1');
      await once(client, 'connect');
      client.write(lines(0, 24));
      while (job.lines < 24) await new Promise((r) => setImmediate(r));
      busyWait(350);
      // Queued before the ingest's own check of the due timer, but the lines arrive a turn later.
      setImmediate(() => {
        client.write(lines(24, 24));
        client.end();
      });
      await ingestDone();
      expect(job.indexed).toBe(48);
      expect(sizes).toEqual([16, 16, 16]);
    } finally {
      server.close();
      await c.close();
      removeDir(dir);
    }
  });

  it('still flushes a partial batch when the client really pauses', async () => {
    const { dir, c, sizes, server, port, ingestDone } = await ingestServer(100);
    try {
      const client = connect(port, '127.0.0.1');
      await once(client, 'connect');
      client.write(lines(0, 24));
      while (sizes.length < 2) await new Promise((r) => setTimeout(r, 20));
      client.write(lines(24, 4));
      client.end();
      await ingestDone();
      expect(sizes).toEqual([16, 8, 4]);
    } finally {
      server.close();
      await c.close();
      removeDir(dir);
    }
  });
});

describe('ingest under sustained load', () => {
  it('flushes a paused stream after the wall-clock bound even when the event loop is never idle', async () => {
    const { dir, c, sizes, server, port, ingestDone } = await ingestServer(100, 300);
    try {
      const client = connect(port, '127.0.0.1');
      await once(client, 'connect');
      client.write(lines(0, 24));
      // Keep this process busy without a break (the loop never waits for input) until the partial
      // batch is committed; without the bound it would wait for idle time that never comes.
      const until = Date.now() + 5000;
      while (sizes.length < 2 && Date.now() < until) {
        busyWait(10);
        await new Promise((r) => setImmediate(r));
      }
      expect(sizes).toEqual([16, 8]);
      client.write(lines(24, 4));
      client.end();
      await ingestDone();
      expect(sizes).toEqual([16, 8, 4]);
    } finally {
      server.close();
      await c.close();
      removeDir(dir);
    }
  });
});

async function ingestServer(idleFlushMs: number, maxFlushWaitMs?: number) {
  const dir = tempDir('lsr-ingest-');
  const c = await Collection.create(dir, buildConfig({ name: 'c' }), quiet, undefined);
  const job = new IngestJob('c', null);
  const sizes: number[] = [];
  let done: Promise<void> | undefined;
  const server = createServer((socket: Socket) => {
    done = runIngest(c, socket, job, {
      batchSize: 16,
      maxDocumentBytes: 1 << 20,
      idleFlushMs,
      ...(maxFlushWaitMs !== undefined ? { maxFlushWaitMs } : {}),
      onCommitted: (n) => sizes.push(n),
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const ingestDone = async () => {
    while (!done) await new Promise((r) => setImmediate(r));
    await done;
  };
  return { dir, c, job, sizes, server, port: (server.address() as AddressInfo).port, ingestDone };
}
