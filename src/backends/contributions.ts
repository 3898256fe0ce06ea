// Explain of a dot-product score: per query term, query weight × the document's stored weight.
// Shared by the sparse retrievers and the embedded lexical storage (the engines store what they score).
import type { SparseQuery } from '../../index/index.js';

export interface Contribution {
  term: string;
  query_weight: number;
  document_weight: number;
  contribution: number;
}

/** The query terms the document holds, with what each gave its score, largest first (they sum to it). */
export function termContributions(query: SparseQuery, terms: readonly string[], doc: SparseQuery): Contribution[] {
  const dw = new Map<number, number>();
  for (let i = 0; i < doc.terms.length; i++) dw.set(doc.terms[i], doc.weights[i]);
  const out: Contribution[] = [];
  for (let i = 0; i < query.terms.length; i++) {
    const w = dw.get(query.terms[i]);
    if (w === undefined) continue;
    out.push({ term: terms[i], query_weight: query.weights[i], document_weight: w, contribution: query.weights[i] * w });
  }
  return out.sort((a, b) => b.contribution - a.contribution);
}
