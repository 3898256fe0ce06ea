// `lsr collections`: list collections with their document counts and sizes.
import { parseArgs } from '../args.js';
import { describeError, openClient } from '../client.js';

export async function run(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, ['json']);
  const client = await openClient(flags);
  try {
    const res = await client.request('GET', '/v1/collections');
    if (res.status !== 200) {
      process.stderr.write(`lsr collections: ${describeError(res)}\n`);
      return 1;
    }
    const { collections } = res.body as {
      collections: { name: string; default_retriever: string; stats: { documents: number; segments: number; bytes_on_disk: number } }[];
    };
    if (flags.json) process.stdout.write(JSON.stringify(collections) + '\n');
    else if (collections.length === 0) process.stdout.write('no collections\n');
    else
      for (const c of collections)
        process.stdout.write(
          `${c.name}\t${c.stats.documents} docs\t${c.stats.segments} segments\t${(c.stats.bytes_on_disk / 1048576).toFixed(1)} MiB\t${c.default_retriever}\n`,
        );
    return 0;
  } finally {
    await client.close();
  }
}
