"""The workflow follows the Snakemake catalog's conventions: formatted by snakefmt, clean under
`snakemake --lint`, and the files the catalog reads are present."""

import subprocess
import sys
from pathlib import Path

import yaml

from conftest import ROOT, copy_project, run_snakemake

SNAKEFMT = str(Path(sys.executable).with_name("snakefmt"))


def test_snakefmt_clean():
    proc = subprocess.run([SNAKEFMT, "--check", "Snakefile", "workflow"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, f"run `.venv/bin/snakefmt Snakefile workflow`:\n{proc.stderr[-3000:]}"


def test_snakemake_lint_clean(tmp_path):
    work = copy_project(tmp_path)
    proc = run_snakemake(work, "--lint", check=False)
    assert proc.returncode == 0 and "Congratulations" in proc.stdout + proc.stderr, proc.stdout[-3000:] + proc.stderr[-3000:]


def test_catalog_files():
    usage = yaml.safe_load((ROOT / ".snakemake-workflow-catalog.yml").read_text(encoding="utf-8"))["usage"]
    assert usage["software-stack-deployment"]["conda"] is True
    assert usage["report"] is True
    assert (ROOT / "config" / "README.md").read_text(encoding="utf-8").strip()
