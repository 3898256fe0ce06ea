// The weights of a BERT masked-LM model folder, in the order the CUDA trunk takes them
// (native/cuda/trunk.h): fp32, torch layouts (Linear weights [out, in]).
//
// Trunk weights come from the split layout's `trunk.onnx` (its initializers, as
// models/make-random-bert.py names them: the benchmark model and every folder models/fetch-model.py
// converts) or from a Hugging Face `model.safetensors` (BertForMaskedLM names). The vocabulary
// projection comes from `head.bin` when the folder has it, else from the checkpoint (decoder weight,
// or the word embeddings it is tied to, and cls.predictions.bias).
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fail } from '../../errors.js';
import { readHeadFile } from '../sparse/head-file.js';

export interface BertShape {
  layers: number;
  hidden: number;
  heads: number;
  intermediate: number;
  vocab: number;
  maxPos: number;
  typeVocab: number;
  eps: number;
}

export interface BertWeights {
  shape: BertShape;
  /** native/cuda/trunk.h's order. */
  tensors: Float32Array[];
  /** Where the trunk and the projection were read from. */
  source: { trunk: string; head: string };
}

type Named = Map<string, { dims: number[]; data: Float32Array }>;

// ---- ONNX initializers (a minimal protobuf reader: ModelProto.graph.initializer) ---------------

function varint(buf: Buffer, at: number): [number, number] {
  let v = 0,
    mul = 1,
    b: number;
  do {
    b = buf[at++];
    v += (b & 0x7f) * mul;
    mul *= 128;
  } while (b & 0x80);
  return [v, at];
}

/** Calls `f(field, wireType, start, end)` for each field of the message in buf[start, end). */
function fields(
  buf: Buffer,
  start: number,
  end: number,
  f: (field: number, wire: number, a: number, b: number, value: number) => void,
): void {
  let at = start;
  while (at < end) {
    let key: number;
    [key, at] = varint(buf, at);
    const field = Math.floor(key / 8),
      wire = key & 7;
    if (wire === 0) {
      let v: number;
      [v, at] = varint(buf, at);
      f(field, wire, at, at, v);
    } else if (wire === 2) {
      let len: number;
      [len, at] = varint(buf, at);
      f(field, wire, at, at + len, len);
      at += len;
    } else if (wire === 5) {
      f(field, wire, at, at + 4, 0);
      at += 4;
    } else if (wire === 1) {
      f(field, wire, at, at + 8, 0);
      at += 8;
    } else throw new Error(`protobuf wire type ${wire} at byte ${at}`);
  }
}

const ONNX_FLOAT = 1;

export function readOnnxInitializers(path: string): Named {
  const buf = readFileSync(path);
  const out: Named = new Map();
  fields(buf, 0, buf.length, (field, wire, a, b) => {
    if (field !== 7 || wire !== 2) return; // ModelProto.graph
    fields(buf, a, b, (gf, gw, ga, gb) => {
      if (gf !== 5 || gw !== 2) return; // GraphProto.initializer
      const dims: number[] = [];
      let type = 0,
        name = '',
        raw: [number, number] | null = null,
        floats: [number, number] | null = null,
        external = false;
      fields(buf, ga, gb, (tf, tw, ta, tb, value) => {
        if (tf === 1 && tw === 0) dims.push(value);
        else if (tf === 1 && tw === 2) dims.push(...packedVarints(buf, ta, tb));
        else if (tf === 2) type = value;
        else if (tf === 8) name = buf.toString('utf8', ta, tb);
        else if (tf === 9) raw = [ta, tb];
        else if (tf === 4 && tw === 2) floats = [ta, tb];
        else if (tf === 13 || (tf === 14 && value === 1)) external = true;
      });
      if (type !== ONNX_FLOAT) return;
      if (external) throw new Error(`${name} is stored outside the ONNX file (external data is not read)`);
      const span = (raw ?? floats) as [number, number] | null;
      const count = dims.reduce((n, d) => n * d, 1);
      const data = new Float32Array(count);
      if (span) {
        const [s, e] = span;
        if (e - s !== count * 4) throw new Error(`${name}: ${e - s} bytes for ${count} floats`);
        const bytes = new Uint8Array(data.buffer);
        bytes.set(buf.subarray(s, e));
      }
      out.set(name, { dims, data });
    });
  });
  return out;
}

function packedVarints(buf: Buffer, a: number, b: number): number[] {
  const out: number[] = [];
  let at = a;
  while (at < b) {
    let v: number;
    [v, at] = varint(buf, at);
    out.push(v);
  }
  return out;
}

// ---- safetensors ---------------------------------------------------------------------------------

export function readSafetensors(path: string): Named {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.toString('utf8', 8, 8 + n)) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const base = 8 + n;
  const out: Named = new Map();
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [a, b] = t.data_offsets;
    const count = t.shape.reduce((x, d) => x * d, 1);
    const data = new Float32Array(count);
    const src = buf.subarray(base + a, base + b);
    if (t.dtype === 'F32') new Uint8Array(data.buffer).set(src);
    else if (t.dtype === 'BF16') {
      const u = new Uint32Array(data.buffer);
      for (let i = 0; i < count; i++) u[i] = src.readUInt16LE(2 * i) << 16;
    } else if (t.dtype === 'F16') {
      for (let i = 0; i < count; i++) data[i] = f16(src.readUInt16LE(2 * i));
    } else continue; // integer buffers (position_ids)
    out.set(name, { dims: t.shape, data });
  }
  return out;
}

function f16(h: number): number {
  const s = h & 0x8000 ? -1 : 1,
    e = (h >> 10) & 0x1f,
    m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

// ---- assembling ----------------------------------------------------------------------------------

/** [rows, cols] row-major -> [cols, rows]. */
function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) {
    const src = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = a[src + c];
  }
  return out;
}

interface Config {
  model_type?: string;
  vocab_size?: number;
  hidden_size?: number;
  num_hidden_layers?: number;
  num_attention_heads?: number;
  intermediate_size?: number;
  max_position_embeddings?: number;
  type_vocab_size?: number;
  layer_norm_eps?: number;
  hidden_act?: string;
  position_embedding_type?: string;
}

/** Reads a BERT masked-LM folder's weights for the CUDA trunk; INVALID_MODEL (naming `field`) on anything else. */
export function readBertWeights(dir: string, field = 'model'): BertWeights {
  const abs = resolve(dir);
  const bad = (why: string): never => fail('INVALID_MODEL', `${abs}: ${why}`, field);
  if (!existsSync(join(abs, 'config.json'))) bad('no config.json');
  const cfg = JSON.parse(readFileSync(join(abs, 'config.json'), 'utf8')) as Config;
  if (cfg.model_type !== 'bert') bad(`model_type ${JSON.stringify(cfg.model_type)}: the CUDA encoder runs BERT only`);
  if ((cfg.hidden_act ?? 'gelu') !== 'gelu') bad(`hidden_act ${cfg.hidden_act}: the CUDA encoder runs 'gelu' (erf) only`);
  if ((cfg.position_embedding_type ?? 'absolute') !== 'absolute')
    bad(`position_embedding_type ${cfg.position_embedding_type} is not supported`);
  const shape: BertShape = {
    layers: cfg.num_hidden_layers ?? 0,
    hidden: cfg.hidden_size ?? 0,
    heads: cfg.num_attention_heads ?? 0,
    intermediate: cfg.intermediate_size ?? 0,
    vocab: cfg.vocab_size ?? 0,
    maxPos: cfg.max_position_embeddings ?? 512,
    typeVocab: cfg.type_vocab_size ?? 2,
    eps: cfg.layer_norm_eps ?? 1e-12,
  };
  for (const [k, v] of Object.entries(shape)) if (!(v > 0)) bad(`config.json lacks a positive ${k}`);
  const trunkOnnx = join(abs, 'trunk.onnx'),
    st = join(abs, 'model.safetensors'),
    headBin = join(abs, 'head.bin');
  let named!: Named, ours!: boolean, trunkSource!: string;
  try {
    if (existsSync(trunkOnnx)) [named, ours, trunkSource] = [readOnnxInitializers(trunkOnnx), true, trunkOnnx];
    else if (existsSync(st)) [named, ours, trunkSource] = [readSafetensors(st), false, st];
    else bad('neither trunk.onnx (split layout) nor model.safetensors: nothing the CUDA trunk can read');
  } catch (e) {
    if ((e as { code?: string }).code === 'INVALID_MODEL') throw e;
    bad(`the weights do not parse (${(e as Error).message})`);
  }
  const { hidden: H, intermediate: I, vocab: V, maxPos: P, typeVocab: TV, layers } = shape;
  const get = (names: string[], dims: number[], transposeFrom?: number[]): Float32Array => {
    for (const n of names) {
      const t = named!.get(n) ?? named!.get('bert.' + n);
      if (!t) continue;
      const want = transposeFrom ?? dims;
      if (t.dims.length !== want.length || t.dims.some((d, i) => d !== want[i])) bad(`${n} has shape [${t.dims}], expected [${want}]`);
      return transposeFrom ? transpose(t.data, transposeFrom[0], transposeFrom[1]) : t.data;
    }
    return bad(`${trunkSource} has no tensor ${names[0]}`);
  };
  const tensors: Float32Array[] = [];
  // Our graph's dense weights are [in, out] (x @ w); torch's are [out, in].
  const lin = (onnxName: string, hfName: string, out: number, inp: number) => {
    tensors.push(ours ? get([onnxName + '.w'], [out, inp], [inp, out]) : get([hfName + '.weight'], [out, inp]));
    tensors.push(ours ? get([onnxName + '.b'], [out]) : get([hfName + '.bias'], [out]));
  };
  const ln = (onnxG: string, onnxB: string, hf: string) => {
    tensors.push(get(ours ? [onnxG] : [hf + '.weight', hf + '.gamma'], [H]));
    tensors.push(get(ours ? [onnxB] : [hf + '.bias', hf + '.beta'], [H]));
  };
  tensors.push(get(['embeddings.word_embeddings.weight'], [V, H]));
  tensors.push(get(['embeddings.position_embeddings.weight'], [P, H]));
  tensors.push(get(['embeddings.token_type_embeddings.weight'], [TV, H]));
  ln('embeddings.LayerNorm.weight', 'embeddings.LayerNorm.bias', 'embeddings.LayerNorm');
  for (let l = 0; l < layers; l++) {
    const p = `encoder.layer.${l}.`;
    lin(p + 'q', p + 'attention.self.query', H, H);
    lin(p + 'k', p + 'attention.self.key', H, H);
    lin(p + 'v', p + 'attention.self.value', H, H);
    lin(p + 'o', p + 'attention.output.dense', H, H);
    ln(p + 'ln1.g', p + 'ln1.b', p + 'attention.output.LayerNorm');
    lin(p + 'i', p + 'intermediate.dense', I, H);
    lin(p + 'out', p + 'output.dense', H, I);
    ln(p + 'ln2.g', p + 'ln2.b', p + 'output.LayerNorm');
  }
  lin('cls.transform.dense', 'cls.predictions.transform.dense', H, H);
  ln('cls.transform.LayerNorm.weight', 'cls.transform.LayerNorm.bias', 'cls.predictions.transform.LayerNorm');
  let headSource: string;
  if (existsSync(headBin)) {
    const head = readHeadFile(headBin, field);
    if (head.vocab !== V || head.dim !== H) bad(`head.bin is [${head.vocab} × ${head.dim}], config.json says [${V} × ${H}]`);
    let w = head.weights;
    if (w instanceof Uint16Array) {
      const f = new Float32Array(w.length),
        u = new Uint32Array(f.buffer);
      for (let i = 0; i < w.length; i++) u[i] = w[i] << 16;
      w = f;
    }
    tensors.push(w as Float32Array, head.bias ?? new Float32Array(V));
    headSource = headBin;
  } else {
    if (ours) bad('trunk.onnx without head.bin');
    const tied = named!.has('cls.predictions.decoder.weight') ? ['cls.predictions.decoder.weight'] : ['embeddings.word_embeddings.weight'];
    tensors.push(get(tied, [V, H]));
    tensors.push(
      named!.has('cls.predictions.bias') || named!.has('bert.cls.predictions.bias')
        ? get(['cls.predictions.bias'], [V])
        : named!.has('cls.predictions.decoder.bias')
          ? get(['cls.predictions.decoder.bias'], [V])
          : new Float32Array(V),
    );
    headSource = st;
  }
  return { shape, tensors, source: { trunk: trunkSource!, head: headSource } };
}
