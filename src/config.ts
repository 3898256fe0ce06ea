// Service configuration: environment variables with matching CLI flags (flags win). Every option
// has a default so `npm start` needs no configuration.
import { resolve } from 'node:path';

export interface ApiKey {
  key: string;
  /** `read` keys may search and read; `write` keys may also create, ingest and delete. */
  access: 'read' | 'write';
}

export interface Config {
  /** LSR_HOST, --host. Default 127.0.0.1 (loopback: API keys are optional there). */
  host: string;
  /** LSR_PORT, --port. Default 7700. 0 picks a free port. */
  port: number;
  /** LSR_DATA_DIR, --data-dir. Default ./data (relative to the working directory). */
  dataDir: string;
  /** LSR_API_KEYS, --api-keys: comma-separated `key` (read-write) or `key:read` / `key:write`. Empty = no auth. */
  apiKeys: ApiKey[];
  /** LSR_BODY_LIMIT, --body-limit: max bytes of a JSON request body. Default 1 MiB. NDJSON bodies stream and are not capped. */
  bodyLimit: number;
  /** LSR_MAX_DOCUMENT_BYTES: max bytes of one NDJSON line. Default 1 MiB. */
  maxDocumentBytes: number;
  /** LSR_RATE_LIMIT, --rate-limit: requests per second per client (API key or IP); 0 = off (default). */
  rateLimit: number;
  /** LSR_BATCH_SIZE: documents per ingest commit batch. Default 2000. */
  batchSize: number;
  /** LSR_LOG_LEVEL, --log-level: pino level. Default info. */
  logLevel: string;
  /** LSR_SHUTDOWN_TIMEOUT_MS: how long a graceful shutdown waits for running jobs. Default 10000. */
  shutdownTimeoutMs: number;
  /** LSR_ENCODER_WORKERS: SPLADE encoder worker threads per model. Default 1. */
  encoderWorkers: number;
  /** LSR_ENCODER_THREADS: ONNX Runtime and fused-head threads per encoder worker. Default 1. */
  encoderThreads: number;
  /** LSR_ENCODER_DEVICE: where SPLADE encoders run, `cpu` (default) or `cuda` (docs/gpu.md). */
  encoderDevice: 'cpu' | 'cuda';
  /** LSR_ALLOW_NO_AUTH=1: allow listening on a non-loopback address without API keys. */
  allowNoAuth: boolean;
}

export const DEFAULT_PORT = 7700;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_DATA_DIR = './data';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function int(name: string, v: string | undefined, def: number, min: number, max: number): number {
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got '${v}'`);
  return n;
}

function device(v: string | undefined): 'cpu' | 'cuda' {
  if (v === undefined || v === '' || v === 'cpu') return 'cpu';
  if (v === 'cuda') return 'cuda';
  throw new ConfigError(`LSR_ENCODER_DEVICE must be 'cpu' or 'cuda', got '${v}'`);
}

export function parseApiKeys(v: string | undefined): ApiKey[] {
  if (!v) return [];
  return v.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
    const i = s.lastIndexOf(':');
    const suffix = i > 0 ? s.slice(i + 1) : '';
    if (suffix === 'read' || suffix === 'write') return { key: s.slice(0, i), access: suffix };
    return { key: s, access: 'write' as const };
  });
}

const FLAG_TO_ENV: Record<string, string> = {
  host: 'LSR_HOST',
  port: 'LSR_PORT',
  'data-dir': 'LSR_DATA_DIR',
  'api-keys': 'LSR_API_KEYS',
  'body-limit': 'LSR_BODY_LIMIT',
  'rate-limit': 'LSR_RATE_LIMIT',
  'log-level': 'LSR_LOG_LEVEL',
  'batch-size': 'LSR_BATCH_SIZE',
};

/** CLI flags recognised by loadConfig (`--port 8000` or `--port=8000`). */
export const CONFIG_FLAGS = Object.keys(FLAG_TO_ENV);

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, flags: Record<string, string> = {}): Config {
  const e: Record<string, string | undefined> = { ...env };
  for (const [flag, value] of Object.entries(flags)) {
    const name = FLAG_TO_ENV[flag];
    if (name) e[name] = value;
  }
  const cfg: Config = {
    host: e.LSR_HOST || DEFAULT_HOST,
    port: int('LSR_PORT', e.LSR_PORT, DEFAULT_PORT, 0, 65535),
    dataDir: resolve(e.LSR_DATA_DIR || DEFAULT_DATA_DIR),
    apiKeys: parseApiKeys(e.LSR_API_KEYS),
    bodyLimit: int('LSR_BODY_LIMIT', e.LSR_BODY_LIMIT, 1 << 20, 1024, 1 << 30),
    maxDocumentBytes: int('LSR_MAX_DOCUMENT_BYTES', e.LSR_MAX_DOCUMENT_BYTES, 1 << 20, 1024, 1 << 30),
    rateLimit: int('LSR_RATE_LIMIT', e.LSR_RATE_LIMIT, 0, 0, 1_000_000),
    batchSize: int('LSR_BATCH_SIZE', e.LSR_BATCH_SIZE, 2000, 1, 1_000_000),
    logLevel: e.LSR_LOG_LEVEL || 'info',
    shutdownTimeoutMs: int('LSR_SHUTDOWN_TIMEOUT_MS', e.LSR_SHUTDOWN_TIMEOUT_MS, 10_000, 0, 3_600_000),
    encoderWorkers: int('LSR_ENCODER_WORKERS', e.LSR_ENCODER_WORKERS, 1, 1, 64),
    encoderThreads: int('LSR_ENCODER_THREADS', e.LSR_ENCODER_THREADS, 1, 1, 256),
    encoderDevice: device(e.LSR_ENCODER_DEVICE),
    allowNoAuth: e.LSR_ALLOW_NO_AUTH === '1' || e.LSR_ALLOW_NO_AUTH === 'true',
  };
  if (cfg.apiKeys.length === 0 && !isLoopback(cfg.host) && !cfg.allowNoAuth)
    throw new ConfigError(`listening on ${cfg.host} (not loopback) needs API keys: set LSR_API_KEYS, or LSR_ALLOW_NO_AUTH=1 to serve without them`);
  return cfg;
}
