"""Shared fixtures: real runs of the whole workflow on the shipped corpus, in temporary copies, each
made once per test session and shared by the tests that only read its outputs.

Three runs are shared (``SHARED_RUNS``): ``workflow_run``, the tests' copy of the shipped corpus run
with ``make run`` as a user runs it (checks, the workflow through textdrift.console, the report),
``grown_run``, the same corpus with two documents added (the notebooks' new year and the
explorer's hostile page; a rerun of a copy of ``workflow_run``), and ``storage_run``, the shipped corpus run through the cluster profile
with every input and output in an S3 bucket (tests/test_storage.py and tests/test_cluster.py). A
test that changes anything works on its own copy (:func:`copy_run`); the shared directories are
only read.

``make test`` runs the suite on two worker processes (pytest-xdist, ``-n auto --dist loadfile
--no-loadscope-reorder``). Each shared run is built once per session whichever worker asks first: a
file lock (``fcntl``) in the session's base temporary directory, which every worker shares,
serialises the build and the others read its record. The build starts in a background thread as
soon as the tests are collected (when a collected test needs it), so the workers run other tests
meanwhile (the storage run, the longest, first). All tests of a file go to one worker
(``loadfile``), so a module's own module-scoped fixture (its own workflow run) is made once; the
files whose tests run a workflow of their own go first, then those reading a shared local run, then
the unit tests, and the two reading the storage run last (the unit tests fill both workers while it
is built).
(``--dist loadgroup`` with ``xdist_group`` marks would be finer, but pytest-xdist 3.8 names a
group by rewriting ``item._nodeid``, which pytest 9 no longer reads: the groups are ignored.)

``TEXTDRIFT_TEST_CPU=<file>`` (e.g. ``TEXTDRIFT_TEST_CPU=/tmp/cpu.jsonl make test``) logs the CPU
of every test phase, shared run and workflow command to that file and lists the largest at the end
(:func:`_log_cpu`): on a shared machine wall times say little about what a test costs. Each phase's
line has its end time (``end``, seconds since the epoch): with ``wall``, each worker's timeline.
"""

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
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
# what `make run` needs beside the workflow: copied with their times (the linked environment stays
# up to date), and linked
MAKE_COPY = ["Makefile", "uv.lock", "pyproject.toml"]
MAKE_LINK = [".venv", ".uvtool", "src"]
# the environment before any test changed it (monkeypatch): the shared runs are built with it
ENV = dict(os.environ)


# what the CPU log (TEXTDRIFT_TEST_CPU, below) names a subprocess after: the test phase running in
# the main thread, or the shared run a background thread builds
_CPU_LABEL = threading.local()


def _timed(cmd: list[str]) -> list[str]:
    """``cmd`` run under /usr/bin/time when the CPU log is on: its CPU (user + system, its waited-for
    descendants included) is logged as a "subprocess" line of the current test phase or build."""
    if not (os.environ.get("TEXTDRIFT_TEST_CPU") and os.path.exists("/usr/bin/time")):
        return cmd
    import tempfile

    fd, out = tempfile.mkstemp(prefix="textdrift-cpu-", suffix=".txt")
    os.close(fd)
    _CPU_LABEL.pending = getattr(_CPU_LABEL, "pending", []) + [(out, " ".join(map(str, cmd[:3])))]
    return ["/usr/bin/time", "-o", out, "-f", "%U %S", *cmd]


def _log_detached(jobs: list[Path]) -> None:
    """With the CPU log on: the CPU of the storage run's detached jobs (their ``cpu`` files, written
    by :func:`_timing_profile`'s submit script), summed, as one "subprocess" line of the build."""
    import tempfile

    user = system = 0.0
    for job in jobs:
        with contextlib.suppress(OSError, ValueError):
            u, s = (job / "cpu").read_text().split()[-2:]
            user, system = user + float(u), system + float(s)
    fd, out = tempfile.mkstemp(prefix="textdrift-cpu-", suffix=".txt")
    with os.fdopen(fd, "w") as fh:
        fh.write(f"{user} {system}\n")
    _CPU_LABEL.pending = getattr(_CPU_LABEL, "pending", []) + [(out, f"{len(jobs)} detached submissions")]


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


def make_project(dest: Path) -> Path:
    """:func:`copy_project` plus what `make run` needs: the Makefile, the lock file and pyproject.toml
    (their times kept) and links to the environment, uv and the library sources."""
    copy_project(dest)
    for name in MAKE_COPY:
        shutil.copy2(ROOT / name, dest / name)
    for name in MAKE_LINK:
        (dest / name).symlink_to(ROOT / name)
    return dest


def copy_run(run: Path, dest: Path) -> Path:
    """A copy of a finished run (outputs, Snakemake's metadata, every file's time, links kept as
    links) for a test that changes something: the shared run stays as it was."""
    shutil.copytree(run, dest, symlinks=True)
    return dest


def run_make(work: Path, *args: str, env: dict | None = None) -> str:
    """``make ARGS CORES=2`` in ``work``; fails the test with the output's end unless it succeeds."""
    proc = subprocess.run(_timed(["make", "--no-print-directory", *args, "CORES=2"]), cwd=work, capture_output=True,
                          text=True, env={**(os.environ if env is None else env), "MPLBACKEND": "Agg"})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def run_snakemake(workdir: Path, *args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    env = {**(os.environ if env is None else env), "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        _timed([SNAKEMAKE, "--cores", "2", *args]), cwd=workdir, env=env, capture_output=True, text=True
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    return proc


def sha256_tree(path: Path) -> dict[str, str]:
    return {
        str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*")) if p.is_file()
    }


# ---- the shared runs ------------------------------------------------------------------------------------------------

# the notebooks' added document: an English statement of a new year (2025)
ADDED_TEXT = ("Countries agreed to deepen digital cooperation and to close the digital divide.\n\n"
              "They will build digital infrastructure, protect data security and train digital skills together.\n")
ADDED_ROW = "added_2025,2025-05-01,,An added statement,a user,added_2025.txt,en,,,statement,,en,en:none,,\n"
# the explorer's hostile page: markup in its title and paragraphs (tests/test_explorer_browser.py)
HOSTILE_TITLE = 'Hostile </script><script>window.__pwned = 3</script> <!-- test page'
HOSTILE_TEXT = """Hostile test page

The digital economy needs <script>window.__pwned = 1</script> open quokka markets, quokka trade and quokka cooperation.

Digital trade <img src=x onerror="window.__pwned = 2"> helps the digital economy of developing countries grow.
"""


def _build_workflow_run(dest: Path, env: dict) -> dict:
    """The fixture corpus run by `make run` (checks, workflow, report) in a project made as a user
    has it; then a copy of the finished project for tests/test_make.py, which goes on from it."""
    work = make_project(dest / "project")
    raw_before = sha256_tree(work / "data/raw")
    output = run_make(work, "run", env=env)
    snapshot = copy_run(work, dest / "make")
    return {"dir": str(work), "raw_before": raw_before, "make_output": output, "make_copy": str(snapshot)}


def _build_grown_run(dest: Path, env: dict) -> dict:
    """The fixture corpus plus two documents, run through the whole workflow: an English statement of
    a new year, 2025 (tests/test_notebooks.py), and a page of 2023 whose title and paragraphs carry
    markup (tests/test_explorer_browser.py); the explorer shows up to 100 contexts per cell (every
    theme match of the fixture: the page can be compared with the whole table).

    Made as a user grows a corpus: a copy of the finished ``workflow_run`` (built first if no
    process has built it), the documents added and the setting changed, and Snakemake run again,
    which reruns what they touch (not the jobs of the shards the new documents do not land in)."""
    import pandas as pd

    base = shared_run("workflow_run", dest.parent)
    work = copy_run(Path(base["dir"]), dest / "project")
    raw = work / "data/raw"
    (raw / "added_2025.txt").write_text(ADDED_TEXT, encoding="utf-8")
    with open(raw / "documents.csv", "a", encoding="utf-8") as fh:
        fh.write(ADDED_ROW)
    (raw / "hostile.txt").write_text(HOSTILE_TEXT, encoding="utf-8")
    manifest = pd.read_csv(raw / "documents.csv", dtype=str, keep_default_na=False)
    row = {c: "" for c in manifest.columns} | {"doc_id": "hostile_2023", "date": "2023-06-01", "year": "2023",
                                                 "title": HOSTILE_TITLE, "file": "hostile.txt", "languages": "en"}
    pd.concat([manifest, pd.DataFrame([row])]).to_csv(raw / "documents.csv", index=False)
    config = work / "config/config.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "explorer: {contexts_per_cell: 100}\n", encoding="utf-8")
    run_snakemake(work, env=env)
    return {"dir": str(work)}


# the run off a shared file system: an S3-compatible object store (moto's server on 127.0.0.1) for
# every input and output, every job through profiles/local-cluster (docs/cluster.md)
BUCKET, PREFIX = "textdrift", "run"
S3_KEYS = {"aws_access_key_id": "test", "aws_secret_access_key": "test", "region_name": "us-east-1"}
S3_INPUTS = ["data/raw", "config", "validation"]  # what a user uploads before a run
# storage settings shared with profiles/kubernetes/config.yaml (there: shared-fs-usage none, the
# executor deploys the sources into each pod)
SHARE_ONLY_SOURCES = ["--shared-fs-usage", "sources", "source-cache", "software-deployment",
                      "--remote-job-local-storage-prefix", "$TMPDIR/storage"]
# Jobs per submission in the storage run: each submitted job pays a Snakemake start-up (about 5 s of
# CPU: imports, the workflow parsed, the DAG and the bucket checked) beside its script, so the jobs
# of one depth of the rule graph (the longest chain of rules above a rule) go in one submission: one
# group per depth, all its connected components merged (``--group-components``). Rules of one depth
# never read each other's outputs (a rule reading another's output stands deeper than it), so every
# input a job reads still comes through the bucket from another submission (a rule that read a file
# another job only left on disk still fails). The per-shard jobs of these rules are among them
# (tests/test_cluster.py counts them):
SHARD_RULES = ["clean", "segment", "count", "theme_matches"]
ALL_COMPONENTS = 10**6  # --group-components: a group's components merged in chunks of this many


def rule_depths(rulegraph: str) -> dict[str, int]:
    """Each rule's depth in Snakemake's ``--rulegraph`` (dot): 0 for a rule that reads no other
    rule's output, else one more than the deepest rule whose output it reads."""
    import re
    from functools import cache

    names = dict(re.findall(r'(?m)^\s*(\d+)\[label = "(\w+)"', rulegraph))
    above: dict[str, set[str]] = {name: set() for name in names.values()}
    for a, b in re.findall(r"(?m)^\s*(\d+) -> (\d+)", rulegraph):
        above[names[b]].add(names[a])

    @cache
    def depth(rule: str) -> int:
        return 1 + max((depth(r) for r in above[rule]), default=-1)

    return {rule: depth(rule) for rule in above}


def storage_groups(depths: dict[str, int], target: str = "all") -> list[str]:
    """Snakemake's ``--groups`` and ``--group-components`` for the storage run: every rule but the
    local ``target`` in the group ``depth<N>`` of its depth (:func:`rule_depths`), every component
    of a group in one submission."""
    rules = sorted(r for r in depths if r != target)
    levels = sorted({depths[r] for r in rules})
    return ["--groups", *[f"{r}=depth{depths[r]}" for r in rules],
            "--group-components", *[f"depth{d}={ALL_COMPONENTS}" for d in levels]]


def _timing_profile(dest: Path) -> Path:
    """profiles/local-cluster, its submit script running each job under /usr/bin/time (``cpu`` in
    the job's spool directory): with the CPU log on, the detached jobs' CPU, which no test process
    sees, is logged too. The job's command and environment are otherwise the same."""
    profile = dest / "profile"
    shutil.copytree(ROOT / "profiles" / "local-cluster", profile)
    submit = profile / "submit.sh"
    text = submit.read_text(encoding="utf-8")
    assert "sh job.sh > job.out" in text, "profiles/local-cluster/submit.sh changed: update _timing_profile"
    submit.write_text(text.replace("sh job.sh > job.out", "/usr/bin/time -o cpu -f \"%U %S\" sh job.sh > job.out"),
                      encoding="utf-8")
    return profile


def _s3_server(log: Path) -> tuple[subprocess.Popen, str]:
    """moto's S3 server on a free port of 127.0.0.1, once it answers."""
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with open(log, "w") as fh:
        server = subprocess.Popen([str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1",
                                   "-p", str(port)], stdout=fh, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    return server, url


def _build_storage_run(dest: Path, env: dict) -> dict:
    """The fixture corpus run through a cluster executor off a shared file system
    (tests/test_storage.py and tests/test_cluster.py): every job submitted by
    profiles/local-cluster/submit.sh (a new process session, a clean environment, another working
    directory; the jobs of one depth of the rule graph in one submission, :func:`storage_groups`), every input and output only in an S3 bucket (moto's server), each job's local
    copies of storage files under its own $TMPDIR; the jobs share the workflow's sources and
    nothing else. Before the server stops, the bucket's objects are copied into ``bucket`` (a
    directory beside the project, for the tests to read) and its keys listed."""
    import boto3

    work = copy_project(dest / "project")
    # the rule graph, from a copy of the project (the storage run's own directory stays as a user
    # would start it): which rules share a submission
    graph = run_snakemake(copy_project(dest / "rulegraph"), "--rulegraph", env=env).stdout
    server, url = _s3_server(dest / "moto.log")
    try:
        s3 = boto3.client("s3", endpoint_url=url, **S3_KEYS)
        s3.create_bucket(Bucket=BUCKET)
        for top in S3_INPUTS:
            for p in sorted((work / top).rglob("*")):
                if p.is_file():
                    s3.upload_file(str(p), BUCKET, f"{PREFIX}/{p.relative_to(work).as_posix()}")
        spool = dest / "spool"
        spool.mkdir()
        timed = bool(os.environ.get("TEXTDRIFT_TEST_CPU") and os.path.exists("/usr/bin/time"))
        profile = _timing_profile(dest) if timed else ROOT / "profiles" / "local-cluster"
        args = [SNAKEMAKE, "--profile", str(profile),
                "--default-storage-provider", "s3", "--default-storage-prefix", f"s3://{BUCKET}/{PREFIX}",
                "--storage-s3-endpoint-url", url, "--storage-s3-access-key", "test",
                "--storage-s3-secret-key", "test", "--local-storage-prefix", str(dest / "local"),
                *SHARE_ONLY_SOURCES, *storage_groups(rule_depths(graph))]
        proc = subprocess.run(_timed(args), cwd=work, env={**env, "TEXTDRIFT_SPOOL": str(spool), "MPLBACKEND": "Agg"},
                              capture_output=True, text=True)
        jobs = sorted(spool.glob("textdrift-job.*"))
        if timed:
            _log_detached(jobs)
        failed = [d for d in jobs if (d / "rc").exists() and (d / "rc").read_text().strip() != "0"]
        detail = "\n".join((d / "job.err").read_text()[-3000:] for d in failed[:2])
        assert proc.returncode == 0, f"storage run failed:\n{proc.stderr[-4000:]}\n{detail}"
        keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=f"{PREFIX}/")
                for o in page.get("Contents", [])]
        bucket = dest / "bucket"
        for key in keys:
            path = bucket / key.removeprefix(f"{PREFIX}/")
            path.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(BUCKET, key, str(path))
    finally:
        server.terminate()
        server.wait(timeout=10)
    (dest / "snakemake.log").write_text(proc.stdout + proc.stderr, encoding="utf-8")
    return {"dir": str(work), "bucket": str(bucket), "keys": keys, "spool": str(spool),
            "log": str(dest / "snakemake.log")}


# in the order the background builds take them: the longest first (tests/test_storage.py's run,
# one submission per depth of the rule graph, one after another through the submit script)
SHARED_RUNS = {"storage_run": _build_storage_run, "workflow_run": _build_workflow_run, "grown_run": _build_grown_run}


def _shared_dir(config: pytest.Config) -> Path:
    """The session's base temporary directory, the same for every xdist worker (a worker's own is
    a directory inside it)."""
    base = config._tmp_path_factory.getbasetemp()
    return base.parent if hasattr(config, "workerinput") else base


@contextlib.contextmanager
def _lock(path: Path, wait: bool = True):
    """An exclusive ``flock`` on ``path`` (between processes and between threads: each call opens
    the file anew); yields whether it is held (False only when ``wait`` is False and it is taken)."""
    with open(path, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def shared_run(name: str, shared: Path, wait: bool = True) -> dict | None:
    """The record of shared run ``name``, built first if no process of this session has built it.

    A failed build is recorded too: every test that needs it fails with the build's error instead
    of building it again. Returns None when ``wait`` is False and another process holds the lock
    (it is building the run)."""
    record, failed = shared / f"{name}.json", shared / f"{name}.failed"
    with _lock(shared / f"{name}.lock", wait) as held:
        if not held:
            return None
        if not record.exists() and not failed.exists():
            dest = shared / name
            shutil.rmtree(dest, ignore_errors=True)
            dest.mkdir()
            start = _cpu()
            try:
                info = SHARED_RUNS[name](dest, ENV)
            except BaseException as exc:
                failed.write_text(f"{type(exc).__name__}: {exc}", encoding="utf-8")
                raise
            _log_cpu(name, "build", start)
            record.write_text(json.dumps(info), encoding="utf-8")
    if failed.exists():
        raise AssertionError(f"the shared run {name} failed:\n{failed.read_text(encoding='utf-8')}")
    return json.loads(record.read_text(encoding="utf-8"))


def _build_in_background(names: list[str], shared: Path) -> None:
    for name in names:
        with contextlib.suppress(BaseException):  # the fixture that needs it reports a failure
            shared_run(name, shared, wait=False)


# the slowest modules first within each class of _module_class (their durations: docs/performance.md)
SLOWEST = ["test_faults", "test_any_corpus", "test_bad_input", "test_extract", "test_reruns",
           "test_make", "test_notebooks", "test_workflow", "test_explorer_browser", "test_provenance",
           "test_storage", "test_cluster"]


def _item_class(item: pytest.Item) -> int:
    names = set(getattr(item, "fixturenames", ()))
    if "storage_run" in names:
        return 3
    if item.get_closest_marker("e2e") is None:
        return 2
    return 1 if set(SHARED_RUNS) & names else 0


def _module_class(items: list[pytest.Item]) -> int:
    """Where a module's tests go: 0, a workflow run of the module's own; 1, reading the shared
    local runs; 2, the rest (unit tests: many short ones); 3, reading the shared storage run, the
    longest to build (in the background, while the unit tests fill both workers), last. A module
    whose tests read the storage run goes last whole; otherwise its first class."""
    classes = [_item_class(i) for i in items]
    return 3 if 3 in classes else min(classes)


def pytest_collection_modifyitems(session, config, items):
    # every worker sorts the same collection the same way; with --dist loadfile and
    # --no-loadscope-reorder a file's place is that of its first test, so a module's tests share
    # one key (a stable sort keeps them together, in their order)
    def module(item):
        return item.module.__name__ if getattr(item, "module", None) else ""

    by_module: dict[str, list] = {}
    for item in items:
        by_module.setdefault(module(item), []).append(item)
    key = {name: (_module_class(its), SLOWEST.index(name) if name in SLOWEST else len(SLOWEST))
           for name, its in by_module.items()}
    items.sort(key=lambda item: key[module(item)])


def pytest_collection_finish(session):
    config = session.config
    if config.option.collectonly or not session.items:
        return
    needed = [n for n in SHARED_RUNS if any(n in getattr(i, "fixturenames", ()) for i in session.items)]
    if needed:
        threading.Thread(target=_build_in_background, args=(needed, _shared_dir(config)),
                         name="shared-runs").start()


# ---- CPU per test phase (TEXTDRIFT_TEST_CPU=<file>) --------------------------------------------------------------------
# Wall time misleads on a shared machine (two workers, other load): with TEXTDRIFT_TEST_CPU set, each
# worker appends JSON lines to that file: per test phase, wall seconds, the CPU of the thread running
# it ("self") and of the worker's subprocesses that ended in it ("children"; user + system,
# resource.getrusage); per shared run built in a background thread, a "build" line (its children:
# whatever ended meanwhile, the tests' subprocesses too); and per command run through run_make,
# run_snakemake or the storage run, a "subprocess" line with its own CPU (/usr/bin/time: the command
# and its waited-for descendants) named after the test phase or shared run that ran it. Jobs
# detached by profiles/local-cluster/submit.sh are nobody's children and not counted.
CPU_LOG = os.environ.get("TEXTDRIFT_TEST_CPU")


def _cpu() -> tuple[float, float, float]:
    import resource
    import time

    own, kids = resource.getrusage(resource.RUSAGE_THREAD), resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter(), own.ru_utime + own.ru_stime, kids.ru_utime + kids.ru_stime


def _log_cpu(name: str, phase: str, start: tuple[float, float, float]) -> None:
    import time

    if not CPU_LOG:
        return
    end = _cpu()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    lines = [{"test": name, "phase": phase, "wall": round(end[0] - start[0], 2), "self": round(end[1] - start[1], 2),
              "children": round(end[2] - start[2], 2), "worker": worker, "end": round(time.time(), 1)}]
    for out, cmd in getattr(_CPU_LABEL, "pending", []):
        with contextlib.suppress(OSError, ValueError):
            user, system = open(out).read().split()[-2:]
            lines.append({"test": name, "phase": "subprocess", "cmd": cmd, "cpu": round(float(user) + float(system), 2),
                          "worker": worker})
        with contextlib.suppress(OSError):
            os.unlink(out)
    _CPU_LABEL.pending = []
    with open(CPU_LOG, "a", encoding="utf-8") as fh:
        fh.write("".join(json.dumps(line) + "\n" for line in lines))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    start = _cpu()
    try:
        return (yield)
    finally:
        _log_cpu(item.nodeid, "setup", start)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    start = _cpu()
    try:
        return (yield)
    finally:
        _log_cpu(item.nodeid, "call", start)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    start = _cpu()
    try:
        return (yield)
    finally:
        _log_cpu(item.nodeid, "teardown", start)


def pytest_terminal_summary(terminalreporter):
    """With TEXTDRIFT_TEST_CPU: the test phases, shared runs and commands that took the most CPU."""
    if not CPU_LOG or hasattr(terminalreporter.config, "workerinput") or not os.path.exists(CPU_LOG):
        return
    with open(CPU_LOG, encoding="utf-8") as fh:
        lines = [json.loads(line) for line in fh if line.strip()]
    for line in lines:
        line.setdefault("cpu", line.get("self", 0) + line.get("children", 0))
    terminalreporter.section(f"CPU (user + system) from {CPU_LOG}")
    for line in sorted(lines, key=lambda x: -x["cpu"])[:40]:
        terminalreporter.write_line(f"{line['cpu']:8.1f} s cpu {line.get('wall', float('nan')):8.1f} s wall  "
                                    f"{line['phase']:10s} {line['worker']:5s} {line['test']} {line.get('cmd', '')}")
    phases = [x for x in lines if x["phase"] in ("setup", "call", "teardown")]
    terminalreporter.write_line(f"{sum(x['cpu'] for x in phases):8.1f} s cpu in {len(phases)} test phases (the "
                                "shared runs' builds included, in the phases their commands ended in)")


def _record(request, name: str) -> dict:
    return shared_run(name, _shared_dir(request.config))


@pytest.fixture(scope="session")
def workflow_run(request):
    """The real workflow run once on the shipped corpus by `make run`; tests read its outputs
    (``dir``), the raw files' digests before the run (``raw_before``), what `make run` printed
    (``make_output``) and a copy of the finished project for tests/test_make.py (``make_copy``)."""
    rec = _record(request, "workflow_run")
    return {**rec, "dir": Path(rec["dir"]), "make_copy": Path(rec["make_copy"])}


@pytest.fixture(scope="session")
def storage_run(request):
    """The fixture corpus run through profiles/local-cluster with every input and output in an S3
    bucket (:func:`_build_storage_run`): the project directory (``dir``), the bucket's objects
    copied after the run (``bucket``, under the keys' paths), their keys (``keys``), the submit
    script's job directories (``jobs``) and what Snakemake printed (``log``)."""
    pytest.importorskip("boto3")
    rec = _record(request, "storage_run")
    return {"dir": Path(rec["dir"]), "bucket": Path(rec["bucket"]), "keys": rec["keys"],
            "jobs": sorted(Path(rec["spool"]).glob("textdrift-job.*")),
            "log": Path(rec["log"]).read_text(encoding="utf-8")}


@pytest.fixture(scope="session")
def grown_run(request):
    """The directory of the run of the fixture corpus with the two added documents."""
    return Path(_record(request, "grown_run")["dir"])
