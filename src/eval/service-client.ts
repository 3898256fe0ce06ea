// The slice of the service's HTTP API the harness needs: create/inspect/delete a collection, stream
// a corpus in as NDJSON and wait for it to commit, search. Going through HTTP means the numbers are
// those of the service users run, whether it is remote (`--server`) or started by the harness.

import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { clientApiKey } from '../config.js';
import type { BeirDocument } from './types.js';

/** A search hit as the service returns it. */
export interface ServiceHit {
  _id: string;
  score: number;
}

/** Error from the service, with the HTTP status and the service's error code when it gave one. */
export class ServiceResponseError extends Error {
  readonly status: number;
  readonly code?: string;
  constructor(status: number, message: string, code?: string) {
    super(message);
    this.name = 'ServiceResponseError';
    this.status = status;
    this.code = code;
  }
}

async function failure(res: Response, what: string): Promise<ServiceResponseError> {
  const text = await res.text().catch(() => '');
  let code: string | undefined;
  let message = text.slice(0, 500);
  try {
    const j = JSON.parse(text) as { code?: string; message?: string; error?: string | { code?: string; message?: string } };
    const e = typeof j.error === 'object' && j.error !== null ? j.error : j;
    code = e.code;
    message = e.message ?? (typeof j.error === 'string' ? j.error : message);
  } catch {
    // Not JSON: keep the raw text.
  }
  return new ServiceResponseError(res.status, `${what}: HTTP ${res.status}${code ? ` ${code}` : ''}: ${message}`, code);
}

/** POSTs a streamed body without a client-side timeout; resolves with the status and the body text. */
function postStream(url: string, headers: Record<string, string>, body: Readable): Promise<{ status: number; text: string }> {
  const u = new URL(url);
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(u, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    // An early answer (e.g. 404) ends the upload; the response still settles the promise.
    pipeline(body, req).catch(() => {});
  });
}

/** Client of one service base URL (e.g. `http://127.0.0.1:7700`). */
export class ServiceClient {
  readonly baseUrl: string;
  private readonly headers: Record<string, string>;

  /** `apiKey` is sent as `Authorization: Bearer <key>` unless null (default: env `LSR_API_KEY`). */
  constructor(baseUrl: string, apiKey: string | null = clientApiKey() ?? null) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.headers = apiKey ? { authorization: `Bearer ${apiKey}` } : {};
  }

  private url(path: string): string {
    return `${this.baseUrl}${path}`;
  }

  private async json(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(this.url(path), {
      method,
      headers: body === undefined ? this.headers : { ...this.headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw await failure(res, `${method} ${path}`);
    const text = await res.text();
    return text === '' ? null : JSON.parse(text);
  }

  /** Returns the collection's description, or null when it does not exist (HTTP 404). */
  async getCollection(name: string): Promise<Record<string, unknown> | null> {
    try {
      return (await this.json('GET', `/v1/collections/${encodeURIComponent(name)}`)) as Record<string, unknown>;
    } catch (e) {
      if (e instanceof ServiceResponseError && e.status === 404) return null;
      throw e;
    }
  }

  /** Creates a collection from a `POST /v1/collections` body. */
  async createCollection(body: Record<string, unknown>): Promise<void> {
    await this.json('POST', '/v1/collections', body);
  }

  /** Deletes a collection and its data. */
  async deleteCollection(name: string): Promise<void> {
    await this.json('DELETE', `/v1/collections/${encodeURIComponent(name)}`);
  }

  /**
   * Streams documents into a collection as NDJSON (`_id` plus the text fields) and waits until the
   * service reports them committed (`?wait=true`). `onSent` is called with the count of documents
   * written to the request so far, for progress. Returns the service's final job report.
   */
  async ingest(name: string, docs: AsyncIterable<BeirDocument>, onSent?: (sent: number) => void): Promise<Record<string, unknown>> {
    let sent = 0;
    async function* lines(): AsyncGenerator<Buffer> {
      let chunk: string[] = [];
      for await (const d of docs) {
        chunk.push(JSON.stringify({ _id: d._id, title: d.title, text: d.text }));
        sent++;
        // Batch lines into ~256-document writes: one tiny chunk per document costs more in stream
        // overhead than the JSON itself.
        if (chunk.length === 256) {
          yield Buffer.from(chunk.join('\n') + '\n');
          chunk = [];
          onSent?.(sent);
        }
      }
      if (chunk.length > 0) yield Buffer.from(chunk.join('\n') + '\n');
      onSent?.(sent);
    }
    const path = `/v1/collections/${encodeURIComponent(name)}/documents?wait=true`;
    // node:http rather than fetch: with a sparse model the service answers only once every document
    // is encoded and committed, which on a busy CPU takes longer than fetch's fixed 300 s wait for
    // response headers (SciFact with SPLADE did).
    const res = await postStream(this.url(path), { ...this.headers, 'content-type': 'application/x-ndjson' }, Readable.from(lines()));
    if (res.status < 200 || res.status >= 300) throw await failure(new Response(res.text, { status: res.status }), `POST ${path}`);
    const report = JSON.parse(res.text) as Record<string, unknown>;
    const job = (typeof report.job === 'object' && report.job !== null ? report.job : report) as Record<string, unknown>;
    const status = job.status ?? job.state;
    if (typeof status === 'string' && /fail|error|cancel/i.test(status)) {
      throw new ServiceResponseError(res.status, `ingest into "${name}" ended ${status}: ${JSON.stringify(job).slice(0, 500)}`);
    }
    return report;
  }

  /** Searches a collection; `retriever` names the service's retriever, `k` ≤ 1000. */
  async search(name: string, query: string, k: number, retriever?: string): Promise<ServiceHit[]> {
    const body: Record<string, unknown> = { query, k };
    if (retriever) body.retriever = retriever;
    return this.searchWith(name, body);
  }

  /** Searches a collection with a whole search body (e.g. a hybrid search's `retrievers` and `fusion`). */
  async searchWith(name: string, body: Record<string, unknown>): Promise<ServiceHit[]> {
    const r = (await this.json('POST', `/v1/collections/${encodeURIComponent(name)}/search`, body)) as { hits?: ServiceHit[] };
    if (!r || !Array.isArray(r.hits)) throw new ServiceResponseError(200, `search in "${name}": response has no hits array`);
    return r.hits;
  }
}

/** A running service and how to stop it. */
export interface ServiceHandle {
  client: ServiceClient;
  /** Stops the service if the harness started it (committing its index); a no-op for `--server`. */
  close(): Promise<void>;
}

/**
 * Handle for a service someone else runs at `url`; closing it does nothing. `apiKey` defaults to
 * env `LSR_API_KEY` (none when unset).
 */
export function remoteService(url: string, apiKey?: string): ServiceHandle {
  return { client: apiKey === undefined ? new ServiceClient(url) : new ServiceClient(url, apiKey), close: async () => {} };
}
