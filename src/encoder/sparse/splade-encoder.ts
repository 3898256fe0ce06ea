// The SPLADE encoder: tokenize, run the ONNX model, pool. The split layout runs the trunk and the
// native fused head (no [tokens × vocabulary] logits); the full layout runs the whole masked-LM and
// pools its logits (the reference, and the only choice for models exported without a split).
import * as ort from 'onnxruntime-node';
import { fail } from '../../errors.js';
import type { HeadScreenStats } from '../../../index/native.js';
import { fusedHead, prepareScreen, screenStats, toBf16, type HeadWeights, type SparseVectors } from './fused-head.js';
import { readHeadFile } from './head-file.js';
import { onnxFeeds } from '../onnx-feeds.js';
import { inspectModelDir, type ModelDir, type ModelLayout } from './sparse-model-dir.js';
import { poolLogits, sparsify } from './splade-pooling.js';
import { SpladeTokenizer, type TokenBatch } from '../tokenizer.js';
import { checkCommonOptions, checkIntOption } from '../options.js';

export interface EncoderOptions {
  /** `split` (trunk + fused head) or `full` (masked-LM logits + pooling). Default: split when the folder has it. */
  layout?: ModelLayout;
  /** Tokens per text, special tokens included; longer texts are truncated. Default 256. */
  maxLength?: number;
  /** Texts per ONNX run; texts are grouped by token length first so padding stays small. Default 32. */
  batchSize?: number;
  /** ONNX Runtime intra-op threads. Default 1 (the pool runs one encoder per worker). */
  threads?: number;
  /** Fused head threads. Default: `threads`. */
  headThreads?: number;
  /** Keep only weights above this value. Default 0: every positive weight. */
  threshold?: number;
  /** Keep at most this many terms per text. Default 0: no limit. */
  topk?: number;
  /** Hold the projection as bf16 (half the memory, ~3 significant digits). Default false. */
  bf16?: boolean;
  /**
   * f32 head only: screen terms with int8 dot products and a rigorous error bound, and compute in f32
   * only those the bound cannot prove zero (native/src/head/screened-head.h). Same output as the plain
   * head, bit for bit; faster when the output is sparse, as trained SPLADE heads' is. Needs
   * AVX512_VNNI (otherwise the plain head runs). Default true.
   */
  screen?: boolean;
  /**
   * `cpu` (default): this encoder. `cuda`: the pool's workers run the GPU encoder instead
   * (gpu-encoder.ts: BERT trunk in CUDA + the sparse head on the device; docs/gpu.md).
   */
  device?: 'cpu' | 'cuda';
  /** GPU encoder only: `fp16` (default), `bf16` or `fp32`. */
  precision?: 'fp16' | 'bf16' | 'fp32';
}

const DEFAULTS = {
  maxLength: 256,
  batchSize: 32,
  threads: 1,
  threshold: 0,
  topk: 0,
  bf16: false,
  screen: true,
  device: 'cpu' as const,
  precision: 'fp16' as const,
};

/** Checks options, naming the offending field (`field` prefixes it, e.g. `retrievers.splade`). */
export function validateEncoderOptions(o: EncoderOptions, field = 'encoder'): void {
  checkCommonOptions(o, field);
  checkIntOption(o.headThreads, 1, 'headThreads', field);
  checkIntOption(o.topk, 0, 'topk', field);
  if (o.threshold !== undefined && !(Number.isFinite(o.threshold) && o.threshold >= 0))
    fail('VALIDATION_FAILED', `threshold must be a finite number >= 0, got ${JSON.stringify(o.threshold)}`, `${field}.threshold`);
  if (o.screen !== undefined && typeof o.screen !== 'boolean')
    fail('VALIDATION_FAILED', `screen must be a boolean, got ${JSON.stringify(o.screen)}`, `${field}.screen`);
  if (o.device !== undefined && o.device !== 'cpu' && o.device !== 'cuda')
    fail('VALIDATION_FAILED', `device must be 'cpu' or 'cuda', got ${JSON.stringify(o.device)}`, `${field}.device`);
  if (o.precision !== undefined && !['fp16', 'bf16', 'fp32'].includes(o.precision))
    fail('VALIDATION_FAILED', `precision must be 'fp16', 'bf16' or 'fp32', got ${JSON.stringify(o.precision)}`, `${field}.precision`);
  if (o.layout !== undefined && o.layout !== 'full' && o.layout !== 'split')
    fail('VALIDATION_FAILED', `layout must be 'full' or 'split', got ${JSON.stringify(o.layout)}`, `${field}.layout`);
}

export class SpladeEncoder {
  private constructor(
    readonly model: ModelDir,
    readonly layout: ModelLayout,
    readonly tokenizer: SpladeTokenizer,
    private readonly session: ort.InferenceSession,
    private readonly head: HeadWeights | null,
    readonly vocab: number,
    private readonly o: Required<EncoderOptions>,
  ) {}

  static async load(dir: string, options: EncoderOptions = {}, field = 'model'): Promise<SpladeEncoder> {
    validateEncoderOptions(options);
    const model = inspectModelDir(dir, field);
    const layout = options.layout ?? (model.split ? 'split' : 'full');
    if (layout === 'split' && !model.split) fail('INVALID_MODEL', `${model.dir} has no split layout (trunk.onnx + head.bin)`, field);
    if (layout === 'full' && !model.full) fail('INVALID_MODEL', `${model.dir} has no full layout (model.onnx)`, field);
    const o: Required<EncoderOptions> = { ...DEFAULTS, layout, headThreads: options.threads ?? DEFAULTS.threads, ...options };
    const tokenizer = await SpladeTokenizer.load(model.dir, field);
    let head: HeadWeights | null = null;
    if (layout === 'split') {
      head = readHeadFile(model.split!.head, field);
      if (o.bf16 && head.weights instanceof Float32Array) head = { ...head, weights: toBf16(head.weights) };
      else if (o.screen) head = { ...head, screen: prepareScreen(head, o.headThreads) };
    }
    const session = await ort.InferenceSession.create(layout === 'split' ? model.split!.trunk : model.full!, {
      intraOpNumThreads: o.threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    const out = layout === 'split' ? 'hidden_states' : 'logits';
    if (!session.outputNames.includes(out))
      fail(
        'INVALID_MODEL',
        `${model.dir}: the ${layout} ONNX graph has no '${out}' output (it has ${session.outputNames.join(', ')})`,
        field,
      );
    const vocab = head?.vocab ?? model.config.vocab_size ?? tokenizer.vocabSize;
    return new SpladeEncoder(model, layout, tokenizer, session, head, vocab, o);
  }

  /** The screened head's counters, or null when this encoder runs the plain head. */
  headStats(): HeadScreenStats | null {
    return this.head?.screen ? screenStats(this.head.screen) : null;
  }

  get maxLength(): number {
    return this.o.maxLength;
  }

  /** Token ids of each text, truncated to `maxLength` (also the inference-free query's terms). */
  tokenize(texts: string[]): number[][] {
    return texts.map((t) => this.tokenizer.ids(t, this.o.maxLength));
  }

  /** One sparse vector per text, in the order given. */
  async encode(texts: string[]): Promise<SparseVectors> {
    return this.encodeIds(this.tokenize(texts));
  }

  /** Encodes token id lists: grouped by length into batches, results back in input order. */
  async encodeIds(lists: number[][]): Promise<SparseVectors> {
    const order = lists.map((_, i) => i).sort((a, b) => lists[a].length - lists[b].length || a - b);
    const batches: { vecs: SparseVectors; idx: number[] }[] = [];
    for (let s = 0; s < order.length; s += this.o.batchSize) {
      const idx = order.slice(s, s + this.o.batchSize);
      batches.push({ vecs: await this.run(this.tokenizer.batch(idx.map((i) => lists[i]))), idx });
    }
    // Stitch the batches back into input order.
    const offsets = new Uint32Array(lists.length + 1);
    const where: { vecs: SparseVectors; row: number }[] = new Array(lists.length);
    for (const b of batches) b.idx.forEach((i, row) => (where[i] = { vecs: b.vecs, row }));
    for (let i = 0; i < lists.length; i++) {
      const { vecs, row } = where[i];
      offsets[i + 1] = offsets[i] + vecs.offsets[row + 1] - vecs.offsets[row];
    }
    const terms = new Uint32Array(offsets[lists.length]),
      weights = new Float32Array(offsets[lists.length]);
    for (let i = 0; i < lists.length; i++) {
      const { vecs, row } = where[i];
      const a = vecs.offsets[row],
        b = vecs.offsets[row + 1];
      terms.set(vecs.terms.subarray(a, b), offsets[i]);
      weights.set(vecs.weights.subarray(a, b), offsets[i]);
    }
    return { offsets, terms, weights };
  }

  /** Runs the ONNX graph on one padded batch and pools it. */
  private async run(b: TokenBatch): Promise<SparseVectors> {
    if (b.texts === 0 || b.seq === 0)
      return { offsets: new Uint32Array(b.texts + 1), terms: new Uint32Array(0), weights: new Float32Array(0) };
    const feeds = onnxFeeds(this.session, b, this.model.dir);
    if (this.layout === 'split') {
      const r = await this.session.run(feeds, ['hidden_states']);
      const h = r.hidden_states;
      const hidden = h.data as Float32Array;
      try {
        return fusedHead({ hidden, mask: b.mask, texts: b.texts, seq: b.seq }, this.head!, {
          threads: this.o.headThreads,
          threshold: this.o.threshold,
          topk: this.o.topk,
        });
      } finally {
        h.dispose();
      }
    }
    const r = await this.session.run(feeds, ['logits']);
    const logits = r.logits;
    try {
      const dense = poolLogits(logits.data as Float32Array, b.mask, b.texts, b.seq, this.vocab);
      return sparsify(dense, b.texts, this.vocab, this.o.threshold, this.o.topk);
    } finally {
      logits.dispose();
    }
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
