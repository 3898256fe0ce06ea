// The `lsr` command as users run it (a child process): index a file, search, list collections,
// evaluate; help for every command; `--json` makes stdout one JSON document and nothing else.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFruitBeir } from '../eval/fixtures.js';
import { type CliResult, runLsr } from '../helpers/lsr-cli.js';
import { ndjson, removeDir, tempDir } from '../helpers/server.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = tempDir('lsr-cli-');

function lsr(...args: string[]): Promise<CliResult> {
  return runLsr(args, { LSR_API_KEYS: '' });
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

/** Parses stdout as exactly one JSON document (one line): anything else on stdout fails the test. */
function onlyJson(stdout: string): unknown {
  expect(stdout.endsWith('\n')).toBe(true);
  expect(stdout.trimEnd().split('\n')).toHaveLength(1);
  return JSON.parse(stdout);
}

describe('lsr help', () => {
  // Every command module is a verb; help must name each, whoever adds one.
  const verbs = readdirSync(join(root, 'src/cli/commands'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.slice(0, -3));

  it('lists every verb with a one-line description (--help, help, and no verb)', async () => {
    expect(verbs).toEqual(expect.arrayContaining(['serve', 'index', 'search', 'collections', 'eval']));
    for (const args of [['--help'], ['help'], ['-h'], []]) {
      const r = await lsr(...args);
      expect(r.code).toBe(args.length === 0 ? 2 : 0);
      for (const v of verbs) expect(r.stdout).toMatch(new RegExp(`^  ${v} +\\S.*$`, 'm'));
    }
  }, 60_000);

  it("prints each verb's options with <verb> --help and help <verb>, without starting anything", async () => {
    for (const v of verbs) {
      const r = await lsr(v, '--help');
      expect(r.code, `${v} --help`).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^usage: lsr ${v}\\b`, 'i'));
      expect(r.stdout).toMatch(/(^|\s)--[a-z]/m); // names its flags
      expect(r.stderr).toBe('');
    }
    const serve = await lsr('help', 'serve');
    expect(serve.code).toBe(0);
    for (const flag of ['--host', '--port', '--data-dir', '--api-keys', '--body-limit', '--rate-limit', '--batch-size', '--log-level'])
      expect(serve.stdout).toContain(flag);
    for (const v of ['index', 'search', 'collections']) expect((await lsr(v, '--help')).stdout).toContain('--json');
  }, 120_000);

  it('is the bin npm installs, with a shebang the TypeScript build keeps', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(pkg.bin.lsr).toBe('dist/src/cli/lsr.js');
    expect(readFileSync(join(root, 'src/cli/lsr.ts'), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    // A rebuilt file is a new file: the build script marks it executable again for `npm link`.
    expect(pkg.scripts['build:ts']).toContain("chmodSync('dist/src/cli/lsr.js', 0o755)");
  });
});

describe('lsr --json', () => {
  it('prints one JSON document on stdout for index, search and collections (in-process)', async () => {
    const file = join(dir, 'json-docs.jsonl');
    writeFileSync(
      file,
      ndjson([
        { _id: 'a', title: 'Photosynthesis', text: 'Plants turn light into sugar.' },
        { _id: 'b', title: 'Volcanoes', text: 'Magma rises through the crust.' },
      ]),
    );
    const data = join(dir, 'json-data');
    const idx = await lsr('index', 'science', file, '--data-dir', data, '--json');
    expect(idx.code).toBe(0);
    const job = onlyJson(idx.stdout) as { state: string; indexed: number; rejected: number; collection: string };
    expect(job).toMatchObject({ state: 'committed', indexed: 2, rejected: 0, collection: 'science' });

    const s = await lsr('search', 'science', 'magma', '--data-dir', data, '--json');
    expect(s.code).toBe(0);
    const hits = (onlyJson(s.stdout) as { hits: { _id: string }[] }).hits;
    expect(hits.map((h) => h._id)).toEqual(['b']);

    const c = await lsr('collections', '--data-dir', data, '--json');
    expect(c.code).toBe(0);
    const list = onlyJson(c.stdout) as { name: string; stats: { documents: number } }[];
    expect(list.map((x) => [x.name, x.stats.documents])).toEqual([['science', 2]]);

    // A failure prints nothing on stdout: the coded error goes to stderr, the exit code says so.
    const bad = await lsr('search', 'nope', 'magma', '--data-dir', data, '--json');
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/COLLECTION_NOT_FOUND/);

    // The service's own log lines (here: a damaged segment rebuilt on open) go to stderr too.
    const seg = join(data, 'collections', 'science', 'index', 'bm25');
    const file0 = readdirSync(seg).find((f) => f.endsWith('.lsr'))!;
    const bytes = readFileSync(join(seg, file0));
    writeFileSync(join(seg, file0), bytes.subarray(0, bytes.length >> 1));
    const damaged = await lsr('collections', '--data-dir', data, '--json');
    expect(damaged.code).toBe(0);
    expect((onlyJson(damaged.stdout) as unknown[]).length).toBe(1);
    expect(damaged.stderr).toMatch(/rebuilding it from the store/);
  }, 180_000);

  it('lsr eval --json: the summary alone on stdout; table, files written and progress on stderr', async () => {
    const data = await writeFruitBeir(join(dir, 'fruit'));
    const out = join(dir, 'eval-out');
    const r = await lsr('eval', '--dataset', data, '--retriever', 'bm25', '--out', out, '--json');
    expect(r.stderr).not.toMatch(/lsr eval:/);
    expect(r.code).toBe(0);
    const summary = onlyJson(r.stdout) as { dataset: string; retrievers: { spec: string; ndcg_cut_10: number }[] };
    expect(summary.dataset).toBe('fruit');
    expect(summary.retrievers[0].spec).toBe('bm25');
    expect(summary.retrievers[0].ndcg_cut_10).toBeCloseTo(2 / 3, 12);
    expect(r.stderr).toMatch(/^retriever\s+nDCG@10/m);
    expect(r.stderr).toContain(`wrote ${join(out, '{metrics.json,timings.json,report.md,plot.svg}')}`);
    // stderr is a pipe here, not a terminal: one final line per phase, no redraws.
    expect(r.stderr).not.toContain('\r');
    expect(r.stderr).toMatch(/^index bm25 \[#{30}\] 5\/5 docs \S+ [\d.]+ docs\/s$/m);
    expect(r.stderr).toMatch(/^search bm25 \[#{30}\] 3\/3 queries \S+ [\d.]+ queries\/s$/m);

    // Without --json the table is the result, on stdout.
    const human = await lsr('eval', '--dataset', data, '--retriever', 'bm25', '--out', out, '--no-progress');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^retriever\s+nDCG@10[^\n]*\nbm25\s+0\.6667/);
    expect(human.stderr).not.toMatch(/\[#+/);
  }, 180_000);
});
