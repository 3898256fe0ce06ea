// `lsr index`, `lsr search` and `lsr collections` with --server: the same commands over HTTP through
// the package's typed client (src/client/) against a running service with an API key, with the
// messages the in-process mode prints, errors included (code, message, field).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, runLsr } from '../helpers/lsr-cli.js';
import { ndjson, removeDir, startTestServer, tempDir, type TestServer } from '../helpers/server.js';

const dir = tempDir('lsr-cli-server-');
let server: TestServer;

function lsr(...args: string[]): Promise<CliResult> {
  return runLsr([...args, '--server', server.url, '--api-key', 'k1'], { LSR_API_KEYS: '', LSR_API_KEY: '', LSR_SERVER: '' });
}

beforeAll(async () => {
  server = await startTestServer({ LSR_API_KEYS: 'k1' });
});
afterAll(async () => {
  await server.close();
  removeDir(dir);
});

describe('lsr --server', () => {
  it('indexes (streaming the file), searches, lists collections and prints the service errors', async () => {
    const file = join(dir, 'docs.jsonl');
    writeFileSync(
      file,
      ndjson([
        { _id: 'a', title: 'Photosynthesis', text: 'Plants turn light into sugar.' },
        { _id: 'b', title: 'Volcanoes', text: 'Magma rises through the crust.' },
        { _id: 'c', text: 'bad title type', title: 3 },
      ]),
    );
    const idx = await lsr('index', 'science', file, '--no-progress');
    expect(idx.code).toBe(1); // one line was rejected
    expect(idx.stdout).toMatch(/committed: 2 documents indexed, 1 rejected/);
    expect(idx.stdout).toMatch(/line 3: INVALID_DOCUMENT/);
    expect((await server.req('GET', '/v1/collections/science', undefined, { authorization: 'Bearer k1' })).body.stats.documents).toBe(2);

    const s = await lsr('search', 'science', 'magma');
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/1\.\s+\d+\.\d+\s+b\s+Volcanoes/);

    const c = await lsr('collections', '--json');
    expect(JSON.parse(c.stdout).map((x: { name: string }) => x.name)).toEqual(['science']);

    const bad = await lsr('search', 'science', 'magma', '--k', '5000');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^lsr search: VALIDATION_FAILED: .*\(field: k\)$/m);

    const missing = await lsr('search', 'nope', 'magma');
    expect(missing.stderr).toMatch(/^lsr search: COLLECTION_NOT_FOUND: /m);
  });
});
