"""Faults: a run killed in the middle leaves nothing a rerun could take for finished, and the
rerun's tables equal those of an uninterrupted run; no run ever writes into data/raw/.

Recovering from a hard kill (SIGKILL, power loss) takes what `make run` should do:
``snakemake --unlock`` (the killed run's lock remains; only when no other run is active) and
``--rerun-incomplete`` (outputs of jobs that were running are marked incomplete; Snakemake 9
refuses to go on without it when such a file exists). The corpus is one year only, so the
killed run's rerun (every output) also checks that a single-year corpus runs through, and the
reference run that its comparison tables are empty and well-formed. The reference run makes only
what is compared with the rerun (every table, the clean texts, the logs): not the charts, the
explorer, results/README.md and provenance.json (``NO_TABLE``, Snakemake's ``--omit-from``).
"""

import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from conftest import SNAKEMAKE, copy_project, run_snakemake, sha256_tree

pytestmark = pytest.mark.e2e

HEADER = "doc_id,date,year,title,source,file,languages,encoding,notes\n"
DOCS = {
    "en_a.txt": "Digital cooperation between countries grew quickly.\n"
                "The digital economy needs open data and secure networks.\n",
    "en_b.txt": "Countries agreed to build digital infrastructure together.\n"
                "Capacity building and skills matter for the digital divide.\n",
    "zh_a.txt": "各国应加强数字经济合作，共同建设网络空间命运共同体。\n数据安全与个人信息保护是数字经济发展的基础。\n",
}
CONFIG = "shards: 2\n"


def _project(path: Path) -> Path:
    work = copy_project(path)
    raw = work / "data/raw"
    for p in raw.iterdir():
        p.unlink()
    rows = []
    for i, (name, text) in enumerate(DOCS.items()):
        (raw / name).write_text(text, encoding="utf-8")
        rows.append(f"{Path(name).stem},2020-0{i + 1}-01,,T{i},fixture,{name},{name[:2]},,")
    (raw / "documents.csv").write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    (work / "faults.yaml").write_text(CONFIG, encoding="utf-8")
    return work


# the rules that write no table (results/tables/) and no log the tests read: the uninterrupted
# reference run leaves them out (the killed run, rerun, makes every output, these included)
NO_TABLE = ["drift_figures", "phrase_figures", "theme_figures", "formulation_figures", "explorer", "results_readme",
            "provenance"]
CLEAN = ["data/processed/clean/index.csv", "data/processed/cleaning_log.csv"]


def _start(work: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [SNAKEMAKE, "--cores", "2", *args, "--configfile", "config/config.yaml", "faults.yaml"],
        cwd=work, env={**os.environ, "MPLBACKEND": "Agg"}, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,  # own process group: kill it whole
    )


def _tables(work: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((work / "results/tables").glob("*.csv"))}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    ref = _project(tmp_path_factory.mktemp("reference"))
    killed = _project(tmp_path_factory.mktemp("killed"))
    raw_before = sha256_tree(killed / "data/raw")
    # runs alongside the one we kill: what is compared (the clean texts' index and log are read only
    # by rules left out, so they are named)
    reference = _start(ref, "all", *CLEAN, "--omit-from", *NO_TABLE)
    victim = _start(killed)
    deadline = time.time() + 120
    while not list((killed / "data/processed/tokens").glob("shard-*.parquet")) and time.time() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # let a few more jobs start
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()
    state_after_kill = sorted(str(p.relative_to(killed)) for p in killed.glob("results/**/*") if p.is_file())
    assert reference.wait(timeout=600) == 0
    unlock = run_snakemake(killed, "--unlock", "--configfile", "config/config.yaml", "faults.yaml")
    rerun = run_snakemake(killed, "--rerun-incomplete", "--configfile", "config/config.yaml", "faults.yaml")
    return {"ref": ref, "killed": killed, "raw_before": raw_before, "after_kill": state_after_kill,
            "unlock": unlock, "rerun": rerun}


def test_rerun_after_kill_equals_uninterrupted_run(runs):
    # the kill did interrupt the run (the last output was not there), and the rerun did work
    assert "results/README.md" not in runs["after_kill"]
    assert "Nothing to be done" not in runs["rerun"].stdout + runs["rerun"].stderr
    ref, killed = _tables(runs["ref"]), _tables(runs["killed"])
    assert ref and sorted(ref) == sorted(killed)
    for name in ref:
        assert killed[name] == ref[name], name
    # the clean texts and their index too
    for rel in CLEAN:
        a = pd.read_csv(runs["ref"] / rel, keep_default_na=False)
        b = pd.read_csv(runs["killed"] / rel, keep_default_na=False)
        pd.testing.assert_frame_equal(a, b)


def test_no_temporary_or_partial_files_left(runs):
    leftovers = [p for p in runs["killed"].rglob(".*.tmp") if ".snakemake" not in p.parts]
    # a hard kill can leave a temporary file of an atomic write; it is never taken for an output
    assert all(not p.name.endswith((".csv", ".parquet")) for p in leftovers)
    dry = run_snakemake(runs["killed"], "-n", "--configfile", "config/config.yaml", "faults.yaml")
    assert "Nothing to be done" in dry.stdout + dry.stderr


def test_raw_data_unchanged_by_killed_and_rerun(runs):
    assert sha256_tree(runs["killed"] / "data/raw") == runs["raw_before"]


def test_single_year_corpus_has_empty_well_formed_comparisons(runs):
    tables = runs["ref"] / "results/tables"
    for name in ["tfidf_drift.csv", "phrase_changes.csv", "tfidf_term_shifts.csv"]:
        df = pd.read_csv(tables / name)
        assert len(df) == 0 and {"lang", "year_from", "year_to"} <= set(df.columns), name
    sim = pd.read_csv(tables / "tfidf_similarity.csv")
    assert set(zip(sim["lang"], sim["year_a"], sim["year_b"])) == {("en", 2020, 2020), ("zh", 2020, 2020)}
    logs = (runs["ref"] / "logs/drift.log").read_text() + (runs["ref"] / "logs/phrases.log").read_text()
    assert "only one year of en text" in logs and "two are needed" in logs
