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


def job_graph(project: Path, shards: int) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Job id -> rule, and the (input job, job) edges of a forced dry run's job graph."""
    dot = subprocess.run([str(Path(sys.executable).with_name("snakemake")), "-n", "-F", "--dag", "--quiet",
                          "--config", f"shards={shards}"], cwd=project, capture_output=True, text=True,
                         check=True).stdout
    nodes = dict(re.findall(r'^\s*(\d+)\[label = "(\w+)', dot, flags=re.M))
    return nodes, re.findall(r"^\s*(\d+) -> (\d+)", dot, flags=re.M)


def job_seconds(bench: Path, nodes: dict[str, str]) -> dict[str, float]:
    """Job id -> its rule's mean job seconds in the benchmark's cold run."""
    rules = json.loads(bench.read_text())["rows"][0]["cold"]["rules"]
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


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("project", type=Path)
    ap.add_argument("bench", type=Path, nargs="+")
    ap.add_argument("--shards", type=int, default=5)
    ap.add_argument("--cores", type=int, default=2)
    a = ap.parse_args(argv)
    nodes, edges = job_graph(a.project, a.shards)
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
