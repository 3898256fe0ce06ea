// The encoder pools' stream contract, shared by the sparse and dense pool tests.
import { expect } from 'vitest';

interface StreamingPool<R> {
  readonly inFlight: number;
  readonly maxPending: number;
  encodeAll(batches: AsyncIterable<string[]>): AsyncGenerator<R>;
}

/**
 * Streams `batches` through `pool.encodeAll` and returns the results in order, checking back-pressure
 * on the way: the source is never more than maxPending batches ahead of the consumer, and no more
 * than maxPending are in flight.
 */
export async function streamChecked<R>(pool: StreamingPool<R>, batches: string[][]): Promise<R[]> {
  let read = 0,
    maxInFlight = 0;
  async function* source() {
    for (const b of batches) {
      maxInFlight = Math.max(maxInFlight, pool.inFlight);
      read++;
      yield b;
    }
  }
  const got: R[] = [];
  for await (const v of pool.encodeAll(source())) {
    expect(read - got.length).toBeLessThanOrEqual(pool.maxPending + 1);
    got.push(v);
  }
  expect(maxInFlight).toBeLessThanOrEqual(pool.maxPending);
  return got;
}
