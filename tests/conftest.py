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
COPY = ["Snakefile", "workflow", "config", "data/raw", "validation", "environment.yml"]


def copy_project(dest: Path) -> Path:
    """A fresh copy of the workflow, its config and the raw data (no processed data, no results)."""
    for item in COPY:
        src = ROOT / item
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
