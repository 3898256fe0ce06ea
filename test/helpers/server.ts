// Starts the real app on a loopback port with a fresh data directory, for integration tests.
import { buildApp } from '../../src/api/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { Service } from '../../src/api/service.js';

export interface TestServer {
  url: string;
  dataDir: string;
  service: Service;
  close(): Promise<void>;
  /** fetch() against the server; JSON bodies are serialized, responses parsed when JSON. */
  req(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: any; headers: Headers }>;
  ndjson(path: string, body: string | Buffer | Uint8Array, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
}

import { removeDir, tempDir } from './temp-dir.js';

export { removeDir, tempDir };

/**
 * Settings the service reads where they are used (src/config.ts) rather than from its Config: the
 * in-process server sees them in process.env, so the helper sets them there until close().
 */
const READ_AT_USE = ['LSR_MODEL_CACHE', 'LSR_MODEL_ROOTS'];

export async function startTestServer(env: Record<string, string> = {}, dataDir = tempDir()): Promise<TestServer> {
  const config: Config = loadConfig({ LSR_HOST: '127.0.0.1', LSR_PORT: '0', LSR_DATA_DIR: dataDir, ...env });
  const saved = new Map(READ_AT_USE.filter((k) => env[k] !== undefined).map((k) => [k, process.env[k]]));
  for (const k of saved.keys()) process.env[k] = env[k];
  const restore = () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  const { app, service } = await buildApp(config, false).catch((e) => {
    restore();
    throw e;
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const parse = async (res: Response) => {
    const text = await res.text();
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  };
  return {
    url: address,
    dataDir,
    service,
    async close() {
      await app.close();
      restore();
    },
    async req(method, path, body, headers = {}) {
      const init: RequestInit = { method, headers: { ...headers } };
      if (body !== undefined) {
        init.body = typeof body === 'string' || body instanceof Uint8Array ? (body as string) : JSON.stringify(body);
        (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
      }
      const res = await fetch(address + path, init);
      return { status: res.status, body: await parse(res), headers: res.headers };
    },
    async ndjson(path, body, headers = {}) {
      const res = await fetch(address + path, { method: 'POST', headers: { 'content-type': 'application/x-ndjson', ...headers }, body });
      return { status: res.status, body: await parse(res) };
    },
  };
}

/** NDJSON text from documents. */
export function ndjson(docs: unknown[]): string {
  return docs.map((d) => JSON.stringify(d)).join('\n') + '\n';
}
