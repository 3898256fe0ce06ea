// All collections of a data directory: <dataDir>/collections/<name>/. Names are validated before
// they touch the filesystem, so a name can never leave that folder.
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fail } from '../errors.js';
import { buildConfig, validateCollectionName, type CollectionSpec } from './collection-config.js';
import { Collection, type Logger } from './collection.js';
import { lockDataDir } from './data-dir-lock.js';
import { EncoderRegistry } from '../encoder/encoder-registry.js';

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

  private constructor(dataDir: string, log: Logger, encoders?: EncoderRegistry) {
    this.dataDir = dataDir;
    this.log = log;
    this.encoders = encoders ?? new EncoderRegistry();
    this.ownEncoders = !encoders;
  }

  private get root(): string {
    return join(this.dataDir, 'collections');
  }

  static async open(dataDir: string, log: Logger, encoders?: EncoderRegistry): Promise<CollectionRegistry> {
    const r = new CollectionRegistry(dataDir, log, encoders);
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
    return r;
  }

  list(): Collection[] {
    return [...this.collections.values()].sort((a, b) => a.name.localeCompare(b.name));
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
    const config = buildConfig(spec);
    if (this.collections.has(config.name)) fail('COLLECTION_EXISTS', `collection '${config.name}' already exists`, 'name');
    if (this.busy.has(config.name)) fail('COLLECTION_BUSY', `collection '${config.name}' is being created or deleted`, 'name');
    this.busy.add(config.name);
    try {
      const dir = join(this.root, config.name);
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
      const c = await Collection.create(dir, config, this.log, this.encoders);
      this.collections.set(config.name, c);
      return c;
    } finally {
      this.busy.delete(config.name);
    }
  }

  async delete(name: string): Promise<void> {
    const c = this.get(name);
    this.collections.delete(name);
    this.busy.add(name);
    try {
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
