// The web console (ui/, docs/console.md): its built files (dist/ui, written by `npm run build:ui`
// during install and build) served at /ui. The console is a client of the /v1 API like any other:
// these files hold no data, so they are public; every call the page makes carries the user's key.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { fail } from '../../errors.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
  '.png': 'image/png',
};

/** The package root: the nearest folder above this file with a package.json (src/ or dist/src/ below it). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('no package.json above src/api/routes/ui');
    dir = up;
  }
  return dir;
}

export const UI_DIR = join(packageRoot(), 'dist', 'ui');

interface Asset {
  body: Buffer;
  /** The text files gzipped once at start (a browser asks for gzip): about a third of the bytes. */
  gzip?: Buffer;
  type: string;
}

const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.svg', '.json']);

/** Every file of the built console, read once: a few files, a few hundred KB at most. */
function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (!existsSync(dir)) return assets;
  const walk = (sub: string) => {
    for (const name of readdirSync(join(dir, sub))) {
      const rel = sub ? `${sub}/${name}` : name;
      const full = join(dir, rel);
      if (statSync(full).isDirectory()) walk(rel);
      else {
        const body = readFileSync(full);
        const ext = extname(name);
        assets.set(rel, {
          body,
          type: TYPES[ext] ?? 'application/octet-stream',
          ...(COMPRESSIBLE.has(ext) ? { gzip: gzipSync(body, { level: 9 }) } : {}),
        });
      }
    }
  };
  walk('');
  return assets;
}

export const uiRoutes: FastifyPluginAsync<{ dir?: string }> = async (app, opts) => {
  const assets = loadAssets(opts.dir ?? UI_DIR);
  const notBuilt = () =>
    fail('ROUTE_NOT_FOUND', 'the console is not built in this install: run `npm run build:ui` (npm install and npm run build do)', 'path');
  const send = (req: FastifyRequest, reply: FastifyReply, a: Asset) => {
    reply.type(a.type).header('vary', 'accept-encoding').header('x-content-type-options', 'nosniff');
    const accepts = String(req.headers['accept-encoding'] ?? '');
    if (a.gzip && /\bgzip\b/.test(accepts)) return reply.header('content-encoding', 'gzip').send(a.gzip);
    return reply.send(a.body);
  };
  const index = (req: FastifyRequest, reply: FastifyReply) => {
    const html = assets.get('index.html');
    if (!html) notBuilt();
    reply.header('cache-control', 'no-cache');
    return send(req, reply, html!);
  };
  const route = { schema: { hide: true }, config: { access: 'public' as const } };
  app.get('/ui', route, index);
  app.get('/ui/', route, index);
  app.get<{ Params: { '*': string } }>('/ui/*', route, async (req, reply) => {
    const path = req.params['*'];
    const a = assets.get(path);
    if (!a) {
      if (!assets.has('index.html')) notBuilt();
      fail('ROUTE_NOT_FOUND', `the console has no file '${path}'`, 'path');
    }
    // Vite names assets by their content's hash: a name never changes meaning.
    const immutable = path.startsWith('assets/');
    reply.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    return send(req, reply, a!);
  });
};
