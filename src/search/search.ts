// Search entry points: a request with `retrievers` is a hybrid search (search/hybrid.ts), any other
// runs one retriever (search/single.ts). Both treat every retrieval kind alike, through the
// Retriever interface (src/retrievers/retriever.ts).
import type { Collection } from '../collections/collection.js';
import { hybridSearchAsync } from './hybrid.js';
import type { SearchRequest, SearchResponse } from './request.js';
import { searchOne } from './single.js';

export type { Hit, SearchRequest, SearchResponse } from './request.js';

/** Scores on native threads, so a server keeps parsing and answering other requests meanwhile. */
export function searchAsync(c: Collection, req: SearchRequest): Promise<SearchResponse> {
  return req.retrievers !== undefined ? hybridSearchAsync(c, req) : searchOne(c, req);
}
