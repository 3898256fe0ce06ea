"""Shared by the peer scripts: reads the vectors the TypeScript bench wrote, times searches, and
scores results against the exact oracle, so every system is measured the same way."""
import json
import os
import statistics
import sys
import time

import numpy as np


def log(*args):
    # stdout carries the one JSON result line; progress goes to stderr.
    print(*args, file=sys.stderr, flush=True)


def load(vec_dir, query_set="queries"):
    """Returns meta and CSR arrays for docs and one query set (offsets as int64 for numpy/scipy):
    "queries" is the scoring set every reported figure comes from, "tuning" the set on which
    settings are chosen (disjoint from it, its own seed)."""
    with open(os.path.join(vec_dir, "meta.json")) as f:
        meta = json.load(f)

    def part(name):
        off = np.fromfile(os.path.join(vec_dir, f"{name}.offsets.u32"), dtype=np.uint32).astype(np.int64)
        terms = np.fromfile(os.path.join(vec_dir, f"{name}.terms.u32"), dtype=np.uint32)
        weights = np.fromfile(os.path.join(vec_dir, f"{name}.weights.f32"), dtype=np.float32)
        return off, terms, weights

    return meta, part("docs"), part(query_set)


def load_queries(vec_dir, query_set):
    """CSR arrays of one query set."""
    off = np.fromfile(os.path.join(vec_dir, f"{query_set}.offsets.u32"), dtype=np.uint32).astype(np.int64)
    terms = np.fromfile(os.path.join(vec_dir, f"{query_set}.terms.u32"), dtype=np.uint32)
    weights = np.fromfile(os.path.join(vec_dir, f"{query_set}.weights.f32"), dtype=np.float32)
    return off, terms, weights


ORACLE_PREFIX = {"queries": "oracle", "tuning": "tuning-oracle"}


def load_oracle(vec_dir, nq, query_set="queries"):
    path = os.path.join(vec_dir, f"{ORACLE_PREFIX[query_set]}.ids.u32")
    if not os.path.exists(path):
        return None
    ids = np.fromfile(path, dtype=np.uint32)
    return ids.reshape(nq, -1)


def recall_at(ids, oracle, k=10):
    """Mean |top-k ∩ exact top-k| / k; `ids` is [nq, k] with 2^32-1 (or -1) for missing results.
    The padding is dropped from both sides first: a short result set must not score a hit on the
    oracle's own padding (a query with fewer than k matching documents)."""
    if oracle is None:
        return None
    pad = {0xFFFFFFFF, -1}
    total = 0.0
    for q in range(len(ids)):
        got = set(int(x) for x in ids[q, :k].tolist()) - pad
        truth = set(int(x) for x in oracle[q, :k].tolist()) - pad
        total += len(got & truth) / k
    return total / len(ids)


def time_queries(search, nq, reps, warmup=True):
    """Runs search(q) for every query `reps` times after an untimed warm-up pass.

    Returns (results of the last pass, qps as the median over passes, latencies in ms pooled
    over passes). Only the search call is inside the timer.
    """
    if warmup:
        for q in range(nq):
            search(q)
    qps, lat = [], []
    results = [None] * nq
    for _ in range(reps):
        total = 0
        for q in range(nq):
            t0 = time.perf_counter_ns()
            r = search(q)
            dt = time.perf_counter_ns() - t0
            total += dt
            lat.append(dt / 1e6)
            results[q] = r
        qps.append(nq / (total / 1e9))
    lat.sort()
    return results, statistics.median(qps), {
        "p50_ms": lat[len(lat) // 2],
        "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))],
        "mean_ms": sum(lat) / len(lat),
    }


def write_ids(path, ids):
    np.asarray(ids, dtype=np.uint32).tofile(path)


def rss_bytes():
    """This process's resident set now (Linux /proc/self/statm), in bytes."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes():
    """This process's largest resident set so far (VmHWM), in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return None


def emit(obj):
    print(json.dumps(obj), flush=True)
