import { describe, expect, it } from 'vitest';
import { Analyzer, termCounts } from '../../src/text/analyzer.js';

describe('Analyzer', () => {
  const a = new Analyzer();

  it('lowercases, drops Lucene English stopwords and Porter-stems', () => {
    expect(a.analyze('The Running dogs are in THE garden')).toEqual(['run', 'dog', 'garden']);
    expect(a.analyze('generalizations caresses ponies')).toEqual(['gener', 'caress', 'poni']);
  });

  it('keeps UAX #29 words: decimals, thousands, acronyms, apostrophes', () => {
    expect(a.analyze('3.5 mg/kg at 1,000 doses')).toEqual(['3.5', 'mg', 'kg', '1,000', 'dose']);
    expect(a.analyze("U.S.A. don't COVID-19")).toEqual(['u.s.a', "don't", 'covid', '19']);
  });

  it('normalizes compatibility characters (NFKC) before matching', () => {
    expect(a.analyze('ﬁles Ｆｕｌｌ')).toEqual(['file', 'full']);
  });

  it('splits Han characters and keeps other scripts whole, unstemmed', () => {
    expect(a.analyze('東京 naïve Ωmega')).toEqual(['東', '京', 'naïve', 'ωmega']);
  });

  it('can keep stopwords and skip stemming', () => {
    expect(new Analyzer({ stopwords: false, stem: false }).analyze('The cats')).toEqual(['the', 'cats']);
  });

  it('counts repeated terms', () => {
    expect([...termCounts(a.analyze('cat cats dog cat')).entries()]).toEqual([
      ['cat', 3],
      ['dog', 1],
    ]);
  });
});
