// What a local model folder holds: the layouts it can run in (docs/encoder-model-format.md).
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fail } from '../../errors.js';

export type ModelLayout = 'full' | 'split';

export interface ModelDir {
  dir: string;
  config: { model_type?: string; vocab_size?: number; hidden_size?: number; dim?: number };
  /** An ONNX masked-LM with a `logits` output. */
  full: string | null;
  /** The ONNX trunk (to the MLM head's transformed hidden states) and the projection file. */
  split: { trunk: string; head: string } | null;
}

/** Full-layout names as Hugging Face exporters (optimum) write them, ours first. */
const FULL_NAMES = ['model.onnx', 'onnx/model.onnx'];

export function inspectModelDir(dir: string, field = 'model'): ModelDir {
  const abs = resolve(dir);
  if (!existsSync(abs)) fail('INVALID_MODEL', `model folder ${abs} does not exist`, field);
  for (const f of ['config.json', 'tokenizer.json'])
    if (!existsSync(join(abs, f))) fail('INVALID_MODEL', `model folder ${abs} has no ${f}`, field);
  let config: ModelDir['config'];
  try {
    config = JSON.parse(readFileSync(join(abs, 'config.json'), 'utf8'));
  } catch (e) {
    fail('INVALID_MODEL', `${join(abs, 'config.json')} is not JSON (${(e as Error).message})`, field);
  }
  const full = FULL_NAMES.map((n) => join(abs, n)).find((p) => existsSync(p)) ?? null;
  const trunk = join(abs, 'trunk.onnx'),
    head = join(abs, 'head.bin');
  const split = existsSync(trunk) && existsSync(head) ? { trunk, head } : null;
  if (!full && !split)
    fail('INVALID_MODEL', `model folder ${abs} has neither model.onnx (full layout) nor trunk.onnx + head.bin (split layout)`, field);
  return { dir: abs, config, full, split };
}
