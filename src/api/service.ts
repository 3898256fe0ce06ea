// What the routes share: configuration, the collection registry, jobs, metrics, and the shutdown
// signal that tells running ingest jobs to stop reading.
import type { Config } from '../config.js';
import type { CollectionRegistry } from '../collections/registry.js';
import type { JobRegistry } from '../collections/ingest-job.js';
import type { EncoderRegistry } from '../encoder/encoder-registry.js';
import type { Metrics } from './metrics.js';

export interface Service {
  config: Config;
  registry: CollectionRegistry;
  jobs: JobRegistry;
  metrics: Metrics;
  /** SPLADE encoder pools, one per model, opened on first use. */
  encoders: EncoderRegistry;
  /** Aborted when the server starts shutting down. */
  shutdown: AbortController;
}

/** Who may call a route: `public` (health, docs), `read` or `write` API keys. */
export type Access = 'public' | 'read' | 'write';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
}
