// The inputs of an ONNX BERT-style graph for one padded token batch, shared by the SPLADE and dense
// encoders.
import * as ort from 'onnxruntime-node';
import { fail } from '../errors.js';
import type { TokenBatch } from './tokenizer.js';

/**
 * Feeds what the graph asks for (DistilBERT and RoBERTa exports have no token_type_ids); an input
 * the encoder does not know is INVALID_MODEL, reported against `model` (the folder or ONNX file).
 */
export function onnxFeeds(session: ort.InferenceSession, b: TokenBatch, model: string): Record<string, ort.Tensor> {
  const dims = [b.texts, b.seq];
  const all: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', b.inputIds, dims),
    attention_mask: new ort.Tensor('int64', b.attentionMask, dims),
    token_type_ids: new ort.Tensor('int64', b.tokenTypeIds, dims),
  };
  const feeds: Record<string, ort.Tensor> = {};
  for (const n of session.inputNames) {
    if (!all[n]) fail('INVALID_MODEL', `${model}: the ONNX graph wants an input '${n}' the encoder does not know`, 'model');
    feeds[n] = all[n];
  }
  return feeds;
}
