// The source of truth of one collection: a SQLite file (better-sqlite3, WAL, synchronous=FULL so a
// committed transaction survives kill -9 and power loss). Each change (document written, document
// removed) takes the next `seq`; the index records the seq it covers, and on open everything above
// it is replayed (see collections/collection.ts for the commit protocol).
import Database from 'better-sqlite3';
import { blobToF32, blobToU32, f32ToBlob, u32ToBlob } from './blobs.js';
import { Vocabulary } from './vocabulary.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- docno is the index's document number; AUTOINCREMENT never reuses one, which the index requires
-- (numbers only grow) and which keeps a tombstoned number from meaning a different document.
CREATE TABLE IF NOT EXISTS docs (
  docno INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  seq INTEGER NOT NULL,
  job TEXT,
  fields TEXT NOT NULL,
  metadata TEXT NOT NULL,
  dl INTEGER NOT NULL,
  bm25_terms BLOB NOT NULL,
  bm25_tfs BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS docs_seq ON docs (seq);
-- Removals not yet covered by an index commit; pruned once the index has committed past them.
CREATE TABLE IF NOT EXISTS tombstones (seq INTEGER NOT NULL, docno INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS vocab (id INTEGER PRIMARY KEY, term TEXT NOT NULL UNIQUE, df INTEGER NOT NULL);
`;

/**
 * The vectors a retriever keeps per document (a learned sparse vector, a dense vector) live in a
 * table of their own, written in the same transaction as their document and dropped with it by a
 * trigger (replace or remove). Sparse: model vocabulary ids (u32) and f32 weights; dense:
 * little-endian f32 of the model's dimension.
 */
export type VectorShape = 'sparse' | 'dense';

/**
 * The table of retriever `name`'s vectors. The first SPLADE and dense retrievers used the tables
 * `splade` and `dense`, which stores written then still hold; every other retriever gets
 * `<shape>_<name>`.
 */
export function vectorTableName(name: string, shape: VectorShape): string {
  if (!/^[a-z][a-z0-9_]{0,63}$/.test(name)) throw new Error(`retriever name '${name}' cannot name a table`);
  if ((name === 'splade' && shape === 'sparse') || (name === 'dense' && shape === 'dense')) return name;
  return `${shape}_${name}`;
}

function vectorTableSql(table: string, shape: VectorShape): string {
  const cols = shape === 'sparse' ? 'terms BLOB NOT NULL, weights BLOB NOT NULL' : 'vector BLOB NOT NULL';
  return `CREATE TABLE IF NOT EXISTS ${table} (docno INTEGER PRIMARY KEY, ${cols});
CREATE TRIGGER IF NOT EXISTS docs_drop_${table} AFTER DELETE ON docs BEGIN DELETE FROM ${table} WHERE docno = old.docno; END;`;
}

interface VectorTable {
  table: string;
  shape: VectorShape;
  insert: Database.Statement;
  byDocno: Database.Statement;
}

/**
 * The passages of retriever `name`'s documents, for a retriever that scores a document by its best
 * passage (`passages.score: 'max'`): one row per passage, numbered by `pno` (the index's entry
 * number: AUTOINCREMENT, so numbers only grow and a document's passages, written together, are
 * consecutive). Unlike a document's vector, its passage rows outlive the document until the
 * tombstone of its removal is pruned: an index that replays that tombstone must still find which
 * entries were the document's (pruneTombstones drops them).
 */
export function passageTableName(name: string, shape: VectorShape): string {
  return `${vectorTableName(name, shape)}_passages`;
}

function passageTableSql(table: string, shape: VectorShape): string {
  const cols = shape === 'sparse' ? 'terms BLOB NOT NULL, weights BLOB NOT NULL' : 'vector BLOB NOT NULL';
  return `CREATE TABLE IF NOT EXISTS ${table} (pno INTEGER PRIMARY KEY AUTOINCREMENT, docno INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL, ${cols});
CREATE INDEX IF NOT EXISTS ${table}_docno ON ${table} (docno);`;
}

interface PassageTable {
  table: string;
  shape: VectorShape;
  insert: Database.Statement;
  byDocno: Database.Statement;
  pnosOf: Database.Statement;
}

/** One passage of a document as a `passages.score: 'max'` retriever keeps it: its vector and offsets. */
export interface StoredPassage<V extends SparseVector | Float32Array = SparseVector | Float32Array> {
  /** UTF-16 offsets of the passage in the document's model text (its text fields joined by a space). */
  start: number;
  end: number;
  vector: V;
}

/** What a `passages.score: 'max'` retriever keeps of a document: its passages in text order. */
export interface DocumentPassages<V extends SparseVector | Float32Array = SparseVector | Float32Array> {
  passages: StoredPassage<V>[];
}

/** A stored passage row: its entry number, its document and its vector. */
export interface PassageRow<V extends SparseVector | Float32Array> extends StoredPassage<V> {
  pno: number;
  docno: number;
}

/** A retriever's vector of one document: one vector, or one per passage. */
export type DocumentVector = SparseVector | Float32Array | DocumentPassages;

export function isDocumentPassages(v: unknown): v is DocumentPassages {
  return typeof v === 'object' && v !== null && Array.isArray((v as DocumentPassages).passages);
}

/** A document ready to be stored: analysis already done. */
export interface NewDocument {
  id: string;
  /** Stored fields as JSON text. */
  fields: string;
  /** Metadata object as JSON text (filters read it with json_extract). */
  metadata: string;
  /** BM25 term -> count over the collection's text fields. */
  counts: Map<string, number>;
  /** Document length in terms (after stopwords). */
  dl: number;
  /** The text fields joined with a space: what a sparse model encodes (not stored as such). */
  text?: string;
  /** Retriever name -> the document's vector (or passages), for each retriever that keeps one (see vectorTable(), passageTable()). */
  vectors?: Record<string, DocumentVector>;
}

/** A stored dense vector and its document number. */
export interface DenseRow {
  docno: number;
  vector: Float32Array;
}

/** A learned sparse vector: model vocabulary ids ascending and their weights. */
export interface SparseVector {
  terms: Uint32Array;
  weights: Float32Array;
}

/** A stored document's BM25 vector: term ids and their frequencies. */
export interface StoredVector {
  docno: number;
  dl: number;
  terms: Uint32Array;
  tfs: Uint32Array;
}

export interface WrittenDocument extends StoredVector {
  id: string;
  seq: number;
  /** Retriever name -> the entry number (pno) of the document's first passage, for retrievers that keep passages. */
  firstPassage?: Record<string, number>;
}

export interface BatchResult {
  written: WrittenDocument[];
  /** Document numbers replaced (upserts) or removed, to tombstone in the index. */
  removed: number[];
  /** Input positions refused, with why. */
  duplicates: { index: number; id: string }[];
}

export interface StoredDocument {
  docno: number;
  id: string;
  fields: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

export class DocumentStore {
  readonly path: string;
  readonly db: Database.Database;
  readonly vocab = new Vocabulary();
  private seq = 0;
  private sumDl = 0;
  private count = 0;
  private maxDocno = 0;
  private readonly st: ReturnType<DocumentStore['prepare']>;
  private readonly filterStatements = new Map<string, Database.Statement>();
  private readonly vectorTables = new Map<string, VectorTable>();
  private readonly passageTables = new Map<string, PassageTable>();

  constructor(path: string) {
    this.path = path;
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    this.st = this.prepare();
    this.seq = Number(this.getMeta('seq') ?? 0);
    this.sumDl = Number(this.getMeta('sum_dl') ?? 0);
    this.count = (this.db.prepare('SELECT count(*) AS n FROM docs').get() as { n: number }).n;
    const seqRow = this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'docs'").get() as { seq: number } | undefined;
    this.maxDocno = seqRow?.seq ?? 0;
    for (const r of this.db.prepare('SELECT id, term, df FROM vocab').iterate() as IterableIterator<{
      id: number;
      term: string;
      df: number;
    }>)
      this.vocab.set(r.id, r.term, r.df);
  }

  private prepare() {
    const db = this.db;
    return {
      getMeta: db.prepare('SELECT value FROM meta WHERE key = ?').pluck(),
      setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      byId: db.prepare('SELECT docno, job, dl, bm25_terms FROM docs WHERE id = ?'),
      idByDocno: db.prepare('SELECT id FROM docs WHERE docno = ?').pluck(),
      idsByDocnos: db.prepare('SELECT docno, id FROM docs WHERE docno IN (SELECT value FROM json_each(?))').raw(),
      docsByDocnos: db.prepare('SELECT docno, id, fields, metadata FROM docs WHERE docno IN (SELECT value FROM json_each(?))'),
      byDocno: db.prepare('SELECT docno, id, fields, metadata FROM docs WHERE docno = ?'),
      vectorByDocno: db.prepare('SELECT docno, dl, bm25_terms, bm25_tfs FROM docs WHERE docno = ?'),
      insert: db.prepare('INSERT INTO docs (id, seq, job, fields, metadata, dl, bm25_terms, bm25_tfs) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      remove: db.prepare('DELETE FROM docs WHERE docno = ?'),
      tombstone: db.prepare('INSERT INTO tombstones (seq, docno) VALUES (?, ?)'),
      newTerm: db.prepare('INSERT INTO vocab (id, term, df) VALUES (?, ?, 0)'),
      addDf: db.prepare('UPDATE vocab SET df = df + ? WHERE id = ?'),
    };
  }

  getMeta(key: string): string | undefined {
    return this.st.getMeta.get(key) as string | undefined;
  }

  setMeta(key: string, value: string): void {
    this.st.setMeta.run(key, value);
  }

  /** Highest seq written. */
  get lastSeq(): number {
    return this.seq;
  }

  /** Live documents. */
  get size(): number {
    return this.count;
  }

  /** Mean document length (terms), 1 for an empty store so weights stay finite. */
  get avgdl(): number {
    return this.count > 0 && this.sumDl > 0 ? this.sumDl / this.count : 1;
  }

  /** Highest document number ever given (deleted ones included). */
  get highestDocno(): number {
    return this.maxDocno;
  }

  /**
   * Writes documents in one transaction: a document whose id exists is replaced (its old number is
   * returned in `removed`); a second write of the same id by the same job is refused as a duplicate.
   * Vocabulary and counters in memory change only once the transaction has committed.
   */
  writeBatch(docs: readonly NewDocument[], job: string | null): BatchResult {
    const newTerms = new Map<string, number>();
    const dfDelta = new Map<number, number>();
    let nextTermId = this.vocab.size;
    let seq = this.seq,
      sumDl = this.sumDl,
      count = this.count,
      maxDocno = this.maxDocno;
    const result: BatchResult = { written: [], removed: [], duplicates: [] };
    const bump = (id: number, d: number) => dfDelta.set(id, (dfDelta.get(id) ?? 0) + d);

    this.db.transaction(() => {
      docs.forEach((doc, index) => {
        const old = this.st.byId.get(doc.id) as { docno: number; job: string | null; dl: number; bm25_terms: Buffer } | undefined;
        if (old) {
          if (job !== null && old.job === job) {
            result.duplicates.push({ index, id: doc.id });
            return;
          }
          for (const t of blobToU32(old.bm25_terms)) bump(t, -1);
          this.st.remove.run(old.docno);
          this.st.tombstone.run(++seq, old.docno);
          sumDl -= old.dl;
          count--;
          result.removed.push(old.docno);
        }
        const terms = new Uint32Array(doc.counts.size);
        const tfs = new Uint32Array(doc.counts.size);
        let i = 0;
        for (const [term, tf] of doc.counts) {
          let id = this.vocab.id(term) ?? newTerms.get(term);
          if (id === undefined) {
            id = nextTermId++;
            newTerms.set(term, id);
            this.st.newTerm.run(id, term);
          }
          bump(id, 1);
          terms[i] = id;
          tfs[i++] = tf;
        }
        const s = ++seq;
        const info = this.st.insert.run(doc.id, s, job, doc.fields, doc.metadata, doc.dl, u32ToBlob(terms), u32ToBlob(tfs));
        const docno = Number(info.lastInsertRowid);
        const written: WrittenDocument = { docno, id: doc.id, seq: s, dl: doc.dl, terms, tfs };
        if (doc.vectors)
          for (const [name, v] of Object.entries(doc.vectors)) {
            if (!isDocumentPassages(v)) this.insertVector(name, docno, v);
            else written.firstPassage = { ...written.firstPassage, [name]: this.insertPassages(name, docno, v) };
          }
        maxDocno = Math.max(maxDocno, docno);
        sumDl += doc.dl;
        count++;
        result.written.push(written);
      });
      for (const [id, d] of dfDelta) if (d !== 0) this.st.addDf.run(d, id);
      this.setMeta('seq', String(seq));
      this.setMeta('sum_dl', String(sumDl));
    })();

    // A document replaced later in the same batch (possible only outside a job) is not live.
    if (result.removed.length > 0 && result.written.length > 0) {
      const gone = new Set(result.removed);
      result.written = result.written.filter((w) => !gone.has(w.docno));
    }
    for (const [term, id] of newTerms) this.vocab.set(id, term, 0);
    for (const [id, d] of dfDelta) this.vocab.addDf(id, d);
    this.seq = seq;
    this.sumDl = sumDl;
    this.count = count;
    this.maxDocno = maxDocno;
    return result;
  }

  /** Removes documents by number in one transaction; returns the numbers that were live. */
  removeDocnos(docnos: readonly number[]): number[] {
    const dfDelta = new Map<number, number>();
    let seq = this.seq,
      sumDl = this.sumDl,
      count = this.count;
    const removed: number[] = [];
    this.db.transaction(() => {
      for (const docno of docnos) {
        const row = this.st.vectorByDocno.get(docno) as { dl: number; bm25_terms: Buffer } | undefined;
        if (!row) continue;
        for (const t of blobToU32(row.bm25_terms)) dfDelta.set(t, (dfDelta.get(t) ?? 0) - 1);
        this.st.remove.run(docno);
        this.st.tombstone.run(++seq, docno);
        sumDl -= row.dl;
        count--;
        removed.push(docno);
      }
      for (const [id, d] of dfDelta) this.st.addDf.run(d, id);
      this.setMeta('seq', String(seq));
      this.setMeta('sum_dl', String(sumDl));
    })();
    for (const [id, d] of dfDelta) this.vocab.addDf(id, d);
    this.seq = seq;
    this.sumDl = sumDl;
    this.count = count;
    return removed;
  }

  docnoOf(id: string): number | undefined {
    return (this.st.byId.get(id) as { docno: number } | undefined)?.docno;
  }

  /** The `_id` of a document number, without reading its fields. */
  idOf(docno: number): string | undefined {
    return this.st.idByDocno.get(docno) as string | undefined;
  }

  /** `_id`s of many document numbers in one statement (a search page); absent numbers are left out. */
  idsOf(docnos: ArrayLike<number>): Map<number, string> {
    const rows = this.st.idsByDocnos.all(JSON.stringify(Array.from(docnos))) as [number, string][];
    return new Map(rows);
  }

  /** Many documents in one statement; absent numbers are left out. */
  getMany(docnos: ArrayLike<number>): Map<number, StoredDocument> {
    const rows = this.st.docsByDocnos.all(JSON.stringify(Array.from(docnos))) as {
      docno: number;
      id: string;
      fields: string;
      metadata: string;
    }[];
    return new Map(
      rows.map((r) => [r.docno, { docno: r.docno, id: r.id, fields: JSON.parse(r.fields), metadata: JSON.parse(r.metadata) }]),
    );
  }

  get(docno: number): StoredDocument | undefined {
    const r = this.st.byDocno.get(docno) as { docno: number; id: string; fields: string; metadata: string } | undefined;
    if (!r) return undefined;
    return { docno: r.docno, id: r.id, fields: JSON.parse(r.fields), metadata: JSON.parse(r.metadata) };
  }

  vector(docno: number): StoredVector | undefined {
    const r = this.st.vectorByDocno.get(docno) as { docno: number; dl: number; bm25_terms: Buffer; bm25_tfs: Buffer } | undefined;
    return r && { docno: r.docno, dl: r.dl, terms: blobToU32(r.bm25_terms), tfs: blobToU32(r.bm25_tfs) };
  }

  /** Live documents written after `seq`, in document-number order (the order the index needs). */
  *vectorsAfter(seq: number): IterableIterator<StoredVector> {
    const it = this.db
      .prepare('SELECT docno, dl, bm25_terms, bm25_tfs FROM docs WHERE seq > ? ORDER BY docno')
      .iterate(seq) as IterableIterator<{
      docno: number;
      dl: number;
      bm25_terms: Buffer;
      bm25_tfs: Buffer;
    }>;
    for (const r of it) yield { docno: r.docno, dl: r.dl, terms: blobToU32(r.bm25_terms), tfs: blobToU32(r.bm25_tfs) };
  }

  /**
   * Declares that retriever `name` keeps `shape` vectors: creates their table (and the trigger that
   * drops a document's vector with it) when missing. Must come before a write that carries them.
   */
  vectorTable(name: string, shape: VectorShape): string {
    const known = this.vectorTables.get(name);
    if (known) {
      if (known.shape !== shape) throw new Error(`retriever '${name}' keeps ${known.shape} vectors, not ${shape}`);
      return known.table;
    }
    const table = vectorTableName(name, shape);
    this.db.exec(vectorTableSql(table, shape));
    const cols = shape === 'sparse' ? 'terms, weights' : 'vector';
    this.vectorTables.set(name, {
      table,
      shape,
      insert: this.db.prepare(`INSERT INTO ${table} (docno, ${cols}) VALUES (?, ${shape === 'sparse' ? '?, ?' : '?'})`),
      byDocno: this.db.prepare(`SELECT ${cols} FROM ${table} WHERE docno = ?`).pluck(shape === 'dense'),
    });
    return table;
  }

  private table(name: string, shape: VectorShape): VectorTable {
    const t = this.vectorTables.get(name);
    if (!t || t.shape !== shape) throw new Error(`retriever '${name}' has no ${shape} vector table (vectorTable() first)`);
    return t;
  }

  private insertVector(name: string, docno: number, v: SparseVector | Float32Array): void {
    if (v instanceof Float32Array) this.table(name, 'dense').insert.run(docno, f32ToBlob(v));
    else this.table(name, 'sparse').insert.run(docno, u32ToBlob(v.terms), f32ToBlob(v.weights));
  }

  /**
   * Declares that retriever `name` keeps one `shape` vector per passage (passageTableName): creates
   * the table when missing. Must come before a write that carries passages.
   */
  passageTable(name: string, shape: VectorShape): string {
    const known = this.passageTables.get(name);
    if (known) {
      if (known.shape !== shape) throw new Error(`retriever '${name}' keeps ${known.shape} passages, not ${shape}`);
      return known.table;
    }
    const table = passageTableName(name, shape);
    this.db.exec(passageTableSql(table, shape));
    const cols = shape === 'sparse' ? 'terms, weights' : 'vector';
    this.passageTables.set(name, {
      table,
      shape,
      insert: this.db.prepare(`INSERT INTO ${table} (docno, start, end, ${cols}) VALUES (?, ?, ?, ${shape === 'sparse' ? '?, ?' : '?'})`),
      byDocno: this.db.prepare(`SELECT pno, docno, start, end, ${cols} FROM ${table} WHERE docno = ? ORDER BY pno`),
      pnosOf: this.db.prepare(`SELECT pno FROM ${table} WHERE docno IN (SELECT value FROM json_each(?)) ORDER BY pno`).pluck(),
    });
    return table;
  }

  private passageTableOf(name: string, shape?: VectorShape): PassageTable {
    const t = this.passageTables.get(name);
    if (!t || (shape && t.shape !== shape))
      throw new Error(`retriever '${name}' has no ${shape ?? ''} passage table (passageTable() first)`);
    return t;
  }

  /** Inserts a document's passages in order; returns the entry number of the first (they are consecutive). */
  private insertPassages(name: string, docno: number, v: DocumentPassages): number {
    if (v.passages.length === 0) throw new Error(`document ${docno} has no passages for retriever '${name}'`);
    const t = this.passageTableOf(name);
    let first = 0;
    v.passages.forEach((p, i) => {
      const info =
        p.vector instanceof Float32Array
          ? t.insert.run(docno, p.start, p.end, f32ToBlob(p.vector))
          : t.insert.run(docno, p.start, p.end, u32ToBlob(p.vector.terms), f32ToBlob(p.vector.weights));
      const pno = Number(info.lastInsertRowid);
      if (i === 0) first = pno;
      else if (pno !== first + i) throw new Error(`passage numbers of document ${docno} are not consecutive`);
    });
    return first;
  }

  private passageRow<V extends SparseVector | Float32Array>(
    shape: VectorShape,
    r: { pno: number; docno: number; start: number; end: number; terms?: Buffer; weights?: Buffer; vector?: Buffer },
  ): PassageRow<V> {
    const vector = shape === 'sparse' ? { terms: blobToU32(r.terms!), weights: blobToF32(r.weights!) } : blobToF32(r.vector!);
    return { pno: r.pno, docno: r.docno, start: r.start, end: r.end, vector: vector as V };
  }

  /** Retriever `name`'s passages of live documents written after `seq`, in entry-number order. */
  *passagesAfter<V extends SparseVector | Float32Array>(name: string, shape: VectorShape, seq: number): IterableIterator<PassageRow<V>> {
    const { table } = this.passageTableOf(name, shape);
    const cols = shape === 'sparse' ? 'p.terms, p.weights' : 'p.vector';
    const it = this.db
      .prepare(
        `SELECT p.pno, p.docno, p.start, p.end, ${cols} FROM ${table} p JOIN docs d ON d.docno = p.docno WHERE d.seq > ? ORDER BY p.pno`,
      )
      .iterate(seq) as IterableIterator<{ pno: number; docno: number; start: number; end: number }>;
    for (const r of it) yield this.passageRow<V>(shape, r);
  }

  /** The passages of a live document in text order ([] when it is not live or has none). */
  passagesOf<V extends SparseVector | Float32Array>(name: string, docno: number): PassageRow<V>[] {
    if (this.st.idByDocno.get(docno) === undefined) return [];
    const t = this.passageTableOf(name);
    return (t.byDocno.all(docno) as { pno: number; docno: number; start: number; end: number }[]).map((r) =>
      this.passageRow<V>(t.shape, r),
    );
  }

  /** Entry numbers of the passages of `docnos`, live or removed but not yet pruned, ascending. */
  passageNumbers(name: string, docnos: readonly number[]): number[] {
    return this.passageTableOf(name).pnosOf.all(JSON.stringify(docnos)) as number[];
  }

  /** Every passage row's (entry number, document number), removed-but-unpruned included: pno ascending. */
  *passageOwners(name: string): IterableIterator<[number, number]> {
    const { table } = this.passageTableOf(name);
    yield* this.db.prepare(`SELECT pno, docno FROM ${table} ORDER BY pno`).raw().iterate() as IterableIterator<[number, number]>;
  }

  /** Passages of live documents. */
  livePassages(name: string): number {
    const { table } = this.passageTableOf(name);
    return (this.db.prepare(`SELECT count(*) FROM ${table} p JOIN docs d ON d.docno = p.docno`).pluck().get() as number) ?? 0;
  }

  /** Retriever `name`'s sparse vectors of live documents written after `seq`, in document-number order. */
  *sparseAfter(name: string, seq: number): IterableIterator<{ docno: number } & SparseVector> {
    const { table } = this.table(name, 'sparse');
    const it = this.db
      .prepare(`SELECT s.docno, s.terms, s.weights FROM ${table} s JOIN docs d ON d.docno = s.docno WHERE d.seq > ? ORDER BY s.docno`)
      .iterate(seq) as IterableIterator<{ docno: number; terms: Buffer; weights: Buffer }>;
    for (const r of it) yield { docno: r.docno, terms: blobToU32(r.terms), weights: blobToF32(r.weights) };
  }

  /** Retriever `name`'s dense vectors of live documents written after `seq`, in document-number order. */
  *denseAfter(name: string, seq: number): IterableIterator<DenseRow> {
    const { table } = this.table(name, 'dense');
    const it = this.db
      .prepare(`SELECT v.docno, v.vector FROM ${table} v JOIN docs d ON d.docno = v.docno WHERE d.seq > ? ORDER BY v.docno`)
      .iterate(seq) as IterableIterator<{ docno: number; vector: Buffer }>;
    for (const r of it) yield { docno: r.docno, vector: blobToF32(r.vector) };
  }

  /** Retriever `name`'s stored dense vector of a live document, or undefined. */
  denseVector(name: string, docno: number): Float32Array | undefined {
    const b = this.table(name, 'dense').byDocno.get(docno) as Buffer | undefined;
    return b && blobToF32(b);
  }

  /** Document numbers removed after `seq`. */
  tombstonesAfter(seq: number): number[] {
    return this.db.prepare('SELECT docno FROM tombstones WHERE seq > ?').pluck().all(seq) as number[];
  }

  /** Forgets removals the index has durably applied. */
  pruneTombstones(uptoSeq: number): void {
    this.db.transaction(() => {
      // A removed document's passages were kept for the indexes replaying its tombstone; now none will.
      for (const { table } of this.passageTables.values())
        this.db.prepare(`DELETE FROM ${table} WHERE docno IN (SELECT docno FROM tombstones WHERE seq <= ?)`).run(uptoSeq);
      this.db.prepare('DELETE FROM tombstones WHERE seq <= ?').run(uptoSeq);
    })();
  }

  /** Document numbers matching a SQL condition over `docs` (built by backends/embedded/sql-filter.ts, values bound). */
  docnosWhere(where: string, params: unknown[]): number[] {
    const sql = `SELECT docno FROM docs WHERE ${where}`;
    let st = this.filterStatements.get(sql);
    if (!st) {
      if (this.filterStatements.size > 256) this.filterStatements.clear();
      st = this.db.prepare(sql).pluck();
      this.filterStatements.set(sql, st);
    }
    return st.all(...params) as number[];
  }

  /** Every live document number, ascending. */
  allDocnos(): number[] {
    return this.db.prepare('SELECT docno FROM docs ORDER BY docno').pluck().all() as number[];
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
