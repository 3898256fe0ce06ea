"""Makes bench/out/scifact-pairs.jsonl for train_curve.py (run here, not on the GPU machine, which has no
../shared): one {"q": title, "d": first 1,200 characters of the abstract} per SciFact document with both.
The file stays out of the repo (bench/out/ is ignored); carry it to the GPU machine with the run."""
import json
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "data", "scifact", "corpus.jsonl")
dst = os.path.join(ROOT, "bench", "out", "scifact-pairs.jsonl")
os.makedirs(os.path.dirname(dst), exist_ok=True)
n = 0
with open(src) as f, open(dst, "w") as g:
    for line in f:
        d = json.loads(line)
        if d.get("title") and d.get("text"):
            g.write(json.dumps({"q": d["title"], "d": d["text"][:1200]}) + "\n")
            n += 1
print(f"{dst}: {n} pairs")
