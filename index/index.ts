// Public entry point of the engine library.
export { SparseIndex, type SparseIndexStats } from './sparse-index.js';
export {
  DenseIndex,
  DEFAULT_EF,
  type DenseApproxOptions,
  type DenseBatch,
  type DenseIndexOptions,
  type DenseIndexStats,
  type DenseSearchOptions,
} from './dense-index.js';
export { IndexError, type IndexErrorCode } from './errors.js';
export type { ApproxOptions, SearchOptions, SparseBatch, SparseIndexOptions, SparseQuery, TopK } from './types.js';
export { MAX_K } from './validate.js';
export { native } from './native.js';
