// Progress on stderr for the long phases of `lsr` commands (indexing, encoding, searching). On a
// terminal a bar redraws one line with the rate and an ETA; anywhere else (CI logs, a pipe) it stays
// quiet until the phase ends and then prints one summary line, so logs stay short. Never stdout:
// that is where results (and `--json` documents) go.

/** Where a bar draws and what it counts. */
export interface ProgressOptions {
  /** Default process.stderr. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** False makes every call a no-op (`--no-progress`). Default true. */
  enabled?: boolean;
  /** What is counted, for the line: `docs`, `queries`. Default `items`. */
  unit?: string;
  /**
   * When the counted work began (a performance.now() time), for the rate and the elapsed time;
   * default now. A bar that takes over from an earlier one (the committing after an upload) gives
   * the upload's start, so its rate is over the whole job.
   */
  startedAt?: number;
}

/** A terminal redraw at most this often: a search phase can finish thousands of queries a second. */
const REDRAW_MS = 100;

/** Seconds as `42s`, `7m05s` or `1h02m`. */
export function formatDuration(secs: number): string {
  const s = Math.max(0, Math.round(secs));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** A progress bar for `total` units labelled `label`. */
export class ProgressBar {
  private done = 0;
  private note = '';
  private lastDraw = 0;
  private finished = false;
  private readonly start: number;
  private readonly stream: NodeJS.WritableStream;
  private readonly enabled: boolean;
  private readonly tty: boolean;
  private readonly unit: string;

  constructor(
    private readonly label: string,
    private readonly total: number,
    opts: ProgressOptions = {},
  ) {
    const stream = opts.stream ?? process.stderr;
    this.stream = stream;
    this.enabled = opts.enabled ?? true;
    this.tty = Boolean(stream.isTTY);
    this.unit = opts.unit ?? 'items';
    this.start = opts.startedAt ?? performance.now();
  }

  /**
   * Whether the bar redraws while it runs (enabled, on a terminal). Callers that must ask a service
   * for the numbers skip asking when nobody would see them.
   */
  get live(): boolean {
    return this.enabled && this.tty;
  }

  /**
   * Sets the count of finished units (absolute, not an increment) and, when given, a short note
   * shown after the numbers (e.g. how many documents were sent while the service encodes).
   * Calling it again with the same count still redraws on a terminal, so the elapsed time and the
   * rate stay current during a long wait between counts.
   */
  update(done: number, note?: string): void {
    if (!this.enabled || this.finished) return;
    this.done = Math.min(Math.max(0, done), this.total);
    if (note !== undefined) this.note = note;
    if (!this.tty) return;
    const now = performance.now();
    if (now - this.lastDraw < REDRAW_MS && this.done < this.total) return;
    this.lastDraw = now;
    // \x1b[K clears what a longer earlier line left to the right.
    this.stream.write(`\r${this.line(false)}\x1b[K`);
  }

  /** Adds `n` finished units (default 1). */
  tick(n = 1): void {
    this.update(this.done + n);
  }

  /** Ends the bar: the final line (the only one when stderr is not a terminal). */
  finish(note?: string): void {
    if (!this.enabled || this.finished) return;
    this.finished = true;
    if (note !== undefined) this.note = note;
    this.stream.write(this.tty ? `\r${this.line(true)}\x1b[K\n` : `${this.line(true)}\n`);
  }

  private line(final: boolean): string {
    const width = 30;
    const frac = this.total > 0 ? this.done / this.total : 1;
    const filled = Math.round(frac * width);
    const secs = (performance.now() - this.start) / 1000;
    const rate = secs > 0 ? this.done / secs : 0;
    let eta = '';
    if (!final) eta = rate > 0 ? ` ETA ${formatDuration((this.total - this.done) / rate)}` : ' ETA --';
    const note = this.note ? `  ${this.note}` : '';
    return `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.done}/${this.total} ${this.unit} ${formatDuration(secs)} ${rate.toFixed(rate < 10 ? 1 : 0)} ${this.unit}/s${eta}${note}`;
  }
}

/** The fields of an ingest job report (GET /v1/jobs/:id) that progress reads. */
export interface JobProgress {
  id: string;
  collection: string;
  state: string;
  accepted: number;
  indexed: number;
  rejected: number;
}

/** GETs a path of the service's API and returns the parsed JSON body, or throws. */
export type GetJson = (path: string) => Promise<unknown>;

function isJob(v: unknown): v is JobProgress {
  const j = v as JobProgress | null;
  return typeof j === 'object' && j !== null && typeof j.id === 'string' && typeof j.indexed === 'number';
}

function jobsOf(body: unknown): JobProgress[] {
  const jobs = (body as { jobs?: unknown } | null)?.jobs;
  return Array.isArray(jobs) ? jobs.filter(isJob) : [];
}

/**
 * Runs `work` (a bulk ingest into `collection` that answers only once the service has committed
 * it, `?wait=true`) and meanwhile reports the service's own job counts every `intervalMs`: with an
 * encoder the documents are all sent within seconds and then encoded for minutes, and only the job
 * knows how far that got. The job is the newest one for `collection` that was not listed before
 * `work` started. Returns what `work` returns.
 *
 * Polling is best-effort: a service that will not list jobs (an older one, a key without read
 * access) or a failed poll only means no job counts; whether the ingest worked is decided by
 * `work`'s own answer, never here.
 */
export async function watchIngest<T>(
  get: GetJson,
  collection: string,
  work: () => Promise<T>,
  onJob: (job: JobProgress) => void,
  intervalMs = 500,
): Promise<T> {
  let before: Set<string>;
  try {
    before = new Set(jobsOf(await get('/v1/jobs')).map((j) => j.id));
  } catch {
    return work();
  }
  let settled = false;
  let wake: (() => void) | undefined;
  const running = work().finally(() => {
    settled = true;
    wake?.();
  });
  const poll = async () => {
    let id: string | undefined;
    while (!settled) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, intervalMs).unref();
      });
      if (settled) break;
      try {
        if (id === undefined) {
          // Jobs come newest first; the list is read only until ours shows up, then just ours.
          const job = jobsOf(await get('/v1/jobs')).find((j) => j.collection === collection && !before.has(j.id));
          if (job) id = job.id;
          if (job && !settled) onJob(job);
        } else {
          const job = await get(`/v1/jobs/${encodeURIComponent(id)}`);
          if (isJob(job) && !settled) onJob(job);
        }
      } catch {
        // A missed poll only delays the next count; the ingest's answer decides the outcome.
      }
    }
  };
  const polling = poll();
  try {
    return await running;
  } finally {
    await polling;
  }
}
