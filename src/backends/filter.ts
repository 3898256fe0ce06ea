// Metadata filters, the grammar every backend compiles: their shape, checked once with messages
// that name the field at fault, and normalized (the embedded backend compiles them to SQL in
// backends/embedded/sql-filter.ts). A condition on a key holding an array matches when any element matches.
import { fail } from '../errors.js';
import { isPlainObject } from '../collections/documents.js';

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
const MAX_KEYS = 32;
const OPS = new Set(['eq', 'in', 'gt', 'gte', 'lt', 'lte']);

/** One key's conditions, checked: what a backend compiles. */
export interface KeyCondition {
  /** The metadata path, one name per level. */
  path: string[];
  eq?: Scalar;
  in?: Scalar[];
  /** Numeric bounds; a range compares numbers only (a string "2020" is not >= 2019). */
  ranges: { op: 'gt' | 'gte' | 'lt' | 'lte'; value: number }[];
}

function scalar(v: unknown, field: string): Scalar {
  if (typeof v === 'boolean' || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) return v;
  return fail(
    'INVALID_FILTER',
    `filter value must be a string, number or boolean, got ${v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v}`,
    field,
  );
}

function num(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    fail('INVALID_FILTER', `range bound must be a finite number, got ${JSON.stringify(v)}`, field);
  return v;
}

/**
 * Checks a filter and returns its conditions, all of which must hold; the first problem throws
 * INVALID_FILTER naming its field (`filter.year.gt`). An empty object has no conditions.
 */
export function validateFilter(filter: unknown, base = 'filter'): KeyCondition[] {
  if (!isPlainObject(filter)) fail('INVALID_FILTER', 'filter must be an object of metadata key -> condition', base);
  const keys = Object.keys(filter);
  if (keys.length > MAX_KEYS) fail('INVALID_FILTER', `filter may hold at most ${MAX_KEYS} keys`, base);
  return keys.map((key) => {
    const field = `${base}.${key}`;
    if (!KEY_RE.test(key)) fail('INVALID_FILTER', `filter key '${key}' must be dotted names of letters, digits, '_' or '-'`, field);
    const path = key.split('.');
    const cond = filter[key];
    if (!isPlainObject(cond)) return { path, eq: scalar(cond, field), ranges: [] };
    const ops = Object.keys(cond);
    if (ops.length === 0) fail('INVALID_FILTER', 'a condition needs one of eq, in, gt, gte, lt, lte', field);
    for (const op of ops)
      if (!OPS.has(op)) fail('INVALID_FILTER', `unknown filter operator '${op}' (use eq, in, gt, gte, lt, lte)`, `${field}.${op}`);
    const out: KeyCondition = { path, ranges: [] };
    if (cond.eq !== undefined) out.eq = scalar(cond.eq, `${field}.eq`);
    if (cond.in !== undefined) {
      const vs = cond.in;
      if (!Array.isArray(vs) || vs.length === 0 || vs.length > MAX_IN)
        fail('INVALID_FILTER', `'in' must be an array of 1 to ${MAX_IN} values`, `${field}.in`);
      out.in = vs.map((v, i) => scalar(v, `${field}.in[${i}]`));
    }
    for (const op of ['gt', 'gte', 'lt', 'lte'] as const)
      if (cond[op] !== undefined) out.ranges.push({ op, value: num(cond[op], `${field}.${op}`) });
    return out;
  });
}
