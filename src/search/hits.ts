// Turning ranked document numbers into the hits of one page: one read of the backend for the page,
// with ids only or the fields asked for. A document removed between the index answer and the read
// is simply not returned.
import type { Collection } from '../collections/collection.js';
import type { Hit } from './request.js';

export type HitBase = Pick<Hit, '_id' | 'fields' | 'metadata'>;

/** The documents of `docnos`: ids only, or `fields` (and `metadata` when named); undefined where removed. */
export async function hydrate(c: Collection, docnos: Uint32Array, fields: string[] | undefined): Promise<(HitBase | undefined)[]> {
  if (docnos.length === 0) return [];
  const wanted = fields ?? [];
  const wantMeta = wanted.includes('metadata');
  if (wanted.length === 0) {
    const ids = await c.backend.idsOf(docnos);
    return Array.from(docnos, (d) => {
      const id = ids.get(d);
      return id === undefined ? undefined : { _id: id };
    });
  }
  const docs = await c.backend.getMany(docnos);
  return Array.from(docnos, (docno) => {
    const doc = docs.get(docno);
    if (!doc) return undefined;
    const f: Record<string, unknown> = {};
    for (const name of wanted) if (name !== 'metadata' && Object.hasOwn(doc.fields, name)) f[name] = doc.fields[name];
    return wantMeta ? { _id: doc.id, fields: f, metadata: doc.metadata } : { _id: doc.id, fields: f };
  });
}

/** The page `docnos` (with `scores` in the same order) as hits; `explain(j)` explains the j-th. */
export async function pageHits(
  c: Collection,
  docnos: Uint32Array,
  scores: ArrayLike<number>,
  fields: string[] | undefined,
  explain?: (j: number) => Promise<Hit['explain']>,
): Promise<Hit[]> {
  const read = await hydrate(c, docnos, fields);
  const hits: Hit[] = [];
  for (let j = 0; j < docnos.length; j++) {
    const base = read[j];
    if (!base) continue;
    const hit: Hit = { _id: base._id, score: scores[j] };
    if (base.fields) hit.fields = base.fields;
    if (base.metadata) hit.metadata = base.metadata;
    if (explain) hit.explain = await explain(j);
    hits.push(hit);
  }
  return hits;
}

export function elapsed(t0: number): number {
  return Math.round((performance.now() - t0) * 1000) / 1000;
}
