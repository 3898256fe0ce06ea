// One collection: its config, its retrievers (src/retrievers/) and the backend that holds its data
// (src/backends/). The generic loop: create or open the backend, let each retriever declare its
// storage, open the backend (replay or rebuild), then serialize writes so that store order, seq
// order and index document numbers agree. Nothing here knows a retrieval kind.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import type { Backend, BackendStats, Candidates, WriteResult } from '../backends/backend.js';
import { EmbeddedBackend } from '../backends/embedded/embedded-backend.js';
import type { OpenSearchCluster } from '../backends/opensearch/cluster.js';
import { OpenSearchBackend } from '../backends/opensearch/opensearch-backend.js';
import type { Logger } from '../backends/embedded/index-side.js';
import type { EncoderRegistry } from '../encoder/encoder-registry.js';
import type { LengthReport } from '../encoder/long-documents.js';
import { fail } from '../errors.js';
import type { Retriever } from '../retrievers/retriever.js';
import { kindOf } from '../retrievers/registry.js';
import { DocumentStore, type NewDocument, type StoredDocument } from '../store/document-store.js';
import { Analyzer } from '../text/analyzer.js';
import { storedConfig, type CollectionConfig } from './collection-config.js';

export type { Logger, WriteResult };

/** A write's result, with each model-backed retriever's length report (by retriever name). */
export interface CollectionWriteResult extends WriteResult {
  encoding: Record<string, LengthReport>;
}
export type CollectionStats = BackendStats;

export class Collection {
  readonly analyzer = new Analyzer();
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    readonly dir: string,
    readonly config: CollectionConfig,
    readonly backend: Backend,
    /** Retriever name -> retriever, in config order. */
    readonly retrievers: ReadonlyMap<string, Retriever>,
    private readonly log: Logger,
    /** The cluster an OpenSearch-backed collection's configuration is kept in (its settings live there). */
    readonly cluster?: OpenSearchCluster,
  ) {}

  get name(): string {
    return this.config.name;
  }

  static storePath(dir: string): string {
    return EmbeddedBackend.storePath(dir);
  }

  /**
   * Creates a collection. Embedded: its directory and store, the config row committed last, marking
   * it complete. OpenSearch: its index, then its config in the cluster (the mark, made last too).
   */
  static async create(
    dir: string,
    config: CollectionConfig,
    log: Logger,
    encoders?: EncoderRegistry,
    cluster?: OpenSearchCluster,
  ): Promise<Collection> {
    if (config.backend?.kind === 'opensearch') {
      if (!cluster) fail('BACKEND_NOT_CONFIGURED', 'this server has no OpenSearch cluster configured (LSR_OPENSEARCH_URL)', 'backend.kind');
      const backend = new OpenSearchBackend(cluster, config.name, config.backend, log, 'create');
      const c = await Collection.openWith('', backend, config, log, encoders, () => backend.discard(), cluster);
      try {
        await cluster.create(config.name, JSON.stringify(config));
      } catch (e) {
        await backend.discard();
        throw e;
      }
      return c;
    }
    mkdirSync(dir, { recursive: true });
    const store = new DocumentStore(Collection.storePath(dir));
    const backend = new EmbeddedBackend(dir, store, log, config.name);
    let c: Collection;
    try {
      c = await Collection.openWith(dir, backend, config, log, encoders, async () => store.close());
    } catch (e) {
      // A model that does not load fails the create and leaves nothing on disk.
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    store.setMeta('config', JSON.stringify(config));
    return c;
  }

  /** Opens an existing embedded collection; undefined when the directory holds no complete collection. */
  static async open(dir: string, log: Logger, encoders?: EncoderRegistry): Promise<Collection | undefined> {
    if (!existsSync(Collection.storePath(dir))) return undefined;
    const store = new DocumentStore(Collection.storePath(dir));
    const raw = store.getMeta('config');
    if (!raw) {
      store.close();
      return undefined;
    }
    const backend = new EmbeddedBackend(dir, store, log, storedConfig(raw).name);
    return Collection.openWith(dir, backend, storedConfig(raw), log, encoders, async () => store.close());
  }

  /** Opens a collection the OpenSearch cluster keeps (its config text read from there). */
  static async openRemote(cluster: OpenSearchCluster, raw: string, log: Logger, encoders?: EncoderRegistry): Promise<Collection> {
    const config = storedConfig(raw);
    if (config.backend?.kind !== 'opensearch') throw new Error(`collection '${config.name}' in the cluster is not OpenSearch-backed`);
    const backend = new OpenSearchBackend(cluster, config.name, config.backend, log, 'open');
    return Collection.openWith('', backend, config, log, encoders, async () => backend.close(), cluster);
  }

  /** Lets each retriever declare its storage, then opens the backend; `abandon` undoes on failure. */
  private static async openWith(
    dir: string,
    backend: Backend,
    config: CollectionConfig,
    log: Logger,
    encoders: EncoderRegistry | undefined,
    abandon: () => Promise<void>,
    cluster?: OpenSearchCluster,
  ): Promise<Collection> {
    const retrievers = new Map<string, Retriever>();
    try {
      for (const [name, conf] of Object.entries(config.retrievers)) {
        const kind = kindOf(name);
        if (!kind)
          fail(
            'UNKNOWN_RETRIEVER',
            `collection '${config.name}' has a retriever '${name}' this service does not know`,
            `retrievers.${name}`,
          );
        retrievers.set(name, await kind.open({ name, config: conf, collection: config.name, backend, encoders }));
      }
    } catch (e) {
      await abandon();
      throw e;
    }
    try {
      await backend.open();
    } catch (e) {
      // The embedded backend closes its store itself when open fails; a remote one may have made its index.
      if (config.backend?.kind === 'opensearch') await abandon();
      throw e;
    }
    return new Collection(dir, config, backend, retrievers, log, cluster);
  }

  /** The retriever `name`, or undefined. */
  retriever(name: string): Retriever | undefined {
    return this.retrievers.get(name);
  }

  /** Runs writes one at a time so store order, seq order and index document numbers agree. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.closed) fail('SHUTTING_DOWN', `collection '${this.name}' is closing`);
      return fn();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Upserts documents; resolves once they are committed to the store and searchable, with what each
   * model-backed retriever's encoder did with their length (`encoding`: truncated or in passages).
   */
  write(docs: readonly NewDocument[], job: string | null): Promise<CollectionWriteResult> {
    // Encoding starts now, outside the write queue, so the next batch encodes while this one is
    // written; the write itself still waits its turn, keeping store order = call order.
    const texts = docs.map((d) => d.text ?? '');
    const encoding = [...this.retrievers.values()].map((r) => {
      const p = r.encodeDocuments(texts);
      p?.catch(() => {}); // observed inside serial(); avoid an unhandled rejection meanwhile
      return [r.name, p] as const;
    });
    return this.serial(async () => {
      let withVectors = docs;
      const reports: Record<string, LengthReport> = {};
      for (const [name, p] of encoding) {
        if (!p) continue;
        const { vectors: vs, report } = await p;
        reports[name] = report;
        withVectors = withVectors.map((d, i) => ({ ...d, vectors: { ...d.vectors, [name]: vs[i] } }));
      }
      return { ...(await this.backend.write(withVectors, job)), encoding: reports };
    });
  }

  /** Removes documents by number; resolves with how many were live. */
  remove(docnos: readonly number[]): Promise<number> {
    return this.serial(() => this.backend.remove(docnos));
  }

  /** Makes the indexes durable up to the last write (the documents already are). */
  commit(): Promise<void> {
    return this.serial(() => this.backend.commit());
  }

  // Documents, through the backend.

  get size(): number {
    return this.backend.size;
  }

  /** False once the collection is closed or deleted (a search that outlived it reports that). */
  get isOpen(): boolean {
    return !this.closed && this.backend.isOpen;
  }

  docnoOf(id: string): Promise<number | undefined> {
    return this.backend.docnoOf(id);
  }

  async getDocument(id: string): Promise<StoredDocument | undefined> {
    const docno = await this.backend.docnoOf(id);
    return docno === undefined ? undefined : this.backend.get(docno);
  }

  /** What a metadata filter allows (every live document without one); INVALID_FILTER naming the field otherwise. */
  candidates(filter?: object): Promise<Candidates> {
    return this.backend.candidates(filter);
  }

  /** Document numbers a metadata filter matches; INVALID_FILTER naming the field otherwise. */
  docnosMatching(filter: object): Promise<number[]> {
    return this.backend.docnosMatching(filter);
  }

  /** Statistics now (an OpenSearch-backed collection asks its cluster). */
  statsNow(): Promise<CollectionStats> {
    return this.backend.statsNow();
  }

  /** The latest statistics without waiting (for metrics scrapes). */
  stats(): CollectionStats {
    return this.backend.stats();
  }

  /** Waits for queued writes, commits the indexes, closes files. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.commit();
    } catch (e) {
      // The store holds everything; the next open replays what this commit would have saved.
      this.log.error({ collection: this.name, err: (e as Error).message }, 'index commit on close failed');
    }
    this.closed = true;
    await this.queue;
    await this.backend.close();
  }

  /** Closes and removes every file of the collection. */
  async destroy(): Promise<void> {
    this.closed = true;
    await this.queue;
    await this.backend.destroy();
  }
}
