// A search configuration as the playground and the comparison edit it: one retriever, or a hybrid
// (retrievers with windows and weights, fused by RRF, convex or DBSF), turned into a SearchRequest.
import type { CollectionInfo, SearchRequest } from './api.js';

export interface Member {
  name: string;
  on: boolean;
  window: string;
  weight: string;
}

export interface SearchConfig {
  hybrid: boolean;
  retriever: string;
  members: Member[];
  method: 'rrf' | 'convex' | 'dbsf';
  rrfK: string;
  normalization: 'min_max' | 'z_score' | 'l2';
}

export function retrieversOf(c: CollectionInfo | undefined): string[] {
  return c ? Object.keys(c.retrievers as Record<string, unknown>) : ['bm25'];
}

export function defaultConfig(c: CollectionInfo | undefined, hybrid = false): SearchConfig {
  const names = retrieversOf(c);
  return {
    hybrid,
    retriever: c?.default_retriever ?? 'bm25',
    members: names.map((name) => ({ name, on: true, window: '', weight: '' })),
    method: 'rrf',
    rrfK: '',
    normalization: 'min_max',
  };
}

/** A short name for a configuration: `bm25`, or `rrf(bm25+splade)`. */
export function labelOf(cfg: SearchConfig): string {
  if (!cfg.hybrid) return cfg.retriever;
  const on = cfg.members.filter((m) => m.on);
  return `${cfg.method}(${on.map((m) => (m.weight ? `${m.name}×${m.weight}` : m.name)).join('+')})`;
}

/** Numbers as typed; a field left empty takes the service's default. Anything else is the API's to judge. */
function numberOf(s: string): number | undefined {
  if (s.trim() === '') return undefined;
  return Number(s);
}

export function toRequest(cfg: SearchConfig, extra: Partial<SearchRequest>): SearchRequest {
  if (!cfg.hybrid) return { ...extra, retriever: cfg.retriever };
  const retrievers = cfg.members
    .filter((m) => m.on)
    .map((m) => {
      const window = numberOf(m.window);
      const weight = numberOf(m.weight);
      return { name: m.name, ...(window !== undefined ? { window } : {}), ...(weight !== undefined ? { weight } : {}) };
    });
  const k = numberOf(cfg.rrfK);
  const fusion =
    cfg.method === 'rrf'
      ? { method: 'rrf' as const, ...(k !== undefined ? { k } : {}) }
      : cfg.method === 'convex'
        ? { method: 'convex' as const, normalization: cfg.normalization }
        : { method: 'dbsf' as const };
  return { ...extra, retrievers: retrievers as SearchRequest['retrievers'], fusion };
}

export function ConfigEditor({
  id,
  cfg,
  collection,
  onChange,
  legend,
}: {
  id: string;
  cfg: SearchConfig;
  collection: CollectionInfo | undefined;
  onChange: (c: SearchConfig) => void;
  legend: string;
}) {
  const names = retrieversOf(collection);
  const set = (patch: Partial<SearchConfig>) => onChange({ ...cfg, ...patch });
  const setMember = (i: number, patch: Partial<Member>) => set({ members: cfg.members.map((m, j) => (j === i ? { ...m, ...patch } : m)) });
  return (
    <fieldset class="config" data-testid={`config-${id}`}>
      <legend>{legend}</legend>
      <div class="radios" role="radiogroup" aria-label={`${legend}: kind`}>
        <label class="inline">
          <input type="radio" name={`${id}-kind`} checked={!cfg.hybrid} onChange={() => set({ hybrid: false })} />
          One retriever
        </label>
        <label class="inline">
          <input type="radio" name={`${id}-kind`} checked={cfg.hybrid} onChange={() => set({ hybrid: true })} />
          Hybrid
        </label>
      </div>
      {!cfg.hybrid && (
        <div class="row">
          <label for={`${id}-retriever`}>Retriever</label>
          <select id={`${id}-retriever`} value={cfg.retriever} onChange={(e) => set({ retriever: e.currentTarget.value })}>
            {names.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </div>
      )}
      {cfg.hybrid && (
        <>
          <div class="scroll">
            <table class="members">
              <thead>
                <tr>
                  <th scope="col">Retriever</th>
                  <th scope="col">Window</th>
                  <th scope="col">Weight</th>
                </tr>
              </thead>
              <tbody>
                {cfg.members.map((m, i) => (
                  <tr key={m.name}>
                    <td>
                      <label class="inline">
                        <input type="checkbox" checked={m.on} onChange={(e) => setMember(i, { on: e.currentTarget.checked })} />
                        {m.name}
                      </label>
                    </td>
                    <td>
                      <input
                        class="small"
                        aria-label={`${m.name} window`}
                        inputMode="numeric"
                        placeholder="100"
                        value={m.window}
                        onInput={(e) => setMember(i, { window: e.currentTarget.value })}
                      />
                    </td>
                    <td>
                      <input
                        class="small"
                        aria-label={`${m.name} weight`}
                        inputMode="decimal"
                        placeholder="1"
                        value={m.weight}
                        onInput={(e) => setMember(i, { weight: e.currentTarget.value })}
                      />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div class="row">
            <label for={`${id}-method`}>Fusion</label>
            <select
              id={`${id}-method`}
              value={cfg.method}
              onChange={(e) => set({ method: e.currentTarget.value as SearchConfig['method'] })}
            >
              <option value="rrf">RRF (reciprocal rank)</option>
              <option value="convex">Convex (normalized scores)</option>
              <option value="dbsf">DBSF (distribution-based)</option>
            </select>
          </div>
          {cfg.method === 'rrf' && (
            <div class="row">
              <label for={`${id}-rrfk`}>RRF k</label>
              <input
                id={`${id}-rrfk`}
                class="small"
                placeholder="60"
                value={cfg.rrfK}
                onInput={(e) => set({ rrfK: e.currentTarget.value })}
              />
            </div>
          )}
          {cfg.method === 'convex' && (
            <div class="row">
              <label for={`${id}-norm`}>Normalization</label>
              <select
                id={`${id}-norm`}
                value={cfg.normalization}
                onChange={(e) => set({ normalization: e.currentTarget.value as SearchConfig['normalization'] })}
              >
                <option value="min_max">min-max</option>
                <option value="z_score">z-score</option>
                <option value="l2">L2</option>
              </select>
            </div>
          )}
        </>
      )}
    </fieldset>
  );
}
