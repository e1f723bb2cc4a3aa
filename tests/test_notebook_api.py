"""textdrift.notebook on the outputs of a real run of the workflow (conftest's ``workflow_run``).

Each check recomputes a number of the result tables through the notebook API and compares it with
the file the pipeline wrote, or with a value computed here from first principles.
"""

import io
import math
import re

import numpy as np
import pandas as pd
import pytest

from textdrift.io import read_texts
import yaml

from textdrift.notebook import MissingOutputError, Project, find_root
from textdrift.codebook import CodebookError

pytestmark = pytest.mark.e2e

KWIC = ["doc_id", "year", "lang", "term", "left", "match", "right"]


@pytest.fixture(scope="module")
def project(workflow_run):
    return Project(workflow_run["dir"])


def as_csv(df: pd.DataFrame) -> pd.DataFrame:
    """A table as it reads back from CSV (empty strings -> NaN, ints stay ints), to compare with a file."""
    return pd.read_csv(io.StringIO(df.to_csv(index=False)))


# ---- finding the project ------------------------------------------------------------------------


def test_root_found_from_a_subdirectory_and_from_the_environment(workflow_run, monkeypatch, tmp_path):
    root = workflow_run["dir"].resolve()
    assert Project(root / "config").root == root  # walks up to the Snakefile
    monkeypatch.setenv("TEXTDRIFT_ROOT", str(root / "workflow" / "rules"))
    assert Project().root == root
    monkeypatch.delenv("TEXTDRIFT_ROOT")
    with pytest.raises(FileNotFoundError, match="TEXTDRIFT_ROOT"):
        find_root(tmp_path)  # no Snakefile in tmp_path or above


def test_loaders(project):
    man = project.manifest()
    assert len(man) == 5 and man["doc_id"].is_unique
    # The clean text is the token table's paragraph numbering: line `para`, offset `idx`.
    tok = project.tokens()
    t = tok[(tok["doc_id"] == "gdi_chair_statement_2024") & (tok["lang"] == "zh")].iloc[40]
    para = project.clean_text("gdi_chair_statement_2024", "zh")[t["para"]]
    assert para[t["idx"]:t["idx"] + len(t["text"])] == t["text"]
    assert set(project.cleaning_log("gdi_nonpaper_2022")["doc_id"]) == {"gdi_nonpaper_2022"}
    # The year matrix holds the kept tokens the theme table divides by.
    m = project.matrix("year", "en")
    freq = project.table("theme_frequencies")
    expected = freq[freq["lang"] == "en"].groupby("year")["tokens"].first()
    assert dict(zip(m.rows["year"], m.rows["tokens"])) == expected.to_dict()
    d = project.matrix("doc", "en")
    assert d.select(1).X.sum() == m.select(1).X.sum() == expected.sum()
    assert set(project.codebook()["themes"][0]) >= {"id", "label_en", "en", "zh"}


def test_helpful_errors(project):
    with pytest.raises(MissingOutputError) as err:
        project.table("nope")
    msg = str(err.value)
    assert "'nope'" in msg and "theme_frequencies, theme_kwic" in msg and "make run" in msg
    with pytest.raises(MissingOutputError, match="gdi_chair_statement_2023.en"):
        project.clean_text("gdi_chair_statement_2023", "zh")  # that document has no Chinese text
    with pytest.raises(ValueError, match="'year' or 'doc'"):
        project.matrix("paragraph", "en")
    with pytest.raises(ValueError, match=r"no zh text in year\(s\) \[2023\]; years with zh text: \[2017, 2022, 2024\]"):
        project.compare(2017, 2023, "zh")
    with pytest.raises(ValueError, match="no en text for doc_id"):
        project.compare(["no_such_doc"], 2024, "en")
    with pytest.raises(CodebookError, match="kwic term ''"):
        project.kwic("   ", "en")  # validated as a codebook term would be


def test_missing_outputs_say_make_run(tmp_path):
    (tmp_path / "Snakefile").write_text("")
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text(
        "processed_dir: data/processed\nresults_dir: results\nlanguages: [en]\n")
    p = Project(tmp_path)
    with pytest.raises(MissingOutputError, match="there are no tables yet.*make run"):
        p.table("theme_frequencies")
    with pytest.raises(MissingOutputError, match="token table.*make run"):
        p.tokens()


# ---- kwic ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("term, lang, theme", [("digital economy", "en", "digital_economy"),
                                               ("数字经济", "zh", "digital_economy")])
def test_kwic_of_a_codebook_term_equals_theme_kwic(project, term, lang, theme):
    kwic = project.kwic(term, lang)
    table = project.table("theme_kwic")
    expected = table[(table["kind"] == "theme") & (table["theme"] == theme) & (table["term"] == term)]
    expected = expected.reset_index(drop=True)
    assert len(expected) > 10  # 31 English, 14 Chinese rows on the shipped corpus (body paragraphs)
    pd.testing.assert_frame_equal(as_csv(kwic[KWIC]), expected[KWIC], check_dtype=False)


def test_kwic_of_any_term_points_into_the_clean_text(project):
    # "Silk Road" is in no codebook as a term of its own. By hand: the clean English texts contain
    # "Silk Road" 4 times (3 in the 2017 proposal, 1 in the 2022 white paper), never across punctuation,
    # always inside a name (Digital Silk Road, Silk Road e-commerce): found only with all_text.
    texts = read_texts(sorted((project.path("processed_dir") / "clean").glob("shard-*.parquet")))
    by_hand = sum(len(re.findall(r"(?i)\bsilk road\b", p)) for (_, lang), paras in texts.items() if lang == "en"
                  for p in paras)
    assert project.kwic("silk road", "en").empty  # inside entities: not counted, as for a codebook term
    kwic = project.kwic("Silk  Road", "en", all_text=True)  # case and spacing do not matter
    assert by_hand == len(kwic) == 4
    assert kwic["doc_id"].value_counts().to_dict() == {"bri_digital_economy_proposal_2017": 3,
                                                      "cyberspace_whitepaper_highlights_2022": 1}
    for r in kwic.itertuples():
        line = project.clean_text(r.doc_id, r.lang)[r.para]
        assert line[r.start_idx:r.end_idx] == r.match
    only = project.kwic("silk road", "en", window=2, doc_ids=["cyberspace_whitepaper_highlights_2022"], all_text=True)
    assert len(only) == 1 and only["right"].iloc[0] == "e-commerce cooperation"
    glob = project.kwic("silk *", "en", all_text=True)  # a glob word, as in the codebook
    assert set(kwic["match"]) <= set(glob["match"]) and len(glob) >= len(kwic)


# ---- theme frequencies for an edited codebook ---------------------------------------------------


def test_recomputed_theme_tables_equal_the_pipeline(project):
    freq, kwic = project.theme_frequencies()
    pd.testing.assert_frame_equal(as_csv(freq), project.table("theme_frequencies"), check_dtype=False)
    table = project.table("theme_kwic")
    pd.testing.assert_frame_equal(as_csv(kwic), table[table["kind"] == "theme"].reset_index(drop=True),
                                  check_dtype=False)


def test_added_theme_counts_its_matches(project):
    cb = project.codebook()
    edited = project.add_theme(cb, "supply_chain", "Supply chains", "供应链", en=["supply chain"], zh=["*供应链"])
    assert [t["id"] for t in cb["themes"]][-1] != "supply_chain"  # the input is not modified
    freq, kwic = project.theme_frequencies(edited)
    old = project.table("theme_frequencies")
    new = freq[freq["theme"] == "supply_chain"]
    # By hand (grep -ci "supply chains\?" in the clean English texts, all in body paragraphs):
    # 2017: 0, 2022: 3 (non-paper), 2023: 3, 2024: 4.
    en = new[new["lang"] == "en"].set_index("year")["count"].to_dict()
    assert en == {2017: 0, 2022: 3, 2023: 3, 2024: 4}
    zh_hand = project.kwic("*供应链", "zh").groupby("year").size()
    zh = new[(new["lang"] == "zh") & (new["count"] > 0)].set_index("year")["count"]
    assert zh.to_dict() == zh_hand.astype(int).to_dict() and zh.sum() > 0
    # per_10k = count / tokens * 10000, tokens = the kept body tokens of 2022 English
    tokens = old.loc[(old["lang"] == "en") & (old["year"] == 2022), "tokens"].iloc[0]
    assert new.loc[(new["lang"] == "en") & (new["year"] == 2022), "per_10k"].iloc[0] == pytest.approx(
        3 / tokens * 10000, abs=1e-9)
    # The other themes are unchanged.
    rest = as_csv(freq[freq["theme"] != "supply_chain"].reset_index(drop=True))
    assert set(rest["codebook"]) == {"edited"}  # not the project's codebook file
    pd.testing.assert_frame_equal(rest.drop(columns="codebook"), old.drop(columns="codebook"), check_dtype=False)
    assert len(kwic[kwic["theme"] == "supply_chain"]) == new["count"].sum()


def test_add_theme_validates(project):
    cb = project.codebook()
    with pytest.raises(ValueError, match="already in the codebook"):
        project.add_theme(cb, "digital_economy", "Digital economy", en=["digital economy"])
    replaced = project.add_theme(cb, "digital_economy", "Digital economy", "数字经济", replace=True, en=["digital economy"])
    assert replaced["themes"][0]["en"] == ["digital economy"] and len(replaced["themes"]) == len(cb["themes"])
    with pytest.raises(CodebookError, match=r"theme 'open_source' \(themes\[16\]\), field 'en\[0\]'"):
        project.add_theme(cb, "open_source", "Open source", en=["Open Source"])
    with pytest.raises(CodebookError, match="snake_case"):
        project.add_theme(cb, "Open Source", "Open source", en=["open source"])


def test_save_codebook(project, tmp_path):
    path = tmp_path / "themes.yaml"
    original = (project.root / "config" / "themes.yaml").read_text(encoding="utf-8")
    path.write_text(original, encoding="utf-8")
    cb = project.add_theme(project.codebook(), "open_source", "Open source", "开源",
                           en=["open source", "open-source"], zh=["开源", "*开源*"])
    project.save_codebook(cb, path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith(original)  # appending a theme keeps the file, comments and all: a small diff
    assert yaml.safe_load(text) == cb and text.endswith("      - open-source\n    zh:\n      - 开源\n      - '*开源*'\n")
    # An invalid codebook is refused before anything is written.
    bad = {**cb, "themes": cb["themes"] + [{"id": "x", "en": ["y"]}]}
    with pytest.raises(CodebookError, match="label_en"):
        project.save_codebook(bad, path)
    assert path.read_text(encoding="utf-8") == text
    # Any other edit rewrites the file in full: same themes in the same order, header comments kept.
    swapped = {**cb, "themes": [cb["themes"][1], cb["themes"][0], *cb["themes"][2:]]}
    project.save_codebook(swapped, path)
    text = path.read_text(encoding="utf-8")
    assert yaml.safe_load(text) == swapped
    assert text.startswith(original[:original.index("\ndescription:")])
    assert (project.root / "config" / "themes.yaml").read_text(encoding="utf-8") == original


# ---- comparing two groups -----------------------------------------------------------------------


def test_compare_two_years_drift(project):
    res = project.compare(2017, 2024, "en")
    d = res["drift"].iloc[0]
    assert (d["group_from"], d["group_to"], d["lang"]) == (2017, 2024, "en")
    # JSD uses raw frequencies only: the same as the pipeline's year x year table.
    sim = project.table("tfidf_similarity").query("lang == 'en' and year_a == 2017 and year_b == 2024").iloc[0]
    assert d["jsd"] == pytest.approx(sim["jsd"], abs=1e-12)
    base = project.table("tfidf_baseline").set_index(["lang", "year"])["tokens"]
    # 2017: 849 kept tokens since its 15 numbered lead sentences count as body (they state priorities)
    assert (d["tokens_from"], d["tokens_to"]) == (base[("en", 2017)], base[("en", 2024)]) == (849, 476)
    assert d["low_data"]  # 2024 English (476 kept body tokens) is under low_data_tokens = 500
    # Cosine: TF-IDF fitted on the two groups only (n = 2, smooth idf), by hand from the year matrix:
    # idf = ln(3 / (1 + df)) + 1, i.e. 1 for a term in both years, 1 + ln(1.5) for a term in one.
    m = project.matrix("year", "en").select(1)
    rows = {y: np.asarray(m.X[i].todense()).ravel() for i, y in enumerate(m.rows["year"])}
    a, b = rows[2017].astype(float), rows[2024].astype(float)
    df = (a > 0).astype(int) + (b > 0).astype(int)
    idf = np.log(3 / (1 + df)) + 1
    wa, wb = a * idf, b * idf
    cos = wa @ wb / (np.linalg.norm(wa) * np.linalg.norm(wb))
    assert d["cosine_distance"] == pytest.approx(1 - cos, abs=1e-12)
    # The pipeline fits idf on all four English years, so its cosine differs (tfidf_similarity: 0.480
    # similarity vs about 0.516 here): both are right for their collection.
    assert not math.isclose(1 - d["cosine_distance"], sim["cosine_similarity"], abs_tol=1e-3)
    assert {"group", "term", "tfidf", "count"} <= set(res["top_terms"].columns)
    top_2024 = res["top_terms"][res["top_terms"]["group"] == 2024]
    assert top_2024.iloc[0]["term"] in ("digital", "global")


def test_compare_consecutive_years_reproduces_phrase_changes(project):
    p = Project(project.root)  # a fresh Project: its config is edited below
    table = project.table("phrase_changes")
    step = table[(table["lang"] == "en") & (table["year_from"] == 2023) & (table["year_to"] == 2024)]
    # The pipeline's alpha_0 ("auto") is the median over ALL English years; compare's "auto" is the
    # median of the two groups. With the pipeline's values the whole step is reproduced.
    # An order with a single phrase in the corpus (a lone long unit) is never tested and has no row to
    # take its alpha_0 from; any positive value stands for it.
    p.config["phrases"]["alpha_0"] = {**{n: 1.0 for n in range(1, p.config["phrases"]["max_length"] + 1)},
                                      **step.groupby("n")["alpha_0"].first().to_dict()}  # {1: 797, 2: 623, ...}
    ours = p.compare(2023, 2024, "en")["phrases"]
    # the same units (long phrases counted, pieces folded), counts, prior, z and exploratory effect
    cols = ["phrase", "n", "count_from", "count_to", "total_from", "total_to", "alpha_w", "alpha_0",
            "log_odds", "z", "status", "display", "pieces", "effect", "effect_low", "effect_high"]
    got = as_csv(ours[[*cols, "effect_rank"]]).sort_values("phrase", ignore_index=True)
    want = step[[*cols, "effect_rank"]].sort_values("phrase", ignore_index=True)
    assert (want["n"] > p.config["phrases"]["ngram_max"]).any()  # long units are in both
    pd.testing.assert_frame_equal(got[cols], want[cols], check_dtype=False, rtol=1e-9)
    # effect_rank: the same ranks (ties broken by count, then by the phrase, not the vocabulary's order)
    assert got["effect_rank"].tolist() == want["effect_rank"].tolist()
    assert set(ours["group_from"]) == {2023} and set(ours["group_to"]) == {2024}


def test_compare_groups_of_years_and_documents(project):
    # 2022 pooled = its two English documents: a group compared with itself has no drift, no change.
    same = project.compare(2022, ["gdi_nonpaper_2022", "cyberspace_whitepaper_highlights_2022"], "en")
    assert same["drift"]["cosine_distance"].iloc[0] == pytest.approx(0, abs=1e-12)
    assert same["drift"]["jsd"].iloc[0] == pytest.approx(0, abs=1e-12)
    assert (same["phrases"]["log_odds"].abs() < 1e-12).all() and set(same["phrases"]["status"]) == {"stable"}
    assert same["drift"]["group_to"].iloc[0] == "2 docs: gdi_nonpaper_2022, cyberspace_whitepaper_highlights_2022"
    # Years [2022, 2023] pooled: tokens add up.
    res = project.compare([2022, 2023], 2024, "en", labels=("before", "after"))
    base = project.table("tfidf_baseline").set_index(["lang", "year"])["tokens"]
    assert res["drift"]["tokens_from"].iloc[0] == base[("en", 2022)] + base[("en", 2023)]
    assert set(res["phrases"]["group_from"]) == {"before"}
    # Chinese: display joins the words of a phrase (unspaced language), a name (@id) by its label
    zh = project.compare(2017, 2024, "zh")["phrases"]
    names = zh["phrase"].str.contains("@", regex=False)
    bigrams = zh[(zh["n"] == 2) & ~names]
    assert len(bigrams) and (bigrams["display"] == bigrams["phrase"].str.replace(" ", "")).all()
    labels = project.entity_labels()
    assert names.any() and not zh["display"].str.contains("@", regex=False).any()
    assert all(labels[p.lstrip("@")]["zh"] == d for p, d in zip(zh["phrase"], zh["display"]) if " " not in p and "@" in p)


def test_trend_of_any_term_in_one_call(project):
    trend, kwic = project.trend("Supply  Chain", "en")
    # the same counts as the added theme above (grep -ci "supply chains\?": 2017 0, 2022 3, 2023 3, 2024 4)
    assert trend.set_index("year")["count"].to_dict() == {2017: 0, 2022: 3, 2023: 3, 2024: 4}
    assert set(trend["term"]) == {"supply chain"} and set(trend["lang"]) == {"en"} and len(kwic) == 10
    freq = project.table("theme_frequencies")
    tokens = freq[freq["lang"] == "en"].groupby("year")["tokens"].first()
    assert trend.set_index("year")["tokens"].to_dict() == tokens.to_dict()  # the pipeline's denominators
    assert (trend["ci_low"] <= trend["per_10k"]).all() and (trend["per_10k"] <= trend["ci_high"]).all()


def test_trend_warns_with_a_did_you_mean_when_the_term_is_not_in_the_vocabulary(project):
    with pytest.warns(UserWarning, match=r"'supply chian' does not occur.*did you mean 'supply chain'"):
        trend, kwic = project.trend("supply chian", "en")
    assert trend["count"].sum() == 0 and len(kwic) == 0
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        project.trend("supply chain", "en")  # a known term: no warning
