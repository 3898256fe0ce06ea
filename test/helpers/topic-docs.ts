// 24 small documents over six topics, with a year in their metadata: the corpus of the dense and
// hybrid API tests.
export const TOPICS = [
  'cats and kittens',
  'dogs bark at cats',
  'solar power energy',
  'cancer genes in mice',
  'heart disease and blood pressure',
  'birds sing in trees',
];

export const DOCS = Array.from({ length: 24 }, (_, i) => ({
  _id: `d${i}`,
  title: TOPICS[i % TOPICS.length],
  text: `${TOPICS[(i * 5 + 1) % TOPICS.length]} note ${i}`,
  metadata: { year: 2000 + (i % 3) },
}));
