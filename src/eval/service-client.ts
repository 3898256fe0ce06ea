// The slice of the service's HTTP API the harness needs: create/inspect/delete a collection, stream
// a corpus in as NDJSON and wait for it to commit, search; through the package's typed client
// (src/client/). Going through HTTP means the numbers are those of the service users run, whether
// it is remote (`--server`) or started by the harness.

import { clientApiKey } from '../config.js';
import { createClient, LsrError, type LsrClient, type SearchRequest } from '../client/index.js';
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

/** The typed client's error as the harness reports it: `POST /path: HTTP 404 CODE: message`. */
function failure(e: unknown): unknown {
  if (!(e instanceof LsrError)) return e;
  return new ServiceResponseError(e.status, `${e.request}: HTTP ${e.status}${e.code ? ` ${e.code}` : ''}: ${e.message}`, e.code);
}

/** Client of one service base URL (e.g. `http://127.0.0.1:7700`), over the typed client (src/client/). */
export class ServiceClient {
  readonly baseUrl: string;
  private readonly client: LsrClient;
  private readonly apiKey: string | null;

  /** `apiKey` is sent as `Authorization: Bearer <key>` unless null (default: env `LSR_API_KEY`). */
  constructor(baseUrl: string, apiKey: string | null = clientApiKey() ?? null) {
    this.client = createClient(baseUrl, { apiKey });
    this.baseUrl = this.client.baseUrl;
    this.apiKey = apiKey;
  }

  /** Sets a collection's default fusion (`PUT /v1/collections/:name/default-fusion`). */
  async setDefaultFusion(name: string, fusion: Record<string, unknown>): Promise<void> {
    const path = `/v1/collections/${encodeURIComponent(name)}/default-fusion`;
    const res = await fetch(`${this.baseUrl}${path}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}) },
      body: JSON.stringify(fusion),
    });
    if (!res.ok) {
      const body = (await res.json().catch(() => ({}))) as { code?: string; message?: string };
      throw new ServiceResponseError(res.status, `PUT ${path}: HTTP ${res.status} ${body.code ?? ''}: ${body.message ?? ''}`, body.code);
    }
  }

  private async call<T>(f: (c: LsrClient) => Promise<T>): Promise<T> {
    try {
      return await f(this.client);
    } catch (e) {
      throw failure(e);
    }
  }

  /** Returns the collection's description, or null when it does not exist (HTTP 404). */
  async getCollection(name: string): Promise<Record<string, unknown> | null> {
    try {
      return (await this.client.getCollection(name)) as Record<string, unknown> | null;
    } catch (e) {
      if (e instanceof LsrError && e.status === 404) return null;
      throw failure(e);
    }
  }

  /** Creates a collection from a `POST /v1/collections` body. */
  async createCollection(body: Record<string, unknown>): Promise<void> {
    await this.call((c) => c.createCollection(body as Parameters<LsrClient['createCollection']>[0]));
  }

  /** Deletes a collection and its data. */
  async deleteCollection(name: string): Promise<void> {
    await this.call((c) => c.deleteCollection(name));
  }

  /**
   * Streams documents into a collection as NDJSON (`_id` plus the text fields) and waits until the
   * service reports them committed (`?wait=true`). `onSent` is called with the count of documents
   * written to the request so far, for progress. Returns the service's final job report.
   */
  async ingest(name: string, docs: AsyncIterable<BeirDocument>, onSent?: (sent: number) => void): Promise<Record<string, unknown>> {
    async function* fields(): AsyncGenerator<{ _id: string; title: string; text: string }> {
      for await (const d of docs) yield { _id: d._id, title: d.title, text: d.text };
    }
    // The typed client streams the body over node:http, without fetch's fixed 300 s wait for
    // response headers: with a sparse model the service answers only once every document is
    // encoded and committed, which on a busy CPU takes longer (SciFact with SPLADE did).
    const report = (await this.call((c) => c.ingest(name, fields(), { wait: true, onSent }))) as unknown as Record<string, unknown>;
    const job = (typeof report.job === 'object' && report.job !== null ? report.job : report) as Record<string, unknown>;
    const status = job.status ?? job.state;
    if (typeof status === 'string' && /fail|error|cancel/i.test(status)) {
      throw new ServiceResponseError(200, `ingest into "${name}" ended ${status}: ${JSON.stringify(job).slice(0, 500)}`);
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
    const r = await this.call((c) => c.search(name, body as SearchRequest));
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
