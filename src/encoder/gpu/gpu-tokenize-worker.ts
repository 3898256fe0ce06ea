// A tokenizer worker of the GPU encoder (gpu-encoder.ts): one SpladeTokenizer per thread, so a batch
// of texts is tokenized on several cores while the GPU runs the previous one.
import { SpladeTokenizer } from '../tokenizer.js';

const loaded = new Map<string, Promise<SpladeTokenizer>>();

export default async function run(task: { dir: string; maxLength: number; texts: string[] }): Promise<number[][]> {
  let tok = loaded.get(task.dir);
  if (!tok) {
    tok = SpladeTokenizer.load(task.dir);
    loaded.set(task.dir, tok);
  }
  const t = await tok;
  return task.texts.map((x) => t.ids(x, task.maxLength));
}
