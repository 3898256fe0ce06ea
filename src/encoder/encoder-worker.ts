// A piscina worker: one encoder per worker thread, loaded on the first task from the task's config —
// a SpladeEncoder, or a DenseEncoder for a dense pool's tasks (a pool's workers serve one model).
import { SpladeEncoder, type EncoderOptions } from './sparse/splade-encoder.js';
import { GpuEncoder } from './gpu/gpu-encoder.js';
import { DenseEncoder, type DenseEncoderOptions, type DenseRole } from './dense/dense-encoder.js';
import type { SparseVectors } from './sparse/fused-head.js';
import { toTransferable } from '../errors.js';

export interface WorkerConfig {
  dir: string;
  options: EncoderOptions;
  field: string;
  /** Set for a dense pool (src/encoder/dense/dense-pool.ts). */
  dense?: DenseEncoderOptions;
}

export type WorkerTask =
  | { kind: 'ready' }
  | { kind: 'encode'; texts: string[] }
  | { kind: 'ids'; lists: number[][] }
  | { kind: 'dense-ready' }
  | { kind: 'dense'; role: DenseRole; texts: string[] };

let encoder: Promise<SpladeEncoder | GpuEncoder> | null = null;

/** The sparse encoder of a worker: on the GPU when the pool's options say `device: 'cuda'`. */
function loadSparse(c: WorkerConfig): Promise<SpladeEncoder | GpuEncoder> {
  if (c.options.device !== 'cuda') return SpladeEncoder.load(c.dir, c.options, c.field);
  const { maxLength, batchSize, precision, threshold, topk } = c.options;
  return GpuEncoder.load(c.dir, { maxLength, batchSize, precision, threshold, topk }, c.field);
}
let dense: Promise<DenseEncoder> | null = null;

export default async function run(task: WorkerTask & { config: WorkerConfig }): Promise<SparseVectors | Float32Array | null> {
  try {
    return await runTask(task);
  } catch (e) {
    throw toTransferable(e);
  }
}

async function runTask(task: WorkerTask & { config: WorkerConfig }): Promise<SparseVectors | Float32Array | null> {
  if (task.kind === 'dense-ready' || task.kind === 'dense') {
    dense ??= DenseEncoder.load(task.config.dir, task.config.dense ?? {}, task.config.field);
    const enc = await dense;
    return task.kind === 'dense' ? enc.encode(task.texts, task.role) : null;
  }
  encoder ??= loadSparse(task.config);
  const enc = await encoder;
  if (task.kind === 'ready') return null;
  return task.kind === 'encode' ? enc.encode(task.texts) : enc.encodeIds(task.lists);
}
