// The OpenSearch backend: a collection's documents and every retriever's storage in one index of a
// real cluster (shards, replicas and recovery are OpenSearch's), reached over HTTP. The layout and
// the query clauses are in mapping.ts; the cluster-side configuration and document-number counter in
// cluster.ts. What this backend does not do is refused (UNSUPPORTED_BY_BACKEND), never approximated:
// approximate sparse top-k (OpenSearch scores rank_features exhaustively through Lucene's WAND),
// int8 dense rows, queries over 1024 terms. Passages scored by their best (MaxP) are nested documents
// under their document, scored by a nested query with score_mode max (mapping.ts).
//
// Writes: a batch gets document numbers from the cluster's counter, is sent as one `_bulk` with
// `refresh=true` (searchable when acknowledged) under `translog.durability: request` (durable when
// acknowledged); items OpenSearch refused come back per input position, and 429s are retried with the
// same _id and number, so a retry can never duplicate a document. Reads: statistics a query needs are
// OpenSearch's (BM25's idf with dfs_query_then_fetch: global, not per shard) or counted in the cluster
// (frequencies); the few synchronous figures (size, stats) are a snapshot refreshed after writes.
import type { SparseQuery, TopK } from '../../../index/index.js';
import { fail, type ErrorCode } from '../../errors.js';
import type { DocumentPassages, SparseVector, StoredDocument } from '../../store/document-store.js';
import type {
  Backend,
  BackendDocument,
  BackendStats,
  Candidates,
  DenseSpec,
  DenseStorage,
  DenseStrategy,
  LexicalSpec,
  PassageOf,
  LexicalStorage,
  SparseSpec,
  SparseStorage,
  SparseStrategy,
  WeighedQuery,
  WriteResult,
} from '../backend.js';
import type { Contribution } from '../contributions.js';
import { validateFilter } from '../filter.js';
import { maxOfPassages, meanOfPassages } from '../passage-pooling.js';
import type { Logger } from '../embedded/index-side.js';
import { isUnavailable, reasonOf, type OpenSearchClient } from './client.js';
import type { OpenSearchCluster } from './cluster.js';
import {
  BM25_FIELD,
  bm25Text,
  bulkParts,
  denseField,
  densePassagesField,
  featuresOf,
  filterClause,
  flattenMetadata,
  type IndexLayout,
  indexBody,
  innerProductOf,
  lexicalQueryClause,
  MAX_CLAUSES,
  sparseField,
  sparsePassagesField,
  sparseQueryClause,
  storedFeatureWeight,
} from './mapping.js';

/** Where a collection's index is and how it is laid out (the collection config's `backend`). */
export interface OpenSearchIndexSpec {
  index: string;
  shards: number;
  replicas: number;
}

/** OpenSearch's `_id` is at most 512 bytes of UTF-8 (our ids are up to 512 characters). */
const MAX_ID_BYTES = 512;
/** Largest `_bulk` body sent at once (a document alone may exceed it; it then goes by itself). */
const BULK_BYTES = 32 * 2 ** 20;
/** 429 retries of a bulk's refused items, with doubling waits from 50 ms. */
const BULK_RETRIES = 6;
/** How long a size/stats snapshot is served before a read refreshes it in the background. */
const SNAPSHOT_MS = 2000;
/** Document number -> _id entries remembered from search answers (hydration needs no second read). */
const ID_CACHE = 200_000;
/** The sparse `storage` precisions are the embedded engine's; Lucene stores rank_features its own way. */
function refuseStorage(name: string, spec: { storage?: unknown }): void {
  if (spec.storage)
    fail(
      'UNSUPPORTED_BY_BACKEND',
      'the OpenSearch backend stores sparse vectors as Lucene rank_features (its own encoding); leave out storage',
      `retrievers.${name}.storage`,
    );
}

/** Default candidate list of an approximate dense search (the lucene engine's k per shard). */
const DEFAULT_EF = 100;

interface Hit {
  _id: string;
  _score: number;
  _source?: Record<string, unknown>;
  fields?: { docno?: number[] };
}
interface SearchReply {
  hits: { total?: { value: number }; hits: Hit[] };
  aggregations?: Record<string, unknown>;
}

const idSegment = (id: string) => encodeURIComponent(id);

/** Score desc, then document number asc (the embedded engines' order), as a TopK. */
function topOf(hits: readonly Hit[], scoreOf: (s: number) => number): TopK {
  const rows = hits.map((h) => ({ docno: h.fields?.docno?.[0] ?? -1, score: scoreOf(h._score) })).filter((r) => r.docno >= 0);
  rows.sort((a, b) => b.score - a.score || a.docno - b.docno);
  return { docs: Uint32Array.from(rows, (r) => r.docno), scores: Float32Array.from(rows, (r) => r.score) };
}

export class OpenSearchBackend implements Backend {
  private readonly client: OpenSearchClient;
  private layout: IndexLayout;
  private readonly storages = new Set<string>();
  private opened = false;
  private closed = false;
  /** Whether open() made the index (discard() removes only an index this backend made). */
  private madeIndex = false;
  private count = 0;
  private countAt = 0;
  private refreshing: Promise<void> | null = null;
  private snapshot: BackendStats = {
    documents: 0,
    deleted: 0,
    segments: 0,
    bytes_on_disk: 0,
    index_bytes: 0,
    vocabulary: 0,
    avgdl: 0,
    committed_seq: 0,
    seq: 0,
  };
  private readonly ids = new Map<number, string>();

  constructor(
    readonly cluster: OpenSearchCluster,
    readonly collection: string,
    readonly spec: OpenSearchIndexSpec,
    private readonly log: Logger,
    /** `create`: open() makes the index (it must not exist); `open`: it must exist. */
    private readonly mode: 'create' | 'open',
  ) {
    this.client = cluster.client;
    this.layout = {
      shards: spec.shards,
      replicas: spec.replicas,
      lexical: null,
      sparse: [],
      dense: [],
      sparsePassages: [],
      densePassages: [],
    };
  }

  /** The collection's alias, which every request names. */
  private get path(): string {
    return `/${encodeURIComponent(this.spec.index)}`;
  }

  /** The concrete index a create makes behind the alias. */
  private get concretePath(): string {
    return `/${encodeURIComponent(`${this.spec.index}-v1`)}`;
  }

  /** Deletes the concrete indexes behind the alias (the alias goes with them); none: nothing to do. */
  private async dropIndexes(): Promise<void> {
    const r = await this.client.request<Record<string, unknown>>('GET', `/_alias${this.path}`, undefined, { accept: [404] });
    if (r.status === 404) return;
    for (const concrete of Object.keys(r.body))
      await this.client.request('DELETE', `/${encodeURIComponent(concrete)}`, undefined, { accept: [404] });
  }

  private declare(name: string): void {
    if (this.opened) throw new Error(`storage '${name}' declared after open()`);
    if (this.storages.has(name)) throw new Error(`storage '${name}' declared twice`);
    this.storages.add(name);
  }

  lexical(name: string, spec: LexicalSpec): LexicalStorage {
    this.declare(name);
    if (spec.approx)
      fail(
        'UNSUPPORTED_BY_BACKEND',
        'the OpenSearch backend has no approximate BM25 top-k (Lucene scores exactly with WAND)',
        `retrievers.${name}.approx`,
      );
    refuseStorage(name, spec);
    if (this.layout.lexical) throw new Error('one lexical storage per collection');
    this.layout.lexical = { name, k1: spec.k1, b: spec.b };
    return new Lexical(this, name, spec.k1);
  }

  sparse(name: string, spec: SparseSpec): SparseStorage {
    this.declare(name);
    if (spec.approx)
      fail(
        'UNSUPPORTED_BY_BACKEND',
        'the OpenSearch backend has no approximate learned-sparse top-k (rank_features are scored exactly); leave out approx',
        `retrievers.${name}.approx`,
      );
    refuseStorage(name, spec);
    if (spec.passages) {
      this.layout.sparsePassages.push(name);
      return new SparsePassages(this, name);
    }
    this.layout.sparse.push(name);
    return new Sparse(this, name);
  }

  dense(name: string, spec: DenseSpec): DenseStorage {
    this.declare(name);
    if (spec.storage !== 'f32')
      fail('UNSUPPORTED_BY_BACKEND', 'the OpenSearch backend stores dense vectors as f32 only', `retrievers.${name}.storage`);
    const d = { name, dim: spec.dim, m: spec.approx?.m ?? 16, efConstruction: spec.approx?.ef_construction ?? 200 };
    if (spec.passages) {
      this.layout.densePassages.push(d);
      return new DensePassages(this, name, spec.dim, spec.approx !== undefined);
    }
    this.layout.dense.push(d);
    return new Dense(this, name, spec.dim, spec.approx !== undefined);
  }

  get isOpen(): boolean {
    return this.opened && !this.closed;
  }

  async open(): Promise<void> {
    this.opened = true;
    if (this.mode === 'create') {
      // The collection's name for its index is an alias of one concrete index (`<index>-v1`): writes
      // go through it with require_alias, so an index deleted behind the service is a clear
      // COLLECTION_NOT_FOUND instead of a new index auto-created by the next bulk, with no mapping.
      const taken = await this.client.request('HEAD', this.path, undefined, { accept: [404] });
      if (taken.status !== 404)
        fail(
          'COLLECTION_EXISTS',
          `OpenSearch already has an index or alias '${this.spec.index}'; name another with backend.index or delete it`,
          'backend.index',
        );
      const body = { ...indexBody(this.layout), aliases: { [this.spec.index]: { is_write_index: true } } };
      const r = await this.client.request('PUT', this.concretePath, body, { accept: [400] });
      if (r.status === 400) {
        const text = JSON.stringify(r.body);
        if (text.includes('resource_already_exists_exception') || text.includes('invalid_alias_name_exception'))
          fail(
            'COLLECTION_EXISTS',
            `OpenSearch index '${this.spec.index}' already exists; name another with backend.index or delete it`,
            'backend.index',
          );
        fail('BACKEND_REJECTED', `OpenSearch refused index '${this.spec.index}': ${reasonOf(r.body)}`, 'backend');
      }
      this.madeIndex = true;
    }
    // Wait for the index's own health (a stray red index elsewhere must not block us).
    const h = await this.client.request<{ status: string; timed_out: boolean }>(
      'GET',
      `/_cluster/health${this.path}?wait_for_status=yellow&timeout=30s`,
      undefined,
      { accept: [404, 408] },
    );
    if (h.status === 404)
      fail('COLLECTION_NOT_FOUND', `collection '${this.collection}': its OpenSearch index '${this.spec.index}' does not exist`);
    if (h.body.timed_out)
      fail('BACKEND_UNAVAILABLE', `OpenSearch index '${this.spec.index}' is ${h.body.status}: no copy of some shard is available`);
    await this.refreshSnapshot();
  }

  /** Every request on the collection's index goes through here: a vanished index is COLLECTION_NOT_FOUND. */
  async req<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', sub: string, body?: unknown, ndjson?: string): Promise<T> {
    if (this.closed) fail('SHUTTING_DOWN', `collection '${this.collection}' is closing`);
    // A bulk (with its refresh) may take longer than a search; it gets four times the request timeout.
    const r = await this.client.request<T>(method, this.path + sub, body, {
      ...(ndjson !== undefined ? { ndjson, timeoutMs: 4 * this.client.conn.timeoutMs } : {}),
      accept: [404],
    });
    if (r.status === 404) {
      const type = JSON.stringify(r.body);
      if (type.includes('index_not_found_exception'))
        fail('COLLECTION_NOT_FOUND', `collection '${this.collection}' no longer exists (its OpenSearch index is gone)`);
    }
    return r.body;
  }

  /**
   * A search. `allow_partial_search_results=false`: a shard with no live copy fails the request
   * (BACKEND_UNAVAILABLE) instead of returning the other shards' results as if they were all.
   */
  async search(body: object, dfs = false): Promise<SearchReply> {
    const q = `/_search?allow_partial_search_results=false${dfs ? '&search_type=dfs_query_then_fetch' : ''}`;
    const r = await this.req<SearchReply & { _shards?: { failed: number; failures?: unknown[] } }>('POST', q, body);
    if (r._shards && r._shards.failed > 0)
      fail(
        'BACKEND_UNAVAILABLE',
        `OpenSearch answered from part of the index only: ${JSON.stringify(r._shards.failures?.[0]).slice(0, 300)}`,
      );
    return r;
  }

  /** Top hits of a query, as document numbers; remembers their ids for hydration. */
  async top(query: object, k: number, scoreOf: (s: number) => number = (s) => s, dfs = false): Promise<TopK> {
    // Ties broken by document number, as the embedded engines do: without it, which of several equal
    // scores make the top k would depend on the shard copy that answered.
    const r = await this.search(
      { size: k, query, sort: [{ _score: 'desc' }, { docno: 'asc' }], _source: false, docvalue_fields: ['docno'], track_total_hits: false },
      dfs,
    );
    this.remember(r.hits.hits);
    return topOf(r.hits.hits, scoreOf);
  }

  private remember(hits: readonly Hit[]): void {
    for (const h of hits) {
      const d = h.fields?.docno?.[0] ?? (h._source?.docno as number | undefined);
      if (d === undefined) continue;
      if (this.ids.size >= ID_CACHE) this.ids.delete(this.ids.keys().next().value as number);
      this.ids.set(d, h._id);
    }
  }

  /** A query clause with the candidates' filter, if any. */
  static filtered(should: object[], candidates: Candidates): object {
    return {
      bool: {
        should,
        // Without it a filter alone would match every filtered document with score 0.
        minimum_should_match: 1,
        ...(candidates.clause ? { filter: [candidates.clause] } : {}),
      },
    };
  }

  // ---------------------------------------------------------------- writes

  async write(docs: readonly BackendDocument[], job: string | null): Promise<WriteResult> {
    const result: WriteResult = { written: 0, duplicates: [], rejected: [] };
    for (const [index, d] of docs.entries())
      if (Buffer.byteLength(d.id) > MAX_ID_BYTES)
        result.rejected!.push({
          index,
          id: d.id,
          code: 'VALIDATION_FAILED',
          message: `_id is ${Buffer.byteLength(d.id)} bytes of UTF-8; an OpenSearch-backed collection takes at most ${MAX_ID_BYTES}`,
          field: '_id',
        });
    const refused = new Set(result.rejected!.map((r) => r.index));
    let todo = docs.map((d, index) => ({ d, index })).filter((x) => !refused.has(x.index));
    if (job !== null) {
      // A second write of an _id by the same job is refused, as embedded: earlier batches (in the cluster)...
      const seen = new Set<string>();
      const earlier = await this.jobsOf(todo.map((x) => x.d.id));
      todo = todo.filter((x) => {
        if (earlier.get(x.d.id) === job || seen.has(x.d.id)) {
          result.duplicates.push({ index: x.index, id: x.d.id });
          return false;
        }
        seen.add(x.d.id); // ...and this one
        return true;
      });
    }
    if (todo.length === 0) return result;
    const first = await this.cluster.allocate(this.collection, todo.length);
    const lines = todo.map((x, i) => this.bulkLines(x.d, first + i, job));
    let pending = todo.map((_, i) => i);
    for (let attempt = 0; ; attempt++) {
      const retry: number[] = [];
      for (const part of bulkParts(pending, lines, BULK_BYTES)) {
        const r = await this.req<{ errors: boolean; items: { index: { status: number; error?: unknown } }[] }>(
          'POST',
          '/_bulk?refresh=true&require_alias=true',
          undefined,
          part.map((i) => lines[i]).join(''),
        );
        // The alias is gone (the index deleted behind the service): the collection no longer exists.
        if (r.items.some((it) => gone(it.index.error)))
          fail('COLLECTION_NOT_FOUND', `collection '${this.collection}' no longer exists (its OpenSearch index is gone)`);
        r.items.forEach((item, j) => {
          const i = part[j];
          const st = item.index.status;
          if (st >= 200 && st < 300) result.written++;
          else if (st === 429 && attempt < BULK_RETRIES) retry.push(i);
          else {
            const code: ErrorCode =
              st === 429 ? 'BACKEND_BUSY' : isUnavailable(st, item.index) ? 'BACKEND_UNAVAILABLE' : 'BACKEND_REJECTED';
            result.rejected!.push({
              index: todo[i].index,
              id: todo[i].d.id,
              code,
              message: `OpenSearch refused the document (${st}): ${reasonOf(item.index)}`,
            });
          }
        });
      }
      if (retry.length === 0) break;
      pending = retry;
      await new Promise((res) => setTimeout(res, 50 * 2 ** attempt));
    }
    await this.refreshCount();
    return result;
  }

  /** The job field of existing documents, by _id. */
  private async jobsOf(ids: readonly string[]): Promise<Map<string, string | null>> {
    const out = new Map<string, string | null>();
    if (ids.length === 0) return out;
    const r = await this.req<{ docs: { _id: string; found: boolean; _source?: { job?: string | null } }[] }>(
      'POST',
      '/_mget?_source_includes=job&realtime=true',
      { ids: [...new Set(ids)] },
    );
    for (const d of r.docs) if (d.found) out.set(d._id, d._source?.job ?? null);
    return out;
  }

  private bulkLines(d: BackendDocument, docno: number, job: string | null): string {
    const metadata = JSON.parse(d.metadata) as Record<string, unknown>;
    const body: Record<string, unknown> = {
      docno,
      job,
      dl: d.dl,
      fields: JSON.parse(d.fields),
      metadata,
      _m: flattenMetadata(metadata),
    };
    if (this.layout.lexical) body[BM25_FIELD] = bm25Text(d.counts);
    for (const name of this.layout.sparse) {
      const v = d.vectors?.[name] as { terms: Uint32Array; weights: Float32Array } | undefined;
      if (v) body[sparseField(name)] = featuresOf(v.terms, v.weights);
    }
    for (const dn of this.layout.dense) {
      const v = d.vectors?.[dn.name] as Float32Array | undefined;
      if (v) body[denseField(dn.name)] = Array.from(v);
    }
    // Passages (MaxP): one nested document each, in text order.
    for (const name of this.layout.sparsePassages) {
      const v = d.vectors?.[name] as DocumentPassages<SparseVector> | undefined;
      if (v)
        body[sparsePassagesField(name)] = v.passages.map((p) => ({
          s: p.start,
          e: p.end,
          f: featuresOf(p.vector.terms, p.vector.weights),
        }));
    }
    for (const dn of this.layout.densePassages) {
      const v = d.vectors?.[dn.name] as DocumentPassages<Float32Array> | undefined;
      if (v) body[densePassagesField(dn.name)] = v.passages.map((p) => ({ s: p.start, e: p.end, v: Array.from(p.vector) }));
    }
    return `${JSON.stringify({ index: { _id: d.id } })}\n${JSON.stringify(body)}\n`;
  }

  /**
   * Deletes by number: each live document's current version is read, then deleted only if it is
   * still that version (`if_seq_no`), so a document replaced meanwhile (a new number) is left alone.
   */
  async remove(docnos: readonly number[]): Promise<number> {
    let n = 0;
    for (let i = 0; i < docnos.length; i += 10_000) {
      const part = docnos.slice(i, i + 10_000);
      const r = await this.search({
        size: part.length,
        query: { terms: { docno: part } },
        _source: false,
        seq_no_primary_term: true,
        track_total_hits: false,
      });
      const hits = r.hits.hits as (Hit & { _seq_no: number; _primary_term: number })[];
      if (hits.length === 0) continue;
      const body = hits
        .map((h) => `${JSON.stringify({ delete: { _id: h._id, if_seq_no: h._seq_no, if_primary_term: h._primary_term } })}\n`)
        .join('');
      const b = await this.req<{ items: { delete: { status: number; result?: string; error?: unknown } }[] }>(
        'POST',
        '/_bulk?refresh=true',
        undefined,
        body,
      );
      for (const it of b.items) {
        const st = it.delete.status;
        if (st === 200 && it.delete.result === 'deleted') n++;
        else if (st !== 404 && st !== 409)
          fail(
            isUnavailable(st, it.delete) ? 'BACKEND_UNAVAILABLE' : 'BACKEND_REJECTED',
            `OpenSearch removed ${n} documents and refused another (${st}): ${reasonOf(it.delete)}`,
          );
      }
    }
    await this.refreshCount();
    return n;
  }

  /** Acknowledged writes are already durable (translog per request) and searchable (refresh). */
  async commit(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Undoes a create that failed: removes the index if this backend made it, never one found there. */
  async discard(): Promise<void> {
    this.closed = true;
    if (this.madeIndex) await this.client.request('DELETE', this.concretePath, undefined, { accept: [404] }).catch(() => {});
  }

  async destroy(): Promise<void> {
    this.closed = true;
    await this.dropIndexes();
  }

  // ---------------------------------------------------------------- reads

  get size(): number {
    if (Date.now() - this.countAt > SNAPSHOT_MS) void this.refreshCount().catch(() => {});
    return this.count;
  }

  private async refreshCount(): Promise<void> {
    const r = await this.req<{ count: number }>('GET', '/_count');
    this.count = r.count;
    this.countAt = Date.now();
    this.snapshot.documents = r.count;
  }

  /** Statistics shown by GET /collections/{name}: refreshed in the background, at most every SNAPSHOT_MS. */
  private async refreshSnapshot(): Promise<void> {
    const [stats, dl] = await Promise.all([
      this.req<{
        _all: {
          primaries: { docs: { count: number; deleted: number }; store: { size_in_bytes: number }; segments: { count: number } };
          total: { store: { size_in_bytes: number } };
        };
      }>('GET', '/_stats/docs,store,segments'),
      this.search({ size: 0, track_total_hits: true, aggs: { dl: { avg: { field: 'dl' } } } }),
      this.refreshCount(),
    ]);
    const p = stats._all.primaries;
    this.snapshot = {
      documents: this.count,
      deleted: p.docs.deleted,
      segments: p.segments.count,
      bytes_on_disk: stats._all.total.store.size_in_bytes,
      index_bytes: p.store.size_in_bytes,
      // Not counted by OpenSearch without reading every term: 0 stands for "not known here" (docs/scale-out.md).
      vocabulary: 0,
      avgdl: (dl.aggregations?.dl as { value: number | null } | undefined)?.value ?? 0,
      // Every acknowledged write is durable and searchable: there is no separate index commit to lag.
      committed_seq: 0,
      seq: 0,
    };
  }

  async statsNow(): Promise<BackendStats> {
    await this.refreshSnapshot();
    return { ...this.snapshot };
  }

  stats(): BackendStats {
    if (!this.refreshing && Date.now() - this.countAt > SNAPSHOT_MS)
      this.refreshing = this.refreshSnapshot()
        .catch((e) => this.log.warn({ collection: this.collection, err: (e as Error).message }, 'OpenSearch stats refresh failed'))
        .finally(() => {
          this.refreshing = null;
        });
    return { ...this.snapshot, documents: this.count };
  }

  async docnoOf(id: string): Promise<number | undefined> {
    if (Buffer.byteLength(id) > MAX_ID_BYTES) return undefined;
    const r = await this.req<{ found?: boolean; _source?: { docno: number } }>(
      'GET',
      `/_doc/${idSegment(id)}?_source_includes=docno&realtime=true`,
    );
    if (!r.found || r._source === undefined) return undefined;
    this.remember([{ _id: id, _score: 0, _source: r._source }]);
    return r._source.docno;
  }

  async get(docno: number): Promise<StoredDocument | undefined> {
    return (await this.getMany([docno])).get(docno);
  }

  private async byDocno(docnos: ArrayLike<number>, source: string[] | false): Promise<Hit[]> {
    const list = Array.from(docnos);
    const out: Hit[] = [];
    for (let i = 0; i < list.length; i += 10_000) {
      const part = list.slice(i, i + 10_000);
      const r = await this.search({
        size: part.length,
        query: { terms: { docno: part } },
        _source: source,
        docvalue_fields: ['docno'],
        track_total_hits: false,
      });
      out.push(...r.hits.hits);
    }
    this.remember(out);
    return out;
  }

  async idsOf(docnos: ArrayLike<number>): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    const missing: number[] = [];
    for (const d of Array.from(docnos)) {
      const id = this.ids.get(d);
      if (id !== undefined) out.set(d, id);
      else missing.push(d);
    }
    if (missing.length > 0) for (const h of await this.byDocno(missing, false)) out.set(h.fields!.docno![0], h._id);
    return out;
  }

  async getMany(docnos: ArrayLike<number>): Promise<Map<number, StoredDocument>> {
    const out = new Map<number, StoredDocument>();
    for (const h of await this.byDocno(docnos, ['fields', 'metadata', 'docno'])) {
      const docno = h.fields!.docno![0];
      const s = h._source ?? {};
      out.set(docno, {
        docno,
        id: h._id,
        fields: (s.fields as Record<string, unknown>) ?? {},
        metadata: (s.metadata as Record<string, unknown>) ?? {},
      });
    }
    return out;
  }

  async candidates(filter?: object): Promise<Candidates> {
    if (filter === undefined) return { matches: this.size };
    const clause = filterClause(validateFilter(filter));
    const r = await this.req<{ count: number }>('POST', '/_count', { query: clause });
    return { matches: r.count, clause };
  }

  async docnosMatching(filter: object): Promise<number[]> {
    const clause = filterClause(validateFilter(filter));
    const out: number[] = [];
    let after: unknown[] | undefined;
    for (;;) {
      const r = await this.search({
        size: 10_000,
        query: clause,
        _source: false,
        docvalue_fields: ['docno'],
        sort: [{ docno: 'asc' }],
        track_total_hits: false,
        ...(after ? { search_after: after } : {}),
      });
      const hits = r.hits.hits as (Hit & { sort: unknown[] })[];
      for (const h of hits) out.push(h.fields!.docno![0]);
      if (hits.length < 10_000) return out;
      after = hits[hits.length - 1].sort;
    }
  }

  /**
   * Live documents, and how many match each of `filters` (one search: a filters aggregation); with
   * `nested`, the nested documents under that path instead (a passage storage's passages).
   */
  async countEach(filters: readonly object[], nested?: string): Promise<{ n: number; df: Uint32Array }> {
    const named: Record<string, object> = {};
    filters.forEach((f, i) => {
      named[String(i)] = f;
    });
    const df = filters.length > 0 ? { df: { filters: { filters: named } } } : undefined;
    const r = await this.search({
      size: 0,
      track_total_hits: !nested,
      ...(nested ? { aggs: { p: { nested: { path: nested }, ...(df ? { aggs: df } : {}) } } } : df ? { aggs: df } : {}),
    });
    type Counts = { doc_count?: number; df?: { buckets: Record<string, { doc_count: number }> } };
    const at = (nested ? r.aggregations?.p : r.aggregations) as Counts | undefined;
    const buckets = at?.df?.buckets ?? {};
    const n = nested ? (at?.doc_count ?? 0) : (r.hits.total?.value ?? 0);
    return { n, df: Uint32Array.from(filters, (_, i) => buckets[String(i)]?.doc_count ?? 0) };
  }

  /** A document's `_source` fields by number, or undefined when it is not live. */
  async sourceOf(docno: number, fields: string[]): Promise<Record<string, unknown> | undefined> {
    const hits = await this.byDocno([docno], fields);
    return hits[0]?._source;
  }
}

/** A bulk item error meaning the collection's alias or index does not exist. */
function gone(error: unknown): boolean {
  const e = error as { type?: string; reason?: string } | undefined;
  return e?.type === 'index_not_found_exception' || (e?.reason ?? '').includes('is not an alias');
}

function checkClauses(n: number): void {
  if (n > MAX_CLAUSES)
    fail(
      'UNSUPPORTED_BY_BACKEND',
      `a query of ${n} terms is over OpenSearch's limit of ${MAX_CLAUSES} clauses (indices.query.bool.max_clause_count); send fewer terms`,
      'query',
    );
}

/** BM25 by Lucene: the `_bm25` field under the collection's similarity. */
class Lexical implements LexicalStorage {
  readonly approx = false;
  readonly approxBlocks = false;
  /**
   * The term texts of each query this storage weighed, keyed by the query object itself: Lucene is
   * asked by text, and ids that mean nothing outside one query need no table that grows with every
   * term ever queried (the entry goes when the query is collected).
   */
  private readonly texts = new WeakMap<SparseQuery, readonly string[]>();

  constructor(
    private readonly be: OpenSearchBackend,
    readonly name: string,
    /** For explain: OpenSearch's BM25 (Lucene's legacy form) puts (k1 + 1) in the boost; we show it on the document side. */
    private readonly k1: number,
  ) {}

  get size(): number {
    return this.be.size;
  }

  /** Ids are positions in this query's own term list. */
  async weigh(counts: ReadonlyMap<string, number>): Promise<WeighedQuery> {
    const terms: string[] = [];
    const weights: number[] = [];
    for (const [t, c] of counts)
      if (c > 0) {
        terms.push(t);
        weights.push(c);
      }
    const query = { terms: Uint32Array.from(terms, (_, i) => i), weights: Float32Array.from(weights) };
    this.texts.set(query, terms);
    return { query, terms };
  }

  private clauses(q: SparseQuery): object[] {
    checkClauses(q.terms.length);
    const texts = this.texts.get(q);
    if (!texts) throw new Error(`a BM25 query not weighed by storage '${this.name}'`);
    return lexicalQueryClause(
      Array.from(q.terms, (i) => texts[i]),
      q.weights,
    );
  }

  async search(query: SparseQuery, k: number, candidates: Candidates, strategy?: SparseStrategy): Promise<TopK> {
    if (strategy?.mode === 'approx') fail('UNSUPPORTED_BY_BACKEND', 'the OpenSearch backend has no approximate BM25 top-k', 'mode');
    if (query.terms.length === 0) return { docs: new Uint32Array(0), scores: new Float32Array(0) };
    return this.be.top(OpenSearchBackend.filtered(this.clauses(query), candidates), k, (s) => s, true);
  }

  /** Lucene keeps no per-document BM25 weights to read back; explain() asks Lucene instead. */
  async document(): Promise<SparseQuery | null> {
    return null;
  }

  /**
   * Lucene's own explanation of the document's score under the same query (with the same global
   * statistics), per term: query weight = boost × idf, document weight = tf × (k1 + 1).
   */
  async explain(q: WeighedQuery, docno: number): Promise<Contribution[] | null> {
    if (q.query.terms.length === 0) return [];
    const r = await this.be.search(
      {
        size: 1,
        explain: true,
        _source: false,
        query: { bool: { should: this.clauses(q.query), minimum_should_match: 1, filter: [{ term: { docno } }] } },
      },
      true,
    );
    const hit = r.hits.hits[0] as (Hit & { _explanation?: Explanation }) | undefined;
    if (!hit?._explanation) return null;
    const out: Contribution[] = [];
    const k1p1 = this.k1 + 1;
    walk(hit._explanation, (e) => {
      const m = /^weight\(_bm25:(.+) in \d+\)/.exec(e.description);
      if (!m) return false;
      const parts = new Map<string, number>();
      walk(e, (c) => {
        const key = c.description.split(',')[0].trim();
        if (key === 'boost' || key === 'idf' || key === 'tf') parts.set(key, c.value);
        return false;
      });
      // OpenSearch's BM25 keeps Lucene's older form: the (k1 + 1) factor rides in the boost.
      const qw = ((parts.get('boost') ?? k1p1) / k1p1) * (parts.get('idf') ?? 0);
      const dw = (parts.get('tf') ?? 0) * k1p1;
      out.push({ term: m[1], query_weight: qw, document_weight: dw, contribution: e.value });
      return true;
    });
    return out.sort((a, b) => b.contribution - a.contribution);
  }

  /** Counted in the cluster: one search, a filter aggregation per term. */
  async termFrequencies(terms: readonly string[]): Promise<{ n: number; df: Uint32Array }> {
    return this.be.countEach(terms.map((t) => ({ term: { [BM25_FIELD]: t } })));
  }
}

interface Explanation {
  value: number;
  description: string;
  details?: Explanation[];
}

/** Depth-first; `visit` returns true to stop descending below a node. */
function walk(e: Explanation, visit: (e: Explanation) => boolean): void {
  if (visit(e)) return;
  for (const d of e.details ?? []) walk(d, visit);
}

/** A learned sparse storage: `rank_features`, scored by linear rank_feature clauses. */
class Sparse implements SparseStorage {
  readonly approx = false;
  readonly approxBlocks = false;

  constructor(
    private readonly be: OpenSearchBackend,
    readonly name: string,
  ) {}

  get size(): number {
    return this.be.size;
  }

  async search(query: SparseQuery, k: number, candidates: Candidates, strategy?: SparseStrategy): Promise<TopK> {
    if (strategy?.mode === 'approx') fail('UNSUPPORTED_BY_BACKEND', 'the OpenSearch backend has no approximate sparse top-k', 'mode');
    const should = sparseQueryClause(this.name, query);
    checkClauses(should.length);
    if (should.length === 0) return { docs: new Uint32Array(0), scores: new Float32Array(0) };
    return this.be.top(OpenSearchBackend.filtered(should, candidates), k);
  }

  /** The weights as Lucene scores them (9 significant bits), so contributions sum to the score. */
  async document(docno: number): Promise<SparseQuery | null> {
    const field = sparseField(this.name);
    const src = await this.be.sourceOf(docno, [field]);
    if (!src) return null;
    const f = (src[field] ?? {}) as Record<string, number>;
    const entries = Object.entries(f)
      .map(([t, w]) => [Number(t), storedFeatureWeight(w)] as const)
      .sort((a, b) => a[0] - b[0]);
    return { terms: Uint32Array.from(entries, (e) => e[0]), weights: Float32Array.from(entries, (e) => e[1]) };
  }

  /** Counted in the cluster: one search, a filter aggregation per term. */
  async frequencies(terms: readonly number[]): Promise<{ n: number; df: Uint32Array }> {
    const field = sparseField(this.name);
    return this.be.countEach(terms.map((t) => ({ rank_feature: { field: `${field}.${t}` } })));
  }
}

/** A dense storage: `knn_vector` on the lucene engine (HNSW), exact by the k-NN scoring script. */
class Dense implements DenseStorage {
  readonly storage = 'f32';

  constructor(
    private readonly be: OpenSearchBackend,
    readonly name: string,
    readonly dim: number,
    readonly approx: boolean,
  ) {}

  get size(): number {
    return this.be.size;
  }

  async search(query: Float32Array, k: number, candidates: Candidates, strategy?: DenseStrategy): Promise<TopK> {
    const field = denseField(this.name);
    const vector = Array.from(query);
    const approx = strategy?.mode === 'approx' || (strategy?.mode === undefined && this.approx);
    if (approx) {
      // The lucene engine's k is its candidate list per shard (ef); the filter runs inside the graph
      // walk (or exactly, when it leaves few documents), so a filtered top-k still returns k.
      const ef = Math.max(k, strategy?.ef ?? DEFAULT_EF);
      const knn = { [field]: { vector, k: ef, ...(candidates.clause ? { filter: candidates.clause } : {}) } };
      return this.be.top({ knn }, k, innerProductOf);
    }
    const query_ = {
      script_score: {
        query: { bool: { filter: [{ exists: { field } }, ...(candidates.clause ? [candidates.clause] : [])] } },
        script: knnScript(field, vector),
      },
    };
    return this.be.top(query_, k, innerProductOf);
  }

  async vector(docno: number): Promise<Float32Array | undefined> {
    const field = denseField(this.name);
    const src = await this.be.sourceOf(docno, [field]);
    const v = src?.[field] as number[] | undefined;
    return v ? Float32Array.from(v) : undefined;
  }
}

/** The exact dense score of a document's vector (or, inside a nested query, a passage's) by the k-NN scoring script. */
function knnScript(field: string, vector: number[]): object {
  return { source: 'knn_score', lang: 'knn', params: { field, query_value: vector, space_type: 'innerproduct' } };
}

/** A nested query scoring each document by its best passage, under the candidates' filter (on the document). */
function bestPassage(path: string, query: object, candidates: Candidates): object {
  const nested = { nested: { path, score_mode: 'max', query } };
  return candidates.clause ? { bool: { must: [nested], filter: [candidates.clause] } } : nested;
}

/**
 * A learned sparse retriever's passages (MaxP): nested documents under `_ps_<name>`, each with its
 * rank_features; a document scores as its best passage, the linear rank_feature sum of that passage.
 */
class SparsePassages implements SparseStorage {
  readonly approx = false;
  readonly approxBlocks = false;
  private readonly path: string;

  constructor(
    private readonly be: OpenSearchBackend,
    readonly name: string,
  ) {
    this.path = sparsePassagesField(name);
  }

  get size(): number {
    return this.be.size;
  }

  async search(query: SparseQuery, k: number, candidates: Candidates, strategy?: SparseStrategy): Promise<TopK> {
    if (strategy?.mode === 'approx') fail('UNSUPPORTED_BY_BACKEND', 'the OpenSearch backend has no approximate sparse top-k', 'mode');
    const should = sparseQueryClause(this.name, query, `${this.path}.f`);
    checkClauses(should.length);
    if (should.length === 0) return { docs: new Uint32Array(0), scores: new Float32Array(0) };
    return this.be.top(bestPassage(this.path, { bool: { should, minimum_should_match: 1 } }, candidates), k);
  }

  /** A live document's passages in text order, weights as Lucene scores them (9 significant bits); [] when not live. */
  async passagesOf(docno: number): Promise<PassageOf<SparseQuery>[]> {
    const src = await this.be.sourceOf(docno, [this.path]);
    const ps = (src?.[this.path] ?? []) as { s: number; e: number; f?: Record<string, number> }[];
    return ps.map((p) => {
      const entries = Object.entries(p.f ?? {})
        .map(([t, w]) => [Number(t), storedFeatureWeight(w)] as const)
        .sort((a, b) => a[0] - b[0]);
      return {
        start: p.s,
        end: p.e,
        vector: { terms: Uint32Array.from(entries, (e) => e[0]), weights: Float32Array.from(entries, (e) => e[1]) },
      };
    });
  }

  /** A document's passages pooled (max per term), as pseudo-relevance feedback reads a document. */
  async document(docno: number): Promise<SparseQuery | null> {
    return maxOfPassages(await this.passagesOf(docno));
  }

  /** IDF over passages, as the embedded backend counts it: `n` passages, df the passages holding each term. */
  async frequencies(terms: readonly number[]): Promise<{ n: number; df: Uint32Array }> {
    return this.be.countEach(
      terms.map((t) => ({ rank_feature: { field: `${this.path}.f.${t}` } })),
      this.path,
    );
  }
}

/**
 * A dense retriever's passages (MaxP): nested documents under `_pd_<name>`, each a knn_vector; a
 * document scores as its best passage. Approximate search walks the nested HNSW graph (lucene keeps
 * each document's best passage); with a filter it scores exactly instead, so a filtered top-k still
 * returns k (a filter on the document cannot run inside the walk over passages).
 */
class DensePassages implements DenseStorage {
  readonly storage = 'f32';
  private readonly path: string;

  constructor(
    private readonly be: OpenSearchBackend,
    readonly name: string,
    readonly dim: number,
    readonly approx: boolean,
  ) {
    this.path = densePassagesField(name);
  }

  get size(): number {
    return this.be.size;
  }

  async search(query: Float32Array, k: number, candidates: Candidates, strategy?: DenseStrategy): Promise<TopK> {
    const field = `${this.path}.v`;
    const vector = Array.from(query);
    const approx = strategy?.mode === 'approx' || (strategy?.mode === undefined && this.approx);
    if (approx && !candidates.clause) {
      const ef = Math.max(k, strategy?.ef ?? DEFAULT_EF);
      return this.be.top(bestPassage(this.path, { knn: { [field]: { vector, k: ef } } }, candidates), k, innerProductOf);
    }
    const exact = { script_score: { query: { exists: { field } }, script: knnScript(field, vector) } };
    return this.be.top(bestPassage(this.path, exact, candidates), k, innerProductOf);
  }

  async passagesOf(docno: number): Promise<PassageOf<Float32Array>[]> {
    const src = await this.be.sourceOf(docno, [this.path]);
    const ps = (src?.[this.path] ?? []) as { s: number; e: number; v: number[] }[];
    return ps.map((p) => ({ start: p.s, end: p.e, vector: Float32Array.from(p.v) }));
  }

  /** The mean of a document's passage vectors (pseudo-relevance feedback's view of a document), or undefined. */
  async vector(docno: number): Promise<Float32Array | undefined> {
    return meanOfPassages(await this.passagesOf(docno), this.dim);
  }
}
