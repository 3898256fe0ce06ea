"""Reference values from pytrec_eval (trec_eval compiled in) for test/eval/conformance.test.ts.

Reads one JSON object on stdin: {"fixtures": [{"qrels": {qid: {doc: rel}}, "run": {qid: {doc: score}},
"cutoffs": [k...], "truncated": {k: run}}], "ttests": [[a...], [b...]]} and prints {"fixtures": [{"per_query": ..., "mean": ...}],
"ttests": [p...]} on stdout. Exit code 3 when pytrec_eval is missing, so the test can skip with a message.
"""
import json
import sys

try:
    import pytrec_eval
except ImportError:
    print("pytrec_eval is not installed (pip install pytrec-eval-terrier)", file=sys.stderr)
    sys.exit(3)


def main():
    req = json.load(sys.stdin)
    out = {"fixtures": [], "ttests": []}
    for fx in req.get("fixtures", []):
        qrels, run, cut = fx["qrels"], fx["run"], ",".join(str(k) for k in fx["cutoffs"])
        measures = {"ndcg_cut." + cut, "P." + cut, "recall." + cut, "map_cut." + cut, "map", "recip_rank"}
        ev = pytrec_eval.RelevanceEvaluator(qrels, measures, relevance_level=fx.get("relevance_level", 1))
        per_query = ev.evaluate(run)
        # MRR@k as trec_eval -M k: recip_rank over each query's first k documents. The test sends
        # those runs ("truncated": {k: run}), cut by the code lsr eval ranks with, not re-sorted here.
        for k, cut_run in fx.get("truncated", {}).items():
            rr = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}, relevance_level=fx.get("relevance_level", 1))
            for q, v in rr.evaluate(cut_run).items():
                per_query[q]["recip_rank_%s" % k] = v["recip_rank"]
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
