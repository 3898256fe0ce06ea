// Search entry points: a request with `retrievers` is a hybrid search (search/hybrid.ts), any other
// runs one retriever (search/single.ts). Both treat every retrieval kind alike, through the
// Retriever interface (src/retrievers/retriever.ts).
import type { Collection } from '../collections/collection.js';
import { fail } from '../errors.js';
import { hybridSearchAsync } from './hybrid.js';
import type { SearchRequest, SearchResponse } from './request.js';
import { searchOne, searchOneAsync } from './single.js';

export type { Hit, SearchRequest, SearchResponse } from './request.js';

/**
 * Scores on native threads, so a server keeps parsing and answering other requests meanwhile (the
 * HTTP route uses this).
 */
export function searchAsync(c: Collection, req: SearchRequest): Promise<SearchResponse> {
  return req.retrievers !== undefined ? hybridSearchAsync(c, req) : searchOneAsync(c, req);
}

/** Searches on the calling thread (CLI, benchmarks, evaluation): one retriever whose queries need no model. */
export function search(c: Collection, req: SearchRequest): SearchResponse {
  if (req.retrievers !== undefined)
    fail(
      'VALIDATION_FAILED',
      'a hybrid search (`retrievers`) runs its retrievers concurrently and is searched through the HTTP API (searchAsync)',
      'retrievers',
    );
  return searchOne(c, req);
}
