// Service configuration: environment variables with matching CLI flags (flags win). Every option
// has a default so `npm start` needs no configuration.
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OpenSearchSettings } from './backends/opensearch/cluster.js';
import { fail } from './errors.js';

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
  /**
   * LSR_OPENSEARCH_URL (one URL, or several nodes' separated by commas; with LSR_OPENSEARCH_USERNAME /
   * _PASSWORD or _API_KEY, _PREFIX default `lsr`, _TIMEOUT_MS default 30000): the cluster
   * OpenSearch-backed collections live on. Absent: embedded only.
   */
  opensearch?: OpenSearchSettings;
  /** LSR_DEFAULT_BACKEND: `embedded` (default) or `opensearch`, for a create request that names none. */
  defaultBackend: 'embedded' | 'opensearch';
}

function opensearchSettings(e: Record<string, string | undefined>): OpenSearchSettings | undefined {
  const url = e.LSR_OPENSEARCH_URL;
  if (!url) {
    for (const k of ['LSR_OPENSEARCH_USERNAME', 'LSR_OPENSEARCH_PASSWORD', 'LSR_OPENSEARCH_API_KEY'])
      if (e[k]) throw new ConfigError(`${k} is set but LSR_OPENSEARCH_URL is not`);
    return undefined;
  }
  // Several node URLs, comma-separated: a request that cannot connect to one goes to the next.
  const urls = url
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
  for (const u of urls) {
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      throw new ConfigError(`LSR_OPENSEARCH_URL must be http(s) URLs separated by commas, got '${u}'`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new ConfigError(`LSR_OPENSEARCH_URL must be http(s) URLs separated by commas, got '${u}'`);
    if (parsed.username || parsed.password)
      throw new ConfigError('LSR_OPENSEARCH_URL must not hold credentials: use LSR_OPENSEARCH_USERNAME and LSR_OPENSEARCH_PASSWORD');
  }
  if (e.LSR_OPENSEARCH_API_KEY && e.LSR_OPENSEARCH_USERNAME)
    throw new ConfigError('set LSR_OPENSEARCH_API_KEY or LSR_OPENSEARCH_USERNAME, not both');
  const prefix = e.LSR_OPENSEARCH_PREFIX || 'lsr';
  if (!/^[a-z0-9][a-z0-9_-]{0,31}$/.test(prefix))
    throw new ConfigError(`LSR_OPENSEARCH_PREFIX must be 1-32 lowercase letters, digits, '_' or '-', got '${prefix}'`);
  return {
    url: urls[0].replace(/\/+$/, ''),
    urls: urls.map((u) => u.replace(/\/+$/, '')),
    prefix,
    timeoutMs: int('LSR_OPENSEARCH_TIMEOUT_MS', e.LSR_OPENSEARCH_TIMEOUT_MS, 30_000, 100, 3_600_000),
    ...(e.LSR_OPENSEARCH_USERNAME ? { username: e.LSR_OPENSEARCH_USERNAME, password: e.LSR_OPENSEARCH_PASSWORD ?? '' } : {}),
    ...(e.LSR_OPENSEARCH_API_KEY ? { apiKey: e.LSR_OPENSEARCH_API_KEY } : {}),
  };
}

function defaultBackend(v: string | undefined, os: OpenSearchSettings | undefined): 'embedded' | 'opensearch' {
  if (v === undefined || v === '' || v === 'embedded') return 'embedded';
  if (v !== 'opensearch') throw new ConfigError(`LSR_DEFAULT_BACKEND must be 'embedded' or 'opensearch', got '${v}'`);
  if (!os) throw new ConfigError('LSR_DEFAULT_BACKEND=opensearch needs LSR_OPENSEARCH_URL');
  return v;
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
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
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
    defaultBackend: 'embedded',
  };
  const os = opensearchSettings(e);
  if (os) cfg.opensearch = os;
  cfg.defaultBackend = defaultBackend(e.LSR_DEFAULT_BACKEND, os);
  // Read where models load (src/encoder/model-source.ts); checked here too so a bad value stops the
  // service at start rather than failing the first request that names a model.
  try {
    modelRoots(e);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  if (cfg.apiKeys.length === 0 && !isLoopback(cfg.host) && !cfg.allowNoAuth)
    throw new ConfigError(
      `listening on ${cfg.host} (not loopback) needs API keys: set LSR_API_KEYS, or LSR_ALLOW_NO_AUTH=1 to serve without them`,
    );
  return cfg;
}

// Settings read where they are used rather than by loadConfig: the model cache and roots and the CUDA
// encoder (read when a model or a GPU encoder loads), and the CLI and eval clients (which talk to a service
// instead of running one). Each reads one variable, treats unset or empty as its default, and refuses
// an invalid value with VALIDATION_FAILED naming the variable as the field.

export const DEFAULT_MODEL_CACHE = join('models', 'cache');

/** A path setting: unset or empty -> undefined; a NUL byte (no file system takes one) -> VALIDATION_FAILED. */
function envPath(name: string, v: string | undefined): string | undefined {
  if (v === undefined || v === '') return undefined;
  if (v.includes('\0'))
    fail('VALIDATION_FAILED', `${name} must be a file system path, got ${JSON.stringify(v)} (it holds a NUL byte)`, name);
  return v;
}

/** An integer setting from `min` to `max`; unset or empty -> `def`. */
function envInt(name: string, v: string | undefined, def: number, min: number, max: number): number {
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    fail('VALIDATION_FAILED', `${name} must be an integer from ${min} to ${max}, got '${v}'`, name);
  return n;
}

/** The folder holding package.json above this module (src/ or dist/src/), else this module's folder. */
function packageRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; ) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return here;
    dir = up;
  }
}

/**
 * LSR_MODEL_CACHE: the folder `pypi:`, `maven:` and `hf:` model sources are resolved from (where
 * `lsr models pull` puts them). A path, relative to the working directory; returned
 * absolute. Default ./models/cache.
 */
export function modelCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(envPath('LSR_MODEL_CACHE', env.LSR_MODEL_CACHE) ?? DEFAULT_MODEL_CACHE);
}

/**
 * LSR_MODEL_ROOTS: folders, besides the model cache, the package's models/fixtures and models/trained, that `dir:`
 * model sources may name (a `dir:` folder must lie inside one of the roots once symlinks are
 * resolved). Colon-separated absolute paths; empty entries are skipped. Returns every root, absolute:
 * the model cache first, then the fixtures, the trained models, then these.
 */
export function modelRoots(env: NodeJS.ProcessEnv = process.env): string[] {
  // models/trained: where `lsr train` writes by default (docs/training.md), so a trained model is usable
  // as `dir:` at once.
  const roots = [modelCacheDir(env), join(packageRoot(), 'models', 'fixtures'), join(packageRoot(), 'models', 'trained')];
  const v = envPath('LSR_MODEL_ROOTS', env.LSR_MODEL_ROOTS);
  for (const p of v === undefined ? [] : v.split(':')) {
    if (p === '') continue;
    if (!isAbsolute(p))
      fail('VALIDATION_FAILED', `LSR_MODEL_ROOTS must be colon-separated absolute paths, got '${p}' (relative)`, 'LSR_MODEL_ROOTS');
    roots.push(resolve(p));
  }
  return roots;
}

/**
 * LSR_DATASET_ROOTS: folders whose BEIR datasets (a subfolder with queries.jsonl and qrels/<split>.tsv)
 * GET /v1/datasets lists and reads, for clients comparing search configurations over judged queries
 * (the web console). Colon-separated absolute paths; unset or empty: none. A dataset is a folder
 * directly under a root, and must stay inside it once symlinks are resolved.
 */
export function datasetRoots(env: NodeJS.ProcessEnv = process.env): string[] {
  const v = envPath('LSR_DATASET_ROOTS', env.LSR_DATASET_ROOTS);
  const roots: string[] = [];
  for (const p of v === undefined ? [] : v.split(':')) {
    if (p === '') continue;
    if (!isAbsolute(p))
      fail('VALIDATION_FAILED', `LSR_DATASET_ROOTS must be colon-separated absolute paths, got '${p}' (relative)`, 'LSR_DATASET_ROOTS');
    roots.push(resolve(p));
  }
  return roots;
}

/**
 * LSR_CUDA_ADDON: the CUDA encoder addon file (a `.node` file; a path relative to the working
 * directory), returned absolute. Default <package root>/build/cuda/lsr_cuda_trunk.node, where
 * native/cuda/trunk-build.sh puts it (docs/gpu.md).
 */
export function cudaAddonPath(env: NodeJS.ProcessEnv = process.env): string {
  const v = envPath('LSR_CUDA_ADDON', env.LSR_CUDA_ADDON);
  if (v === undefined) return join(packageRoot(), 'build', 'cuda', 'lsr_cuda_trunk.node');
  if (!v.endsWith('.node'))
    fail('VALIDATION_FAILED', `LSR_CUDA_ADDON must name a native addon file ending in .node, got '${v}'`, 'LSR_CUDA_ADDON');
  return resolve(v);
}

/** LSR_CUDA_DEVICE: the CUDA device ordinal GPU encoders run on when their options name none. An integer >= 0; default 0. */
export function cudaDevice(env: NodeJS.ProcessEnv = process.env): number {
  return envInt('LSR_CUDA_DEVICE', env.LSR_CUDA_DEVICE, 0, 0, 65535);
}

/**
 * LSR_SERVER, --server (the flag wins): the base URL (`http://` or `https://`) of a running service
 * that `lsr` CLI commands talk to. Default none (unset or empty): the command opens the data
 * directory in-process.
 */
export function serverUrl(env: NodeJS.ProcessEnv = process.env, flags: Record<string, string> = {}): string | undefined {
  const fromFlag = flags.server !== undefined;
  const v = fromFlag ? flags.server : env.LSR_SERVER;
  if (v === undefined || v === '') return undefined;
  let url: URL | undefined;
  try {
    url = new URL(v);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    fail('VALIDATION_FAILED', `${fromFlag ? '--server' : 'LSR_SERVER'} must be an http:// or https:// URL, got '${v}'`, 'LSR_SERVER');
  return v;
}

/**
 * LSR_API_KEY, --api-key (the flag wins): the API key clients send to a service as
 * `Authorization: Bearer <key>`. A string without NUL, CR, LF or characters above U+00FF (an HTTP
 * header value). Default none (unset or empty): no Authorization header.
 */
export function clientApiKey(env: NodeJS.ProcessEnv = process.env, flags: Record<string, string> = {}): string | undefined {
  const fromFlag = flags['api-key'] !== undefined;
  const v = fromFlag ? flags['api-key'] : env.LSR_API_KEY;
  if (v === undefined || v === '') return undefined;
  if (/[\0\r\n\u0100-\uffff]/.test(v))
    fail(
      'VALIDATION_FAILED',
      `${fromFlag ? '--api-key' : 'LSR_API_KEY'} must be usable as an HTTP header value (no NUL, CR, LF or characters above U+00FF)`,
      'LSR_API_KEY',
    );
  return v;
}

/** LSR_PYTHON: the interpreter `lsr models pull` makes its virtual environment with (>= 3.11 with venv). Default python3. */
export function modelsPython(env: NodeJS.ProcessEnv = process.env): string {
  return envPath('LSR_PYTHON', env.LSR_PYTHON) ?? 'python3';
}

/** LSR_MODELS_VENV: where `lsr models pull` keeps that environment, returned absolute. Default <package root>/.venv-models. */
export function modelsVenvDir(env: NodeJS.ProcessEnv = process.env): string {
  const v = envPath('LSR_MODELS_VENV', env.LSR_MODELS_VENV);
  return v === undefined ? join(packageRoot(), '.venv-models') : resolve(v);
}
