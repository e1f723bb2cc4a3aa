"""The workflow runs unchanged through a cluster executor (profiles/local-cluster).

Every job is submitted by profiles/local-cluster/submit.sh: a new process session, a clean
environment (env -i: no PYTHONPATH, no venv activation, private HOME and TMPDIR) and another
working directory. The outputs must equal those of the ordinary local run of the same corpus (the
session's ``workflow_run``), so no rule depends on in-process state of Snakemake or on the
submitting host.

The cluster run is the session's ``storage_run`` (tests/conftest.py), which tests/test_storage.py
also reads: the same profile with every input and output in an S3 bucket instead of a shared file
system, so a job has only the files it declares (the sources and software are shared). It was a
run of its own on the shared file system; the storage run puts every job through the same submit
script and shares less, so it is the stronger check (one whole run less per `make test`). Its
tables and processed data are read from the bucket's objects, copied after the run. A submission
runs the jobs of one depth of the rule graph, which never read each other's outputs
(conftest.storage_groups), each job counted once from the submissions' logs.
"""

import os
import re

import pandas as pd
import pytest

from conftest import ROOT, SHARD_RULES
from textdrift.io import read_texts

pytestmark = pytest.mark.e2e

PROFILE = ROOT / "profiles" / "local-cluster"


def test_profile_scripts_are_executable():
    for name in ["submit.sh", "status.sh", "cancel.sh"]:
        assert os.access(PROFILE / name, os.X_OK), name


@pytest.fixture(scope="module")
def cluster_run(storage_run):
    return {"dir": storage_run["bucket"], "jobs": storage_run["jobs"], "log": storage_run["log"]}


def test_every_job_went_through_the_submit_script(cluster_run):
    jobs = cluster_run["jobs"]
    assert jobs, "no job was submitted through profiles/local-cluster/submit.sh"
    ran = []  # the rules of the jobs each submission finished (a group of sibling jobs, or one job)
    for d in jobs:
        assert (d / "rc").read_text().strip() == "0", (d / "job.err").read_text()[-2000:]
        ran += re.findall(r"(?m)^Finished jobid: \d+ \(Rule: (\w+)\)$", (d / "job.err").read_text())
    n_steps = int(cluster_run["log"].rsplit(" steps (100%) done", 1)[0].rsplit(" of ", 1)[1])
    # every job but the local `all` target ran in a submitted job, once: none ran in Snakemake's
    # own process (as a rule with a local() input does when inputs and outputs are not on a shared
    # file system); the jobs of one depth of the rule graph shared a submission (conftest.storage_groups)
    assert len(ran) == n_steps - 1 and "all" not in ran, sorted(ran)
    for rule in SHARD_RULES:
        assert ran.count(rule) == len(list((cluster_run["dir"] / "data/processed/clean").glob("shard-*.parquet"))), rule
    assert len(jobs) < len(ran)
    # no job of a submission reads what another job of the same submission writes: every input
    # comes from the bucket (or the sources), written by an earlier submission
    for d in jobs:
        files = {"input": set(), "output": set()}
        for kind, listed in re.findall(r"(?m)^    (input|output): (.*)$", (d / "job.err").read_text()):
            files[kind] |= {f.split(" (")[0] for f in listed.split(", ")}
        assert files["output"] and not files["input"] & files["output"], (d.name, files["input"] & files["output"])


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
    assert shards
    for rel in shards:
        pd.testing.assert_frame_equal(pd.read_parquet(local / rel), pd.read_parquet(cluster / rel), obj=str(rel))
