// Progress bars (what a terminal and a log see) and the ingest-job watcher against the real service:
// while a bulk ingest is still open, the watcher reports the service's committed count for that
// job, not an earlier job's.
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { formatDuration, type JobProgress, ProgressBar, watchIngest } from '../../src/eval/progress.js';
import { removeDir, startTestServer, tempDir, type TestServer } from '../helpers/server.js';

/** A stderr stand-in that records what is written; `tty` says whether it claims to be a terminal. */
class Sink extends Writable {
  text = '';
  constructor(readonly isTTY: boolean) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

/** ANSI erase to the end of the line. */
const CLEAR = '\x1b[K';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ProgressBar', () => {
  it('redraws one line on a terminal with the rate and an ETA, and ends it with the final count', async () => {
    const tty = new Sink(true);
    const bar = new ProgressBar('index bm25', 10, { stream: tty, unit: 'docs' });
    expect(bar.live).toBe(true);
    bar.update(0, 'sent 0');
    // Each draw returns to the line start and clears what a longer earlier line left.
    expect(tty.text.startsWith('\r') && tty.text.endsWith(CLEAR)).toBe(true);
    expect(tty.text.slice(1, -CLEAR.length)).toMatch(/^index bm25 \[\.{30}\] 0\/10 docs 0s 0\.0 docs\/s ETA -- {2}sent 0$/);
    await sleep(120);
    bar.update(4, 'sent 10');
    const second = tty.text.split('\r')[2];
    expect(second.endsWith(CLEAR)).toBe(true);
    expect(second.slice(0, -CLEAR.length)).toMatch(/^index bm25 \[#{12}\.{18}\] 4\/10 docs 0s [\d.]+ docs\/s ETA \d+s {2}sent 10$/);
    // Redraws are throttled: an immediate update does not write again.
    const before = tty.text.length;
    bar.update(5);
    expect(tty.text.length).toBe(before);
    bar.finish('');
    const last = tty.text.split('\r').at(-1)!;
    expect(last.endsWith(`${CLEAR}\n`)).toBe(true);
    expect(last.slice(0, -CLEAR.length - 1)).toMatch(/^index bm25 \[#{15}\.{15}\] 5\/10 docs 0s [\d.]+ docs\/s$/);
    expect(last).not.toContain('ETA');
    bar.update(9);
    bar.finish();
    expect(tty.text.split('\n').length).toBe(2); // nothing after finish
  });

  it('prints only one final line when the stream is not a terminal, and nothing when disabled', () => {
    const log = new Sink(false);
    const bar = new ProgressBar('search bm25', 3, { stream: log, unit: 'queries' });
    expect(bar.live).toBe(false);
    bar.tick();
    bar.tick();
    bar.tick();
    expect(log.text).toBe('');
    bar.finish();
    expect(log.text).toMatch(/^search bm25 \[#{30}\] 3\/3 queries 0s [\d.]+ queries\/s\n$/);

    const off = new Sink(true);
    const quiet = new ProgressBar('x', 3, { stream: off, enabled: false });
    expect(quiet.live).toBe(false);
    quiet.update(2);
    quiet.finish();
    expect(off.text).toBe('');
  });

  it('formats durations', () => {
    expect(formatDuration(0.4)).toBe('0s');
    expect(formatDuration(59.4)).toBe('59s');
    expect(formatDuration(425)).toBe('7m05s');
    expect(formatDuration(3720)).toBe('1h02m');
  });
});

describe('watchIngest', () => {
  let server: TestServer;
  const dir = tempDir('lsr-watch-');
  afterAll(async () => {
    await server?.close();
    removeDir(dir);
  });

  const lines = (from: number, to: number) =>
    Array.from({ length: to - from }, (_, i) => `${JSON.stringify({ _id: `d${from + i}`, title: 'doc', text: `word${from + i}` })}\n`).join(
      '',
    );

  it("reports the open job's committed count while the ingest waits, and returns the ingest's answer", async () => {
    server = await startTestServer({}, dir);
    expect((await server.req('POST', '/v1/collections', { name: 'w' })).status).toBe(201);
    // An earlier job of the same collection: the watcher must not mistake it for the new one.
    const earlier = await server.ndjson('/v1/collections/w/documents?wait=true', lines(100, 102));
    expect(earlier.body.state).toBe('committed');

    const get = async (path: string) => {
      const res = await fetch(`${server.url}${path}`);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return res.json();
    };
    let push!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        push = c;
      },
    });
    push.enqueue(new TextEncoder().encode(lines(0, 10)));
    const seen: JobProgress[] = [];
    let released = false;
    const answer = await watchIngest(
      get,
      'w',
      async () => {
        const res = await fetch(`${server.url}/v1/collections/w/documents?wait=true`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-ndjson' },
          body,
          duplex: 'half',
        } as RequestInit & { duplex: 'half' });
        return (await res.json()) as { id: string; state: string; indexed: number };
      },
      (job) => {
        seen.push(job);
        // The first ten lines are committed (after the service's idle flush) while the request is
        // still open: only then is the rest sent, so this count was seen mid-ingest.
        if (job.indexed === 10 && !released) {
          released = true;
          push.enqueue(new TextEncoder().encode(lines(10, 15)));
          push.close();
        }
      },
      20,
    );
    expect(released).toBe(true);
    expect(answer.state).toBe('committed');
    expect(answer.indexed).toBe(15);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((j) => j.id === answer.id && j.id !== earlier.body.id && j.collection === 'w')).toBe(true);
    expect(seen.some((j) => j.state === 'running' && j.indexed === 10)).toBe(true);
  }, 60_000);

  it('still runs the ingest when the service will not list jobs', async () => {
    const calls: string[] = [];
    const result = await watchIngest(
      async (path) => {
        calls.push(path);
        throw new Error('HTTP 403');
      },
      'w',
      async () => 42,
      () => {
        throw new Error('no job should be reported');
      },
      5,
    );
    expect(result).toBe(42);
    expect(calls).toEqual(['/v1/jobs']);
  });
});
