"""Exact inner-product top-k by brute force with numpy, in float64: the ground truth for every
dense recall figure (ours exact f32, i8, HNSW at each ef, and the peers'), over every query, run
whether or not any peer runs. Writes oracle.ids.u32 and oracle.scores.f64 ([queries, k], best
first, ties by ascending document number, like the engine) next to the vectors.

Usage: dense-oracle.py VEC_DIR K
"""
import json
import os
import sys
import time

import numpy as np

from vectors import emit, log


def main():
    vec_dir, k = sys.argv[1], int(sys.argv[2])
    with open(os.path.join(vec_dir, "meta.json")) as f:
        meta = json.load(f)
    dim, n, nq = meta["dim"], meta["docs"], meta["queries"]
    docs = np.fromfile(os.path.join(vec_dir, "docs.f32"), dtype=np.float32).reshape(n, dim).astype(np.float64)
    queries = np.fromfile(os.path.join(vec_dir, "queries.f32"), dtype=np.float32).reshape(nq, dim).astype(np.float64)
    t0 = time.perf_counter()
    depth = min(k, n)
    ids = np.full((nq, k), 0xFFFFFFFF, dtype=np.uint32)
    scores = np.zeros((nq, k), dtype=np.float64)
    # Blocks of queries so the score matrix stays near 256 MB.
    batch = max(1, min(nq, int(2**25 // max(1, n))))
    for b in range(0, nq, batch):
        S = queries[b:b + batch] @ docs.T
        for r in range(S.shape[0]):
            v = S[r]
            # Candidates: everything at or above the depth-th score (ties kept), then (-score, docno).
            kth = np.partition(v, n - depth)[n - depth]
            cand = np.nonzero(v >= kth)[0]
            order = cand[np.lexsort((cand, -v[cand]))][:depth]
            ids[b + r, :depth] = order
            scores[b + r, :depth] = v[order]
    secs = time.perf_counter() - t0
    ids.tofile(os.path.join(vec_dir, "oracle.ids.u32"))
    scores.tofile(os.path.join(vec_dir, "oracle.scores.f64"))
    log(f"numpy float64 oracle: {nq} queries x {n} docs in {secs:.1f} s")
    emit({"depth": k, "queries": nq, "seconds": secs, "numpy": np.__version__})


if __name__ == "__main__":
    main()
