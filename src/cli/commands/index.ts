// `lsr index <collection> <file.jsonl | ->`: bulk ingest through the API's ingest route, with
// progress bars: the upload (bytes and documents read), then, when the service is still encoding
// and indexing after the last byte, the documents it has committed. Creates the collection (BM25
// over title and text) when it does not exist.
import { createReadStream, statSync } from 'node:fs';
import { Transform } from 'node:stream';
import { fail } from '../../errors.js';
import { ProgressBar, watchIngest } from '../../eval/progress.js';
import { CLIENT_FLAGS_HELP, parseArgs, wantsHelp } from '../args.js';
import type { ApiClient } from '../client.js';
import { ProgressLine } from '../progress.js';

const HELP = `usage: lsr index <collection> <file.jsonl | -> [options]

Bulk-ingests NDJSON (one {"_id", "<field>": "...", "metadata"?} object per line; - reads stdin)
as one job, creating the collection (BM25 over title and text) when it does not exist, and waits
until it is committed. Exits 1 when the job failed or rejected a line.

Options:
  --json                print the finished job report (GET /v1/jobs/:id) as one JSON document
  --no-progress         no progress bars (they go to stderr, and only on a terminal)
${CLIENT_FLAGS_HELP}`;

interface JobReport {
  state: string;
  indexed: number;
  rejected: number;
  docs_per_second: number;
  errors: { line: number; code: string; message: string }[];
  error: { message: string } | null;
}

export async function run(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) {
    process.stdout.write(HELP);
    return 0;
  }
  // Loaded after the help check: the client pulls in the service and its native addon, which
  // printing help must not need (a fresh checkout may not have built it yet).
  const { describeError, openClient } = await import('../client.js');
  const { flags, positionals } = parseArgs(argv, ['json', 'no-progress']);
  const [name, file] = positionals;
  if (!name || !file) {
    process.stderr.write(`lsr index: give a collection and a file (or - for stdin)\n\n${HELP}`);
    return 2;
  }
  let total: number | null = null;
  if (file !== '-') {
    try {
      total = statSync(file).size;
    } catch (e) {
      fail('VALIDATION_FAILED', `cannot read ${file}: ${(e as Error).message}`, 'file');
    }
  }
  // Bars are drawn only where someone sees them redraw; the job's counts are asked for only then.
  const live = !flags['no-progress'] && Boolean(process.stderr.isTTY);
  const client = await openClient(flags);
  try {
    const got = await client.request('GET', `/v1/collections/${encodeURIComponent(name)}`);
    if (got.status === 404) {
      const made = await client.request('POST', '/v1/collections', { name });
      if (made.status !== 201) {
        process.stderr.write(`lsr index: cannot create collection: ${describeError(made)}\n`);
        return 1;
      }
    } else if (got.status !== 200) {
      process.stderr.write(`lsr index: ${describeError(got)}\n`);
      return 1;
    }
    const startedAt = performance.now();
    const upload = new ProgressLine(total, process.stderr, live);
    let committing: ProgressBar | undefined;
    let bytes = 0,
      lines = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        bytes += chunk.length;
        for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
        upload.update(bytes, lines);
        cb(null, chunk);
      },
      flush(cb) {
        // Everything is sent; what is left is the service encoding and committing. A last line
        // without a newline is a document too.
        if (bytes > 0 && lines === 0) lines = 1;
        upload.update(bytes, lines, true);
        upload.done();
        committing = new ProgressBar(`index ${name}`, lines, { enabled: live, unit: 'docs', startedAt });
        cb();
      },
    });
    const input = file === '-' ? process.stdin : createReadStream(file);
    input.on('error', (e: Error) => counter.destroy(e));
    const path = `/v1/collections/${encodeURIComponent(name)}/documents?wait=true`;
    const send = () => client.ndjson(path, input.pipe(counter));
    const res = live
      ? await watchIngest(jsonGetter(client), name, send, (job) => committing?.update(job.indexed + job.rejected))
      : await send();
    if (res.status === 200) {
      const job = res.body as JobReport;
      committing?.update(job.indexed + job.rejected);
    }
    // No committing bar means the upload never finished (the service answered early): end its line.
    if (committing) committing.finish();
    else upload.done();
    if (res.status !== 200) {
      process.stderr.write(`lsr index: ${describeError(res)}\n`);
      return 1;
    }
    const job = res.body as JobReport;
    if (flags.json) process.stdout.write(`${JSON.stringify(job)}\n`);
    else {
      process.stdout.write(`${job.state}: ${job.indexed} documents indexed, ${job.rejected} rejected (${job.docs_per_second} docs/s)\n`);
      for (const e of job.errors.slice(0, 20)) process.stdout.write(`  line ${e.line}: ${e.code} ${e.message}\n`);
      if (job.error) process.stdout.write(`  ${job.error.message}\n`);
    }
    // Scripts should notice refused lines, not only failed jobs.
    return job.state === 'committed' && job.rejected === 0 ? 0 : 1;
  } finally {
    await client.close();
  }
}

/** GETs through the command's client (in-process or --server), for the job's progress. */
function jsonGetter(client: ApiClient) {
  return async (path: string): Promise<unknown> => {
    const res = await client.request('GET', path);
    if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status}`);
    return res.body;
  };
}
