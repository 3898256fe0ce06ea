// Lucene's EnglishAnalyzer.ENGLISH_STOP_WORDS_SET, the list Anserini's default English analyzer
// uses; keeping the same list is what lets BM25 land on Anserini's published numbers.
export const ENGLISH_STOPWORDS: ReadonlySet<string> = new Set([
  'a', 'an', 'and', 'are', 'as', 'at', 'be', 'but', 'by', 'for', 'if', 'in', 'into', 'is', 'it', 'no', 'not',
  'of', 'on', 'or', 'such', 'that', 'the', 'their', 'then', 'there', 'these', 'they', 'this', 'to', 'was',
  'will', 'with',
]);
