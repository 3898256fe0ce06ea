// The dense encoder: a sentence-transformers style model on ONNX Runtime. Tokenize (the query or
// document prompt first), run the trunk to last_hidden_state, pool as 1_Pooling/config.json says,
// L2-normalize when modules.json has a Normalize module. One Float32Array row per text.
import * as ort from 'onnxruntime-node';
import { fail } from '../../errors.js';
import { DENSE_POOLINGS, inspectDenseModelDir, type DenseModelDir, type DensePooling } from './dense-model-dir.js';
import { l2Normalize, poolHidden } from './dense-pooling.js';
import { onnxFeeds } from '../onnx-feeds.js';
import { SpladeTokenizer, type TokenBatch } from '../tokenizer.js';
import { checkCommonOptions } from '../options.js';

export type DenseRole = 'query' | 'document';

export interface DenseEncoderOptions {
  /** Tokens per text, prompt and special tokens included. Default: the model's (sentence_bert_config.json max_seq_length). */
  maxLength?: number;
  /** Texts per ONNX run; texts are grouped by token length first so padding stays small. Default 32. */
  batchSize?: number;
  /** ONNX Runtime intra-op threads. Default 1 (the pool runs one encoder per worker). */
  threads?: number;
  /** Override the model's pooling (1_Pooling/config.json). */
  pooling?: DensePooling;
  /** Override whether vectors are L2-normalized (default: when modules.json has a Normalize module). */
  normalize?: boolean;
  /** Override the prompt put before each query ('' for none). Default: the model's or its family's. */
  queryPrompt?: string;
  /** Override the prompt put before each document. */
  documentPrompt?: string;
  /** The model's name for the prompt table, e.g. its source `hf:BAAI/bge-small-en-v1.5`. */
  name?: string;
}

/** Checks options, naming the offending field (`field` prefixes it, e.g. `retrievers.dense`). */
export function validateDenseOptions(o: DenseEncoderOptions, field = 'encoder'): void {
  checkCommonOptions(o, field);
  if (o.pooling !== undefined && !(DENSE_POOLINGS as readonly unknown[]).includes(o.pooling))
    fail(
      'VALIDATION_FAILED',
      `pooling must be one of ${DENSE_POOLINGS.map((p) => `'${p}'`).join(', ')}, got ${JSON.stringify(o.pooling)}`,
      `${field}.pooling`,
    );
  if (o.normalize !== undefined && typeof o.normalize !== 'boolean')
    fail('VALIDATION_FAILED', `normalize must be a boolean, got ${JSON.stringify(o.normalize)}`, `${field}.normalize`);
  for (const k of ['queryPrompt', 'documentPrompt', 'name'] as const)
    if (o[k] !== undefined && typeof o[k] !== 'string')
      fail('VALIDATION_FAILED', `${k} must be a string, got ${JSON.stringify(o[k])}`, `${field}.${k}`);
}

/** Output names a sentence-transformers ONNX export may give the token states. */
const HIDDEN_OUTPUTS = ['last_hidden_state', 'token_embeddings'];

export class DenseEncoder {
  private constructor(
    readonly model: DenseModelDir,
    readonly tokenizer: SpladeTokenizer,
    private readonly session: ort.InferenceSession,
    private readonly output: string,
    readonly pooling: DensePooling[],
    readonly normalize: boolean,
    readonly prompts: Record<DenseRole, string>,
    /** Tokens of each prompt left out of pooling (include_prompt: false), else 0. */
    private readonly skip: Record<DenseRole, number>,
    readonly maxLength: number,
    private readonly batchSize: number,
  ) {}

  static async load(dir: string, options: DenseEncoderOptions = {}, field = 'model'): Promise<DenseEncoder> {
    validateDenseOptions(options);
    const model = inspectDenseModelDir(dir, field, options.name);
    const tokenizer = await SpladeTokenizer.load(model.dir, field);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(model.onnx, {
        intraOpNumThreads: options.threads ?? 1,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
      });
    } catch (e) {
      fail('INVALID_MODEL', `${model.onnx} does not load in ONNX Runtime (${(e as Error).message})`, field);
    }
    const output = HIDDEN_OUTPUTS.find((n) => session.outputNames.includes(n));
    if (!output) {
      await session.release();
      fail('INVALID_MODEL', `${model.onnx} has no ${HIDDEN_OUTPUTS.join(' or ')} output (it has ${session.outputNames.join(', ')})`, field);
    }
    const prompts = { query: options.queryPrompt ?? model.prompts.query, document: options.documentPrompt ?? model.prompts.document };
    // sentence-transformers: prompt_length = the prompt's tokens with specials, minus one; those first
    // positions ([CLS] included) are masked out of pooling.
    const skipOf = (p: string) => (model.includePrompt || !p ? 0 : tokenizer.ids(p, Number.MAX_SAFE_INTEGER).length - 1);
    const maxLength = options.maxLength ?? model.maxSeqLength;
    return new DenseEncoder(
      model,
      tokenizer,
      session,
      output,
      options.pooling ? [options.pooling] : model.pooling,
      options.normalize ?? model.normalize,
      prompts,
      { query: skipOf(prompts.query), document: skipOf(prompts.document) },
      maxLength,
      options.batchSize ?? 32,
    );
  }

  /** Width of each output row: hidden size × pooling modes. */
  get dim(): number {
    return this.model.hidden * this.pooling.length;
  }

  /** Token ids of each text with the role's prompt, truncated to `maxLength` (closing [SEP] kept). */
  tokenize(texts: string[], role: DenseRole): number[][] {
    const p = this.prompts[role];
    return texts.map((t) => this.tokenizer.ids(p + t, this.maxLength));
  }

  encodeQueries(texts: string[]): Promise<Float32Array> {
    return this.encode(texts, 'query');
  }

  encodeDocuments(texts: string[]): Promise<Float32Array> {
    return this.encode(texts, 'document');
  }

  /** `texts.length × dim` floats, row i for texts[i]. */
  async encode(texts: string[], role: DenseRole): Promise<Float32Array> {
    if (role !== 'query' && role !== 'document')
      fail('VALIDATION_FAILED', `role must be 'query' or 'document', got ${JSON.stringify(role)}`, 'role');
    const lists = this.tokenize(texts, role);
    const dim = this.dim;
    const out = new Float32Array(texts.length * dim);
    const order = lists.map((_, i) => i).sort((a, b) => lists[a].length - lists[b].length || a - b);
    for (let s = 0; s < order.length; s += this.batchSize) {
      const idx = order.slice(s, s + this.batchSize);
      const rows = await this.run(this.tokenizer.batch(idx.map((i) => lists[i])), this.skip[role]);
      idx.forEach((i, r) => out.set(rows.subarray(r * dim, (r + 1) * dim), i * dim));
    }
    return out;
  }

  private async run(b: TokenBatch, skip: number): Promise<Float32Array> {
    const feeds = onnxFeeds(this.session, b, this.model.onnx);
    const r = await this.session.run(feeds, [this.output]);
    const h = r[this.output];
    try {
      const hidden = h.data as Float32Array;
      if (hidden.length !== b.texts * b.seq * this.model.hidden)
        fail(
          'INVALID_MODEL',
          `${this.model.onnx}: ${this.output} has shape [${h.dims.join(', ')}], expected [${b.texts}, ${b.seq}, ${this.model.hidden}]`,
          'model',
        );
      const rows = poolHidden({ hidden, mask: b.mask, texts: b.texts, seq: b.seq, dim: this.model.hidden }, this.pooling, skip);
      return this.normalize ? l2Normalize(rows, this.dim) : rows;
    } finally {
      h.dispose();
    }
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
