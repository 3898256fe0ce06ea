// idf.json: the query-side weights of the inference-free model, token string -> weight, computed as
// the service's inference-free retriever computes them in `idf: 'collection'` mode
// (retrievers/inference-free.ts encodeText): idf(df, N) of text/bm25.ts, where N is the retriever's
// live documents and df how many of them hold the token in the vector the base model gave them at
// ingest (what the embedded backend's LearnedSparseSide counts). A model that ships this file is
// served with `idf: 'model'` and weighs a query's tokens exactly as training did: what is trained is
// what is served.
//
// Left out, as the query side leaves them out: special tokens ([CLS], [SEP], [PAD], [MASK], [UNK] —
// the tokenizer's all_special_ids; encodeText drops them, and tokenVectorQuery in
// retrievers/splade.ts never weighs a special token by IDF either), and tokens no document holds
// (df = 0: encodeText drops those too). Every weight is > 0.
import type { Retriever } from '../retrievers/retriever.js';
import { idf } from '../text/bm25.js';

/** Token id -> how many of `docnos` hold it in `r`'s stored vectors. */
export async function documentFrequencies(
  r: Retriever,
  docnos: readonly number[],
): Promise<{ df: Map<number, number>; labels: Map<number, string> }> {
  if (!r.stored) throw new Error(`retriever '${r.name}' keeps no vectors`);
  const df = new Map<number, number>();
  const labels = new Map<number, string>();
  for (let at = 0; at < docnos.length; at += 1000) {
    const rows = await r.stored(docnos.slice(at, at + 1000));
    rows.forEach((v, i) => {
      if (!v) throw new Error(`document number ${docnos[at + i]} has no stored vector in '${r.name}'`);
      if (v.shape !== 'sparse') throw new Error(`retriever '${r.name}' keeps dense vectors, not sparse ones`);
      v.terms.forEach((t, j) => {
        df.set(t, (df.get(t) ?? 0) + 1);
        labels.set(t, v.labels[j]);
      });
    });
  }
  return { df, labels };
}

/**
 * The idf.json object over `n` live documents: tokens in id order, special tokens (`isSpecial`) and
 * tokens of df 0 left out.
 */
export function idfTable(
  df: ReadonlyMap<number, number>,
  labels: ReadonlyMap<number, string>,
  n: number,
  isSpecial: (id: number) => boolean,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const id of [...df.keys()].sort((a, b) => a - b)) {
    const d = df.get(id)!;
    if (d > 0 && !isSpecial(id)) out[labels.get(id)!] = idf(d, n);
  }
  return out;
}

/**
 * Checks a query's inference-free encoding by the service (`encoded`: its terms and float32 weights)
 * against the table: the same tokens, each weight the table's rounded to float32. Returns the first
 * difference, or undefined.
 */
export function idfMismatch(table: Readonly<Record<string, number>>, terms: readonly string[], weights: Float32Array): string | undefined {
  for (let i = 0; i < terms.length; i++) {
    const w = table[terms[i]];
    if (w === undefined) return `token ${JSON.stringify(terms[i])} is weighted ${weights[i]} by the service and absent from idf.json`;
    if (Math.fround(w) !== weights[i]) return `token ${JSON.stringify(terms[i])}: the service weighs it ${weights[i]}, idf.json ${w}`;
  }
  return undefined;
}
