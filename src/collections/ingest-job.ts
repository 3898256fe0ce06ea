// Bulk ingest jobs: what GET /v1/jobs/:id reports. Jobs live in memory (the documents they wrote
// live in the store); a restart forgets finished jobs, never committed documents.
import { randomUUID } from 'node:crypto';
import { JobStore } from './job-store.js';

export type { JobState, JobView, LineError } from './job-view.js';
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
    };
  }
}

/**
 * Jobs by id: those of this process in memory, every job's last report on disk (when opened with a
 * data directory), so a job id stays answerable across restarts.
 */
export class JobRegistry {
  private readonly jobs = new Map<string, IngestJob>();
  private readonly store?: JobStore;

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

  /** Records the job's current report on disk (after each committed batch and at the end). */
  save(job: IngestJob): void {
    this.store?.save(job.view());
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
