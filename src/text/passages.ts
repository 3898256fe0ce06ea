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
  /**
   * How a document's passages score it: `max` keeps one vector per passage and a document scores as
   * its best passage (MaxP); `pooled` keeps one vector per document, pooled over its passages.
   * Absent (configs stored before `max` existed): `pooled`.
   */
  score?: PassageScoring;
}

/** See PassageSettings.score. */
export type PassageScoring = 'max' | 'pooled';

/** A passage and where it lies in the text it was cut from. */
export interface PassageSpan {
  /** What the model reads: the passage's sentences (or words) joined by single spaces. */
  text: string;
  /** UTF-16 offset of its first character in the source text. */
  start: number;
  /** UTF-16 offset just past its last character in the source text. */
  end: number;
}

interface Piece {
  text: string;
  tokens: number;
  start: number;
  end: number;
}

const SENTENCES = new Intl.Segmenter('en', { granularity: 'sentence' });

/** Sentence pieces of `text` with their token counts and offsets; a sentence over `budget` is cut into runs of words. */
function pieces(text: string, count: (s: string) => number, budget: number): Piece[] {
  const out: Piece[] = [];
  for (const { segment, index } of SENTENCES.segment(text)) {
    const s = segment.trim();
    if (s === '') continue;
    const start = index + segment.length - segment.trimStart().length;
    const n = count(s);
    if (n <= budget) {
      out.push({ text: s, tokens: n, start, end: start + s.length });
      continue;
    }
    // Too long for one window: whole words, greedily, each run within the budget.
    let run: string[] = [];
    let runTokens = 0;
    let runStart = start;
    let runEnd = start;
    for (const m of s.matchAll(/\S+/g)) {
      const w = m[0];
      const wn = count(w);
      if (run.length > 0 && runTokens + wn > budget) {
        out.push({ text: run.join(' '), tokens: runTokens, start: runStart, end: runEnd });
        run = [];
        runTokens = 0;
      }
      if (run.length === 0) runStart = start + m.index;
      run.push(w);
      runTokens += wn;
      runEnd = start + m.index + w.length;
    }
    if (run.length > 0) out.push({ text: run.join(' '), tokens: runTokens, start: runStart, end: runEnd });
  }
  return out;
}

/**
 * The passages of `text` with their offsets: sentences packed greedily into windows of at most
 * `budget` tokens (by `count`, which must not count special tokens), each window after the first
 * starting with the previous window's last sentences that fit in `overlap` tokens (and always moving
 * forward). A text that fits in one window is one passage, itself (0 to its length).
 */
export function passageSpans(text: string, count: (s: string) => number, budget: number, overlap: number): PassageSpan[] {
  if (count(text) <= budget) return [{ text, start: 0, end: text.length }];
  const ps = pieces(text, count, budget);
  const out: PassageSpan[] = [];
  let i = 0;
  while (i < ps.length) {
    let j = i;
    let tokens = 0;
    while (j < ps.length && (j === i || tokens + ps[j].tokens <= budget)) tokens += ps[j++].tokens;
    out.push({
      text: ps
        .slice(i, j)
        .map((p) => p.text)
        .join(' '),
      start: ps[i].start,
      end: ps[j - 1].end,
    });
    if (j >= ps.length) break;
    let k = j;
    let back = 0;
    while (k - 1 > i && back + ps[k - 1].tokens <= overlap) back += ps[--k].tokens;
    i = k;
  }
  return out;
}

/** The passages of `text` (see `passageSpans`), their texts only: what the encoders read. */
export function passagesOf(text: string, count: (s: string) => number, budget: number, overlap: number): string[] {
  return passageSpans(text, count, budget, overlap).map((p) => p.text);
}
