import { describe, expect, it } from 'vitest';
import { compareSystems } from '../../src/eval/compare.js';
import { measureLabel, movedQueries, renderMarkdown, renderSvg, type ReportInput } from '../../src/eval/report.js';
import type { PerQuery } from '../../src/eval/types.js';

const pq = (o: Record<string, number[]>, names: string[]): PerQuery =>
  new Map(Object.entries(o).map(([q, vs]) => [q, Object.fromEntries(names.map((n, i) => [n, vs[i]]))]));

const names = ['ndcg_cut_10', 'map'];
const base = pq({ q1: [0.5, 0.4], q2: [0.2, 0.1], q3: [1, 1], q4: [0, 0] }, names);
const better = pq({ q1: [0.9, 0.8], q2: [0.2, 0.1], q3: [0.7, 0.6], q4: [0.3, 0.2] }, names);

function input(systems: ReportInput['systems']): ReportInput {
  const comparisons = systems.slice(1).flatMap((s) => compareSystems(systems[0].spec, systems[0].perQuery, s.spec, s.perQuery, names));
  return {
    dataset: 'toy<&>',
    split: 'test',
    numQueries: 4,
    measures: names,
    systems,
    comparisons,
    queryText: new Map([
      ['q1', 'first | query'],
      ['q3', 'third'],
    ]),
    plotFile: 'plot.svg',
  };
}
const sys = (spec: string, perQuery: PerQuery) => ({
  spec,
  perQuery,
  mean: Object.fromEntries(names.map((n) => [n, [...perQuery.values()].reduce((s, v) => s + v[n], 0) / perQuery.size])),
  runFile: `run.${spec}.trec`,
  seconds: { index: 1.25, search: 0.5 },
});

describe('report', () => {
  it('labels measures', () => {
    expect(['ndcg_cut_10', 'recall_100', 'recip_rank_10', 'map', 'P_5', 'map_cut_10', 'recip_rank'].map(measureLabel)).toEqual([
      'nDCG@10',
      'R@100',
      'MRR@10',
      'MAP',
      'P@5',
      'MAP@10',
      'MRR',
    ]);
  });
  it('orders moved queries by absolute change and drops unchanged ones', () => {
    const moved = movedQueries(base, better, 'ndcg_cut_10');
    expect(moved.map((m) => m.qid)).toEqual(['q1', 'q3', 'q4']);
    expect(moved[1].delta).toBeCloseTo(-0.3, 15);
  });
  it('compares systems per measure with wins, losses and p-values', () => {
    const [nd] = compareSystems('a', base, 'b', better, names);
    expect(nd.meanDifference).toBeCloseTo((0.4 + 0 - 0.3 + 0.3) / 4, 15);
    expect([nd.wins, nd.losses]).toEqual([2, 1]);
    // Exact randomization over 4 queries (one zero difference): |sum| ≥ 0.4 in 12 of 16 sign sets.
    expect(nd.pRandomization).toBe(12 / 16);
    expect(nd.pTTest).toBeGreaterThan(0);
  });
  it('renders a table row per system, the significance table and moved queries', () => {
    const md = renderMarkdown(input([sys('bm25', base), sys('better', better)]));
    expect(md).toContain('| `bm25` | 0.4250 | 0.3750 | 1.3 | 0.5 |');
    expect(md).toContain('| `better` | 0.5250 | 0.4250 |');
    expect(md).toMatch(/\| `better` \| nDCG@10 \| \+0\.1000 \| 2 \/ 1 \| 0\.7500 \|/);
    // A pipe inside query text must not break the table.
    expect(md).toContain('first \\| query');
    expect(md).toContain('- `better`: nDCG@10 +0.1000, not significant (p = 0.7500)');
    expect(md).not.toContain('†'.repeat(1) + ' |'); // nothing is significant on 4 queries
  });
  it('marks significant differences with †', () => {
    const many = (shift: number) =>
      pq(Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`q${i}`, [((i * 37) % 50) / 100 + shift, 0.5]])), names);
    const md = renderMarkdown(input([sys('a', many(0)), sys('b', many(0.2))]));
    expect(md).toMatch(/\| `b` \| 0\.\d{4} † \| 0\.5000 \|/);
    expect(md).toMatch(/- `b`: nDCG@10 \+0\.2000, significantly better \(p [=<] /);
    expect(md).toMatch(/\| `b` \| MAP \| \+0\.0000 \| 0 \/ 0 \| 1\.0000 \| 1\.0000 \| no significant difference \|/);
  });
  it('writes standalone SVG with escaped labels, a bar per system and measure, and a difference per query', () => {
    const svg = renderSvg(input([sys('bm25', base), sys('better', better)]));
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('toy&lt;&amp;&gt;');
    expect((svg.match(/<title>/g) ?? []).length).toBe(4); // 2 systems × 2 measures
    expect(svg).toContain('2 up, 1 down');
    const single = renderSvg(input([sys('bm25', base)]));
    expect(single).toContain('nDCG@10 per query: bm25 (sorted)');
  });
});
