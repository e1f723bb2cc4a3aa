"""The codebook as an instrument: context rules, translation pairs, its version, and its validation
against hand-coded contexts (precision with Wilson intervals). Values by hand in the comments."""

import math

import numpy as np
import pandas as pd
import pytest

from test_themes import SCHEMA, tokens_of
from textdrift.crosslingual import pair_check
from textdrift.codebook import CodebookError, Rule, Theme, codebook_hash, parse_codebook
from textdrift.matching import match_themes
from textdrift.stats import wilson
from textdrift.validation import KEY, draw_sample, locate_coded, precision_table, theme_rows


def theme(en=(), zh=(), rules=None, pairs=(), unpaired=()):
    return Theme("t", {"en": "T"}, {"en": tuple(en), "zh": tuple(zh)}, (), rules or {}, tuple(pairs), tuple(unpaired))


# ---- context rules --------------------------------------------------------------------------------


def test_exclude_drops_a_match_inside_the_phrase_only():
    toks = tokens_of(("d", 2020, "en", 0, [["improve", "service", "capacity", "and", "build", "capacity"]]),
                     ("d", 2020, "zh", 1, [["提高", "服务", "能力", "和", "能力", "建设"]]),
                     ("d", 2020, "zh", 2, [["自主选择", "与", "自主", "创新"]]))
    rules = {"en": {"capacity": Rule(exclude=("service capacity",))},
             "zh": {"能力": Rule(exclude=("服务能力",)), "自主": Rule(exclude=("自主选择",))}}
    m = match_themes(toks, [theme(["capacity"], ["能力", "自主"], rules)], 2)
    # "service capacity" is excluded, "build capacity" is not; 服务+能力 (two tokens) excluded; 能力建设 kept;
    # 自主 never matches inside the token 自主选择 anyway, and the free 自主 is kept
    assert m[["lang", "para", "match"]].values.tolist() == [["en", 0, "capacity"], ["zh", 1, "能力"], ["zh", 2, "自主"]]
    assert m["left"].tolist()[0] == "and build"
    # without the rule both English matches count
    assert len(match_themes(toks[toks["lang"] == "en"], [theme(["capacity"])], 2)) == 2


def test_near_needs_a_word_within_the_window_in_the_same_sentence():
    toks = tokens_of(("d", 2020, "en", 0, [["inclusive", "digital", "development"],  # development 2 words on
                                           ["open", "and", "inclusive", "market"],  # no near word
                                           ["development", "."], ["inclusive", "trade"]]),  # near word in another sentence
                     ("d", 2020, "zh", 1, [["包容", "的", "数字", "经济", "发展"],  # 发展 4 words on
                                           ["开放", "包容", "市场"]]))
    rules = {"en": {"inclusive": Rule(near=("develop*",), window=2)},
             "zh": {"包容": Rule(near=("数字经济",), window=3)}}
    m = match_themes(toks, [theme(["inclusive"], ["包容"], rules)], 3)
    # English: only the first sentence; Chinese: 数字 + 经济 = 数字经济 within 3 words (stop word 的 counts
    # as a word of the window, as it sits in the text)
    assert m[["lang", "sent"]].values.tolist() == [["en", 0], ["zh", 0]]
    wide = {"en": {"inclusive": Rule(near=("develop*",), window=1)}}
    assert match_themes(toks[toks["lang"] == "en"], [theme(["inclusive"], rules=wide)], 3).empty  # 2 words away


def test_rule_mappings_parse_and_bad_rules_are_named():
    book = parse_codebook({"themes": [{"id": "t", "label_en": "T", "en": [
        "plain", {"term": "capacity", "exclude": ["service capacity"], "why": "service capacity is not skills"},
        {"term": "inclusive", "near": ["development"], "window": 4}]}]}, SCHEMA)
    assert book[0].terms["en"] == ("plain", "capacity", "inclusive")
    assert book[0].rules["en"] == {"capacity": Rule(("service capacity",), (), 0),
                                   "inclusive": Rule((), ("development",), 4)}
    for item, message in [({"term": "x", "near": ["y"]}, "near needs a window"),
                          ({"term": "x", "exlude": ["y"]}, "'exlude' was unexpected"),
                          ({"term": "X"}, "lower-case words"),
                          ({"term": "x", "exclude": ["Service x"]}, "lower-case words")]:
        with pytest.raises(CodebookError, match=message):
            parse_codebook({"themes": [{"id": "t", "label_en": "T", "en": [item]}]}, SCHEMA)


# ---- translation pairs ------------------------------------------------------------------------------


def test_pairs_must_name_the_themes_terms_and_place_every_term():
    base = {"id": "t", "label_en": "T", "en": ["data security", "privacy"], "zh": ["数据安全", "隐私"]}
    ok = parse_codebook({"themes": [{**base, "pairs": [{"en": ["data security"], "zh": ["数据安全"]},
                                                       {"en": ["privacy"], "zh": ["隐私"], "note": "1:1"}]}]}, SCHEMA)
    assert ok[0].pairs == (({"en": ("data security",), "zh": ("数据安全",)}, ""),
                           ({"en": ("privacy",), "zh": ("隐私",)}, "1:1"))
    unplaced = {**base, "pairs": [{"en": ["data security"], "zh": ["数据安全"]}]}
    with pytest.raises(CodebookError, match=r"not placed: privacy \[en\], 隐私 \[zh\]"):
        parse_codebook({"themes": [unplaced]}, SCHEMA)
    declared = {**unplaced, "unpaired": [{"term": "privacy", "lang": "en", "why": "x"},
                                         {"term": "隐私", "lang": "zh", "why": "y"}]}
    assert parse_codebook({"themes": [declared]}, SCHEMA)[0].unpaired == (("en", "privacy", "x"), ("zh", "隐私", "y"))
    typo = {**base, "pairs": [{"en": ["data secrity"], "zh": ["数据安全"]}, {"en": ["privacy"], "zh": ["隐私"]}]}
    with pytest.raises(CodebookError, match="pairs\\[0\\].en': 'data secrity' is not one of the theme's en terms"):
        parse_codebook({"themes": [typo]}, SCHEMA)
    twice = {**base, "pairs": [{"en": ["data security", "privacy"], "zh": ["数据安全"]}, {"en": ["privacy"], "zh": ["隐私"]}]}
    with pytest.raises(CodebookError, match="'privacy' is already in pairs\\[0\\]"):
        parse_codebook({"themes": [twice]}, SCHEMA)


def test_pair_check_by_hand():
    t = theme(["x", "y"], ["甲", "乙"], pairs=[({"en": ("x",), "zh": ("甲",)}, ""), ({"en": ("y",), "zh": ("乙",)}, "")],
              unpaired=[])
    matches = pd.DataFrame({"doc_id": "d", "para": 0, "theme": "t",
                            "lang": ["zh"] * 20 + ["en"] * 2 + ["zh"] * 3 + ["en"] * 3,
                            "term": ["甲"] * 20 + ["x"] * 2 + ["乙"] * 3 + ["y"] * 3})
    out = pair_check(matches, [t], ("zh", "en"))
    first = out.iloc[0]
    # counts, not rates: 20 vs 2; conditional binomial P(|X - 11| >= 9 | 22, 1/2) = 2 * (1 + 22 + 231) / 2^22
    assert (first["count_zh"], first["count_en"], first["count_ratio"]) == (20, 2, 10.0)
    assert first["p_value"] == pytest.approx(2 * (1 + 22 + 231) / 2 ** 22)
    assert first["status"] == "zh_more" and first["ci_low"] > 1 and "zh counted more" in first["note"]
    assert out.iloc[1]["status"] == "similar" and out.iloc[1]["count_ratio"] == 1.0
    assert "per_10k_zh" not in out.columns and "z" not in out.columns


def test_codebook_hash_is_of_the_content_not_the_layout(tmp_path):
    import hashlib

    path = tmp_path / "themes.yaml"
    path.write_text("themes: []\n", encoding="utf-8")
    assert codebook_hash(path) == hashlib.sha256(b'{"themes":[]}').hexdigest()[:12]
    path.write_text("# a comment\nthemes:   []  # another\n", encoding="utf-8")
    assert codebook_hash(path) == hashlib.sha256(b'{"themes":[]}').hexdigest()[:12]
    path.write_text("themes: [{id: a, label_en: A, en: [x]}]\n", encoding="utf-8")
    assert codebook_hash(path) != hashlib.sha256(b'{"themes":[]}').hexdigest()[:12]


# ---- validation -------------------------------------------------------------------------------------


def test_wilson_interval_by_hand():
    # k = 8, n = 10, z = 1.959964: centre (0.8 + z^2/20) / (1 + z^2/10) = 0.716738,
    # half-width z / (1 + z^2/10) * sqrt(0.8 * 0.2 / 10 + z^2 / 400) = 0.226579
    low, high = wilson(8, 10)
    assert (low, high) == (pytest.approx(0.490159, abs=1e-5), pytest.approx(0.943317, abs=1e-5))
    assert wilson(10, 10)[1] == pytest.approx(1.0) and np.isnan(wilson(0, 0)[0])


def test_wilson_is_scipys_binomtest_interval_to_the_last_bit():
    from scipy.stats import binomtest

    for n in (1, 2, 7, 10, 33, 120):
        for k in range(n + 1):
            for conf in (0.95, 0.9, 0.5):
                ci = binomtest(k, n).proportion_ci(confidence_level=conf, method="wilson")
                assert wilson(k, n, conf) == (float(ci.low), float(ci.high))
    with pytest.raises(ValueError):
        wilson(3, 2)


def _kwic(n_per_theme):
    rows = []
    for theme_id, n in n_per_theme.items():
        for i in range(n):
            rows.append({"doc_id": "d", "year": 2020, "lang": "en", "para": i, "sent": 0, "role": "body",
                         "kind": "theme", "theme": theme_id, "term": theme_id, "left": "a", "match": theme_id,
                         "right": "b"})
    return pd.DataFrame(rows)


def _row(para, left, match, right, theme="digital", sent=None):
    return {"doc_id": "d", "year": 2017, "lang": "en", "para": para, "sent": para if sent is None else sent,
            "role": "body", "kind": "theme", "theme": theme, "term": match, "left": left, "match": match,
            "right": right}


def test_coded_rows_are_found_again_when_paragraphs_are_renumbered():
    """A cleaning change that merges a lead into its paragraph renumbers every later paragraph and
    lengthens the contexts at the merged edge: the coded rows are the same places in the text and
    keep their codes; a row whose context is gone, or a second code for one place, is not found."""
    before = pd.DataFrame([
        _row(2, "", "digital economy", "drives growth"),  # the first words of a paragraph ...
        _row(3, "tools such as", "digital", "tools for students"),
        _row(4, "the", "digital", "divide"),
        _row(5, "a", "digital", "future"),
    ])
    after = pd.DataFrame([
        _row(1, "Item 1. Cooperation:", "digital economy", "drives growth"),  # ... now after its lead
        _row(2, "tools such as", "digital", "tools for students"),
        _row(3, "the", "digital", "divide and"),  # a split moved the right edge: "divide" starts "divide and"
        _row(4, "an open", "digital", "market"),  # not the coded place (the coded one was removed)
    ])
    coded = theme_rows(before).assign(relevant=["1", "0", "1", "1"])
    at, by_text = locate_coded(coded, theme_rows(after))
    assert at.tolist() == [0, 1, 2, -1] and by_text == 3
    table = precision_table(coded, after, "v2").set_index(["theme", "lang"]).loc[("digital", "en")]
    assert (table["n_coded"], table["relevant"], table["n_no_longer_matched"]) == (3, 2, 1)
    # found by KEY first: an unchanged row is not taken by another coded row with its context
    again = pd.concat([theme_rows(after).iloc[[1]], theme_rows(before).iloc[[1]]], ignore_index=True)
    assert locate_coded(again, theme_rows(after))[0].tolist() == [1, -1]
    # a place already coded is not drawn again after the renumbering
    drawn = draw_sample(after, "v2", per_cell=10, coded=coded)
    assert drawn["right"].tolist() == ["market"]
    # no shared context at all (both sides empty on one side only) is not the same place
    bare = theme_rows(pd.DataFrame([_row(7, "", "digital", "")]))
    assert locate_coded(bare, theme_rows(pd.DataFrame([_row(8, "x", "digital", "y")])))[0].tolist() == [-1]


def test_sample_is_stratified_seeded_and_per_cell():
    kwic = pd.concat([_kwic({"green": 30, "trade": 4}), _kwic({"green": 1}).assign(kind="entity")], ignore_index=True)
    a = draw_sample(kwic, "abc", per_cell=5, seed=1)
    assert a.groupby("theme").size().to_dict() == {"green": 5, "trade": 4}  # all of a smaller cell; no entity rows
    assert a["relevant"].eq("").all() and a["sample_id"].iloc[0] == "abc-0001" and set(a["codebook"]) == {"abc"}
    pd.testing.assert_frame_equal(a, draw_sample(kwic, "abc", per_cell=5, seed=1))
    assert a["para"].tolist() != draw_sample(kwic, "abc", per_cell=5, seed=2)["para"].tolist()
    # a cell's draw does not depend on the other cells
    alone = draw_sample(_kwic({"green": 30}), "abc", per_cell=5, seed=1)
    assert alone["para"].tolist() == a[a["theme"] == "green"]["para"].tolist()


def test_precision_from_coded_rows_that_still_match():
    kwic = _kwic({"green": 10, "trade": 3})
    coded = theme_rows(kwic).assign(relevant=["1"] * 8 + ["0"] * 2 + ["yes", "no", ""])
    # a coded row the current codebook no longer matches (a rule dropped it): counted apart
    gone = coded.iloc[[0]].assign(para=99, relevant="0")
    table = precision_table(pd.concat([coded, gone], ignore_index=True), kwic, "v1").set_index(["theme", "lang"])
    green = table.loc[("green", "en")]
    assert (green["n_coded"], green["relevant"], green["precision"]) == (10, 8, 0.8)
    assert (green["ci_low"], green["ci_high"]) == (pytest.approx(0.490159, abs=1e-5), pytest.approx(0.943317, abs=1e-5))
    assert green["n_no_longer_matched"] == 1
    trade = table.loc[("trade", "en")]  # the uncoded row is not counted
    assert (trade["n_coded"], trade["relevant"]) == (2, 1)
    total = table.loc[("all", "all")]
    assert (total["n_coded"], total["relevant"], total["n_no_longer_matched"]) == (12, 9, 1)
    with pytest.raises(ValueError, match="'relevant' must be 1 or 0.*'maybe'"):
        precision_table(coded.assign(relevant="maybe"), kwic, "v1")
    with pytest.raises(ValueError, match="missing column"):
        precision_table(coded.drop(columns="occurrence"), kwic, "v1")
    assert set(KEY) <= set(theme_rows(kwic).columns)


def test_a_theme_under_the_precision_bar_is_flagged_in_the_findings():
    from test_findings import _rose

    from textdrift.findings import FindingsSettings, FindingsTables, build_findings

    toks, docs = _rose(True)
    cb = [Theme("green", {"en": "Green"}, {"en": ("green",)}), Theme("trade", {"en": "Trade"}, {"en": ("trade",)})]
    empty = pd.DataFrame(columns=["lang", "year_from", "year_to", "cosine_distance", "low_data", "p_cosine"])
    precision = pd.DataFrame({"theme": ["green"], "lang": ["en"], "n_coded": [12], "relevant": [6],
                              "precision": [0.5], "ci_low": [0.25], "ci_high": [0.75], "n_no_longer_matched": [0],
                              "codebook": ["v1"]})
    f = build_findings(toks, cb, FindingsTables(docs, empty, precision=precision), ["en"],
                       FindingsSettings(top_themes=1, n_boot=300, low_data_tokens=0))
    g = f[f["subject"] == "green"].iloc[0]
    assert g["holds"] and g["precision"] == 0.5 and not g["survives"]
    assert "codebook precision of Green (en) is 0.50 < 0.80 (6 of 12 coded matches)" in g["reason"]
    few = build_findings(toks, cb,
                         FindingsTables(docs, empty, precision=precision.assign(n_coded=5, relevant=2, precision=0.4)),
                         ["en"], FindingsSettings(top_themes=1, n_boot=300, low_data_tokens=0))
    assert few[few["subject"] == "green"].iloc[0]["survives"]  # under min_coded (10): shown, not flagged


def test_a_new_sample_skips_rows_already_coded():
    kwic = _kwic({"green": 12})
    first = draw_sample(kwic, "v1", per_cell=5, seed=1)
    second = draw_sample(kwic, "v2", per_cell=5, seed=1, coded=first)
    assert len(second) == 5 and not set(second["para"]) & set(first["para"])
    assert len(draw_sample(kwic, "v3", per_cell=5, seed=1, coded=pd.concat([first, second]))) == 2


def test_precision_lines_for_coded_rows_of_another_corpus():
    from textdrift.report import precision_lines

    kwic = _kwic({"green": 3})
    coded = theme_rows(kwic).assign(relevant="1")
    other = precision_table(coded, kwic.assign(doc_id="other"), "v1")  # nothing coded matches this corpus
    assert precision_lines(other, {}) == [
        "- **English (en)**: none of the 3 coded rows matches this corpus and codebook: code a sample of it "
        "(`make validation-sample`).", "- Codebook `v1` (`config/CODEBOOK_CHANGELOG.md`)."]
    lines = precision_lines(precision_table(coded, kwic, "v1"), {"green": "Green"})
    assert lines[0].startswith("- **English (en)**: precision 1.00 (3 of 3 coded matches; Wilson 95% 0.44–1.00)")
