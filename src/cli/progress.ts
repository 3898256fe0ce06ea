// A one-line upload bar for `lsr index` (bytes read of the file, documents, docs/s and ETA). It draws
// only on a terminal: elsewhere the command's result line says what happened, so logs stay clean.
export class ProgressLine {
  private last = 0;
  private readonly start = Date.now();
  constructor(
    private readonly total: number | null,
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly enabled = true,
  ) {}

  private get drawing(): boolean {
    return this.enabled && Boolean(this.out.isTTY);
  }

  update(bytes: number, docs: number, force = false): void {
    const now = Date.now();
    if (!force && now - this.last < 200) return;
    this.last = now;
    if (!this.drawing) return;
    const secs = Math.max(0.001, (now - this.start) / 1000);
    const rate = docs / secs;
    let bar = '';
    let eta = '';
    if (this.total) {
      const f = Math.min(1, bytes / this.total);
      const w = 30;
      bar = `[${'#'.repeat(Math.round(f * w)).padEnd(w, '.')}] ${(f * 100).toFixed(1)}% `;
      const left = f > 0 ? secs * (1 / f - 1) : 0;
      eta = ` ETA ${left.toFixed(0)}s`;
    }
    this.out.write(`\rupload ${bar}${docs} docs, ${rate.toFixed(0)} docs/s${eta}\x1b[K`);
  }

  done(): void {
    if (this.drawing) this.out.write('\n');
  }
}
