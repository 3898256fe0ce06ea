// A collection's default fusion: what a hybrid request without `fusion` is fused by (instead of
// RRF with k 60). Typically the setting `lsr eval --tune` chose on the collection's judged queries
// (`--save-fusion`). Kept beside the collection's data as `default-fusion.json` (written to a
// temporary name, then renamed), read once per open collection and replaced in memory when saved.
// An OpenSearch-backed collection keeps it in the cluster, beside its configuration, and it is read
// from there by every request that needs it, so every service process fuses alike.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Collection } from '../collections/collection.js';
import { isPlainObject } from '../collections/documents.js';
import { fail } from '../errors.js';
import { FUSION_METHODS, NORMALIZATIONS } from './fusion.js';
import { MAX_RRF_K, MAX_WEIGHT, type FusionRequest } from './request.js';

export const DEFAULT_FUSION_FILE = 'default-fusion.json';

/** The stored default: a fusion without `interpolate` (feedback is per request). */
export type DefaultFusion = Omit<FusionRequest, 'interpolate'>;

const cache = new WeakMap<Collection, DefaultFusion | null>();

/** The collection's default fusion, or undefined. */
export async function defaultFusion(c: Collection): Promise<DefaultFusion | undefined> {
  if (c.cluster) {
    const text = await c.cluster.defaultFusion(c.name);
    return text === undefined ? undefined : (JSON.parse(text) as DefaultFusion);
  }
  let f = cache.get(c);
  if (f === undefined) {
    const path = join(c.dir, DEFAULT_FUSION_FILE);
    f = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as DefaultFusion) : null;
    cache.set(c, f);
  }
  return f ?? undefined;
}

const KEYS: Record<string, string[]> = {
  rrf: ['method', 'k', 'weights'],
  convex: ['method', 'normalization', 'weights'],
  dbsf: ['method', 'clip', 'weights'],
};

/** Checks a default fusion against the collection; VALIDATION_FAILED / UNKNOWN_RETRIEVER naming the field. */
export function checkDefaultFusion(c: Collection, raw: unknown): DefaultFusion {
  if (!isPlainObject(raw)) fail('VALIDATION_FAILED', 'a default fusion is an object such as {"method": "rrf", "k": 60}');
  const method = raw.method;
  if (typeof method !== 'string' || !(FUSION_METHODS as readonly string[]).includes(method))
    fail('VALIDATION_FAILED', `method must be one of: ${FUSION_METHODS.join(', ')}`, 'method');
  for (const k of Object.keys(raw))
    if (!KEYS[method].includes(k)) fail('VALIDATION_FAILED', `${k} does not apply to method '${method}' (${KEYS[method].join(', ')})`, k);
  if (raw.k !== undefined && (typeof raw.k !== 'number' || !(raw.k >= 0 && raw.k <= MAX_RRF_K)))
    fail('VALIDATION_FAILED', `k must be a number from 0 to ${MAX_RRF_K}`, 'k');
  if (raw.normalization !== undefined && !(NORMALIZATIONS as readonly unknown[]).includes(raw.normalization))
    fail('VALIDATION_FAILED', `normalization must be one of: ${NORMALIZATIONS.join(', ')}`, 'normalization');
  if (raw.clip !== undefined && typeof raw.clip !== 'boolean') fail('VALIDATION_FAILED', 'clip must be true or false', 'clip');
  if (raw.weights !== undefined) {
    if (!isPlainObject(raw.weights)) fail('VALIDATION_FAILED', 'weights must be an object of retriever name -> weight', 'weights');
    for (const [name, w] of Object.entries(raw.weights)) {
      if (!c.retrievers.has(name))
        fail(
          'UNKNOWN_RETRIEVER',
          `retriever '${name}' is not available in collection '${c.name}' (available: ${[...c.retrievers.keys()].join(', ')})`,
          `weights.${name}`,
        );
      if (typeof w !== 'number' || !(w >= 0 && w <= MAX_WEIGHT))
        fail('VALIDATION_FAILED', `weight of '${name}' must be a number from 0 to ${MAX_WEIGHT}`, `weights.${name}`);
    }
  }
  return raw as DefaultFusion;
}

/** Saves (or, with null, removes) the collection's default fusion; checked first. */
export async function saveDefaultFusion(c: Collection, raw: unknown | null): Promise<DefaultFusion | undefined> {
  const f = raw === null ? null : checkDefaultFusion(c, raw);
  if (c.cluster) {
    await c.cluster.setDefaultFusion(c.name, f === null ? null : JSON.stringify(f));
    return f ?? undefined;
  }
  const path = join(c.dir, DEFAULT_FUSION_FILE);
  if (f === null) {
    rmSync(path, { force: true });
    cache.set(c, null);
    return undefined;
  }
  writeFileSync(`${path}.tmp`, `${JSON.stringify(f)}\n`);
  renameSync(`${path}.tmp`, path);
  cache.set(c, f);
  return f;
}

/** Whether a hybrid request leaves its fusion to the collection's default. */
export function usesDefaultFusion(req: { fusion?: FusionRequest }): boolean {
  return req.fusion === undefined || !Object.keys(req.fusion).some((k) => k !== 'interpolate');
}

/**
 * The fusion a hybrid request runs with: its own `fusion`; without one, the collection's default,
 * its weights limited to the request's retrievers (a retriever's own `weight` wins), keeping the
 * request's `interpolate`.
 */
export function fusionFor(
  req: { fusion?: FusionRequest; retrievers?: { name: string; weight?: number }[] },
  /** The collection's default fusion (defaultFusion()), read by the caller when the request uses it. */
  d: DefaultFusion | undefined,
) {
  if (!usesDefaultFusion(req)) return req.fusion;
  if (!d) return req.fusion;
  const names = new Set((req.retrievers ?? []).filter((r) => r.weight === undefined).map((r) => r.name));
  const weights = Object.fromEntries(Object.entries(d.weights ?? {}).filter(([n]) => names.has(n)));
  const { weights: _, ...rest } = d;
  return {
    ...rest,
    ...(Object.keys(weights).length > 0 ? { weights } : {}),
    ...(req.fusion?.interpolate !== undefined ? { interpolate: req.fusion.interpolate } : {}),
  } as FusionRequest;
}
