"""Reference values from ranx (PyPI ranx, pinned in .ci/requirements.txt), an implementation of the
measures independent of trec_eval, for test/eval/ranx-conformance.test.ts.

Reads one JSON object on stdin: {"fixtures": [{"qrels": {qid: {doc: rel}}, "run": {qid: {doc: score}}}]}
and prints {"version": ..., "fixtures": [{"per_query": {qid: {measure: value}}, "mean": {measure: value}}]}
with the measures under trec_eval's names (ndcg_cut_10, recall_100, recip_rank_10, map), averaged as
trec_eval -c does: every query with judgments, one without results scoring 0 (ranx make_comparable);
run queries without judgments are dropped. Exit code 3 when ranx is missing, so the test can skip.

Ties: ranx orders equal scores arbitrarily (an unstable sort), so this script states trec_eval's
documented order itself (score descending, then docno descending by bytes) and hands ranx the
positions as strictly decreasing scores; everything else (cutoffs, gains, ideal DCG, relevance
levels, averaging) is ranx's. The fixtures use scores exact in 32-bit float, so trec_eval's float
rounding does not enter (test/eval/conformance.test.ts covers it against pytrec_eval).
"""
import json
import sys
import warnings

try:
    from ranx import Qrels, Run, evaluate
except ImportError as e:
    print("ranx is not importable (pip install ranx): %s" % e, file=sys.stderr)
    sys.exit(3)

warnings.filterwarnings("ignore")
MEASURES = {"ndcg@10": "ndcg_cut_10", "recall@100": "recall_100", "mrr@10": "recip_rank_10", "map": "map"}


def main():
    req = json.load(sys.stdin)
    from importlib.metadata import version

    out = {"version": version("ranx"), "fixtures": []}
    for fx in req["fixtures"]:
        qrels = {q: j for q, j in fx["qrels"].items() if j}
        run = {}
        for q, docs in fx["run"].items():
            if q not in qrels or not docs:
                continue  # -c: unjudged run queries ignored; an empty list scores 0 like a missing one
            ordered = sorted(docs.items(), key=lambda kv: kv[0].encode("utf-8"), reverse=True)
            ordered.sort(key=lambda kv: kv[1], reverse=True)  # stable: docno descending among ties
            run[q] = {d: float(len(ordered) - i) for i, (d, _) in enumerate(ordered)}
        if not run:
            run = {"__none__": {"__none__": 0.0}}  # ranx needs one run entry; make_comparable drops it
        res = evaluate(Qrels(qrels), Run(run), list(MEASURES), return_mean=False, make_comparable=True)
        qids = list(Qrels(qrels).keys())
        per_query = {q: {} for q in qids}
        for m, name in MEASURES.items():
            for q, v in zip(qids, res[m]):
                per_query[q][name] = float(v)
        mean = {name: sum(per_query[q][name] for q in qids) / len(qids) for name in MEASURES.values()}
        out["fixtures"].append({"per_query": per_query, "mean": mean})
    json.dump(out, sys.stdout)


main()
