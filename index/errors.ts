// Errors raised by the engine library. Each carries a stable `.code`; the service maps codes to
// HTTP statuses in src/api/errors.ts, so it never has to guess from a message.

export type IndexErrorCode =
  | 'INVALID_ARGUMENT' // a caller passed a malformed batch, query or option
  | 'SEGMENT_TRUNCATED' // a segment file is shorter than its header says
  | 'SEGMENT_CORRUPT' // bad magic, checksum or layout
  | 'SEGMENT_VERSION' // written by an incompatible format version
  | 'SEGMENT_IO' // the operating system refused a read or write
  | 'MANIFEST_CORRUPT' // the index manifest cannot be parsed
  | 'INDEX_CLOSED'; // the index was closed

export class IndexError extends Error {
  readonly code: IndexErrorCode;
  /** File the error is about, when there is one. */
  readonly file?: string;

  constructor(code: IndexErrorCode, message: string, file?: string) {
    super(message);
    this.name = 'IndexError';
    this.code = code;
    this.file = file;
  }
}

/** Re-raises a native error (which carries `.code`) as an IndexError; passes others through. */
export function fromNative(err: unknown, file?: string): unknown {
  const e = err as { code?: string; message?: string };
  if (e && typeof e.code === 'string' && e.code.startsWith('SEGMENT_')) {
    return new IndexError(e.code as IndexErrorCode, e.message ?? String(err), file);
  }
  return err;
}
