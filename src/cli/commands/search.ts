// `lsr search <collection> "<query>"`: one search through the API's search route.
import { parseArgs } from '../args.js';
import { describeError, openClient } from '../client.js';

export async function run(argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, ['explain', 'json']);
  const [name, query] = positionals;
  if (!name || query === undefined) {
    process.stderr.write(
      'usage: lsr search <collection> "<query>" [--k 10] [--retriever bm25] [--fields title,text] [--filter JSON] [--explain] [--json]\n',
    );
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
      process.stdout.write(JSON.stringify(res.body) + '\n');
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
