// Human-readable outputs of an evaluation: a markdown report and an SVG plot written by hand (no
// plotting dependency: a few rectangles and labels are all a reader needs, and SVG opens in any
// browser).

import type { PerQuery } from './types.js';

/** One evaluated system, as the report needs it. */
export interface SystemResult {
  /** Retriever spec as the user wrote it, e.g. `bm25:k1=1.2`. */
  spec: string;
  /** Mean of each measure over the evaluated queries. */
  mean: Record<string, number>;
  perQuery: PerQuery;
  /** Run file name relative to the output folder. */
  runFile: string;
  /** Wall-clock seconds spent indexing (0 when an existing collection was used) and searching. */
  seconds: { index: number; search: number };
  /** Whether the spec fuses several retrievers (a hybrid search). */
  fusion?: boolean;
}

/** Every fusion of a run against its best single retriever. */
export interface HybridComparison {
  /** The measure that picks the best (nDCG@10 when measured). */
  measure: string;
  bestSingle: string;
  bestFusion: string;
  /** Each fusion against bestSingle, every measure. */
  rows: ComparisonRow[];
}

/** Significance of one system against the baseline on one measure. */
export interface ComparisonRow {
  spec: string;
  baseline: string;
  measure: string;
  /** Mean of (system − baseline) per query. */
  meanDifference: number;
  /** Two-sided p-value of the paired randomization test. */
  pRandomization: number;
  /** Two-sided p-value of the paired t-test. */
  pTTest: number;
  /** Queries where the system scores higher / lower than the baseline. */
  wins: number;
  losses: number;
}

/** Everything the report and plot are made from. */
export interface ReportInput {
  dataset: string;
  split: string;
  /** Number of queries averaged over (judged queries; unanswered ones count 0). */
  numQueries: number;
  measures: string[];
  systems: SystemResult[];
  comparisons: ComparisonRow[];
  /** Query texts by id, to show which queries moved. */
  queryText: Map<string, string>;
  /** File name of the plot, linked from the report. */
  plotFile: string;
  /** Significance level used to mark differences; default 0.05. */
  alpha?: number;
  /** Fusions against the best single retriever, when the run holds both. */
  hybrid?: HybridComparison;
}

const LABELS: Record<string, string> = {
  ndcg_cut: 'nDCG',
  recall: 'R',
  P: 'P',
  recip_rank: 'MRR',
  map_cut: 'MAP',
};

/** Short label of a measure for tables and plots: `ndcg_cut_10` → `nDCG@10`, `map` → `MAP`. */
export function measureLabel(name: string): string {
  if (name === 'map') return 'MAP';
  if (name === 'recip_rank') return 'MRR';
  const m = /^(ndcg_cut|recall|P|recip_rank|map_cut)_(\d+)$/.exec(name);
  return m ? `${LABELS[m[1]]}@${m[2]}` : name;
}

function fmt(x: number, digits = 4): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}

function fmtP(p: number): string {
  if (!Number.isFinite(p)) return String(p);
  return p < 0.0001 ? '<0.0001' : p.toFixed(4);
}

/** `p = 0.0123`, or `p < 0.0001` below that (not `p = <0.0001`). */
function pIs(p: number): string {
  const f = fmtP(p);
  return f.startsWith('<') ? `p ${f.replace('<', '< ')}` : `p = ${f}`;
}

function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\s+/g, ' ');
}

/** Queries ordered by |system − baseline| on `measure`, largest first; ties by query id. */
export function movedQueries(
  baseline: PerQuery,
  system: PerQuery,
  measure: string,
  limit = 10,
): Array<{ qid: string; before: number; after: number; delta: number }> {
  const out: Array<{ qid: string; before: number; after: number; delta: number }> = [];
  for (const [qid, b] of baseline) {
    const s = system.get(qid);
    if (!s) continue;
    const delta = s[measure] - b[measure];
    if (delta !== 0) out.push({ qid, before: b[measure], after: s[measure], delta });
  }
  out.sort((x, y) => Math.abs(y.delta) - Math.abs(x.delta) || (x.qid < y.qid ? -1 : x.qid > y.qid ? 1 : 0));
  return out.slice(0, limit);
}

/** Renders the markdown report: results table, significance against the first system, moved queries. */
export function renderMarkdown(r: ReportInput): string {
  const alpha = r.alpha ?? 0.05;
  const L: string[] = [];
  L.push(`# Evaluation: ${r.dataset} (${r.split})`, '');
  L.push(
    `${r.numQueries} judged queries. Metrics are trec_eval's (nDCG with linear gain, relevance ≥ 1 relevant), ` +
      'averaged over every judged query as `trec_eval -c` does: a query without results scores 0.',
    '',
  );
  const first = r.systems[0];
  const sig = new Map(r.comparisons.map((c) => [`${c.spec}\u0000${c.measure}`, c]));
  L.push(`| retriever | ${r.measures.map(measureLabel).join(' | ')} | index s | search s |`);
  L.push(`| --- | ${r.measures.map(() => '---:').join(' | ')} | ---: | ---: |`);
  for (const s of r.systems) {
    const cells = r.measures.map((m) => {
      const c = s === first ? undefined : sig.get(`${s.spec}\u0000${m}`);
      // † marks a difference from the first row significant by the randomization test.
      return fmt(s.mean[m]) + (c && c.pRandomization < alpha ? ' †' : '');
    });
    L.push(`| \`${mdCell(s.spec)}\` | ${cells.join(' | ')} | ${fmt(s.seconds.index, 1)} | ${fmt(s.seconds.search, 1)} |`);
  }
  L.push('');
  if (r.systems.length > 1) {
    L.push(`† significantly different from \`${mdCell(first.spec)}\` (paired randomization test, two-sided, p < ${alpha}).`, '');
    L.push(verdicts(r, alpha), '');
    if (r.hybrid) L.push(...hybridSection(r, r.hybrid, alpha));
    L.push(`## Significance against \`${mdCell(first.spec)}\``, '');
    L.push('| retriever | metric | Δ mean | wins / losses | p (randomization) | p (t-test) | verdict |');
    L.push('| --- | --- | ---: | ---: | ---: | ---: | --- |');
    for (const c of r.comparisons) {
      L.push(
        `| \`${mdCell(c.spec)}\` | ${measureLabel(c.measure)} | ${c.meanDifference >= 0 ? '+' : ''}${fmt(c.meanDifference)} | ` +
          `${c.wins} / ${c.losses} | ${fmtP(c.pRandomization)} | ${fmtP(c.pTTest)} | ${verdict(c, alpha)} |`,
      );
    }
    L.push('');
    const key = r.measures[0];
    L.push(`## Queries that moved most (${measureLabel(key)})`, '');
    for (const s of r.systems.slice(1)) {
      L.push(`### \`${mdCell(s.spec)}\` against \`${mdCell(first.spec)}\``, '');
      const moved = movedQueries(first.perQuery, s.perQuery, key);
      if (moved.length === 0) {
        L.push('No query changed.', '');
        continue;
      }
      L.push(`| query | text | ${mdCell(first.spec)} | ${mdCell(s.spec)} | Δ |`);
      L.push('| --- | --- | ---: | ---: | ---: |');
      for (const q of moved) {
        const text = r.queryText.get(q.qid) ?? '';
        const short = text.length > 90 ? `${text.slice(0, 87)}...` : text;
        L.push(`| ${mdCell(q.qid)} | ${mdCell(short)} | ${fmt(q.before)} | ${fmt(q.after)} | ${q.delta >= 0 ? '+' : ''}${fmt(q.delta)} |`);
      }
      L.push('');
    }
  } else {
    const key = r.measures[0];
    const worst = [...first.perQuery].sort((a, b) => a[1][key] - b[1][key] || (a[0] < b[0] ? -1 : 1)).slice(0, 10);
    L.push(`## Hardest queries (${measureLabel(key)})`, '');
    L.push(`| query | text | ${measureLabel(key)} |`, '| --- | --- | ---: |');
    for (const [qid, v] of worst) {
      const text = r.queryText.get(qid) ?? '';
      L.push(`| ${mdCell(qid)} | ${mdCell(text.length > 90 ? `${text.slice(0, 87)}...` : text)} | ${fmt(v[key])} |`);
    }
    L.push('');
  }
  L.push('## Files', '');
  for (const s of r.systems) L.push(`- \`${s.runFile}\`: TREC run of \`${mdCell(s.spec)}\``);
  L.push('- `metrics.json`: means, per-query values and significance', `- \`${r.plotFile}\`: plot`, '');
  L.push(`![metrics](${r.plotFile})`, '');
  return L.join('\n');
}

// The question a hybrid run asks: does the best fusion beat the best single retriever?
function hybridSection(r: ReportInput, h: HybridComparison, alpha: number): string[] {
  const L: string[] = [];
  const label = measureLabel(h.measure);
  const head = h.rows.find((c) => c.spec === h.bestFusion && c.measure === h.measure)!;
  L.push('## Fusion against the best single retriever', '');
  const v = verdict(head, alpha);
  const d = `${head.meanDifference >= 0 ? '+' : ''}${fmt(head.meanDifference)}`;
  L.push(
    `Best single retriever by ${label}: \`${mdCell(h.bestSingle)}\`; best fusion: \`${mdCell(h.bestFusion)}\`, ${label} ${d} ` +
      (v === 'no significant difference'
        ? `(paired randomization test ${pIs(head.pRandomization)}, t-test ${pIs(head.pTTest)}): not significant at ${alpha}.`
        : `(paired randomization test ${pIs(head.pRandomization)}, t-test ${pIs(head.pTTest)}): significantly ${v}.`),
    '',
  );
  L.push(`| fusion | ${r.measures.map(measureLabel).join(' | ')} |`);
  L.push(`| --- | ${r.measures.map(() => '---:').join(' | ')} |`);
  const fusions = [...new Set(h.rows.map((c) => c.spec))];
  for (const f of fusions) {
    const cells = r.measures.map((m) => {
      const c = h.rows.find((x) => x.spec === f && x.measure === m)!;
      return `${c.meanDifference >= 0 ? '+' : ''}${fmt(c.meanDifference)} (p ${fmtP(c.pRandomization)})${c.pRandomization < alpha ? ' †' : ''}`;
    });
    L.push(`| \`${mdCell(f)}\` | ${cells.join(' | ')} |`);
  }
  L.push(
    '',
    `Δ against \`${mdCell(h.bestSingle)}\` with the paired randomization test's p; † p < ${alpha}. No correction for multiple comparisons.`,
    '',
  );
  return L;
}

function verdict(c: ComparisonRow, alpha: number): string {
  if (!(c.pRandomization < alpha)) return 'no significant difference';
  return c.meanDifference > 0 ? 'better' : 'worse';
}

// One sentence per retriever on the headline measure, so the answer is readable without the table.
function verdicts(r: ReportInput, alpha: number): string {
  const key = r.measures[0];
  return r.comparisons
    .filter((c) => c.measure === key)
    .map((c) => {
      const v = verdict(c, alpha);
      const d = `${c.meanDifference >= 0 ? '+' : ''}${fmt(c.meanDifference)}`;
      return v === 'no significant difference'
        ? `- \`${mdCell(c.spec)}\`: ${measureLabel(key)} ${d}, not significant (${pIs(c.pRandomization)}); the difference may be noise.`
        : `- \`${mdCell(c.spec)}\`: ${measureLabel(key)} ${d}, significantly ${v} (${pIs(c.pRandomization)}).`;
    })
    .join('\n');
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

// Okabe–Ito palette: distinguishable with the common forms of colour blindness.
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];

/**
 * Renders the plot as standalone SVG: a bar per system and measure (values in [0, 1]), then, for
 * each system after the first, its per-query difference from the first on `measures[0]`, sorted.
 * With a single system the second panel shows its sorted per-query values instead.
 */
export function renderSvg(r: ReportInput): string {
  const width = 900;
  const pad = { left: 60, right: 20 };
  const plotW = width - pad.left - pad.right;
  const parts: string[] = [];
  let y = 0;

  // Panel 1: grouped bars.
  const barH = 260;
  y += 40;
  parts.push(
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${esc(r.dataset)} (${esc(r.split)}), ${r.numQueries} queries</text>`,
  );
  const top1 = y;
  parts.push(axis(pad.left, top1, plotW, barH, 0, 1, [0, 0.25, 0.5, 0.75, 1]));
  const groupW = plotW / r.measures.length;
  const n = r.systems.length;
  const bw = Math.min(40, (groupW * 0.8) / n);
  r.measures.forEach((m, gi) => {
    const gx = pad.left + gi * groupW + (groupW - bw * n) / 2;
    r.systems.forEach((s, si) => {
      const v = Math.max(0, Math.min(1, s.mean[m]));
      const h = v * barH;
      const x = gx + si * bw;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${(top1 + barH - h).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${PALETTE[si % PALETTE.length]}"><title>${esc(s.spec)} ${esc(measureLabel(m))} ${fmt(s.mean[m])}</title></rect>`,
      );
      if (n <= 4)
        parts.push(
          `<text x="${(x + (bw - 2) / 2).toFixed(1)}" y="${(top1 + barH - h - 4).toFixed(1)}" text-anchor="middle" font-size="10">${fmt(s.mean[m], 3)}</text>`,
        );
    });
    parts.push(
      `<text x="${(pad.left + gi * groupW + groupW / 2).toFixed(1)}" y="${top1 + barH + 16}" text-anchor="middle" font-size="12">${esc(measureLabel(m))}</text>`,
    );
  });
  y = top1 + barH + 30;
  // Legend.
  r.systems.forEach((s, si) => {
    const lx = pad.left + (si % 3) * (plotW / 3);
    const ly = y + Math.floor(si / 3) * 18;
    parts.push(
      `<rect x="${lx}" y="${ly}" width="12" height="12" fill="${PALETTE[si % PALETTE.length]}"/><text x="${lx + 18}" y="${ly + 10}" font-size="12">${esc(s.spec)}</text>`,
    );
  });
  y += Math.ceil(n / 3) * 18 + 20;

  // Panel 2: per-query differences (or values).
  const key = r.measures[0];
  const panels = n > 1 ? r.systems.slice(1) : r.systems;
  const diffH = 160;
  for (const s of panels) {
    const si = r.systems.indexOf(s);
    const values: number[] = [];
    if (n > 1) {
      for (const [qid, b] of r.systems[0].perQuery) {
        const v = s.perQuery.get(qid);
        if (v) values.push(v[key] - b[key]);
      }
    } else {
      for (const v of s.perQuery.values()) values.push(v[key]);
    }
    values.sort((a, b) => b - a);
    const title =
      n > 1
        ? `${measureLabel(key)} per query: ${s.spec} minus ${r.systems[0].spec} (sorted; ${values.filter((v) => v > 0).length} up, ${values.filter((v) => v < 0).length} down)`
        : `${measureLabel(key)} per query: ${s.spec} (sorted)`;
    parts.push(`<text x="${pad.left}" y="${y + 14}" font-size="13" font-weight="bold">${esc(title)}</text>`);
    const top = y + 24;
    const lo = n > 1 ? -1 : 0;
    parts.push(axis(pad.left, top, plotW, diffH, lo, 1, n > 1 ? [-1, -0.5, 0, 0.5, 1] : [0, 0.5, 1]));
    const zeroY = top + diffH * (1 - (0 - lo) / (1 - lo));
    const w = values.length > 0 ? plotW / values.length : 0;
    values.forEach((v, i) => {
      if (v === 0) return;
      const yv = top + diffH * (1 - (v - lo) / (1 - lo));
      const color = n > 1 ? (v > 0 ? '#009E73' : '#D55E00') : PALETTE[si % PALETTE.length];
      parts.push(
        `<rect x="${(pad.left + i * w).toFixed(2)}" y="${Math.min(yv, zeroY).toFixed(2)}" width="${Math.max(w - 0.3, 0.5).toFixed(2)}" height="${Math.abs(zeroY - yv).toFixed(2)}" fill="${color}"/>`,
      );
    });
    y = top + diffH + 20;
  }
  const height = y + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

function axis(x: number, y: number, w: number, h: number, lo: number, hi: number, ticks: number[]): string {
  const out: string[] = [];
  for (const t of ticks) {
    const ty = y + h * (1 - (t - lo) / (hi - lo));
    out.push(
      `<line x1="${x}" y1="${ty.toFixed(1)}" x2="${x + w}" y2="${ty.toFixed(1)}" stroke="${t === 0 ? '#888' : '#e5e5e5'}" stroke-width="1"/>`,
    );
    out.push(`<text x="${x - 6}" y="${(ty + 4).toFixed(1)}" text-anchor="end" font-size="11">${t}</text>`);
  }
  out.push(`<line x1="${x}" y1="${y}" x2="${x}" y2="${y + h}" stroke="#888"/>`);
  return out.join('\n');
}
