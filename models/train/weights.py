"""Moves a BERT masked-LM between the service's model folder (ONNX graphs built by
models/make-random-bert.py's graph builder, docs/encoder-model-format.md) and a Hugging Face folder
(config.json + model.safetensors) that PyTorch, transformers and sentence-transformers load.

Both directions go through make-random-bert.py's weight dict, so the names and transpositions live in
one place: `onnx_to_hf` reads the initializers of the base model's model.onnx (or trunk.onnx +
head.bin) into that dict and writes it under Hugging Face names; `hf_to_service` is that script's
`--from-checkpoint` path (graph rebuilt from the trained weights, head.bin from the tied embeddings).
Needs numpy and onnx only, no PyTorch, so the export also runs where PyTorch is absent.
"""
import functools
import importlib.util
import json
import os
import shutil
import struct

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


@functools.cache
def builder():
    """models/make-random-bert.py as a module (its file name has a dash), loaded once."""
    spec = importlib.util.spec_from_file_location("make_random_bert", os.path.join(ROOT, "models", "make-random-bert.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def read_head(path):
    """head.bin (version 1, f32 or bf16) -> (weights [vocab, dim] f32, bias [vocab] f32 or None)."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:8] != b"LSRHEAD1":
        raise SystemExit(f"{path}: not a head.bin (magic)")
    version, dtype, vocab, dim, flags, _crc = struct.unpack("<IIIIII", raw[8:32])
    if version != 1 or dtype not in (1, 2):
        raise SystemExit(f"{path}: version {version} dtype {dtype} not supported")
    n = vocab * dim
    if dtype == 1:
        w = np.frombuffer(raw, "<f4", n, 32).reshape(vocab, dim)
        at = 32 + 4 * n
    else:
        w = (np.frombuffer(raw, "<u2", n, 32).astype(np.uint32) << 16).view(np.float32).reshape(vocab, dim)
        at = 32 + 2 * n
    b = np.frombuffer(raw, "<f4", vocab, at) if flags & 1 else None
    return w.copy(), None if b is None else b.copy()


def onnx_weights(model_dir):
    """The base model folder's weights as make-random-bert.py's dict. Reads model.onnx when present
    (it holds the decoder bias), else trunk.onnx + head.bin; the projection must be tied to the word
    embeddings (BERT's layout, the only one the graph builder writes)."""
    import onnx
    from onnx import numpy_helper

    full = os.path.join(model_dir, "model.onnx")
    path = full if os.path.exists(full) else os.path.join(model_dir, "trunk.onnx")
    if not os.path.exists(path):
        raise SystemExit(f"{model_dir}: neither model.onnx nor trunk.onnx (docs/encoder-model-format.md)")
    t = {i.name: numpy_helper.to_array(i) for i in onnx.load(path).graph.initializer}
    if "embeddings.word_embeddings.weight" not in t or "encoder.layer.0.q.w" not in t:
        raise SystemExit(f"{path}: not a graph written by models/make-random-bert.py's builder (initializer names)")
    w = dict(word=t["embeddings.word_embeddings.weight"], pos=t["embeddings.position_embeddings.weight"],
             type=t["embeddings.token_type_embeddings.weight"], emb_g=t["embeddings.LayerNorm.weight"],
             emb_b=t["embeddings.LayerNorm.bias"], layers=[])
    i = 0
    while f"encoder.layer.{i}.q.w" in t:
        p = f"encoder.layer.{i}."
        g = lambda k: t[p + k]  # noqa: E731
        w["layers"].append(dict(q=g("q.w"), qb=g("q.b"), k=g("k.w"), kb=g("k.b"), v=g("v.w"), vb=g("v.b"),
                                o=g("o.w"), ob=g("o.b"), ln1_g=g("ln1.g"), ln1_b=g("ln1.b"), i=g("i.w"), ib=g("i.b"),
                                out=g("out.w"), outb=g("out.b"), ln2_g=g("ln2.g"), ln2_b=g("ln2.b")))
        i += 1
    w["tr"], w["tr_b"] = t["cls.transform.dense.w"], t["cls.transform.dense.b"]
    w["tr_g"], w["tr_lb"] = t["cls.transform.LayerNorm.weight"], t["cls.transform.LayerNorm.bias"]
    head = os.path.join(model_dir, "head.bin")
    if "cls.predictions.bias" in t:
        w["dec_b"] = t["cls.predictions.bias"]
    elif os.path.exists(head):
        hw, hb = read_head(head)
        if not np.array_equal(hw, w["word"]):
            raise SystemExit(f"{head}: the projection is not tied to the word embeddings")
        w["dec_b"] = hb if hb is not None else np.zeros(hw.shape[0], np.float32)
    else:
        raise SystemExit(f"{model_dir}: no decoder bias (model.onnx or head.bin)")
    return {k: (v.astype(np.float32) if isinstance(v, np.ndarray) else v) for k, v in w.items()}


def onnx_to_hf(model_dir, out):
    """Writes a Hugging Face BertForMaskedLM folder for the base model at `model_dir`."""
    mk = builder()
    w = onnx_weights(model_dir)
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    if cfg.get("model_type") != "bert":
        raise SystemExit(f"{model_dir}: model_type {cfg.get('model_type')} is not supported (bert)")
    cfg = {k: v for k, v in cfg.items() if k != "generator"}
    cfg.update(architectures=["BertForMaskedLM"], tie_word_embeddings=True, vocab_size=int(w["word"].shape[0]))
    os.makedirs(out, exist_ok=True)
    mk.write_safetensors(os.path.join(out, "model.safetensors"),
                         {k: np.ascontiguousarray(v, np.float32) for k, v in mk.hf_mlm_tensors(w).items()})
    mk.dump(os.path.join(out, "config.json"), cfg)
    for f in mk.TOKENIZER_FILES:
        if os.path.exists(os.path.join(model_dir, f)):
            shutil.copy(os.path.join(model_dir, f), os.path.join(out, f))
    return cfg


def merge_shards(folder):
    """A save_pretrained folder's tensors (one model.safetensors or several shards) as one dict."""
    mk = builder()
    index = os.path.join(folder, "model.safetensors.index.json")
    files = sorted(set(json.load(open(index))["weight_map"].values())) if os.path.exists(index) else ["model.safetensors"]
    t = {}
    for f in files:
        t.update(mk.read_safetensors(os.path.join(folder, f)))
    return t


def hf_to_service(checkpoint, out, tokenizer_dir):
    """A trained BertForMaskedLM folder (possibly sharded) -> the service's model folder at `out`:
    model.onnx, trunk.onnx, head.bin, config.json and the tokenizer files of `tokenizer_dir`."""
    import tempfile

    mk = builder()
    tensors = merge_shards(checkpoint)
    # save_pretrained drops the tied decoder weight; the builder checks the tie only when it is there.
    tensors.pop("cls.predictions.decoder.weight", None)
    with tempfile.TemporaryDirectory() as tmp:
        mk.write_safetensors(os.path.join(tmp, "model.safetensors"), tensors)
        shutil.copy(os.path.join(checkpoint, "config.json"), os.path.join(tmp, "config.json"))
        w, cfg, hf_config = mk.weights_from_checkpoint(tmp)
    mk.write_mlm_folder(w, cfg, {k: v for k, v in hf_config.items() if not k.startswith("_")}, out, tokenizer_dir)
    return w, cfg


def check_export(out, mlm, tokenizer, texts, tol=1e-3):
    """The exported model.onnx's logits against the trained PyTorch masked-LM (eval mode, fp32) on a few
    texts, run by onnxruntime where installed, else by onnx's reference evaluator. Raises when the largest
    difference exceeds `tol`: a folder the service would serve differently from what was trained is never
    left behind silently."""
    import numpy as np
    import torch

    enc = tokenizer(texts, padding=True, truncation=True, max_length=64, return_tensors="np")
    feeds = {"input_ids": enc["input_ids"].astype(np.int64), "attention_mask": enc["attention_mask"].astype(np.int64),
             "token_type_ids": np.zeros_like(enc["input_ids"], dtype=np.int64)}
    path = os.path.join(out, "model.onnx")
    try:
        import onnxruntime as ort
        got = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, feeds)[0]
        runner = "onnxruntime"
    except ImportError:
        from onnx.reference import ReferenceEvaluator
        got = ReferenceEvaluator(path).run(None, feeds)[0]
        runner = "onnx.reference"
    with torch.no_grad():
        ref = mlm(**{k: torch.from_numpy(v) for k, v in feeds.items()}).logits.numpy()
    m = enc["attention_mask"].astype(bool)
    diff = float(np.abs(got[m] - ref[m]).max())
    if not diff <= tol:
        raise SystemExit(f"export check failed: model.onnx logits differ from PyTorch's by {diff} (> {tol})")
    return {"runner": runner, "texts": len(texts), "max_abs_logit_diff": diff, "tolerance": tol}
