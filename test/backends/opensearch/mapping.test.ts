// The OpenSearch layout's pure parts: metadata flattening and filter clauses (the same semantics as
// the embedded backend's SQL), rank-feature weights as Lucene keeps them, the k-NN score transform.
import { describe, expect, it } from 'vitest';
import { validateFilter } from '../../../src/backends/filter.js';
import {
  bm25Text,
  bulkParts,
  featuresOf,
  filterClause,
  flattenMetadata,
  indexBody,
  innerProductOf,
  MIN_FEATURE_WEIGHT,
  storedFeatureWeight,
} from '../../../src/backends/opensearch/mapping.js';

describe('flattenMetadata', () => {
  it('keys each scalar by its path joined with / and keeps types apart', () => {
    const f = flattenMetadata({ year: 2020, lang: 'en', ok: true, source: { kind: 'web', depth: { n: 3 } }, tags: ['a', 'b', 7] });
    expect(f.n).toEqual({ year: [2020], 'source/depth/n': [3], tags: [7] });
    expect(f.s).toEqual({ lang: ['en'], 'source/kind': ['web'], tags: ['a', 'b'] });
    expect(f.b).toEqual({ ok: [true] });
  });

  it('treats a __proto__ key as data', () => {
    const f = flattenMetadata(JSON.parse('{"__proto__": {"polluted": 1}}'));
    expect(Object.keys(f.n)).toEqual(['__proto__/polluted']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('leaves out what no filter key can name: objects inside arrays, nulls, keys with other characters', () => {
    const f = flattenMetadata({ list: [{ x: 1 }], nothing: null, 'a.b': 1, 'sp ace': 'x' });
    expect(f).toEqual({ n: {}, s: {}, b: {} });
  });
});

describe('filterClause', () => {
  it('compiles eq, in and ranges onto the typed fields, all conditions required', () => {
    const c = filterClause(validateFilter({ year: { gte: 2020, lt: 2022 }, lang: 'en', 'source.kind': { in: ['web', 3, false] } }));
    expect(c).toEqual({
      bool: {
        filter: [
          { range: { '_m.n.year': { gte: 2020, lt: 2022 } } },
          { term: { '_m.s.lang': 'en' } },
          {
            bool: {
              should: [
                { term: { '_m.s.source/kind': 'web' } },
                { term: { '_m.n.source/kind': 3 } },
                { term: { '_m.b.source/kind': false } },
              ],
              minimum_should_match: 1,
            },
          },
        ],
      },
    });
  });

  it('an empty filter allows everything', () => {
    expect(filterClause(validateFilter({}))).toEqual({ bool: { filter: [] } });
  });
});

describe('rank features', () => {
  it('keeps 9 significant bits, truncated, as Lucene FeatureField stores them', () => {
    expect(storedFeatureWeight(1)).toBe(1);
    expect(storedFeatureWeight(0.5)).toBe(0.5);
    const w = 1.2345678;
    const s = storedFeatureWeight(w);
    expect(s).toBeLessThanOrEqual(w);
    expect((w - s) / w).toBeLessThan(2 ** -8);
    // The 9th bit below the leading one is the last kept: 1 + 2^-8 survives, 1 + 2^-9 does not.
    expect(storedFeatureWeight(1 + 2 ** -8)).toBe(1 + 2 ** -8);
    expect(storedFeatureWeight(1 + 2 ** -9)).toBe(1);
  });

  it('drops zero, negative and subnormal weights (OpenSearch refuses the whole document for them)', () => {
    const f = featuresOf(Uint32Array.from([3, 5, 7, 9]), Float32Array.from([0.5, 0, -1, MIN_FEATURE_WEIGHT / 2]));
    expect(f).toEqual({ '3': 0.5 });
  });
});

describe('index layout', () => {
  it('maps BM25 with the collection similarity, rank_features, and lucene HNSW for dense', () => {
    const b = indexBody({
      shards: 2,
      replicas: 1,
      lexical: { name: 'bm25', k1: 1.2, b: 0.75 },
      sparse: ['splade'],
      dense: [{ name: 'dense', dim: 8, m: 16, efConstruction: 100 }],
      sparsePassages: ['inference_free'],
      densePassages: [{ name: 'dense2', dim: 4, m: 8, efConstruction: 50 }],
    }) as { settings: { index: Record<string, any> }; mappings: { properties: Record<string, any> } };
    expect(b.settings.index.similarity.lsr_bm25).toEqual({ type: 'BM25', k1: 1.2, b: 0.75 });
    expect(b.settings.index['translog.durability']).toBe('request');
    expect(b.mappings.properties._bm25.analyzer).toBe('whitespace');
    expect(b.mappings.properties._sp_splade.type).toBe('rank_features');
    expect(b.mappings.properties._dn_dense.method.engine).toBe('lucene');
    expect(b.mappings.properties._dn_dense.method.space_type).toBe('innerproduct');
    // Passages scored by their best: nested documents, offsets kept in _source only.
    const ps = b.mappings.properties._ps_inference_free;
    expect(ps.type).toBe('nested');
    expect(ps.properties.f.type).toBe('rank_features');
    expect(ps.properties.s).toEqual({ type: 'integer', index: false, doc_values: false });
    const pd = b.mappings.properties._pd_dense2;
    expect(pd.type).toBe('nested');
    expect(pd.properties.v).toMatchObject({ type: 'knn_vector', dimension: 4, method: { engine: 'lucene', parameters: { m: 8 } } });
  });

  it('writes the analyzed terms repeated by their counts', () => {
    expect(
      bm25Text(
        new Map([
          ['cat', 2],
          ['dog', 1],
        ]),
      ),
    ).toBe('cat cat dog');
  });

  it('undoes the inner-product score transform on both sides of zero', () => {
    for (const ip of [-3.5, -0.25, 0, 0.75, 12]) {
      const score = ip >= 0 ? ip + 1 : 1 / (1 - ip);
      expect(innerProductOf(score)).toBeCloseTo(ip, 12);
    }
  });
});

describe('bulkParts', () => {
  it('keeps each request under the byte cap, in order, a document over it alone', () => {
    const lines = ['aaaa', 'bb', 'cccccccccc', 'd', 'é'.repeat(3)]; // 4, 2, 10, 1, 6 bytes
    expect(bulkParts([0, 1, 2, 3, 4], lines, 6)).toEqual([[0, 1], [2], [3], [4]]);
    expect(bulkParts([3, 1, 0], lines, 7)).toEqual([[3, 1, 0]]);
    expect(bulkParts([4, 0], lines, 100)).toEqual([[4, 0]]);
    expect(bulkParts([], lines, 6)).toEqual([]);
  });
});
