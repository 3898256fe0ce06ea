// What a job reports (GET /v1/jobs/:id) and what the job store keeps of it.
import type { ErrorCode } from '../errors.js';

export type JobState = 'queued' | 'running' | 'committed' | 'failed';

export interface LineError {
  line: number;
  code: ErrorCode;
  message: string;
  field?: string;
}

export interface JobView {
  id: string;
  collection: string;
  state: JobState;
  accepted: number;
  indexed: number;
  rejected: number;
  lines: number;
  bytes_read: number;
  bytes_total: number | null;
  docs_per_second: number;
  eta_seconds: number | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  error: { code: ErrorCode | 'JOB_INTERRUPTED'; message: string } | null;
  errors: LineError[];
  errors_truncated: boolean;
  /**
   * Per model-backed retriever, what its encoder did with the committed documents' length:
   * `long` (over the model's window), `truncated` (of those, read only in part: no passage
   * settings), `passages` (texts encoded; more than the documents when long ones were cut).
   * Absent in reports of earlier releases.
   */
  encoding?: Record<string, { long: number; truncated: number; passages: number }>;
}
