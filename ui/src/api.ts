// The console's one way to the service: the project's typed client (src/client, generated from the
// OpenAPI document) against the same origin, with the user's API key. Nothing here reaches anything
// but the /v1 API a client uses.
import {
  createClient,
  LsrError,
  type CollectionInfo,
  type JobReport,
  type LsrClient,
  type SearchRequest,
  type SearchResponse,
} from '../../src/client/index.js';

export { LsrError };
export type { CollectionInfo, JobReport, SearchRequest, SearchResponse };
export type SearchHit = SearchResponse['hits'][number];

const KEY_STORE = 'lsr.console.key';

export function savedKey(): string {
  return sessionStorage.getItem(KEY_STORE) ?? '';
}

export function saveKey(key: string): void {
  if (key) sessionStorage.setItem(KEY_STORE, key);
  else sessionStorage.removeItem(KEY_STORE);
}

export function client(key: string): LsrClient {
  return createClient(window.location.origin, { apiKey: key || null });
}

/** What the key may do (GET /v1/access); throws LsrError 401 when a key is needed or not valid. */
export async function access(c: LsrClient): Promise<{ access: 'read' | 'write'; keys_required: boolean }> {
  const r = await c.api.GET('/v1/access');
  if (!r.response.ok) throw new LsrError('GET /v1/access', r.response.status, r.error ?? '');
  return r.data!;
}

export async function jobs(c: LsrClient, limit = 20): Promise<JobReport[]> {
  const r = await c.api.GET('/v1/jobs', { params: { query: { limit: String(limit) } } });
  if (!r.response.ok) throw new LsrError('GET /v1/jobs', r.response.status, r.error ?? '');
  return r.data!.jobs;
}

/** Starts a bulk ingest job (202 once the body is read) from pasted text or an uploaded file. */
export async function startIngest(c: LsrClient, collection: string, body: string | Blob): Promise<JobReport> {
  const r = await c.api.POST('/v1/collections/{name}/documents', {
    params: { path: { name: collection }, query: { wait: 'false' } },
    body: body as never,
    bodySerializer: (b: unknown) => b as BodyInit,
    headers: { 'content-type': 'application/x-ndjson' },
  });
  if (!r.response.ok) throw new LsrError(`POST /v1/collections/${collection}/documents`, r.response.status, r.error ?? '');
  return r.data as JobReport;
}

export function errorText(e: unknown): string {
  if (e instanceof LsrError) return `${e.code ?? `HTTP ${e.status}`}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}
