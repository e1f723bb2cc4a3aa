"""The generated summary (textdrift.report): findings sentences checked by hand on invented tables."""

import numpy as np
import pandas as pd
import pytest
import yaml

from textdrift import report as R
from textdrift.io import write_csv

CODEBOOK = [{"id": "a", "label_en": "Alpha", "label_zh": "甲"}, {"id": "b", "label_en": "Beta", "label_zh": "乙"},
            {"id": "c", "label_en": "Gamma", "label_zh": "丙"}]


def freq_row(year, lang, theme, count, tokens, ci_low, ci_high):
    return {"year": year, "lang": lang, "theme": theme, "count": count, "tokens": tokens,
            "per_10k": count / tokens * 10_000, "ci_low": ci_low, "ci_high": ci_high}


def make_frequencies():
    # en 2017: 1000 tokens; en 2020: 500 tokens; per_10k = count / tokens * 10,000
    #   a: 10/1000 -> 100.0, 15/500 -> 300.0, change +200.0, intervals [50,180] and [170,500] overlap (170 <= 180)
    #   b: 20/1000 -> 200.0,  2/500 ->  40.0, change -160.0, intervals [120,310] and [5,110] do not (110 < 120)
    #   c:  5/1000 ->  50.0,  2/500 ->  40.0, change  -10.0, intervals [15,120] and [5,110] overlap
    # en 2019 (600 tokens) lies between and is not compared; zh has no 2019.
    # zh 2017: 200 tokens (low data), zh 2020: 800 tokens
    #   a: 2/200 -> 100.0, 4/800 -> 50.0, change -50.0; b: 0 -> 0, 8/800 -> 100.0, change +100.0; c: 0 -> 0, 0 -> 0
    rows = [
        freq_row(2017, "zh", "a", 2, 200, 12, 360), freq_row(2017, "zh", "b", 0, 200, 0, 180),
        freq_row(2017, "zh", "c", 0, 200, 0, 180),
        freq_row(2020, "zh", "a", 4, 800, 14, 128), freq_row(2020, "zh", "b", 8, 800, 43, 197),
        freq_row(2020, "zh", "c", 0, 800, 0, 46),
        freq_row(2017, "en", "a", 10, 1000, 50, 180), freq_row(2017, "en", "b", 20, 1000, 120, 310),
        freq_row(2017, "en", "c", 5, 1000, 15, 120),
        freq_row(2019, "en", "a", 6, 600, 35, 220), freq_row(2019, "en", "b", 6, 600, 35, 220),
        freq_row(2019, "en", "c", 6, 600, 35, 220),
        freq_row(2020, "en", "a", 15, 500, 170, 500), freq_row(2020, "en", "b", 2, 500, 5, 110),
        freq_row(2020, "en", "c", 2, 500, 5, 110),
    ]
    return pd.DataFrame(rows)


def drift_row(lang, a, b, cos, jsd, tf, tt, low, bf, bt, note=""):
    return {"lang": lang, "year_from": a, "year_to": b, "gap": b - a, "cosine_distance": cos, "jsd": jsd,
            "tokens_from": tf, "tokens_to": tt, "low_data": low, "baseline_cosine_from": bf, "baseline_cosine_to": bt,
            "baseline_jsd_from": np.nan, "baseline_jsd_to": np.nan, "note": note}


def make_drift():
    return pd.DataFrame([
        drift_row("zh", 2017, 2020, 0.7, 0.65, 200, 800, True, np.nan, 0.6, "low data: 2017 has 200 tokens (< 500)"),
        drift_row("en", 2017, 2019, 0.3, 0.35, 1000, 600, False, 0.40, 0.35),
        drift_row("en", 2019, 2020, 0.5, 0.45, 600, 500, False, 0.35, 0.45),
    ])


def phrase_row(lang, a, b, phrase, cf, ct, z, status):
    return {"lang": lang, "year_from": a, "year_to": b, "phrase": phrase, "n": len(phrase.split()), "count_from": cf,
            "count_to": ct, "total_from": 1000, "total_to": 500, "alpha_w": 1.0, "alpha_0": 600.0, "log_odds": z / 4,
            "z": z, "status": status, "display": phrase.replace(" ", "") if lang == "zh" else phrase}


def make_phrases():
    return pd.DataFrame([
        phrase_row("en", 2017, 2019, "cyberspace", 0, 20, 5.0, "new"),  # earlier step: never reported
        phrase_row("en", 2019, 2020, "global south", 0, 6, 3.0, "new"),
        phrase_row("en", 2019, 2020, "digital", 4, 12, 2.5, "rising"),
        phrase_row("en", 2019, 2020, "data", 3, 5, 1.0, "stable"),
        phrase_row("en", 2019, 2020, "internet", 6, 0, -2.5, "gone"),
        phrase_row("zh", 2017, 2020, "数字 经济", 1, 3, 0.8, "stable"),
    ])


@pytest.fixture
def tables(tmp_path):
    d = tmp_path / "tables"
    write_csv(make_frequencies(), d / "theme_frequencies.csv")
    write_csv(make_drift(), d / "tfidf_drift.csv")
    write_csv(make_phrases(), d / "phrase_changes.csv")
    return d


def test_theme_lines_hand_checked():
    lines = R.theme_lines(make_frequencies(), {"a": "Alpha (甲)"}, top=2)
    assert lines == [
        "- **Chinese (zh), 2017 → 2020** (200 → 800 tokens). "
        "Rose most: b 0.0 → 100.0 (+100.0; 0 → 8 matches; 95% intervals overlap). "
        "Fell most: Alpha (甲) 100.0 → 50.0 (−50.0; 2 → 4 matches; 95% intervals overlap).",
        "- **English (en), 2017 → 2020** (1000 → 500 tokens). "
        "Rose most: Alpha (甲) 100.0 → 300.0 (+200.0; 10 → 15 matches; 95% intervals overlap). "
        "Fell most: b 200.0 → 40.0 (−160.0; 20 → 2 matches; 95% intervals do not overlap); "
        "c 50.0 → 40.0 (−10.0; 5 → 2 matches; 95% intervals overlap).",
    ]


def test_theme_lines_single_year_and_empty_year():
    freq = make_frequencies()
    one = freq[(freq["lang"] == "en") & (freq["year"] == 2017)]
    assert R.theme_lines(one) == ["- **English (en), 2017 → 2017** (1000 → 1000 tokens). Only one year with text: "
                                  "nothing to compare."]
    # a year with 0 tokens is not an available year: en is compared 2017 -> 2019
    zero = freq.copy()
    zero.loc[(zero["lang"] == "en") & (zero["year"] == 2020), ["tokens", "count", "per_10k"]] = [0, 0, 0.0]
    assert R.theme_lines(zero[zero["lang"] == "en"])[0].startswith("- **English (en), 2017 → 2019** (1000 → 600 tokens)")


def test_drift_lines_hand_checked():
    assert R.drift_lines(make_drift(), ["zh", "en"]) == [
        # one baseline only (2017 has none); 0.7 > 0.6
        "- **Chinese (zh)**: biggest step 2017 → 2020 (3 years): cosine distance 0.700, JSD 0.650; larger than the "
        "split-half baseline of 2020 (0.600 in 2020; none for 2017). Flagged low data; the table's note: low data: "
        "2017 has 200 tokens (< 500). All steps (cosine distance): 2017 → 2020 0.700.",
        # biggest of 0.3 and 0.5 is 2019 -> 2020; 0.5 > max(0.35, 0.45)
        "- **English (en)**: biggest step 2019 → 2020 (1 year): cosine distance 0.500, JSD 0.450; larger than the "
        "split-half baselines of both years (0.350 in 2019, 0.450 in 2020). All steps (cosine distance): "
        "2017 → 2019 0.300, 2019 → 2020 0.500.",
    ]


def test_drift_lines_between_smaller_and_no_baseline():
    d = pd.DataFrame([drift_row("en", 2017, 2019, 0.42, 0.4, 900, 900, False, 0.40, 0.45),
                      drift_row("fr", 2017, 2019, 0.30, 0.4, 900, 900, False, 0.40, 0.45),
                      drift_row("de", 2017, 2019, 0.30, 0.4, 900, 900, False, np.nan, np.nan)])
    en, fr, de = R.drift_lines(d, ["en", "fr", "de"])
    assert "; between the split-half baselines of its two years (0.400 in 2017, 0.450 in 2019)." in en
    assert "; smaller than the split-half baselines of both years (0.400 in 2017, 0.450 in 2019)." in fr
    assert "; no split-half baseline for either year (too few paragraphs)." in de


def test_phrase_lines_hand_checked():
    assert R.phrase_lines(make_phrases(), top=1, langs=["en", "zh"]) == [
        "- **English (en), 2019 → 2020** (4 phrases tested: 1 new, 1 rising, 0 falling, 1 gone). "
        "New or rising most (Benjamini-Hochberg q within the step): “global south” (0 → 6, z = 3.00, new).",
        "- **Chinese (zh), 2017 → 2020** (1 phrase tested: 0 new, 0 rising, 0 falling, 0 gone). "
        "No phrase is new or rising after false-discovery control.",
    ]
    # with q-values; a step with a low-data year is said to be insufficient, not "no change"
    ph = make_phrases().assign(q=0.01)
    ph.loc[ph["lang"] == "zh", "status"] = "insufficient"
    lines = R.phrase_lines(ph, top=1, langs=["en", "zh"])
    assert lines[0].endswith("“global south” (0 → 6, z = 3.00, q = 0.010, new).")
    assert lines[1] == ("- **Chinese (zh), 2017 → 2020** (1 phrase tested: insufficient data). A year of this step "
                        "is under the low-data threshold: no phrase is called new, rising, falling or gone.")
    two = R.phrase_lines(make_phrases(), top=2, langs=["en"])[0]
    assert two.endswith("“global south” (0 → 6, z = 3.00, new); “digital” (4 → 12, z = 2.50, rising).")


def test_low_data_lines():
    assert R.low_data_lines(make_frequencies(), 500) == [
        "- Chinese (zh) 2017: 200 tokens (fewer than 500): their theme rates have wide intervals and every drift "
        "step touching them is flagged low data.",
        "- Chinese (zh) has no text in 2019: its steps span the gap (see the gap column).",
    ]
    assert R.low_data_lines(make_frequencies(), 100) == [
        "- Chinese (zh) has no text in 2019: its steps span the gap (see the gap column)."]
    en = make_frequencies().query("lang == 'en'")
    assert R.low_data_lines(en, 100) == ["- None: every language-year has at least 100 tokens."]


def test_findings_markdown_reads_the_tables(tables):
    md = R.findings_markdown(tables, CODEBOOK, low_data_tokens=500, top_themes=1, top_phrases=1)
    headings = [line for line in md.splitlines() if line.startswith("###")]
    assert headings == ["### Themes: first vs last available year (per 10,000 tokens)",
                        "### Vocabulary drift between consecutive years", "### Phrases of the last step",
                        "### Low data"]
    assert "Rose most: Alpha (甲) 100.0 → 300.0 (+200.0;" in md
    # languages in the order of the theme table (zh first) in every section
    assert md.index("**Chinese (zh)**: biggest step") < md.index("**English (en)**: biggest step")
    assert md.index("**Chinese (zh), 2017 → 2020** (1 phrase") < md.index("**English (en), 2019 → 2020** (4 phrases")


def test_findings_markdown_without_steps(tmp_path):
    d = tmp_path / "t"
    freq = make_frequencies().query("year == 2017")
    write_csv(freq, d / "theme_frequencies.csv")
    write_csv(make_drift().iloc[:0], d / "tfidf_drift.csv")
    write_csv(make_phrases().iloc[:0], d / "phrase_changes.csv")
    md = R.findings_markdown(d)
    assert md.count("- No language has two years with text: nothing to compare.") == 2
    assert "split-half baseline is" not in md


def test_update_readme_findings_replaces_only_between_markers(tmp_path):
    readme = tmp_path / "README.md"
    before = "# Title\n\n## What the corpus shows\n\n"
    after = "\n\n## Next section\n\ntext <!-- not a marker -->\n"
    readme.write_text(f"{before}{R.START}\nold findings\n{R.END}{after}", encoding="utf-8")
    R.update_readme_findings(readme, "### New\n\n- one\n")
    assert readme.read_text(encoding="utf-8") == f"{before}{R.START}\n### New\n\n- one\n{R.END}{after}"
    R.update_readme_findings(readme, "### New\n\n- one\n")  # idempotent
    assert readme.read_text(encoding="utf-8") == f"{before}{R.START}\n### New\n\n- one\n{R.END}{after}"


@pytest.mark.parametrize("text", ["no markers", f"{R.END}\n{R.START}", f"{R.START}{R.END}{R.START}{R.END}"])
def test_update_readme_findings_refuses_bad_markers(tmp_path, text):
    readme = tmp_path / "README.md"
    readme.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="findings:start"):
        R.update_readme_findings(readme, "x")
    assert readme.read_text(encoding="utf-8") == text


def test_results_readme_lists_every_table_and_figure():
    text = R.results_readme(["results/tables/theme_frequencies.csv", "results/tables/extra.csv"],
                            ["results/figures/drift.png", "results/figures/drift.svg", "results/figures/phrases_zh.png"],
                            "### F\n\n- x\n")
    lines = text.splitlines()
    assert "- `tables/theme_frequencies.csv`: " + R.TABLES["theme_frequencies.csv"] in lines
    assert "- `tables/extra.csv`" in lines  # unknown table: listed without a description
    assert "- `figures/drift.png`: " + R.FIGURES["drift"] in lines
    assert "- `figures/phrases_zh.png`: Chinese (zh): " + R.FIGURES["phrases"] in lines
    assert not any("drift.svg" in line for line in lines)
    assert text.endswith("## Findings\n\n### F\n\n- x\n")
    assert "## Not made for this corpus" not in text  # everything made: no such section


def test_results_readme_says_why_an_output_is_not_made():
    text = R.results_readme([], [], "### F\n", absent={"en outputs (phrases_en)": "no document declares en"})
    assert "## Not made for this corpus\n\n- en outputs (phrases_en): not made: no document declares en.\n" in text


def write_codebook(path):
    path.write_text(yaml.safe_dump({"themes": [{**t, "en": [t["label_en"].lower()], "zh": [t["label_zh"]]}
                                               for t in CODEBOOK]}, allow_unicode=True), encoding="utf-8")


def test_write_results_readme_and_cli(tables, tmp_path):
    codebook = tmp_path / "themes.yaml"
    write_codebook(codebook)
    out = tmp_path / "results" / "README.md"
    R.write_results_readme(out, [tables / "theme_frequencies.csv", tables / "tfidf_drift.csv"], [], codebook)
    assert "Fell most: Beta (乙) 200.0 → 40.0" in out.read_text(encoding="utf-8")

    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump({"results_dir": str(tmp_path), "themes": {"codebook": str(codebook)},
                                   "low_data_tokens": 500, "figures": {"top_themes": 1, "top_phrases": 1}}))
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{R.START}\n{R.END}\n", encoding="utf-8")
    R.main([str(readme), "--config", str(cfg)])  # no findings.csv yet
    assert readme.read_text(encoding="utf-8") == (f"intro\n{R.START}\n- No findings yet: run `make run` (then "
                                                  f"`{tmp_path}/README.md` has them all).\n{R.END}\n")
    from textdrift.findings import FINDING_COLUMNS

    row = dict.fromkeys(FINDING_COLUMNS, "")
    row.update(claim="Beta fell (en, 2017 → 2024)", holds=True, survives=False, reason="a year rests on a single document",
               value_name="cosine_distance", value=0.5)
    pd.DataFrame([row, {**row, "claim": "Alpha rose", "holds": False}]).to_csv(tables / "findings.csv", index=False)
    R.main([str(readme), "--config", str(cfg)])
    text = readme.read_text(encoding="utf-8")
    assert text.startswith(f"intro\n{R.START}\n- **0 of 2 headline findings hold and survive every check that is "
                           "defined** (n/a is not a failure;")
    assert ("- Holds as computed, does not survive: Beta fell (en, 2017 → 2024): a year rests on a single "
            "document.") in text
    assert "- The other 1 do not hold as computed" in text and text.endswith(f"{R.END}\n")


def test_drift_lines_length_matched_halves():
    row = drift_row("en", 2017, 2019, 0.42, 0.4, 900, 900, False, 0.40, 0.45)
    row.update(halves_cosine=0.55, halves_jsd=0.5, excess_cosine=0.125, excess_jsd=0.1, p_cosine=0.02)
    (line,) = R.drift_lines(pd.DataFrame([row]), ["en"])
    # 1 - 0.02 = 98% of rounds with the cross-year halves farther apart than within-year halves
    assert ("Length-matched (random halves of each year): cross-year half distance 0.550, 0.125 above the "
            "within-year half distance; the years were farther apart than halves of one year in 98.0% of "
            "rounds (p_cosine = 0.020, a descriptive share, not a test).") in line
    row.update(permutation_unit="paragraph", permutations=999, p_permutation=0.004)
    (line,) = R.drift_lines(pd.DataFrame([row]), ["en"])
    assert ("Permutation test (paragraphs of the two years reassigned at random, 999 splits): p = 0.004 (paragraphs, "
            "because a year has too few documents: it contrasts the documents, not the years).") in line


def test_headline_lines_lead_with_survivors_and_say_why_not():
    f = pd.DataFrame([
        {"claim": "Green rose (en, 2020 → 2021)", "value_name": "rate_ratio", "value_from": 10.0, "value_to": 30.0,
         "value": 3.0, "ci_low": 1.5, "ci_high": 6.0, "survives": False, "reason": "leaving out a document"},
        {"claim": "Trade fell (en, 2020 → 2021)", "value_name": "rate_ratio", "value_from": 30.0, "value_to": 10.0,
         "value": 0.33, "ci_low": 0.1, "ci_high": 0.7, "survives": True, "reason": ""},
    ])
    lines = R.headline_lines(f)
    assert lines[0].startswith("- **1 of 2 headline findings hold and survive every check that is defined** (n/a is")
    assert lines[1] == ("- Survives: Trade fell (en, 2020 → 2021): 30.0 → 10.0 per 10,000 tokens, rate ratio 0.33 "
                        "(95% interval 0.10–0.70).")
    # n/a is not a failure; the findings of a single document a side are counted and their n/a said
    f = f.assign(design=["years", "documents"],
                 na_reason=["", "check_leave_one_out: the year is one document: 2020 is one document (a)"])
    lines = R.headline_lines(f)
    assert lines[0].startswith("- **1 of 2 headline findings hold and survive every check that is defined**; 1 of "
                               "the 2 rest on a single document on a side (a contrast of named documents, not of years")
    assert lines[1].endswith("(95% interval 0.10–0.70) (n/a here: leave one out: the year is one document: 2020 is "
                             "one document (a)).")
    assert lines[2].startswith("- Does not survive: Green rose") and lines[2].endswith("; leaving out a document.")
