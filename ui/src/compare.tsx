// Compare: two configurations on one query, their rankings side by side with the shared documents
// joined by lines (green up, red down in B, grey unchanged; documents only one side found marked);
// and over a query set with judgments: nDCG@10 per query for both (the project's own trec_eval
// measures, src/eval/metrics.ts), deltas sorted, a click shows both rankings of that query.
import { useEffect, useState } from 'preact/hooks';
import { evaluateQuery, parseMeasure, rankDocuments } from '../../src/eval/metrics.js';
import type { LsrClient } from '../../src/client/index.js';
import { errorText, LsrError, type SearchHit } from './api.js';
import { num } from './format.js';
import { CollectionSelect } from './collection-select.js';
import type { Ctx } from './main.js';
import { ConfigEditor, defaultConfig, labelOf, retrieversOf, type SearchConfig, toRequest } from './search-config.js';

const ROW = 44;
const NDCG10 = [parseMeasure('ndcg_cut_10')];
const MAX_QUERIES = 1000;

interface Pair {
  a: SearchHit[];
  b: SearchHit[];
}

export function CompareView({ ctx }: { ctx: Ctx }) {
  const [name, setName] = useState(ctx.collections[0]?.name ?? '');
  const collection = ctx.collections.find((c) => c.name === name);
  const [cfgA, setA] = useState<SearchConfig>(defaultConfig(collection, false));
  const [cfgB, setB] = useState<SearchConfig>(defaultConfig(collection, true));
  const [k, setK] = useState('10');
  useEffect(() => {
    if (!name && ctx.collections[0]) setName(ctx.collections[0].name);
  }, [ctx.collections]);
  useEffect(() => {
    setA(defaultConfig(collection, false));
    setB(defaultConfig(collection, true));
  }, [name, retrieversOf(collection).join(',')]);

  const search = async (cfg: SearchConfig, query: string): Promise<SearchHit[]> => {
    const title = collection?.fields[0];
    const res = await ctx.api.search(name, toRequest(cfg, { query, k: Number(k), ...(title ? { fields: [title] } : {}) }));
    return res.hits;
  };
  const both = async (query: string): Promise<Pair> => {
    const [a, b] = await Promise.all([search(cfgA, query), search(cfgB, query)]);
    return { a, b };
  };

  return (
    <section aria-labelledby="cmp-h">
      <h1 id="cmp-h">Compare</h1>
      <div class="card">
        <div class="row-inline">
          <CollectionSelect id="cmp-collection" value={name} collections={ctx.collections} onChange={setName} />
          <div class="row">
            <label for="cmp-k">Hits per side (k)</label>
            <input id="cmp-k" class="small" inputMode="numeric" value={k} onInput={(e) => setK(e.currentTarget.value)} />
          </div>
        </div>
        <div class="grid2">
          <ConfigEditor id="cmp-a" legend="A" cfg={cfgA} collection={collection} onChange={setA} />
          <ConfigEditor id="cmp-b" legend="B" cfg={cfgB} collection={collection} onChange={setB} />
        </div>
      </div>
      <OneQuery both={both} labelA={labelOf(cfgA)} labelB={labelOf(cfgB)} />
      <QuerySet both={both} labelA={labelOf(cfgA)} labelB={labelOf(cfgB)} api={ctx.api} />
    </section>
  );
}

function OneQuery({ both, labelA, labelB }: { both: (q: string) => Promise<Pair>; labelA: string; labelB: string }) {
  const [query, setQuery] = useState('');
  const [pair, setPair] = useState<Pair | null>(null);
  const [error, setError] = useState<string | null>(null);
  const run = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      setPair(await both(query));
    } catch (err) {
      setPair(null);
      setError(errorText(err));
    }
  };
  return (
    <div class="card" data-testid="compare-one">
      <h2>One query</h2>
      <form onSubmit={run} class="row-inline">
        <div class="row grow">
          <label for="cmp-query">Query</label>
          <input id="cmp-query" type="search" value={query} onInput={(e) => setQuery(e.currentTarget.value)} />
        </div>
        <button type="submit">Compare</button>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {pair && <RankDiagram pair={pair} labelA={labelA} labelB={labelB} />}
    </div>
  );
}

/** Both rankings, joined where they share a document. */
export function RankDiagram({
  pair,
  labelA,
  labelB,
  judged,
}: {
  pair: Pair;
  labelA: string;
  labelB: string;
  judged?: Map<string, number>;
}) {
  const { a, b } = pair;
  const rankA = new Map(a.map((h, i) => [h._id, i]));
  const rankB = new Map(b.map((h, i) => [h._id, i]));
  const shared = a.filter((h) => rankB.has(h._id)).length;
  const rows = Math.max(a.length, b.length, 1);
  const moved = a.filter((h) => rankB.has(h._id) && rankB.get(h._id) !== rankA.get(h._id)).length;
  const item = (h: SearchHit, i: number, other: Map<string, number>, side: 'a' | 'b') => {
    const j = other.get(h._id);
    const change = j === undefined ? 'only' : side === 'b' ? (j > i ? 'up' : j < i ? 'down' : 'same') : 'same';
    const rel = judged?.get(h._id);
    const title = (h.fields ?? {}) as Record<string, unknown>;
    const first = Object.values(title).find((v) => typeof v === 'string') as string | undefined;
    return (
      <li key={h._id} class={`rk ${change}`} style={{ height: `${ROW}px` }}>
        <span class="pos">{i + 1}</span>
        <span class="doc">
          <span class="id">{h._id}</span>
          {first && <span class="ti">{first}</span>}
        </span>
        {rel !== undefined && rel > 0 && (
          <span class="rel" title={`judged relevant (${rel})`}>
            rel {rel}
          </span>
        )}
        {j === undefined ? (
          <span class="tag">only {side.toUpperCase()}</span>
        ) : side === 'b' && j !== i ? (
          <span class="delta">{j > i ? `↑${j - i}` : `↓${i - j}`}</span>
        ) : null}
      </li>
    );
  };
  return (
    <div data-testid="rank-diagram">
      <p class="summary" role="status" data-testid="overlap">
        Overlap: {shared} of {Math.max(a.length, b.length)} documents in both lists (
        {a.length ? Math.round((100 * shared) / Math.max(a.length, b.length)) : 0}%),
        {` ${moved}`} of them at another rank.
      </p>
      <div class="diagram">
        <div>
          <h3 class="side">A: {labelA}</h3>
          <ol class="ranks">{a.map((h, i) => item(h, i, rankB, 'a'))}</ol>
        </div>
        <svg
          class="links"
          viewBox={`0 0 100 ${rows * ROW}`}
          preserveAspectRatio="none"
          style={{ height: `${rows * ROW}px` }}
          aria-hidden="true"
        >
          {a.map((h, i) => {
            const j = rankB.get(h._id);
            if (j === undefined) return null;
            const cls = j < i ? 'up' : j > i ? 'down' : 'same';
            return (
              <line key={h._id} class={cls} x1="0" y1={(i + 0.5) * ROW} x2="100" y2={(j + 0.5) * ROW} vector-effect="non-scaling-stroke" />
            );
          })}
        </svg>
        <div>
          <h3 class="side">B: {labelB}</h3>
          <ol class="ranks">{b.map((h, i) => item(h, i, rankA, 'b'))}</ol>
        </div>
      </div>
    </div>
  );
}

interface QueryRow {
  id: string;
  text: string;
  a: number;
  b: number;
  pair: Pair;
}

/** BEIR queries.jsonl ({"_id", "text"}) or TSV lines `id<TAB>text`. */
export function parseQueries(text: string): { id: string; text: string }[] {
  const out: { id: string; text: string }[] = [];
  for (const [n, line] of text.split('\n').entries()) {
    const s = line.trim();
    if (!s) continue;
    if (s.startsWith('{')) {
      const o = JSON.parse(s) as { _id?: unknown; text?: unknown };
      if (typeof o._id !== 'string' || typeof o.text !== 'string') throw new Error(`queries line ${n + 1}: needs "_id" and "text"`);
      out.push({ id: o._id, text: o.text });
    } else {
      const tab = s.indexOf('\t');
      if (tab < 0) throw new Error(`queries line ${n + 1}: neither a JSON object nor id<TAB>text`);
      out.push({ id: s.slice(0, tab), text: s.slice(tab + 1) });
    }
  }
  return out;
}

/** BEIR qrels (`query-id corpus-id score`, header optional) or TREC qrels (`qid 0 docid rel`). */
export function parseQrels(text: string): Map<string, Map<string, number>> {
  const q = new Map<string, Map<string, number>>();
  for (const [n, line] of text.split('\n').entries()) {
    const f = line.trim().split(/\s+/);
    if (f.length === 1 && f[0] === '') continue;
    if (n === 0 && f[0] === 'query-id') continue;
    const [qid, doc, rel] = f.length >= 4 ? [f[0], f[2], f[3]] : [f[0], f[1], f[2]];
    const r = Number(rel);
    if (doc === undefined || !Number.isFinite(r)) throw new Error(`qrels line ${n + 1}: expected "query-id corpus-id score"`);
    if (!q.has(qid)) q.set(qid, new Map());
    q.get(qid)!.set(doc, r);
  }
  return q;
}

function ndcg10(hits: SearchHit[], judged: Map<string, number>): number {
  const ranked = rankDocuments(new Map(hits.map((h) => [h._id, h.score])));
  return evaluateQuery(ranked, judged, NDCG10).ndcg_cut_10;
}

/** The server's BEIR folders (GET /v1/datasets, under LSR_DATASET_ROOTS): a split loads into the boxes. */
function ServerDatasets({ api, onLoad }: { api: LsrClient; onLoad: (queries: string, qrels: string) => void }) {
  const [datasets, setDatasets] = useState<{ name: string; splits: string[] }[]>([]);
  const [chosen, setChosen] = useState('');
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.api.GET('/v1/datasets').then((r) => {
      if (!r.data) return;
      setDatasets(r.data.datasets);
      const first = r.data.datasets[0];
      if (first) setChosen(`${first.name}\u0000${first.splits.includes('test') ? 'test' : first.splits[0]}`);
    });
  }, []);
  if (datasets.length === 0) return <p class="hint">The server offers no BEIR folders (it reads them only under LSR_DATASET_ROOTS).</p>;
  const load = async () => {
    setError(null);
    const [name, split] = chosen.split('\u0000');
    const r = await api.api.GET('/v1/datasets/{name}/judgments', { params: { path: { name }, query: { split } } });
    if (!r.data) return setError(errorText(new LsrError(`GET /v1/datasets/${name}/judgments`, r.response.status, r.error ?? '')));
    onLoad(
      r.data.queries.map((q) => JSON.stringify({ _id: q.id, text: q.text })).join('\n'),
      `query-id\tcorpus-id\tscore\n${r.data.qrels.map((q) => `${q.query}\t${q.doc}\t${q.relevance}`).join('\n')}\n`,
    );
  };
  return (
    <div class="row-inline">
      <div class="row">
        <label for="qs-dataset">A BEIR folder on the server</label>
        <select id="qs-dataset" value={chosen} onChange={(e) => setChosen(e.currentTarget.value)}>
          {datasets.flatMap((d) =>
            d.splits.map((sp) => (
              <option key={`${d.name}/${sp}`} value={`${d.name}\u0000${sp}`}>
                {d.name} ({sp})
              </option>
            )),
          )}
        </select>
      </div>
      <button type="button" onClick={load}>
        Load its judged queries
      </button>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

function QuerySet({ both, labelA, labelB, api }: { both: (q: string) => Promise<Pair>; labelA: string; labelB: string; api: LsrClient }) {
  const [queries, setQueries] = useState('');
  const [qrels, setQrels] = useState('');
  const [rows, setRows] = useState<QueryRow[]>([]);
  const [judgments, setJudgments] = useState<Map<string, Map<string, number>>>(new Map());
  const [progress, setProgress] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);

  const readFile = (set: (s: string) => void) => async (e: Event) => {
    const f = (e.currentTarget as HTMLInputElement).files?.[0];
    if (f) set(await f.text());
  };
  const run = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setRows([]);
    setOpen(null);
    let qs: { id: string; text: string }[];
    let qr: Map<string, Map<string, number>>;
    try {
      qr = parseQrels(qrels);
      qs = parseQueries(queries).filter((q) => qr.has(q.id));
    } catch (err) {
      return setError((err as Error).message);
    }
    if (qs.length === 0) return setError('No query has judgments: the qrels name none of the query ids.');
    if (qs.length > MAX_QUERIES)
      return setError(`${qs.length} judged queries: the console runs at most ${MAX_QUERIES}; use lsr eval for more.`);
    setJudgments(qr);
    const out: QueryRow[] = [];
    try {
      // Four queries at a time, each searched by both configurations.
      let next = 0;
      const worker = async () => {
        while (next < qs.length) {
          const q = qs[next++];
          const pair = await both(q.text);
          const j = qr.get(q.id)!;
          out.push({ id: q.id, text: q.text, a: ndcg10(pair.a, j), b: ndcg10(pair.b, j), pair });
          setProgress(`${out.length} of ${qs.length} queries`);
        }
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
    } catch (err) {
      setError(errorText(err));
    }
    out.sort((x, y) => y.b - y.a - (x.b - x.a) || (x.id < y.id ? -1 : 1));
    setRows(out);
    setProgress(null);
  };
  const mean = (f: (r: QueryRow) => number) => (rows.length ? rows.reduce((s, r) => s + f(r), 0) / rows.length : 0);
  const wins = rows.filter((r) => r.b > r.a).length;
  const losses = rows.filter((r) => r.b < r.a).length;
  const maxAbs = Math.max(...rows.map((r) => Math.abs(r.b - r.a)), 1e-9);
  const opened = rows.find((r) => r.id === open);

  return (
    <div class="card" data-testid="compare-set">
      <h2>A query set with judgments</h2>
      <ServerDatasets
        api={api}
        onLoad={(q, r) => {
          setQueries(q);
          setQrels(r);
        }}
      />
      <form onSubmit={run}>
        <div class="grid2">
          <div class="row">
            <label for="qs-queries">Queries (BEIR queries.jsonl, or id&lt;TAB&gt;text lines)</label>
            <textarea id="qs-queries" rows={4} value={queries} onInput={(e) => setQueries(e.currentTarget.value)} />
            <label for="qs-queries-file">or its file</label>
            <input id="qs-queries-file" type="file" accept=".jsonl,.tsv,.txt" onChange={readFile(setQueries)} />
          </div>
          <div class="row">
            <label for="qs-qrels">Judgments (BEIR qrels TSV or TREC qrels)</label>
            <textarea id="qs-qrels" rows={4} value={qrels} onInput={(e) => setQrels(e.currentTarget.value)} />
            <label for="qs-qrels-file">or its file</label>
            <input id="qs-qrels-file" type="file" accept=".tsv,.txt,.qrels" onChange={readFile(setQrels)} />
          </div>
        </div>
        <button type="submit">Compare on every judged query</button>
      </form>
      {progress && <p role="status">{progress}</p>}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {rows.length > 0 && (
        <>
          <p class="summary" data-testid="set-summary">
            nDCG@10 over {rows.length} queries: A ({labelA}) {num(mean((r) => r.a))}, B ({labelB}) {num(mean((r) => r.b))}, Δ{' '}
            {num(mean((r) => r.b - r.a))}; B better on {wins}, worse on {losses}, tied on {rows.length - wins - losses}.
          </p>
          <div class="scroll">
            <table data-testid="deltas">
              <caption class="sr-only">Per-query nDCG@10, sorted by B minus A</caption>
              <thead>
                <tr>
                  <th scope="col">Query</th>
                  <th scope="col">A</th>
                  <th scope="col">B</th>
                  <th scope="col">Δ (B − A)</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => {
                  const d = r.b - r.a;
                  return (
                    <tr key={r.id} class={open === r.id ? 'open' : undefined}>
                      <th scope="row">
                        <button
                          type="button"
                          class="link"
                          aria-expanded={open === r.id}
                          onClick={() => setOpen(open === r.id ? null : r.id)}
                        >
                          {r.id}: {r.text}
                        </button>
                      </th>
                      <td class="n">{num(r.a)}</td>
                      <td class="n">{num(r.b)}</td>
                      <td class="n">
                        <span
                          class={`dbar ${d > 0 ? 'up' : d < 0 ? 'down' : 'same'}`}
                          style={{ '--w': (Math.abs(d) / maxAbs).toFixed(2) }}
                        />
                        {d > 0 ? '+' : ''}
                        {num(d)}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          {opened && (
            <div data-testid="query-rankings">
              <h3>
                {opened.id}: {opened.text}
              </h3>
              <RankDiagram pair={opened.pair} labelA={labelA} labelB={labelB} judged={judgments.get(opened.id)} />
            </div>
          )}
        </>
      )}
    </div>
  );
}
