// How CLI commands reach the API: in-process (the same Fastify app, through inject, on the data
// directory) or over HTTP with --server. Either way the request goes through the same routes.
import type { Readable } from 'node:stream';
import { buildApp } from '../api/app.js';
import { createClient, postNdjson } from '../client/index.js';
import { clientApiKey, loadConfig, serverUrl } from '../config.js';

export interface ApiResponse {
  status: number;
  body: unknown;
}

export interface ApiClient {
  request(method: string, path: string, body?: unknown): Promise<ApiResponse>;
  ndjson(path: string, stream: Readable): Promise<ApiResponse>;
  close(): Promise<void>;
}

type FetchResult = { data?: unknown; error?: unknown; response: Response };

/** An openapi-fetch result as the commands read it: the status and the body, parsed when it is JSON. */
function response(r: FetchResult): ApiResponse {
  const body = r.response.ok ? r.data : r.error;
  return { status: r.response.status, body: typeof body === 'string' ? parse(body) : (body ?? '') };
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export async function openClient(flags: Record<string, string>): Promise<ApiClient> {
  const server = serverUrl(process.env, flags);
  if (server) {
    // The package's typed client (src/client/); the commands name routes by path, so its `api`
    // (openapi-fetch) is called with the path as given, and NDJSON goes up as a stream.
    const lsr = createClient(server, { apiKey: clientApiKey(process.env, flags) ?? null });
    const call = lsr.api.request as (method: string, path: string, init?: Record<string, unknown>) => Promise<FetchResult>;
    return {
      async request(method, path, body) {
        return response(await call(method.toLowerCase(), path, body === undefined ? { parseAs: 'text' } : { body, parseAs: 'text' }));
      },
      async ndjson(path, stream) {
        return response(await postNdjson(lsr.api, path, stream));
      },
      async close() {},
    };
  }
  const config = loadConfig(process.env, flags);
  // Logs go to stderr: stdout carries the command's output (one JSON document with --json).
  const { app } = await buildApp({ ...config, apiKeys: [] }, { level: flags['log-level'] ?? 'warn', stream: process.stderr });
  await app.ready();
  return {
    async request(method, path, body) {
      const res = await app.inject({ method: method as 'GET', url: path, ...(body === undefined ? {} : { payload: body as object }) });
      return { status: res.statusCode, body: parse(res.body) };
    },
    async ndjson(path, stream) {
      const res = await app.inject({ method: 'POST', url: path, headers: { 'content-type': 'application/x-ndjson' }, payload: stream });
      return { status: res.statusCode, body: parse(res.body) };
    },
    close: () => app.close(),
  };
}

export function describeError(r: ApiResponse): string {
  const b = r.body as { code?: string; message?: string; field?: string } | string;
  if (typeof b === 'object' && b && b.code) return `${b.code}: ${b.message}${b.field ? ` (field: ${b.field})` : ''}`;
  return `HTTP ${r.status}: ${typeof b === 'string' ? b : JSON.stringify(b)}`;
}
