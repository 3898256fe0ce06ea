// Evaluation viewer: an `lsr eval` output folder opened from this computer (metrics.json,
// timings.json, plot.svg, report.md, read by the browser; nothing is sent to the service): the
// metrics table with significance marks against the first system, the plot, and the queries whose
// headline measure moved most.
import { useEffect, useState } from 'preact/hooks';
import { num } from './format.js';

interface Metrics {
  dataset: string;
  split: string;
  num_queries: number;
  k: number;
  measures: string[];
  retrievers: {
    spec: string;
    fusion?: boolean;
    run_file: string;
    mean: Record<string, number>;
    per_query: Record<string, Record<string, number>>;
  }[];
  significance: {
    spec: string;
    baseline: string;
    measure: string;
    mean_difference: number;
    wins: number;
    losses: number;
    p_randomization: number;
    p_ttest: number;
  }[];
}

interface Loaded {
  folder: string;
  metrics: Metrics;
  timings?: { retrievers: { spec: string; seconds: { index: number; search: number } }[]; seconds: number };
  plot?: string;
  report?: string;
  queryText: Map<string, string>;
}

const ALPHA = 0.05;

/** The query texts report.md lists for the moved queries (`| id | text | ...`), when it has them. */
function textsFromReport(md: string): Map<string, string> {
  const m = new Map<string, string>();
  const at = md.indexOf('## Queries that moved most');
  if (at < 0) return m;
  for (const line of md.slice(at).split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length >= 4 && /^`?[^`\s]+`?$/.test(cells[1]) && cells[2] && !/^-+$/.test(cells[2]))
      m.set(cells[1].replace(/`/g, ''), cells[2]);
  }
  return m;
}

export function EvalView() {
  const [data, setData] = useState<Loaded | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [showReport, setShowReport] = useState(false);
  useEffect(() => () => data?.plot && URL.revokeObjectURL(data.plot), [data]);

  const open = async (e: Event) => {
    setError(null);
    const files = [...((e.currentTarget as HTMLInputElement).files ?? [])];
    const named = (n: string) => files.find((f) => f.name === n);
    const m = named('metrics.json');
    if (!m) {
      setData(null);
      return setError('No metrics.json in the chosen folder: choose the folder lsr eval --out wrote.');
    }
    try {
      const metrics = JSON.parse(await m.text()) as Metrics;
      if (!Array.isArray(metrics.retrievers) || !Array.isArray(metrics.measures)) throw new Error('metrics.json is not an lsr eval output');
      const t = named('timings.json');
      const p = named('plot.svg');
      const r = named('report.md');
      const report = r ? await r.text() : undefined;
      const folder = (m.webkitRelativePath || m.name).split('/').slice(0, -1).join('/') || '(chosen files)';
      setData({
        folder,
        metrics,
        ...(t ? { timings: JSON.parse(await t.text()) } : {}),
        // An <img> shows the SVG without running anything in it.
        ...(p ? { plot: URL.createObjectURL(new Blob([await p.arrayBuffer()], { type: 'image/svg+xml' })) } : {}),
        ...(report !== undefined ? { report } : {}),
        queryText: report ? textsFromReport(report) : new Map(),
      });
    } catch (err) {
      setData(null);
      setError(`Could not read the folder: ${(err as Error).message}`);
    }
  };

  return (
    <section aria-labelledby="ev-h">
      <h1 id="ev-h">Evaluation</h1>
      <div class="card">
        <label for="ev-folder">Open an lsr eval output folder (the --out folder: metrics.json, plot.svg, report.md)</label>
        <input id="ev-folder" type="file" {...{ webkitdirectory: true }} multiple onChange={open} />
        <p class="hint">The files are read by this browser only; nothing is uploaded.</p>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {data && <Report data={data} showReport={showReport} setShowReport={setShowReport} />}
    </section>
  );
}

function Report({ data, showReport, setShowReport }: { data: Loaded; showReport: boolean; setShowReport: (b: boolean) => void }) {
  const { metrics } = data;
  const first = metrics.retrievers[0];
  const sig = new Map(metrics.significance.map((s) => [`${s.spec}\u0000${s.measure}`, s]));
  const best = new Map(metrics.measures.map((m) => [m, Math.max(...metrics.retrievers.map((r) => r.mean[m] ?? -Infinity))]));
  // The measure report.md orders its moved queries by.
  const headline = metrics.measures[0];
  const seconds = new Map((data.timings?.retrievers ?? []).map((t) => [t.spec, t.seconds]));
  return (
    <div data-testid="eval-report">
      <h2>
        {metrics.dataset} ({metrics.split}), {metrics.num_queries} queries, k = {metrics.k}
      </h2>
      <p class="hint">Folder {data.folder}</p>
      <div class="scroll">
        <table data-testid="eval-metrics">
          <caption>
            Means over every judged query. Bold: best. † significantly different from <code>{first.spec}</code> (paired randomization test,
            two-sided, p &lt; {ALPHA}).
          </caption>
          <thead>
            <tr>
              <th scope="col">System</th>
              {metrics.measures.map((m) => (
                <th scope="col" key={m}>
                  {m}
                </th>
              ))}
              {seconds.size > 0 && <th scope="col">Seconds (index + search)</th>}
            </tr>
          </thead>
          <tbody>
            {metrics.retrievers.map((r) => (
              <tr key={r.spec}>
                <th scope="row">
                  <code>{r.spec}</code>
                </th>
                {metrics.measures.map((m) => {
                  const s = r === first ? undefined : sig.get(`${r.spec}\u0000${m}`);
                  const marked = s !== undefined && s.p_randomization < ALPHA;
                  const v = r.mean[m];
                  return (
                    <td
                      class="n"
                      key={m}
                      title={s ? `Δ ${num(s.mean_difference)}, p = ${num(s.p_randomization)} (t-test ${num(s.p_ttest)})` : undefined}
                    >
                      {v === best.get(m) ? <strong>{num(v)}</strong> : num(v)}
                      {marked && <span class="sig"> †</span>}
                    </td>
                  );
                })}
                {seconds.size > 0 && (
                  <td class="n">
                    {seconds.has(r.spec) ? `${num(seconds.get(r.spec)!.index, 2)} + ${num(seconds.get(r.spec)!.search, 2)}` : '–'}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {data.plot && (
        <figure>
          <img src={data.plot} alt={`Plot of ${metrics.dataset}: the measures of each system`} class="plot" />
          <figcaption>plot.svg</figcaption>
        </figure>
      )}
      {metrics.retrievers.slice(1).map((r) => (
        <Moved key={r.spec} base={first} other={r} measure={headline} texts={data.queryText} />
      ))}
      {data.report !== undefined && (
        <>
          <button type="button" aria-expanded={showReport} onClick={() => setShowReport(!showReport)}>
            {showReport ? 'Hide' : 'Show'} report.md
          </button>
          {showReport && <pre class="report">{data.report}</pre>}
        </>
      )}
    </div>
  );
}

function Moved({
  base,
  other,
  measure,
  texts,
}: {
  base: Metrics['retrievers'][number];
  other: Metrics['retrievers'][number];
  measure: string;
  texts: Map<string, string>;
}) {
  // As report.md's movedQueries: the baseline's queries, by |Δ|, ties by id.
  const rows = Object.keys(base.per_query)
    .filter((id) => other.per_query[id] !== undefined)
    .map((id) => {
      const a = base.per_query[id][measure];
      const b = other.per_query[id][measure];
      return { id, a, b, d: b - a };
    })
    .filter((r) => r.d !== 0)
    .sort((x, y) => Math.abs(y.d) - Math.abs(x.d) || (x.id < y.id ? -1 : 1))
    .slice(0, 10);
  return (
    <div class="scroll">
      <table data-testid="eval-moved">
        <caption>
          Queries that moved most: <code>{other.spec}</code> against <code>{base.spec}</code> ({measure})
        </caption>
        <thead>
          <tr>
            <th scope="col">Query</th>
            <th scope="col">{base.spec}</th>
            <th scope="col">{other.spec}</th>
            <th scope="col">Δ</th>
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 && (
            <tr>
              <td colSpan={4}>No query changed.</td>
            </tr>
          )}
          {rows.map((r) => (
            <tr key={r.id}>
              <th scope="row">
                {r.id}
                {texts.get(r.id) ? `: ${texts.get(r.id)}` : ''}
              </th>
              <td class="n">{num(r.a)}</td>
              <td class="n">{num(r.b)}</td>
              <td class={`n ${r.d > 0 ? 'pos' : 'neg'}`}>
                {r.d > 0 ? '+' : ''}
                {num(r.d)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
