// SIGTERM while a bulk job streams: the server stops reading, commits what it read, exits 0, and
// after a restart every document the job reported is there.
import { afterAll, describe, expect, it } from 'vitest';
import { startChildServer, type ChildServer } from '../helpers/child-server.js';
import { removeDir, tempDir } from '../helpers/server.js';

const dataDir = tempDir('lsr-term-');
let server: ChildServer | undefined;

afterAll(() => {
  server?.child.kill('SIGKILL');
  removeDir(dataDir);
});

describe('graceful shutdown', () => {
  it('finishes the batches it read and exits 0 on SIGTERM', async () => {
    server = await startChildServer(dataDir, { LSR_BATCH_SIZE: '50' });
    const url = server.url;
    await fetch(`${url}/v1/collections`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"term"}' });
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(ctrl) {
        const chunk =
          Array.from({ length: 25 }, (_, j) => JSON.stringify({ _id: `t${sent + j}`, text: `shutdown doc ${sent + j}` })).join('\n') + '\n';
        sent += 25;
        await new Promise((r) => setTimeout(r, 20));
        ctrl.enqueue(new TextEncoder().encode(chunk));
      },
    });
    const upload = fetch(`${url}/v1/collections/term/documents`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body,
      duplex: 'half',
    } as RequestInit).catch(() => null);
    let reported = 0;
    while (reported < 200) {
      const jobs = ((await (await fetch(`${url}/v1/jobs`)).json()) as { jobs: { indexed: number }[] }).jobs;
      reported = jobs[0]?.indexed ?? 0;
      await new Promise((r) => setTimeout(r, 50));
    }
    server.child.kill('SIGTERM');
    const exit = await server.exited;
    expect(exit.code).toBe(0);
    expect(server.output()).toMatch(/"msg":"shutting down"/);
    await upload;

    server = await startChildServer(dataDir);
    const stats = (
      (await (await fetch(`${server.url}/v1/collections/term`)).json()) as {
        stats: { documents: number; committed_seq: number; seq: number };
      }
    ).stats;
    expect(stats.documents).toBeGreaterThanOrEqual(reported);
    const hits = (
      (await (
        await fetch(`${server.url}/v1/collections/term/search`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: 'shutdown', k: 1000 }),
        })
      ).json()) as { hits: unknown[] }
    ).hits;
    expect(hits.length).toBe(Math.min(stats.documents, 1000));
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
    server = undefined;
  }, 300_000);
});
