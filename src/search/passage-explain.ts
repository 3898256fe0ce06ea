// Explain's "which passage matched" for a retriever with the `passages` setting.
//   score 'max'     the storage keeps every passage and the hit's score is its best passage's: explain
//                   reads the document's passages back (as the engine scores them) and names that one.
//   score 'pooled'  the stored vector of a long document is pooled over passages (max per term for
//                   sparse, renormalized mean for dense), so the index cannot say which passage a hit
//                   owes its score to. Explain re-cuts the document's stored text with the same code and
//                   settings as ingest, encodes each passage alone, and scores each against the query
//                   as the retriever scores documents (inner product). That is a whole document's
//                   encoding per explained hit and retriever: explain is the slow, per-document path,
//                   and only it pays this.
import type { Collection } from '../collections/collection.js';
import type { EncodedQuery, PassageVectors, Retriever, StoredVector } from '../retrievers/retriever.js';

/** Which passage of a long document matched, for one retriever (absent for a document of one passage). */
export interface PassageExplain {
  /** 0-based index of the best-scoring passage. */
  index: number;
  /** UTF-16 offsets of that passage in the document's model text (its text fields joined by a space). */
  start: number;
  end: number;
  /** The query's score against that passage alone (score 'max': the hit's score; 'pooled': unpooled, unquantized). */
  score: number;
  /** Passages the document is cut into. */
  passages: number;
  /** Sparse, score 'pooled': per query term the document has, the passage whose weight the pooled (max) vector kept. */
  terms?: { term: string; passage: number }[];
}

/** The text the encoders read of a stored document: its text fields in the collection's order, joined by a space (collections/documents.ts). */
export async function modelText(c: Collection, docno: number): Promise<string | undefined> {
  const doc = (await c.backend.getMany(Uint32Array.of(docno))).get(docno);
  if (!doc) return undefined;
  const texts: string[] = [];
  for (const f of c.config.fields) {
    const v = doc.fields[f];
    if (typeof v === 'string') texts.push(v);
  }
  return texts.join(' ');
}

/** Term id -> weight of a sparse passage vector. */
function weightsOf(v: StoredVector): Map<number, number> {
  const w = new Map<number, number>();
  if (v.shape === 'sparse') v.terms.forEach((t, i) => w.set(t, v.weights[i]));
  return w;
}

/** The retriever's score of one passage: the inner product of the query and passage vectors. */
function score(q: EncodedQuery, v: StoredVector, w: Map<number, number>): number {
  if (q.shape === 'dense' && v.shape === 'dense') {
    let s = 0;
    for (let i = 0; i < v.vector.length; i++) s += q.vector[i] * v.vector[i];
    return s;
  }
  if (q.shape === 'sparse' && v.shape === 'sparse') {
    let s = 0;
    q.query.terms.forEach((t, i) => {
      s += q.query.weights[i] * (w.get(t) ?? 0);
    });
    return s;
  }
  throw new Error(`a ${q.shape} query cannot score a ${v.shape} passage`);
}

/** The best passage of `pv` for `q` (the first of equal scores); undefined when the document is one passage. */
export function bestPassage(q: EncodedQuery, pv: PassageVectors, pooled = true): PassageExplain | undefined {
  if (pv.spans.length < 2) return undefined;
  const maps = pv.vectors.map(weightsOf);
  const scores = pv.vectors.map((v, i) => score(q, v, maps[i]));
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i] > scores[best]) best = i;
  const out: PassageExplain = {
    index: best,
    start: pv.spans[best].start,
    end: pv.spans[best].end,
    score: scores[best],
    passages: pv.spans.length,
  };
  if (q.shape === 'sparse' && pooled) {
    // The pooled vector keeps each term's largest weight over the passages: that passage gave it.
    const terms: { term: string; passage: number }[] = [];
    q.query.terms.forEach((t, i) => {
      let at = -1;
      let max = 0;
      maps.forEach((m, p) => {
        const w = m.get(t) ?? 0;
        if (w > max) {
          max = w;
          at = p;
        }
      });
      if (at >= 0) terms.push({ term: q.terms[i], passage: at });
    });
    out.terms = terms;
  }
  return out;
}

/**
 * The `passage` of a hit's explain for `retriever`: its best passage when the retriever has the
 * `passages` setting and the document is more than one passage; undefined otherwise (no field).
 */
export async function explainPassage(
  c: Collection,
  retriever: Retriever,
  q: EncodedQuery,
  docno: number,
): Promise<PassageExplain | undefined> {
  // Passages kept one by one (MaxP): read them back, as scored. Pooled: cut and encode again.
  const stored = retriever.storedPassages ? await retriever.storedPassages(docno) : null;
  if (stored) return bestPassage(q, stored, false);
  if (!retriever.passageVectors) return undefined;
  const text = await modelText(c, docno);
  if (text === undefined) return undefined;
  const pv = await retriever.passageVectors(text);
  return pv ? bestPassage(q, pv) : undefined;
}
