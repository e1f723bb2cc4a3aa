"""`make run` as a user runs it: the whole workflow, then nothing when nothing changed, and again
what a change needs (an edited input, a deleted output).

The cold `make run` is the session's shared run (conftest's ``workflow_run``: the fixture corpus in
a project made as a user has it, conftest.make_project, and `make run CORES=2` there); this test
reads what it printed and goes on in the copy of the finished project made right after it."""

import os

import pytest

from conftest import run_make as _make

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def project(workflow_run):
    return workflow_run["make_copy"]


def test_run_then_noop_then_what_changed(project, workflow_run):
    first = workflow_run["make_output"]
    assert "Results:" in first and (project / "results" / "report.html").exists()
    # a few lines of progress, not every job's block, and the warnings a user must see at the end
    assert "localrule" not in first and "Finished jobid" not in first and len(first.splitlines()) < 90, first
    assert "25 of 25 steps (100%) done" in first or "steps (100%) done" in first
    assert "warning(s) from the jobs" in first and "codebook term(s) never matched" in first
    noop = _make(project, "run")
    assert "Nothing changed since the last complete run" in noop and "Building DAG" not in noop
    # a deleted output is a change: Snakemake runs and makes it again (a chart: its job and the
    # results README, nothing else, are rerun)
    target = project / "results" / "figures" / "drift.png"
    before = target.read_bytes()
    target.unlink()
    again = _make(project, "run")
    assert "steps (100%) done" in again and target.read_bytes() == before
    # an edited input is a change: make finds an edited file of config/ (CHANGED, which `make run`
    # tests, names the file it found newer than the last complete run; printed by a goal of its own:
    # `make -n run` would run the recipe, which calls $(MAKE), so Snakemake would rerun segment and
    # nearly every job after it, which test_workflow.py's
    # test_editing_a_config_named_file_reruns_the_jobs_that_read_it plans)
    assert "Nothing changed" in _make(project, "run")
    stopwords = project / "config" / "zh_stopwords.txt"
    text, stat = stopwords.read_bytes(), stopwords.stat()
    stopwords.write_bytes(text + b"\n")
    assert "CHANGED=config/zh_stopwords.txt\n" in _make(project, "--eval", 'changed: ; @echo "CHANGED=$(CHANGED)"',
                                                         "changed")
    stopwords.write_bytes(text)
    os.utime(stopwords, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert "Nothing changed" in _make(project, "run")
    # ... and an edited file of validation/ is run: Snakemake reruns the job that reads it
    coded = project / "validation" / "coded.csv"
    coded.write_text(coded.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    again = _make(project, "run")
    assert "precision" in again and "steps (100%) done" in again
