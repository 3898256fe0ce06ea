// The console's shell: the API key, what it may do, the collections, and one view per hash route.
import { render } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { access, client, type CollectionInfo, errorText, LsrError, savedKey, saveKey } from './api.js';
import { CollectionsView } from './collections.js';
import { CompareView } from './compare.js';
import { EvalView } from './eval-view.js';
import { IngestView } from './ingest.js';
import { PlaygroundView } from './playground.js';
import './style.css';
import type { LsrClient } from '../../src/client/index.js';

export interface Ctx {
  api: LsrClient;
  canWrite: boolean;
  collections: CollectionInfo[];
  reload: () => Promise<void>;
}

const VIEWS = [
  { id: 'collections', label: 'Collections' },
  { id: 'ingest', label: 'Ingest' },
  { id: 'playground', label: 'Playground' },
  { id: 'compare', label: 'Compare' },
  { id: 'eval', label: 'Evaluation' },
] as const;
type ViewId = (typeof VIEWS)[number]['id'];

function currentView(): ViewId {
  const id = window.location.hash.replace(/^#\/?/, '').split('?')[0];
  return (VIEWS.find((v) => v.id === id)?.id ?? 'collections') as ViewId;
}

function App() {
  const [key, setKey] = useState(savedKey());
  const [keyInput, setKeyInput] = useState(savedKey());
  const [view, setView] = useState<ViewId>(currentView());
  const [perm, setPerm] = useState<{ access: 'read' | 'write'; keys_required: boolean } | null>(null);
  const [authError, setAuthError] = useState<string | null>(null);
  const [collections, setCollections] = useState<CollectionInfo[]>([]);
  const [loadError, setLoadError] = useState<string | null>(null);
  const api = client(key);

  useEffect(() => {
    const on = () => setView(currentView());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);

  const reload = useCallback(async () => {
    try {
      setCollections(await client(key).listCollections());
      setLoadError(null);
    } catch (e) {
      setLoadError(errorText(e));
    }
  }, [key]);

  useEffect(() => {
    let stop = false;
    access(client(key))
      .then((p) => {
        if (stop) return;
        setPerm(p);
        setAuthError(null);
        void reload();
      })
      .catch((e) => {
        if (stop) return;
        setPerm(null);
        setAuthError(e instanceof LsrError && e.status === 401 ? `${e.message}. Enter an API key above.` : errorText(e));
      });
    return () => {
      stop = true;
    };
  }, [key, reload]);

  useEffect(() => {
    const v = VIEWS.find((x) => x.id === view);
    document.title = `${v?.label ?? ''} · lsr console`;
  }, [view]);

  const useKey = (e: Event) => {
    e.preventDefault();
    saveKey(keyInput.trim());
    setKey(keyInput.trim());
  };
  const ctx: Ctx | null = perm ? { api, canWrite: perm.access === 'write', collections, reload } : null;

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">lsr console</span>
        <nav aria-label="Views">
          <ul>
            {VIEWS.map((v) => (
              <li key={v.id}>
                <a href={`#/${v.id}`} aria-current={view === v.id ? 'page' : undefined}>
                  {v.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <form class="key" onSubmit={useKey}>
          <label for="api-key">API key</label>
          <input
            id="api-key"
            type="password"
            autocomplete="off"
            value={keyInput}
            onInput={(e) => setKeyInput(e.currentTarget.value)}
            placeholder={perm?.keys_required === false ? 'not needed here' : ''}
          />
          <button type="submit">Use key</button>
          {perm && (
            <span class="badge" data-testid="access">
              {perm.keys_required ? (perm.access === 'write' ? 'read-write key' : 'read-only key') : 'no keys required'}
            </span>
          )}
        </form>
      </header>
      <main id="main" tabIndex={-1}>
        {authError && (
          <p class="error" role="alert">
            {authError}
          </p>
        )}
        {loadError && (
          <p class="error" role="alert">
            {loadError}
          </p>
        )}
        {ctx && perm?.access === 'read' && <p class="note">This key is read-only: creating collections and ingesting are not offered.</p>}
        {ctx && view === 'collections' && <CollectionsView ctx={ctx} />}
        {ctx && view === 'ingest' && <IngestView ctx={ctx} />}
        {ctx && view === 'playground' && <PlaygroundView ctx={ctx} />}
        {ctx && view === 'compare' && <CompareView ctx={ctx} />}
        {view === 'eval' && <EvalView />}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
