"""What `make run` shows (textdrift.console): progress in a few lines, errors whole, then the
warnings the jobs logged."""

from textdrift.console import filter_lines, main, warnings_summary

SNAKEMAKE_OUTPUT = """Assuming unrestricted shared filesystem usage.
Building DAG of jobs...
Provided cores: 2
Job stats:
job      count
-----  -------
clean        2
total       20
Select jobs to execute...
Execute 2 jobs...
[Sun Dec  6 17:41:33 2026]
Finished jobid: 15 (Rule: clean)
""" + "".join(f"{i} of 20 steps ({i * 5}%) done\nSelect jobs to execute...\n" for i in range(1, 21)) + """\
Error in rule themes:
    log: logs/themes.log (check log file(s) for error details)
Complete log(s): /w/.snakemake/log/x.snakemake.log
Creating report...
Loading script code for rule explorer_terms
Adding theme_changes.csv (23.67 KB).
Adding phrase_steps.csv (840 bytes).
Report created.
"""


def test_progress_at_each_tenth_and_everything_else_kept():
    out = []
    filter_lines(SNAKEMAKE_OUTPUT.splitlines(True), out.append)
    text = "".join(out)
    progress = [line for line in text.splitlines() if line.endswith("done")]
    assert progress == [f"{i} of 20 steps ({i * 5}%) done" for i in (1, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20)]
    assert "Select jobs" not in text and "Finished jobid" not in text and "[Sun Dec" not in text
    assert "Job stats:" in text and "Error in rule themes:" in text and "log: logs/themes.log" in text
    # the report written after the run: only that it was
    assert "Loading script" not in text and "Adding " not in text and "Creating report" not in text
    assert text.endswith("Report created.\n")


def test_on_a_terminal_the_progress_is_one_line():
    out = []
    filter_lines(SNAKEMAKE_OUTPUT.splitlines(True), out.append, tty=True)
    text = "".join(out)
    assert text.count("\r") == 20 and "\r20 of 20 steps (100%) done\nError in rule themes:" in text


def test_the_warnings_of_the_logs_once_each_with_their_file(tmp_path):
    (tmp_path / "clean").mkdir()
    (tmp_path / "clean" / "shard-0.log").write_text(
        "2026-12-06 17:19:40,733 INFO cleaned 3 texts\n"
        "2026-12-06 17:19:40,734 WARNING doc_a: text in 'fr' found but not declared in the manifest; it is kept\n",
        encoding="utf-8")
    (tmp_path / "themes.log").write_text(
        "2026-12-06 17:19:41,000 WARNING 2 codebook term(s) never matched the corpus: " + "x, " * 200 + "\n"
        "2026-12-06 17:19:41,000 WARNING 2 codebook term(s) never matched the corpus: " + "x, " * 200 + "\n",
        encoding="utf-8")
    found = warnings_summary(tmp_path)
    assert len(found) == 2
    assert found[0] == f"doc_a: text in 'fr' found but not declared in the manifest; it is kept ({tmp_path}/clean/shard-0.log)"
    assert found[1].startswith("2 codebook term(s) never matched") and found[1].endswith(f"... ({tmp_path}/themes.log)")


def test_run_returns_the_commands_status(tmp_path, capsys):
    import sys

    status = main(["run", "--logs", str(tmp_path), "--", sys.executable, "-c",
                   "print('1 of 1 steps (100%) done'); raise SystemExit(3)"])
    assert status == 3 and "1 of 1 steps (100%) done" in capsys.readouterr().out


def test_the_warnings_of_jobs_whose_outputs_are_gone_are_not_shown(tmp_path, monkeypatch):
    import base64
    import json
    import os
    import time

    monkeypatch.chdir(tmp_path)
    logs, md = tmp_path / "logs", tmp_path / ".snakemake" / "metadata"
    logs.mkdir()
    md.mkdir(parents=True)
    line = "2026-12-07 02:00:00,000 WARNING {}\n"
    for shard in (0, 1):  # shard-1's output is gone (the corpus shrank): its log is stale
        (logs / f"shard-{shard}.log").write_text(line.format(f"warning of shard {shard}"), encoding="utf-8")
        out = f"out/shard-{shard}.txt"
        name = base64.urlsafe_b64encode(out.encode()).decode()
        (md / name).write_text(json.dumps({"rule": "x", "log": [f"logs/shard-{shard}.log"]}), encoding="utf-8")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "shard-0.txt").write_text("x")
    old = logs / "old_rule.log"  # a rule that no longer exists: no record at all
    old.write_text(line.format("warning of an old rule"), encoding="utf-8")
    later = time.time_ns() + 10**12  # written "during the run" below, after the other two
    os.utime(old, ns=(later, later))
    found = warnings_summary("logs", metadata_dir=".snakemake/metadata")
    assert found == ["warning of shard 0 (logs/shard-0.log)"]
    # a log written during the run counts whatever the records say (a failed job has no output)
    found = warnings_summary("logs", metadata_dir=".snakemake/metadata", since_ns=later - 1)
    assert found == ["warning of an old rule (logs/old_rule.log)", "warning of shard 0 (logs/shard-0.log)"]
    # no records: every log
    assert len(warnings_summary("logs", metadata_dir="nowhere")) == 3
