// Splits a byte stream into lines without holding more than one line (capped) in memory, so a
// multi-gigabyte NDJSON body streams through. A line over the cap is reported, not buffered.
import type { Readable } from 'node:stream';

export interface Line {
  /** 1-based line number in the body. */
  number: number;
  /** The line's bytes without the newline; undefined when the line exceeded the cap. */
  bytes?: Buffer;
  /** Length of the line in bytes (counted even when it was too large to keep). */
  length: number;
}

export async function* readLines(stream: Readable | AsyncIterable<Buffer | string>, maxBytes: number): AsyncGenerator<Line> {
  let parts: Buffer[] = [];
  let held = 0;
  let length = 0;
  let tooLarge = false;
  let number = 0;

  const finish = (): Line => {
    number++;
    let bytes: Buffer | undefined;
    if (!tooLarge) {
      bytes = parts.length === 1 ? parts[0] : Buffer.concat(parts, held);
      if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
    }
    const line: Line = { number, bytes, length };
    parts = [];
    held = 0;
    length = 0;
    tooLarge = false;
    return line;
  };

  const take = (piece: Buffer) => {
    length += piece.length;
    if (tooLarge) return;
    if (held + piece.length > maxBytes) {
      tooLarge = true;
      parts = [];
      held = 0;
      return;
    }
    parts.push(piece);
    held += piece.length;
  };

  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, start);
      if (nl < 0) break;
      take(buf.subarray(start, nl));
      yield finish();
      start = nl + 1;
    }
    if (start < buf.length) take(Buffer.from(buf.subarray(start)));
  }
  if (length > 0 || parts.length > 0) yield finish();
}
