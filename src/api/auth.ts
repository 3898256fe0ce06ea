// API keys and the optional rate limit, as onRequest hooks. Keys come as `Authorization: Bearer <key>`
// or `x-api-key: <key>`; read keys may call read routes, write keys everything.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiKey } from '../config.js';
import { fail } from '../errors.js';
import type { Access } from './service.js';

export function presentedKey(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (typeof h === 'string' && /^bearer /i.test(h)) return h.slice(7).trim();
  const x = req.headers['x-api-key'];
  return typeof x === 'string' ? x : undefined;
}

function sameKey(a: string, b: string): boolean {
  const x = Buffer.from(a),
    y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function routeAccess(req: FastifyRequest): Access {
  const a = req.routeOptions.config?.access;
  if (a) return a;
  return req.method === 'GET' || req.method === 'HEAD' ? 'read' : 'write';
}

/** What the request's key may do: 'write' when the service takes no keys; null for a missing or unknown key. */
export function keyAccess(req: FastifyRequest, keys: ApiKey[]): 'read' | 'write' | null {
  if (keys.length === 0) return 'write';
  const k = presentedKey(req);
  return (k !== undefined && keys.find((x) => sameKey(x.key, k))?.access) || null;
}

export function registerAuth(app: FastifyInstance, keys: ApiKey[]): void {
  if (keys.length === 0) return;
  app.addHook('onRequest', async (req) => {
    const access = routeAccess(req);
    if (access === 'public') return;
    const k = presentedKey(req);
    if (!k) fail('UNAUTHORIZED', 'an API key is required: send `Authorization: Bearer <key>`', 'authorization');
    const found = keys.find((x) => sameKey(x.key, k));
    if (!found) fail('UNAUTHORIZED', 'the API key is not valid', 'authorization');
    if (access === 'write' && found.access !== 'write') fail('FORBIDDEN', 'this API key is read-only', 'authorization');
  });
}

/** Fixed one-second windows per client (API key, else address). */
export function registerRateLimit(app: FastifyInstance, perSecond: number): void {
  if (perSecond <= 0) return;
  let window = 0;
  let counts = new Map<string, number>();
  app.addHook('onRequest', async (req, reply) => {
    if (routeAccess(req) === 'public') return;
    const now = Math.floor(Date.now() / 1000);
    if (now !== window) {
      window = now;
      counts = new Map();
    }
    const who = presentedKey(req) ?? req.ip;
    const n = (counts.get(who) ?? 0) + 1;
    counts.set(who, n);
    if (n > perSecond) {
      reply.header('retry-after', '1');
      fail('RATE_LIMITED', `more than ${perSecond} requests per second from this client`);
    }
  });
}
