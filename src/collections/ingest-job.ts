// Bulk ingest jobs: what GET /v1/jobs/:id reports. Jobs live in memory (the documents they wrote
// live in the store); a restart forgets finished jobs, never committed documents.
import { randomUUID } from 'node:crypto';
import { JobStore } from './job-store.js';

export type { JobState, JobView, LineError } from './job-view.js';
import { addReports, type LengthReport } from '../encoder/long-documents.js';
import type { ErrorCode } from '../errors.js';
import type { JobState, JobView, LineError } from './job-view.js';

/** Per-line errors kept per job; the count of rejected lines is always exact. */
const MAX_LINE_ERRORS = 1000;

export class IngestJob {
  readonly id = randomUUID();
  readonly collection: string;
  state: JobState = 'queued';
  accepted = 0;
  indexed = 0;
  rejected = 0;
  lines = 0;
  bytesRead = 0;
  readonly bytesTotal: number | null;
  readonly createdAt = new Date();
  startedAt: Date | null = null;
  finishedAt: Date | null = null;
  error: { code: ErrorCode; message: string } | null = null;
  readonly errors: LineError[] = [];
  /** Per retriever, what encoding did with the committed documents' length (JobView.encoding). */
  readonly encoding: Record<string, LengthReport> = {};
  private truncated = false;
  /** Settles when the job reaches committed or failed. */
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(collection: string, bytesTotal: number | null) {
    this.collection = collection;
    this.bytesTotal = bytesTotal;
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  start(): void {
    this.state = 'running';
    this.startedAt = new Date();
  }

  /** Adds a committed batch's length report of retriever `name`. */
  addEncoding(name: string, r: LengthReport): void {
    const had = this.encoding[name];
    this.encoding[name] = had ? addReports(had, r) : { ...r };
  }

  reject(e: LineError): void {
    this.rejected++;
    if (this.errors.length < MAX_LINE_ERRORS) this.errors.push(e);
    else this.truncated = true;
  }

  finish(error?: { code: ErrorCode; message: string }): void {
    if (this.state === 'committed' || this.state === 'failed') return;
    this.state = error ? 'failed' : 'committed';
    this.error = error ?? null;
    this.finishedAt = new Date();
    this.resolveDone();
  }

  get finished(): boolean {
    return this.state === 'committed' || this.state === 'failed';
  }

  view(): JobView {
    const end = this.finishedAt ?? new Date();
    const secs = this.startedAt ? Math.max(1e-3, (end.getTime() - this.startedAt.getTime()) / 1000) : 0;
    const rate = secs > 0 ? this.indexed / secs : 0;
    let eta: number | null = null;
    if (this.finished) eta = 0;
    else if (this.bytesTotal && this.bytesRead > 0 && secs > 0) {
      // Bytes are the only progress measure known in advance for a streamed body.
      const byteRate = this.bytesRead / secs;
      eta = Math.max(0, (this.bytesTotal - this.bytesRead) / byteRate);
    }
    return {
      id: this.id,
      collection: this.collection,
      state: this.state,
      accepted: this.accepted,
      indexed: this.indexed,
      rejected: this.rejected,
      lines: this.lines,
      bytes_read: this.bytesRead,
      bytes_total: this.bytesTotal,
      docs_per_second: Math.round(rate * 10) / 10,
      eta_seconds: eta === null ? null : Math.round(eta * 10) / 10,
      created_at: this.createdAt.toISOString(),
      started_at: this.startedAt?.toISOString() ?? null,
      finished_at: this.finishedAt?.toISOString() ?? null,
      error: this.error,
      errors: this.errors,
      errors_truncated: this.truncated,
      encoding: Object.fromEntries(Object.entries(this.encoding).map(([k, v]) => [k, { ...v }])),
    };
  }
}

/**
 * Jobs by id: those of this process in memory, every job's last report on disk (when opened with a
 * data directory), so a job id stays answerable across restarts.
 */
/**
 * Where the reports of jobs on OpenSearch-backed collections are mirrored, so that any service
 * process answers GET /v1/jobs/{id} for them (the cluster's `<prefix>.jobs` index).
 */
export interface SharedJobReports {
  save(view: JobView): Promise<void>;
  /** A report as JSON text, or undefined. */
  job(id: string): Promise<string | undefined>;
  recentJobs(limit: number): Promise<string[]>;
}

export class JobRegistry {
  private readonly jobs = new Map<string, IngestJob>();
  private readonly store?: JobStore;
  /** Jobs whose reports are mirrored, with the last mirror write of each (kept in order). */
  private readonly mirrored = new Map<string, Promise<void>>();
  shared?: SharedJobReports;
  log?: { error(obj: unknown, msg?: string): void };

  constructor(
    private readonly keep = 1000,
    store?: JobStore,
  ) {
    this.store = store;
  }

  static open(dataDir: string): JobRegistry {
    return new JobRegistry(1000, new JobStore(dataDir));
  }

  add(job: IngestJob): void {
    this.jobs.set(job.id, job);
    this.save(job);
    if (this.jobs.size > this.keep) {
      for (const [id, j] of this.jobs) {
        if (this.jobs.size <= this.keep) break;
        if (j.finished) this.jobs.delete(id);
      }
    }
  }

  /** Mirrors this job's reports to the shared store from now on (a job on an OpenSearch-backed collection). */
  share(job: IngestJob): void {
    if (this.shared) this.mirrored.set(job.id, Promise.resolve());
  }

  /** Records the job's current report on disk (after each committed batch and at the end), and in the shared store. */
  save(job: IngestJob): void {
    const view = job.view();
    this.store?.save(view);
    const last = this.mirrored.get(job.id);
    if (last && this.shared) {
      const shared = this.shared;
      // One write at a time per job, so an older report never lands after a newer one.
      const next = last.then(() =>
        shared
          .save(view)
          .catch((e) => this.log?.error({ job: job.id, err: (e as Error).message }, 'could not mirror a job report to OpenSearch')),
      );
      this.mirrored.set(job.id, next);
      if (job.finished) void next.then(() => this.mirrored.delete(job.id));
    }
  }

  /**
   * Mirrors the reports of jobs a crash of this process cut short (marked failed when its job store
   * opened) for the collections `shared` says are shared, so other processes stop reading them as
   * running. Call once the shared store is set.
   */
  async mirrorInterrupted(shared: (collection: string) => boolean): Promise<void> {
    if (!this.shared || !this.store) return;
    for (const v of this.store.interruptedJobs)
      if (shared(v.collection))
        await this.shared
          .save(v)
          .catch((e) => this.log?.error({ job: v.id, err: (e as Error).message }, 'could not mirror a job report to OpenSearch'));
  }

  /** Waits for the mirror writes of one job made so far. */
  async mirroredOf(id: string): Promise<void> {
    await this.mirrored.get(id);
  }

  /** Waits for the mirror writes made so far (a clean shutdown). */
  async flushShared(): Promise<void> {
    await Promise.all(this.mirrored.values());
  }

  /** A report: this process's, or (a job of another process on an OpenSearch-backed collection) the shared one. */
  async viewAnywhere(id: string): Promise<JobView | undefined> {
    const local = this.view(id);
    if (local || !this.shared) return local;
    const raw = await this.shared.job(id);
    return raw === undefined ? undefined : (JSON.parse(raw) as JobView);
  }

  /** Newest first, this process's and the shared ones. */
  async viewsAnywhere(limit = 100): Promise<JobView[]> {
    const own = this.views(limit);
    if (!this.shared) return own;
    const seen = new Set(own.map((v) => v.id));
    const shared = (await this.shared.recentJobs(limit)).map((r) => JSON.parse(r) as JobView).filter((v) => !seen.has(v.id));
    return [...own, ...shared].sort((a, b) => b.created_at.localeCompare(a.created_at)).slice(0, limit);
  }

  get(id: string): IngestJob | undefined {
    return this.jobs.get(id);
  }

  /** The job's report: live for this process's jobs, as last saved for earlier ones. */
  view(id: string): JobView | undefined {
    return this.jobs.get(id)?.view() ?? this.store?.get(id);
  }

  /** Newest first. */
  views(limit = 100): JobView[] {
    const live = [...this.jobs.values()].reverse().map((j) => j.view());
    const seen = new Set(live.map((v) => v.id));
    const saved = (this.store?.recent(limit) ?? []).filter((v) => !seen.has(v.id));
    return [...live, ...saved].sort((a, b) => b.created_at.localeCompare(a.created_at)).slice(0, limit);
  }

  running(): IngestJob[] {
    return [...this.jobs.values()].filter((j) => !j.finished);
  }

  close(): void {
    this.store?.close();
  }
}
