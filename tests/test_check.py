"""`make check` (textdrift.check): the user's inputs validated with every problem listed, nothing
run; a lock left by a killed run removed only when no run is active."""

import os
import shutil
import stat
import subprocess
import sys
import time

from conftest import FIXTURE, ROOT
from textdrift.check import check_inputs, snakemake_running, unlock_stale


def _project(tmp_path):
    for item in ("config", "data/raw"):
        shutil.copytree(FIXTURE / item, tmp_path / item)
    return tmp_path


def test_check_passes_on_the_fixture_and_lists_every_problem(tmp_path, monkeypatch):
    work = _project(tmp_path)
    monkeypatch.chdir(work)
    problems, notes = check_inputs("config/config.yaml")
    assert problems == [] and any(n.startswith("manifest data/raw/documents.csv: 5 documents") for n in notes)
    # three inputs broken at once: all three reported
    codebook = work / "config/themes.yaml"
    codebook.write_text(codebook.read_text(encoding="utf-8").replace("label_zh: 数字经济", "lable_zh: 数字经济", 1),
                        encoding="utf-8")
    manifest = work / "data/raw/documents.csv"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("000_ff5f590d30825363.txt", "000_ff5f590d3082536.txt"),
                        encoding="utf-8")
    entities = work / "config/entities.yaml"
    entities.write_text(entities.read_text(encoding="utf-8").replace("entities:\n", "entities:\nentities:\n", 1),
                        encoding="utf-8")
    problems, _ = check_inputs("config/config.yaml")
    text = "\n".join(problems)
    assert "config/entities.yaml: line" in text and "given twice" in text
    assert "field 'lable_zh': unknown key; did you mean 'label_zh'?" in text
    assert "row 2 (doc_id='gdi_nonpaper_2022'), field 'file'" in text and "did you mean '000_ff5f590d30825363.txt'" in text
    out = subprocess.run([sys.executable, "-m", "textdrift.check", "--config", "config/config.yaml"], cwd=work,
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert out.returncode == 1 and "3 problem(s) in the inputs (nothing was run)" in out.stderr


def test_the_count_is_the_number_of_problems_and_suggestions_are_close(tmp_path, monkeypatch):
    """Two manifest problems are two; a genre typo gets a did-you-mean from the fixed list; a file
    of another year is never suggested for a missing one (its numbers differ)."""
    work = _project(tmp_path)
    monkeypatch.chdir(work)
    (work / "data/raw/gwr_2025.txt").write_text("A report.\n", encoding="utf-8")
    manifest = work / "data/raw/documents.csv"
    text = manifest.read_text(encoding="utf-8")
    text = text.replace(",non_paper,", ",reprot,", 1).replace("000_ff5f590d30825363.txt", "gwr_2026.txt", 1)
    manifest.write_text(text, encoding="utf-8")
    problems, _ = check_inputs("config/config.yaml")
    assert len(problems) == 2, problems
    assert "field 'genre': 'reprot' is not one of" in problems[0] and problems[0].endswith("did you mean 'report'?")
    assert "'gwr_2026.txt' does not exist" in problems[1] and "did you mean" not in problems[1]
    out = subprocess.run([sys.executable, "-m", "textdrift.check", "--config", "config/config.yaml"], cwd=work,
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert "2 problem(s) in the inputs" in out.stderr


def test_a_config_key_given_twice_stops_the_check(tmp_path, monkeypatch):
    work = _project(tmp_path)
    monkeypatch.chdir(work)
    config = work / "config/config.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "\nresults_dir: out\n", encoding="utf-8")
    problems, _ = check_inputs("config/config.yaml")
    assert len(problems) == 1 and "key 'results_dir' is given twice" in problems[0]


def test_stale_lock_is_removed_only_without_a_live_run(tmp_path, capsys):
    fake = tmp_path / "fake-snakemake"
    fake.write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path}/called\nrm -f .snakemake/locks/*\n", encoding="utf-8")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    work = tmp_path / "w"
    (work / ".snakemake/locks").mkdir(parents=True)
    assert not unlock_stale(work, [str(fake)])  # no lock: nothing to do
    (work / ".snakemake/locks/0.input.lock").write_text("x", encoding="utf-8")
    assert not snakemake_running(work)
    assert unlock_stale(work, [str(fake)])
    assert (tmp_path / "called").read_text().strip() == "--unlock" and "lock was removed" in capsys.readouterr().out
    # a live run in the directory (a process whose command is snakemake): the lock stays
    (work / ".snakemake/locks/0.input.lock").write_text("x", encoding="utf-8")
    live = subprocess.Popen(["snakemake", "30"], executable=shutil.which("sleep"), cwd=work)  # argv[0] snakemake
    try:
        for _ in range(50):  # until the child shows in /proc under its name
            if snakemake_running(work):
                break
            time.sleep(0.1)
        assert snakemake_running(work) and not unlock_stale(work, [str(fake)])
        assert (work / ".snakemake/locks/0.input.lock").exists()
    finally:
        live.kill()
