// The embedded parts of a Collection that the collection tests look inside: the store, the native
// indexes, and the dense retriever with the calls these tests make (a query text's vector, a checked
// client vector, a synchronous top-k of its native index under an optional filter bitset and strategy).
import type { DenseIndex, SparseIndex, TopK } from '../../index/index.js';
import type { EmbeddedBackend } from '../../src/backends/embedded/embedded-backend.js';
import type { Collection } from '../../src/collections/collection.js';
import type { DenseRetriever } from '../../src/retrievers/dense.js';
import type { DocumentStore } from '../../src/store/document-store.js';

export function storeOf(c: Collection): DocumentStore {
  return (c.backend as EmbeddedBackend).store;
}

/** The native index of retriever `name` (index/<name>). */
export function indexOf<I extends SparseIndex | DenseIndex = SparseIndex>(c: Collection, name = 'bm25'): I {
  return (c.backend as unknown as { sides: { name: string; index: I }[] }).sides.find((s) => s.name === name)!.index;
}

export function denseOf(c: Collection, name = 'dense') {
  const r = c.retriever(name) as DenseRetriever | undefined;
  if (!r) return undefined;
  return {
    dim: r.dim,
    index: indexOf<DenseIndex>(c, name),
    async encodeText(text: string): Promise<Float32Array> {
      const q = await r.encodeQuery({ query: text }, 'dense_vector');
      return (q as { vector: Float32Array }).vector;
    },
    encodeVector(v: unknown): Float32Array {
      return (r.encodeQuery({ dense_vector: v }, 'dense_vector') as { vector: Float32Array }).vector;
    },
    search(q: Float32Array, o: { k: number; filter?: Uint8Array; mode?: 'exact' | 'approx'; ef?: number }): TopK {
      const strategy = { ...(o.mode ? { mode: o.mode } : {}), ...(o.ef !== undefined ? { ef: o.ef } : {}) };
      // The retriever's own checks, then the native index on this thread, as the tests call it.
      r.checkStrategy(strategy, '');
      const mode = o.mode ?? (r.storage.approx ? 'approx' : 'exact');
      return indexOf<DenseIndex>(c, name).search(q, {
        k: o.k,
        mode,
        ...(o.filter ? { filter: o.filter } : {}),
        ...(o.ef !== undefined ? { ef: o.ef } : {}),
      });
    },
  };
}
