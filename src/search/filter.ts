// Metadata filters -> a SQL condition over docs.metadata -> a bitset over document numbers for the
// engine. A condition on a key holding an array matches when any element matches (json_each walks
// scalars and arrays alike).
import { fail } from '../errors.js';
import { isPlainObject } from '../collections/documents.js';
import type { DocumentStore } from '../store/document-store.js';

export type Scalar = string | number | boolean;
export interface RangeCondition {
  eq?: Scalar;
  in?: Scalar[];
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
}
/** Keys are metadata paths (`year`, `source.kind`); conditions on several keys must all hold. */
export type Filter = Record<string, Scalar | RangeCondition>;

export const FILTER_KEY_PATTERN = '^[A-Za-z0-9_-]{1,64}(\\.[A-Za-z0-9_-]{1,64}){0,7}$';
const KEY_RE = new RegExp(FILTER_KEY_PATTERN);
const MAX_IN = 1024;
const OPS = new Set(['eq', 'in', 'gt', 'gte', 'lt', 'lte']);

function sqlValue(v: unknown, field: string): string | number {
  if (typeof v === 'boolean') return v ? 1 : 0; // JSON true/false read back as 1/0 in SQLite
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') return v;
  return fail('INVALID_FILTER', `filter value must be a string, number or boolean, got ${v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v}`, field);
}

function num(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail('INVALID_FILTER', `range bound must be a finite number, got ${JSON.stringify(v)}`, field);
  return v;
}

export function filterToSql(filter: unknown, base = 'filter'): { where: string; params: (string | number)[] } {
  if (!isPlainObject(filter)) fail('INVALID_FILTER', 'filter must be an object of metadata key -> condition', base);
  const parts: string[] = [];
  const params: (string | number)[] = [];
  const keys = Object.keys(filter);
  if (keys.length > 32) fail('INVALID_FILTER', 'filter may hold at most 32 keys', base);
  for (const key of keys) {
    const field = `${base}.${key}`;
    if (!KEY_RE.test(key)) fail('INVALID_FILTER', `filter key '${key}' must be dotted names of letters, digits, '_' or '-'`, field);
    const path = '$' + key.split('.').map((k) => `."${k}"`).join('');
    const cond = filter[key];
    const exists = (test: string, ps: (string | number)[]) => {
      parts.push(`EXISTS (SELECT 1 FROM json_each(docs.metadata, ?) WHERE ${test})`);
      params.push(path, ...ps);
    };
    if (!isPlainObject(cond)) {
      exists('value = ?', [sqlValue(cond, field)]);
      continue;
    }
    const ops = Object.keys(cond);
    if (ops.length === 0) fail('INVALID_FILTER', 'a condition needs one of eq, in, gt, gte, lt, lte', field);
    for (const op of ops) if (!OPS.has(op)) fail('INVALID_FILTER', `unknown filter operator '${op}' (use eq, in, gt, gte, lt, lte)`, `${field}.${op}`);
    if (cond.eq !== undefined) exists('value = ?', [sqlValue(cond.eq, `${field}.eq`)]);
    if (cond.in !== undefined) {
      const vs = cond.in;
      if (!Array.isArray(vs) || vs.length === 0 || vs.length > MAX_IN)
        fail('INVALID_FILTER', `'in' must be an array of 1 to ${MAX_IN} values`, `${field}.in`);
      exists(`value IN (${vs.map(() => '?').join(', ')})`, vs.map((v, i) => sqlValue(v, `${field}.in[${i}]`)));
    }
    const range: string[] = [];
    const rp: number[] = [];
    for (const [op, sym] of [['gt', '>'], ['gte', '>='], ['lt', '<'], ['lte', '<=']] as const) {
      const v = (cond as Record<string, unknown>)[op];
      if (v === undefined) continue;
      range.push(`value ${sym} ?`);
      rp.push(num(v, `${field}.${op}`));
    }
    // Ranges compare numbers only: a string "2020" is not >= 2019.
    if (range.length) exists(`type IN ('integer', 'real') AND ${range.join(' AND ')}`, rp);
  }
  return { where: parts.length ? parts.join(' AND ') : '1', params };
}

/** Bitset over document numbers (bit i = docno i) of the documents matching `filter`. */
export function filterBitset(store: DocumentStore, filter: unknown): { bits: Uint8Array; matches: number } {
  const { where, params } = filterToSql(filter);
  const docnos = store.docnosWhere(where, params);
  const bits = new Uint8Array((store.highestDocno >>> 3) + 1);
  for (const d of docnos) bits[d >>> 3] |= 1 << (d & 7);
  return { bits, matches: docnos.length };
}
