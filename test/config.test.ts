import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_PORT, loadConfig, parseApiKeys } from '../src/config.js';

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
});
