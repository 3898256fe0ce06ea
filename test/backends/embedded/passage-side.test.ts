// The embedded backend's passage storages (MaxP) on a real SQLite file and the real native indexes:
// a document scores as its best passage, exactly as brute force over the stored passages says, under
// metadata filters, after removals and upserts, after a reopen that replays rows and tombstones the
// index never committed (a kill -9's state), and after a rebuild from the store; the removed
// documents' passage rows go once their tombstones are pruned.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Candidates } from '../../../src/backends/backend.js';
import { EmbeddedBackend } from '../../../src/backends/embedded/embedded-backend.js';
import type { DensePassageSide, SparsePassageSide } from '../../../src/backends/embedded/passage-side.js';
import { DocumentStore, type DocumentPassages, type NewDocument, type SparseVector } from '../../../src/store/document-store.js';
import { removeDir, tempDir } from '../../helpers/temp-dir.js';

const DIM = 4;
const quiet = { info() {}, warn() {}, error() {} };
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(removeDir));

/** A small deterministic generator (tests must not depend on Math.random). */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

interface Doc {
  id: string;
  group: number;
  sparse: SparseVector[];
  dense: Float32Array[];
}

function makeDoc(id: string, r: () => number): Doc {
  const n = 1 + Math.floor(r() * 6);
  const sparse: SparseVector[] = [];
  const dense: Float32Array[] = [];
  for (let i = 0; i < n; i++) {
    const terms = [...new Set(Array.from({ length: 1 + Math.floor(r() * 6) }, () => Math.floor(r() * 30)))].sort((a, b) => a - b);
    sparse.push({ terms: Uint32Array.from(terms), weights: Float32Array.from(terms, () => 0.1 + r() * 3) });
    dense.push(Float32Array.from({ length: DIM }, () => r() * 2 - 1));
  }
  return { id, group: Math.floor(r() * 3), sparse, dense };
}

function toNew(d: Doc): NewDocument {
  const spans = (i: number) => ({ start: i * 10, end: i * 10 + 9 });
  const sparse: DocumentPassages<SparseVector> = { passages: d.sparse.map((vector, i) => ({ ...spans(i), vector })) };
  const dense: DocumentPassages<Float32Array> = { passages: d.dense.map((vector, i) => ({ ...spans(i), vector })) };
  return {
    id: d.id,
    fields: JSON.stringify({ text: d.id }),
    metadata: JSON.stringify({ g: d.group }),
    counts: new Map([[d.id, 1]]),
    dl: 1,
    vectors: { s: sparse, d: dense },
  };
}

function open(dir: string) {
  const store = new DocumentStore(join(dir, 'store.sqlite'));
  const backend = new EmbeddedBackend(dir, store, quiet, 'c');
  const sparse = backend.sparse('s', { df: true, passages: true }) as SparsePassageSide;
  const dense = backend.dense('d', { dim: DIM, storage: 'f32', modelField: 'retrievers.d.model', passages: true }) as DensePassageSide;
  return { store, backend, sparse, dense };
}

const sdot = (q: SparseVector, v: SparseVector) => {
  let s = 0;
  q.terms.forEach((t, i) => {
    const j = v.terms.indexOf(t);
    if (j >= 0) s += q.weights[i] * v.weights[j];
  });
  return s;
};
const ddot = (q: Float32Array, v: Float32Array) => q.reduce((a, x, i) => a + x * v[i], 0);

/** Brute force: each live document's best passage, top k (documents scoring 0 left out for sparse, as the engine does). */
function expected(docs: Map<string, Doc>, score: (d: Doc) => number, k: number, keep: (d: Doc) => boolean, positive: boolean) {
  return [...docs.values()]
    .filter(keep)
    .map((d) => ({ id: d.id, s: score(d) }))
    .filter((x) => !positive || x.s > 0)
    .sort((a, b) => b.s - a.s)
    .slice(0, k);
}

describe('passage storages (MaxP)', () => {
  it('rank documents by their best passage under filters, removals, upserts, replay and rebuild', async () => {
    const dir = tempDir('lsr-maxp-');
    dirs.push(dir);
    const r = rng(7);
    const live = new Map<string, Doc>();
    let o = open(dir);
    await o.backend.open();
    // 120 documents in three batches.
    for (let b = 0; b < 3; b++) {
      const batch = Array.from({ length: 40 }, (_, i) => makeDoc(`d${b * 40 + i}`, r));
      await o.backend.write(batch.map(toNew), null);
      for (const d of batch) live.set(d.id, d);
    }
    const query: SparseVector = { terms: Uint32Array.of(2, 5, 11, 17, 23), weights: Float32Array.of(1, 0.5, 2, 1.5, 0.7) };
    const dq = Float32Array.of(0.3, -0.2, 0.9, 0.1);

    const check = async (label: string, c: ReturnType<typeof open>, filter?: object) => {
      const cands: Candidates = await c.backend.candidates(filter);
      const keep = (d: Doc) => filter === undefined || d.group === 1;
      const ids = async (docnos: Uint32Array) => {
        const m = await c.backend.idsOf(docnos);
        return Array.from(docnos, (d) => m.get(d));
      };
      for (const k of [1, 10, 50]) {
        const want = expected(live, (d) => Math.max(...d.sparse.map((p) => sdot(query, p))), k, keep, true);
        const got = await c.sparse.search(query, k, cands);
        expect(await ids(got.docs), `${label} sparse k=${k}`).toEqual(want.map((x) => x.id));
        got.scores.forEach((s, i) => expect(s).toBeCloseTo(want[i].s, 4));
        const wantD = expected(live, (d) => Math.max(...d.dense.map((p) => ddot(dq, p))), k, keep, false);
        const gotD = await c.dense.search(dq, k, cands, { mode: 'exact' });
        expect(await ids(gotD.docs), `${label} dense k=${k}`).toEqual(wantD.map((x) => x.id));
        gotD.scores.forEach((s, i) => expect(s).toBeCloseTo(wantD[i].s, 4));
      }
    };
    await check('fresh', o);
    await check('filtered', o, { g: 1 });

    // Per-term frequencies count live passages.
    const passages = [...live.values()].reduce((n, d) => n + d.sparse.length, 0);
    const f = await o.sparse.frequencies([2, 11]);
    expect(f.n).toBe(passages);
    expect(Array.from(f.df)).toEqual(
      [2, 11].map((t) => [...live.values()].reduce((n, d) => n + d.sparse.filter((p) => p.terms.includes(t)).length, 0)),
    );

    // A document's passages come back in text order with their offsets, and pooled (max) as `document`.
    const d3 = live.get('d3')!;
    const docno3 = (await o.backend.docnoOf('d3'))!;
    const ps = await o.sparse.passagesOf(docno3);
    expect(ps.map((p) => [p.start, p.end])).toEqual(d3.sparse.map((_, i) => [i * 10, i * 10 + 9]));
    ps.forEach((p, i) => expect(Array.from(p.vector.terms)).toEqual(Array.from(d3.sparse[i].terms)));
    const pooled = await o.sparse.document(docno3);
    const maxOf = (t: number) => Math.max(...d3.sparse.map((p) => (p.terms.includes(t) ? p.weights[p.terms.indexOf(t)] : 0)));
    Array.from(pooled!.terms).forEach((t, i) => expect(pooled!.weights[i]).toBeCloseTo(maxOf(t), 6));

    // Remove some, upsert others (new passages), then check again.
    const gone = ['d0', 'd5', 'd17', 'd80'];
    const removedDocnos = await Promise.all(gone.map(async (id) => (await o.backend.docnoOf(id))!));
    expect(await o.backend.remove(removedDocnos)).toBe(4);
    for (const id of gone) live.delete(id);
    const replaced = ['d1', 'd44'].map((id) => makeDoc(id, r));
    await o.backend.write(replaced.map(toNew), null);
    for (const d of replaced) live.set(d.id, d);
    await check('after removals and upserts', o);
    await check('after removals and upserts, filtered', o, { g: 1 });
    expect((await o.sparse.frequencies([])).n).toBe([...live.values()].reduce((n, d) => n + d.sparse.length, 0));

    // The state a kill -9 leaves: the store has every change, the indexes committed none since open.
    // Closing the native indexes without a commit and reopening replays rows and tombstones.
    expect(o.store.tombstonesAfter(0).length).toBeGreaterThan(0);
    await o.backend.close();
    o = open(dir);
    await o.backend.open();
    await check('reopened (replayed)', o);
    // The open committed, so the tombstones are pruned and the removed documents' passage rows with them.
    expect(o.store.tombstonesAfter(0)).toEqual([]);
    expect(o.store.passageNumbers('s', removedDocnos)).toEqual([]);
    expect(o.store.passageNumbers('d', removedDocnos)).toEqual([]);

    // An index thrown away is rebuilt from the store's passages.
    await o.backend.close();
    rmSync(join(dir, 'index', 's'), { recursive: true });
    rmSync(join(dir, 'index', 'd'), { recursive: true });
    o = open(dir);
    await o.backend.open();
    await check('rebuilt', o);
    await check('rebuilt, filtered', o, { g: 1 });
    await o.backend.close();
  });

  it('a document replaced within its own batch leaves no entries behind', async () => {
    const dir = tempDir('lsr-maxp-');
    dirs.push(dir);
    const r = rng(3);
    const o = open(dir);
    await o.backend.open();
    const a1 = makeDoc('a', r);
    const a2 = makeDoc('a', r);
    const b = makeDoc('b', r);
    await o.backend.write([a1, b, a2].map(toNew), null);
    expect(o.backend.size).toBe(2);
    expect((await o.sparse.frequencies([])).n).toBe(a2.sparse.length + b.sparse.length);
    const all = await o.dense.search(Float32Array.of(1, 1, 1, 1), 10, await o.backend.candidates(), { mode: 'exact' });
    expect(all.docs.length).toBe(2);
    await o.backend.close();
  });
});
