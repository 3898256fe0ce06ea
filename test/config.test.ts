import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  clientApiKey,
  ConfigError,
  cudaAddonPath,
  cudaDevice,
  DEFAULT_PORT,
  loadConfig,
  modelCacheDir,
  modelRoots,
  parseApiKeys,
  serverUrl,
} from '../src/config.js';
import { ServiceError } from '../src/errors.js';

/** Runs `f` and returns what it threw, expecting VALIDATION_FAILED on `field`. */
function invalid(f: () => unknown, field: string): ServiceError {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ServiceError);
  const se = err as ServiceError;
  expect(se.code).toBe('VALIDATION_FAILED');
  expect(se.field).toBe(field);
  return se;
}

describe('config', () => {
  it('has zero-configuration defaults', () => {
    const c = loadConfig({});
    expect(c.host).toBe('127.0.0.1');
    expect(c.port).toBe(DEFAULT_PORT);
    expect(c.dataDir).toMatch(/data$/);
    expect(c.apiKeys).toEqual([]);
  });

  it('reads environment variables, and flags win', () => {
    const c = loadConfig({ LSR_PORT: '8000', LSR_DATA_DIR: '/tmp/x' }, { port: '9000' });
    expect(c.port).toBe(9000);
    expect(c.dataDir).toBe('/tmp/x');
  });

  it('refuses bad numbers and a public address without keys', () => {
    expect(() => loadConfig({ LSR_PORT: 'http' })).toThrow(ConfigError);
    expect(() => loadConfig({ LSR_HOST: '0.0.0.0' })).toThrow(/API keys/);
    expect(loadConfig({ LSR_HOST: '0.0.0.0', LSR_API_KEYS: 'k' }).apiKeys).toEqual([{ key: 'k', access: 'write' }]);
  });

  it('parses read and write keys', () => {
    expect(parseApiKeys('a, b:read ,c:write')).toEqual([
      { key: 'a', access: 'write' },
      { key: 'b', access: 'read' },
      { key: 'c', access: 'write' },
    ]);
  });

  it('reads the model cache folder', () => {
    expect(modelCacheDir({})).toBe(resolve('models', 'cache'));
    expect(modelCacheDir({ LSR_MODEL_CACHE: '' })).toBe(resolve('models', 'cache'));
    expect(modelCacheDir({ LSR_MODEL_CACHE: '/tmp/cache' })).toBe('/tmp/cache');
    expect(modelCacheDir({ LSR_MODEL_CACHE: 'rel/cache' })).toBe(resolve('rel/cache'));
    expect(invalid(() => modelCacheDir({ LSR_MODEL_CACHE: '/tmp/a\0b' }), 'LSR_MODEL_CACHE').message).toMatch(/^LSR_MODEL_CACHE /);
  });

  it('reads the model roots: the cache, the fixtures, the trained models, then LSR_MODEL_ROOTS', () => {
    const fixtures = join(resolve('.'), 'models', 'fixtures');
    const trained = join(resolve('.'), 'models', 'trained');
    expect(modelRoots({})).toEqual([resolve('models', 'cache'), fixtures, trained]);
    expect(modelRoots({ LSR_MODEL_CACHE: '/tmp/cache', LSR_MODEL_ROOTS: '/srv/models::/opt/m/' })).toEqual([
      '/tmp/cache',
      fixtures,
      trained,
      '/srv/models',
      '/opt/m',
    ]);
    expect(invalid(() => modelRoots({ LSR_MODEL_ROOTS: '/srv/models:rel/models' }), 'LSR_MODEL_ROOTS').message).toMatch(
      /^LSR_MODEL_ROOTS must be colon-separated absolute paths, got 'rel\/models'/,
    );
    invalid(() => modelRoots({ LSR_MODEL_ROOTS: '/a\0b' }), 'LSR_MODEL_ROOTS');
    // The service refuses to start with a bad value rather than failing the first model request.
    expect(() => loadConfig({ LSR_MODEL_ROOTS: 'models' })).toThrow(ConfigError);
  });

  it('reads the CUDA addon path and device', () => {
    expect(cudaAddonPath({})).toBe(join(resolve('.'), 'build', 'cuda', 'lsr_cuda_trunk.node'));
    expect(cudaAddonPath({ LSR_CUDA_ADDON: '/opt/lsr/trunk.node' })).toBe('/opt/lsr/trunk.node');
    expect(cudaAddonPath({ LSR_CUDA_ADDON: 'build/x.node' })).toBe(resolve('build/x.node'));
    expect(invalid(() => cudaAddonPath({ LSR_CUDA_ADDON: '/opt/lsr/trunk.so' }), 'LSR_CUDA_ADDON').message).toMatch(/^LSR_CUDA_ADDON /);
    invalid(() => cudaAddonPath({ LSR_CUDA_ADDON: '/opt/a\0.node' }), 'LSR_CUDA_ADDON');
    expect(cudaDevice({})).toBe(0);
    expect(cudaDevice({ LSR_CUDA_DEVICE: '' })).toBe(0);
    expect(cudaDevice({ LSR_CUDA_DEVICE: '3' })).toBe(3);
    expect(invalid(() => cudaDevice({ LSR_CUDA_DEVICE: 'gpu1' }), 'LSR_CUDA_DEVICE').message).toMatch(/^LSR_CUDA_DEVICE /);
    invalid(() => cudaDevice({ LSR_CUDA_DEVICE: '-1' }), 'LSR_CUDA_DEVICE');
  });

  it('reads the client server URL and API key, and flags win', () => {
    expect(serverUrl({})).toBeUndefined();
    expect(serverUrl({ LSR_SERVER: '' })).toBeUndefined();
    expect(serverUrl({ LSR_SERVER: 'http://h:7700/' })).toBe('http://h:7700/');
    expect(serverUrl({ LSR_SERVER: 'http://h:1' }, { server: 'https://g' })).toBe('https://g');
    expect(serverUrl({ LSR_SERVER: 'http://h:1' }, { server: '' })).toBeUndefined();
    expect(invalid(() => serverUrl({ LSR_SERVER: 'localhost:7700' }), 'LSR_SERVER').message).toMatch(/^LSR_SERVER /);
    expect(invalid(() => serverUrl({}, { server: 'not a url' }), 'LSR_SERVER').message).toMatch(/^--server /);
    expect(clientApiKey({})).toBeUndefined();
    expect(clientApiKey({ LSR_API_KEY: 'k1' })).toBe('k1');
    expect(clientApiKey({ LSR_API_KEY: 'k1' }, { 'api-key': 'k2' })).toBe('k2');
    const e = invalid(() => clientApiKey({ LSR_API_KEY: 'sec\nret' }), 'LSR_API_KEY');
    expect(e.message).toMatch(/^LSR_API_KEY /);
    expect(e.message).not.toContain('sec');
  });
});

describe('the OpenSearch cluster settings', () => {
  it('are absent without LSR_OPENSEARCH_URL, and collections default to embedded', () => {
    const c = loadConfig({});
    expect(c.opensearch).toBeUndefined();
    expect(c.defaultBackend).toBe('embedded');
  });

  it('take one URL or several nodes separated by commas, credentials and a prefix apart', () => {
    const c = loadConfig({
      LSR_OPENSEARCH_URL: 'https://os1:9200/, https://os2:9200',
      LSR_OPENSEARCH_USERNAME: 'svc',
      LSR_OPENSEARCH_PASSWORD: 'pw',
      LSR_OPENSEARCH_PREFIX: 'prod',
      LSR_DEFAULT_BACKEND: 'opensearch',
    });
    expect(c.opensearch).toMatchObject({
      url: 'https://os1:9200',
      urls: ['https://os1:9200', 'https://os2:9200'],
      username: 'svc',
      password: 'pw',
      prefix: 'prod',
      timeoutMs: 30_000,
    });
    expect(c.defaultBackend).toBe('opensearch');
  });

  it('refuse what cannot work, naming the variable', () => {
    const bad: [Record<string, string>, RegExp][] = [
      [{ LSR_OPENSEARCH_URL: 'os1:9200' }, /LSR_OPENSEARCH_URL must be http\(s\) URLs/],
      [{ LSR_OPENSEARCH_URL: 'ftp://os1' }, /LSR_OPENSEARCH_URL must be http\(s\) URLs/],
      [{ LSR_OPENSEARCH_URL: 'http://user:pw@os1:9200' }, /must not hold credentials/],
      [{ LSR_OPENSEARCH_URL: 'http://os1:9200', LSR_OPENSEARCH_API_KEY: 'k', LSR_OPENSEARCH_USERNAME: 'u' }, /not both/],
      [{ LSR_OPENSEARCH_URL: 'http://os1:9200', LSR_OPENSEARCH_PREFIX: 'Bad.Prefix' }, /LSR_OPENSEARCH_PREFIX/],
      [{ LSR_OPENSEARCH_USERNAME: 'u' }, /LSR_OPENSEARCH_USERNAME is set but LSR_OPENSEARCH_URL is not/],
      [{ LSR_DEFAULT_BACKEND: 'opensearch' }, /needs LSR_OPENSEARCH_URL/],
      [{ LSR_DEFAULT_BACKEND: 'cloud' }, /LSR_DEFAULT_BACKEND must be 'embedded' or 'opensearch'/],
    ];
    for (const [env] of bad) expect(() => loadConfig(env), JSON.stringify(env)).toThrow(ConfigError);
    for (const [env, msg] of bad) expect(() => loadConfig(env)).toThrow(msg);
  });
});
