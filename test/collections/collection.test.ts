// The commit protocol on real files: store rows above the index's committed seq are replayed on
// open, tombstones too, and a damaged index is rebuilt from the store (never silently skipped).
import { readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/collections/collection-config.js';
import { Collection, type Logger } from '../../src/collections/collection.js';
import { prepareDocument } from '../../src/collections/documents.js';
import { searchAsync } from '../../src/search/search.js';
import { indexOf, storeOf } from '../helpers/collection-parts.js';
import { removeDir, tempDir } from '../helpers/server.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(removeDir));

function logger(): Logger & { warnings: unknown[] } {
  const warnings: unknown[] = [];
  return { warnings, info() {}, warn: (o) => warnings.push(o), error: (o) => warnings.push(o) };
}

async function fresh(): Promise<{ dir: string; c: Collection }> {
  const dir = tempDir('lsr-coll-');
  dirs.push(dir);
  const c = await Collection.create(dir, buildConfig({ name: 'c' }), logger());
  return { dir, c };
}

const docs = (c: Collection, from: number, n: number, word = 'alpha') =>
  Array.from({ length: n }, (_, i) => prepareDocument({ _id: `d${from + i}`, text: `${word} doc${from + i}` }, c.config, c.analyzer));

const ids = async (c: Collection, query: string) => (await searchAsync(c, { query, k: 1000 })).hits.map((h) => h._id).sort();

/** Stands in for kill -9: the process would lose memory but not what SQLite and the index committed. */
function abandon(c: Collection): void {
  storeOf(c).close();
}

describe('Collection commit protocol', () => {
  it('replays store rows and deletes the index never committed', async () => {
    const { dir, c } = await fresh();
    await c.write(docs(c, 0, 20), 'job-1');
    await c.commit();
    await c.write(docs(c, 20, 10, 'beta'), 'job-2');
    await c.write([prepareDocument({ _id: 'd0', text: 'gamma replaced' }, c.config, c.analyzer)], null);
    await c.remove([storeOf(c).docnoOf('d1')!]);
    abandon(c);

    const log = logger();
    const again = (await Collection.open(dir, log))!;
    expect(log.warnings).toEqual([]);
    expect(storeOf(again).size).toBe(29);
    expect(indexOf(again).size).toBe(29);
    expect(await ids(again, 'alpha')).toHaveLength(18);
    expect(await ids(again, 'alpha')).not.toContain('d1');
    expect(await ids(again, 'beta')).toHaveLength(10);
    expect(await ids(again, 'gamma')).toEqual(['d0']);
    await again.close();
  });

  it('rebuilds a damaged segment from the store and says which file', async () => {
    const { dir, c } = await fresh();
    await c.write(docs(c, 0, 50), 'job');
    await c.close();
    const idx = join(dir, 'index', 'bm25');
    const seg = readdirSync(idx).find((f) => f.endsWith('.lsr'))!;
    const bytes = readFileSync(join(idx, seg));
    writeFileSync(join(idx, seg), bytes.subarray(0, Math.floor(bytes.length / 2)));

    const log = logger();
    const again = (await Collection.open(dir, log))!;
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]).toMatchObject({ code: expect.stringMatching(/^SEGMENT_/), file: expect.stringContaining(seg) });
    expect(await ids(again, 'alpha')).toHaveLength(50);
    expect(indexOf(again).size).toBe(storeOf(again).size);
    await again.close();

    // The rebuilt index was committed: the next open needs no rebuild.
    const log2 = logger();
    const third = (await Collection.open(dir, log2))!;
    expect(log2.warnings).toEqual([]);
    expect(await ids(third, 'alpha')).toHaveLength(50);
    await third.close();
  });

  it('keeps vocabulary document frequencies equal to the live documents', async () => {
    const { c } = await fresh();
    await c.write(docs(c, 0, 5), 'a');
    await c.write([prepareDocument({ _id: 'd0', text: 'other words' }, c.config, c.analyzer)], null);
    await c.remove([storeOf(c).docnoOf('d1')!]);
    const vocab = storeOf(c).vocab;
    expect(vocab.df(vocab.id('alpha')!)).toBe(3);
    expect(vocab.df(vocab.id('doc0')!)).toBe(0);
    expect(vocab.df(vocab.id('word')!)).toBe(1);
    expect(storeOf(c).size).toBe(4);
    await c.close();
  });
});
