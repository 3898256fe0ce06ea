// The embedded backend's storages for retrievers that score a document by its best passage
// (`passages.score: 'max'`, MaxP): the native index holds one entry per passage, numbered by the
// store's passage numbers (`pno`, document-store.ts passageTable), and each search maps its passage
// ranking back to documents.
//
//   search    the first k distinct documents of the passage ranking are exactly the k documents with
//             the best passages, so the passage depth starts at k × the mean passages a document and
//             doubles until k documents appear or the ranking runs out (exact search stays exact),
//             up to 100,000 passages (the engine's largest k): a query whose top 100,000 passages
//             hold fewer than k documents returns those;
//   filters   a metadata filter is a bitset over document numbers: it becomes one over passage
//             numbers through `owner` (pno -> docno, in memory: 4 bytes a passage);
//   removal   a document's entries are its passage numbers, read from the store, whose passage rows
//             outlive the document until its tombstone is pruned, so a replayed tombstone still finds
//             them (index-side.ts entriesOf);
//   explain   a document's passages as the engine stores them (sparse) or as ingest stored them
//             (dense), for the retriever to find the best one (retrievers/passages.ts).
import type { SparseQuery, TopK } from '../../../index/index.js';
import { DenseIndex } from '../../../index/index.js';
import type { PassageRow, SparseVector } from '../../store/document-store.js';
import type {
  Candidates,
  DenseSpec,
  DenseStorage,
  DenseStrategy,
  PassageOf,
  SparseSpec,
  SparseStorage,
  SparseStrategy,
} from '../backend.js';
import { maxOfPassages, meanOfPassages } from '../passage-pooling.js';
import { denseBatch, denseIndexOptions, denseSearchOptions } from './dense-side.js';
import { IndexSide, type AppliedBatch, type SideContext } from './index-side.js';
import { csr, SparseSide, searchOptions } from './sparse-side.js';

/** Entries one search asks the engine for at most (index/validate.ts caps k at 100,000). */
const MAX_ENTRIES = 100_000;

/** pno -> docno for every passage row the store holds (removed-but-unpruned included), growing with writes. */
class Owners {
  private owner = new Uint32Array(1024);
  /** One above the highest passage number set. */
  private end = 0;

  set(pno: number, docno: number): void {
    if (pno >= this.owner.length) {
      const grown = new Uint32Array(Math.max(pno + 1, this.owner.length * 2));
      grown.set(this.owner);
      this.owner = grown;
    }
    this.owner[pno] = docno;
    if (pno >= this.end) this.end = pno + 1;
  }

  of(pno: number): number {
    return this.owner[pno];
  }

  /** The passages a document filter allows: a bitset over passage numbers, and how many it sets. */
  filter(docBits: Uint8Array): { bits: Uint8Array; matches: number } {
    const bits = new Uint8Array((this.end >>> 3) + 1);
    let matches = 0;
    for (let p = 1; p < this.end; p++) {
      const d = this.owner[p];
      if (d !== 0 && d >>> 3 < docBits.length && (docBits[d >>> 3] >>> (d & 7)) & 1) {
        bits[p >>> 3] |= 1 << (p & 7);
        matches++;
      }
    }
    return { bits, matches };
  }
}

/**
 * The top `k` documents by their best passage. `run(depth, candidates)` ranks passages; `candidates`
 * are the request's documents, here turned into passages.
 */
async function bestByDocument(
  owners: Owners,
  k: number,
  candidates: Candidates,
  passagesPerDocument: number,
  run: (depth: number, passages: Candidates) => Promise<TopK>,
): Promise<TopK> {
  const passages: Candidates = candidates.bits ? owners.filter(candidates.bits) : { matches: Number.MAX_SAFE_INTEGER };
  let depth = Math.min(MAX_ENTRIES, Math.max(2 * k, Math.ceil(k * passagesPerDocument)));
  for (;;) {
    const top = await run(depth, passages);
    const seen = new Set<number>();
    const docs: number[] = [];
    const scores: number[] = [];
    for (let i = 0; i < top.docs.length && docs.length < k; i++) {
      const d = owners.of(top.docs[i]);
      if (seen.has(d)) continue;
      seen.add(d);
      docs.push(d);
      scores.push(top.scores[i]);
    }
    // Fewer than k documents after MAX_ENTRIES passages: what there is (see the file comment).
    if (docs.length >= k || top.docs.length < depth || depth >= MAX_ENTRIES)
      return { docs: Uint32Array.from(docs), scores: Float32Array.from(scores) };
    depth = Math.min(MAX_ENTRIES, depth * 2);
  }
}

type SparsePassageRow = { docno: number; doc: number } & SparseVector;

/** A learned sparse retriever's passages: one SparseIndex entry per passage. */
export class SparsePassageSide extends SparseSide<SparsePassageRow> implements SparseStorage {
  private readonly owners = new Owners();

  constructor(name: string, ctx: SideContext, spec: SparseSpec) {
    super(name, ctx, spec);
    ctx.store.passageTable(name, 'sparse');
  }

  readonly passages = true;

  override async open(): Promise<void> {
    for (const [pno, docno] of this.ctx.store.passageOwners(this.name)) this.owners.set(pno, docno);
    await super.open();
  }

  /** IDF over passages, the unit a document is scored by: `n` live passages, df the passages holding each term. */
  async frequencies(terms: readonly number[]): Promise<{ n: number; df: Uint32Array }> {
    return this.countedFrequencies(terms, this.index.size);
  }

  /** Documents by their best passage (SparseSide.search adds the exact fallback of approximate walks). */
  protected override rank(query: SparseQuery, k: number, candidates: Candidates, strategy: SparseStrategy | undefined): Promise<TopK> {
    return bestByDocument(this.owners, k, candidates, this.index.size / Math.max(1, this.size), (depth, passages) =>
      this.index.searchBatch([query], searchOptions(depth, passages, strategy), 1).then((r) => r[0]),
    );
  }

  /** A live document's passages as the engine stores them, in text order; [] when it is not live. */
  async passagesOf(docno: number): Promise<PassageOf<SparseQuery>[]> {
    const out: PassageOf<SparseQuery>[] = [];
    for (const r of this.ctx.store.passagesOf<SparseVector>(this.name, docno)) {
      const v = this.index.document(r.pno);
      if (v) out.push({ start: r.start, end: r.end, vector: v });
    }
    return out;
  }

  /** A document's passages pooled (max per term), as pseudo-relevance feedback reads a document. */
  override async document(docno: number): Promise<SparseQuery | null> {
    return maxOfPassages(await this.passagesOf(docno));
  }

  protected override entriesOf(docnos: readonly number[]): readonly number[] {
    return docnos.length === 0 ? docnos : this.ctx.store.passageNumbers(this.name, docnos);
  }

  protected override expectedEntries(): number {
    return this.ctx.store.livePassages(this.name);
  }

  protected rowsAfter(seq: number): Iterable<SparsePassageRow> {
    return mapRows(this.ctx.store.passagesAfter<SparseVector>(this.name, 'sparse', seq), (r) => ({
      docno: r.pno,
      doc: r.docno,
      terms: r.vector.terms,
      weights: r.vector.weights,
    }));
  }

  protected rowsOf(batch: AppliedBatch): SparsePassageRow[] {
    return batch.written.flatMap((w) =>
      passagesIn<SparseVector>(batch, this.name, w.id, w.firstPassage).map((p) => ({ docno: p.pno, doc: w.docno, ...p.vector })),
    );
  }

  protected addRows(rows: SparsePassageRow[]): Promise<unknown> {
    for (const r of rows) this.owners.set(r.docno, r.doc);
    return this.index.add(csr(rows, (v, out, at) => out.set(v.weights, at)));
  }
}

type DensePassageRow = { docno: number; doc: number; vector: Float32Array };

/** A dense retriever's passages: one DenseIndex row per passage. */
export class DensePassageSide extends IndexSide<DenseIndex, DensePassageRow> implements DenseStorage {
  private readonly owners = new Owners();

  constructor(
    name: string,
    ctx: SideContext,
    private readonly spec: DenseSpec,
  ) {
    super(name, ctx);
    ctx.store.passageTable(name, 'dense');
  }

  readonly passages = true;

  protected openIndex(): DenseIndex {
    return DenseIndex.open(this.ctx.dir, denseIndexOptions(this.spec));
  }

  override async open(): Promise<void> {
    for (const [pno, docno] of this.ctx.store.passageOwners(this.name)) this.owners.set(pno, docno);
    await super.open();
  }

  get dim(): number {
    return this.spec.dim;
  }

  get storage(): 'f32' | 'i8' {
    return this.spec.storage;
  }

  get approx(): boolean {
    return this.index.approx !== null && this.index.approx !== undefined;
  }

  async search(query: Float32Array, k: number, candidates: Candidates, s?: DenseStrategy): Promise<TopK> {
    return bestByDocument(this.owners, k, candidates, this.index.size / Math.max(1, this.size), (depth, passages) =>
      this.index.searchBatch([query], denseSearchOptions(depth, passages, s, this.approx), 1).then((r) => r[0]),
    );
  }

  /** A live document's passages (vectors as stored at ingest), in text order; [] when it is not live. */
  async passagesOf(docno: number): Promise<PassageOf<Float32Array>[]> {
    return this.ctx.store.passagesOf<Float32Array>(this.name, docno).map((r) => ({ start: r.start, end: r.end, vector: r.vector }));
  }

  /** The mean of a document's passage vectors (pseudo-relevance feedback's view of a document), or undefined. */
  async vector(docno: number): Promise<Float32Array | undefined> {
    return meanOfPassages(await this.passagesOf(docno), this.spec.dim);
  }

  protected override entriesOf(docnos: readonly number[]): readonly number[] {
    return docnos.length === 0 ? docnos : this.ctx.store.passageNumbers(this.name, docnos);
  }

  protected override expectedEntries(): number {
    return this.ctx.store.livePassages(this.name);
  }

  protected rowsAfter(seq: number): Iterable<DensePassageRow> {
    return mapRows(this.ctx.store.passagesAfter<Float32Array>(this.name, 'dense', seq), (r) => ({
      docno: r.pno,
      doc: r.docno,
      vector: r.vector,
    }));
  }

  protected rowsOf(batch: AppliedBatch): DensePassageRow[] {
    return batch.written.flatMap((w) =>
      passagesIn<Float32Array>(batch, this.name, w.id, w.firstPassage).map((p) => ({ docno: p.pno, doc: w.docno, vector: p.vector })),
    );
  }

  protected addRows(rows: DensePassageRow[]): Promise<unknown> {
    for (const r of rows) this.owners.set(r.docno, r.doc);
    return this.index.add(denseBatch(rows, this.spec, (r) => r.doc));
  }
}

function* mapRows<A, B>(rows: Iterable<A>, f: (a: A) => B): Iterable<B> {
  for (const r of rows) yield f(r);
}

/** The passages a batch wrote for document `id` of retriever `name`, with their entry numbers (consecutive from `first`). */
function passagesIn<V extends SparseVector | Float32Array>(
  batch: AppliedBatch,
  name: string,
  id: string,
  first: Record<string, number> | undefined,
): Pick<PassageRow<V>, 'pno' | 'vector'>[] {
  const v = batch.vectorOf(name, id) as { passages: { vector: V }[] } | undefined;
  const start = first?.[name];
  if (!v || start === undefined) throw new Error(`document '${id}' was written without passages for retriever '${name}'`);
  return v.passages.map((p, i) => ({ pno: start + i, vector: p.vector }));
}
