"""Benchmark the whole workflow against the bare segmenters (``make bench``).

For each corpus (the shipped one and synthetic ones of the requested sizes, see
``textdrift.synth``) this

1. makes a fresh working copy in a temporary directory (``Snakefile``,
   ``workflow/``, ``config/``, ``environment.yml``, ``src/`` and the raw data;
   the workflow puts the copy's ``src/`` first on the path, so the code is a
   snapshot taken when the corpus starts), so nothing in the repository is read
   or written by the run;
2. runs what a user waits for, ``make run CORES=N`` (input checks, the whole
   workflow, the HTML report), cold, and takes its wall time (``wall_s``), the
   number of jobs (``jobs``, from Snakemake's "x of N steps", the ``all``
   target included), the largest resident memory of any process of the run
   (``peak_rss_mb``: ``getrusage(RUSAGE_CHILDREN)`` of a wrapper process around
   make, exact, Snakemake's own process included) and, per rule, the job
   count, summed and longest job time and peak RSS (sampled every 0.1 s with
   psutil; in the JSON file). The copy links the repository's ``.venv`` (and
   ``.uvtool``), so nothing is installed;
3. times the bare segmenters on the clean text that run produced
   (``floor_s``): in one fresh process, jieba's ``Tokenizer.lcut(paragraph,
   HMM=False)`` over every Chinese paragraph and ``spacy.blank("en")`` +
   lookup lemmatizer ``nlp.pipe(paragraphs)`` over every English paragraph,
   nothing else. The models are loaded and initialised *before* the clock
   starts (jieba's dictionary, spaCy's lookup tables), so the floor is pure
   segmentation work on one core; it is run three times (``--floor-runs``),
   ``floor_s`` is the median, ``floor.runs_s`` every run; ``ratio = wall_s / floor_s``;
4. reruns ``make run`` with nothing changed (``noop_s``; ``noop_report``:
   whether the report was rebuilt, it must not be), then, for synthetic
   corpora, after appending one ~50 KB document (file + manifest row;
   ``add1_s``, ``add1_segment_jobs`` must be 1 unless the document changes which paragraphs
   are repeated in another shard, ``add1_rules``: the jobs run per rule) and after adding one term to one
   theme of the codebook (``codebook_s``); ``*_share`` = rerun / cold.

Each invocation writes ``benchmarks/results/bench-<timestamp>.json`` (all of
the above, per-rule details, machine, load average, git commit) and prints a
table. The shipped corpus always runs first when synthetic corpora are asked
for: its clean texts are the sentence pool of the synthetic ones (so the pool
is made by the current code, whatever the state of ``data/processed``).

Usage::

    python benchmarks/bench.py                      # shipped, 10 MB, 50 MB (~5 min on 2 cores)
    python benchmarks/bench.py --sizes shipped 10   # a quicker subset
    python benchmarks/bench.py --sizes 50 --cores 2 --keep   # keep the working copies

No external tools: the standard library, psutil (a Snakemake dependency) and
the project's own environment.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
PY = sys.executable
COPY = ["Snakefile", "workflow", "config", "validation", "environment.yml", "src", "Makefile", "pyproject.toml",
        "uv.lock"]
LINKS = [".venv", ".uvtool"]  # the installed environment, shared (make's env target then has nothing to do)
RESULTS = ROOT / "benchmarks" / "results"

# Runs Snakemake as its child and reports the largest RSS of any descendant (KiB on Linux).
_WRAPPER = textwrap.dedent(
    """
    import json, resource, subprocess, sys
    rc = subprocess.call(sys.argv[2:], stdout=open(sys.argv[1], "w"), stderr=subprocess.STDOUT)
    print(json.dumps({"rc": rc, "maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
    """
)

# The floor: bare segmenters over the clean texts, models loaded before timing.
_FLOOR = textwrap.dedent(
    """
    import json, sys, tempfile, time
    from pathlib import Path
    import jieba, spacy
    from textdrift.io import read_texts
    texts = read_texts(sorted(Path(sys.argv[1]).glob("shard-*.parquet")))
    zh = [p for (_, lang), paras in sorted(texts.items()) if lang == "zh" for p in paras if p]
    en = [p for (_, lang), paras in sorted(texts.items()) if lang == "en" for p in paras if p]
    tk = jieba.Tokenizer()
    tk.tmp_dir = tempfile.mkdtemp(prefix="bench-jieba-")
    tk.initialize()
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    list(nlp.pipe(["Warm up the tokenizer and lemmatizer."]))
    tk.lcut("预热分词器。", HMM=False)
    t0 = time.perf_counter()
    n_zh = sum(len(tk.lcut(p, HMM=False)) for p in zh)
    t1 = time.perf_counter()
    n_en = sum(len(d) for d in nlp.pipe(en, batch_size=256))
    t2 = time.perf_counter()
    print(json.dumps({"zh_s": t1 - t0, "en_s": t2 - t1, "floor_s": t2 - t0, "zh_tokens": n_zh, "en_tokens": n_en,
                      "zh_chars": sum(map(len, zh)), "en_chars": sum(map(len, en))}))
    """
)

_SCRIPT_RULE = re.compile(r"\.snakemake/scripts/tmp\w+\.(\w+)\.py")


class TreeSampler(threading.Thread):
    """Polls a process tree: per job process (a rule's script) its lifetime and peak RSS."""

    def __init__(self, root_pid: int, interval: float = 0.1):
        super().__init__(daemon=True)
        self.root_pid, self.interval = root_pid, interval
        self.jobs: dict[int, dict] = {}
        self.stop = threading.Event()

    def run(self):
        try:
            root = psutil.Process(self.root_pid)
        except psutil.Error:
            return
        while not self.stop.is_set():
            now = time.time()
            try:
                procs = root.children(recursive=True)
            except psutil.Error:
                break
            for p in procs:
                try:
                    info = self.jobs.get(p.pid)
                    if info is None:
                        m = _SCRIPT_RULE.search(" ".join(p.cmdline()))
                        if not m:
                            continue
                        info = self.jobs[p.pid] = {"rule": m.group(1), "start": p.create_time(), "end": now,
                                                   "rss_mb": 0.0}
                    info["end"] = now
                    info["rss_mb"] = max(info["rss_mb"], p.memory_info().rss / 2**20)
                except psutil.Error:
                    continue
            self.stop.wait(self.interval)

    def per_rule(self) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for j in self.jobs.values():
            r = out.setdefault(j["rule"], {"jobs": 0, "sum_s": 0.0, "max_s": 0.0, "peak_rss_mb": 0.0})
            d = j["end"] - j["start"]
            r["jobs"] += 1
            r["sum_s"] = round(r["sum_s"] + d, 2)
            r["max_s"] = round(max(r["max_s"], d), 2)
            r["peak_rss_mb"] = round(max(r["peak_rss_mb"], j["rss_mb"]), 1)
        return dict(sorted(out.items(), key=lambda kv: -kv[1]["sum_s"]))


def run_make(work: Path, cores: int, log_name: str) -> dict:
    """``make run`` in ``work``; wall time, exit code, peak RSS, jobs run, per-rule details."""
    log = work / "bench-logs" / f"{log_name}.log"
    log.parent.mkdir(exist_ok=True)
    env = {**os.environ, "MPLBACKEND": "Agg"}
    report = work / "results" / "report.html"
    report_mtime = report.stat().st_mtime_ns if report.exists() else None
    cmd = [PY, "-c", _WRAPPER, str(log), "make", "--no-print-directory", "run", f"CORES={cores}"]
    started_ns = time.time_ns()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=subprocess.PIPE, text=True)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    out, _ = proc.communicate()
    wall = time.perf_counter() - t0
    sampler.stop.set()
    sampler.join()
    res = json.loads(out.strip().splitlines()[-1])
    text = log.read_text(encoding="utf-8", errors="replace")
    if res["rc"] != 0:
        raise RuntimeError(f"snakemake failed in {work} (rc={res['rc']}); log {log}:\n{text[-4000:]}")
    steps = re.findall(r"(\d+) of (\d+) steps", text)
    # the jobs that ran, from Snakemake's own log of this run (`make run` passes --quiet host, so
    # the jobs are only named there, without their wildcards: "Finished jobid: 12 (Rule: segment)")
    # every Snakemake log written during this run is read (`make run` starts one Snakemake, which
    # writes the report after the jobs; `make report` alone starts another, whose log is empty)
    logs = sorted((work / ".snakemake" / "log").glob("*.snakemake.log"), key=lambda p: p.stat().st_mtime_ns)
    fresh = [p for p in logs if p.stat().st_mtime_ns >= started_ns]
    jobs_ran = [rule for p in fresh
                for rule in re.findall(r"Finished jobid: \d+ \(Rule: (\w+)\)",
                                       p.read_text(encoding="utf-8", errors="replace"))]
    return {
        "wall_s": round(wall, 2),
        "jobs": int(steps[-1][1]) if steps else 0,
        "jobs_ran": jobs_ran,
        "nothing_to_do": "Nothing to be done" in text,
        "report_rebuilt": report.exists() and report.stat().st_mtime_ns != report_mtime,
        "peak_rss_mb": round(res["maxrss_kb"] / 1024, 1),
        "rules": sampler.per_rule(),
        "log": str(log),
    }


def floor(clean_dir: Path, runs: int) -> dict:
    """The bare segmenters ``runs`` times, each in a fresh process: the run of median ``floor_s``,
    with every run's ``floor_s`` in ``runs_s``. One run varied by up to 1.7x on one idle machine
    (27.9 and 46.8 s at 50 MB, same text, ten minutes apart): the median of three is the floor."""
    found = []
    for _ in range(runs):
        out = subprocess.run([PY, "-c", _FLOOR, str(clean_dir)], capture_output=True, text=True, check=True)
        found.append({k: round(v, 3) if isinstance(v, float) else v for k, v in json.loads(out.stdout).items()})
    median = sorted(found, key=lambda r: r["floor_s"])[(runs - 1) // 2]
    return {**median, "runs_s": [r["floor_s"] for r in found]}


def make_work(base: Path, name: str) -> Path:
    work = base / name
    work.mkdir(parents=True)
    for item in COPY:
        src = ROOT / item
        if src.is_dir():
            shutil.copytree(src, work / item, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(src, work / item)  # keeps mtimes: uv.lock stays older than .venv/.synced
    for item in LINKS:
        (work / item).symlink_to(ROOT / item)
    for empty in ["data/processed", "results"]:
        (work / empty).mkdir(parents=True, exist_ok=True)
    return work


def edit_codebook(work: Path) -> str:
    """Add one English term to the first theme of the copy's codebook (what a user iterating on the
    codebook does); return the theme's id."""
    import yaml

    path = work / "config" / "themes.yaml"
    book = yaml.safe_load(path.read_text(encoding="utf-8"))
    theme = book["themes"][0]
    theme["en"].append("benchmark added term")
    if theme.get("pairs"):  # a theme with pairs places every term (the codebook's check)
        theme.setdefault("unpaired", []).append(
            {"term": "benchmark added term", "lang": "en", "why": "added by the benchmark"})
    path.write_text(yaml.safe_dump(book, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return theme["id"]


def corpus_size(raw: Path) -> tuple[float, int]:
    files = [p for p in raw.rglob("*") if p.is_file() and p.name != "documents.csv"]
    n_docs = sum(1 for _ in (raw / "documents.csv").open(encoding="utf-8")) - 1
    return sum(p.stat().st_size for p in files) / 1e6, n_docs


def bench_corpus(base: Path, size: str, cores: int, seed: int, pool: Path | None, reruns: bool,
                 floor_runs: int) -> dict:
    from textdrift.synth import add_document, make_corpus

    work = make_work(base, f"corpus-{size}")
    raw = work / "data" / "raw"
    t_gen = None
    if size == "shipped":
        shutil.copytree(ROOT / "data" / "raw", raw)
    else:
        t0 = time.perf_counter()
        make_corpus(raw, float(size), seed=seed, source_dir=pool)
        t_gen = round(time.perf_counter() - t0, 2)
    mb, docs = corpus_size(raw)
    print(f"[bench] {size}: {docs} documents, {mb:.1f} MB, cold run on {cores} cores ...", file=sys.stderr, flush=True)
    load_before = os.getloadavg()
    cold = run_make(work, cores, "cold")
    fl = floor(work / "data" / "processed" / "clean", floor_runs)
    row = {
        "corpus": size, "corpus_mb": round(mb, 2), "docs": docs, "cores": cores, "jobs": cold["jobs"],
        "wall_s": cold["wall_s"], "floor_s": fl["floor_s"], "ratio": round(cold["wall_s"] / fl["floor_s"], 2),
        "peak_rss_mb": cold["peak_rss_mb"], "generate_s": t_gen, "floor": fl, "cold": cold,
        "loadavg_before": [round(x, 2) for x in load_before], "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "work_dir": str(work),
    }
    if reruns:
        noop = run_make(work, cores, "noop")
        row["noop_s"], row["noop_report"], row["noop"] = noop["wall_s"], noop["report_rebuilt"], noop
        if size != "shipped":
            doc_id = add_document(raw, seed=seed + 1, source_dir=pool)
            tokens = sorted((work / "data" / "processed" / "tokens").glob("shard-*.parquet"))
            before = {p.name: p.stat().st_mtime_ns for p in tokens}
            add = run_make(work, cores, "add1")
            row["add1_s"], row["add1"] = add["wall_s"], add
            row["add1_doc"] = doc_id
            row["add1_segment_jobs"] = add["jobs_ran"].count("segment")
            # which token shards were rewritten (the added document's, and those whose roles changed)
            row["add1_segment_shards"] = [p.name for p in tokens if p.stat().st_mtime_ns != before[p.name]]
            # which jobs the added document reran, per rule
            row["add1_rules"] = dict(sorted(Counter(add["jobs_ran"]).items()))
            row["add1_share"] = round(add["wall_s"] / cold["wall_s"], 3)
            row["codebook_theme"] = edit_codebook(work)
            book = run_make(work, cores, "codebook")
            row["codebook_s"], row["codebook"] = book["wall_s"], book
            row["codebook_share"] = round(book["wall_s"] / cold["wall_s"], 3)
    return row


def bytecode_compiled() -> bool:
    """Whether the environment's packages have .pyc files (uv sync --compile-bytecode)."""
    spec = importlib.util.find_spec("sklearn")
    return spec is not None and Path(importlib.util.cache_from_source(spec.origin)).exists()


def git_state() -> dict:
    def git(*a):
        r = subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else None

    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


COLUMNS = ["corpus_mb", "docs", "cores", "jobs", "wall_s", "floor_s", "ratio", "peak_rss_mb", "noop_s", "noop_report",
           "add1_s", "add1_share", "add1_segment_jobs", "codebook_s", "codebook_share"]


def table(rows: list[dict]) -> str:
    cells = [["corpus", *COLUMNS]] + [[str(r["corpus"]), *("" if r.get(c) is None else str(r[c]) for c in COLUMNS)]
                                     for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    lines = [" | ".join(c.rjust(w) for c, w in zip(row, widths)) for row in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def write_result(path: Path, started, argv, rows: list[dict]) -> dict:
    """Write the JSON of the run so far (after every corpus: an interrupted run keeps what it measured)."""
    vm = psutil.virtual_memory()
    result = {
        "started": started.isoformat(timespec="seconds"),
        "finished": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.argv[0]).as_posix(), *(argv if argv is not None else sys.argv[1:])]),
        "machine": {"cpus": os.cpu_count(), "mem_gb": round(vm.total / 2**30, 1), "platform": platform.platform(),
                    "python": platform.python_version(), "bytecode_compiled": bytecode_compiled()},
        "git": git_state(),
        "columns": {
            "wall_s": "make run (checks, whole workflow, report), cold, fresh working copy",
            "floor_s": "bare jieba lcut + spaCy blank-en tokenizer/lookup lemmatizer over the same clean text, "
                       "one process, models loaded before timing; the median of floor.runs_s (--floor-runs)",
            "ratio": "wall_s / floor_s",
            "jobs": "Snakemake jobs of the cold run (incl. the `all` target)",
            "peak_rss_mb": "largest resident memory of any process of the cold run (getrusage, incl. Snakemake)",
            "noop_s": "make run again, nothing changed", "noop_report": "whether that rebuilt the report",
            "add1_s": "make run after appending one document",
            "add1_rules": "the jobs that run ran, per rule (from Snakemake's log)",
            "add1_segment_shards": "the token shards that run rewrote",
            "codebook_s": "make run after adding one term to one theme",
        },
        "rows": rows,
    }
    path.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", nargs="+", default=["shipped", "10", "50", "200"],
                    help="corpora: 'shipped' and/or synthetic sizes in MB (default: shipped 10 50 200)")
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", type=int, default=0, help="seed of the synthetic corpora")
    ap.add_argument("--floor-runs", type=int, default=3,
                    help="times the bare segmenters are run; floor_s is the median (default: 3)")
    ap.add_argument("--no-reruns", action="store_true", help="skip the no-op, add-one-document and codebook reruns")
    ap.add_argument("--keep", action="store_true", help="keep the working copies (printed at the end)")
    ap.add_argument("--tmp", default=None, help="where the working copies go (default: the system temp dir)")
    ap.add_argument("--out", default=str(RESULTS), help="directory of the JSON results")
    a = ap.parse_args(argv)
    for s in a.sizes:
        if s != "shipped":
            float(s)
    if not bytecode_compiled():
        print("[bench] warning: the environment has no compiled bytecode (.pyc); every job then compiles its imports "
              "(~2-3 s per process). Install with `uv sync --compile-bytecode` (UV_COMPILE_BYTECODE=1).",
              file=sys.stderr)
    started = dt.datetime.now().astimezone()
    base = Path(tempfile.mkdtemp(prefix="textdrift-bench-", dir=a.tmp))
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"bench-{started.strftime('%Y%m%d-%H%M%S')}.json"
    rows: list[dict] = []
    try:
        synthetic = [s for s in a.sizes if s != "shipped"]
        order = ["shipped"] + synthetic if synthetic or "shipped" in a.sizes else []
        pool = None
        for size in order:
            row = bench_corpus(base, size, a.cores, a.seed, pool, reruns=not a.no_reruns, floor_runs=a.floor_runs)
            if size == "shipped":
                pool = Path(row["work_dir"]) / "data" / "processed" / "clean"
            if size in a.sizes:
                rows.append(row)
                write_result(path, started, argv, rows)
            print(table([row]).splitlines()[-1], file=sys.stderr, flush=True)
    finally:
        if not a.keep:
            shutil.rmtree(base, ignore_errors=True)
    result = write_result(path, started, argv, rows)
    print(table(rows))
    print(f"\n{result['started']}  {result['command']}  ({os.cpu_count()} CPUs, {result['machine']['mem_gb']} GiB)")
    print(f"results: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    if a.keep:
        print(f"working copies: {base}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
