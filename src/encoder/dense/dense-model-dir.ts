// What a dense (sentence-transformers style) model folder holds and how it wants to be run: the ONNX
// trunk, the pooling of 1_Pooling/config.json, L2 normalization when modules.json has a Normalize
// module, the maximum sequence length of sentence_bert_config.json and the query/document prompts of
// config_sentence_transformers.json (or of a known model family). docs/encoder-model-format.md.
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fail } from '../../errors.js';

/** sentence-transformers pooling modes; several at once are concatenated in this order. */
export const DENSE_POOLINGS = ['cls', 'max', 'mean', 'mean_sqrt_len', 'weightedmean', 'lasttoken'] as const;
export type DensePooling = (typeof DENSE_POOLINGS)[number];

/** 1_Pooling/config.json keys of each mode. */
const POOLING_KEYS: Record<DensePooling, string> = {
  cls: 'pooling_mode_cls_token',
  max: 'pooling_mode_max_tokens',
  mean: 'pooling_mode_mean_tokens',
  mean_sqrt_len: 'pooling_mode_mean_sqrt_len_tokens',
  weightedmean: 'pooling_mode_weightedmean_tokens',
  lasttoken: 'pooling_mode_lasttoken',
};

const MODULE = 'sentence_transformers.models.';
const KNOWN_MODULES = new Set([MODULE + 'Transformer', MODULE + 'Pooling', MODULE + 'Normalize']);

export interface DensePrompts {
  query: string;
  document: string;
  /** Where they came from: the model's config file, the family table, or none. */
  from: 'config_sentence_transformers.json' | `family:${string}` | 'none';
}

export interface DenseModelDir {
  dir: string;
  /** The ONNX graph: input_ids, attention_mask[, token_type_ids] -> last_hidden_state [batch, seq, hidden]. */
  onnx: string;
  config: { model_type?: string; hidden_size?: number; max_position_embeddings?: number; _name_or_path?: string };
  hidden: number;
  pooling: DensePooling[];
  /** false: prompt tokens are left out of pooling (1_Pooling/config.json include_prompt). */
  includePrompt: boolean;
  normalize: boolean;
  /** sentence_bert_config.json max_seq_length, else the position embeddings (at most 512). */
  maxSeqLength: number;
  prompts: DensePrompts;
}

/**
 * Prompts of model families whose configuration predates `prompts` in config_sentence_transformers.json,
 * matched against the model's source or folder name and config.json `_name_or_path`. First match wins.
 */
export const FAMILY_PROMPTS: { family: string; match: RegExp; query: string; document: string }[] = [
  { family: 'bge-zh', match: /bge-[a-z]+-zh/i, query: '为这个句子生成表示以用于检索相关文章：', document: '' },
  { family: 'bge', match: /bge-[a-z]+-en/i, query: 'Represent this sentence for searching relevant passages: ', document: '' },
  {
    family: 'snowflake-arctic-embed',
    match: /arctic-embed/i,
    query: 'Represent this sentence for searching relevant passages: ',
    document: '',
  },
  { family: 'nomic-embed-text', match: /nomic-embed-text/i, query: 'search_query: ', document: 'search_document: ' },
  { family: 'e5', match: /(^|[^a-z])e5-(small|base|large)/i, query: 'query: ', document: 'passage: ' },
];

/** Onnx names as optimum exports them, ours first. */
const ONNX_NAMES = ['model.onnx', 'onnx/model.onnx'];

function readJson<T>(path: string, field: string): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (e) {
    fail('INVALID_MODEL', `${path} is not JSON (${(e as Error).message})`, field);
  }
}

/**
 * Reads a dense model folder. `name` identifies the model for the prompt table (the source as
 * written, e.g. `hf:BAAI/bge-small-en-v1.5`); the folder name and config.json `_name_or_path` are
 * tried as well. Every problem is INVALID_MODEL naming the file.
 */
export function inspectDenseModelDir(dir: string, field = 'model', name = ''): DenseModelDir {
  const abs = resolve(dir);
  if (!existsSync(abs)) fail('INVALID_MODEL', `model folder ${abs} does not exist`, field);
  for (const f of ['config.json', 'tokenizer.json'])
    if (!existsSync(join(abs, f))) fail('INVALID_MODEL', `model folder ${abs} has no ${f}`, field);
  const config = readJson<DenseModelDir['config']>(join(abs, 'config.json'), field);
  const onnx = ONNX_NAMES.map((n) => join(abs, n)).find((p) => existsSync(p));
  if (!onnx) fail('INVALID_MODEL', `model folder ${abs} has no model.onnx (or onnx/model.onnx) with a last_hidden_state output`, field);

  // modules.json: Transformer -> Pooling [-> Normalize]. Without it, sentence-transformers wraps a
  // plain model in mean pooling and no normalization; so do we.
  let poolingDir: string | null = null;
  let normalize = false;
  const modulesPath = join(abs, 'modules.json');
  if (existsSync(modulesPath)) {
    const modules = readJson<unknown>(modulesPath, field);
    if (!Array.isArray(modules)) fail('INVALID_MODEL', `${modulesPath} must be a JSON array of modules`, field);
    for (const m of modules as { type?: unknown; path?: unknown }[]) {
      const type = typeof m?.type === 'string' ? m.type : JSON.stringify(m?.type);
      if (!KNOWN_MODULES.has(type))
        fail('INVALID_MODEL', `${modulesPath}: module ${type} is not supported (Transformer, Pooling and Normalize are)`, field);
      if (type === MODULE + 'Pooling') poolingDir = typeof m.path === 'string' && m.path ? m.path : '1_Pooling';
      if (type === MODULE + 'Normalize') normalize = true;
    }
  }

  let pooling: DensePooling[] = ['mean'];
  let includePrompt = true;
  let poolingDim: number | undefined;
  if (poolingDir !== null) {
    const path = join(abs, poolingDir, 'config.json');
    if (!existsSync(path)) fail('INVALID_MODEL', `${path} is missing (modules.json names a Pooling module in ${poolingDir})`, field);
    const pc = readJson<Record<string, unknown>>(path, field);
    pooling = DENSE_POOLINGS.filter((m) => pc[POOLING_KEYS[m]] === true);
    if (pooling.length === 0)
      fail(
        'INVALID_MODEL',
        `${path} sets no pooling mode (one of ${DENSE_POOLINGS.map((m) => POOLING_KEYS[m]).join(', ')} must be true)`,
        field,
      );
    if (pc.include_prompt === false) includePrompt = false;
    if (typeof pc.word_embedding_dimension === 'number') poolingDim = pc.word_embedding_dimension;
  }
  const hidden = config.hidden_size ?? poolingDim;
  if (!Number.isInteger(hidden) || (hidden as number) < 1) fail('INVALID_MODEL', `${join(abs, 'config.json')} has no hidden_size`, field);
  if (poolingDim !== undefined && poolingDim !== hidden)
    fail(
      'INVALID_MODEL',
      `${join(abs, poolingDir!, 'config.json')}: word_embedding_dimension ${poolingDim} differs from config.json hidden_size ${hidden}`,
      field,
    );

  const positions = Math.min(512, config.max_position_embeddings ?? 512);
  let maxSeqLength = positions;
  const sbPath = join(abs, 'sentence_bert_config.json');
  if (existsSync(sbPath)) {
    const sb = readJson<{ max_seq_length?: unknown }>(sbPath, field);
    if (sb.max_seq_length !== undefined && sb.max_seq_length !== null) {
      if (!Number.isInteger(sb.max_seq_length) || (sb.max_seq_length as number) < 2)
        fail('INVALID_MODEL', `${sbPath}: max_seq_length must be an integer >= 2, got ${JSON.stringify(sb.max_seq_length)}`, field);
      maxSeqLength = Math.min(sb.max_seq_length as number, config.max_position_embeddings ?? Infinity);
    }
  }

  let prompts: DensePrompts = { query: '', document: '', from: 'none' };
  const stPath = join(abs, 'config_sentence_transformers.json');
  if (existsSync(stPath)) {
    const st = readJson<{ prompts?: unknown }>(stPath, field);
    if (st.prompts !== undefined && st.prompts !== null) {
      if (typeof st.prompts !== 'object' || Array.isArray(st.prompts) || Object.values(st.prompts).some((p) => typeof p !== 'string'))
        fail('INVALID_MODEL', `${stPath}: prompts must be an object of strings`, field);
      const p = st.prompts as Record<string, string>;
      // sentence-transformers' encode_document tries document, passage, corpus in this order.
      const document = p.document ?? p.passage ?? p.corpus ?? '';
      if (p.query || document) prompts = { query: p.query ?? '', document, from: 'config_sentence_transformers.json' };
    }
  }
  if (prompts.from === 'none') {
    const names = [name, basename(abs), config._name_or_path ?? ''];
    const fam = FAMILY_PROMPTS.find((f) => names.some((n) => f.match.test(n)));
    if (fam) prompts = { query: fam.query, document: fam.document, from: `family:${fam.family}` };
  }
  return { dir: abs, onnx, config, hidden: hidden as number, pooling, includePrompt, normalize, maxSeqLength, prompts };
}
