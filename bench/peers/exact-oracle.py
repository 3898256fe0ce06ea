"""Exact top-k by brute force with scipy.sparse, in float64: the correctness oracle for every
system in the benchmark. Writes oracle.ids.u32 and oracle.scores.f64 ([queries, depth], best
first, ties by ascending document number, like the engine) next to the vectors, and the same for
the tuning query set (tuning-oracle.*) when the bench wrote one.

Usage: exact-oracle.py VEC_DIR [DEPTH]"""
import os
import sys
import time

import numpy as np
import scipy
import scipy.sparse as sp

from vectors import ORACLE_PREFIX, emit, load, load_queries, log


def main():
    vec_dir = sys.argv[1]
    depth = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    meta, (doff, dterms, dw), _ = load(vec_dir)
    n, V = meta["docs"], meta["vocab"]
    t0 = time.perf_counter()
    # Term-major (inverted) float64 matrix: a query batch times it touches only the postings of
    # the query terms, like a term-at-a-time scorer, instead of every document row.
    inv = sp.csr_matrix((dw.astype(np.float64), dterms, doff), shape=(n, V)).T.tocsr()
    del dw
    sets = ["queries"] + (["tuning"] if meta.get("tuning_queries") else [])
    for name in sets:
        run(vec_dir, name, load_queries(vec_dir, name), inv, n, V, depth)
    secs = time.perf_counter() - t0
    emit({"depth": depth, "seconds": secs, "scipy": scipy.__version__, "sets": sets})


def run(vec_dir, name, q_arrays, inv, n, V, depth):
    qoff, qterms, qw = q_arrays
    nq = len(qoff) - 1
    Q = sp.csr_matrix((qw.astype(np.float64), qterms, qoff), shape=(nq, V))
    ids = np.full((nq, depth), 0xFFFFFFFF, dtype=np.uint32)
    scores = np.zeros((nq, depth), dtype=np.float64)
    batch = max(1, min(64, int(4e8 // max(1, n * 16))))
    for b in range(0, nq, batch):
        S = (Q[b:b + batch] @ inv).tocsr()
        for r in range(S.shape[0]):
            a, e = S.indptr[r], S.indptr[r + 1]
            cols, vals = S.indices[a:e], S.data[a:e]
            pos = vals > 0
            cols, vals = cols[pos], vals[pos]
            m = min(depth, len(vals))
            if m == 0:
                continue
            # Candidates: everything tying with the depth-th score, then sort by (-score, docno).
            if len(vals) > depth:
                kth = np.partition(vals, len(vals) - depth)[len(vals) - depth]
                keep = vals >= kth
                cols, vals = cols[keep], vals[keep]
            order = np.lexsort((cols, -vals))[:m]
            ids[b + r, :m] = cols[order]
            scores[b + r, :m] = vals[order]
        if b % (batch * 8) == 0:
            log(f"oracle ({name}): {b + S.shape[0]}/{nq} queries")
    ids.tofile(os.path.join(vec_dir, f"{ORACLE_PREFIX[name]}.ids.u32"))
    scores.tofile(os.path.join(vec_dir, f"{ORACLE_PREFIX[name]}.scores.f64"))


if __name__ == "__main__":
    main()
