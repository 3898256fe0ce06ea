// Small formatting helpers shared by the views.
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function num(n: number, digits = 4): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(digits);
}

export function duration(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '–';
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

/** The model source a retriever view names, if any. */
export function modelOf(view: unknown): string | undefined {
  const m = (view as { model?: unknown } | undefined)?.model;
  if (typeof m === 'string') return m;
  if (m && typeof m === 'object' && typeof (m as { source?: unknown }).source === 'string') return (m as { source: string }).source;
  return undefined;
}
