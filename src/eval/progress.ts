// A progress bar on stderr. On a terminal it redraws one line; elsewhere (CI logs) it prints a line
// every 10% so logs stay short but show that work is moving.

/** A progress bar for `total` units labelled `label`. */
export class ProgressBar {
  private done = 0;
  private lastDecile = -1;
  private readonly start = performance.now();
  private readonly tty: boolean;

  /** `stream` defaults to process.stderr; `enabled` false makes every call a no-op. */
  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly enabled = true,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  /** Sets the count of finished units (absolute, not an increment). */
  update(done: number): void {
    if (!this.enabled) return;
    this.done = Math.min(done, this.total);
    if (this.tty) {
      this.draw();
      return;
    }
    const decile = this.total > 0 ? Math.floor((this.done / this.total) * 10) : 10;
    if (decile !== this.lastDecile) {
      this.lastDecile = decile;
      this.stream.write(`${this.line()}\n`);
    }
  }

  /** Adds `n` finished units (default 1). */
  tick(n = 1): void {
    this.update(this.done + n);
  }

  /** Ends the bar's line. */
  finish(): void {
    if (!this.enabled) return;
    if (this.tty) this.stream.write(`\r${this.line()}\n`);
    else if (this.lastDecile !== 10) this.stream.write(`${this.line()}\n`);
  }

  private line(): string {
    const width = 30;
    const frac = this.total > 0 ? this.done / this.total : 1;
    const filled = Math.round(frac * width);
    const secs = (performance.now() - this.start) / 1000;
    const rate = secs > 0 ? this.done / secs : 0;
    return `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.done}/${this.total} ${secs.toFixed(1)}s ${rate.toFixed(0)}/s`;
  }

  private draw(): void {
    this.stream.write(`\r${this.line()}`);
  }
}
