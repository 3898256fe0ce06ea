// Shapes shared by the evaluation harness. Plain Maps keep insertion order, which makes reports and
// run files deterministic without extra sorting of query ids.

/** Judgments: query id → document id → integer relevance (≤ 0 means not relevant). */
export type Qrels = Map<string, Map<string, number>>;

/** A run: query id → document id → score (higher is better). One score per document, as in trec_eval. */
export type Run = Map<string, Map<string, number>>;

/** Per-query metric values: query id → measure name (trec_eval style, e.g. `ndcg_cut_10`) → value. */
export type PerQuery = Map<string, Record<string, number>>;

/** A query to run: id and text. */
export interface EvalQuery {
  id: string;
  text: string;
}

/** A document of a BEIR corpus. */
export interface BeirDocument {
  _id: string;
  title: string;
  text: string;
  /** Any other fields of the JSON line, kept as they were. */
  metadata?: Record<string, unknown>;
}
