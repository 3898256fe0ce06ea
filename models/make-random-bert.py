#!/usr/bin/env python3
"""Writes a random-weight BERT masked-LM (the real architecture) in both layouts, without PyTorch.

The graph is built op by op with the `onnx` helper API and seeded numpy weights, so the test fixture
and the benchmark model come from one place and need neither PyTorch nor a download:

  model.onnx   full layout: input_ids, attention_mask, token_type_ids -> logits [batch, seq, vocab]
  trunk.onnx   split layout: the same inputs -> hidden_states [batch, seq, hidden] (the MLM head's
               transform: dense + GELU + LayerNorm), i.e. everything before the vocabulary projection
  head.bin     split layout: the vocabulary projection [vocab, hidden] and bias [vocab]
               (format: docs/encoder-model-format.md)
  config.json, tokenizer.json, tokenizer_config.json, special_tokens_map.json, vocab.txt

As in BERT, the projection is tied to the word embeddings, so model.onnx holds it once.

  python3 models/make-random-bert.py --out models/fixtures/tiny-bert            # the test fixture
  python3 models/make-random-bert.py --out /tmp/bert-base --preset bert-base    # the benchmark model
  python3 models/make-random-bert.py --out models/fixtures/tiny-dense --dense --max-pos 128   # dense fixture

With --dense it writes a sentence-transformers model instead (model.onnx -> last_hidden_state, see
docs/encoder-model-format.md), and --dense --from-checkpoint converts a real one's model.safetensors.
"""
import argparse
import json
import os
import struct
import zlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

# Common English words and scientific words/pieces: enough for test sentences to tokenize into real
# words with some WordPiece continuations, small enough to keep the fixture under a megabyte.
WORDS = """
the of and to in a is that for it as was with be by on not he this are or his from at which but
have an they you were her she there been one all we their has would when if so no will can more
out up into do any your what some about than them then other these its only also two may time new
could very first after most over such our like just made where many those well before between both
each under while same should because through since much being during without against among however
within another found used use using study studies result results effect effects cell cells cancer
gene genes protein proteins patient patients treatment disease risk human mice mouse data analysis
clinical increase increased decrease decreased level levels expression associated association
high higher low lower rate rates model models method methods test tests significant significantly
group groups control age brain blood heart lung liver tissue tumor tumors growth factor factors
response activity function role type types change changes process system systems infection virus
bacteria drug drugs dose therapy trial trials outcome outcomes evidence population health care
cause causes reduce reduced reduces increases show shows showed shown suggest suggests report
cat cats dog dogs bird fish tree trees water fire earth air sun moon star light dark day night year
years week month people person man woman child children family house home city country world
life death war peace work play game music art book books paper papers word words text search query
document documents retrieval sparse dense vector vectors index learning learned neural network
networks language languages english science scientific computer information fast slow good bad big
small long short old young great little own right left important large next early late public
able best better last least less never always often sometimes here now still even back down off
again once state states government law company market money business school university student
students research researcher researchers theory problem problems question questions answer answers
number numbers small value values point points part parts form forms case cases fact facts way ways
""".split()

PIECES = """##s ##es ##ed ##ing ##ly ##er ##ers ##est ##ion ##ions ##tion ##tions ##al ##ic ##ity ##ment
##ness ##ous ##ive ##able ##ful ##less ##ism ##ist ##ize ##ized ##ogy ##ical ##ase ##in ##ine ##ate
##ated ##en ##on ##an ##ar ##or ##um ##us ##ia ##is ##it ##at ##et ##ol ##ent ##ant ##ence ##ance""".split()

PRESETS = {
    # Small enough for a committed fixture, still every part of the architecture (2 layers, 4 heads).
    # dec_bias: the decoder bias's mean (its spread is 0.1). The benchmark's -2 leaves a few hundred
    # non-zero terms per 256-token text, as trained SPLADE models give (-0.25 leaves ~90% of the
    # vocabulary non-zero at BERT-base's logit scale); the tiny fixture keeps the -0.25 it was made with.
    "tiny": dict(hidden=64, layers=2, heads=4, intermediate=128, max_pos=512, vocab=None, dec_bias=-0.25),
    # BERT-base dimensions for the benchmark (random weights; padded to 30,522 entries).
    "bert-base": dict(hidden=768, layers=12, heads=12, intermediate=3072, max_pos=512, vocab=30522, dec_bias=-2.0),
}


def build_vocab(size):
    chars = [chr(c) for c in range(ord("a"), ord("z") + 1)] + [str(d) for d in range(10)]
    punct = list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
    vocab = SPECIALS + punct + chars + ["##" + c for c in chars]
    seen = set(vocab)
    for w in WORDS + PIECES:
        if w not in seen:
            vocab.append(w)
            seen.add(w)
    if size is not None:
        if size < len(vocab):
            raise SystemExit(f"--vocab {size} is smaller than the base vocabulary ({len(vocab)})")
        vocab += [f"[unused{i}]" for i in range(size - len(vocab))]
    return vocab


def write_tokenizer(out, vocab, max_len):
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece

    ids = {t: i for i, t in enumerate(vocab)}
    tok = Tokenizer(WordPiece(ids, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", ids["[CLS]"]), ("[SEP]", ids["[SEP]"])])
    tok.decoder = decoders.WordPiece(prefix="##")
    tok.add_special_tokens(SPECIALS)
    tok.save(os.path.join(out, "tokenizer.json"))
    with open(os.path.join(out, "vocab.txt"), "w") as f:
        f.write("\n".join(vocab) + "\n")
    specials = dict(unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]", mask_token="[MASK]")
    dump(os.path.join(out, "special_tokens_map.json"), specials)
    dump(os.path.join(out, "tokenizer_config.json"), dict(
        tokenizer_class="BertTokenizer", do_lower_case=True, model_max_length=max_len,
        tokenize_chinese_chars=True, strip_accents=None, clean_up_tokenization_spaces=True, **specials))


def dump(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


class Graph:
    def __init__(self):
        self.nodes, self.inits, self.n = [], [], 0

    def name(self, base):
        self.n += 1
        return f"{base}_{self.n}"

    def const(self, name, array):
        self.inits.append(numpy_helper.from_array(array, name))
        return name

    def op(self, op_type, inputs, **attrs):
        out = self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out

    def dense(self, x, w, b):  # w: [in, out] (x @ w + b)
        return self.op("Add", [self.op("MatMul", [x, w]), b])

    def gelu(self, x):  # exact (erf) GELU, as BERT's "gelu" activation
        inv_sqrt2 = self.const(self.name("c"), np.array(1 / np.sqrt(2), np.float32))
        half = self.const(self.name("c"), np.array(0.5, np.float32))
        one = self.const(self.name("c"), np.array(1.0, np.float32))
        e = self.op("Erf", [self.op("Mul", [x, inv_sqrt2])])
        return self.op("Mul", [self.op("Mul", [x, half]), self.op("Add", [e, one])])

    def layer_norm(self, x, g, b, eps):
        return self.op("LayerNormalization", [x, g, b], axis=-1, epsilon=eps)


def make_weights(rng, cfg, vocab_size):
    h, f = cfg["hidden"], cfg["intermediate"]
    n = lambda *shape: (rng.standard_normal(shape) * 0.02).astype(np.float32)
    ones = lambda k: (1 + rng.standard_normal(k) * 0.05).astype(np.float32)
    zeros = lambda k: (rng.standard_normal(k) * 0.02).astype(np.float32)
    w = dict(word=n(vocab_size, h), pos=n(cfg["max_pos"], h), type=n(2, h), emb_g=ones(h), emb_b=zeros(h), layers=[])
    for _ in range(cfg["layers"]):
        w["layers"].append(dict(
            q=n(h, h), qb=zeros(h), k=n(h, h), kb=zeros(h), v=n(h, h), vb=zeros(h), o=n(h, h), ob=zeros(h),
            ln1_g=ones(h), ln1_b=zeros(h), i=n(h, f), ib=zeros(f), out=n(f, h), outb=zeros(h),
            ln2_g=ones(h), ln2_b=zeros(h)))
    w["tr"], w["tr_b"], w["tr_g"], w["tr_lb"] = n(h, h), zeros(h), ones(h), zeros(h)
    # A negative mean bias makes the pooled vectors sparse, as trained SPLADE heads are (see PRESETS).
    w["dec_b"] = (rng.standard_normal(vocab_size) * 0.1 + cfg["dec_bias"]).astype(np.float32)
    return w


def build_graph(w, cfg, vocab_size, full, dense=False):
    """full: logits; not full: the MLM head's transformed states (trunk.onnx); dense: the encoder's
    last_hidden_state (a sentence-transformers Transformer module, before pooling)."""
    g = Graph()
    h, heads, eps = cfg["hidden"], cfg["heads"], cfg.get("eps", 1e-12)
    dh = h // heads
    C = lambda name, a: g.const(name, a)
    ids, mask, types = "input_ids", "attention_mask", "token_type_ids"

    word = C("embeddings.word_embeddings.weight", w["word"])
    x = g.op("Gather", [word, ids], axis=0)
    # Positions 0..seq-1 from the input's shape, so any sequence length up to max_pos works.
    shape = g.op("Shape", [ids])
    seq = g.op("Gather", [shape, C("one_i", np.array(1, np.int64))], axis=0)
    batch = g.op("Gather", [shape, C("zero_i", np.array(0, np.int64))], axis=0)
    pos_ids = g.op("Range", [C("zero_s", np.array(0, np.int64)), seq, C("one_s", np.array(1, np.int64))])
    x = g.op("Add", [x, g.op("Gather", [C("embeddings.position_embeddings.weight", w["pos"]), pos_ids], axis=0)])
    x = g.op("Add", [x, g.op("Gather", [C("embeddings.token_type_embeddings.weight", w["type"]), types], axis=0)])
    x = g.layer_norm(x, C("embeddings.LayerNorm.weight", w["emb_g"]), C("embeddings.LayerNorm.bias", w["emb_b"]), eps)

    # Additive mask [batch, 1, 1, seq]: 0 for real tokens, -1e9 for padding (exp underflows to 0).
    m = g.op("Cast", [mask], to=TensorProto.FLOAT)
    m = g.op("Unsqueeze", [m, C("axes_12", np.array([1, 2], np.int64))])
    m = g.op("Mul", [g.op("Sub", [C("one_f", np.array(1.0, np.float32)), m]), C("neg_big", np.array(-1e9, np.float32))])
    heads_shape = g.op("Concat", [g.op("Unsqueeze", [batch, C("axes_0", np.array([0], np.int64))]),
                                  g.op("Unsqueeze", [seq, "axes_0"]),
                                  C("heads_dh", np.array([heads, dh], np.int64))], axis=0)
    merged_shape = g.op("Concat", [g.op("Unsqueeze", [batch, "axes_0"]), g.op("Unsqueeze", [seq, "axes_0"]),
                                   C("hidden_dim", np.array([h], np.int64))], axis=0)
    scale = C("attn_scale", np.array(1 / np.sqrt(dh), np.float32))

    for li, L in enumerate(w["layers"]):
        p = f"encoder.layer.{li}."
        split = lambda t, perm: g.op("Transpose", [g.op("Reshape", [t, heads_shape])], perm=perm)
        q = split(g.dense(x, C(p + "q.w", L["q"]), C(p + "q.b", L["qb"])), [0, 2, 1, 3])
        k = split(g.dense(x, C(p + "k.w", L["k"]), C(p + "k.b", L["kb"])), [0, 2, 3, 1])
        v = split(g.dense(x, C(p + "v.w", L["v"]), C(p + "v.b", L["vb"])), [0, 2, 1, 3])
        s = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, k]), scale]), m])
        a = g.op("MatMul", [g.op("Softmax", [s], axis=-1), v])
        a = g.op("Reshape", [g.op("Transpose", [a], perm=[0, 2, 1, 3]), merged_shape])
        a = g.dense(a, C(p + "o.w", L["o"]), C(p + "o.b", L["ob"]))
        x = g.layer_norm(g.op("Add", [a, x]), C(p + "ln1.g", L["ln1_g"]), C(p + "ln1.b", L["ln1_b"]), eps)
        f = g.gelu(g.dense(x, C(p + "i.w", L["i"]), C(p + "i.b", L["ib"])))
        f = g.dense(f, C(p + "out.w", L["out"]), C(p + "out.b", L["outb"]))
        x = g.layer_norm(g.op("Add", [f, x]), C(p + "ln2.g", L["ln2_g"]), C(p + "ln2.b", L["ln2_b"]), eps)

    dyn = lambda *rest: ["batch", "sequence", *rest]
    inputs = [helper.make_tensor_value_info(n_, TensorProto.INT64, dyn()) for n_ in (ids, mask, types)]
    if dense:
        # The Transformer module's output as optimum's feature-extraction export names it.
        g.nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"]))
        outputs = [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, dyn(h))]
        graph = helper.make_graph(g.nodes, "bert_dense", inputs, outputs, g.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="lsr-make-random-bert")
        model.ir_version = 8
        onnx.checker.check_model(model)
        return model

    # MLM head transform (cls.predictions.transform): dense + GELU + LayerNorm.
    t = g.gelu(g.dense(x, C("cls.transform.dense.w", w["tr"]), C("cls.transform.dense.b", w["tr_b"])))
    t = g.layer_norm(t, C("cls.transform.LayerNorm.weight", w["tr_g"]), C("cls.transform.LayerNorm.bias", w["tr_lb"]), eps)

    if full:
        # Decoder tied to the word embeddings: logits = t @ word^T + bias.
        wt = g.op("Transpose", [word], perm=[1, 0])
        out = g.op("Add", [g.op("MatMul", [t, wt]), C("cls.predictions.bias", w["dec_b"])])
        g.nodes.append(helper.make_node("Identity", [out], ["logits"]))
        outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, dyn(vocab_size))]
    else:
        g.nodes.append(helper.make_node("Identity", [t], ["hidden_states"]))
        outputs = [helper.make_tensor_value_info("hidden_states", TensorProto.FLOAT, dyn(h))]
    graph = helper.make_graph(g.nodes, "bert_mlm" if full else "bert_mlm_trunk", inputs, outputs, g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="lsr-make-random-bert")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def read_safetensors(path):
    """name -> float32 array, parsed directly (8-byte header length, JSON header, raw data)."""
    dtypes = {"F32": "<f4", "F16": "<f2", "BF16": None}
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        raw = data[a:b]
        if t["dtype"] == "BF16":
            arr = (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(np.float32)
        elif t["dtype"] == "I64":  # buffers such as embeddings.position_ids (not weights)
            arr = np.frombuffer(raw, "<i8")
        elif t["dtype"] in dtypes:
            arr = np.frombuffer(raw, dtypes[t["dtype"]]).astype(np.float32)
        else:
            raise SystemExit(f"{name}: dtype {t['dtype']} is not supported")
        out[name] = arr.reshape(t["shape"])
    return out


def write_safetensors(path, tensors):
    """name -> float32 array, as safetensors (8-byte header length, JSON header, raw little-endian data)."""
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        raw = np.ascontiguousarray(tensors[name], "<f4").tobytes()
        header[name] = dict(dtype="F32", shape=list(tensors[name].shape), data_offsets=[offset, offset + len(raw)])
        offset += len(raw)
        blobs.append(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def hf_tensors(w):
    """Our weight dict under Hugging Face BertModel names (Linear weights back to [out, in])."""
    t = {"embeddings.word_embeddings.weight": w["word"], "embeddings.position_embeddings.weight": w["pos"],
         "embeddings.token_type_embeddings.weight": w["type"], "embeddings.LayerNorm.weight": w["emb_g"],
         "embeddings.LayerNorm.bias": w["emb_b"]}
    names = dict(q="attention.self.query", k="attention.self.key", v="attention.self.value", o="attention.output.dense",
                 i="intermediate.dense", out="output.dense")
    for li, L in enumerate(w["layers"]):
        p = f"encoder.layer.{li}."
        for key, name in names.items():
            t[p + name + ".weight"] = L[key].T.copy()
            t[p + name + ".bias"] = L[key + "b"]
        t[p + "attention.output.LayerNorm.weight"], t[p + "attention.output.LayerNorm.bias"] = L["ln1_g"], L["ln1_b"]
        t[p + "output.LayerNorm.weight"], t[p + "output.LayerNorm.bias"] = L["ln2_g"], L["ln2_b"]
    return t


def hf_mlm_tensors(w):
    """Our weight dict under Hugging Face BertForMaskedLM names: the trunk under `bert.`, the MLM
    transform and the decoder bias (the decoder weight is tied to the word embeddings, so not listed)."""
    t = {"bert." + k: v for k, v in hf_tensors(w).items()}
    t["cls.predictions.transform.dense.weight"] = w["tr"].T.copy()
    t["cls.predictions.transform.dense.bias"] = w["tr_b"]
    t["cls.predictions.transform.LayerNorm.weight"] = w["tr_g"]
    t["cls.predictions.transform.LayerNorm.bias"] = w["tr_lb"]
    t["cls.predictions.bias"] = w["dec_b"]
    return t


# sentence-transformers configuration files carried next to a dense model (src/encoder/dense/dense-model-dir.ts)
ST_FILES = ("modules.json", "1_Pooling/config.json", "sentence_bert_config.json", "config_sentence_transformers.json")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")


def convert_dense(folder, out):
    """A sentence-transformers BERT folder (model.safetensors + configs) -> out/model.onnx with output
    last_hidden_state, plus the tokenizer, the sentence-transformers configs and the safetensors
    (kept so a reference implementation can check the graph against the original weights)."""
    import shutil
    w, cfg, hf_config = weights_from_checkpoint(folder, mlm=False)
    os.makedirs(out, exist_ok=True)
    onnx.save(build_graph(w, cfg, cfg["vocab"], False, dense=True), os.path.join(out, "model.onnx"))
    for f in TOKENIZER_FILES + ST_FILES + ("model.safetensors",):
        src, dst = os.path.join(folder, f), os.path.join(out, f)
        if os.path.exists(src) and os.path.abspath(src) != os.path.abspath(dst):
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy(src, dst)
    if os.path.abspath(folder) != os.path.abspath(out):
        dump(os.path.join(out, "config.json"), hf_config)
    return cfg


def weights_from_checkpoint(folder, mlm=True):
    """Our weight dict from a Hugging Face BertForMaskedLM folder (config.json + model.safetensors), or
    with mlm=False the BertModel trunk alone (a sentence-transformers model: no MLM head needed).
    torch Linear weights are [out, in]; the graph multiplies x @ w, so they are transposed."""
    cfg = json.load(open(os.path.join(folder, "config.json")))
    if cfg.get("model_type") != "bert":
        raise SystemExit(f"model_type {cfg.get('model_type')} is not supported here (bert); use models/export-hf-mlm.py")
    if cfg.get("position_embedding_type", "absolute") != "absolute":
        raise SystemExit(f"position_embedding_type {cfg['position_embedding_type']} is not supported (absolute)")
    t = read_safetensors(os.path.join(folder, "model.safetensors"))
    def g(*names):  # old checkpoints name LayerNorm parameters gamma/beta
        for n in names:
            for k in (n, "bert." + n):
                if k in t:
                    return t[k]
        raise SystemExit(f"{folder}: no tensor {names[0]}")
    ln = lambda p: (g(p + ".weight", p + ".gamma"), g(p + ".bias", p + ".beta"))
    lin = lambda p: (g(p + ".weight").T.copy(), g(p + ".bias"))
    w = dict(word=g("embeddings.word_embeddings.weight"), pos=g("embeddings.position_embeddings.weight"),
             type=g("embeddings.token_type_embeddings.weight"), layers=[])
    w["emb_g"], w["emb_b"] = ln("embeddings.LayerNorm")
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        L = {}
        L["q"], L["qb"] = lin(p + "attention.self.query")
        L["k"], L["kb"] = lin(p + "attention.self.key")
        L["v"], L["vb"] = lin(p + "attention.self.value")
        L["o"], L["ob"] = lin(p + "attention.output.dense")
        L["ln1_g"], L["ln1_b"] = ln(p + "attention.output.LayerNorm")
        L["i"], L["ib"] = lin(p + "intermediate.dense")
        L["out"], L["outb"] = lin(p + "output.dense")
        L["ln2_g"], L["ln2_b"] = ln(p + "output.LayerNorm")
        w["layers"].append(L)
    if mlm:
        w["tr"], w["tr_b"] = lin("cls.predictions.transform.dense")
        w["tr_g"], w["tr_lb"] = ln("cls.predictions.transform.LayerNorm")
        w["dec_b"] = g("cls.predictions.bias", "cls.predictions.decoder.bias")
        if "cls.predictions.decoder.weight" in t and not np.array_equal(t["cls.predictions.decoder.weight"], w["word"]):
            raise SystemExit("the decoder is not tied to the word embeddings; use models/export-hf-mlm.py")
    if cfg.get("hidden_act", "gelu") != "gelu":
        raise SystemExit(f"hidden_act {cfg['hidden_act']} is not supported (gelu)")
    arch = dict(hidden=cfg["hidden_size"], layers=cfg["num_hidden_layers"], heads=cfg["num_attention_heads"],
                intermediate=cfg["intermediate_size"], max_pos=cfg["max_position_embeddings"], vocab=cfg["vocab_size"],
                eps=cfg.get("layer_norm_eps", 1e-12))
    return w, arch, cfg


def write_mlm_folder(w, cfg, hf_config, out, tokenizer_dir):
    """Both layouts of a masked-LM (model.onnx, trunk.onnx + head.bin), the tokenizer files of
    `tokenizer_dir` and config.json, from our weight dict (models/train/export.py uses it too)."""
    import shutil
    os.makedirs(out, exist_ok=True)
    for name, full in (("model.onnx", True), ("trunk.onnx", False)):
        onnx.save(build_graph(w, cfg, cfg["vocab"], full), os.path.join(out, name))
    write_head(os.path.join(out, "head.bin"), w["word"], w["dec_b"])
    for f in TOKENIZER_FILES:
        src, dst = os.path.join(tokenizer_dir, f), os.path.join(out, f)
        if os.path.exists(src) and os.path.abspath(src) != os.path.abspath(dst):
            shutil.copy(src, dst)
    dump(os.path.join(out, "config.json"), hf_config)


HEAD_MAGIC = b"LSRHEAD1"
DTYPE_F32 = 1


def write_head(path, weights, bias):
    """docs/encoder-model-format.md: a 32-byte header, then weights [vocab, dim] f32 and bias [vocab] f32."""
    vocab, dim = weights.shape
    payload = np.ascontiguousarray(weights, "<f4").tobytes() + np.ascontiguousarray(bias, "<f4").tobytes()
    header = HEAD_MAGIC + struct.pack("<IIIIII", 1, DTYPE_F32, vocab, dim, 1, zlib.crc32(payload))
    with open(path, "wb") as f:
        f.write(header)
        f.write(payload)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--preset", choices=PRESETS, default="tiny")
    ap.add_argument("--seed", type=int, default=20251126)
    ap.add_argument("--from-checkpoint", metavar="DIR",
                    help="instead of random weights, convert a Hugging Face BertForMaskedLM folder (config.json, "
                         "model.safetensors, tokenizer files) without PyTorch")
    ap.add_argument("--dense", action="store_true",
                    help="write a dense (sentence-transformers) model instead: model.onnx -> last_hidden_state, "
                         "model.safetensors, modules.json, 1_Pooling/config.json and the other configs")
    ap.add_argument("--pooling", choices=("cls", "mean", "max", "lasttoken"), default="mean", help="--dense: pooling mode")
    ap.add_argument("--max-pos", type=int, help="override the preset's position embeddings")
    ap.add_argument("--decoder-bias", type=float, help="override the preset's decoder bias mean (dec_bias)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if args.dense and args.from_checkpoint:
        cfg = convert_dense(args.from_checkpoint, args.out)
        print(f"wrote {args.out} (dense) from {args.from_checkpoint}: vocab {cfg['vocab']}, hidden {cfg['hidden']}, layers {cfg['layers']}")
        return
    if args.dense:
        # Random weights written as a Hugging Face checkpoint first, then converted like a real model,
        # so the graph and a reference implementation read the same model.safetensors.
        cfg = dict(PRESETS[args.preset])
        if args.max_pos:
            cfg["max_pos"] = args.max_pos
        vocab = build_vocab(cfg["vocab"])
        w = make_weights(np.random.default_rng(args.seed), cfg, len(vocab))
        write_safetensors(os.path.join(args.out, "model.safetensors"), hf_tensors(w))
        write_tokenizer(args.out, vocab, cfg["max_pos"])
        dump(os.path.join(args.out, "config.json"), dict(
            architectures=["BertModel"], model_type="bert", vocab_size=len(vocab), hidden_size=cfg["hidden"],
            num_hidden_layers=cfg["layers"], num_attention_heads=cfg["heads"], intermediate_size=cfg["intermediate"],
            hidden_act="gelu", max_position_embeddings=cfg["max_pos"], type_vocab_size=2, layer_norm_eps=1e-12,
            pad_token_id=0, generator=dict(script="models/make-random-bert.py", preset=args.preset, seed=args.seed, dense=True)))
        modes = ("cls_token", "mean_tokens", "max_tokens", "mean_sqrt_len_tokens", "weightedmean_tokens", "lasttoken")
        pick = dict(cls="cls_token", mean="mean_tokens", max="max_tokens", lasttoken="lasttoken")[args.pooling]
        os.makedirs(os.path.join(args.out, "1_Pooling"), exist_ok=True)
        dump(os.path.join(args.out, "1_Pooling", "config.json"),
             dict(word_embedding_dimension=cfg["hidden"], **{f"pooling_mode_{m}": m == pick for m in modes}, include_prompt=True))
        dump(os.path.join(args.out, "modules.json"), [
            dict(idx=0, name="0", path="", type="sentence_transformers.models.Transformer"),
            dict(idx=1, name="1", path="1_Pooling", type="sentence_transformers.models.Pooling"),
            dict(idx=2, name="2", path="2_Normalize", type="sentence_transformers.models.Normalize")])
        dump(os.path.join(args.out, "sentence_bert_config.json"), dict(max_seq_length=48, do_lower_case=False))
        dump(os.path.join(args.out, "config_sentence_transformers.json"), dict(
            prompts={"query": "query: ", "document": ""}, default_prompt_name=None, similarity_fn_name="cosine"))
        convert_dense(args.out, args.out)
        print(f"wrote {args.out} (dense): vocab {len(vocab)}, hidden {cfg['hidden']}, layers {cfg['layers']}")
        return
    if args.from_checkpoint:
        w, cfg, hf_config = weights_from_checkpoint(args.from_checkpoint)
        write_mlm_folder(w, cfg, hf_config, args.out, args.from_checkpoint)
        print(f"wrote {args.out} from {args.from_checkpoint}: vocab {cfg['vocab']}, hidden {cfg['hidden']}, layers {cfg['layers']}")
        return
    cfg = dict(PRESETS[args.preset])
    if args.decoder_bias is not None:
        cfg["dec_bias"] = args.decoder_bias
    vocab = build_vocab(cfg["vocab"])
    rng = np.random.default_rng(args.seed)
    w = make_weights(rng, cfg, len(vocab))
    for name, full in (("model.onnx", True), ("trunk.onnx", False)):
        onnx.save(build_graph(w, cfg, len(vocab), full), os.path.join(args.out, name))
    write_head(os.path.join(args.out, "head.bin"), w["word"], w["dec_b"])
    write_tokenizer(args.out, vocab, cfg["max_pos"])
    dump(os.path.join(args.out, "config.json"), dict(
        architectures=["BertForMaskedLM"], model_type="bert", vocab_size=len(vocab), hidden_size=cfg["hidden"],
        num_hidden_layers=cfg["layers"], num_attention_heads=cfg["heads"], intermediate_size=cfg["intermediate"],
        hidden_act="gelu", max_position_embeddings=cfg["max_pos"], type_vocab_size=2, layer_norm_eps=1e-12,
        pad_token_id=0, generator=dict(script="models/make-random-bert.py", preset=args.preset, seed=args.seed,
                                       decoder_bias_mean=cfg["dec_bias"])))
    print(f"wrote {args.out}: vocab {len(vocab)}, hidden {cfg['hidden']}, layers {cfg['layers']}")


if __name__ == "__main__":
    main()
