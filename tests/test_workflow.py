"""End-to-end: the real workflow on the shipped corpus honours the data contract."""

import os
import unicodedata

import pandas as pd
import pytest

from conftest import run_snakemake, sha256_tree
from textdrift.io import read_paragraphs
from textdrift.manifest import load_manifest, languages_of

pytestmark = pytest.mark.e2e

TOKEN_COLUMNS = ["doc_id", "year", "lang", "para", "sent", "idx", "text", "norm", "lemma",
                 "is_stop", "is_punct", "keep"]
LOG_COLUMNS = ["doc_id", "lang", "step", "action", "detail", "chars_before", "chars_after"]


@pytest.fixture(scope="module")
def out(workflow_run):
    d = workflow_run["dir"]
    return {
        "dir": d,
        "manifest": load_manifest(d / "data/raw/documents.csv"),
        "index": pd.read_csv(d / "data/processed/clean/index.csv"),
        "log": pd.read_csv(d / "data/processed/cleaning_log.csv", keep_default_na=False),
        "tokens": pd.concat(
            [pd.read_parquet(p) for p in sorted((d / "data/processed/tokens").glob("shard-*.parquet"))],
            ignore_index=True,
        ),
    }


def test_raw_data_untouched(workflow_run):
    assert sha256_tree(workflow_run["dir"] / "data/raw") == workflow_run["raw_before"]


def test_one_clean_text_per_declared_language(out):
    expected = {(r["doc_id"], lang) for r in out["manifest"].to_dict("records") for lang in languages_of(r)}
    found = set(zip(out["index"]["doc_id"], out["index"]["lang"]))
    assert found == expected
    for doc_id, lang in expected:
        assert (out["dir"] / f"data/processed/clean/{doc_id}.{lang}.txt").is_file()


def test_clean_texts_are_nfc_paragraph_lines(out):
    for row in out["index"].itertuples():
        paras = read_paragraphs(out["dir"] / "data/processed/clean" / f"{row.doc_id}.{row.lang}.txt")
        assert len(paras) == row.paragraphs > 0
        for p in paras:
            assert p and p == p.strip() and unicodedata.is_normalized("NFC", p)


def test_cleaning_log_contract(out):
    log = out["log"]
    assert list(log.columns) == LOG_COLUMNS
    assert set(log["doc_id"]) == set(out["manifest"]["doc_id"])
    assert (log["step"] != "").all() and (log["action"] != "").all()


def test_token_table_contract(out):
    tokens = out["tokens"]
    assert list(tokens.columns) == TOKEN_COLUMNS
    assert tokens["keep"].dtype == bool and tokens["is_stop"].dtype == bool
    years = dict(zip(out["manifest"]["doc_id"], out["manifest"]["year"]))
    assert (tokens["doc_id"].map(years) == tokens["year"]).all()
    assert set(zip(tokens["doc_id"], tokens["lang"])) == set(zip(out["index"]["doc_id"], out["index"]["lang"]))
    assert (tokens["norm"].str.len() > 0).all()


def test_token_offsets_point_into_clean_text(out):
    for (doc_id, lang), grp in out["tokens"].groupby(["doc_id", "lang"]):
        paras = read_paragraphs(out["dir"] / "data/processed/clean" / f"{doc_id}.{lang}.txt")
        for para, idx, text in zip(grp["para"], grp["idx"], grp["text"]):
            assert paras[para][idx : idx + len(text)] == text, (doc_id, lang, para, idx, text)


def test_noop_rerun_has_nothing_to_do(workflow_run):
    proc = run_snakemake(workflow_run["dir"], "--dry-run")
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_lint_is_clean(workflow_run):
    proc = run_snakemake(workflow_run["dir"], "--lint", check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "Lints for" not in text, text[-4000:]


def test_readme_findings_are_generated_from_the_tables(workflow_run, tmp_path):
    """The 'What the corpus shows' block of README.md is what `make findings` computes from the tables."""
    from conftest import ROOT
    from textdrift import report

    readme = tmp_path / "README.md"
    readme.write_text((ROOT / "README.md").read_text(encoding="utf-8"), encoding="utf-8")
    cwd = os.getcwd()
    os.chdir(workflow_run["dir"])
    try:
        report.main([str(readme), "--config", "config/config.yaml"])
    finally:
        os.chdir(cwd)
    assert readme.read_text(encoding="utf-8") == (ROOT / "README.md").read_text(encoding="utf-8"), (
        "README findings are stale: run `make findings` (or `make run`) and commit README.md"
    )


def test_figures_and_report(workflow_run):
    d = workflow_run["dir"]
    for stem in ["theme_trends", "theme_heatmap", "drift", "similarity", "phrases_zh", "phrases_en",
                 "crosslingual_themes"]:
        for ext in ("png", "svg"):
            assert (d / f"results/figures/{stem}.{ext}").stat().st_size > 1000, (stem, ext)
    summary = (d / "results/README.md").read_text(encoding="utf-8")
    assert "## Findings" in summary
    for path in sorted((d / "results/tables").glob("*.csv")) + sorted((d / "results/figures").glob("*.png")):
        assert f"`{path.parent.name}/{path.name}`" in summary, f"results/README.md does not list {path.name}"
    run_snakemake(d, "--report", "results/report.html")
    html = (d / "results/report.html").read_text(encoding="utf-8", errors="replace")
    assert len(html) > 10000
