// Metadata filters compiled to SQL and run on a real store.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DocumentStore } from '../../../src/store/document-store.js';
import { filterBitset, filterToSql } from '../../../src/backends/embedded/sql-filter.js';
import { removeDir, tempDir } from '../../helpers/temp-dir.js';

const dir = tempDir('lsr-filter-');
let s: DocumentStore;

beforeAll(() => {
  s = new DocumentStore(join(dir, 'store.sqlite'));
  const meta = [
    { year: 2020, lang: 'en', tags: ['a', 'b'], src: { kind: 'web' }, ok: true },
    { year: 2021, lang: 'fr', tags: ['b'], src: { kind: 'book' }, ok: false },
    { year: '2022', lang: 'en', tags: 'c' },
    { year: 2023.5 },
  ];
  s.writeBatch(
    meta.map((m, i) => ({ id: `d${i}`, fields: '{}', metadata: JSON.stringify(m), counts: new Map(), dl: 0 })),
    null,
  );
});
afterAll(() => {
  s.close();
  removeDir(dir);
});

const ids = (filter: unknown) => {
  const { where, params } = filterToSql(filter);
  return s
    .docnosWhere(where, params)
    .map((d) => `d${d - 1}`)
    .sort();
};

describe('filters', () => {
  it('match equality, arrays, nested keys and booleans', () => {
    expect(ids({ lang: 'en' })).toEqual(['d0', 'd2']);
    expect(ids({ tags: 'b' })).toEqual(['d0', 'd1']);
    expect(ids({ tags: { in: ['c', 'zzz'] } })).toEqual(['d2']);
    expect(ids({ 'src.kind': 'book' })).toEqual(['d1']);
    expect(ids({ ok: true })).toEqual(['d0']);
    expect(ids({})).toEqual(['d0', 'd1', 'd2', 'd3']);
  });

  it('compare ranges on numbers only', () => {
    expect(ids({ year: { gte: 2021 } })).toEqual(['d1', 'd3']);
    expect(ids({ year: { gt: 2020, lte: 2021 } })).toEqual(['d1']);
    expect(ids({ year: '2022' })).toEqual(['d2']);
    expect(ids({ year: 2022 })).toEqual([]);
  });

  it('builds a bitset over document numbers', () => {
    const { bits, matches } = filterBitset(s, { lang: 'en' });
    expect(matches).toBe(2);
    expect(Array.from(bits)).toEqual([0b0000_1010]);
  });

  it('refuses what it cannot compile, naming the field', () => {
    expect(() => filterToSql({ 'a"b': 1 })).toThrow(expect.objectContaining({ code: 'INVALID_FILTER', field: 'filter.a"b' }));
    expect(() => filterToSql({ year: { gt: '1' } })).toThrow(expect.objectContaining({ field: 'filter.year.gt' }));
    expect(() => filterToSql({ year: { like: 1 } })).toThrow(expect.objectContaining({ field: 'filter.year.like' }));
  });
});
