"""Seismic (PyPI pyseismic-lsr) on the benchmark's vectors: builds a SeismicIndexRaw from its own
binary input format, then times search only, one query per call on one thread, over a grid of
query-time settings on the TUNING query set (its own oracle); picks the fastest setting with
recall@10 >= target there and times only that setting on the scoring set (the `queries` files), whose
recall the bench computes. When no setting reaches the target on the tuning set, Seismic is reported
as missing it: met_target false, query settings and scoring figures null (no fallback setting).

Usage: run-seismic.py VEC_DIR OUT_DIR '{"n_postings":..., "query_cuts":[...], "heap_factors":[...], ...}'
Run with RAYON_NUM_THREADS=1 so the build and the searches stay on one thread.
"""
import json
import os
import sys
import time
from importlib.metadata import version

import numpy as np

from vectors import emit, load, load_oracle, load_queries, log, peak_rss_bytes, recall_at, rss_bytes, time_queries, write_ids


def write_inner_format(path, off, terms, weights, chunk=100_000):
    """Seismic's inner format: u32 row count, then per row u32 length, u32 components, f32 values
    (all little-endian). Vectorized with numpy a chunk of rows at a time: a Python loop over 1M rows
    takes minutes, one buffer for all of them takes gigabytes of index arrays."""
    n = len(off) - 1
    with open(path, "wb") as f:
        np.array([n], dtype=np.uint32).tofile(f)
        for a in range(0, n, chunk):
            b = min(n, a + chunk)
            o = off[a:b + 1] - off[a]
            lens = np.diff(o)
            buf = np.zeros((b - a) + 2 * int(o[-1]), dtype=np.uint32)
            starts = np.arange(b - a, dtype=np.int64) + 2 * o[:-1]
            buf[starts] = lens
            # Entry j of row i sits at starts[i] + 1 + (j - o[i]); its value lens[i] further on.
            row = np.repeat(np.arange(b - a, dtype=np.int64), lens)
            pos = starts[row] + 1 + (np.arange(int(o[-1]), dtype=np.int64) - o[row])
            buf[pos] = terms[off[a]:off[b]]
            buf[pos + lens[row]] = weights[off[a]:off[b]].view(np.uint32)
            buf.tofile(f)


def main():
    vec_dir, out_dir, cfg = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    import seismic

    meta, (doff, dterms, dw), (qoff, qterms, qw) = load(vec_dir)
    nq = meta["queries"]
    ntq = meta["tuning_queries"]
    tuning_oracle = load_oracle(vec_dir, ntq, "tuning")
    toff, tterms, tw = load_queries(vec_dir, "tuning")
    k = cfg.get("k", 10)
    target = cfg.get("target_recall", 0.95)
    reps = cfg.get("reps", 3)
    path = os.path.join(out_dir, "seismic-docs.bin")
    write_inner_format(path, doff, dterms, dw)
    del doff, dterms, dw
    build = {
        "n_postings": cfg["n_postings"],
        "centroid_fraction": cfg.get("centroid_fraction", 0.1),
        "min_cluster_size": cfg.get("min_cluster_size", 2),
        "summary_energy": cfg.get("summary_energy", 0.4),
        "max_fraction": cfg.get("max_fraction", 1.5),
        "doc_cut": cfg.get("doc_cut", 15),
    }
    log(f"seismic: building {build}")
    # Memory: this process's resident set just before the build (the input file is on disk, the
    # document arrays released) and after it; the growth is what the built index holds in memory.
    rss_before = rss_bytes()
    t0 = time.perf_counter()
    index = seismic.SeismicIndexRaw.build(path, **build)
    build_s = time.perf_counter() - t0
    rss_after = rss_bytes()
    os.unlink(path)
    log(f"seismic: built in {build_s:.1f}s, rss {rss_before / 2**30:.2f} -> {rss_after / 2**30:.2f} GiB")

    qc = [np.ascontiguousarray(qterms[qoff[i]:qoff[i + 1]].astype(np.int32)) for i in range(nq)]
    qv = [np.ascontiguousarray(qw[qoff[i]:qoff[i + 1]]) for i in range(nq)]
    tc = [np.ascontiguousarray(tterms[toff[i]:toff[i + 1]].astype(np.int32)) for i in range(ntq)]
    tv = [np.ascontiguousarray(tw[toff[i]:toff[i + 1]]) for i in range(ntq)]

    def ids_of(results):
        ids = np.full((len(results), k), 0xFFFFFFFF, dtype=np.uint32)
        for q, r in enumerate(results):
            for j, (_, doc) in enumerate(r[:k]):
                ids[q, j] = doc
        return ids

    sweep = []
    for cut in cfg["query_cuts"]:
        for hf in cfg["heap_factors"]:
            run = lambda q, cut=cut, hf=hf: index.search(tc[q], tv[q], k, cut, hf, 0, True)
            res, qps, lat = time_queries(run, ntq, cfg.get("grid_reps", 3), warmup=False)
            rec = recall_at(ids_of(res), tuning_oracle, k)
            sweep.append({"query_cut": cut, "heap_factor": hf, "qps": qps, **lat, "recall_at_10": rec})
            log(f"seismic: query_cut={cut} heap_factor={hf} qps={qps:.0f} recall={rec}")
    # The recall curve: at each target, the fastest setting reaching it on the tuning set, timed on the
    # scoring set (recall computed by the bench from the ids, as for the main point).
    # A setting chosen for two targets (or the main point's) is timed once: one figure per setting.
    timed = {}

    def score(b):
        key = (b["query_cut"], b["heap_factor"])
        if key not in timed:
            run = lambda q: index.search(qc[q], qv[q], k, key[0], key[1], 0, True)
            res, qps, lat = time_queries(run, nq, reps)
            name = f"seismic.qc{key[0]}-hf{key[1]}.ids.u32"
            write_ids(os.path.join(out_dir, name), ids_of(res))
            timed[key] = (qps, lat, name)
        return timed[key]

    curve = []
    for t in cfg.get("curve_targets", []):
        ok_t = [s for s in sweep if s["recall_at_10"] is not None and s["recall_at_10"] >= t]
        if not ok_t:
            curve.append({"target": t, "setting": None, "recall_on_tuning": None, "qps": None, "p50_ms": None,
                          "p99_ms": None, "recall_at_10": None, "ids_file": None})
            continue
        b = max(ok_t, key=lambda s: s["qps"])
        qps, lat, name = score(b)
        curve.append({"target": t, "setting": f"query_cut {b['query_cut']}, heap_factor {b['heap_factor']}",
                      "recall_on_tuning": b["recall_at_10"], "qps": qps, "p50_ms": lat.get("p50_ms"),
                      "p99_ms": lat.get("p99_ms"), "recall_at_10": None, "ids_file": name})
        log(f"seismic: curve {t}: {curve[-1]['setting']} qps={qps:.0f}")
    ok = [s for s in sweep if s["recall_at_10"] is not None and s["recall_at_10"] >= target]
    memory = {"rss_before_build_bytes": rss_before, "rss_after_build_bytes": rss_after,
              "rss_growth_bytes": rss_after - rss_before, "peak_rss_bytes": peak_rss_bytes()}
    out = {"version": version("pyseismic-lsr"), "build_s": build_s, "build": build, "memory": memory, "met_target": bool(ok),
           "tuning_queries": ntq, "sweep": sweep, "curve": curve}
    if not ok:
        log(f"seismic: no setting reached recall {target} on the tuning set; reported as missing the target")
        emit({**out, "query": None, "qps": None, "p50_ms": None, "p99_ms": None, "mean_ms": None,
              "recall_at_10": None, "ids_file": None})
        return
    best = max(ok, key=lambda s: s["qps"])
    qps, lat, name = score(best)
    # Batch search at the chosen setting on 1 and 2 threads (Seismic's batch_search, Rayon over the
    # queries, read from a file in its inner format): medians of `reps` passes over the scoring set.
    qpath = os.path.join(out_dir, "seismic-queries.bin")
    write_inner_format(qpath, qoff, qterms, qw)
    batch = {}
    for threads in (1, 2):
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            index.batch_search(qpath, k, best["query_cut"], best["heap_factor"], 0, True, threads)
            times.append(time.perf_counter() - t0)
        batch[f"batch_{threads}t_qps"] = nq / sorted(times)[len(times) // 2]
        log(f"seismic: batch_search on {threads} thread(s): {batch[f'batch_{threads}t_qps']:.0f} qps")
    os.unlink(qpath)
    # recall_at_10 on the scoring set is computed by the bench from the ids, one definition for all.
    emit({**out, "query": {"query_cut": best["query_cut"], "heap_factor": best["heap_factor"]},
          "qps": qps, **lat, "recall_at_10": None, "ids_file": name, **batch})


if __name__ == "__main__":
    main()
