// Checked metadata conditions (backends/filter.ts) -> a SQL condition over docs.metadata -> a bitset
// over document numbers for the engine. json_each walks scalars and arrays alike, so a condition on
// a key holding an array matches when any element matches.
import type { DocumentStore } from '../../store/document-store.js';
import { validateFilter, type KeyCondition, type Scalar } from '../filter.js';

const SQL_OP = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

/** JSON true/false read back as 1/0 in SQLite. */
function sqlValue(v: Scalar): string | number {
  return typeof v === 'boolean' ? (v ? 1 : 0) : v;
}

export function conditionsToSql(conditions: readonly KeyCondition[]): { where: string; params: (string | number)[] } {
  const parts: string[] = [];
  const params: (string | number)[] = [];
  for (const c of conditions) {
    const path = '$' + c.path.map((k) => `."${k}"`).join('');
    const exists = (test: string, ps: (string | number)[]) => {
      parts.push(`EXISTS (SELECT 1 FROM json_each(docs.metadata, ?) WHERE ${test})`);
      params.push(path, ...ps);
    };
    if (c.eq !== undefined) exists('value = ?', [sqlValue(c.eq)]);
    if (c.in !== undefined) exists(`value IN (${c.in.map(() => '?').join(', ')})`, c.in.map(sqlValue));
    if (c.ranges.length)
      exists(
        `type IN ('integer', 'real') AND ${c.ranges.map((r) => `value ${SQL_OP[r.op]} ?`).join(' AND ')}`,
        c.ranges.map((r) => r.value),
      );
  }
  return { where: parts.length ? parts.join(' AND ') : '1', params };
}

/** A filter (checked here, INVALID_FILTER naming the field) as a SQL condition over `docs`. */
export function filterToSql(filter: unknown): { where: string; params: (string | number)[] } {
  return conditionsToSql(validateFilter(filter));
}

/** Bitset over document numbers (bit i = docno i) of the documents matching `filter`. */
export function filterBitset(store: DocumentStore, filter: unknown): { bits: Uint8Array; matches: number } {
  const { where, params } = filterToSql(filter);
  const docnos = store.docnosWhere(where, params);
  const bits = new Uint8Array((store.highestDocno >>> 3) + 1);
  for (const d of docnos) bits[d >>> 3] |= 1 << (d & 7);
  return { bits, matches: docnos.length };
}
