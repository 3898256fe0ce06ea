#!/usr/bin/env python3
"""A judgment-free validation set for `lsr train`: fresh generated queries, judged by the teachers.

Takes a second prepare stage's data (the same corpus, another --seed, so the inverse-cloze sentences
differ), keeps its non-title queries that the training data does not have, and writes a BEIR folder
whose qrels grade each query's listed documents by the teachers' target (round(3 x target), 0 left
out). `lsr eval` on that folder scores how well a model reproduces its teachers' ranking on queries it
never saw, without reading a human judgment: the criterion for choosing among training settings.

  python3 models/train/make-validation.py --train WORK1/data --fresh WORK2/data --corpus ../shared/data/scifact/corpus.jsonl \\
      --out bench/out/train/val-scifact [--queries 500] [--seed 7]
"""
import argparse
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train import teacher_grades  # noqa: E402  (train.py imports its heavy modules inside main())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", required=True, help="the training data folder (its queries are excluded)")
    ap.add_argument("--fresh", required=True, help="a prepare data folder made with another seed")
    ap.add_argument("--corpus", required=True, help="the corpus.jsonl both were made from (linked, not copied)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    seen = set(json.loads(line)["query"] for line in open(os.path.join(args.train, "train.jsonl")))
    lines = [json.loads(line) for line in open(os.path.join(args.fresh, "train.jsonl"))]
    fresh = [x for x in lines if x["kind"] != "title" and x["query"] not in seen]
    random.Random(args.seed).shuffle(fresh)
    fresh = fresh[:args.queries]
    os.makedirs(os.path.join(args.out, "qrels"), exist_ok=True)
    link = os.path.join(args.out, "corpus.jsonl")
    if not os.path.exists(link):
        os.symlink(os.path.abspath(args.corpus), link)
    with open(os.path.join(args.out, "queries.jsonl"), "w") as q, open(os.path.join(args.out, "qrels", "test.tsv"), "w") as r:
        r.write("query-id\tcorpus-id\tscore\n")
        for i, x in enumerate(fresh):
            q.write(json.dumps({"_id": f"v{i}", "text": x["query"]}) + "\n")
            for d, g in teacher_grades(x).items():
                r.write(f"v{i}\t{d}\t{g}\n")
    print(f"{args.out}: {len(fresh)} queries judged by the teachers")


if __name__ == "__main__":
    main()
