// Long documents in passages: a text cut into windows a model can read whole, at sentence boundaries,
// consecutive windows sharing whole sentences up to an overlap (as Elasticsearch's semantic_text and
// OpenSearch's text-chunking processor cut them). Sizes are in the model's own tokens, counted by the
// caller's tokenizer; a sentence longer than a window is cut at word boundaries (nothing is dropped).

/** Passage settings of a retriever: window size and overlap, in model tokens (special tokens excluded). */
export interface PassageSettings {
  /** Tokens per passage, at most the model's window (absent: the model's window). */
  tokens?: number;
  /** Tokens of whole sentences the next passage repeats from the end of the previous one. */
  overlap: number;
}

const SENTENCES = new Intl.Segmenter('en', { granularity: 'sentence' });

/** Sentence pieces of `text` with their token counts; a sentence over `budget` is cut into runs of words. */
function pieces(text: string, count: (s: string) => number, budget: number): { text: string; tokens: number }[] {
  const out: { text: string; tokens: number }[] = [];
  for (const { segment } of SENTENCES.segment(text)) {
    const s = segment.trim();
    if (s === '') continue;
    const n = count(s);
    if (n <= budget) {
      out.push({ text: s, tokens: n });
      continue;
    }
    // Too long for one window: whole words, greedily, each run within the budget.
    let run: string[] = [];
    let runTokens = 0;
    for (const w of s.split(/\s+/)) {
      const wn = count(w);
      if (run.length > 0 && runTokens + wn > budget) {
        out.push({ text: run.join(' '), tokens: runTokens });
        run = [];
        runTokens = 0;
      }
      run.push(w);
      runTokens += wn;
    }
    if (run.length > 0) out.push({ text: run.join(' '), tokens: runTokens });
  }
  return out;
}

/**
 * The passages of `text`: sentences packed greedily into windows of at most `budget` tokens (by
 * `count`, which must not count special tokens), each window after the first starting with the
 * previous window's last sentences that fit in `overlap` tokens (and always moving forward). A text
 * that fits in one window is one passage, itself.
 */
export function passagesOf(text: string, count: (s: string) => number, budget: number, overlap: number): string[] {
  if (count(text) <= budget) return [text];
  const ps = pieces(text, count, budget);
  const out: string[] = [];
  let i = 0;
  while (i < ps.length) {
    let j = i;
    let tokens = 0;
    while (j < ps.length && (j === i || tokens + ps[j].tokens <= budget)) tokens += ps[j++].tokens;
    out.push(
      ps
        .slice(i, j)
        .map((p) => p.text)
        .join(' '),
    );
    if (j >= ps.length) break;
    let k = j;
    let back = 0;
    while (k - 1 > i && back + ps[k - 1].tokens <= overlap) back += ps[--k].tokens;
    i = k;
  }
  return out;
}
