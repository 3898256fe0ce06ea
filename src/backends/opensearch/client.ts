// A small HTTP client for one OpenSearch cluster: JSON and NDJSON requests over Node's fetch (keep-alive
// connections), basic or API-key auth, a timeout per request, and one translation of what can go wrong
// into the service's error codes, so no route ever answers a 500 for a cluster's trouble:
//
//   cannot connect, timeout, 502/503/504, no shard copy left  -> BACKEND_UNAVAILABLE (503)
//   429 (queues full)                                         -> BACKEND_BUSY (503), retried by bulk first
//   any other refusal (a mapping or query the cluster rejects) -> BACKEND_REJECTED (502), its reason quoted
//
// TLS: an https URL is verified against Node's CA store; a private CA is added with the standard
// NODE_EXTRA_CA_CERTS environment variable when the service starts (docs/scale-out.md).
import { fail } from '../../errors.js';

export interface OpenSearchConnection {
  /** Base URL of any node or of a load balancer in front of the cluster, `http(s)://host:port`. */
  url: string;
  /**
   * Every node (or balancer) URL to try, `url` first; a request that cannot connect to one goes to
   * the next (only before anything was sent, so no request is ever applied twice). Default [url].
   */
  urls?: string[];
  username?: string;
  password?: string;
  /** An API key, sent as `Authorization: ApiKey <key>` (instead of a username and password). */
  apiKey?: string;
  /** Per request. */
  timeoutMs: number;
}

export interface Reply<T> {
  status: number;
  body: T;
}

/** What OpenSearch puts in an error body. */
interface ErrorBody {
  error?: { type?: string; reason?: string; root_cause?: { type?: string; reason?: string }[] } | string;
  status?: number;
}

/** `type: reason` of an OpenSearch error body (its root cause where it gives one). */
export function reasonOf(body: unknown): string {
  const e = (body as ErrorBody | null)?.error;
  if (typeof e === 'string') return e;
  if (!e) return JSON.stringify(body).slice(0, 300);
  const root = e.root_cause?.[0];
  const r = root?.reason && root.reason !== e.reason ? `${e.type}: ${e.reason} (${root.type}: ${root.reason})` : `${e.type}: ${e.reason}`;
  return r.slice(0, 500);
}

/** Error types that mean "no copy of the data can answer now" rather than "the request is wrong". */
const UNAVAILABLE_TYPES = new Set([
  'no_shard_available_action_exception',
  'cluster_block_exception',
  'unavailable_shards_exception',
  'node_not_connected_exception',
  'node_disconnected_exception',
  'cluster_manager_not_discovered_exception',
  'master_not_discovered_exception',
  'process_cluster_event_timeout_exception',
]);

function errorType(body: unknown): string | undefined {
  const e = (body as ErrorBody | null)?.error;
  if (!e || typeof e === 'string') return undefined;
  return e.type;
}

/** Whether an error body (of a failed request, or of one shard or bulk item) means the data is unreachable for now. */
export function isUnavailable(status: number, body: unknown): boolean {
  if (status === 502 || status === 503 || status === 504) return true;
  const t = errorType(body);
  const root = (body as { error?: { root_cause?: { type?: string }[] } })?.error?.root_cause?.[0]?.type;
  return (t !== undefined && UNAVAILABLE_TYPES.has(t)) || (root !== undefined && UNAVAILABLE_TYPES.has(root));
}

/** Errors of a connection that was never made: the request did not reach that node. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

export class OpenSearchClient {
  private readonly bases: string[];
  /** The node requests go to first: the last one that answered. */
  private current = 0;
  private readonly auth: string | undefined;

  constructor(readonly conn: OpenSearchConnection) {
    this.bases = (conn.urls && conn.urls.length > 0 ? conn.urls : [conn.url]).map((u) => u.replace(/\/+$/, ''));
    if (conn.apiKey) this.auth = `ApiKey ${conn.apiKey}`;
    else if (conn.username !== undefined) this.auth = `Basic ${Buffer.from(`${conn.username}:${conn.password ?? ''}`).toString('base64')}`;
  }

  /** The configured URL (the first), as errors and the collection view name the cluster. */
  get url(): string {
    return this.bases[0];
  }

  /**
   * One request. Resolves with any status the caller lists in `accept` (besides 2xx) so it can read
   * the body; every other failure throws a ServiceError as the header says.
   */
  async request<T = unknown>(
    method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'HEAD',
    path: string,
    body?: unknown,
    opts: { ndjson?: string; accept?: number[]; timeoutMs?: number } = {},
  ): Promise<Reply<T>> {
    const headers: Record<string, string> = {};
    if (this.auth) headers.authorization = this.auth;
    let payload: string | undefined;
    if (opts.ndjson !== undefined) {
      headers['content-type'] = 'application/x-ndjson';
      payload = opts.ndjson;
    } else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const timeoutMs = opts.timeoutMs ?? this.conn.timeoutMs;
    const where = `${method} ${path.split('?')[0]}`;
    let res: Response | undefined;
    let base = this.bases[this.current];
    const failures: string[] = [];
    for (let tried = 0; tried < this.bases.length && !res; tried++) {
      const i = (this.current + tried) % this.bases.length;
      base = this.bases[i];
      try {
        res = await fetch(base + path, { method, headers, body: payload, signal: AbortSignal.timeout(timeoutMs) });
        this.current = i;
      } catch (e) {
        const err = e as Error & { cause?: { code?: string; message?: string } };
        const code = err.cause?.code;
        const why = err.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (code ?? err.cause?.message ?? err.message);
        failures.push(`${base}: ${why}`);
        // Only a connection never made may go to another node: anything else may have been applied.
        if (code === undefined || !NOT_CONNECTED.has(code)) break;
      }
    }
    if (!res) fail('BACKEND_UNAVAILABLE', `OpenSearch is unreachable (${where}: ${failures.join('; ')})`);
    const text = method === 'HEAD' ? '' : await res.text();
    let parsed: unknown = text;
    if (text.length > 0 && (res.headers.get('content-type') ?? '').includes('json')) {
      try {
        parsed = JSON.parse(text);
      } catch {
        // a proxy's HTML error page: keep the text for the message
      }
    }
    if (res.ok || opts.accept?.includes(res.status)) return { status: res.status, body: parsed as T };
    if (res.status === 401 || res.status === 403)
      fail(
        'BACKEND_UNAVAILABLE',
        `OpenSearch at ${base} refused the service's credentials (${res.status} on ${where}): ${reasonOf(parsed)}`,
      );
    if (res.status === 429) fail('BACKEND_BUSY', `OpenSearch at ${base} is overloaded (429 on ${where}): ${reasonOf(parsed)}`);
    if (isUnavailable(res.status, parsed))
      fail('BACKEND_UNAVAILABLE', `OpenSearch at ${base} cannot answer now (${res.status} on ${where}): ${reasonOf(parsed)}`);
    fail('BACKEND_REJECTED', `OpenSearch at ${base} refused ${where} (${res.status}): ${reasonOf(parsed)}`);
  }
}
