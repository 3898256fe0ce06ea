// The BM25 analyzer: NFKC normalization, lowercasing, Unicode word segmentation (UAX #29, the rules
// Lucene's StandardTokenizer follows, through Intl.Segmenter), English stopwords, Porter stemming.
// The same analyzer runs on documents and queries, so their terms meet in the vocabulary.
import { stemmer } from 'stemmer';
import { ENGLISH_STOPWORDS } from './stopwords.js';

export interface AnalyzerOptions {
  /** Drop Lucene's English stopwords. Default true. */
  stopwords?: boolean;
  /** Porter-stem each token. Default true. */
  stem?: boolean;
}

/** Tokens longer than this are dropped, as Lucene's StandardTokenizer does at 255 chars. */
const MAX_TOKEN_CHARS = 255;

const segmenter = new Intl.Segmenter('en', { granularity: 'word' });

export class Analyzer {
  private readonly stopwords: boolean;
  private readonly stem: boolean;
  // Stemming dominates analysis time and natural text repeats words, so memoize per token.
  private readonly stemCache = new Map<string, string>();

  constructor(options: AnalyzerOptions = {}) {
    this.stopwords = options.stopwords ?? true;
    this.stem = options.stem ?? true;
  }

  /** Terms of `text` in order (repeats kept: their count is the term frequency). */
  analyze(text: string): string[] {
    const out: string[] = [];
    const norm = text.normalize('NFKC').toLowerCase();
    for (const s of segmenter.segment(norm)) {
      if (!s.isWordLike) continue;
      const tok = s.segment;
      if (tok.length > MAX_TOKEN_CHARS) continue;
      if (this.stopwords && ENGLISH_STOPWORDS.has(tok)) continue;
      out.push(this.stem ? this.stemToken(tok) : tok);
    }
    return out;
  }

  private stemToken(tok: string): string {
    let s = this.stemCache.get(tok);
    if (s === undefined) {
      // Porter's rules are for English letters; numbers and other scripts pass through unchanged.
      s = /^[a-z]+$/.test(tok) ? stemmer(tok) : tok;
      if (this.stemCache.size > 200_000) this.stemCache.clear();
      this.stemCache.set(tok, s);
    }
    return s;
  }
}

/** Term -> count, in first-seen order. */
export function termCounts(terms: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of terms) m.set(t, (m.get(t) ?? 0) + 1);
  return m;
}
