"""End-to-end: the real workflow on the shipped corpus honours the data contract."""

import os
import unicodedata

import pandas as pd
import pytest

from conftest import copy_project, copy_run, run_snakemake, sha256_tree
from textdrift.config import with_defaults
from textdrift.io import read_texts
from textdrift.manifest import languages_of, load_manifest, shard_of

pytestmark = pytest.mark.e2e

TOKEN_COLUMNS = ["doc_id", "year", "lang", "para", "sent", "idx", "text", "norm", "lemma",
                 "is_stop", "is_punct", "keep", "role", "entity"]
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
    for row in out["index"].itertuples():  # each text in its shard's file (the clean rule's output)
        assert row.file == f"data/processed/clean/shard-{shard_of(row.doc_id, 4)}.parquet"
        assert (row.doc_id, row.lang) in read_texts(out["dir"] / row.file)


def test_clean_texts_are_nfc_paragraph_lines(out):
    for row in out["index"].itertuples():
        paras = read_texts(out["dir"] / row.file)[(row.doc_id, row.lang)]
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
    files = {(r.doc_id, r.lang): r.file for r in out["index"].itertuples()}
    for (doc_id, lang), grp in out["tokens"].groupby(["doc_id", "lang"]):
        paras = read_texts(out["dir"] / files[doc_id, lang])[(doc_id, lang)]
        for para, idx, text in zip(grp["para"], grp["idx"], grp["text"]):
            assert paras[para][idx : idx + len(text)] == text, (doc_id, lang, para, idx, text)


def test_noop_rerun_has_nothing_to_do(workflow_run, tmp_path):
    proc = run_snakemake(copy_run(workflow_run["dir"], tmp_path / "w"), "--dry-run")
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_readme_findings_are_generated_from_the_tables(workflow_run, tmp_path):
    """The 'What the corpus shows' snapshot of README.md is what `make readme-findings` computes from the
    tables of a fresh run on the tests' copy of the shipped corpus."""
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
        "README findings are stale: run `make run`, then `make readme-findings`, and commit README.md"
    )


def test_figures_and_report(workflow_run, tmp_path):
    d = workflow_run["dir"]
    for stem in ["theme_trends", "theme_heatmap", "drift", "similarity", "phrases_zh", "phrases_en",
                 "crosslingual_themes"]:
        for ext in ("png", "svg"):
            assert (d / f"results/figures/{stem}.{ext}").stat().st_size > 1000, (stem, ext)
    summary = (d / "results/README.md").read_text(encoding="utf-8")
    assert "## Findings" in summary
    for path in sorted((d / "results/tables").glob("*.csv")) + sorted((d / "results/figures").glob("*.png")):
        assert f"`{path.parent.name}/{path.name}`" in summary, f"results/README.md does not list {path.name}"
    work = copy_run(d, tmp_path / "w")  # the report written into a copy: the shared run is only read
    (work / "results/report.html").unlink()  # the one `make run` wrote
    run_snakemake(work, "--report", "results/report.html")
    html = (work / "results/report.html").read_text(encoding="utf-8", errors="replace")
    assert len(html) > 10000


# ---- what is counted (docs/methods.md, "What is counted"): invariants that hold for any corpus ----------------------


def test_token_roles_match_the_clean_index_and_log(out):
    from textdrift.structure import decode_roles

    t = out["tokens"]
    assert set(t["role"]) <= {"title", "heading", "body", "paratext"}
    for row in out["index"].itertuples():
        roles = decode_roles(row.roles, row.paragraphs)
        toks = t[(t["doc_id"] == row.doc_id) & (t["lang"] == row.lang)]
        assert (toks["role"].to_numpy() == [roles[p] for p in toks["para"]]).all()
    # every role other than body is a logged decision (and so is a numbered lead sentence kept as
    # body because it states something: statement_lead)
    logged = out["log"][out["log"]["step"] == "structure"]
    n_roles = sum(sum(r != "b" for r in str(x)) for x in out["index"]["roles"])
    roles = ~logged["action"].str.startswith("split_") & (logged["action"] != "statement_lead")
    assert roles.sum() == n_roles and (logged["action"] == "statement_lead").sum() > 0


def test_no_dates_brackets_or_list_markers_kept(out):
    t = out["tokens"].sort_values(["doc_id", "lang", "para", "idx"]).reset_index(drop=True)
    kept = t[t["keep"]]
    # no 年/月/日 kept after a number; no kept token glued to a bracket; no list marker kept
    prev_number = t["text"].shift().str.fullmatch(r"\d+|[零〇一二三四五六七八九十百千万两]+", na=False)
    assert not (t["keep"] & prev_number & t["norm"].isin(["年", "月", "日"])).any()
    assert not kept["text"].str.fullmatch(r".*\w[()\[\]].*|.*[()\[\]]\w.*").any()
    assert not kept["text"].str.fullmatch(r"\(?(\d{1,2}|[a-z]|[IVX]{1,5})[.)]|\d+(st|nd|rd|th)|[IVX]{2,5}").any()


def test_no_theme_match_inside_an_entity_or_outside_counted_paragraphs(out):
    import yaml

    d = out["dir"]
    kwic = pd.read_csv(d / "results/tables/theme_kwic.csv", keep_default_na=False)
    count_roles = with_defaults(yaml.safe_load((d / "config/config.yaml").read_text(encoding="utf-8")))["count_roles"]
    assert set(kwic["role"]) <= set(count_roles)
    t = out["tokens"]
    ent = t[t["entity"].notna()]
    assert len(ent)  # the shipped corpus names entities
    # no entity token starts within a theme match's character span (matches start at a token)
    frames = [pd.read_parquet(p) for p in sorted((d / "data/processed/themes").glob("matches-*.parquet"))]
    m = pd.concat(frames, ignore_index=True)
    m = m[~m["term"].str.startswith("@")]
    merged = m.merge(ent[["doc_id", "lang", "para", "idx"]], on=["doc_id", "lang", "para"])
    assert not ((merged["idx"] >= merged["start_idx"]) & (merged["idx"] < merged["end_idx"])).any()


def test_every_tested_phrase_occurs_contiguously(out):
    """Each phrase of phrase_changes.csv occurs as consecutive tokens of one sentence: kept tokens
    at both ends, nothing removed between them (an entity's absorbed tokens are not in the
    sequence), inside only kept tokens or the stop words a protected formulation bridges (never
    punctuation)."""
    import yaml

    d = out["dir"]
    count_roles = with_defaults(yaml.safe_load((d / "config/config.yaml").read_text(encoding="utf-8")))["count_roles"]
    t = out["tokens"].sort_values(["doc_id", "lang", "para", "idx"])
    t = t[t["role"].isin(count_roles)]
    t = t[~(t["entity"].notna() & ~t["norm"].str.startswith("@"))]  # absorbed tokens of a mention
    phrases = pd.read_csv(d / "results/tables/phrase_changes.csv", keep_default_na=False)
    multi = phrases[phrases["n"] >= 2]
    found = {}
    for (lang, _doc, _sent), g in t.groupby(["lang", "doc_id", "sent"], sort=False):
        norms, keep, punct = g["norm"].tolist(), g["keep"].tolist(), g["is_punct"].tolist()
        for n in range(2, int(multi["n"].max()) + 1):
            for i in range(len(norms) - n + 1):
                if keep[i] and keep[i + n - 1] and not any(punct[i:i + n]):
                    found.setdefault(lang, set()).add(" ".join(norms[i:i + n]))
    assert len(multi)
    missing = [(r.lang, r.phrase) for r in multi.itertuples() if r.phrase not in found.get(r.lang, set())]
    assert not missing, missing[:20]


def test_check_variant_matches_from_the_base_matches_equal_matching_each_variant(out):
    """theme_matches derives the findings checks' variants from the base matches, rematching only
    the paragraphs a variant changes (other roles; paragraphs with a name): the same rows, in the
    same order, as matching each variant's whole token table (the fixture has names and headings)."""
    from textdrift.codebook import load_codebook
    from textdrift.entities import load_entities
    from textdrift.matching import match_themes
    from textdrift.themes import MATCH_KEY, match_partials
    from textdrift.counting import counted

    d = out["dir"]
    ents = load_entities(d / "config/entities.yaml", d / "workflow/schemas/entities.schema.yaml")
    book = load_codebook(d / "config/themes.yaml", d / "workflow/schemas/themes.schema.yaml", ents)
    tokens, langs = out["tokens"], ["zh", "en"]
    assert tokens["entity"].notna().any() and (tokens["role"] != "body").any()
    base = match_themes(counted(tokens[tokens["lang"].isin(langs)]), book, 3)[MATCH_KEY]
    _, direct = match_partials(tokens, book, langs, variants=["roles", "entities"])
    _, derived = match_partials(tokens, book, langs, variants=["roles", "entities"], base=base, with_paras=False)
    for name in ("roles", "entities"):
        assert len(direct[name])
        pd.testing.assert_frame_equal(derived[name], direct[name], obj=name)


def test_phrase_steps_name_their_documents_once(out):
    """phrase_changes.csv carries its step's genre_match on every phrase, and every one of its steps
    has a tfidf_drift.csv row with the same genre_match (where the document and genre lists are):
    the lists repeated on each phrase grew with documents x phrases (152 MB at 50 MB of text)."""
    from textdrift.manifest import STEP_COLUMNS

    d = out["dir"]
    phrases = pd.read_csv(d / "results/tables/phrase_changes.csv", keep_default_na=False)
    drift = pd.read_csv(d / "results/tables/tfidf_drift.csv", keep_default_na=False)
    assert "genre_match" in phrases.columns
    assert not set(STEP_COLUMNS) - {"genre_match"} & set(phrases.columns)
    key = ["lang", "year_from", "year_to"]
    steps = phrases[key + ["genre_match"]].drop_duplicates()
    assert (steps.groupby(key).size() == 1).all()
    joined = steps.merge(drift[key + list(STEP_COLUMNS)], on=key, how="left", suffixes=("", "_drift"))
    assert len(joined) and joined["docs_from"].ne("").all()
    assert (joined["genre_match"] == joined["genre_match_drift"]).all()


def test_group_by_writes_the_grouped_tables(workflow_run, tmp_path):
    """group_by: genre adds results/tables/by_genre/ (run on a copy: the shared run stays as it is);
    a column that cannot group documents stops the workflow before any job, naming the choices."""
    import shutil

    work = tmp_path / "w"
    shutil.copytree(workflow_run["dir"], work, symlinks=True)
    (work / "group.yaml").write_text("group_by: genre\n", encoding="utf-8")
    grouped = ["theme_frequencies", "theme_changes", "tfidf_drift", "phrase_changes"]
    run_snakemake(work, "--configfile", "config/config.yaml", "group.yaml", "--",
                  *[f"results/tables/by_genre/{name}.csv" for name in grouped])
    drift = pd.read_csv(work / "results/tables/by_genre/tfidf_drift.csv")
    whole = pd.read_csv(work / "results/tables/tfidf_drift.csv")
    assert drift.columns.tolist() == ["group", *whole.columns]
    assert (drift["genre_match"] == "same").all()  # within a genre, both sides always share it
    for name in grouped:
        table = pd.read_csv(work / f"results/tables/by_genre/{name}.csv")
        docs = pd.read_csv(work / "results/tables/documents.csv").set_index("doc_id")["genre"]
        assert set(table["group"]) <= set(docs), name
    (work / "group.yaml").write_text("group_by: doc_id\n", encoding="utf-8")
    proc = run_snakemake(work, "--configfile", "config/config.yaml", "group.yaml", "--dry-run", check=False)
    assert proc.returncode != 0 and "group_by: 'doc_id' is not a manifest column" in proc.stdout + proc.stderr


def test_validation_sample_and_precision(workflow_run, tmp_path):
    """`python -m textdrift.validation sample` (make validation-sample) writes a sample named by the
    codebook's hash, of theme rows nobody has coded, and never overwrites it; the workflow's
    precision table counts the coded rows that still match."""
    import subprocess
    import sys

    import yaml

    from textdrift.codebook import codebook_hash

    d = workflow_run["dir"]
    config = yaml.safe_load((d / "config/config.yaml").read_text(encoding="utf-8"))
    config["validation"] = {**config.get("validation", {}), "sample_dir": str(tmp_path / "samples")}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    cmd = [sys.executable, "-m", "textdrift.validation", "sample", "--config", str(tmp_path / "config.yaml")]
    out = subprocess.run(cmd, cwd=d, capture_output=True, text=True, check=True).stdout
    path = tmp_path / "samples" / f"sample-{codebook_hash(d / 'config/themes.yaml')}.csv"
    assert f"to {path}" in out or str(path) in out
    sample = pd.read_csv(path, keep_default_na=False)
    coded = pd.read_csv(d / "validation/coded.csv", keep_default_na=False)
    key = ["doc_id", "lang", "para", "sent", "theme", "match", "occurrence"]
    assert sample["relevant"].eq("").all() and (sample.groupby(["theme", "lang"]).size() <= 10).all()
    assert not set(map(tuple, sample[key].astype(str).values)) & set(map(tuple, coded[key].astype(str).values))
    before = path.read_bytes()
    assert "exists" in subprocess.run(cmd, cwd=d, capture_output=True, text=True, check=True).stdout
    assert path.read_bytes() == before
    precision = pd.read_csv(d / "results/tables/codebook_precision.csv")
    total = precision[(precision["theme"] == "all") & (precision["lang"] == "all")].iloc[0]
    assert total["n_coded"] + total["n_no_longer_matched"] == (coded["relevant"].astype(str) != "").sum()
    assert set(precision["codebook"]) == {codebook_hash(d / "config/themes.yaml")}


def test_editing_a_config_named_file_reruns_the_jobs_that_read_it(workflow_run, tmp_path):
    """Every file the configuration names is an input of the rules that read it: an edit (a blank
    line appended) plans exactly those jobs (then their downstream ones, for another reason)."""
    import re
    import shutil

    work = tmp_path / "w"
    shutil.copytree(workflow_run["dir"], work, symlinks=True)
    # phrases protects the codebook's formulations from the stop-word rules through a param (the
    # terms a removed token could split, textdrift.phrases.codebook_protected), not the file: a
    # blank line changes no term, so only theme_matches reads the edited file
    expected = {"config/zh_user_dict.txt": {"segment"}, "config/zh_stopwords.txt": {"segment"},
                "config/en_stopwords_extra.txt": {"segment"}, "config/en_despace_words.txt": {"clean"},
                "config/entities.yaml": {"segment"}, "config/themes.yaml": {"theme_matches"},
                "validation/coded.csv": {"precision"}}
    # the files planning the same rules are edited together, one dry run for them: a job's reason
    # names every edited file among its inputs ("updated input files"), and a job downstream of a
    # planned one gives that as its reason, as when one file is edited alone (a separate dry run
    # for files of different rules: a job downstream of another planned job would not name its file)
    groups: dict[frozenset, list[str]] = {}
    for name, rules in expected.items():
        groups.setdefault(frozenset(rules), []).append(name)
    for rules, names in groups.items():
        saved = {}
        for name in names:
            path = work / name
            saved[name] = (path.read_bytes(), path.stat())
            path.write_bytes(saved[name][0] + b"\n")
        out = run_snakemake(work, "--dry-run", "--quiet", "host").stdout
        for name in names:
            planned = {r for r in re.findall(r"(?m)^rule (\w+):", out)
                       if re.search(rf"(?ms)^rule {r}:\n(?:    [^\n]*\n)*?    reason: [^\n]*{re.escape(name)}", out)}
            assert planned == rules, (name, planned, re.findall(r"(?m)^rule \w+:|reason: [^\n]*", out)[:8])
        for name, (before, stat) in saved.items():
            (work / name).write_bytes(before)
            os.utime(work / name, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # as it was: the next edits are the only ones


def test_a_codebook_edit_leaves_the_codebook_free_tables(workflow_run, tmp_path):
    """Editing the codebook reruns the matching and what reads matches, never the counts, the
    documents table, drift, the phrase changes (unless the edit changes the protected formulations),
    the explorer's term index (the shards' partials, written by count, and explorer_terms) or the drift
    and phrase findings (findings_vocabulary): kept tokens per paragraph are the count rule's output."""
    import re
    import shutil

    work = tmp_path / "w"
    shutil.copytree(workflow_run["dir"], work, symlinks=True)
    path = work / "config/themes.yaml"
    path.write_bytes(path.read_bytes() + b"\n")
    out = run_snakemake(work, "--dry-run", "--quiet", "host").stdout
    planned = set(re.findall(r"(?m)^rule (\w+):", out))
    assert "theme_matches" in planned and "themes" in planned
    assert not planned & {"clean", "segment", "count", "merge_counts", "documents", "drift", "export",
                          "drift_figures", "phrases", "phrase_figures", "explorer_terms",
                          "findings_vocabulary"}, sorted(planned)


def test_shards_auto_plans_one_clean_job_per_core_on_a_small_corpus(tmp_path):
    """`shards: auto` on the fixture's 50 KB: max(cores, ceil(size / 12 MB)) = one shard per core."""
    import os

    work = copy_project(tmp_path)
    (work / "auto.yaml").write_text("shards: auto\n", encoding="utf-8")
    out = run_snakemake(work, "--configfile", "config/config.yaml", "auto.yaml", "--dry-run", "--quiet", "rules").stdout
    counts = {line.split()[0]: int(line.split()[1]) for line in out.splitlines()
              if len(line.split()) == 2 and line.split()[1].isdigit()}
    assert counts["clean"] == counts["segment"] == (os.cpu_count() or 1)
