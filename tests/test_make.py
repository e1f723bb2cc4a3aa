"""`make run` as a user runs it: the whole workflow, then nothing when nothing changed, and again
what a change needs (an edited input, a deleted output)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, copy_project

pytestmark = pytest.mark.e2e


def _make(work: Path, *args: str) -> str:
    proc = subprocess.run(["make", "--no-print-directory", *args, "CORES=2"], cwd=work, capture_output=True, text=True,
                          env={**os.environ, "MPLBACKEND": "Agg"})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    work = copy_project(tmp_path_factory.mktemp("make"))
    for name in ["Makefile", "uv.lock", "pyproject.toml"]:
        shutil.copy2(ROOT / name, work / name)  # mtimes kept: the linked environment stays up to date
    for name in [".venv", ".uvtool", "src"]:
        (work / name).symlink_to(ROOT / name)
    return work


def test_run_then_noop_then_what_changed(project):
    first = _make(project, "run")
    assert "Results:" in first and (project / "results" / "report.html").exists()
    # a few lines of progress, not every job's block, and the warnings a user must see at the end
    assert "localrule" not in first and "Finished jobid" not in first and len(first.splitlines()) < 90, first
    assert "25 of 25 steps (100%) done" in first or "steps (100%) done" in first
    assert "warning(s) from the jobs" in first and "codebook term(s) never matched" in first
    noop = _make(project, "run")
    assert "Nothing changed since the last complete run" in noop and "Building DAG" not in noop
    # a deleted output is a change: Snakemake runs and makes it again
    target = project / "results" / "tables" / "theme_frequencies.csv"
    before = target.read_bytes()
    target.unlink()
    again = _make(project, "run")
    assert "steps (100%) done" in again and target.read_bytes() == before
    # an edited input is a change
    assert "Nothing changed" in _make(project, "run")
    stopwords = project / "config" / "zh_stopwords.txt"
    stopwords.write_text(stopwords.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert "segment" in _make(project, "run")
