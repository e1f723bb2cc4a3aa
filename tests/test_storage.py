"""The workflow runs off a shared file system: every job through profiles/local-cluster (its own
process session, clean environment and working files), with inputs and outputs only in an
S3-compatible object store (moto's server on 127.0.0.1) through Snakemake's storage plugin
(snakemake-storage-plugin-s3). The jobs share the workflow's sources and software (as the pods of
the Kubernetes profile share a container image) and nothing else: each job keeps its local copies
of storage files under its own $TMPDIR, so a rule that wrote a file it does not declare (or read
one another job only left on disk) fails here. The results must equal a local run's.

The run is the session's shared ``storage_run`` (tests/conftest.py, ``_build_storage_run``), which
tests/test_cluster.py also reads: that every job went through the submit script is checked there.
The jobs of one depth of the rule graph share a submission (conftest.storage_groups): they never
read each other's outputs, so no job finds another job's output on its disk; every input comes from
the bucket (tests/test_cluster.py checks it in the submissions' logs).
"""

import hashlib
import json

import pytest

from conftest import PREFIX

pytestmark = pytest.mark.e2e


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_outputs_only_in_storage(storage_run):
    work = storage_run["dir"]
    assert storage_run["jobs"], "no job went through the submit script"
    assert not (work / "results").exists() and not (work / "data" / "processed").exists()
    keys = storage_run["keys"]
    assert any(k.endswith("results/README.md") for k in keys)
    # what the bucket held (copied before its server stopped): every key, as its file
    assert sorted(f"{PREFIX}/{p.relative_to(storage_run['bucket']).as_posix()}"
                  for p in storage_run["bucket"].rglob("*") if p.is_file()) == sorted(keys)


def test_results_equal_local_run(storage_run, workflow_run):
    local = workflow_run["dir"] / "results"
    want = {p.relative_to(local).as_posix(): _digest(p.read_bytes())
            for p in local.rglob("*") if p.is_file() and p.name != "report.html"}
    bucket = storage_run["bucket"] / "results"
    got = {p.relative_to(bucket).as_posix(): _digest(p.read_bytes()) for p in bucket.rglob("*") if p.is_file()}
    assert sorted(got) == sorted(want)
    differ = sorted(k for k in want if got[k] != want[k])
    detail = ""
    if "provenance.json" in differ:  # say which fields
        a = json.loads((local / "provenance.json").read_text(encoding="utf-8"))
        b = json.loads((bucket / "provenance.json").read_text(encoding="utf-8"))
        detail = str({k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k) and k != "tables"})
        ta, tb = a.get("tables", {}), b.get("tables", {})
        detail += str({k: (ta.get(k), tb.get(k)) for k in sorted(set(ta) | set(tb)) if ta.get(k) != tb.get(k)})[:3000]
    assert not differ, f"differ from the local run: {differ} {detail}"
