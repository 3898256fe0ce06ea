import { describe, expect, it } from 'vitest';
import { collectionBody, collectionHosts, collectionNameFor, parseRetrieverSpec, searchBody } from '../../src/eval/retriever-spec.js';

describe('parseRetrieverSpec', () => {
  it('parses a bare name with default fields', () => {
    expect(parseRetrieverSpec('bm25')).toEqual({ raw: 'bm25', retriever: 'bm25', params: {}, fields: ['title', 'text'] });
  });
  it('parses numeric parameters, fields and an existing collection', () => {
    const s = parseRetrieverSpec('bm25:k1=1.2,b=.75,fields=text,collection=mine,model=abc');
    expect(s.params).toEqual({ k1: 1.2, b: 0.75, model: 'abc' });
    expect(s.fields).toEqual(['text']);
    expect(s.collection).toBe('mine');
  });
  it('names what is wrong', () => {
    expect(() => parseRetrieverSpec('BM25')).toThrow(/name "BM25"/);
    expect(() => parseRetrieverSpec('bm25:')).toThrow(/nothing after/);
    expect(() => parseRetrieverSpec('bm25:k1')).toThrow(/"k1" is not key=value/);
    expect(() => parseRetrieverSpec('bm25:k1=1,k1=2')).toThrow(/given twice/);
    expect(() => parseRetrieverSpec('bm25:b=')).toThrow(/has no value/);
  });
});

describe('nested settings and search-time approximate options', () => {
  it('nest dotted keys into the collection settings, and keep mode and approx knobs for the request', () => {
    const exact = parseRetrieverSpec('splade:model=m,approx.postings=50,storage.impacts=u8,storage.weights=f16');
    expect(exact.params).toEqual({ model: 'm', approx: { postings: 50 }, storage: { impacts: 'u8', weights: 'f16' } });
    const approx = parseRetrieverSpec(
      'splade:model=m,approx.postings=50,storage.impacts=u8,storage.weights=f16,mode=approx,query_cut=20,rerank=100',
    );
    expect(approx.search).toEqual({ mode: 'approx', approx: { query_cut: 20, rerank: 100 } });
    expect(searchBody(approx, 'q', 10)).toEqual({
      query: 'q',
      k: 10,
      retriever: 'splade',
      mode: 'approx',
      approx: { query_cut: 20, rerank: 100 },
    });
    expect(searchBody(exact, 'q', 10)).toEqual({ query: 'q', k: 10, retriever: 'splade' });
    // One collection serves both (the runner builds a name once): search-time options are not settings.
    expect(collectionNameFor(approx, '/d', 'd')).toBe(collectionNameFor(exact, '/d', 'd'));
    const fused = parseRetrieverSpec('rrf:bm25+splade,splade.model=m,splade.approx.postings=50');
    expect(fused.fusion?.settings.splade).toEqual({ model: 'm', approx: { postings: 50 } });
  });
  it('names what is wrong', () => {
    expect(() => parseRetrieverSpec('splade:approx=1,approx.postings=2')).toThrow(/"approx" is also given as a value/);
    expect(() => parseRetrieverSpec('splade:approx.postings=2,approx=1')).toThrow(/"approx" is also given as approx.<key>/);
    expect(() => parseRetrieverSpec('splade:a.b.c=1')).toThrow(/nests deeper/);
    expect(() => parseRetrieverSpec('splade:mode=fast')).toThrow(/mode must be exact or approx, got "fast"/);
  });
});

describe('collection names', () => {
  const pattern = /^[a-z0-9][a-z0-9_-]{0,63}$/;
  it('fit the service pattern and change with every setting', () => {
    const a = collectionNameFor(parseRetrieverSpec('bm25'), '/d/SciFact v1', 'SciFact v1');
    const b = collectionNameFor(parseRetrieverSpec('bm25:k1=1.2'), '/d/SciFact v1', 'SciFact v1');
    const c = collectionNameFor(parseRetrieverSpec('bm25'), '/other/SciFact v1', 'SciFact v1');
    for (const n of [a, b, c]) expect(n).toMatch(pattern);
    expect(new Set([a, b, c]).size).toBe(3);
    expect(a).toMatch(/^eval-scifact-v1-[0-9a-f]{10}$/);
    const long = collectionNameFor(parseRetrieverSpec('bm25'), '/x', 'x'.repeat(200));
    expect(long).toMatch(pattern);
  });
  it('are the same for equal settings written in another order', () => {
    expect(collectionNameFor(parseRetrieverSpec('bm25:k1=1,b=0.5'), '/d', 'd')).toBe(
      collectionNameFor(parseRetrieverSpec('bm25:b=0.5,k1=1'), '/d', 'd'),
    );
  });
  it('builds the create body with retriever settings', () => {
    expect(collectionBody(parseRetrieverSpec('bm25:k1=1.2'), 'c')).toEqual({
      name: 'c',
      fields: ['title', 'text'],
      default_retriever: 'bm25',
      retrievers: { bm25: { k1: 1.2 } },
    });
    expect(collectionBody(parseRetrieverSpec('bm25'), 'c')).not.toHaveProperty('retrievers');
  });
});

describe('fusion specs', () => {
  it('parse the method, members, parameters, windows, weights and member settings', () => {
    const s = parseRetrieverSpec(
      'convex:bm25+splade,norm=z_score,w.bm25=0.3,w.splade=0.7,window=50,window.splade=20,splade.model=pypi:x==1',
    );
    expect(s.retriever).toBe('convex');
    expect(s.fusion).toEqual({
      method: 'convex',
      members: ['bm25', 'splade'],
      normalization: 'z_score',
      weights: { bm25: 0.3, splade: 0.7 },
      window: 50,
      windows: { splade: 20 },
      settings: { splade: { model: 'pypi:x==1' } },
    });
    expect(parseRetrieverSpec('rrf:bm25+dense,k=20').fusion).toMatchObject({ method: 'rrf', members: ['bm25', 'dense'], k: 20 });
    expect(parseRetrieverSpec('dbsf:bm25+splade').fusion).toMatchObject({ method: 'dbsf', members: ['bm25', 'splade'] });
    expect(parseRetrieverSpec('dbsf:bm25+splade,clip=true').fusion).toMatchObject({ method: 'dbsf', clip: true });
    expect(searchBody(parseRetrieverSpec('dbsf:bm25+splade,clip=true'), 'q', 10)).toMatchObject({ fusion: { method: 'dbsf', clip: true } });
    expect(parseRetrieverSpec('bm25').fusion).toBeUndefined();
  });
  it('name what is wrong', () => {
    expect(() => parseRetrieverSpec('rrf')).toThrow(/a fusion names its retrievers/);
    expect(() => parseRetrieverSpec('rrf:bm25+BM')).toThrow(/"BM" is not a retriever name/);
    expect(() => parseRetrieverSpec('rrf:bm25+bm25')).toThrow(/named twice/);
    expect(() => parseRetrieverSpec('rrf:bm25+splade,norm=l2')).toThrow(/norm applies to convex only/);
    expect(() => parseRetrieverSpec('convex:bm25+splade,k=3')).toThrow(/k applies to rrf only/);
    expect(() => parseRetrieverSpec('convex:bm25+splade,norm=max')).toThrow(/min_max, z_score or l2/);
    expect(() => parseRetrieverSpec('dbsf:bm25+splade,w.dense=1')).toThrow(/"w.dense" names "dense", which is not one of bm25, splade/);
    expect(() => parseRetrieverSpec('dbsf:bm25+splade,window=0')).toThrow(/window must be an integer >= 1/);
    expect(() => parseRetrieverSpec('rrf:bm25+splade,k=-1')).toThrow(/k must be a number >= 0/);
    expect(() => parseRetrieverSpec('rrf:bm25+splade,size=3')).toThrow(/unknown key "size"/);
    expect(() => parseRetrieverSpec('rrf:bm25+splade,clip=true')).toThrow(/clip applies to dbsf only/);
    expect(() => parseRetrieverSpec('dbsf:bm25+splade,clip=yes')).toThrow(/clip must be true or false/);
  });
  it('share the collection of the single specs whose settings they take', () => {
    const splade = parseRetrieverSpec('splade:model=dir:m');
    const bm25 = parseRetrieverSpec('bm25');
    const fused = parseRetrieverSpec('rrf:bm25+splade');
    const others = [bm25, splade];
    expect(collectionNameFor(fused, '/d', 'd', others)).toBe(collectionNameFor(splade, '/d', 'd', others));
    expect(collectionNameFor(fused, '/d', 'd', others)).not.toBe(collectionNameFor(bm25, '/d', 'd', others));
    // settings in the fusion spec itself give the same collection
    expect(collectionNameFor(parseRetrieverSpec('dbsf:bm25+splade,splade.model=dir:m'), '/d', 'd')).toBe(
      collectionNameFor(splade, '/d', 'd'),
    );
    expect(collectionBody(fused, 'c', others)).toEqual({
      name: 'c',
      fields: ['title', 'text'],
      default_retriever: 'bm25',
      retrievers: { splade: { model: 'dir:m' } },
    });
  });
  it('search the largest collection of the run that holds their retrievers with the same settings', () => {
    const p = (xs: (string | null)[]) => collectionHosts(xs.map((x) => (x === null ? null : parseRetrieverSpec(x))));
    // bm25, splade and dense alone, their pairs and all three: every one searches the three-retriever collection (index 3)
    expect(p(['bm25', 'splade:model=a', 'dense:model=b', 'rrf:bm25+splade+dense', 'rrf:bm25+dense', null])).toEqual([3, 3, 3, 3, 3, 5]);
    // other BM25 settings, other fields, another model or an existing collection are not covered
    expect(p(['bm25:k1=1.2', 'splade:model=a'])).toEqual([0, 1]);
    expect(p(['bm25', 'bm25:k1=1.2', 'rrf:bm25+splade,splade.model=a'])).toEqual([2, 1, 2]);
    expect(p(['bm25:fields=text', 'splade:model=a'])).toEqual([0, 1]);
    expect(p(['splade:model=a', 'rrf:bm25+splade,splade.model=c'])).toEqual([0, 1]);
    expect(p(['bm25:collection=x', 'splade:model=a'])).toEqual([0, 1]);
  });
  it('build the hybrid search body, windows defaulting to k', () => {
    expect(searchBody(parseRetrieverSpec('bm25'), 'q', 100)).toEqual({ query: 'q', k: 100, retriever: 'bm25' });
    expect(searchBody(parseRetrieverSpec('convex:bm25+splade,norm=l2,w.splade=2,window.bm25=10'), 'q', 100)).toEqual({
      query: 'q',
      k: 100,
      retrievers: [
        { name: 'bm25', window: 10 },
        { name: 'splade', window: 100 },
      ],
      fusion: { method: 'convex', normalization: 'l2', weights: { splade: 2 } },
    });
    expect(searchBody(parseRetrieverSpec('rrf:bm25+splade,k=10,window=7'), 'q', 100)).toMatchObject({
      fusion: { method: 'rrf', k: 10 },
      retrievers: [{ window: 7 }, { window: 7 }],
    });
  });
});
