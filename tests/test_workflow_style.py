"""The workflow follows the Snakemake catalog's conventions: formatted by snakefmt, clean under
`snakemake --lint`, and the files the catalog reads are present."""

import subprocess
import sys
from pathlib import Path

import yaml

from conftest import ROOT, copy_project, run_snakemake

SNAKEFMT = str(Path(sys.executable).with_name("snakefmt"))


def test_snakefmt_clean():
    proc = subprocess.run([SNAKEFMT, "--check", "Snakefile", "workflow"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, f"run `.venv/bin/snakefmt Snakefile workflow`:\n{proc.stderr[-3000:]}"


def test_snakemake_lint_clean(tmp_path):
    work = copy_project(tmp_path)
    proc = run_snakemake(work, "--lint", check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "Congratulations" in text and "Lints for" not in text, text[-4000:]


def test_catalog_files():
    usage = yaml.safe_load((ROOT / ".snakemake-workflow-catalog.yml").read_text(encoding="utf-8"))["usage"]
    assert usage["software-stack-deployment"]["conda"] is True
    assert usage["report"] is True
    assert (ROOT / "config" / "README.md").read_text(encoding="utf-8").strip()


def test_rule_priorities_follow_the_rule_graph(tmp_path):
    """Every rule but `all` takes its scheduling priority from common.smk's PRIORITY (the longest
    chain of job seconds from the rule to the end of a run), and a rule's priority is above that of
    every rule that reads its outputs: a chain's length shrinks along it, so a table of priorities
    that contradicts the rule graph (a rule added or moved without updating it) fails here."""
    import ast
    import re

    common = (ROOT / "workflow" / "rules" / "common.smk").read_text(encoding="utf-8")
    block = re.search(r"^PRIORITY = (\{.*?^\})", common, flags=re.M | re.S).group(1)
    priority = ast.literal_eval(block)
    declared = {}
    for path in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        rule = None
        for line in path.read_text(encoding="utf-8").splitlines():
            m = re.match(r"(?:rule|checkpoint) (\w+):", line)
            rule = m.group(1) if m else rule
            m = re.match(r'\s+priority: PRIORITY\["(\w+)"\]$', line)
            if m:
                declared[rule] = m.group(1)
    assert declared == {r: r for r in declared}, "a rule takes another rule's priority"
    work = copy_project(tmp_path)
    dot = run_snakemake(work, "--rulegraph", "-F").stdout
    names = dict(re.findall(r'^\s*(\d+)\[label = "(\w+)"', dot, flags=re.M))
    rules = set(names.values()) - {"all"}
    assert set(declared) == rules == set(priority), (set(declared) ^ rules, set(priority) ^ rules)
    edges = [(names[a], names[b]) for a, b in re.findall(r"^\s*(\d+) -> (\d+)", dot, flags=re.M)]
    assert edges
    wrong = [(a, b) for a, b in edges if b != "all" and priority[a] <= priority[b]]
    assert not wrong, f"a rule's PRIORITY must exceed that of every rule reading its outputs: {wrong}"
