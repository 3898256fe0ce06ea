import { describe, expect, it } from 'vitest';
import { collectionBody, collectionNameFor, parseRetrieverSpec } from '../../src/eval/retriever-spec.js';

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
