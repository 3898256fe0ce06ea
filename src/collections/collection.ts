// One collection: its config, its retrievers (src/retrievers/) and the backend that holds its data
// (src/backends/). The generic loop: create or open the backend, let each retriever declare its
// storage, open the backend (replay or rebuild), then serialize writes so that store order, seq
// order and index document numbers agree. Nothing here knows a retrieval kind.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import type { Backend, BackendStats, Candidates, WriteResult } from '../backends/backend.js';
import { EmbeddedBackend } from '../backends/embedded/embedded-backend.js';
import type { Logger } from '../backends/embedded/index-side.js';
import type { EncoderRegistry } from '../encoder/encoder-registry.js';
import { fail } from '../errors.js';
import type { Retriever } from '../retrievers/retriever.js';
import { kindOf } from '../retrievers/registry.js';
import { DocumentStore, type NewDocument, type StoredDocument } from '../store/document-store.js';
import { Analyzer } from '../text/analyzer.js';
import { storedConfig, type CollectionConfig } from './collection-config.js';

export type { Logger, WriteResult };
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
  ) {}

  get name(): string {
    return this.config.name;
  }

  static storePath(dir: string): string {
    return EmbeddedBackend.storePath(dir);
  }

  /** Creates the collection's directory and store; the config row commits last, marking it complete. */
  static async create(dir: string, config: CollectionConfig, log: Logger, encoders?: EncoderRegistry): Promise<Collection> {
    mkdirSync(dir, { recursive: true });
    const store = new DocumentStore(Collection.storePath(dir));
    let c: Collection;
    try {
      c = await Collection.openWith(dir, store, config, log, encoders);
    } catch (e) {
      // A model that does not load fails the create and leaves nothing on disk.
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    store.setMeta('config', JSON.stringify(config));
    return c;
  }

  /** Opens an existing collection; undefined when the directory holds no complete collection. */
  static async open(dir: string, log: Logger, encoders?: EncoderRegistry): Promise<Collection | undefined> {
    if (!existsSync(Collection.storePath(dir))) return undefined;
    const store = new DocumentStore(Collection.storePath(dir));
    const raw = store.getMeta('config');
    if (!raw) {
      store.close();
      return undefined;
    }
    return Collection.openWith(dir, store, storedConfig(raw), log, encoders);
  }

  private static async openWith(
    dir: string,
    store: DocumentStore,
    config: CollectionConfig,
    log: Logger,
    encoders?: EncoderRegistry,
  ): Promise<Collection> {
    const backend = new EmbeddedBackend(dir, store, log, config.name);
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
      store.close();
      throw e;
    }
    await backend.open();
    return new Collection(dir, config, backend, retrievers, log);
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

  /** Upserts documents; resolves once they are committed to the store and searchable. */
  write(docs: readonly NewDocument[], job: string | null): Promise<WriteResult> {
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
      for (const [name, p] of encoding) {
        if (!p) continue;
        const vs = await p;
        withVectors = withVectors.map((d, i) => ({ ...d, vectors: { ...d.vectors, [name]: vs[i] } }));
      }
      return this.backend.write(withVectors, job);
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
