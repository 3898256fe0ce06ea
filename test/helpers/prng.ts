// The tests draw their fixtures from the same PRNG the significance tests use (src/eval/prng.ts).
export { mulberry32 } from '../../src/eval/prng.js';
