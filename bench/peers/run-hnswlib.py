"""hnswlib (PyPI hnswlib) on the dense benchmark's vectors, in two modes so the bench can interleave
its timings with ours (on a shared machine the load drifts within minutes, and a peer timed in one
block before or after ours measures the drift as much as the code):

- build: an inner-product HNSW index with the same M, ef_construction and build threads as ours,
  saved to OUT_DIR/hnswlib.bin. (The ground truth is dense-oracle.py's, run by the bench whether or
  not this peer runs.)
- search: loads that index and times search only on one thread for each ef in `efs`, per query (one
  knn_query call each, as ours is timed) and as one batch call.

Ids go to OUT_DIR as raw u32 files; the last stdout line is the JSON result.

Usage: run-hnswlib.py VEC_DIR OUT_DIR '{"mode":"build"|"search","m":16,"ef_construction":200,"efs":[...],"k":10,"reps":3,"threads":2}'
"""
import json
import os
import statistics
import sys
import time
from importlib.metadata import version

import numpy as np

from vectors import emit, log, time_queries, write_ids


def main():
    vec_dir, out_dir, cfg = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    with open(os.path.join(vec_dir, "meta.json")) as f:
        meta = json.load(f)
    dim, n, nq = meta["dim"], meta["docs"], meta["queries"]
    docs = np.fromfile(os.path.join(vec_dir, "docs.f32"), dtype=np.float32).reshape(n, dim)
    queries = np.fromfile(os.path.join(vec_dir, "queries.f32"), dtype=np.float32).reshape(nq, dim)
    k, reps = cfg.get("k", 10), cfg.get("reps", 3)

    import hnswlib

    path = os.path.join(out_dir, "hnswlib.bin")
    if cfg["mode"] == "build":
        p = hnswlib.Index(space="ip", dim=dim)
        t0 = time.perf_counter()
        p.init_index(max_elements=n, M=cfg["m"], ef_construction=cfg["ef_construction"], random_seed=1)
        p.set_num_threads(cfg.get("threads", 1))
        p.add_items(docs, np.arange(n))
        build_s = time.perf_counter() - t0
        log(f"hnswlib build {build_s:.1f} s")
        p.save_index(path)
        index_bytes = os.path.getsize(path)
        emit({"version": version("hnswlib"), "build_s": build_s, "index_bytes": index_bytes,
              "bytes_per_vector": index_bytes / n})
        return

    p = hnswlib.Index(space="ip", dim=dim)
    p.load_index(path, max_elements=n)
    p.set_num_threads(1)
    runs = []
    for ef in cfg["efs"]:
        p.set_ef(max(ef, k))
        res, qps, lat = time_queries(lambda q: p.knn_query(queries[q:q + 1], k=k)[0][0], nq, reps)
        write_ids(os.path.join(out_dir, f"hnswlib.ef{ef}.ids.u32"), np.stack(res))
        batch = []
        for _ in range(reps):
            t0 = time.perf_counter()
            p.knn_query(queries, k=k, num_threads=1)
            batch.append(nq / (time.perf_counter() - t0))
        runs.append({"ef": ef, "qps": qps, **lat, "batch_qps": statistics.median(batch)})
        log(f"hnswlib ef {ef}: {qps:.0f} q/s per call, {statistics.median(batch):.0f} q/s batched")
    emit({"runs": runs})

if __name__ == "__main__":
    main()
