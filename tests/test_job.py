"""A rule's job ends with ``textdrift.job.finish``: what it wrote is flushed (its log file, stdout,
stderr), the process exits 0 without running what follows; an exception before it still fails the
job; every rule script ends with it."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import sys, warnings
from textdrift.io import log_to_file
from textdrift.job import finish
log = log_to_file(sys.argv[1])
log.info("logged")
warnings.warn("warned")
print("out", end="")
sys.stderr.write("err")
{fail}
finish()
print("after finish")
"""


def _run(tmp_path, fail=""):
    env_path = str(ROOT / "src")
    return subprocess.run([sys.executable, "-c", SCRIPT.format(fail=fail), str(tmp_path / "job.log")],
                          capture_output=True, text=True, env={"PYTHONPATH": env_path, "PYTHONUNBUFFERED": ""})


def test_finish_flushes_the_log_and_the_streams_and_exits_zero(tmp_path):
    done = _run(tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "out"  # stdout is a pipe here (block-buffered): flushed, and nothing after finish ran
    assert done.stderr == "err"
    log = (tmp_path / "job.log").read_text(encoding="utf-8")
    assert "INFO logged" in log and "UserWarning: warned" in log


def test_an_error_before_finish_fails_the_job(tmp_path):
    done = _run(tmp_path, fail="raise RuntimeError('boom')")
    assert done.returncode == 1 and "RuntimeError: boom" in done.stderr and "after finish" not in done.stdout


def test_every_rule_script_ends_with_finish():
    for script in sorted((ROOT / "workflow" / "scripts").glob("*.py")):
        body = ast.parse(script.read_text(encoding="utf-8")).body
        calls = [n for n in body if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)
                 and getattr(n.value.func, "id", None) == "finish"]
        assert calls and calls[-1] is body[-1] and len(calls) == 1, f"{script.name}: end with one finish()"
        assert any(isinstance(n, ast.ImportFrom) and n.module == "textdrift.job" for n in body), script.name
