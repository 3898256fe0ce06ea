// A piscina worker: one encoder per worker thread, loaded on the first task from the task's config —
// a SpladeEncoder, or a DenseEncoder for a dense pool's tasks (a pool's workers serve one model).
import { SpladeEncoder, type EncoderOptions } from './sparse/splade-encoder.js';
import { GpuEncoder } from './gpu/gpu-encoder.js';
import { DenseEncoder, type DenseEncoderOptions, type DenseRole } from './dense/dense-encoder.js';
import type { SparseVectors } from './sparse/fused-head.js';
import { toTransferable } from '../errors.js';
import type { PassageSettings, PassageSpan } from '../text/passages.js';
import { type LengthReport, type PassageEncoding, type PassagePlan, planPassages, poolDense, poolSparse } from './long-documents.js';
import type { SpladeTokenizer } from './tokenizer.js';

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
  | { kind: 'dense'; role: DenseRole; texts: string[] }
  /** Documents, each truncated (counted) or cut into passages, pooled or not by `passages.score` (long-documents.ts). */
  | { kind: 'encode-long'; texts: string[]; passages: PassageSettings | null }
  | { kind: 'dense-long'; texts: string[]; passages: PassageSettings | null }
  /** The passages one document is cut into by 'encode-long' / 'dense-long', with offsets (for explain). */
  | { kind: 'cut'; text: string; passages: PassageSettings }
  | { kind: 'dense-cut'; text: string; passages: PassageSettings };

/**
 * What a long-document task returns: one vector per document and what their length made it do; with
 * `passages.score: 'max'`, one vector per passage and `passages` saying whose and where.
 */
export interface LongResult<V> {
  vectors: V;
  report: LengthReport;
  passages?: PassageEncoding;
}

/** A plan's encoding as a task returns it: pooled into one vector per document, or per passage with owners and offsets. */
function longResult<V>(plan: PassagePlan, v: V, settings: PassageSettings | null, pool: () => V): LongResult<V> {
  if (settings?.score !== 'max') return { vectors: pool(), report: plan.report };
  return { vectors: v, report: plan.report, passages: { owner: Uint32Array.from(plan.owner), spans: Uint32Array.from(plan.spans) } };
}

let encoder: Promise<SpladeEncoder | GpuEncoder> | null = null;

/** The sparse encoder of a worker: on the GPU when the pool's options say `device: 'cuda'`. */
function loadSparse(c: WorkerConfig): Promise<SpladeEncoder | GpuEncoder> {
  if (c.options.device !== 'cuda') return SpladeEncoder.load(c.dir, c.options, c.field);
  const { maxLength, batchSize, precision, threshold, topk } = c.options;
  return GpuEncoder.load(c.dir, { maxLength, batchSize, precision, threshold, topk }, c.field);
}
let dense: Promise<DenseEncoder> | null = null;

type Result = SparseVectors | Float32Array | LongResult<SparseVectors> | LongResult<Float32Array> | PassageSpan[] | null;

/** Tokens of a text without the two special tokens. */
const counter = (tok: SpladeTokenizer) => (s: string) => tok.ids(s, Number.MAX_SAFE_INTEGER).length - 2;

/** The passages planPassages makes of one text (the same inputs), with their offsets in it. */
function cut(text: string, count: (s: string) => number, window: number, settings: PassageSettings): PassageSpan[] {
  const plan = planPassages([text], count, window, settings);
  return plan.inputs.map((t, i) => ({ text: t, start: plan.spans[2 * i], end: plan.spans[2 * i + 1] }));
}

export default async function run(task: WorkerTask & { config: WorkerConfig }): Promise<Result> {
  try {
    return await runTask(task);
  } catch (e) {
    throw toTransferable(e);
  }
}

async function runTask(task: WorkerTask & { config: WorkerConfig }): Promise<Result> {
  if (task.kind === 'dense-ready' || task.kind === 'dense' || task.kind === 'dense-long' || task.kind === 'dense-cut') {
    dense ??= DenseEncoder.load(task.config.dir, task.config.dense ?? {}, task.config.field);
    const enc = await dense;
    if (task.kind === 'dense-ready') return null;
    if (task.kind === 'dense') return enc.encode(task.texts, task.role);
    // The window left for the text: the model's length less the special tokens and the document prompt.
    const count = counter(enc.tokenizer);
    const prompt = enc.prompts.document ? count(enc.prompts.document) : 0;
    if (task.kind === 'dense-cut') return cut(task.text, count, enc.maxLength - 2 - prompt, task.passages);
    const plan = planPassages(task.texts, count, enc.maxLength - 2 - prompt, task.passages);
    const v = await enc.encode(plan.inputs, 'document');
    return longResult(plan, v, task.passages, () => poolDense(v, enc.dim, plan.owner, task.texts.length, enc.normalize));
  }
  encoder ??= loadSparse(task.config);
  const enc = await encoder;
  if (task.kind === 'ready') return null;
  if (task.kind === 'cut') return cut(task.text, counter(enc.tokenizer), enc.maxLength - 2, task.passages);
  if (task.kind === 'encode-long') {
    const plan = planPassages(task.texts, counter(enc.tokenizer), enc.maxLength - 2, task.passages);
    const v = await enc.encode(plan.inputs);
    return longResult(plan, v, task.passages, () => poolSparse(v, plan.owner, task.texts.length));
  }
  return task.kind === 'encode' ? enc.encode(task.texts) : enc.encodeIds(task.lists);
}
