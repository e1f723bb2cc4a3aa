"""benchmarks/schedule.py: the job graph read from ``snakemake --dag`` and the add-one-document model
(critical path and list-scheduling makespan), on a graph small enough to schedule by hand."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from schedule import add1_model, parse_dag  # noqa: E402

# two shards: clean -> segment per shard; phrases and themes read both segments; all reads both
DOT = """digraph snakemake_dag {
    0[label = "all", color = "0.00 0.6 0.85", style="rounded"];
    1[label = "clean\\nshard: 0", color = "0.02 0.6 0.85", style="rounded"];
    2[label = "clean\\nshard: 1", color = "0.02 0.6 0.85", style="rounded"];
    3[label = "segment", color = "0.57 0.6 0.85", style="rounded"];
    4[label = "segment", color = "0.57 0.6 0.85", style="rounded"];
    5[label = "phrases", color = "0.30 0.6 0.85", style="rounded"];
    6[label = "themes", color = "0.40 0.6 0.85", style="rounded"];
    1 -> 3
    2 -> 4
    3 -> 5
    4 -> 5
    3 -> 6
    4 -> 6
    5 -> 0
    6 -> 0
}"""


def test_parse_dag_gives_every_per_shard_job_its_shard():
    nodes, edges, shard = parse_dag(DOT)
    assert nodes == {"0": "all", "1": "clean", "2": "clean", "3": "segment", "4": "segment", "5": "phrases",
                     "6": "themes"}
    assert ("3", "5") in edges and len(edges) == 8
    # the segment jobs' labels name no shard: each takes its clean job's
    assert shard == {"1": 0, "2": 1, "3": 0, "4": 1}


def _bench(tmp_path, ran, seconds):
    rules = {r: {"jobs": 1, "sum_s": s, "max_s": s} for r, s in seconds.items()}
    path = tmp_path / "bench.json"
    path.write_text(json.dumps({"rows": [{"corpus": "50", "add1": {"jobs_ran": ran, "rules": rules}}]}))
    return path


def test_add1_model_one_shard_critical_path_and_makespan(tmp_path):
    nodes, edges, shard = parse_dag(DOT)
    bench = _bench(tmp_path, ["clean", "segment", "phrases", "themes", "all"],
                   {"clean": 2.0, "segment": 4.0, "phrases": 5.0, "themes": 3.0})
    path, length, total, makespan = add1_model(bench, nodes, edges, shard, 2, {})
    # one shard's clean and segment (the added document's), then phrases and themes side by side
    assert path == ["clean", "segment", "phrases", "all"]
    assert (length, total, makespan) == (11.0, 14.0, 11.0)
    # one core: every job one after the other
    assert add1_model(bench, nodes, edges, shard, 1, {})[3] == 14.0


def test_add1_model_leaves_out_the_rules_that_did_not_run(tmp_path):
    nodes, edges, shard = parse_dag(DOT)
    bench = _bench(tmp_path, ["clean", "segment", "themes", "all"], {"clean": 2.0, "segment": 4.0, "themes": 3.0})
    path, length, total, makespan = add1_model(bench, nodes, edges, shard, 2, {})
    assert path == ["clean", "segment", "themes", "all"] and (length, total, makespan) == (9.0, 9.0, 9.0)


def test_add1_model_priority_decides_which_ready_job_starts(tmp_path):
    # after clean and segment (1 s each) three jobs are ready on two cores: drift (2 s, which phrases,
    # 4 s, waits for), themes and precision (4 s each)
    dot = """digraph snakemake_dag {
    0[label = "all"];
    1[label = "clean\\nshard: 0"];
    2[label = "segment"];
    3[label = "drift"];
    4[label = "phrases"];
    5[label = "themes"];
    6[label = "precision"];
    1 -> 2
    2 -> 3
    2 -> 5
    2 -> 6
    3 -> 4
    4 -> 0
    5 -> 0
    6 -> 0
}"""
    nodes, edges, shard = parse_dag(dot)
    bench = _bench(tmp_path, ["clean", "segment", "drift", "phrases", "themes", "precision", "all"],
                   {"clean": 1.0, "segment": 1.0, "drift": 2.0, "phrases": 4.0, "themes": 4.0, "precision": 4.0})
    # drift first: drift 2-4 and themes 2-6, phrases 4-8, precision 6-10
    drift_first = add1_model(bench, nodes, edges, shard, 2, {"drift": 3, "themes": 2, "precision": 1})
    # drift last: themes and precision 2-6, drift 6-8, phrases 8-12
    drift_last = add1_model(bench, nodes, edges, shard, 2, {"themes": 3, "precision": 2, "drift": 1})
    assert drift_first[3] == 10.0 and drift_last[3] == 12.0
    # the critical path does not depend on the order
    assert drift_first[:3] == drift_last[:3] == (["clean", "segment", "drift", "phrases", "all"], 8.0, 16.0)
