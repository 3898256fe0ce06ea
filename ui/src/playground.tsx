// Playground: a query against one configuration, with `explain`: each hit's matching and expanded
// terms weighted by their contribution (sparse retrievers), and in a hybrid each retriever's rank,
// score, normalized score and contribution.
import { useEffect, useState } from 'preact/hooks';
import { type CollectionInfo, errorText, LsrError, type SearchHit, type SearchRequest, type SearchResponse } from './api.js';
import { num } from './format.js';
import { CollectionSelect } from './collection-select.js';
import type { Ctx } from './main.js';
import { ConfigEditor, defaultConfig, retrieversOf, type SearchConfig, toRequest } from './search-config.js';

type Terms = NonNullable<NonNullable<SearchHit['explain']>['terms']>;

export function PlaygroundView({ ctx }: { ctx: Ctx }) {
  const [name, setName] = useState(ctx.collections[0]?.name ?? '');
  const collection = ctx.collections.find((c) => c.name === name);
  const [cfg, setCfg] = useState<SearchConfig>(defaultConfig(collection));
  const [query, setQuery] = useState('');
  const [k, setK] = useState('10');
  const [filter, setFilter] = useState('');
  const [explain, setExplain] = useState(true);
  const [result, setResult] = useState<{ res: SearchResponse; query: string } | null>(null);
  const [error, setError] = useState<{ at: string; msg: string } | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!name && ctx.collections[0]) setName(ctx.collections[0].name);
  }, [ctx.collections]);
  // A new set of retrievers (another collection) starts from its defaults; a reload of the same keeps the edits.
  const names = retrieversOf(collection).join(',');
  useEffect(() => setCfg(defaultConfig(collection, cfg.hybrid)), [name, names]);

  const run = async (e: Event) => {
    e.preventDefault();
    setError(null);
    let f: SearchRequest['filter'];
    if (filter.trim()) {
      try {
        f = JSON.parse(filter);
      } catch (err) {
        return setError({ at: 'filter', msg: `The filter is not JSON: ${(err as Error).message}` });
      }
    }
    setBusy(true);
    try {
      const body = toRequest(cfg, {
        query,
        k: Number(k),
        explain,
        fields: collection ? [...collection.fields] : undefined,
        ...(f !== undefined ? { filter: f } : {}),
      });
      setResult({ res: await ctx.api.search(name, body), query });
    } catch (err) {
      const field = err instanceof LsrError ? (err.field ?? '') : '';
      const at = field.startsWith('filter') ? 'filter' : field === 'query' ? 'query' : field === 'k' ? 'k' : 'form';
      setError({ at, msg: errorText(err) });
      setResult(null);
    } finally {
      setBusy(false);
    }
  };
  const err = (at: string) =>
    error?.at === at ? (
      <p class="field-error" id={`pg-err-${at}`} role="alert">
        {error.msg}
      </p>
    ) : null;

  return (
    <section aria-labelledby="pg-h">
      <h1 id="pg-h">Playground</h1>
      <form class="card" onSubmit={run} data-testid="playground-form">
        <div class="grid2">
          <div>
            <CollectionSelect id="pg-collection" value={name} collections={ctx.collections} onChange={setName} />
            <div class="row">
              <label for="pg-query">Query</label>
              <input
                id="pg-query"
                type="search"
                value={query}
                onInput={(e) => setQuery(e.currentTarget.value)}
                aria-describedby={error?.at === 'query' ? 'pg-err-query' : undefined}
              />
              {err('query')}
            </div>
            <div class="row">
              <label for="pg-k">Hits (k)</label>
              <input id="pg-k" class="small" inputMode="numeric" value={k} onInput={(e) => setK(e.currentTarget.value)} />
              {err('k')}
            </div>
            <div class="row">
              <label for="pg-filter">Metadata filter (JSON, optional)</label>
              <input
                id="pg-filter"
                value={filter}
                placeholder='{"year": {"gte": 2021}}'
                onInput={(e) => setFilter(e.currentTarget.value)}
                aria-invalid={error?.at === 'filter' ? true : undefined}
                aria-describedby={error?.at === 'filter' ? 'pg-err-filter' : undefined}
              />
              {err('filter')}
            </div>
            <label class="inline">
              <input type="checkbox" checked={explain} onChange={(e) => setExplain(e.currentTarget.checked)} />
              Explain (term contributions, per-retriever ranks)
            </label>
          </div>
          <ConfigEditor id="pg" legend="Retrieval" cfg={cfg} collection={collection} onChange={setCfg} />
        </div>
        {err('form')}
        <button type="submit" disabled={busy || !name}>
          {busy ? 'Searching…' : 'Search'}
        </button>
      </form>
      {result && <Results res={result.res} query={result.query} collection={collection} />}
    </section>
  );
}

function Results({ res, query, collection }: { res: SearchResponse; query: string; collection: CollectionInfo | undefined }) {
  return (
    <div data-testid="results">
      <p class="summary" role="status">
        {res.hits.length} hits by <strong>{res.retriever}</strong> in {num(res.took_ms, 1)} ms ({res.candidates} candidates)
        {res.fusion ? ` · fusion ${res.fusion.method}` : ''}
      </p>
      <ol class="hits">
        {res.hits.map((h) => (
          <Hit key={h._id} hit={h} query={query} fields={collection?.fields ?? []} />
        ))}
      </ol>
    </div>
  );
}

/** Words of the query, lowercased: a term is "expanded" when it is none of them (nor one of their stems). */
function queryWords(q: string): string[] {
  return q.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

function matches(word: string, term: string): boolean {
  const t = term.replace(/^##/, '');
  return word === t || (t.length >= 3 && word.startsWith(t));
}

/** Each retriever's explained terms: the single retriever's, or each of a hybrid's sparse ones. */
function termGroups(hit: SearchHit): { retriever: string; terms: Terms }[] {
  const ex = hit.explain;
  if (!ex) return [];
  const groups = ex.terms ? [{ retriever: ex.retriever, terms: ex.terms }] : [];
  for (const r of ex.retrievers ?? []) if (r.terms?.length) groups.push({ retriever: r.name, terms: r.terms });
  return groups.map((g) => ({ ...g, terms: [...g.terms].sort((x, y) => y.contribution - x.contribution) }));
}

/**
 * For the highlighting: each term's share of its retriever's largest contribution (retrievers'
 * scores are on different scales), the largest share where several retrievers have the term.
 */
function shares(groups: { terms: Terms }[]): { term: string; share: number; contribution: number }[] {
  const by = new Map<string, { term: string; share: number; contribution: number }>();
  for (const g of groups) {
    const max = Math.max(...g.terms.map((t) => t.contribution), 1e-9);
    for (const t of g.terms) {
      const share = t.contribution / max;
      const p = by.get(t.term);
      if (!p || share > p.share) by.set(t.term, { term: t.term, share, contribution: t.contribution });
    }
  }
  return [...by.values()].sort((a, b) => b.share - a.share);
}

const SHOWN_TERMS = 12;

function TermList({ retriever, terms, words }: { retriever: string; terms: Terms; words: string[] }) {
  const [all, setAll] = useState(false);
  const max = Math.max(...terms.map((t) => t.contribution), 1e-9);
  const shown = all ? terms : terms.slice(0, SHOWN_TERMS);
  return (
    <div class="term-group">
      <span class="hint">{retriever}:</span>
      <ul class="terms" aria-label={`${retriever}: term contributions`} data-testid="terms">
        {shown.map((t) => {
          const expanded = !words.some((w) => matches(w, t.term) || matches(t.term.replace(/^##/, ''), w));
          return (
            <li key={t.term} class={expanded ? 'term expanded' : 'term'} style={{ '--w': (t.contribution / max).toFixed(2) }}>
              <span class="t">{t.term}</span>
              {expanded && <span class="tag">expanded</span>}
              <span class="c">{num(t.contribution, 3)}</span>
              <span class="sr-only">
                query weight {num(t.query_weight, 3)}, document weight {num(t.document_weight, 3)}
              </span>
            </li>
          );
        })}
        {terms.length > SHOWN_TERMS && (
          <li>
            <button type="button" class="link" aria-expanded={all} onClick={() => setAll(!all)}>
              {all ? 'fewer' : `all ${terms.length} terms`}
            </button>
          </li>
        )}
      </ul>
    </div>
  );
}

/** A field's text with each word matching an explained term marked, darker for a larger share. */
function Highlighted({ text, terms }: { text: string; terms: { term: string; share: number; contribution: number }[] }) {
  const parts = text.split(/([\p{L}\p{N}]+)/u);
  return (
    <>
      {parts.map((p, i) => {
        const t = i % 2 === 1 ? terms.find((x) => matches(p.toLowerCase(), x.term)) : undefined;
        if (!t) return p;
        return (
          <mark key={i} style={{ '--w': t.share.toFixed(2) }} title={`${t.term}: ${num(t.contribution)}`}>
            {p}
          </mark>
        );
      })}
    </>
  );
}

function Hit({ hit, query, fields }: { hit: SearchHit; query: string; fields: readonly string[] }) {
  const groups = termGroups(hit);
  const terms = shares(groups);
  const words = queryWords(query);
  const f = (hit.fields ?? {}) as Record<string, unknown>;
  const [title, ...rest] = fields;
  return (
    <li class="hit" data-testid="hit">
      <div class="hit-head">
        <span class="id">{hit._id}</span>
        <span class="score">score {num(hit.score)}</span>
      </div>
      {title && typeof f[title] === 'string' && (
        <p class="title">
          <Highlighted text={f[title] as string} terms={terms} />
        </p>
      )}
      {rest.map((k) =>
        typeof f[k] === 'string' ? (
          <p class="text" key={k}>
            <Highlighted text={f[k] as string} terms={terms} />
          </p>
        ) : null,
      )}
      {groups.map((g) => (
        <TermList key={g.retriever} retriever={g.retriever} terms={g.terms} words={words} />
      ))}
      {hit.explain?.retrievers && (
        <div class="scroll">
          <table class="fusion" data-testid="fusion-explain">
            <caption>Fusion ({hit.explain.method}): what each retriever gave this hit</caption>
            <thead>
              <tr>
                <th scope="col">Retriever</th>
                <th scope="col">Rank</th>
                <th scope="col">Score</th>
                <th scope="col">Normalized</th>
                <th scope="col">Contribution</th>
              </tr>
            </thead>
            <tbody>
              {hit.explain.retrievers.map((r) => (
                <tr key={r.name}>
                  <th scope="row">{r.name}</th>
                  <td class="n">{r.rank ?? '–'}</td>
                  <td class="n">{r.score === null ? '–' : num(r.score)}</td>
                  <td class="n">{r.normalized === null ? '–' : num(r.normalized)}</td>
                  <td class="n">
                    <span class="bar" style={{ '--w': hit.score > 0 ? (r.contribution / hit.score).toFixed(2) : '0' }} />
                    {num(r.contribution)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </li>
  );
}
