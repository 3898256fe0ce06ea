// The OpenSearch cluster a server is configured with, and what the service keeps there besides the
// collections' own indexes: one small index `<prefix>.collections` holding each OpenSearch-backed
// collection's configuration and its document-number counter. Nothing about such a collection lives
// only in one service process's data directory, so several processes serve the same collections.
import { fail } from '../../errors.js';
import { OpenSearchClient, type OpenSearchConnection } from './client.js';

export interface OpenSearchSettings extends OpenSearchConnection {
  /** Prefix of every index the service makes (`<prefix>.collections`, `<prefix>.jobs`, `<prefix>-<collection>`). */
  prefix: string;
}

/** A collection as the cluster keeps it. */
export interface RemoteCollection {
  /** The collection config as JSON text (collections/collection-config.ts). */
  config: string;
  next_docno: number;
}

/** The configuration index: a collection's config, its document-number counter, its default fusion. */
const META_PROPERTIES = {
  config: { type: 'text', index: false },
  next_docno: { type: 'long' },
  default_fusion: { type: 'text', index: false },
};

/** The job-report index: one document per job. */
const JOBS_PROPERTIES = {
  view: { type: 'text', index: false },
  collection: { type: 'keyword' },
  created_at: { type: 'date' },
};

/** Document numbers are uint32 in the engines and fusion. */
const MAX_DOCNO = 0xffffffff;

export class OpenSearchCluster {
  readonly client: OpenSearchClient;
  readonly metaIndex: string;
  /** Ingest-job reports of OpenSearch-backed collections, readable from every service process. */
  readonly jobsIndex: string;
  /** Service indexes made (or being made) by this process. */
  private readonly ready = new Map<string, Promise<void>>();

  constructor(readonly settings: OpenSearchSettings) {
    this.client = new OpenSearchClient(settings);
    // A dot, which collection names cannot hold, so no collection's index (`<prefix>-<name>`) is one of these.
    this.metaIndex = `${settings.prefix}.collections`;
    this.jobsIndex = `${settings.prefix}.jobs`;
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
    return this.once(this.metaIndex, META_PROPERTIES);
  }

  private ensureJobs(): Promise<void> {
    return this.once(this.jobsIndex, JOBS_PROPERTIES);
  }

  /** makeIndex() once per index and process; a failure is forgotten, so the next call tries again. */
  private once(index: string, properties: object): Promise<void> {
    let p = this.ready.get(index);
    if (!p) {
      p = this.makeIndex(index, properties).catch((e) => {
        this.ready.delete(index);
        throw e;
      });
      this.ready.set(index, p);
    }
    return p;
  }

  /**
   * Creates a small service index once (a process that loses the race finds it there) and puts its
   * mapping again, so an index made by an earlier release gains the fields added since (adding a
   * field is allowed and idempotent).
   */
  private async makeIndex(index: string, properties: object): Promise<void> {
    const r = await this.client.request(
      'PUT',
      `/${index}`,
      {
        settings: { index: { number_of_shards: 1, auto_expand_replicas: '0-2', 'translog.durability': 'request' } },
        mappings: { dynamic: 'strict', properties },
      },
      { accept: [400] },
    );
    if (r.status === 400 && !JSON.stringify(r.body).includes('resource_already_exists_exception'))
      fail('BACKEND_REJECTED', `OpenSearch refused to create ${index}: ${JSON.stringify(r.body).slice(0, 300)}`);
    if (r.status === 400) await this.client.request('PUT', `/${index}/_mapping`, { properties });
    await this.client.request('GET', `/_cluster/health/${index}?wait_for_status=yellow&timeout=30s`);
  }

  /** Records a job's report (its id is a UUID: one document per job, overwritten as it progresses). */
  async saveJob(view: { id: string; collection: string; created_at: string }): Promise<void> {
    await this.ensureJobs();
    await this.client.request('PUT', `/${this.jobsIndex}/_doc/${encodeURIComponent(view.id)}?refresh=true`, {
      view: JSON.stringify(view),
      collection: view.collection,
      created_at: view.created_at,
    });
  }

  /** A job's last saved report (JSON text), or undefined. */
  async job(id: string): Promise<string | undefined> {
    await this.ensureJobs();
    const r = await this.client.request<{ found: boolean; _source?: { view: string } }>(
      'GET',
      `/${this.jobsIndex}/_doc/${encodeURIComponent(id)}`,
      undefined,
      { accept: [404] },
    );
    return r.body.found ? r.body._source?.view : undefined;
  }

  /** The newest job reports (JSON text), newest first. */
  async recentJobs(limit: number): Promise<string[]> {
    await this.ensureJobs();
    const r = await this.client.request<{ hits: { hits: { _source: { view: string } }[] } }>('POST', `/${this.jobsIndex}/_search`, {
      size: limit,
      sort: [{ created_at: 'desc' }],
      _source: ['view'],
    });
    return r.body.hits.hits.map((h) => h._source.view);
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

  /** A collection's default fusion (JSON text), or undefined; COLLECTION_NOT_FOUND when the collection is gone. */
  async defaultFusion(name: string): Promise<string | undefined> {
    await this.ensureMeta();
    const r = await this.client.request<{ found: boolean; _source?: { default_fusion?: string | null } }>(
      'GET',
      `/${this.metaIndex}/_doc/${encodeURIComponent(name)}?_source_includes=default_fusion`,
      undefined,
      { accept: [404] },
    );
    if (!r.body.found) fail('COLLECTION_NOT_FOUND', `collection '${name}' does not exist`);
    return r.body._source?.default_fusion ?? undefined;
  }

  /** Sets (or, with null, removes) a collection's default fusion. */
  async setDefaultFusion(name: string, text: string | null): Promise<void> {
    await this.ensureMeta();
    const r = await this.client.request(
      'POST',
      `/${this.metaIndex}/_update/${encodeURIComponent(name)}?refresh=true&retry_on_conflict=5`,
      { doc: { default_fusion: text } },
      { accept: [404] },
    );
    if (r.status === 404) fail('COLLECTION_NOT_FOUND', `collection '${name}' does not exist`);
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
