"""The workflow runs off a shared file system: every job through profiles/local-cluster (its own
process session, clean environment and working files), with inputs and outputs only in an
S3-compatible object store (moto's server on 127.0.0.1, started here) through Snakemake's storage
plugin (snakemake-storage-plugin-s3). The jobs share the workflow's sources and software (as the
pods of the Kubernetes profile share a container image) and nothing else: each job keeps its local
copies of storage files under its own $TMPDIR, so a rule that wrote a file it does not declare
(or read one another job only left on disk) fails here. The results must equal a local run's.
"""

import hashlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT, SNAKEMAKE, copy_project

pytestmark = pytest.mark.e2e
boto3 = pytest.importorskip("boto3")

BUCKET, PREFIX = "textdrift", "run"
KEYS = {"aws_access_key_id": "test", "aws_secret_access_key": "test", "region_name": "us-east-1"}
INPUTS = ["data/raw", "config", "validation"]  # what a user uploads before a run
# storage settings shared with profiles/kubernetes/config.yaml (there: shared-fs-usage none, the
# executor deploys the sources into each pod)
SHARE_ONLY_SOURCES = ["--shared-fs-usage", "sources", "source-cache", "software-deployment",
                      "--remote-job-local-storage-prefix", "$TMPDIR/storage"]


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "w")
    server = subprocess.Popen([str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
                              stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    try:
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def _client(url):
    return boto3.client("s3", endpoint_url=url, **KEYS)


def _keys(s3, prefix):
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return [o["Key"] for page in pages for o in page.get("Contents", [])]


@pytest.fixture(scope="module")
def storage_run(s3_server, tmp_path_factory):
    work = copy_project(tmp_path_factory.mktemp("storage"))
    s3 = _client(s3_server)
    s3.create_bucket(Bucket=BUCKET)
    for top in INPUTS:
        for p in sorted((work / top).rglob("*")):
            if p.is_file():
                s3.upload_file(str(p), BUCKET, f"{PREFIX}/{p.relative_to(work).as_posix()}")
    spool = tmp_path_factory.mktemp("spool")
    env = {**os.environ, "TEXTDRIFT_SPOOL": str(spool), "MPLBACKEND": "Agg"}
    args = [SNAKEMAKE, "--profile", str(ROOT / "profiles" / "local-cluster"),
            "--default-storage-provider", "s3", "--default-storage-prefix", f"s3://{BUCKET}/{PREFIX}",
            "--storage-s3-endpoint-url", s3_server, "--storage-s3-access-key", "test",
            "--storage-s3-secret-key", "test", "--local-storage-prefix", str(tmp_path_factory.mktemp("local")),
            *SHARE_ONLY_SOURCES]
    proc = subprocess.run(args, cwd=work, env=env, capture_output=True, text=True)
    jobs = sorted(spool.glob("textdrift-job.*"))
    failed = [d for d in jobs if (d / "rc").exists() and (d / "rc").read_text().strip() != "0"]
    detail = "\n".join((d / "job.err").read_text()[-3000:] for d in failed[:2])
    assert proc.returncode == 0, f"storage run failed:\n{proc.stderr[-4000:]}\n{detail}"
    return {"dir": work, "s3": s3, "jobs": jobs}


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_outputs_only_in_storage(storage_run):
    work = storage_run["dir"]
    assert storage_run["jobs"], "no job went through the submit script"
    assert not (work / "results").exists() and not (work / "data" / "processed").exists()
    keys = _keys(storage_run["s3"], f"{PREFIX}/results/")
    assert any(k.endswith("results/README.md") for k in keys)


def test_results_equal_local_run(storage_run, workflow_run):
    local = workflow_run["dir"] / "results"
    want = {p.relative_to(local).as_posix(): _digest(p.read_bytes())
            for p in local.rglob("*") if p.is_file() and p.name != "report.html"}
    s3 = storage_run["s3"]
    got = {}
    for key in _keys(s3, f"{PREFIX}/results/"):
        rel = key.removeprefix(f"{PREFIX}/results/")
        got[rel] = _digest(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    assert sorted(got) == sorted(want)
    differ = sorted(k for k in want if got[k] != want[k])
    detail = ""
    if "provenance.json" in differ:  # say which fields
        import json

        a = json.loads((local / "provenance.json").read_text(encoding="utf-8"))
        b = json.loads(s3.get_object(Bucket=BUCKET, Key=f"{PREFIX}/results/provenance.json")["Body"].read())
        detail = str({k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k) and k != "tables"})
        ta, tb = a.get("tables", {}), b.get("tables", {})
        detail += str({k: (ta.get(k), tb.get(k)) for k in sorted(set(ta) | set(tb)) if ta.get(k) != tb.get(k)})[:3000]
    assert not differ, f"differ from the local run: {differ} {detail}"
