// Runs one bulk ingest: NDJSON lines -> validated documents -> batches written through the
// collection's commit protocol. Reading pauses while two batches wait to be written, so memory stays
// bounded whatever the body size. A batch is also flushed after a short idle time so a slow stream
// still commits steadily (and a crash loses only what was never acknowledged).
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { isServiceError, type ErrorCode } from '../errors.js';
import type { NewDocument } from '../store/document-store.js';
import type { Collection } from './collection.js';
import { prepareDocument } from './documents.js';
import type { IngestJob } from './ingest-job.js';
import { readLines } from './ndjson.js';

export interface IngestOptions {
  batchSize: number;
  maxDocumentBytes: number;
  /** Aborting stops reading: batches already read are committed, the rest is abandoned. */
  signal?: AbortSignal;
  /** Flush a partial batch once the event loop sat idle this many ms since the last line. Default 250. */
  idleFlushMs?: number;
  /** ...or once this many wall-clock ms passed since the last line, however busy the process. Default max(20 × idleFlushMs, 5000). */
  maxFlushWaitMs?: number;
  /** Called after each committed batch with the number of documents written (metrics). */
  onCommitted?: (docs: number) => void;
}

const MAX_PENDING_BATCHES = 2;

export async function runIngest(
  collection: Collection,
  input: Readable | AsyncIterable<Buffer>,
  job: IngestJob,
  o: IngestOptions,
): Promise<void> {
  job.start();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let batch: { line: number; doc: NewDocument }[] = [];
  const pending = new Set<Promise<void>>();
  let writeError: unknown;
  let timer: NodeJS.Timeout | undefined;

  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (batch.length === 0) return;
    const b = batch;
    batch = [];
    const p = collection
      .write(
        b.map((x) => x.doc),
        job.id,
      )
      .then((r) => {
        job.indexed += r.written;
        for (const [name, report] of Object.entries(r.encoding)) job.addEncoding(name, report);
        for (const d of r.duplicates) {
          job.accepted--;
          job.reject({
            line: b[d.index].line,
            code: 'DUPLICATE_ID',
            message: `_id '${d.id}' appears more than once in this job`,
            field: '_id',
          });
        }
        for (const d of r.rejected ?? []) {
          job.accepted--;
          job.reject({ line: b[d.index].line, code: d.code, message: d.message, ...(d.field ? { field: d.field } : {}) });
        }
        o.onCommitted?.(r.written);
      })
      .catch((e) => {
        writeError ??= e;
        // None of this batch is acknowledged: each of its lines says so, with the write's error, so
        // indexed + rejected account for every line read and a client knows exactly what to resend.
        const code: ErrorCode = isServiceError(e) ? e.code : 'INTERNAL';
        const message = `not written: ${(e as Error).message}`;
        for (const x of b) {
          job.accepted--;
          job.reject({ line: x.line, code, message });
        }
      })
      .finally(() => pending.delete(p));
    pending.add(p);
  };

  const idleMs = o.idleFlushMs ?? 250;
  // A partial batch is flushed only when the client has really sent nothing for idleMs: batch
  // boundaries set BM25's per-batch avgdl and which texts an encoder pads together, so a boundary
  // that followed timing made the same corpus score differently from run to run. Wall-clock time
  // since the last line is not that: this process may have been busy meanwhile (a synchronous store
  // write, GC, or, for a client in this same process such as `lsr eval`, the client itself, which
  // then sends its next lines only one event-loop turn later). So what counts is the time the
  // event loop sat idle, waiting for input, since the last line (libuv's idle time, as
  // performance.eventLoopUtilization() reports it): a busy process accumulates none, a client
  // that pauses accumulates it all. A timer that comes due early is re-armed for the rest, and the
  // decision still waits for the loop's I/O phase (setImmediate runs after it), so lines that were
  // already waiting in the socket are read first.
  // A process busy without a break (sustained search load) accumulates idle time slowly; past this
  // wall-clock bound since the last line the partial batch is flushed anyway, so a paused stream
  // always commits (that rare flush is the only one that follows timing).
  const maxWaitMs = o.maxFlushWaitMs ?? Math.max(idleMs * 20, 5000);
  const loopIdleMs = () => performance.eventLoopUtilization().idle;
  let idleAtLastLine = loopIdleMs();
  let lastLineAt = performance.now();
  let linesRead = 0;
  const onIdle = () => {
    timer = undefined;
    const rest = Math.min(idleMs - (loopIdleMs() - idleAtLastLine), maxWaitMs - (performance.now() - lastLineAt));
    if (rest > 0) {
      if (batch.length > 0) timer = setTimeout(onIdle, Math.max(1, rest));
      return;
    }
    const seen = linesRead;
    setImmediate(() => {
      if (!timer && linesRead === seen && batch.length > 0) flush();
    });
  };

  const rejectLine = (line: number, code: ErrorCode, message: string, field?: string) =>
    job.reject({ line, code, message, ...(field !== undefined ? { field } : {}) });

  // A client that stops sending would hold the loop forever; on shutdown, cut its stream.
  const onAbort = () => {
    const r = input as Readable;
    if (typeof r.destroy === 'function' && !r.readableEnded) r.destroy();
  };
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const line of readLines(input as Readable, o.maxDocumentBytes)) {
      if (o.signal?.aborted || writeError) break;
      job.lines = line.number;
      job.bytesRead += line.length + 1;
      linesRead++;
      idleAtLastLine = loopIdleMs();
      lastLineAt = performance.now();
      if (line.bytes === undefined) {
        rejectLine(line.number, 'DOCUMENT_TOO_LARGE', `line has ${line.length} bytes, the limit is ${o.maxDocumentBytes}`);
        continue;
      }
      let text: string;
      try {
        text = decoder.decode(line.bytes);
      } catch {
        rejectLine(line.number, 'INVALID_UTF8', 'line is not valid UTF-8');
        continue;
      }
      if (text.trim() === '') continue;
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch (e) {
        rejectLine(line.number, 'INVALID_JSON', `line is not valid JSON: ${(e as Error).message}`);
        continue;
      }
      let doc: NewDocument;
      try {
        doc = prepareDocument(raw, collection.config, collection.analyzer);
      } catch (e) {
        if (!isServiceError(e)) throw e;
        rejectLine(line.number, e.code, e.message, e.field);
        continue;
      }
      job.accepted++;
      batch.push({ line: line.number, doc });
      if (batch.length >= o.batchSize) flush();
      else if (!timer) timer = setTimeout(onIdle, idleMs);
      if (pending.size >= MAX_PENDING_BATCHES) {
        // Nor is the pause made here, while two batches wait to be written, a client's idleness.
        if (timer) clearTimeout(timer);
        timer = undefined;
        while (pending.size >= MAX_PENDING_BATCHES) await Promise.race(pending);
        // The loop sat idle during the pause waiting for our own writes, not for the client.
        idleAtLastLine = loopIdleMs();
        lastLineAt = performance.now();
        if (batch.length > 0) timer = setTimeout(onIdle, idleMs);
      }
    }
  } catch (e) {
    // The body stream broke (client went away): commit what was read, report the rest as lost.
    writeError ??= e;
  }
  o.signal?.removeEventListener('abort', onAbort);
  flush();
  await Promise.all(pending);
  if (o.signal?.aborted && !(writeError && isServiceError(writeError) && writeError.code !== 'SHUTTING_DOWN')) {
    job.finish({
      code: 'SHUTTING_DOWN',
      message: `the server shut down: ${job.indexed} documents from lines up to ${job.lines} were committed; resend the lines after it`,
    });
  } else if (writeError) {
    const code: ErrorCode = isServiceError(writeError) ? writeError.code : 'INTERNAL';
    job.finish({
      code,
      message: `${(writeError as Error).message}; ${job.indexed} documents were committed (lines up to ${job.lines} read)`,
    });
  } else {
    // The store already holds the job; committing the index now keeps the next open's replay short.
    try {
      await collection.commit();
    } catch {
      // Not a job failure: the documents are durable and the next open replays them.
    }
    job.finish();
  }
}
