"""Rule priorities (workflow/rules/common.smk PRIORITY) from a benchmark, and what they change.

    python benchmarks/schedule.py PROJECT BENCH_JSON [BENCH_JSON ...] [--shards N] [--cores 2]

PROJECT is a project directory (its job graph comes from ``snakemake -n -F --dag``, with
``--config shards=N``). Each BENCH_JSON is a ``make bench`` result (benchmarks/runs/): its cold
run's mean job seconds per rule stand for every job of the rule (the chart jobs share the
``figures`` entry: the longest is taken as ``phrase_figures``, the rest split 60/40 between
``theme_figures`` and ``drift_figures``). Printed, per JSON:

- each rule's longest chain of job seconds from its start to the end of the run (what PRIORITY
  holds, from the first JSON);
- a list-scheduling simulation of the job graph on ``--cores`` cores, with no start-up costs:
  jobs in an arbitrary order (300 random orders: min, mean, max) and jobs by PRIORITY (ties in
  random order). Snakemake's own choice among ready jobs without priorities (largest inputs
  first) is one arbitrary order.

With ``--add1``, the same for the run after adding one document (``make bench``'s ``add1``): the
job graph restricted to the rules that run reran (``add1.jobs_ran``) and to one shard's per-shard
jobs, each rule's mean job seconds of that run; printed: the longest chain of job seconds through
it (the critical path, job by job), the summed job seconds, and the list-scheduling makespan by
PRIORITY. When the makespan is well above the critical path, the run is bound by CPU (the
summed job seconds over the cores, plus the time a core waits while the first jobs run one
after the other), not by the chain.

A model, not a measurement: the figures say which order is better, ``make bench`` says by how much.
"""

from __future__ import annotations

import argparse
import functools
import heapq
import json
import random
import re
import subprocess
import sys
from pathlib import Path


#: the rules with one job per token shard (the others run once per run)
PER_SHARD = {"clean", "segment", "count", "theme_matches"}


def job_graph(project: Path, shards: int) -> tuple[dict[str, str], list[tuple[str, str]], dict[str, int]]:
    """Job id -> rule, the (input job, job) edges of a forced dry run's job graph, and job id ->
    shard of the per-shard jobs (a label names the shard of ``clean``; the others take that of
    their per-shard input job)."""
    dot = subprocess.run([str(Path(sys.executable).with_name("snakemake")), "-n", "-F", "--dag", "--quiet",
                          "--config", f"shards={shards}"], cwd=project, capture_output=True, text=True,
                         check=True).stdout
    return parse_dag(dot)


def parse_dag(dot: str) -> tuple[dict[str, str], list[tuple[str, str]], dict[str, int]]:
    """:func:`job_graph` of the text of ``snakemake --dag``."""
    nodes = dict(re.findall(r'^\s*(\d+)\[label = "(\w+)', dot, flags=re.M))
    edges = re.findall(r"^\s*(\d+) -> (\d+)", dot, flags=re.M)
    shard = {n: int(k) for n, k in re.findall(r'^\s*(\d+)\[label = "\w+\\nshard: (\d+)', dot, flags=re.M)}
    for _ in PER_SHARD:  # along the chains of per-shard jobs
        for x, y in edges:
            if nodes[y] in PER_SHARD and y not in shard and x in shard:
                shard[y] = shard[x]
    return nodes, edges, shard


def job_seconds(bench: Path, nodes: dict[str, str], run: str = "cold") -> dict[str, float]:
    """Job id -> its rule's mean job seconds in the benchmark's ``run`` (``cold`` or ``add1``)."""
    row = [r for r in json.loads(bench.read_text())["rows"] if r.get(run)][-1]
    rules = row[run]["rules"]
    fig = rules.get("figures", {"sum_s": 0.0, "max_s": 0.0})
    rest = fig["sum_s"] - fig["max_s"]
    charts = {"phrase_figures": fig["max_s"], "theme_figures": 0.6 * rest, "drift_figures": 0.4 * rest}
    return {n: rules[r]["sum_s"] / rules[r]["jobs"] if r in rules else charts.get(r, 0.0)
            for n, r in nodes.items()}


def simulate(seconds: dict, succ: dict, preds: dict, key, cores: int) -> float:
    """Makespan of list scheduling: whenever a core is free, the ready job first by ``key``."""
    waiting = {n: len(p) for n, p in preds.items()}
    ready, running, now = [n for n in seconds if not preds[n]], [], 0.0
    while ready or running:
        ready.sort(key=key)
        while ready and len(running) < cores:
            n = ready.pop(0)
            heapq.heappush(running, (now + seconds[n], n))
        now, n = heapq.heappop(running)
        for s in succ[n]:
            waiting[s] -= 1
            if not waiting[s]:
                ready.append(s)
    return now


def add1_model(bench: Path, nodes: dict[str, str], edges, shard: dict[str, int], cores: int,
               priority) -> tuple[list[str], float, float, float]:
    """The add-one-document run of ``bench`` on the cold job graph: (the critical path's rules, its
    job seconds, the summed job seconds, the mean makespan of 50 list schedules by ``priority``,
    ties at random)."""
    row = [r for r in json.loads(bench.read_text())["rows"] if r.get("add1")][-1]
    ran = set(row["add1"]["jobs_ran"])
    one = min(shard.values(), default=None)
    keep = {n for n, r in nodes.items() if r in ran and shard.get(n, one) == one}
    seconds = {n: s for n, s in job_seconds(bench, nodes, "add1").items() if n in keep}
    succ, preds = {n: set() for n in keep}, {n: set() for n in keep}
    for x, y in edges:
        if x in keep and y in keep:
            succ[x].add(y)
            preds[y].add(x)

    @functools.lru_cache(None)
    def tail(n):
        return seconds[n] + max((tail(s) for s in succ[n]), default=0.0)

    n, path = max(sorted(keep), key=tail), []
    length = tail(n)
    while n is not None:
        path.append(nodes[n])
        n = max(sorted(succ[n]), key=tail, default=None)
    rng = random.Random(0)
    runs = [simulate(seconds, succ, preds, lambda n: (-priority.get(nodes[n], 0), rng.random()), cores)
            for _ in range(50)]
    return path, length, sum(seconds.values()), sum(runs) / len(runs)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("project", type=Path)
    ap.add_argument("bench", type=Path, nargs="+")
    ap.add_argument("--shards", type=int, default=5)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--add1", action="store_true",
                    help="model the add-one-document run of each BENCH_JSON (PRIORITY: common.smk's)")
    a = ap.parse_args(argv)
    nodes, edges, shard = job_graph(a.project, a.shards)
    if a.add1:
        import ast

        common = (Path(__file__).resolve().parents[1] / "workflow" / "rules" / "common.smk").read_text()
        priority = ast.literal_eval(re.search(r"^PRIORITY = (\{.*?^\})", common, flags=re.M | re.S).group(1))
        for bench in a.bench:
            path, length, total, makespan = add1_model(bench, nodes, edges, shard, a.cores, priority)
            print(f"{bench.name}, adding one document: jobs {total:.1f} s ({total / a.cores:.1f} s per core); "
                  f"critical path {length:.1f} s: {' -> '.join(path)}; on {a.cores} cores by PRIORITY "
                  f"{makespan:.1f} s")
        return
    succ, preds = {n: set() for n in nodes}, {n: set() for n in nodes}
    for x, y in edges:
        succ[x].add(y)
        preds[y].add(x)
    chains = []
    for bench in a.bench:
        seconds = job_seconds(bench, nodes)

        @functools.lru_cache(None)
        def tail(n):
            return seconds[n] + max((tail(s) for s in succ[n]), default=0.0)

        chain = {}
        for n, r in nodes.items():
            chain[r] = max(chain.get(r, 0.0), tail(n))
        chains.append(chain)
    rng = random.Random(0)
    print("longest chain of job seconds from each rule (PRIORITY, from the first JSON):")
    print("  " + ", ".join(f'"{r}": {round(v)}' for r, v in sorted(chains[0].items(), key=lambda kv: -kv[1])
                           if r != "all"))
    for bench in a.bench:
        seconds = job_seconds(bench, nodes)
        arbitrary = [simulate(seconds, succ, preds, lambda n: rng.random(), a.cores) for _ in range(300)]
        by_priority = [simulate(seconds, succ, preds, lambda n: (-round(chains[0][nodes[n]]), rng.random()), a.cores)
                       for _ in range(300)]
        print(f"{bench.name}: jobs {sum(seconds.values()):.1f} s on {a.cores} cores")
        for name, runs in (("arbitrary order", arbitrary), ("by PRIORITY", by_priority)):
            print(f"  {name}: min {min(runs):.1f}, mean {sum(runs) / len(runs):.1f}, max {max(runs):.1f} s")


if __name__ == "__main__":
    main()
