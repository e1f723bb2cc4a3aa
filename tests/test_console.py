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
"""


def test_progress_at_each_tenth_and_everything_else_kept():
    out = []
    filter_lines(SNAKEMAKE_OUTPUT.splitlines(True), out.append)
    text = "".join(out)
    progress = [line for line in text.splitlines() if line.endswith("done")]
    assert progress == [f"{i} of 20 steps ({i * 5}%) done" for i in (1, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20)]
    assert "Select jobs" not in text and "Finished jobid" not in text and "[Sun Dec" not in text
    assert "Job stats:" in text and "Error in rule themes:" in text and "log: logs/themes.log" in text


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
