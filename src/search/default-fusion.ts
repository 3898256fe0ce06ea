// A collection's default fusion: what a hybrid request without `fusion` is fused by (instead of
// RRF with k 60). Typically the setting `lsr eval --tune` chose on the collection's judged queries
// (`--save-fusion`). Kept beside the collection's data as `default-fusion.json` (written to a
// temporary name, then renamed), read once per open collection and replaced in memory when saved.
// A collection whose data lives in OpenSearch has no folder here: it has no default fusion, and
// saving one is UNSUPPORTED_BY_BACKEND.
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
export function defaultFusion(c: Collection): DefaultFusion | undefined {
  if (c.dir === '') return undefined; // a collection without a folder here (OpenSearch-backed)
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
export function saveDefaultFusion(c: Collection, raw: unknown | null): DefaultFusion | undefined {
  if (c.dir === '')
    fail(
      'UNSUPPORTED_BY_BACKEND',
      `collection '${c.name}' has no folder on this server (its data is in OpenSearch), where a default fusion is kept`,
    );
  const path = join(c.dir, DEFAULT_FUSION_FILE);
  if (raw === null) {
    rmSync(path, { force: true });
    cache.set(c, null);
    return undefined;
  }
  const f = checkDefaultFusion(c, raw);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(f)}\n`);
  renameSync(`${path}.tmp`, path);
  cache.set(c, f);
  return f;
}

/**
 * The fusion a hybrid request runs with: its own `fusion`; without one, the collection's default,
 * its weights limited to the request's retrievers (a retriever's own `weight` wins), keeping the
 * request's `interpolate`.
 */
export function fusionFor(c: Collection, req: { fusion?: FusionRequest; retrievers?: { name: string; weight?: number }[] }) {
  if (req.fusion !== undefined && Object.keys(req.fusion).some((k) => k !== 'interpolate')) return req.fusion;
  const d = defaultFusion(c);
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
