// Hand-computed values for each measure on small runs whose every number can be checked on paper.

import { describe, expect, it } from 'vitest';
import { compareUtf8, evaluate, evaluateQuery, expandMeasureSpec, parseMeasure, rankDocuments } from '../../src/eval/metrics.js';
import type { Qrels, Run } from '../../src/eval/types.js';

const m = (o: Record<string, number>) => new Map(Object.entries(o));

describe('rankDocuments', () => {
  it('orders by score descending, ties by docno descending', () => {
    expect(rankDocuments(m({ a: 1, c: 1, b: 2, d: 0 }))).toEqual(['b', 'c', 'a', 'd']);
  });
  it('compares scores as 32-bit floats, like trec_eval', () => {
    // 1 + 1e-9 rounds to 1 in float32, so this is a tie broken by docno: b before a.
    expect(rankDocuments(m({ b: 1, a: 1 + 1e-9 }))).toEqual(['b', 'a']);
    // 1 + 1e-6 survives rounding.
    expect(rankDocuments(m({ b: 1, a: 1 + 1e-6 }))).toEqual(['a', 'b']);
  });
  it('breaks ties in byte order, not numeric or UTF-16 order', () => {
    expect(rankDocuments(m({ '10': 5, '9': 5 }))).toEqual(['9', '10']);
    expect(rankDocuments(m({ B: 5, a: 5 }))).toEqual(['a', 'B']);
    // U+1D538 is 4 UTF-8 bytes starting 0xF0, above U+E000 (0xEE...), though its UTF-16 lead is lower.
    expect(rankDocuments(m({ '\uE000': 5, '\u{1D538}': 5 }))).toEqual(['\u{1D538}', '\uE000']);
  });
  it('puts NaN scores last', () => {
    // NaN ranks as -Infinity; the tie with b then goes to the larger docno.
    expect(rankDocuments(m({ a: NaN, b: -Infinity, c: 0 }))).toEqual(['c', 'b', 'a']);
  });
});

describe('compareUtf8', () => {
  it('orders prefixes first and compares code points', () => {
    expect(compareUtf8('ab', 'abc')).toBeLessThan(0);
    expect(compareUtf8('b', 'a')).toBeGreaterThan(0);
    expect(compareUtf8('x', 'x')).toBe(0);
    expect(compareUtf8('\u{1F600}', '\uFFFF')).toBeGreaterThan(0);
  });
});

describe('measures on one query', () => {
  // Ranking after ties: x (unjudged), c (0), a (2), b (1); d (1) is never retrieved.
  const judgments = m({ a: 2, b: 1, c: 0, d: 1 });
  const ranked = rankDocuments(m({ x: 3, a: 2, c: 2, b: 1 }));
  const names = [
    'P_1',
    'P_3',
    'P_5',
    'recall_3',
    'recall_10',
    'recip_rank',
    'recip_rank_2',
    'recip_rank_3',
    'map',
    'map_cut_3',
    'ndcg_cut_3',
    'ndcg_cut_10',
    'ndcg_cut_1',
  ];
  const v = evaluateQuery(ranked, judgments, names.map(parseMeasure));
  const ideal3 = 2 + 1 / Math.log2(3) + 1 / Math.log2(4);

  it('ranks as expected', () => expect(ranked).toEqual(['x', 'c', 'a', 'b']));
  it('precision divides by k even past the end of the list', () => {
    expect(v.P_1).toBe(0);
    expect(v.P_3).toBeCloseTo(1 / 3, 15);
    expect(v.P_5).toBeCloseTo(2 / 5, 15);
  });
  it('recall divides by all judged relevant documents', () => {
    expect(v.recall_3).toBeCloseTo(1 / 3, 15);
    expect(v.recall_10).toBeCloseTo(2 / 3, 15);
  });
  it('reciprocal rank with and without cut', () => {
    expect(v.recip_rank).toBeCloseTo(1 / 3, 15);
    expect(v.recip_rank_2).toBe(0);
    expect(v.recip_rank_3).toBeCloseTo(1 / 3, 15);
  });
  it('MAP and MAP@k divide by the number of relevant documents', () => {
    expect(v.map).toBeCloseTo((1 / 3 + 2 / 4) / 3, 15);
    expect(v.map_cut_3).toBeCloseTo(1 / 3 / 3, 15);
  });
  it('nDCG uses linear gains and an ideal ranking from all judgments', () => {
    expect(v.ndcg_cut_1).toBe(0);
    expect(v.ndcg_cut_3).toBeCloseTo(1 / ideal3, 15);
    expect(v.ndcg_cut_10).toBeCloseTo((2 / 2 + 1 / Math.log2(5)) / ideal3, 15);
  });
  it('treats negative judgments as non-relevant without gain', () => {
    const w = evaluateQuery(['a', 'b'], m({ a: -1, b: 3 }), ['ndcg_cut_2', 'map', 'P_1'].map(parseMeasure));
    expect(w.ndcg_cut_2).toBeCloseTo(3 / Math.log2(3) / 3, 15);
    expect(w.map).toBeCloseTo(0.5, 15);
    expect(w.P_1).toBe(0);
  });
  it('honours a relevance level for binary measures only', () => {
    const w = evaluateQuery(['a', 'b'], m({ a: 1, b: 2 }), ['map', 'ndcg_cut_2'].map(parseMeasure), 2);
    expect(w.map).toBeCloseTo(0.5, 15);
    expect(w.ndcg_cut_2).toBeCloseTo((1 + 2 / Math.log2(3)) / (2 + 1 / Math.log2(3)), 15);
  });
});

describe('evaluate over queries', () => {
  const qrels: Qrels = new Map([
    ['q1', m({ a: 1 })],
    ['q2', m({ b: 1 })], // not in the run
    ['q3', m({ c: 0 })], // judged, nothing relevant
    ['q5', new Map()], // no judgment lines: unjudged
  ]);
  const run: Run = new Map([
    ['q1', m({ a: 1, z: 2 })], // a at rank 2
    ['q3', m({ c: 1 })],
    ['q4', m({ a: 1 })], // unjudged, ignored
    ['q5', m({ a: 1 })],
  ]);
  it("averages over every judged query with averageOver 'qrels' (trec_eval -c)", () => {
    const r = evaluate(qrels, run, ['recip_rank', 'ndcg_cut_10']);
    expect([...r.perQuery.keys()]).toEqual(['q1', 'q2', 'q3']);
    expect(r.perQuery.get('q2')).toEqual({ recip_rank: 0, ndcg_cut_10: 0 });
    expect(r.mean.recip_rank).toBeCloseTo(0.5 / 3, 15);
    expect(r.numQueries).toBe(3);
  });
  it("averages over judged queries of the run with averageOver 'run' (trec_eval default)", () => {
    const r = evaluate(qrels, run, ['recip_rank'], { averageOver: 'run' });
    expect([...r.perQuery.keys()]).toEqual(['q1', 'q3']);
    expect(r.mean.recip_rank).toBeCloseTo(0.25, 15);
  });
  it('keeps an empty result list as a query scoring 0', () => {
    const r = evaluate(new Map([['q1', m({ a: 1 })]]), new Map([['q1', new Map()]]), ['P_5'], { averageOver: 'run' });
    expect(r.perQuery.get('q1')).toEqual({ P_5: 0 });
  });
});

describe('measure names', () => {
  it('parses trec_eval names and rejects others', () => {
    expect(parseMeasure('ndcg_cut_10')).toEqual({ family: 'ndcg_cut', k: 10 });
    expect(parseMeasure('recip_rank_10')).toEqual({ family: 'recip_rank', k: 10 });
    expect(parseMeasure('map')).toEqual({ family: 'map' });
    expect(() => parseMeasure('ndcg')).toThrow(/unknown measure/);
    expect(() => parseMeasure('P_0')).toThrow(/positive/);
  });
  it('expands -m style specs', () => {
    expect(expandMeasureSpec('ndcg_cut.5,10')).toEqual(['ndcg_cut_5', 'ndcg_cut_10']);
    expect(expandMeasureSpec('map')).toEqual(['map']);
    expect(() => expandMeasureSpec('map.5')).toThrow(/unknown measure|no cutoff/);
  });
});
