// A piscina worker: one SpladeEncoder per worker thread, loaded on the first task from workerData.
import { SpladeEncoder, type EncoderOptions } from './splade-encoder.js';
import type { SparseVectors } from './fused-head.js';

export interface WorkerConfig {
  dir: string;
  options: EncoderOptions;
  field: string;
}

export type WorkerTask = { kind: 'ready' } | { kind: 'encode'; texts: string[] } | { kind: 'ids'; lists: number[][] };

let encoder: Promise<SpladeEncoder> | null = null;

export default async function run(task: WorkerTask & { config: WorkerConfig }): Promise<SparseVectors | null> {
  encoder ??= SpladeEncoder.load(task.config.dir, task.config.options, task.config.field);
  const enc = await encoder;
  if (task.kind === 'ready') return null;
  return task.kind === 'encode' ? enc.encode(task.texts) : enc.encodeIds(task.lists);
}
