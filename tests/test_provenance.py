"""Results follow the code (issue 30): a library change reruns the rules that run it, and the
results name the code, codebook and configuration that made them (textdrift.provenance)."""

import json
import re
import shutil
from pathlib import Path

import pytest

from conftest import ROOT, run_snakemake
from textdrift.provenance import code_hash, describe, git_state, module_closure, settings

SCRIPTS = ROOT / "workflow" / "scripts"


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    pkg = tmp_path / "textdrift"
    pkg.mkdir()
    for name, text in {"__init__.py": "", **files}.items():
        (pkg / name).write_text(text, encoding="utf-8")
    return pkg


def test_the_closure_follows_every_kind_of_import_transitively(tmp_path):
    pkg = _package(tmp_path, {
        "a.py": "from textdrift.b import f\n",
        "b.py": "def f():\n    from . import c  # function-local and relative\n",
        "c.py": "import textdrift.d as dd\n",
        "d.py": "import os\n",
        "unused.py": "from textdrift import a\n",
    })
    script = tmp_path / "rule.py"
    script.write_text("from textdrift.a import run_a\nimport numpy\n", encoding="utf-8")
    assert module_closure(script, pkg) == ["textdrift", "textdrift.a", "textdrift.b", "textdrift.c", "textdrift.d"]
    before = code_hash(script, pkg)
    (pkg / "unused.py").write_text("from textdrift import a\n# a comment\n", encoding="utf-8")
    assert code_hash(script, pkg) == before  # a module the script does not reach
    (pkg / "d.py").write_text("import os\n# a comment\n", encoding="utf-8")
    assert code_hash(script, pkg) != before  # one it reaches through three others


def test_every_rule_script_reaches_its_own_module():
    for script in sorted(SCRIPTS.glob("*.py")):
        module = re.search(r"from (textdrift\.\w+) import run_", script.read_text(encoding="utf-8")).group(1)
        assert module in module_closure(script), script.name


def test_settings_leave_out_the_code_hash():
    class Params(dict):
        def items(self):
            return super().items()

    assert settings(Params(code="abc", top=3)) == {"top": 3}


def test_outside_git_the_code_hash_names_the_code(tmp_path):
    state = git_state(tmp_path)
    assert state == {"commit": None, "dirty": None, "changed_files": []}
    record = {"textdrift_version": "0.1.0", **state, "library_code": "0123abcd", "codebook_version": "cb",
              "config_hash": "cf"}
    assert "library code 0123abcd (not a git checkout)" in describe(record)
    record.update(commit="f" * 40, dirty=True, changed_files=["src/x.py"])
    assert describe(record).startswith("textdrift 0.1.0, commit ffffffffffff with uncommitted changes (1 file)")


def _planned(work: Path, *args: str) -> set[str]:
    out = run_snakemake(work, "--dry-run", "--quiet", "rules", *args).stdout
    rows = (line.split() for line in out.splitlines())
    return {r[0] for r in rows if len(r) == 2 and r[1].isdigit() and r[0] not in ("total", "all")}


@pytest.mark.e2e
def test_a_library_change_reruns_its_rules_and_their_downstream_only(workflow_run, tmp_path):
    """The finished run, with its own copy of the library (src/ beside the Snakefile, which the
    workflow puts first on the path): appending a comment to the module that defines `run_phrases`
    plans exactly the rules whose scripts import it (directly or not) and their downstream rules;
    a comment in a module no rule imports plans nothing."""
    work = tmp_path / "w"
    shutil.copytree(workflow_run["dir"], work, symlinks=True)
    if (work / "src").is_symlink():  # the shared run is a project made for `make run`: src/ linked
        (work / "src").unlink()
    shutil.copytree(ROOT / "src", work / "src", ignore=shutil.ignore_patterns("__pycache__"))
    assert _planned(work) == set()  # the same code: nothing to do
    users = {s.stem for s in SCRIPTS.glob("*.py") if "textdrift.phrases" in module_closure(s)}
    assert users and "segment" not in users and "clean" not in users
    # what they and their downstream rules are, by Snakemake's own DAG
    expected = _planned(work, "--forcerun", *sorted(users))
    module = work / "src" / "textdrift" / "phrases.py"
    source = module.read_bytes()
    module.write_bytes(source + b"\n# a comment: the code changed\n")
    planned = _planned(work)
    assert planned == expected, (planned, expected)
    assert {"phrases", "provenance", "results_readme"} <= planned and not planned & {"clean", "segment", "themes"}
    # the module as it was, and a comment in a module no rule imports: nothing to do (one dry run
    # for both: either would plan a job)
    module.write_bytes(source)
    unused = work / "src" / "textdrift" / "notebook.py"
    assert not any("textdrift.notebook" in module_closure(s) for s in SCRIPTS.glob("*.py"))
    unused.write_bytes(unused.read_bytes() + b"\n# no rule imports this module\n")
    assert _planned(work) == set()


@pytest.mark.e2e
def test_the_results_name_their_code(workflow_run):
    results = workflow_run["dir"] / "results"
    record = json.loads((results / "provenance.json").read_text(encoding="utf-8"))
    assert record["codebook_version"] and record["config_hash"] and record["library_code"]
    tables = sorted(p.name for p in (results / "tables").glob("*.csv"))
    assert sorted(record["tables"]) == tables
    import hashlib

    for name, info in record["tables"].items():
        assert info["sha256"] == hashlib.sha256((results / "tables" / name).read_bytes()).hexdigest()
        assert info["rule"] and re.fullmatch(r"[0-9a-f]{16}", info["code"])
    assert f"**Made by** {describe(record)}." in (results / "README.md").read_text(encoding="utf-8")
    assert describe(record) in (results / "explorer.html").read_text(encoding="utf-8")


def test_code_hash_all_is_the_digest_of_every_module_without_the_import_graph():
    from textdrift import provenance as P

    sources = P._package(None)[1]
    assert P.code_hash_all() == P._digest(sources, sources)
    assert list(sources) == list(P.library_modules())


def test_the_import_records_kept_in_pycache_follow_the_sources(tmp_path):
    """Each module's imports are kept between starts in the package's __pycache__, keyed by the
    module's bytes: an edited import is seen, a corrupt or malformed file is parsed again and
    rewritten, and what is kept is what parsing gives."""
    import ast

    from textdrift import provenance as P

    pkg = _package(tmp_path, {"a.py": "from textdrift.b import f\n", "b.py": "import os\n", "c.py": "x = 1\n"})
    script = tmp_path / "rule.py"
    script.write_text("from textdrift.a import run_a\n", encoding="utf-8")
    assert module_closure(script, pkg) == ["textdrift", "textdrift.a", "textdrift.b"]
    kept = next((pkg / "__pycache__").glob("imports-*.json"))
    records = json.loads(kept.read_text(encoding="utf-8"))
    for path in pkg.glob("*.py"):
        src = path.read_bytes()
        assert records[P.hashlib.sha256(src).hexdigest()] == P._records(ast.parse(src))
    (pkg / "b.py").write_text("def g():\n    from textdrift import c\n", encoding="utf-8")
    assert module_closure(script, pkg) == ["textdrift", "textdrift.a", "textdrift.b", "textdrift.c"]
    for junk in ["{not json", "[1, 2]", json.dumps({k: [["x"]] for k in records})]:
        kept.write_text(junk, encoding="utf-8")
        (pkg / "c.py").write_text(f"x = {len(junk)}\n", encoding="utf-8")  # a new stamp: read again
        assert module_closure(script, pkg) == ["textdrift", "textdrift.a", "textdrift.b", "textdrift.c"]
        assert P._valid_records(next(iter(json.loads(kept.read_text(encoding="utf-8")).values())))
