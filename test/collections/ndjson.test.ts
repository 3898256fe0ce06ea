import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readLines } from '../../src/collections/ndjson.js';

async function lines(chunks: string[], max = 100) {
  const out: { number: number; text?: string; length: number }[] = [];
  for await (const l of readLines(Readable.from(chunks.map((c) => Buffer.from(c))), max))
    out.push({ number: l.number, text: l.bytes?.toString(), length: l.length });
  return out;
}

describe('readLines', () => {
  it('splits across chunk boundaries, strips CR, keeps a last line without newline', async () => {
    expect(await lines(['{"a"', ':1}\r\n{"b":2}\n\n', '{"c":3}'])).toEqual([
      { number: 1, text: '{"a":1}', length: 8 },
      { number: 2, text: '{"b":2}', length: 7 },
      { number: 3, text: '', length: 0 },
      { number: 4, text: '{"c":3}', length: 7 },
    ]);
  });

  it('reports an oversize line without keeping it and goes on', async () => {
    const got = await lines(['x'.repeat(60), 'y'.repeat(60) + '\nok\n'], 100);
    expect(got).toEqual([
      { number: 1, text: undefined, length: 120 },
      { number: 2, text: 'ok', length: 2 },
    ]);
  });
});
