"""Reference values from pytrec_eval (trec_eval compiled in) for test/eval/conformance.test.ts.

Reads one JSON object on stdin: {"fixtures": [{"qrels": {qid: {doc: rel}}, "run": {qid: {doc: score}},
"cutoffs": [k...]}], "ttests": [[a...], [b...]]} and prints {"fixtures": [{"per_query": ..., "mean": ...}],
"ttests": [p...]} on stdout. Exit code 3 when pytrec_eval is missing, so the test can skip with a message.
"""
import json
import struct
import sys

try:
    import pytrec_eval
except ImportError:
    print("pytrec_eval is not installed (pip install pytrec-eval-terrier)", file=sys.stderr)
    sys.exit(3)


def f32(x):
    # trec_eval stores scores as C floats; round the same way to order documents.
    return struct.unpack("f", struct.pack("f", x))[0] if abs(x) < 3.4e38 else x


def truncate(run, k):
    # trec_eval -M k: keep the first k documents in trec_eval order (score desc, docno desc by bytes).
    out = {}
    for q, docs in run.items():
        items = sorted(docs.items(), key=lambda kv: kv[0].encode("utf-8"), reverse=True)
        items.sort(key=lambda kv: f32(kv[1]), reverse=True)  # stable: keeps docno-desc among ties
        out[q] = dict(items[:k])
    return out


def main():
    req = json.load(sys.stdin)
    out = {"fixtures": [], "ttests": []}
    for fx in req.get("fixtures", []):
        qrels, run, cut = fx["qrels"], fx["run"], ",".join(str(k) for k in fx["cutoffs"])
        measures = {"ndcg_cut." + cut, "P." + cut, "recall." + cut, "map_cut." + cut, "map", "recip_rank"}
        ev = pytrec_eval.RelevanceEvaluator(qrels, measures, relevance_level=fx.get("relevance_level", 1))
        per_query = ev.evaluate(run)
        for k in fx["cutoffs"]:
            rr = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}, relevance_level=fx.get("relevance_level", 1))
            for q, v in rr.evaluate(truncate(run, k)).items():
                per_query[q]["recip_rank_%d" % k] = v["recip_rank"]
        names = sorted({m for v in per_query.values() for m in v})
        mean = {
            m: pytrec_eval.compute_aggregated_measure(m, [v[m] for v in per_query.values()])
            for m in names
        }
        out["fixtures"].append({"per_query": per_query, "mean": mean})
    if req.get("ttests"):
        from scipy import stats

        for a, b in req["ttests"]:
            out["ttests"].append(float(stats.ttest_rel(a, b).pvalue))
    json.dump(out, sys.stdout)


main()
