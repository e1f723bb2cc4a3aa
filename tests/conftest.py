"""Shared fixtures: one real run of the whole workflow on the shipped corpus, in a temporary copy."""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
# The tests' own fixed copy of the shipped corpus, configuration, codebook and coded contexts: the
# suite passes whatever a user has put in data/raw/, config/ and validation/ (those are checked by
# `make check`). The workflow itself (Snakefile, workflow/) is always the repository's.
FIXTURE = ROOT / "tests" / "fixtures" / "project"
COPY = ["Snakefile", "workflow", "environment.yml"]
FIXTURE_COPY = ["config", "data/raw", "validation"]


def copy_project(dest: Path) -> Path:
    """A fresh copy of the workflow with the fixture's config, raw data and coded contexts (no
    processed data, no results)."""
    for base, item in [(ROOT, i) for i in COPY] + [(FIXTURE, i) for i in FIXTURE_COPY]:
        src = base / item
        if src.is_dir():
            shutil.copytree(src, dest / item, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (dest / item).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / item)
    return dest


def run_snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [SNAKEMAKE, "--cores", "2", *args], cwd=workdir, env=env, capture_output=True, text=True
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    return proc


def sha256_tree(path: Path) -> dict[str, str]:
    return {
        str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="session")
def workflow_run(tmp_path_factory):
    """Run the real workflow once on the shipped corpus; tests read its outputs."""
    work = copy_project(tmp_path_factory.mktemp("project"))
    raw_before = sha256_tree(work / "data/raw")
    proc = run_snakemake(work)
    return {"dir": work, "proc": proc, "raw_before": raw_before}
