// Plain-text tables for the human-readable part of a bench's output.

export type Cell = string | number | boolean | null | undefined;

export function fmt(v: Cell, digits = 3): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return String(v);
    if (Number.isInteger(v)) return String(v);
    const a = Math.abs(v);
    return a >= 1000 ? v.toFixed(0) : a >= 100 ? v.toFixed(1) : v.toPrecision(digits);
  }
  return String(v);
}

export function table(title: string, head: string[], rows: Cell[][]): string {
  const cells = rows.map((r) => r.map((c) => fmt(c)));
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => '| ' + r.map((c, i) => c.padEnd(w[i])).join(' | ') + ' |';
  return [`\n${title}`, line(head), '|' + w.map((x) => '-'.repeat(x + 2)).join('|') + '|', ...cells.map(line)].join('\n');
}
