// Job reports of OpenSearch-backed collections live in the cluster: a job of one `lsr serve` process
// is readable through another while it runs; kill -9 of its process leaves the report `running`
// there, and the process, restarted on its data directory, marks it failed in the cluster too.
import { afterAll, describe, expect, it } from 'vitest';
import { type ChildServer, startChildServer } from '../../helpers/child-server.js';
import { backendEnv, cluster, dropIndices, NO_OPENSEARCH, OPENSEARCH_URL, testPrefix } from '../../helpers/opensearch.js';
import { removeDir, tempDir } from '../../helpers/server.js';
import { skipBecause } from '../../helpers/skip-log.js';

const skip = skipBecause(import.meta.url, '', OPENSEARCH_URL ? null : NO_OPENSEARCH);

async function json(url: string, method = 'GET', body?: unknown): Promise<any> {
  const r = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return r.json();
}

describe.skipIf(skip !== null)('ingest-job reports in the cluster', () => {
  const prefix = testPrefix();
  const dirA = tempDir();
  const dirB = tempDir();
  let a: ChildServer | undefined;
  let b: ChildServer | undefined;

  afterAll(async () => {
    for (const s of [a, b]) if (s && s.child.exitCode === null) s.child.kill('SIGTERM');
    await Promise.all([a?.exited, b?.exited]);
    removeDir(dirA);
    removeDir(dirB);
    await dropIndices(prefix);
  });

  it('a job cut short by kill -9 reads running elsewhere, then failed once its process is back', { timeout: 120_000 }, async () => {
    const env = { ...backendEnv('opensearch', prefix), LSR_BATCH_SIZE: '200' };
    a = await startChildServer(dirA, env);
    b = await startChildServer(dirB, env);
    expect((await json(`${a.url}/v1/collections`, 'POST', { name: 'jobs' })).name).toBe('jobs');

    // A job that keeps streaming until its process is killed.
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      async pull(ctrl) {
        const chunk = `${Array.from({ length: 50 }, (_, j) => JSON.stringify({ _id: `d${sent + j}`, text: `text ${sent + j}` })).join('\n')}\n`;
        sent += 50;
        await new Promise((r) => setTimeout(r, 20));
        ctrl.enqueue(new TextEncoder().encode(chunk));
      },
    });
    const upload = fetch(`${a.url}/v1/collections/jobs/documents`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: stream,
      duplex: 'half',
    } as RequestInit).catch(() => null);

    // Seen through the other process while it runs.
    let id = '';
    for (let tries = 0; tries < 400 && !id; tries++) {
      const jobs = (await json(`${b.url}/v1/jobs`)).jobs as { id: string; state: string; indexed: number }[];
      const running = jobs.find((j) => j.state === 'running' && j.indexed >= 400);
      if (running) id = running.id;
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(id).not.toBe('');
    a.child.kill('SIGKILL');
    await a.exited;
    await upload;
    expect((await json(`${b.url}/v1/jobs/${id}`)).state).toBe('running');

    // Its process back on the same data directory: the cluster's report says failed, everywhere.
    a = await startChildServer(dirA, env);
    const seen = await json(`${b.url}/v1/jobs/${id}`);
    expect(seen.state).toBe('failed');
    expect(seen.error.code).toBe('JOB_INTERRUPTED');
    const raw = await cluster('GET', `/${prefix}.jobs/_doc/${id}`);
    expect(JSON.parse(raw.body._source.view).state).toBe('failed');
  });
});
