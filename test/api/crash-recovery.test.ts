// kill -9 during a bulk job: after a restart every document the job reported committed is there
// and searchable exactly once, upserts replaced their old versions, and index and store agree.
import { afterAll, describe, expect, it } from 'vitest';
import { startChildServer, type ChildServer } from '../helpers/child-server.js';
import { removeDir, tempDir } from '../helpers/server.js';

const dataDir = tempDir('lsr-crash-');
let server: ChildServer | undefined;

afterAll(() => {
  server?.child.kill('SIGKILL');
  removeDir(dataDir);
});

async function json(url: string, method = 'GET', body?: unknown): Promise<any> {
  const res = await fetch(url, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  return res.json();
}

/** Every hit of a query, page by page (k is at most 1000). */
async function allHits(url: string, query: string): Promise<string[]> {
  const ids: string[] = [];
  for (let offset = 0; ; offset += 1000) {
    const hits = (await json(`${url}/v1/collections/crash/search`, 'POST', { query, k: 1000, offset })).hits as { _id: string }[];
    ids.push(...hits.map((h) => h._id));
    if (hits.length < 1000) return ids;
  }
}

const BASE = 300;
const line = (i: number): string =>
  i < BASE
    ? JSON.stringify({ _id: `base${i}`, text: `common updated uniqbase${i}` })
    : JSON.stringify({ _id: `new${i - BASE}`, text: `common fresh uniqnew${i - BASE}` });

describe('crash recovery', () => {
  it('keeps every committed document exactly once across kill -9', async () => {
    server = await startChildServer(dataDir, { LSR_BATCH_SIZE: '100' });
    const url = server.url;
    await json(`${url}/v1/collections`, 'POST', { name: 'crash' });
    const base = Array.from({ length: BASE }, (_, i) => JSON.stringify({ _id: `base${i}`, text: `common original uniqbase${i}` })).join(
      '\n',
    );
    const first = await fetch(`${url}/v1/collections/crash/documents?wait=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: base,
    });
    expect(((await first.json()) as { indexed: number }).indexed).toBe(BASE);

    // A job that keeps streaming: upserts of the base documents, then new ones.
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(ctrl) {
        if (sent >= 50_000) return ctrl.close();
        const chunk = Array.from({ length: 50 }, (_, j) => line(sent + j)).join('\n') + '\n';
        sent += 50;
        await new Promise((r) => setTimeout(r, 20));
        ctrl.enqueue(new TextEncoder().encode(chunk));
      },
    });
    const upload = fetch(`${url}/v1/collections/crash/documents`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body,
      duplex: 'half',
    } as RequestInit).catch(() => null);

    let reported = 0;
    let jobId = '';
    while (reported < 800) {
      const jobs = (await json(`${url}/v1/jobs`)).jobs as { id: string; collection: string; state: string; indexed: number }[];
      const running = jobs.find((j) => j.collection === 'crash' && j.state === 'running');
      if (running) {
        reported = running.indexed;
        jobId = running.id;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    server.child.kill('SIGKILL');
    await server.exited;
    await upload;

    server = await startChildServer(dataDir);
    const u2 = server.url;
    const stats = (await json(`${u2}/v1/collections/crash`)).stats as { documents: number; deleted: number };
    // Committed lines are a prefix of the stream: all base upserts, then new0..new(m-1).
    const linesCommitted = BASE + (stats.documents - BASE);
    expect(stats.documents).toBeGreaterThanOrEqual(BASE);
    const newCommitted = stats.documents - BASE;
    expect(BASE + newCommitted).toBeGreaterThanOrEqual(reported);

    const ids = await allHits(u2, 'common');
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(stats.documents);
    const want = new Set([
      ...Array.from({ length: BASE }, (_, i) => `base${i}`),
      ...Array.from({ length: newCommitted }, (_, i) => `new${i}`),
    ]);
    expect(new Set(ids)).toEqual(want);

    // Every base document was upserted before the new ones began, and the old versions are gone.
    expect(linesCommitted).toBeGreaterThanOrEqual(BASE);
    expect(await allHits(u2, 'original')).toEqual([]);
    expect((await allHits(u2, 'updated')).length).toBe(BASE);
    for (const i of [0, Math.floor(newCommitted / 2), newCommitted - 1]) {
      const hits = (await json(`${u2}/v1/collections/crash/search`, 'POST', { query: `uniqnew${i}`, k: 10 })).hits as { _id: string }[];
      expect(hits.map((h) => h._id)).toEqual([`new${i}`]);
    }

    // The job's report outlives the crash: failed as interrupted, with what it had committed.
    const job = await json(`${u2}/v1/jobs/${jobId}`);
    expect(job.state).toBe('failed');
    expect(job.error.code).toBe('JOB_INTERRUPTED');
    expect(job.indexed).toBeGreaterThanOrEqual(reported);
    expect(job.indexed).toBeLessThanOrEqual(BASE + newCommitted);

    // The server still takes writes after recovery.
    const more = await fetch(`${u2}/v1/collections/crash/documents?wait=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: JSON.stringify({ _id: 'after', text: 'common after' }),
    });
    expect(((await more.json()) as { indexed: number }).indexed).toBe(1);
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
    server = undefined;
  }, 300_000);
});
