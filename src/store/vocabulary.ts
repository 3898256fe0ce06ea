// The per-collection term vocabulary held in memory: term <-> integer id (the index's term ids) and
// document frequency. It mirrors the `vocab` table and changes only after a store transaction
// commits (see DocumentStore.writeBatch), so a rolled-back batch leaves no trace here.
export class Vocabulary {
  private readonly ids = new Map<string, number>();
  private terms: string[] = [];
  private dfs: number[] = [];

  get size(): number {
    return this.terms.length;
  }

  id(term: string): number | undefined {
    return this.ids.get(term);
  }

  term(id: number): string | undefined {
    return this.terms[id];
  }

  df(id: number): number {
    return this.dfs[id] ?? 0;
  }

  /** Loads one row; ids are dense from 0 so the index's term space stays as small as the vocabulary. */
  set(id: number, term: string, df: number): void {
    this.ids.set(term, id);
    this.terms[id] = term;
    this.dfs[id] = df;
  }

  addDf(id: number, delta: number): void {
    this.dfs[id] = (this.dfs[id] ?? 0) + delta;
  }
}
