// `lsr search <collection> "<query>"`: one search through the API's search route.
import { CLIENT_FLAGS_HELP, parseArgs, wantsHelp } from '../args.js';

const HELP = `usage: lsr search <collection> "<query>" [options]

Runs one search and prints the hits: rank, score, _id and the first field asked for.

Options:
  --k <n>               hits to return, 1-1000 (default 10)
  --retriever <name>    the collection's retriever to search (default: its default retriever)
  --fields <a,b>        stored fields returned with each hit (default title)
  --filter <json>       metadata filter, e.g. '{"year": {"gte": 2021}}'
  --explain             each hit's per-term contributions
  --json                print the search response as one JSON document
${CLIENT_FLAGS_HELP}`;

export async function run(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) {
    process.stdout.write(HELP);
    return 0;
  }
  // Loaded after the help check: the client pulls in the service and its native addon, which
  // printing help must not need (a fresh checkout may not have built it yet).
  const { describeError, openClient } = await import('../client.js');
  const { flags, positionals } = parseArgs(argv, ['explain', 'json']);
  const [name, query] = positionals;
  if (!name || query === undefined) {
    process.stderr.write(`lsr search: give a collection and a query\n\n${HELP}`);
    return 2;
  }
  const body: Record<string, unknown> = { query, k: flags.k ? Number(flags.k) : 10 };
  if (flags.retriever) body.retriever = flags.retriever;
  if (flags.fields) body.fields = flags.fields.split(',');
  else body.fields = ['title'];
  if (flags.explain) body.explain = true;
  if (flags.filter) {
    try {
      body.filter = JSON.parse(flags.filter);
    } catch {
      process.stderr.write('lsr search: --filter must be JSON\n');
      return 2;
    }
  }
  const client = await openClient(flags);
  try {
    const res = await client.request('POST', `/v1/collections/${encodeURIComponent(name)}/search`, body);
    if (res.status !== 200) {
      process.stderr.write(`lsr search: ${describeError(res)}\n`);
      return 1;
    }
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(res.body)}\n`);
      return 0;
    }
    const r = res.body as {
      hits: {
        _id: string;
        score: number;
        fields?: Record<string, unknown>;
        explain?: { terms: { term: string; contribution: number }[] };
      }[];
    };
    r.hits.forEach((h, i) => {
      const title = h.fields?.title ?? Object.values(h.fields ?? {})[0] ?? '';
      process.stdout.write(`${String(i + 1).padStart(3)}. ${h.score.toFixed(4)}  ${h._id}  ${String(title).slice(0, 100)}\n`);
      if (h.explain) process.stdout.write(`       ${h.explain.terms.map((t) => `${t.term}=${t.contribution.toFixed(3)}`).join(' ')}\n`);
    });
    if (r.hits.length === 0) process.stdout.write('no hits\n');
    return 0;
  } finally {
    await client.close();
  }
}
