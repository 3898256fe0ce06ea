// `lsr search <collection> "<query>"`: one search through the API's search route.
import { CLIENT_FLAGS_HELP, parseArgs, wantsHelp } from '../args.js';

const HELP = `usage: lsr search <collection> "<query>" [options]

Runs one search and prints the hits: rank, score, _id and the first field asked for.

Options:
  --k <n>               hits to return, 1-1000 (default 10)
  --retriever <name>    the collection's retriever to search (default: its default retriever)
  --fields <a,b>        stored fields returned with each hit (default title)
  --filter <json>       metadata filter, e.g. '{"year": {"gte": 2021}}'
  --explain             each hit's per-term contributions (and, with passages, the passage that matched)
  --json                print the search response as one JSON document

Pseudo-relevance feedback (the request's "prf"; any --prf-* flag implies --prf):
  --prf                 expand the query from the first search's top documents, with the
                        retriever's method: rm3 (bm25), terms (learned sparse), rocchio (dense)
  --prf-method <m>      rm3, terms or rocchio
  --prf-docs <n>        feedback documents, 1-100 (default 10; rocchio 3)
  --prf-terms <n>       expansion terms, 1-1000 (rm3, terms; default 10)
  --prf-weight <w>      weight of the original query, 0-1 (default 0.5)

Dense verification (the request's "verify"; any --verify-* flag implies --verify):
  --verify              re-score the top candidates with a dense retriever's exact inner product
  --verify-retriever <name>  the dense retriever (default: the collection's only one)
  --verify-candidates <n>    candidates re-scored, 1-10000 (default 100)
  --verify-weight <w>   weight of the dense score, 0-1 (default 1: rank by it alone)
${CLIENT_FLAGS_HELP}`;

/** A flag's value as an integer in [lo, hi], else an error naming the flag. */
function intFlag(flags: Record<string, string>, name: string, lo: number, hi: number): number | undefined {
  const raw = flags[name];
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (raw === 'true' || !Number.isInteger(v) || v < lo || v > hi)
    throw new Error(`--${name} must be an integer from ${lo} to ${hi}, got '${raw}'`);
  return v;
}

/** A flag's value as a number in [0, 1], else an error naming the flag. */
function weightFlag(flags: Record<string, string>, name: string): number | undefined {
  const raw = flags[name];
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (raw === 'true' || raw.trim() === '' || !(v >= 0 && v <= 1)) throw new Error(`--${name} must be a number from 0 to 1, got '${raw}'`);
  return v;
}

/**
 * The request's `prf` and `verify` from the flags (undefined when not asked for), checked here so a
 * bad value names its flag; the service checks the rest (which methods the retriever takes).
 */
export async function feedbackOptions(
  flags: Record<string, string>,
): Promise<{ prf?: Record<string, unknown>; verify?: Record<string, unknown> }> {
  const { MAX_PRF_DOCS, MAX_PRF_TERMS, PRF_METHODS } = await import('../../search/prf.js');
  const { MAX_VERIFY_CANDIDATES } = await import('../../search/verify.js');
  const out: { prf?: Record<string, unknown>; verify?: Record<string, unknown> } = {};
  for (const f of ['prf', 'verify'])
    if (flags[f] !== undefined && flags[f] !== 'true')
      throw new Error(`--${f} takes no value, got '${flags[f]}' (use --${f}-* flags for settings)`);
  const method = flags['prf-method'];
  if (method !== undefined && !(PRF_METHODS as readonly string[]).includes(method))
    throw new Error(`--prf-method must be one of ${PRF_METHODS.join(', ')}, got '${method}'`);
  const prf = {
    ...(method !== undefined ? { method } : {}),
    ...opt('docs', intFlag(flags, 'prf-docs', 1, MAX_PRF_DOCS)),
    ...opt('terms', intFlag(flags, 'prf-terms', 1, MAX_PRF_TERMS)),
    ...opt('weight', weightFlag(flags, 'prf-weight')),
  };
  if (flags.prf !== undefined || Object.keys(prf).length > 0) out.prf = prf;
  const retriever = flags['verify-retriever'];
  if (retriever === 'true' || retriever === '') throw new Error('--verify-retriever needs a retriever name');
  const verify = {
    ...(retriever !== undefined ? { retriever } : {}),
    ...opt('candidates', intFlag(flags, 'verify-candidates', 1, MAX_VERIFY_CANDIDATES)),
    ...opt('weight', weightFlag(flags, 'verify-weight')),
  };
  if (flags.verify !== undefined || Object.keys(verify).length > 0) out.verify = verify;
  return out;
}

function opt(key: string, v: number | undefined): Record<string, number> {
  return v === undefined ? {} : { [key]: v };
}

export async function run(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) {
    process.stdout.write(HELP);
    return 0;
  }
  // Loaded after the help check: the client pulls in the service and its native addon, which
  // printing help must not need (a fresh checkout may not have built it yet).
  const { describeError, openClient } = await import('../client.js');
  const { flags, positionals } = parseArgs(argv, ['explain', 'json', 'prf', 'verify']);
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
  try {
    Object.assign(body, await feedbackOptions(flags));
  } catch (e) {
    process.stderr.write(`lsr search: ${(e as Error).message}\n`);
    return 2;
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
        explain?: {
          terms: { term: string; contribution: number }[];
          passage?: { index: number; start: number; end: number; score: number; passages: number };
          verify?: { rank_before: number; rank_after: number };
        };
      }[];
    };
    const prf = (res.body as { prf?: { method: string; terms?: { term: string; weight: number }[] }[] }).prf;
    for (const p of prf ?? [])
      if (p.terms) process.stdout.write(`prf (${p.method}): ${p.terms.map((t) => `${t.term}=${t.weight.toFixed(3)}`).join(' ')}\n`);
    r.hits.forEach((h, i) => {
      const title = h.fields?.title ?? Object.values(h.fields ?? {})[0] ?? '';
      process.stdout.write(`${String(i + 1).padStart(3)}. ${h.score.toFixed(4)}  ${h._id}  ${String(title).slice(0, 100)}\n`);
      if (h.explain) {
        const e = h.explain;
        process.stdout.write(`       ${e.terms.map((t) => `${t.term}=${t.contribution.toFixed(3)}`).join(' ')}\n`);
        if (e.passage)
          process.stdout.write(
            `       passage ${e.passage.index + 1} of ${e.passage.passages} (characters ${e.passage.start}-${e.passage.end}), score ${e.passage.score.toFixed(4)}\n`,
          );
        if (e.verify) process.stdout.write(`       verify: rank ${e.verify.rank_before} -> ${e.verify.rank_after}\n`);
      }
    });
    if (r.hits.length === 0) process.stdout.write('no hits\n');
    return 0;
  } finally {
    await client.close();
  }
}
