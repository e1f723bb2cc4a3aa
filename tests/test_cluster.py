"""The workflow runs unchanged through a cluster executor (profiles/local-cluster).

Every job is submitted by profiles/local-cluster/submit.sh: a new process
session, a clean environment (env -i: no PYTHONPATH, no venv activation, private
HOME and TMPDIR) and another working directory. The outputs must equal those of
the ordinary local run of the same corpus (the session fixture of
test_workflow.py), so no rule depends on in-process state of Snakemake or on the
submitting host.
"""

import os
import subprocess

import pandas as pd
import pytest

from conftest import ROOT, SNAKEMAKE, copy_project
from textdrift.io import read_texts

pytestmark = pytest.mark.e2e

PROFILE = ROOT / "profiles" / "local-cluster"


def test_profile_scripts_are_executable():
    for name in ["submit.sh", "status.sh", "cancel.sh"]:
        assert os.access(PROFILE / name, os.X_OK), name


@pytest.fixture(scope="module")
def cluster_run(tmp_path_factory):
    work = copy_project(tmp_path_factory.mktemp("cluster"))
    spool = tmp_path_factory.mktemp("spool")
    env = {**os.environ, "TEXTDRIFT_SPOOL": str(spool)}
    proc = subprocess.run([SNAKEMAKE, "--profile", str(PROFILE)], cwd=work, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"cluster run failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    return {"dir": work, "spool": spool, "log": proc.stdout + proc.stderr}


def test_every_job_went_through_the_submit_script(cluster_run):
    jobs = [d for d in cluster_run["spool"].iterdir() if d.name.startswith("textdrift-job.")]
    assert jobs, "no job was submitted through profiles/local-cluster/submit.sh"
    for d in jobs:
        assert (d / "rc").read_text().strip() == "0", (d / "job.err").read_text()[-2000:]
    n_steps = int(cluster_run["log"].rsplit(" steps (100%) done", 1)[0].rsplit(" of ", 1)[1])
    assert len(jobs) == n_steps - 1  # every job but the local `all` target


def _tables(root):
    return sorted(p.relative_to(root) for p in root.glob("results/tables/*.csv"))


def test_tables_equal_local_run(cluster_run, workflow_run):
    local, cluster = workflow_run["dir"], cluster_run["dir"]
    assert _tables(local) and _tables(local) == _tables(cluster)
    for rel in _tables(local):
        a = pd.read_csv(local / rel, keep_default_na=False)
        b = pd.read_csv(cluster / rel, keep_default_na=False)
        pd.testing.assert_frame_equal(a, b, obj=str(rel))


def test_processed_data_equal_local_run(cluster_run, workflow_run):
    local, cluster = workflow_run["dir"], cluster_run["dir"]
    clean = sorted(p.relative_to(local) for p in (local / "data/processed/clean").glob("shard-*.parquet"))
    assert clean
    for rel in clean:  # the clean texts, one file per shard
        assert read_texts(cluster / rel) == read_texts(local / rel), rel
    for name in ["data/processed/cleaning_log.csv", "data/processed/clean/index.csv"]:
        assert (cluster / name).read_bytes() == (local / name).read_bytes(), name
    shards = sorted(p.relative_to(local) for p in (local / "data/processed/tokens").glob("*.parquet"))
    for rel in shards:
        pd.testing.assert_frame_equal(pd.read_parquet(local / rel), pd.read_parquet(cluster / rel), obj=str(rel))
