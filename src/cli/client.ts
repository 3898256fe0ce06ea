// How CLI commands reach the API: in-process (the same Fastify app, through inject, on the data
// directory) or over HTTP with --server. Either way the request goes through the same routes.
import type { Readable } from 'node:stream';
import { buildApp } from '../api/app.js';
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
    const base = server.replace(/\/+$/, '');
    const key = clientApiKey(process.env, flags);
    const auth: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
    return {
      async request(method, path, body) {
        const res = await fetch(base + path, {
          method,
          headers: body === undefined ? auth : { ...auth, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        return { status: res.status, body: parse(await res.text()) };
      },
      async ndjson(path, stream) {
        const { Readable } = await import('node:stream');
        const res = await fetch(base + path, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/x-ndjson' },
          body: Readable.toWeb(stream) as ReadableStream<Uint8Array>,
          duplex: 'half',
        } as RequestInit & { duplex: 'half' });
        return { status: res.status, body: parse(await res.text()) };
      },
      async close() {},
    };
  }
  const config = loadConfig(process.env, flags);
  const { app } = await buildApp({ ...config, apiKeys: [] }, { level: flags['log-level'] ?? 'warn' });
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
