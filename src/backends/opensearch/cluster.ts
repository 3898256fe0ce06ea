// The OpenSearch cluster a server is configured with, and what the service keeps there besides the
// collections' own indexes: one small index `<prefix>-collections` holding each OpenSearch-backed
// collection's configuration and its document-number counter. Nothing about such a collection lives
// only in one service process's data directory, so several processes serve the same collections.
import { fail } from '../../errors.js';
import { OpenSearchClient, type OpenSearchConnection } from './client.js';

export interface OpenSearchSettings extends OpenSearchConnection {
  /** Prefix of every index the service makes (`<prefix>-collections`, `<prefix>-<collection>`). */
  prefix: string;
}

/** A collection as the cluster keeps it. */
export interface RemoteCollection {
  /** The collection config as JSON text (collections/collection-config.ts). */
  config: string;
  next_docno: number;
}

/** Document numbers are uint32 in the engines and fusion. */
const MAX_DOCNO = 0xffffffff;

export class OpenSearchCluster {
  readonly client: OpenSearchClient;
  readonly metaIndex: string;
  private metaReady: Promise<void> | null = null;

  constructor(readonly settings: OpenSearchSettings) {
    this.client = new OpenSearchClient(settings);
    this.metaIndex = `${settings.prefix}-collections`;
  }

  get url(): string {
    return this.client.url;
  }

  /** The index a collection's documents live in unless its config names one. */
  defaultIndex(collection: string): string {
    return `${this.settings.prefix}-${collection}`;
  }

  /** Creates the configuration index once (any process may race to; the loser finds it there). */
  ensureMeta(): Promise<void> {
    this.metaReady ??= (async () => {
      const r = await this.client.request(
        'PUT',
        `/${this.metaIndex}`,
        {
          settings: { index: { number_of_shards: 1, auto_expand_replicas: '0-2', 'translog.durability': 'request' } },
          mappings: {
            dynamic: 'strict',
            properties: { config: { type: 'text', index: false }, next_docno: { type: 'long' } },
          },
        },
        { accept: [400] },
      );
      if (r.status === 400 && !JSON.stringify(r.body).includes('resource_already_exists_exception'))
        fail('BACKEND_REJECTED', `OpenSearch refused to create ${this.metaIndex}: ${JSON.stringify(r.body).slice(0, 300)}`);
      await this.client.request('GET', `/_cluster/health/${this.metaIndex}?wait_for_status=yellow&timeout=30s`);
    })().catch((e) => {
      this.metaReady = null; // try again on the next call
      throw e;
    });
    return this.metaReady;
  }

  /** Every collection kept in the cluster: name -> config text. */
  async list(): Promise<Map<string, string>> {
    await this.ensureMeta();
    const out = new Map<string, string>();
    let after: unknown[] | undefined;
    for (;;) {
      const r = await this.client.request<{ hits: { hits: { _id: string; _source: RemoteCollection; sort: unknown[] }[] } }>(
        'POST',
        `/${this.metaIndex}/_search`,
        { size: 1000, sort: [{ _id: 'asc' }], _source: ['config'], ...(after ? { search_after: after } : {}) },
      );
      const hits = r.body.hits.hits;
      for (const h of hits) out.set(h._id, h._source.config);
      if (hits.length < 1000) return out;
      after = hits[hits.length - 1].sort;
    }
  }

  /** One collection's config text, or undefined. */
  async get(name: string): Promise<string | undefined> {
    await this.ensureMeta();
    const r = await this.client.request<{ found: boolean; _source?: RemoteCollection }>(
      'GET',
      `/${this.metaIndex}/_doc/${encodeURIComponent(name)}?_source_includes=config`,
      undefined,
      { accept: [404] },
    );
    return r.body.found ? r.body._source?.config : undefined;
  }

  /** Records a collection; COLLECTION_EXISTS when one of that name is there (made by any process). */
  async create(name: string, config: string): Promise<void> {
    await this.ensureMeta();
    const r = await this.client.request(
      'PUT',
      `/${this.metaIndex}/_create/${encodeURIComponent(name)}?refresh=true`,
      { config, next_docno: 0 },
      { accept: [409] },
    );
    if (r.status === 409) fail('COLLECTION_EXISTS', `collection '${name}' already exists (in the OpenSearch cluster)`, 'name');
  }

  async remove(name: string): Promise<void> {
    await this.ensureMeta();
    await this.client.request('DELETE', `/${this.metaIndex}/_doc/${encodeURIComponent(name)}?refresh=true`, undefined, { accept: [404] });
  }

  /**
   * Reserves `n` document numbers for a collection and returns the first. The counter is updated
   * on its primary shard by a script (updates of one document are serialized there), so two
   * processes never get the same numbers; numbers of a write that then failed are simply unused.
   */
  async allocate(name: string, n: number): Promise<number> {
    const r = await this.client.request<{ get?: { _source?: { next_docno: number } } }>(
      'POST',
      `/${this.metaIndex}/_update/${encodeURIComponent(name)}?retry_on_conflict=20&_source=next_docno`,
      { script: { source: 'ctx._source.next_docno += params.n', lang: 'painless', params: { n } } },
      { accept: [404] },
    );
    const next = r.body.get?._source?.next_docno;
    if (r.status === 404 || next === undefined)
      fail('COLLECTION_NOT_FOUND', `collection '${name}' was deleted (from the OpenSearch cluster)`);
    if (next > MAX_DOCNO + 1)
      fail('UNSUPPORTED_BY_BACKEND', `collection '${name}' has used all 2^32 document numbers; re-create it to compact them`);
    return next - n;
  }
}
