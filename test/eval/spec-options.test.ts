// The search-time options of a retriever spec: `prf`, `verify`, per-member `<name>.prf` and
// `interpolate`; the search body they make, and the collection they need (the same one as
// without them, plus the dense retriever a verification reads).
import { describe, expect, it } from 'vitest';
import { collectionHosts, collectionNameFor, collectionSettings, parseRetrieverSpec, searchBody } from '../../src/eval/retriever-spec.js';

describe('prf and verify in specs', () => {
  it('puts prf and verify in the search body of a single retriever', () => {
    const s = parseRetrieverSpec('bm25:prf=rm3,prf.docs=5,prf.weight=0.7,verify=true,verify.candidates=50');
    expect(s.params).toEqual({});
    expect(searchBody(s, 'q', 100)).toEqual({
      query: 'q',
      k: 100,
      retriever: 'bm25',
      prf: { method: 'rm3', docs: 5, weight: 0.7 },
      verify: { retriever: 'dense', candidates: 50 },
    });
    expect(searchBody(parseRetrieverSpec('dense:model=m,prf=true'), 'q', 10)).toEqual({ query: 'q', k: 10, retriever: 'dense', prf: {} });
  });

  it('puts per-member prf and interpolate in a fusion body', () => {
    const s = parseRetrieverSpec('convex:bm25+dense,norm=z_score,bm25.prf=rm3,dense.prf.docs=3,interpolate=both,verify=dense');
    expect(searchBody(s, 'q', 10)).toEqual({
      query: 'q',
      k: 10,
      retrievers: [
        { name: 'bm25', window: 10, prf: { method: 'rm3' } },
        { name: 'dense', window: 10, prf: { docs: 3 } },
      ],
      fusion: { method: 'convex', normalization: 'z_score', interpolate: 'both' },
      verify: { retriever: 'dense' },
    });
    expect(s.fusion!.settings).toEqual({});
  });

  it('refuses bad values, naming the key', () => {
    expect(() => parseRetrieverSpec('bm25:prf=bo1')).toThrow(/prf must be true or one of rm3, terms, rocchio/);
    expect(() => parseRetrieverSpec('bm25:prf.docs=0')).toThrow(/prf.docs must be an integer from 1 to 100/);
    expect(() => parseRetrieverSpec('bm25:prf.depth=3')).toThrow(/unknown key "prf.depth"/);
    expect(() => parseRetrieverSpec('bm25:verify.weight=2')).toThrow(/verify.weight must be a number from 0 to 1/);
    expect(() => parseRetrieverSpec('rrf:bm25+dense,interpolate=never')).toThrow(/interpolate must be before, after or both/);
    expect(() => parseRetrieverSpec('rrf:bm25+dense,splade.prf=rm3')).toThrow(/not one of bm25, dense/);
  });

  it('searches the collection that also holds the verifying dense retriever', () => {
    const specs = ['bm25', 'dense:model=m', 'bm25:verify=true', 'rrf:bm25+dense', 'bm25:prf=rm3'].map(parseRetrieverSpec);
    expect(collectionSettings(specs[2], specs)).toEqual({ dense: { model: 'm' } });
    const hosts = collectionHosts(specs);
    const name = (i: number) => collectionNameFor(specs[hosts[i]], '/d', 'd', specs);
    // One collection (BM25 and the dense model) for all five: prf and verify change no setting.
    expect(new Set(specs.map((_, i) => name(i))).size).toBe(1);
    expect(name(2)).not.toBe(collectionNameFor(parseRetrieverSpec('bm25'), '/d', 'd', []));
  });
});
