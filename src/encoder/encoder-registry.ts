// The service's encoders: one EncoderPool per model folder, opened on first use and shared by every
// collection and request that names the same model, closed with the service.
import { EncoderPool, type PoolOptions } from './encoder-pool.js';
import { resolveModelSource } from './model-source.js';

export class EncoderRegistry {
  private pools = new Map<string, Promise<EncoderPool>>();
  private closed = false;

  constructor(private readonly options: PoolOptions = {}) {}

  /** The pool for a model source; a bad model rejects with INVALID_MODEL naming `field`. */
  get(spec: string, field = 'model'): Promise<EncoderPool> {
    const src = resolveModelSource(spec, field);
    let p = this.pools.get(src.dir);
    if (!p) {
      p = EncoderPool.open(src.dir, this.options, field);
      // A model that failed to load is retried on the next request (the folder may be fixed).
      p.catch(() => this.pools.delete(src.dir));
      this.pools.set(src.dir, p);
    }
    return p;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.then((x) => x.close(), () => undefined)));
  }
}
