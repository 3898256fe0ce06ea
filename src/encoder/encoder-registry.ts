// The service's encoders: one pool per model folder and kind (sparse SparseEncoderPool, dense
// DenseEncoderPool), opened on first use and shared by every collection and request that names the
// same model, closed with the service.
import { DenseEncoderPool } from './dense/dense-pool.js';
import { SparseEncoderPool, type PoolOptions } from './sparse/sparse-pool.js';
import { resolveModelSource } from './model-source.js';

export class EncoderRegistry {
  private pools = new Map<string, Promise<SparseEncoderPool>>();
  private densePools = new Map<string, Promise<DenseEncoderPool>>();
  private closed = false;

  constructor(private readonly options: PoolOptions = {}) {}

  /**
   * The dense pool for a model source (workers, maxPending and threads as the sparse pools'); the
   * source names the model for the prompt table. A bad model rejects with INVALID_MODEL naming `field`.
   */
  dense(spec: string, field = 'model'): Promise<DenseEncoderPool> {
    const src = resolveModelSource(spec, field);
    let p = this.densePools.get(src.dir);
    if (!p) {
      const { workers, maxPending, threads } = this.options;
      p = DenseEncoderPool.open(src.dir, { workers, maxPending, threads, name: src.spec }, field);
      p.catch(() => this.densePools.delete(src.dir));
      this.densePools.set(src.dir, p);
    }
    return p;
  }

  /** The pool for a model source; a bad model rejects with INVALID_MODEL naming `field`. */
  sparse(spec: string, field = 'model'): Promise<SparseEncoderPool> {
    const src = resolveModelSource(spec, field);
    let p = this.pools.get(src.dir);
    if (!p) {
      p = SparseEncoderPool.open(src.dir, this.options, field);
      // A model that failed to load is retried on the next request (the folder may be fixed).
      p.catch(() => this.pools.delete(src.dir));
      this.pools.set(src.dir, p);
    }
    return p;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const pools: Promise<{ close(): Promise<void> }>[] = [...this.pools.values(), ...this.densePools.values()];
    this.pools.clear();
    this.densePools.clear();
    await Promise.all(
      pools.map((p) =>
        p.then(
          (x) => x.close(),
          () => undefined,
        ),
      ),
    );
  }
}
