// Passages: sentence-aligned windows of a token budget with overlap; nothing dropped, nothing over the budget.
import { describe, expect, it } from 'vitest';
import { passageSpans, passagesOf } from '../../src/text/passages.js';

/** One token per word: easy to reason about, the same contract as a model tokenizer's count. */
const words = (s: string) => s.split(/\s+/).filter(Boolean).length;

/** A sentence of n words (capitalized: a sentence break needs a capital after the period). */
const S = (n: number, tag: string) => `${Array.from({ length: n - 1 }, (_, i) => `${i === 0 ? 'W' : 'w'}${tag}${i}`).join(' ')} end${tag}.`;

describe('passagesOf', () => {
  it('leaves a text that fits in one window whole', () => {
    expect(passagesOf('One short text. Two sentences.', words, 10, 2)).toEqual(['One short text. Two sentences.']);
  });

  it('packs whole sentences into windows within the budget, every word kept, in order', () => {
    const text = [S(4, 'a'), S(4, 'b'), S(4, 'c'), S(4, 'd'), S(4, 'e')].join(' ');
    const ps = passagesOf(text, words, 8, 0);
    expect(ps).toEqual([`${S(4, 'a')} ${S(4, 'b')}`, `${S(4, 'c')} ${S(4, 'd')}`, S(4, 'e')]);
    for (const p of ps) expect(words(p)).toBeLessThanOrEqual(8);
    expect(ps.join(' ')).toBe(text);
  });

  it('repeats whole trailing sentences up to the overlap, and always moves forward', () => {
    const text = [S(3, 'a'), S(3, 'b'), S(3, 'c'), S(3, 'd')].join(' ');
    expect(passagesOf(text, words, 6, 3)).toEqual([`${S(3, 'a')} ${S(3, 'b')}`, `${S(3, 'b')} ${S(3, 'c')}`, `${S(3, 'c')} ${S(3, 'd')}`]);
    const all = passagesOf(text, words, 6, 6); // an overlap as large as the window cannot stall it
    expect(all[all.length - 1].endsWith('endd.')).toBe(true);
    expect(all.length).toBeLessThanOrEqual(4);
  });

  it('cuts a sentence longer than the window at word boundaries', () => {
    const long = S(25, 'x');
    const ps = passagesOf(long, words, 10, 0);
    expect(ps.map(words)).toEqual([10, 10, 5]);
    expect(ps.join(' ')).toBe(long);
  });
});

describe('passageSpans', () => {
  it('gives each passage its offsets in the source text, the same passages as passagesOf', () => {
    // Two spaces between sentences, a leading space, and a sentence too long for the window.
    const long = Array.from({ length: 14 }, (_, i) => `x${i}`).join(' ');
    const text = ` ${S(4, 'a')}  ${S(4, 'b')}  ${long}. ${S(3, 'c')}`;
    const spans = passageSpans(text, words, 6, 2);
    expect(spans.map((s) => s.text)).toEqual(passagesOf(text, words, 6, 2));
    expect(spans.length).toBeGreaterThan(3);
    for (const s of spans) {
      // The passage is its slice of the source with the whitespace between pieces made one space.
      expect(text.slice(s.start, s.end).replace(/\s+/g, ' ')).toBe(s.text);
      expect(text[s.start]).not.toMatch(/\s/);
    }
    expect(spans[0].start).toBe(1);
    expect(spans[spans.length - 1].end).toBe(text.length);
  });

  it('a text within the window is one span over all of it', () => {
    expect(passageSpans(' Short. Text ', words, 10, 2)).toEqual([{ text: ' Short. Text ', start: 0, end: 13 }]);
  });
});
