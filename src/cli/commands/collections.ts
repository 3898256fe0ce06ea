// `lsr collections`: list collections with their document counts and sizes.
import { CLIENT_FLAGS_HELP, parseArgs, wantsHelp } from '../args.js';

const HELP = `usage: lsr collections [--json] [options]

Lists the collections: documents, segments, size on disk and default retriever, one per line.

Options:
  --json                print the list as one JSON document (GET /v1/collections's collections)
${CLIENT_FLAGS_HELP}`;

export async function run(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) {
    process.stdout.write(HELP);
    return 0;
  }
  // Loaded after the help check: the client pulls in the service and its native addon, which
  // printing help must not need (a fresh checkout may not have built it yet).
  const { describeError, openClient } = await import('../client.js');
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
    if (flags.json) process.stdout.write(`${JSON.stringify(collections)}\n`);
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
