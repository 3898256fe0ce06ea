// The committed tiny random-weight BERT (models/make-random-bert.py) and texts to encode with it.
import { fileURLToPath } from 'node:url';

export const TINY_MODEL = fileURLToPath(new URL('../../models/fixtures/tiny-bert', import.meta.url));

export const TEXTS = [
  'The cats were studying cancer genes in mice.',
  'Sparse retrieval learns a weight for every word.',
  'hello',
  'Blood pressure and heart disease risk increased with age in the patients of this clinical trial, which found significant effects.',
  '',
  'Dogs bark; birds sing! 42 people read 7 books.',
  'Ünïcödé text, URLs like http://example.com and CamelCaseWords are tokenized too.',
  'the the the the the',
];
