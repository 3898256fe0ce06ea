// Job reports kept on disk (<dataDir>/jobs.sqlite) so GET /v1/jobs/:id still answers after a restart
// or a crash. A job found `queued` or `running` on open was cut short by the crash: it is marked
// failed with the counts it had last reported (its committed documents are in the collection store).
import Database from 'better-sqlite3';
import { join } from 'node:path';
import type { JobView } from './job-view.js';

/** Finished jobs kept on disk; older ones are pruned. */
const KEEP = 10_000;

export class JobStore {
  private readonly db: Database.Database;
  private readonly st;
  /** The reports this open marked failed (jobs a crash cut short), as saved. */
  readonly interruptedJobs: JobView[] = [];

  constructor(dataDir: string) {
    this.db = new Database(join(dataDir, 'jobs.sqlite'));
    this.db.pragma('journal_mode = WAL');
    // A job report may lag its documents by one batch after a power loss; the documents are what
    // must not be lost, and they are in the collection stores (synchronous=FULL there).
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, finished INTEGER NOT NULL, view TEXT NOT NULL)',
    );
    this.st = {
      save: this.db.prepare(
        'INSERT INTO jobs (id, created_at, finished, view) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET finished = excluded.finished, view = excluded.view',
      ),
      get: this.db.prepare('SELECT view FROM jobs WHERE id = ?').pluck(),
      recent: this.db.prepare('SELECT view FROM jobs ORDER BY created_at DESC LIMIT ?').pluck(),
      prune: this.db.prepare('DELETE FROM jobs WHERE finished = 1 AND id NOT IN (SELECT id FROM jobs ORDER BY created_at DESC LIMIT ?)'),
    };
    this.interrupted();
  }

  private interrupted(): void {
    const open = this.db.prepare('SELECT view FROM jobs WHERE finished = 0').pluck().all() as string[];
    const now = new Date().toISOString();
    for (const raw of open) {
      const v = JSON.parse(raw) as JobView;
      v.state = 'failed';
      v.finished_at = now;
      v.eta_seconds = 0;
      v.error = {
        code: 'JOB_INTERRUPTED',
        message: `the server stopped during this job; ${v.indexed} documents were reported committed (lines up to ${v.lines} read); resend the lines after them`,
      };
      this.save(v);
      this.interruptedJobs.push(v);
    }
    this.st.prune.run(KEEP);
  }

  save(v: JobView): void {
    const finished = v.state === 'committed' || v.state === 'failed';
    this.st.save.run(v.id, v.created_at, finished ? 1 : 0, JSON.stringify(v));
  }

  get(id: string): JobView | undefined {
    const raw = this.st.get.get(id) as string | undefined;
    return raw === undefined ? undefined : (JSON.parse(raw) as JobView);
  }

  recent(limit: number): JobView[] {
    return (this.st.recent.all(limit) as string[]).map((r) => JSON.parse(r) as JobView);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
