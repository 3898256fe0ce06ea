// Training queries made from the corpus itself, with no labels (Contriever's and ICT's pairs): a
// document's title, a sentence of its body (the inverse cloze task), a span of its words. The source
// document is the query's positive. Each document draws from its own PRNG, seeded by the run's seed
// and the document's id, so a document's queries do not depend on which other documents are read
// (`--max-docs`) or in what order.
import { mulberry32 } from '../eval/prng.js';

/** Query kinds in the order `--queries-per-doc` takes them. */
export const QUERY_KINDS = ['title', 'ict', 'span'] as const;
export type QueryKind = (typeof QUERY_KINDS)[number];

/** Fewest words a query may have; shorter ones are skipped. */
export const MIN_QUERY_WORDS = 3;
/** Words of an inverse-cloze sentence: a sentence outside this range is never drawn. */
export const ICT_WORDS = { min: 5, max: 40 } as const;
/** Words of a span query, drawn uniformly in this range (clipped to the body's length). */
export const SPAN_WORDS = { min: 6, max: 16 } as const;

export interface TrainQuery {
  /** `<doc id>#<kind>`, then `#<kind>2`, `#<kind>3` for further draws of a kind. */
  id: string;
  text: string;
  kind: QueryKind;
  /** The document it was made from (its positive). */
  source: string;
}

const SENTENCES = new Intl.Segmenter('en', { granularity: 'sentence' });

function words(s: string): string[] {
  return s.split(/\s+/).filter((w) => w !== '');
}

/** FNV-1a of the document id, mixed with the seed: the document's own PRNG stream. */
export function docSeed(seed: number, id: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The body's sentences of ICT length (5 to 40 words), in order. */
export function ictSentences(body: string): string[] {
  const out: string[] = [];
  for (const { segment } of SENTENCES.segment(body)) {
    const w = words(segment);
    if (w.length >= ICT_WORDS.min && w.length <= ICT_WORDS.max) out.push(w.join(' '));
  }
  return out;
}

/**
 * Up to `perDoc` queries of one document, kinds taken in QUERY_KINDS order (title when there is one,
 * then an ICT sentence, then a span); past the three kinds, further ICT sentences and spans alternate.
 * A kind the document cannot give (no title, no sentence of ICT length, a body under 6 words) is
 * passed over; a query under MIN_QUERY_WORDS words, or one whose text the document already gave, is
 * skipped. Deterministic in (seed, document).
 */
export function documentQueries(doc: { id: string; title: string; body: string }, perDoc: number, seed: number): TrainQuery[] {
  const rand = mulberry32(docSeed(seed, doc.id));
  const pick = (n: number) => Math.floor(rand() * n);
  const sentences = ictSentences(doc.body);
  const bodyWords = words(doc.body);
  const usedSentences = new Set<number>();
  const draw = (kind: QueryKind): string | undefined => {
    if (kind === 'title') return words(doc.title).join(' ') || undefined;
    if (kind === 'ict') {
      const left = sentences.map((_, i) => i).filter((i) => !usedSentences.has(i));
      if (left.length === 0) return undefined;
      const i = left[pick(left.length)];
      usedSentences.add(i);
      return sentences[i];
    }
    if (bodyWords.length < SPAN_WORDS.min) return undefined;
    const len = Math.min(bodyWords.length, SPAN_WORDS.min + pick(SPAN_WORDS.max - SPAN_WORDS.min + 1));
    const at = pick(bodyWords.length - len + 1);
    return bodyWords.slice(at, at + len).join(' ');
  };
  const out: TrainQuery[] = [];
  const seen = new Set<string>();
  const counts: Record<QueryKind, number> = { title: 0, ict: 0, span: 0 };
  // The three kinds once each, then ICT and span alternating; each kind is tried a bounded number of
  // times so a short document ends the loop.
  const plan: QueryKind[] = [...QUERY_KINDS];
  for (let i = 0; plan.length < perDoc * 3 + 3; i++) plan.push(i % 2 === 0 ? 'ict' : 'span');
  for (const kind of plan) {
    if (out.length >= perDoc) break;
    if (kind === 'title' && counts.title > 0) continue;
    const text = draw(kind);
    if (text === undefined || words(text).length < MIN_QUERY_WORDS || seen.has(text)) continue;
    seen.add(text);
    counts[kind]++;
    out.push({ id: `${doc.id}#${kind}${counts[kind] > 1 ? counts[kind] : ''}`, text, kind, source: doc.id });
  }
  return out;
}
