// The retrieval kinds this service has, in the order a collection opens them (BM25 first: every
// collection has it, and its storage gives the collection's segment and tombstone counts). A new
// kind is one file in this folder and one line here.
import { bm25 } from './bm25.js';
import { dense } from './dense.js';
import { inferenceFree } from './inference-free.js';
import type { RetrieverKind } from './retriever.js';
import { splade } from './splade.js';

export const RETRIEVER_KINDS: readonly RetrieverKind<unknown>[] = [bm25, splade, dense, inferenceFree];

/** Kind names, as request and config keys. */
export const RETRIEVERS: readonly string[] = RETRIEVER_KINDS.map((k) => k.name);

export function kindOf(name: string): RetrieverKind<unknown> | undefined {
  return RETRIEVER_KINDS.find((k) => k.name === name);
}
