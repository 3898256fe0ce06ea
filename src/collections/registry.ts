// All collections of the service: the embedded ones of its data directory (<dataDir>/collections/<name>/;
// names are validated before they touch the filesystem, so a name can never leave that folder) and,
// when a cluster is configured, the OpenSearch-backed ones kept in that cluster. Those are found by
// name in the cluster when this process does not hold them yet (created through another process).
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fail, isServiceError } from '../errors.js';
import { OpenSearchCluster, type OpenSearchSettings } from '../backends/opensearch/cluster.js';
import { type BackendChoice, buildConfig, validateCollectionName, type CollectionSpec } from './collection-config.js';
import { Collection, type Logger } from './collection.js';
import { lockDataDir } from './data-dir-lock.js';
import { EncoderRegistry } from '../encoder/encoder-registry.js';

export interface RegistryOptions {
  /** The cluster OpenSearch-backed collections live on; absent: embedded collections only. */
  opensearch?: OpenSearchSettings;
  /** Backend of a create request that names none. Default embedded. */
  defaultBackend?: 'embedded' | 'opensearch';
}

export class CollectionRegistry {
  readonly dataDir: string;
  private readonly collections = new Map<string, Collection>();
  /** Names being created or deleted, so a concurrent request sees a clear conflict. */
  private readonly busy = new Set<string>();
  private readonly log: Logger;
  private unlock: () => void = () => {};
  /** Sparse models of collections that have one; closed with the registry when it made them. */
  readonly encoders: EncoderRegistry;
  private readonly ownEncoders: boolean;
  /** The configured OpenSearch cluster, if any. */
  readonly cluster: OpenSearchCluster | undefined;
  private readonly choice: BackendChoice;

  private constructor(dataDir: string, log: Logger, encoders: EncoderRegistry | undefined, options: RegistryOptions) {
    this.dataDir = dataDir;
    this.log = log;
    this.encoders = encoders ?? new EncoderRegistry();
    this.ownEncoders = !encoders;
    this.cluster = options.opensearch ? new OpenSearchCluster(options.opensearch) : undefined;
    this.choice = {
      default: options.defaultBackend ?? 'embedded',
      ...(options.opensearch ? { opensearch: { url: options.opensearch.url, prefix: options.opensearch.prefix } } : {}),
    };
  }

  private get root(): string {
    return join(this.dataDir, 'collections');
  }

  static async open(dataDir: string, log: Logger, encoders?: EncoderRegistry, options: RegistryOptions = {}): Promise<CollectionRegistry> {
    const r = new CollectionRegistry(dataDir, log, encoders, options);
    r.unlock = lockDataDir(dataDir);
    mkdirSync(r.root, { recursive: true });
    for (const e of readdirSync(r.root, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const dir = join(r.root, e.name);
      const c = await Collection.open(dir, log, r.encoders);
      if (c) r.collections.set(c.name, c);
      else {
        // A create that died before its config row committed: nothing was acknowledged.
        log.warn({ dir }, 'removing an incomplete collection directory');
        rmSync(dir, { recursive: true, force: true });
      }
    }
    if (r.cluster) {
      // An unreachable cluster must not keep the embedded collections from serving: its collections
      // are found later, by name, once it answers.
      try {
        await r.syncRemote();
      } catch (e) {
        log.error({ cluster: r.cluster.url, err: (e as Error).message }, 'OpenSearch cluster not reachable at start');
      }
    }
    return r;
  }

  /** Opens the cluster's collections this process does not hold yet; forgets those deleted elsewhere. */
  private async syncRemote(): Promise<void> {
    const cluster = this.cluster;
    if (!cluster) return;
    const remote = await cluster.list();
    for (const [name, c] of this.collections)
      if (c.config.backend?.kind === 'opensearch' && !remote.has(name) && !this.busy.has(name)) {
        this.collections.delete(name);
        await c.close();
      }
    for (const [name, raw] of remote) {
      if (this.collections.has(name) || this.busy.has(name)) continue;
      try {
        this.collections.set(name, await Collection.openRemote(cluster, raw, this.log, this.encoders));
      } catch (e) {
        this.log.warn({ collection: name, err: (e as Error).message }, 'could not open an OpenSearch-backed collection');
      }
    }
  }

  list(): Collection[] {
    return [...this.collections.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Every collection, the cluster's included as they are there now (made or deleted by other processes). */
  async listAll(): Promise<Collection[]> {
    await this.syncRemote();
    return this.list();
  }

  /**
   * The collection `name`: held here, or (with a cluster) found there by name, so a collection made
   * through another service process is served at once.
   */
  async lookup(name: string, field = 'name'): Promise<Collection> {
    validateCollectionName(name, field);
    const held = this.collections.get(name);
    if (held || !this.cluster || this.busy.has(name)) return this.get(name, field);
    const raw = await this.cluster.get(name);
    if (raw === undefined) fail('COLLECTION_NOT_FOUND', `collection '${name}' does not exist`, field);
    const again = this.collections.get(name); // opened by a concurrent lookup meanwhile
    if (again) return again;
    const c = await Collection.openRemote(this.cluster, raw, this.log, this.encoders);
    const raced = this.collections.get(name);
    if (raced) {
      await c.close();
      return raced;
    }
    this.collections.set(name, c);
    return c;
  }

  get(name: string, field = 'name'): Collection {
    validateCollectionName(name, field);
    const c = this.collections.get(name);
    if (!c) fail('COLLECTION_NOT_FOUND', `collection '${name}' does not exist`, field);
    return c;
  }

  has(name: string): boolean {
    return this.collections.has(name);
  }

  async create(spec: CollectionSpec): Promise<Collection> {
    const config = buildConfig(spec, this.choice);
    if (this.collections.has(config.name)) fail('COLLECTION_EXISTS', `collection '${config.name}' already exists`, 'name');
    if (this.busy.has(config.name)) fail('COLLECTION_BUSY', `collection '${config.name}' is being created or deleted`, 'name');
    this.busy.add(config.name);
    try {
      const dir = join(this.root, config.name);
      if (config.backend?.kind !== 'opensearch' && (await this.heldByCluster(config.name)))
        fail('COLLECTION_EXISTS', `collection '${config.name}' already exists (in the OpenSearch cluster)`, 'name');
      if (config.backend?.kind === 'opensearch' && existsSync(dir))
        fail('COLLECTION_EXISTS', `collection '${config.name}' already exists (in this server's data directory)`, 'name');
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
      const c =
        config.backend?.kind === 'opensearch'
          ? await Collection.create('', config, this.log, this.encoders, this.cluster)
          : await Collection.create(dir, config, this.log, this.encoders);
      this.collections.set(config.name, c);
      return c;
    } finally {
      this.busy.delete(config.name);
    }
  }

  /**
   * Whether the cluster holds a collection of this name. An unreachable cluster must not stop an
   * embedded create: it answers false then (logged), and a clash found later resolves to the
   * embedded collection, which this process holds.
   */
  private async heldByCluster(name: string): Promise<boolean> {
    if (!this.cluster) return false;
    try {
      return (await this.cluster.get(name)) !== undefined;
    } catch (e) {
      if (isServiceError(e) && e.code === 'BACKEND_UNAVAILABLE') {
        this.log.warn(
          { collection: name, err: e.message },
          'creating an embedded collection without checking the OpenSearch cluster for its name',
        );
        return false;
      }
      throw e;
    }
  }

  async delete(name: string): Promise<void> {
    const c = await this.lookup(name);
    this.collections.delete(name);
    this.busy.add(name);
    try {
      // The cluster's record goes first: no process finds the collection once its index starts going.
      if (c.config.backend?.kind === 'opensearch') await this.cluster?.remove(name);
      await c.destroy();
    } finally {
      this.busy.delete(name);
    }
  }

  async close(): Promise<void> {
    const all = [...this.collections.values()];
    this.collections.clear();
    await Promise.all(all.map((c) => c.close()));
    if (this.ownEncoders) await this.encoders.close();
    this.unlock();
  }
}
