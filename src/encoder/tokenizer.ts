// Tokenization through @huggingface/transformers' AutoTokenizer, from a model folder's files only.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AutoTokenizer, env, type PreTrainedTokenizer } from '@huggingface/transformers';
import { fail } from '../errors.js';

/** Token ids of a batch, padded to its longest text: the ONNX inputs. */
export interface TokenBatch {
  texts: number;
  seq: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds: BigInt64Array;
  /** attentionMask as bytes, as the fused head takes it. */
  mask: Uint8Array;
}

export class SpladeTokenizer {
  private constructor(
    private readonly tok: PreTrainedTokenizer,
    /** id -> vocabulary string, read from tokenizer.json (the raw entries, `##ing` included). */
    readonly vocab: string[],
    private readonly specials: Set<number>,
    readonly padId: number,
  ) {}

  static async load(dir: string, field = 'model'): Promise<SpladeTokenizer> {
    const abs = resolve(dir);
    // Never fetch: a model is a local folder by the time it gets here (sources resolve into a cache).
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = '';
    let tok: PreTrainedTokenizer;
    try {
      tok = await AutoTokenizer.from_pretrained(abs, { local_files_only: true });
    } catch (e) {
      fail('INVALID_MODEL', `${abs}: the tokenizer does not load (${(e as Error).message})`, field);
    }
    const json = JSON.parse(readFileSync(join(abs, 'tokenizer.json'), 'utf8')) as {
      model: { vocab: Record<string, number> | [string, number][] };
      added_tokens?: { id: number; content: string }[];
    };
    const vocab: string[] = [];
    if (Array.isArray(json.model.vocab))
      json.model.vocab.forEach(([t], i) => (vocab[i] = t)); // Unigram
    else for (const [t, i] of Object.entries(json.model.vocab)) vocab[i] = t; // WordPiece, BPE
    for (const a of json.added_tokens ?? []) vocab[a.id] = a.content;
    const specials = new Set<number>((tok as unknown as { all_special_ids: number[] }).all_special_ids);
    const padId = (tok as unknown as { pad_token_id?: number }).pad_token_id ?? 0;
    return new SpladeTokenizer(tok, vocab, specials, padId);
  }

  /**
   * Token ids of one text with its special tokens, at most `maxLength` of them. Truncation keeps the
   * closing special token ([SEP], </s>) as Hugging Face's Python tokenizers do; transformers.js
   * would cut it off, and the model would then see text it was never trained on.
   */
  ids(text: string, maxLength: number): number[] {
    const ids = this.tok.encode(text);
    if (ids.length <= maxLength) return ids;
    const last = ids[ids.length - 1];
    if (this.specials.has(last)) return [...ids.slice(0, maxLength - 1), last];
    return ids.slice(0, maxLength);
  }

  /** Pads a batch of id lists to its longest into the model's input tensors. */
  batch(lists: number[][]): TokenBatch {
    const texts = lists.length;
    const seq = lists.reduce((m, l) => Math.max(m, l.length), 0);
    const inputIds = new BigInt64Array(texts * seq).fill(BigInt(this.padId));
    const attentionMask = new BigInt64Array(texts * seq);
    const mask = new Uint8Array(texts * seq);
    lists.forEach((l, x) => {
      for (let t = 0; t < l.length; t++) {
        inputIds[x * seq + t] = BigInt(l[t]);
        attentionMask[x * seq + t] = 1n;
        mask[x * seq + t] = 1;
      }
    });
    return { texts, seq, inputIds, attentionMask, tokenTypeIds: new BigInt64Array(texts * seq), mask };
  }

  /** True for [CLS], [SEP], [PAD] and the like. */
  isSpecial(id: number): boolean {
    return this.specials.has(id);
  }

  /** The id of a vocabulary string, or undefined. */
  idOf(token: string): number | undefined {
    this.byToken ??= new Map(this.vocab.map((t, i) => [t, i]));
    return this.byToken.get(token);
  }

  private byToken: Map<string, number> | undefined;

  /** The vocabulary string of an id (`##ing` for a continuation piece). */
  token(id: number): string {
    return this.vocab[id] ?? `[${id}]`;
  }

  get vocabSize(): number {
    return this.vocab.length;
  }
}
