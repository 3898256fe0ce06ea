// The typed client of the service's HTTP API, exported by the package as `lsr/client`:
//
//   import { createClient } from 'lsr/client';
//   const lsr = createClient('http://127.0.0.1:7700', { apiKey: process.env.LSR_API_KEY });
//   await lsr.createCollection({ name: 'papers', fields: ['title', 'text'] });
//   await lsr.ingest('papers', [{ _id: 'p1', title: 'Sparse retrieval', text: '...' }]);
//   const { hits } = await lsr.search('papers', { query: 'learned sparse', k: 10 });
//
// Request and response types are generated from the service's own OpenAPI document (openapi.ts,
// tools/openapi-gen/generate.ts), so they follow the route schemas; the calls go through
// openapi-fetch (`api`: every route, typed by path and method). The methods below add what most
// callers want on top: an error the service answered becomes an `LsrError` with its stable `code`
// (src/errors.ts) and the `field` at fault, and bulk ingest streams NDJSON without a client-side
// timeout. Only `ingest` needs Node (node:http); the rest runs wherever fetch does.

import createFetchClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './openapi.js';

export type { components, paths };

type Json<R> = R extends { content: { 'application/json': infer T } } ? T : never;

/** Every error's body: `code` from the service's table (src/errors.ts), the HTTP status, a message, the field at fault. */
export type ErrorBody = components['schemas']['ErrorResponse'];
/** A stable error code; clients branch on it, never on the message. */
export type ErrorCode = ErrorBody['code'];
/** The body of `POST /v1/collections`. */
export type CreateCollectionRequest = paths['/v1/collections']['post']['requestBody']['content']['application/json'];
/** A collection as the service describes it (`GET /v1/collections/{name}`). */
export type CollectionInfo = Json<paths['/v1/collections/{name}']['get']['responses'][200]>;
/** The body of a search: one retriever, or several fused (`retrievers` and `fusion`). */
export type SearchRequest = paths['/v1/collections/{name}/search']['post']['requestBody']['content']['application/json'];
/** What a search answers: `hits` best first, and what the service says about how it ran. */
export type SearchResponse = Json<paths['/v1/collections/{name}/search']['post']['responses'][200]>;
/** A search hit. */
export type SearchHit = SearchResponse['hits'][number];
/** An ingest job's report (`GET /v1/jobs/{id}`). */
export type JobReport = Json<paths['/v1/jobs/{id}']['get']['responses'][200]>;
/** NDJSON to upload: the whole text or bytes, or chunks of it (a file stream, stdin, a generator). */
export type NdjsonBody = string | Uint8Array | Iterable<Uint8Array | string> | AsyncIterable<Uint8Array | string>;
/** A document to ingest: `_id`, the collection's text fields, optional `metadata` (and client vectors). */
export type DocumentInput = { _id: string; metadata?: Record<string, unknown> } & Record<string, unknown>;

/** An error the service answered (or a response that is not what the API promises). */
export class LsrError extends Error {
  /** HTTP status (0 when no response came back). */
  readonly status: number;
  /** The service's error code; undefined when the body was not one of its errors (e.g. a proxy's page). */
  readonly code?: ErrorCode;
  /** The request or document field at fault, when the service named one. */
  readonly field?: string;
  /** `METHOD /path` of the request. */
  readonly request: string;
  /** The response body as received: the parsed error object, or its text (first 500 characters). */
  readonly body: unknown;

  constructor(request: string, status: number, body: unknown) {
    const e = errorOf(body);
    const text = typeof body === 'string' ? body.slice(0, 500) : JSON.stringify(body ?? '').slice(0, 500);
    super(e?.message ?? text);
    this.name = 'LsrError';
    this.request = request;
    this.status = status;
    this.body = typeof body === 'string' ? body.slice(0, 500) : body;
    if (e?.code !== undefined) this.code = e.code as ErrorCode;
    if (e?.field !== undefined) this.field = e.field;
  }
}

/** The service's error object in a body, also when wrapped as `{error: {...}}`. */
function errorOf(body: unknown): { code?: string; message?: string; field?: string } | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const b = body as { code?: unknown; message?: unknown; field?: unknown; error?: unknown };
  const e = (typeof b.error === 'object' && b.error !== null ? b.error : b) as { code?: unknown; message?: unknown; field?: unknown };
  const message = typeof e.message === 'string' ? e.message : typeof b.error === 'string' ? b.error : undefined;
  if (typeof e.code !== 'string' && message === undefined) return undefined;
  return {
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
    ...(message !== undefined ? { message } : {}),
    ...(typeof e.field === 'string' ? { field: e.field } : {}),
  };
}

export interface ClientOptions {
  /** Sent as `Authorization: Bearer <key>`; none when null or undefined. */
  apiKey?: string | null;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
  /** fetch to use for the JSON calls (default the global one). */
  fetch?: (input: Request) => Promise<Response>;
}

export interface IngestOptions {
  /** Answer once the job is committed (default true); false: once the body is read (HTTP 202). */
  wait?: boolean;
  /** Called with the count of documents written to the request so far (for progress). */
  onSent?: (sent: number) => void;
}

export interface LsrClient {
  /** The base URL, without a trailing slash. */
  readonly baseUrl: string;
  /** Every route, typed by path and method (openapi-fetch): `api.GET('/v1/jobs/{id}', {params: {path: {id}}})`. */
  readonly api: Client<paths>;
  listCollections(): Promise<CollectionInfo[]>;
  /** The collection, or null when there is none of that name. */
  getCollection(name: string): Promise<CollectionInfo | null>;
  createCollection(body: CreateCollectionRequest): Promise<CollectionInfo>;
  deleteCollection(name: string): Promise<void>;
  /**
   * Bulk ingest as one job: documents (objects, sent as NDJSON as they are read from the iterable)
   * or NDJSON bytes (a string, bytes, or a stream of chunks such as a file stream). Resolves with
   * the job's report; documents the service refused are in its `errors`, not thrown.
   */
  ingest(
    name: string,
    docs: Iterable<DocumentInput> | AsyncIterable<DocumentInput> | string | Uint8Array,
    options?: IngestOptions,
  ): Promise<JobReport>;
  /** Bulk ingest of NDJSON as it is (a file or stdin stream, a string); resolves with the job's report. */
  ingestNdjson(name: string, body: NdjsonBody, options?: IngestOptions): Promise<JobReport>;
  search(name: string, body: SearchRequest): Promise<SearchResponse>;
  job(id: string): Promise<JobReport>;
}

type Result = { data?: unknown; error?: unknown; response: Response };

/** The data of a successful call; an LsrError otherwise. */
function unwrap<T>(what: string, r: Result): T {
  if (r.response.ok) return r.data as T;
  throw new LsrError(what, r.response.status, r.error ?? '');
}

const DOCS_PER_WRITE = 256;

/** NDJSON chunks from documents, ~256 documents per chunk (one chunk per document costs more than the JSON). */
async function* ndjsonChunks(docs: Iterable<DocumentInput> | AsyncIterable<DocumentInput>, onSent?: (n: number) => void) {
  let lines: string[] = [];
  let sent = 0;
  for await (const d of docs) {
    lines.push(JSON.stringify(d));
    sent++;
    if (lines.length === DOCS_PER_WRITE) {
      yield `${lines.join('\n')}\n`;
      lines = [];
      onSent?.(sent);
    }
  }
  if (lines.length > 0) yield `${lines.join('\n')}\n`;
  onSent?.(sent);
}

/**
 * fetch over node:http for streamed uploads: no client-side timeout (with a model the service
 * answers a `wait=true` ingest only once every document is encoded and committed, which can take
 * longer than fetch's fixed 300 s wait for response headers), and an early answer (e.g. 404) ends
 * the upload and still settles with the response.
 */
async function streamingFetch(request: Request): Promise<Response> {
  const [{ request: httpRequest }, { request: httpsRequest }, { Readable }, { pipeline }] = await Promise.all([
    import('node:http'),
    import('node:https'),
    import('node:stream'),
    import('node:stream/promises'),
  ]);
  const url = new URL(request.url);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const headers: Record<string, string> = {};
  request.headers.forEach((v, k) => {
    headers[k] = v;
  });
  return new Promise<Response>((resolve, reject) => {
    const req = send(url, { method: request.method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
        const status = res.statusCode ?? 0;
        const body = status === 204 || status === 304 ? null : Buffer.concat(chunks);
        resolve(new Response(body, { status, headers: h }));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (!request.body) req.end();
    else pipeline(Readable.fromWeb(request.body as import('node:stream/web').ReadableStream), req).catch(() => {});
  });
}

/** A web stream over chunks, pulled as the upload needs them. */
function webStream(chunks: NdjsonBody): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  if (typeof chunks === 'string' || chunks instanceof Uint8Array) {
    const bytes = typeof chunks === 'string' ? encoder.encode(chunks) : chunks;
    return new ReadableStream({
      start(c) {
        c.enqueue(bytes);
        c.close();
      },
    });
  }
  const it = Symbol.asyncIterator in chunks ? chunks[Symbol.asyncIterator]() : chunks[Symbol.iterator]();
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      const { value, done } = await it.next();
      if (done) c.close();
      else c.enqueue(typeof value === 'string' ? encoder.encode(value) : value);
    },
    async cancel(reason) {
      await it.return?.(reason);
    },
  });
}

/**
 * A POST of an NDJSON stream through openapi-fetch, with `fetch` swapped for streamingFetch: the
 * raw result (`data` or `error`, and the response). For callers that need the status themselves
 * (the CLI); `LsrClient.ingest` unwraps it.
 */
export function postNdjson(
  api: Client<paths>,
  path: string,
  body: NdjsonBody,
): Promise<{ data?: unknown; error?: unknown; response: Response }> {
  // The path (with its query) is given whole, so the typed route is not checked here.
  return (api.request as (method: string, path: string, init: Record<string, unknown>) => Promise<Result>)('post', path, {
    body: webStream(body),
    bodySerializer: (b: unknown) => b,
    headers: { 'content-type': 'application/x-ndjson' },
    duplex: 'half',
    fetch: streamingFetch,
  });
}

/** A client of the service at `baseUrl` (e.g. `http://127.0.0.1:7700`). */
export function createClient(baseUrl: string, options: ClientOptions = {}): LsrClient {
  const base = baseUrl.replace(/\/+$/, '');
  const headers: Record<string, string> = { ...options.headers };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  const api = createFetchClient<paths>({ baseUrl: base, headers, ...(options.fetch ? { fetch: options.fetch } : {}) });
  const enc = encodeURIComponent;

  const ingestNdjson: LsrClient['ingestNdjson'] = async (name, body, o = {}) => {
    const path = `/v1/collections/${enc(name)}/documents?wait=${o.wait === false ? 'false' : 'true'}`;
    return unwrap<JobReport>(`POST ${path}`, await postNdjson(api, path, body));
  };

  return {
    baseUrl: base,
    api,
    async listCollections() {
      const r = await api.GET('/v1/collections');
      return unwrap<{ collections: CollectionInfo[] }>('GET /v1/collections', r).collections;
    },
    async getCollection(name) {
      const r = await api.GET('/v1/collections/{name}', { params: { path: { name } } });
      if (r.response.status === 404 && errorOf(r.error)?.code === 'COLLECTION_NOT_FOUND') return null;
      return unwrap<CollectionInfo>(`GET /v1/collections/${enc(name)}`, r);
    },
    async createCollection(body) {
      return unwrap<CollectionInfo>('POST /v1/collections', await api.POST('/v1/collections', { body }));
    },
    async deleteCollection(name) {
      unwrap(`DELETE /v1/collections/${enc(name)}`, await api.DELETE('/v1/collections/{name}', { params: { path: { name } } }));
    },
    ingest(name, docs, o = {}) {
      if (typeof docs === 'string' || docs instanceof Uint8Array) return ingestNdjson(name, docs, o);
      return ingestNdjson(name, ndjsonChunks(docs, o.onSent), o);
    },
    ingestNdjson,
    async search(name, body) {
      const r = await api.POST('/v1/collections/{name}/search', { params: { path: { name } }, body });
      return unwrap<SearchResponse>(`POST /v1/collections/${enc(name)}/search`, r);
    },
    async job(id) {
      return unwrap<JobReport>(`GET /v1/jobs/${enc(id)}`, await api.GET('/v1/jobs/{id}', { params: { path: { id } } }));
    },
  };
}
