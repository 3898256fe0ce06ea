// `lsr index <collection> <file.jsonl | ->`: bulk ingest through the API's ingest route, with a
// progress bar. Creates the collection (BM25 over title and text) when it does not exist.
import { createReadStream, statSync } from 'node:fs';
import { Transform } from 'node:stream';
import { parseArgs } from '../args.js';
import { describeError, openClient } from '../client.js';
import { ProgressLine } from '../progress.js';

export async function run(argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv);
  const [name, file] = positionals;
  if (!name || !file) {
    process.stderr.write('usage: lsr index <collection> <file.jsonl | -> [--data-dir DIR | --server URL]\n');
    return 2;
  }
  const total = file === '-' ? null : statSync(file).size;
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
    const progress = new ProgressLine(total);
    let bytes = 0,
      lines = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        bytes += chunk.length;
        for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
        progress.update(bytes, lines);
        cb(null, chunk);
      },
    });
    const input = file === '-' ? process.stdin : createReadStream(file);
    input.on('error', (e: Error) => counter.destroy(e));
    const res = await client.ndjson(`/v1/collections/${encodeURIComponent(name)}/documents?wait=true`, input.pipe(counter));
    progress.update(bytes, lines, true);
    progress.done();
    if (res.status !== 200) {
      process.stderr.write(`lsr index: ${describeError(res)}\n`);
      return 1;
    }
    const job = res.body as {
      state: string;
      indexed: number;
      rejected: number;
      docs_per_second: number;
      errors: { line: number; code: string; message: string }[];
      error: { message: string } | null;
    };
    process.stdout.write(`${job.state}: ${job.indexed} documents indexed, ${job.rejected} rejected (${job.docs_per_second} docs/s)\n`);
    for (const e of job.errors.slice(0, 20)) process.stdout.write(`  line ${e.line}: ${e.code} ${e.message}\n`);
    if (job.error) process.stdout.write(`  ${job.error.message}\n`);
    // Scripts should notice refused lines, not only failed jobs.
    return job.state === 'committed' && job.rejected === 0 ? 0 : 1;
  } finally {
    await client.close();
  }
}
