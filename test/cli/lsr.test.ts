// The `lsr` command as users run it (a child process): index a file, search, list collections.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ndjson, removeDir, tempDir } from '../helpers/server.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = tempDir('lsr-cli-');

async function lsr(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, ['--import', 'tsx', 'src/cli/lsr.ts', ...args], {
      cwd: root,
      env: { ...process.env, LSR_API_KEYS: '' },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

afterAll(() => removeDir(dir));

describe('lsr CLI', () => {
  it('indexes a JSONL file, searches it and lists collections', async () => {
    const file = join(dir, 'docs.jsonl');
    writeFileSync(
      file,
      ndjson([
        { _id: 'a', title: 'Photosynthesis', text: 'Plants turn light into sugar.' },
        { _id: 'b', title: 'Volcanoes', text: 'Magma rises through the crust.' },
        { _id: 'c', text: 'bad title type', title: 3 },
      ]),
    );
    const data = join(dir, 'data');
    const idx = await lsr('index', 'science', file, '--data-dir', data);
    expect(idx.code).toBe(1); // one line was rejected: the job is reported, not hidden
    expect(idx.stdout).toMatch(/committed: 2 documents indexed, 1 rejected/);
    expect(idx.stdout).toMatch(/line 3: INVALID_DOCUMENT/);

    const s = await lsr('search', 'science', 'magma', '--data-dir', data);
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/1\.\s+\d+\.\d+\s+b\s+Volcanoes/);

    const j = await lsr('search', 'science', 'plants', '--data-dir', data, '--json', '--explain');
    const body = JSON.parse(j.stdout);
    expect(body.hits[0]._id).toBe('a');
    expect(body.hits[0].explain.terms[0].term).toBe('plant');

    const c = await lsr('collections', '--data-dir', data);
    expect(c.stdout).toMatch(/^science\t2 docs/m);

    const bad = await lsr('search', 'Bad/Name', 'x', '--data-dir', data);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/INVALID_COLLECTION_NAME/);

    const unknown = await lsr('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command/);
  }, 180_000);
});
