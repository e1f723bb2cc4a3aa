"""Phrase changes: weighted log-odds with an informative Dirichlet prior, checked against hand arithmetic."""

import logging
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from textdrift.io import read_csv
from textdrift.phrases import (
    COLUMNS,
    check_ngram_max,
    group_phrase_changes,
    phrase_changes,
    row_counts,
    write_phrases,
    status,
)
from textdrift.stats import log_odds_dirichlet, p_values, q_values
from textdrift.vectorize import load_matrix, save_matrix, year_matrix

STOP = {"the", "of", "的"}
PUNCT = {",", ".", "，", "。"}


def token_table(docs):
    """docs: (doc_id, year, lang, [sentence, ...]) with each sentence a list of words."""
    rows = []
    for doc_id, year, lang, sentences in docs:
        for sent, words in enumerate(sentences):
            for i, w in enumerate(words):
                rows.append(dict(doc_id=doc_id, year=year, lang=lang, para=0, sent=sent, idx=100 * sent + i,
                                 text=w, norm=w, lemma=w, is_stop=w in STOP, is_punct=w in PUNCT,
                                 keep=w not in STOP and w not in PUNCT))
    return pd.DataFrame(rows)


def s(**counts):
    return pd.Series(counts, dtype="int64")


# --- the formula --------------------------------------------------------------------------

def test_log_odds_two_phrase_toy_by_hand():
    # y_from = (3, 1), y_to = (1, 3), n_from = n_to = 4, alpha_0 = 2, alpha_w = (1, 1).
    # phrase 1: to:   (1 + 1) / (4 + 2 - 1 - 1) = 2/4 = 1/2
    #           from: (3 + 1) / (4 + 2 - 3 - 1) = 4/2 = 2
    #           delta = log(1/2) - log(2) = -2 log 2 = -1.3862943611198906
    #           var = 1/(1+1) + 1/(3+1) = 3/4;  z = -2 log 2 / sqrt(3/4) = -4 log 2 / sqrt 3 = -1.6007548...
    # phrase 2 is the mirror image: delta = +2 log 2, var = 3/4, z = +4 log 2 / sqrt 3.
    delta, var, z = log_odds_dirichlet([3, 1], [1, 3], [1, 1], 2, 4, 4)
    assert delta == pytest.approx([-2 * math.log(2), 2 * math.log(2)], abs=1e-9)
    assert var == pytest.approx([0.75, 0.75], abs=1e-9)
    assert z == pytest.approx([-4 * math.log(2) / math.sqrt(3), 4 * math.log(2) / math.sqrt(3)], abs=1e-9)
    assert z[0] == pytest.approx(-1.6007548, abs=1e-7)


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50), st.floats(0.01, 5)), min_size=1, max_size=8),
       st.integers(60, 500), st.integers(60, 500), st.floats(10, 100))
def test_log_odds_swapping_years_negates(rows, n_from, n_to, alpha_0):
    y_from, y_to, a = map(np.array, zip(*rows))
    d1, v1, z1 = log_odds_dirichlet(y_from, y_to, a, alpha_0, n_from, n_to)
    d2, v2, z2 = log_odds_dirichlet(y_to, y_from, a, alpha_0, n_to, n_from)
    np.testing.assert_allclose(d2, -d1, atol=1e-12)
    np.testing.assert_allclose(v2, v1)
    np.testing.assert_allclose(z2, -z1, atol=1e-12)


# --- group_phrase_changes: zero counts, statuses, min_count, symmetry --------------------------------

def test_absent_phrase_is_new_when_z_above_threshold():
    a, b = s(x=0, y=40), s(x=20, y=20)
    # prior = a + b: x 20, y 60, total 80; alpha_0 = 4 -> alpha_x = 4*20/80 = 1, alpha_y = 4*60/80 = 3
    # x: delta = log((20+1)/(40+4-20-1)) - log((0+1)/(40+4-0-1)) = log(21/23) - log(1/43) = 3.6701...
    #    var = 1/21 + 1/1;  z = 3.5857... >= 1.96 and count_from == 0 -> new
    # y: delta = log((20+3)/(44-20-3)) - log((40+3)/(44-40-3)) = log(23/21) - log(43) = -3.6701...
    #    var = 1/23 + 1/43;  z = -14.21... -> falling (count_to is not 0)
    df = group_phrase_changes(a, b, alpha_0=4).set_index("phrase")
    dx = math.log(21 / 23) - math.log(1 / 43)
    assert df.loc["x", "alpha_w"] == pytest.approx(1.0, abs=1e-12)
    assert df.loc["y", "alpha_w"] == pytest.approx(3.0, abs=1e-12)
    assert df.loc["x", "log_odds"] == pytest.approx(dx, abs=1e-9)
    assert df.loc["x", "z"] == pytest.approx(dx / math.sqrt(1 / 21 + 1), abs=1e-9)
    assert df.loc["y", "log_odds"] == pytest.approx(-dx, abs=1e-9)
    assert df.loc["y", "z"] == pytest.approx(-dx / math.sqrt(1 / 23 + 1 / 43), abs=1e-9)
    assert df.loc["x", "status"] == "new" and df.loc["y", "status"] == "falling"
    assert (df["total_from"] == 40).all() and (df["total_to"] == 40).all() and (df["alpha_0"] == 4).all()
    swapped = group_phrase_changes(b, a, alpha_0=4).set_index("phrase")
    assert swapped.loc["x", "status"] == "gone" and swapped.loc["y", "status"] == "rising"


def test_absent_phrase_stays_stable_when_z_small():
    a, b = s(x=0, y=40), s(x=2, y=38)
    # prior = a + b: x 2, y 78, total 80; alpha_0 = 4 -> alpha_x = 4*2/80 = 0.1
    # x: delta = log(2.1/41.9) - log(0.1/43.9) = 3.0911...; var = 1/2.1 + 1/0.1 = 10.476...
    #    z = 0.9550... < 1.96 -> stable, although the phrase is absent from `from`
    row = group_phrase_changes(a, b, alpha_0=4).set_index("phrase").loc["x"]
    d = math.log(2.1 / 41.9) - math.log(0.1 / 43.9)
    assert row["log_odds"] == pytest.approx(d, abs=1e-9)
    assert row["z"] == pytest.approx(d / math.sqrt(1 / 2.1 + 1 / 0.1), abs=1e-9)
    assert row["status"] == "stable"
    assert group_phrase_changes(b, a, alpha_0=4).set_index("phrase").loc["x", "status"] == "stable"


def test_q_threshold_is_inclusive_and_configurable():
    a, b = s(x=0, y=40), s(x=20, y=20)
    q = group_phrase_changes(a, b, alpha_0=4).set_index("phrase").loc["x", "q"]
    assert group_phrase_changes(a, b, alpha_0=4, q_threshold=q).set_index("phrase").loc["x", "status"] == "new"
    assert group_phrase_changes(a, b, alpha_0=4, q_threshold=q * (1 - 1e-9)).set_index("phrase").loc["x", "status"] == "stable"


def test_benjamini_hochberg_by_hand():
    # p sorted: 0.01 (rank 1), 0.03 (2), 0.04 (3), 0.2 (4); m = 4; p * m / rank = 0.04, 0.06, 0.0533, 0.2;
    # q = running minimum from the largest rank down: 0.04, 0.0533, 0.0533, 0.2 (in sorted order)
    np.testing.assert_allclose(q_values([0.01, 0.04, 0.03, 0.2]), [0.04, 0.16 / 3, 0.16 / 3, 0.2], atol=1e-12)
    # p = 2 (1 - Phi(|z|)): z = 1.959964 -> 0.05
    assert p_values([1.959963984540054])[0] == pytest.approx(0.05, abs=1e-12)
    # in group_phrase_changes q is adjusted over the step's tested phrases: x and y here
    df = group_phrase_changes(s(x=0, y=40), s(x=20, y=20), alpha_0=4)
    # (no units given: dispersion 1, df NaN, p from the score statistic t and the normal)
    np.testing.assert_allclose(df["q"], q_values(p_values(df["t"])), atol=0)


def test_a_rate_that_rose_is_never_called_falling():
    # by hand: 10 of 1000 -> 3 of 200 is a rise (0.010 -> 0.015); a z < 0 (a prior pulling the small
    # year down) with any q is not "falling", and the same counts with z > 0 are "rising"
    assert status([10], [3], [1000], [200], z=[-3.0], q=[0.001], q_threshold=0.05)[0] == "stable"
    assert status([10], [3], [1000], [200], z=[3.0], q=[0.001], q_threshold=0.05)[0] == "rising"
    assert status([10], [3], [1000], [200], z=[3.0], q=[0.2], q_threshold=0.05)[0] == "stable"


def test_prior_never_outweighs_the_smaller_year():
    # alpha_0 = 1000 is bounded by the smaller year's unigram total: min(40, 40) = 40
    df = group_phrase_changes(s(x=0, y=40), s(x=20, y=20), alpha_0=1000).set_index("phrase")
    assert (df["alpha_0"] == 40).all()
    assert df.loc["x", "alpha_w"] == pytest.approx(40 * 20 / 80, abs=1e-12)


def test_low_data_step_is_insufficient():
    a, b = s(x=0, y=40), s(x=20, y=20)
    assert set(group_phrase_changes(a, b, alpha_0=4, min_tokens=41)["status"]) == {"insufficient"}
    assert "insufficient" not in set(group_phrase_changes(a, b, alpha_0=4, min_tokens=40)["status"])


def test_min_count_filters_on_the_two_groups_together_but_totals_keep_everything():
    a, b = s(x=0, y=40, w=1), s(x=20, y=20, w=1)
    assert set(group_phrase_changes(a, b, alpha_0=4)["phrase"]) == {"x", "y", "w"}  # w: 1 + 1 = 2 >= 2
    df = group_phrase_changes(a, b, alpha_0=4, min_count=3)
    assert set(df["phrase"]) == {"x", "y"}
    # totals are over all unigrams, tested or not: 0 + 40 + 1 = 41 and 20 + 20 + 1 = 41
    assert (df["total_from"] == 41).all() and (df["total_to"] == 41).all()
    assert set(group_phrase_changes(a, b, alpha_0=4, min_count=25)["phrase"]) == {"y"}
    with pytest.raises(ValueError, match="min_count"):
        group_phrase_changes(a, b, min_count=0)


def test_totals_and_prior_are_per_ngram_order():
    a = s(**{"data": 3, "cloud": 1, "data cloud": 2, "cloud data": 2})
    b = s(**{"data": 1, "cloud": 3, "data cloud": 1, "cloud data": 3})
    # (no folding: "data" is mostly inside "data cloud" and "cloud data")
    df = group_phrase_changes(a, b, alpha_0={1: 8, 2: 4}, fold_share=None).set_index("phrase")
    assert df.loc["data", "n"] == 1 and df.loc["data cloud", "n"] == 2
    # unigrams: totals 4 and 4, so alpha_0 = 8 is bounded to 4 (the smaller year); prior data 4 of 8
    # -> alpha = 4 * 4/8 = 2
    assert tuple(df.loc["data", ["total_from", "total_to", "alpha_w", "alpha_0"]]) == (4, 4, 2.0, 4.0)
    # bigrams: totals 4 and 4; prior "data cloud" 3 of 8 -> alpha = 4 * 3/8 = 1.5
    assert tuple(df.loc["data cloud", ["total_from", "total_to", "alpha_w", "alpha_0"]]) == (4, 4, 1.5, 4.0)
    # "data cloud": delta = log((1+1.5)/(4+4-1-1.5)) - log((2+1.5)/(4+4-2-1.5)) = log(2.5/5.5) - log(3.5/4.5)
    d = math.log(2.5 / 5.5) - math.log(3.5 / 4.5)
    assert df.loc["data cloud", "log_odds"] == pytest.approx(d, abs=1e-9)
    assert df.loc["data cloud", "z"] == pytest.approx(d / math.sqrt(1 / 2.5 + 1 / 3.5), abs=1e-9)
    # alpha_0 = "auto": the median of the two groups' totals of each order, here 4 for both
    assert (group_phrase_changes(a, b)["alpha_0"] == 4).all()
    assert set(group_phrase_changes(a, b, ngram_max=1)["n"]) == {1}


def test_group_phrase_changes_symmetry():
    a = s(**{"data": 9, "cloud": 1, "trade": 4, "data cloud": 2, "open trade": 0})
    b = s(**{"data": 2, "cloud": 8, "trade": 4, "data cloud": 0, "open trade": 5})
    prior = s(**{"data": 30, "cloud": 20, "trade": 10, "green": 5, "data cloud": 4, "open trade": 6, "x y": 3})
    ab = group_phrase_changes(a, b, prior, alpha_0=50, min_count=1).set_index("phrase")
    ba = group_phrase_changes(b, a, prior, alpha_0=50, min_count=1).set_index("phrase").loc[ab.index]
    np.testing.assert_allclose(ba["log_odds"], -ab["log_odds"], atol=1e-12)
    np.testing.assert_allclose(ba["z"], -ab["z"], atol=1e-12)
    assert (ba["count_from"] == ab["count_to"]).all() and (ba["alpha_w"] == ab["alpha_w"]).all()
    flip = {"new": "gone", "gone": "new", "rising": "falling", "falling": "rising", "stable": "stable",
            "insufficient": "insufficient"}
    assert list(ba["status"]) == [flip[x] for x in ab["status"]]
    assert ab.loc["trade", "log_odds"] == pytest.approx(0.0, abs=1e-12)  # same count (4), same unigram totals (14)


def test_prior_must_cover_tested_phrases():
    with pytest.raises(ValueError, match="positive prior count"):
        group_phrase_changes(s(x=3, y=1), s(x=1, y=3), prior_counts=s(x=5, z=5), alpha_0=10)
    with pytest.raises(ValueError, match="alpha_0"):
        group_phrase_changes(s(x=3, y=1), s(x=1, y=3), alpha_0="big")


def test_lone_phrase_of_an_order_is_skipped():
    # the only bigram has probability 1 in both groups: its log-odds are undefined
    df = group_phrase_changes(s(**{"x": 3, "y": 1, "x y": 3}), s(**{"x": 1, "y": 3, "x y": 1}), alpha_0=2)
    # x (4) lies only inside "x y" (4), but "x y" cannot be tested: x is not folded into it
    assert set(df["phrase"]) == {"x", "y"}


# --- phrase_changes / write_phrases on invented token tables -----------------------------------

def test_phrase_changes_from_token_table_by_hand():
    toks = token_table([("d1", 2020, "en", [["data", "data", "cloud"]]),
                        ("d2", 2021, "en", [["cloud", "cloud", "data"]])])
    m = year_matrix(toks, "en")
    # unigrams: 2020 data 2, cloud 1 (total 3); 2021 cloud 2, data 1 (total 3); corpus data 3, cloud 3.
    # Every bigram/trigram occurs once in one year only: 1 < min_count = 2, not tested.
    # alpha_0 = 2 -> alpha_w = 2 * 3/6 = 1 for both.
    # data: delta = log((1+1)/(3+2-1-1)) - log((2+1)/(3+2-2-1)) = log(2/3) - log(3/2) = -2 log 1.5
    #       var = 1/2 + 1/3
    df = phrase_changes(m, alpha_0=2)
    assert list(df.columns) == COLUMNS
    assert list(df["phrase"]) == ["cloud", "data"]  # descending z
    data = df.set_index("phrase").loc["data"]
    assert (data["lang"], data["year_from"], data["year_to"], data["n"]) == ("en", 2020, 2021, 1)
    assert (data["count_from"], data["count_to"], data["total_from"], data["total_to"]) == (2, 1, 3, 3)
    assert data["log_odds"] == pytest.approx(-2 * math.log(1.5), abs=1e-9)
    assert data["z"] == pytest.approx(-2 * math.log(1.5) / math.sqrt(1 / 2 + 1 / 3), abs=1e-9)
    assert set(df["status"]) == {"stable"}
    # alpha_0 = 6 is more than either year (3 tokens each): bounded to 3, the same as "auto" below
    assert (phrase_changes(m, alpha_0=6)["alpha_0"] == 3).all()
    # alpha_0 = "auto": median over the years of the unigram totals = median(3, 3) = 3 -> alpha_w = 1.5
    # data: delta = log(2.5/3.5) - log(3.5/2.5) = -2 log 1.4; var = 1/2.5 + 1/3.5
    data = phrase_changes(m).set_index("phrase").loc["data"]
    assert (data["alpha_0"], data["alpha_w"]) == (3.0, 1.5)
    assert data["z"] == pytest.approx(-2 * math.log(1.4) / math.sqrt(1 / 2.5 + 1 / 3.5), abs=1e-9)
    # min_count = 1 tests the bigrams and trigrams too
    assert set(phrase_changes(m, min_count=1, fold_share=None)["n"]) == {1, 2, 3}
    assert set(phrase_changes(m, min_count=1, ngram_max=2, fold_share=None)["n"]) == {1, 2}
    # folded (fold_pieces): each bigram occurs once, inside the trigram that occurs once
    folded = phrase_changes(m, min_count=1).set_index("phrase")
    assert set(folded["n"]) == {1, 3} and folded.loc["data data cloud", "pieces"] == 2


def test_consecutive_available_years_and_boundaries():
    toks = token_table([("a", 2017, "en", [["data", "economy", ",", "cloud"], ["data", "economy"]]),
                        ("b", 2022, "en", [["the", "of"]]),  # stop words only: no text, year skipped
                        ("c", 2023, "en", [["data", "economy", "cloud"]]),
                        ("d", 2024, "en", [["cloud", "data", "economy"]])])
    df = phrase_changes(year_matrix(toks, "en"), min_count=1, fold_share=None)  # every n-gram listed
    assert sorted(set(zip(df["year_from"], df["year_to"]))) == [(2017, 2023), (2023, 2024)]
    step = df[df["year_from"] == 2017]
    # "economy cloud" crosses the comma in 2017 and so is not counted there
    assert step.set_index("phrase").loc["economy cloud", "count_from"] == 0
    assert step.set_index("phrase").loc["data economy", "count_from"] == 2


def test_language_with_one_year_or_no_text_gives_no_rows(tmp_path, caplog):
    toks = token_table([("a", 2017, "zh", [["数字", "经济", "合作"]]),
                        ("a", 2017, "en", [["digital", "economy"]]),
                        ("b", 2024, "en", [["digital", "economy", "digital"]])])
    paths = {}
    for lang in ("zh", "en", "fr"):  # fr: no text at all
        paths[lang] = tmp_path / f"year_{lang}.npz"
        save_matrix(year_matrix(toks, lang), paths[lang])
    caplog.set_level(logging.INFO, logger="textdrift")
    n = write_phrases(paths, tmp_path / "phrase_changes.csv", min_count=1)
    df = read_csv(tmp_path / "phrase_changes.csv")
    assert set(df["lang"]) == {"en"} and n == len(df) > 0
    assert "zh: 1 year(s) with text (2017)" in caplog.text
    assert "fr: 0 year(s) with text (none)" in caplog.text
    assert phrase_changes(load_matrix(paths["zh"])).empty
    assert write_phrases({"fr": paths["fr"]}, tmp_path / "empty.csv") == 0
    assert read_csv(tmp_path / "empty.csv").empty and list(read_csv(tmp_path / "empty.csv").columns) == COLUMNS


def test_write_phrases_one_language_at_a_time_writes_the_whole_sorted_table(tmp_path):
    """write_phrases writes language by language (one year matrix in memory at a time): the bytes
    are those of the whole table, every language's steps concatenated and sorted."""
    from textdrift.io import write_csv
    from textdrift.phrases import _sorted

    toks = token_table([("a", 2017, "zh", [["数字", "经济", "合作", "数字", "经济"]]),
                        ("b", 2020, "zh", [["数字", "丝绸", "之路", "合作", "经济"]]),
                        ("c", 2017, "en", [["digital", "economy", "cooperation", "digital"]]),
                        ("d", 2020, "en", [["digital", "silk", "road", "economy", "digital"]])])
    paths = {}
    for lang in ("zh", "en"):
        paths[lang] = tmp_path / f"year_{lang}.npz"
        save_matrix(year_matrix(toks, lang), paths[lang])
    n = write_phrases(paths, tmp_path / "phrase_changes.csv", min_count=1)
    whole = _sorted(pd.concat([phrase_changes(load_matrix(paths[lang]), min_count=1, lang=lang) for lang in paths],
                              ignore_index=True))
    assert set(whole["lang"]) == {"zh", "en"} and n == len(whole)
    write_csv(whole, tmp_path / "whole.csv")
    assert (tmp_path / "phrase_changes.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()


def test_ngram_max_may_not_exceed_vectorize(tmp_path):
    check_ngram_max(3, 3)
    with pytest.raises(ValueError, match="vectorize.ngram_max = 3"):
        check_ngram_max(4, 3)
    with pytest.raises(ValueError, match="phrases.ngram_max = 4"):
        write_phrases({}, tmp_path / "x.csv", ngram_max=4, vectorize_ngram_max=3)


def _random_corpus(seed=7):
    rng = np.random.default_rng(seed)
    vocab = {"en": ["data", "economy", "digital", "cooperation", "security", "trade", "cloud", "rule", ","],
             "zh": ["数字", "经济", "合作", "安全", "数据", "发展", "网络", "共同体", "，"]}
    docs = []
    for lang, words in vocab.items():
        for year in (2017, 2022, 2024):
            p = rng.dirichlet(np.ones(len(words)))
            sents = [list(rng.choice(words, size=rng.integers(3, 12), p=p)) for _ in range(40)]
            docs.append((f"{lang}{year}", year, lang, sents))
    return token_table(docs)


def test_csv_rows_recompute_from_their_own_columns(tmp_path):
    toks = _random_corpus()
    paths = {}
    for lang in ("zh", "en"):
        paths[lang] = tmp_path / f"year_{lang}.npz"
        save_matrix(year_matrix(toks, lang), paths[lang])
    write_phrases(paths, tmp_path / "phrase_changes.csv", q_threshold=0.05)
    df = read_csv(tmp_path / "phrase_changes.csv")
    assert list(df.columns) == COLUMNS and len(df) > 100
    assert set(df["n"]) == {1, 2, 3}
    for r in df.itertuples():
        a = r.alpha_w
        d = (math.log((r.count_to + a) / (r.total_to + r.alpha_0 - r.count_to - a))
             - math.log((r.count_from + a) / (r.total_from + r.alpha_0 - r.count_from - a)))
        z = d / math.sqrt(1 / (r.count_to + a) + 1 / (r.count_from + a))
        assert r.log_odds == pytest.approx(d, rel=1e-9, abs=1e-12)
        assert r.z == pytest.approx(z, rel=1e-9, abs=1e-12)
        assert r.count_from + r.count_to >= 2
        # the test: the score statistic of the two rates (no units given: dispersion 1, the normal)
        pooled = (r.count_from + r.count_to) / (r.total_from + r.total_to)
        t = (r.count_to / r.total_to - r.count_from / r.total_from) / math.sqrt(
            pooled * (1 / r.total_from + 1 / r.total_to))
        assert r.dispersion == 1 and math.isnan(r.df)
        assert r.t == pytest.approx(t, rel=1e-9, abs=1e-12)
        assert r.p == pytest.approx(math.erfc(abs(t) / math.sqrt(2)), rel=1e-9, abs=1e-15)
        up = r.q <= 0.05 and t > 0 and r.count_to / r.total_to > r.count_from / r.total_from
        down = r.q <= 0.05 and t < 0 and r.count_to / r.total_to < r.count_from / r.total_from
        expected = ("new" if r.count_from == 0 and up else "gone" if r.count_to == 0 and down
                    else "rising" if up else "falling" if down else "stable")
        assert r.status == expected
    # q: Benjamini-Hochberg within each step and language, recomputed by hand (running minimum of p m / rank)
    for _, g in df.groupby(["lang", "year_from"]):
        p = g["p"].to_numpy()
        order = np.argsort(p)
        ranked = p[order] * len(p) / np.arange(1, len(p) + 1)
        q = np.empty(len(p))
        q[order] = np.minimum(1, np.minimum.accumulate(ranked[::-1])[::-1])
        np.testing.assert_allclose(g["q"], q, rtol=1e-9)
        assert r.display == (r.phrase.replace(" ", "") if r.lang == "zh" else r.phrase)
    # sorted by lang, year_from, descending z
    for _, g in df.groupby(["lang", "year_from"]):
        assert g["z"].is_monotonic_decreasing
    assert list(df["lang"]) == sorted(df["lang"])
    assert sorted(set(zip(df["lang"], df["year_from"], df["year_to"]))) == [
        ("en", 2017, 2022), ("en", 2022, 2024), ("zh", 2017, 2022), ("zh", 2022, 2024)]
    assert "数字 经济" in set(df["phrase"]) and "数字经济" in set(df["display"])
    # the alpha_w of each order are alpha_0 times the corpus share: check against the matrix
    m = load_matrix(paths["en"])
    corpus = row_counts(m)
    en = df[(df["lang"] == "en") & (df["n"] == 2)]
    share = corpus[en["phrase"]].to_numpy() / corpus[[" " in p and p.count(" ") == 1 for p in corpus.index]].sum()
    np.testing.assert_allclose(en["alpha_w"], en["alpha_0"] * share, rtol=1e-12)


def test_notebook_groups_from_doc_matrix():
    toks = token_table([("a1", 2017, "en", [["data", "economy"]]), ("a2", 2017, "en", [["data", "cloud"]]),
                        ("b1", 2024, "en", [["cloud", "cloud", "trade"]])])
    from textdrift.vectorize import doc_matrix

    m = doc_matrix(toks, "en")
    a = row_counts(m, m.rows["doc_id"].isin(["a1", "a2"]))
    b = row_counts(m, m.rows["doc_id"].isin(["b1"]))
    assert a["data"] == 2 and b["cloud"] == 2 and a["cloud"] == 1
    df = group_phrase_changes(a, b, prior_counts=row_counts(m), alpha_0=10).set_index("phrase")
    assert set(df.index) == {"data", "cloud"}
    assert df.loc["cloud", "log_odds"] > 0 > df.loc["data", "log_odds"]


# ---- reference: phrase_changes on pandas Series, one step at a time (group_phrase_changes) ---------


def phrase_changes_series(matrix, rows, avail, lang, min_count, alpha_0, q_threshold, ngram_max,
                          unspaced_languages, min_tokens=0) -> pd.DataFrame:
    """Reference: phrase_changes via group_phrase_changes on full-vocabulary Series, step by step
    (repeated terms are summed by the Series' groupby)."""
    from textdrift.phrases import _finish, _label_step, order_totals

    per_year = {int(r.year): row_counts(matrix, rows.index == i) for i, r in avail.iterrows()}
    if alpha_0 == "auto":
        alpha_0 = pd.DataFrame({y: order_totals(c) for y, c in per_year.items()}).fillna(0).median(axis=1).to_dict()
    prior = row_counts(matrix)
    years = list(per_year)
    out = []
    for y0, y1 in zip(years, years[1:]):
        df = group_phrase_changes(per_year[y0], per_year[y1], prior, alpha_0=alpha_0, min_count=min_count,
                                  q_threshold=q_threshold, ngram_max=ngram_max, min_tokens=min_tokens)
        out.append(_label_step(df, lang, y0, y1))
    return _finish(out, lang, unspaced_languages)


@pytest.mark.parametrize("kwargs", [{}, {"min_count": 1, "ngram_max": 2}, {"alpha_0": 50.0, "min_count": 3}])
@pytest.mark.parametrize("repeat_terms", [False, True])
def test_sparse_path_equals_group_phrase_changes_path(kwargs, repeat_terms):
    # phrase_changes restricts to tested columns before building frames; the result equals the
    # group_phrase_changes path on full-vocabulary Series, also for a vocabulary with repeated
    # terms (a matrix not written by vectorize: phrase_changes sums their columns)
    import scipy.sparse as sp

    from textdrift.vectorize import CountMatrix

    toks = _random_corpus(seed=3)
    for lang in ("zh", "en"):
        m = year_matrix(toks, lang)
        if repeat_terms:  # every third term's counts split over two columns of the same name
            cols = np.arange(0, len(m.vocab), 3)
            dense = m.X.toarray()
            half = dense[:, cols] // 2
            dense[:, cols] -= half
            m = CountMatrix(sp.csr_matrix(np.hstack([dense, half])), np.concatenate([m.vocab, m.vocab[cols]]), m.rows)
            assert not pd.Index(m.vocab).is_unique
        rows = m.rows.reset_index(drop=True)
        avail = rows[rows["tokens"] > 0].sort_values("year")
        args = {"min_count": 2, "alpha_0": "auto", "q_threshold": 0.05, "ngram_max": 3, "min_tokens": 0, **kwargs}
        fast = phrase_changes(m, **args, lang=lang)
        slow = phrase_changes_series(m, rows, avail, lang, args["min_count"], args["alpha_0"], args["q_threshold"],
                                     args["ngram_max"], ("zh", "ja", "th"), args["min_tokens"])
        assert len(fast) > 10
        pd.testing.assert_frame_equal(fast, slow)


# ---- the test at the sampling unit: dispersion between documents or paragraphs ---------------------


def test_unit_stats_by_hand():
    from textdrift.phrases import unit_stats

    # two units, columns: a, b (order 1), "a b" (order 2); unit totals: order 1 = 3 and 2, order 2 = 1 and 0
    X = np.array([[2, 1, 1], [1, 1, 0]])
    s2, u = unit_stats(X, np.array([0, 0, 1]), 2)
    # S2 = sum_u y^2 / T_u: a = 4/3 + 1/2, b = 1/3 + 1/2, "a b" = 1/1 (unit 2 has no bigram)
    np.testing.assert_allclose(s2, [4 / 3 + 1 / 2, 1 / 3 + 1 / 2, 1.0])
    assert list(u) == [2, 1]


def test_dispersion_is_pearson_over_units_by_hand():
    from textdrift.phrases import dispersion, unit_stats

    rng = np.random.default_rng(3)
    y0, y1 = rng.poisson(2.0, 7), rng.poisson(5.0, 5)  # one phrase in 7 and 5 units
    t0, t1 = rng.integers(20, 60, 7), rng.integers(20, 60, 5)  # the units' totals of its order
    # the other words of the units make up the totals: column 2 = T_u - y_u
    s0, u0 = unit_stats(np.c_[y0, t0 - y0], np.array([0, 0]), 1)
    s1, u1 = unit_stats(np.c_[y1, t1 - y1], np.array([0, 0]), 1)
    phi, df = dispersion(y0.sum(), y1.sum(), t0.sum(), t1.sum(), s0[0], s1[0], u0[0], u1[0])
    x2 = 0.0
    for y, t in ((y0, t0), (y1, t1)):  # Pearson X2 around each side's own rate
        mu = y.sum() / t.sum()
        x2 += (((y - t * mu) ** 2) / (t * mu)).sum()
    assert df == 7 + 5 - 2
    assert phi == pytest.approx(max(1.0, x2 / df), rel=1e-12)
    # one unit per side: nothing to estimate (phi 1, df NaN); a side without the phrase adds 0
    phi, df = dispersion(3, 4, 100, 100, 0.09, 0.16, 1, 1)
    assert phi == 1 and math.isnan(df)
    # by hand: 15 occurrences in one of 10 paragraphs of 100 tokens, none in the other year's 10:
    # expected 1.5 per paragraph, X2 = (15 - 1.5)^2 / 1.5 + 9 * 1.5 = 135, df = 18, phi = 7.5
    phi, df = dispersion(0, 15, 1000, 1000, 0.0, 15 ** 2 / 100, 10, 10)
    assert (phi, df) == (pytest.approx(7.5), 18)


def test_score_statistic_and_t_p_by_hand():
    from scipy.stats import t as student

    from textdrift.phrases import score_z, t_p_values

    # 0 of 1000 -> 15 of 1015: pooled rate 15 / 2015; z = (15/1015) / sqrt(r (1/1000 + 1/1015))
    r = 15 / 2015
    z = (15 / 1015) / math.sqrt(r * (1 / 1000 + 1 / 1015))
    assert score_z([0], [15], [1000], [1015])[0] == pytest.approx(z, rel=1e-12)
    assert score_z([15], [0], [1015], [1000])[0] == pytest.approx(-z, rel=1e-12)
    assert t_p_values([z], [18])[0] == pytest.approx(2 * student.sf(z, 18), rel=1e-12)
    assert t_p_values([1.959963984540054], [np.nan])[0] == pytest.approx(0.05, abs=1e-12)


def test_the_tests_without_statsmodels_give_the_same_floats():
    """score_z, t_p_values, effect_size's quantile and min_detectable_ratio are written on
    scipy.special: bit for bit what statsmodels and scipy.stats give, over a grid of counts, totals,
    dispersions and degrees of freedom (zeros, equal counts, large and small totals)."""
    from scipy.optimize import brentq
    from scipy.stats import norm
    from scipy.stats import t as student
    from statsmodels.stats.rates import power_poisson_ratio_2indep, test_poisson_2indep

    from textdrift.phrases import effect_size, min_detectable_ratio, score_z, t_p_values

    rng = np.random.default_rng(5)
    y0 = np.concatenate([[0, 0, 3, 15, 7], rng.integers(0, 400, 300)]).astype(float)
    y1 = np.concatenate([[0, 15, 3, 0, 7], rng.integers(0, 400, 300)]).astype(float)
    n0 = np.concatenate([[1000, 1000, 1000, 1015, 9], rng.integers(400, 5_000_000, 300)]).astype(float)
    n1 = np.concatenate([[1000, 1015, 999, 1000, 11], rng.integers(400, 5_000_000, 300)]).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        ref = test_poisson_2indep(y1, n1, y0, n0, method="score", compare="ratio", alternative="two-sided")
    z = score_z(y0, y1, n0, n1)
    assert np.array_equal(z, np.nan_to_num(np.asarray(ref.statistic, dtype=float), nan=0.0))
    dfs = np.where(np.arange(len(z)) % 3 == 0, np.nan, rng.integers(1, 400, len(z)).astype(float))
    t = z / np.sqrt(rng.uniform(1, 9, len(z)))
    want = np.where(np.isnan(dfs), 2 * norm.sf(np.abs(t)), 2 * student.sf(np.abs(t), np.where(np.isnan(dfs), 1.0, dfs)))
    assert np.array_equal(t_p_values(t, dfs), want)
    from scipy.special import polygamma

    sd = np.sqrt(polygamma(1, y1 + 2.0) + polygamma(1, y0 + 2.0))
    for conf in (0.9, 0.95, 0.99):
        eff, low, high = effect_size(y0, y1, n0, n1, 2.0, conf)
        zq = float(norm.ppf((1 + conf) / 2))  # the code before
        assert np.array_equal(low, eff - zq * sd, equal_nan=True) and np.array_equal(high, eff + zq * sd, equal_nan=True)

    def reference(rate, total_from, total_to, phi, dof, alpha, power):  # the code before: statsmodels
        if np.isfinite(dof) and dof >= 1:
            alpha = float(2 * norm.sf(student.isf(alpha / 2, dof)))

        def gap(log_ratio):
            return float(power_poisson_ratio_2indep(rate * np.exp(log_ratio), rate, total_to,
                                                    nobs_ratio=total_from / total_to, value=1, alpha=alpha,
                                                    dispersion=phi, alternative="two-sided",
                                                    return_results=False)) - power
        hi = np.log(1e6)
        return float("inf") if gap(hi) < 0 else float(np.exp(brentq(gap, 1e-9, hi, xtol=1e-6)))

    for rate, a, b, phi, dof, alpha, power in [(0.001, 1e5, 2e5, 1.0, np.nan, 0.05, 0.8),
                                               (3e-5, 4e6, 1e6, 2.7, 18.0, 0.05, 0.8),
                                               (0.02, 500.0, 800.0, 1.3, 1.0, 0.1, 0.9),
                                               (1e-7, 1e3, 1e3, 1.0, np.nan, 0.05, 0.8),
                                               (0.004, 12345.0, 678.0, 5.5, 250.0, 0.01, 0.5)]:
        assert min_detectable_ratio(rate, a, b, phi, dof, alpha, power) == reference(rate, a, b, phi, dof, alpha,
                                                                                     power)


def _paragraph_tokens(doc_id, year, paragraphs):
    """One sentence per paragraph, every token kept."""
    rows = []
    for para, words in enumerate(paragraphs):
        for i, w in enumerate(words):
            rows.append(dict(doc_id=doc_id, year=year, lang="en", para=para, sent=para, idx=i, text=w, norm=w,
                             lemma=w, is_stop=False, is_punct=False, keep=True))
    return pd.DataFrame(rows)


@pytest.mark.parametrize("spread", [True, False])
def test_one_document_per_year_a_new_phrase_must_be_spread_over_paragraphs(spread):
    """With one document a year the test is between paragraphs: 0 -> 15 occurrences over many
    paragraphs is new; the same 15 in a single paragraph is not (dispersion ~ 7)."""
    from textdrift.vectorize import count_matrix, doc_matrix

    rng = np.random.default_rng(0)
    filler = [f"w{i:02d}" for i in range(10)] * 10  # 10 words: a family of 11 tests (BH)

    def paras():
        return [list(rng.permutation(filler)) for _ in range(10)]

    before, after = paras(), paras()
    where = [2, 2, 2, 2, 2, 1, 1, 1, 1, 1] if spread else [15] + [0] * 9
    after = [p + ["alpha"] * k for p, k in zip(after, where)]
    toks = pd.concat([_paragraph_tokens("a", 2020, before), _paragraph_tokens("b", 2021, after)], ignore_index=True)
    pm = count_matrix(toks, ["year", "doc_id", "para"], 1)
    df, steps = phrase_changes(year_matrix(toks, "en", 1), ngram_max=1, docs=doc_matrix(toks, "en", 1), paras=pm,
                               with_steps=True)
    row = df.set_index("phrase").loc["alpha"]
    assert steps["unit"].tolist() == ["paragraphs"] and steps["units_from"].tolist() == [10]
    assert row["df"] == 18
    # Pearson X2 of alpha in 2021 around its rate, by hand (2020: none)
    t = np.array([len(p) for p in after], dtype=float)
    mu = 15 / t.sum()
    x2 = (((np.array(where) - t * mu) ** 2) / (t * mu)).sum()
    assert row["dispersion"] == pytest.approx(max(1.0, x2 / 18), rel=1e-9)
    if spread:
        # z = 3.84 (by hand in test_score_statistic_and_t_p_by_hand), p = 0.0012 on t(18), q = 11 p / 1
        assert row["dispersion"] == 1 and row["p"] < 0.002 and row["q"] < 0.05 and row["status"] == "new"
    else:
        assert row["dispersion"] > 6 and row["p"] > 0.1 and row["status"] == "stable"


def test_documents_are_the_unit_when_both_years_have_enough_of_them():
    from textdrift.vectorize import doc_matrix

    rng = np.random.default_rng(1)
    words = [f"w{i}" for i in range(20)]
    docs = [_paragraph_tokens(f"d{y}{k}", y, [list(rng.choice(words, 60))]) for y in (2020, 2021) for k in range(3)]
    toks = pd.concat(docs, ignore_index=True)
    ym, dm = year_matrix(toks, "en", 1), doc_matrix(toks, "en", 1)
    _, steps = phrase_changes(ym, ngram_max=1, docs=dm, min_documents=3, with_steps=True)
    assert steps["unit"].tolist() == ["documents"] and steps[["units_from", "units_to"]].values.tolist() == [[3, 3]]
    df, steps = phrase_changes(ym, ngram_max=1, docs=dm, min_documents=4, with_steps=True)
    assert steps["unit"].tolist() == ["tokens"] and (df["dispersion"] == 1).all() and df["df"].isna().all()
    assert (steps["tested"] == len(df)).all() and steps["min_detectable_ratio"].iloc[0] > 1


def test_the_step_table_is_made_only_when_asked(monkeypatch):
    # findings_vocabulary recomputes the test 41 times without the step table: no root search then
    import textdrift.phrases as ph

    toks = _random_corpus()
    ym = year_matrix(toks, "en", 2)
    want, steps = phrase_changes(ym, ngram_max=2, with_steps=True)
    assert len(steps) == 2 and steps["min_detectable_ratio"].notna().all()

    def fail(*args, **kwargs):
        raise AssertionError("the step table was made")

    monkeypatch.setattr(ph, "min_detectable_ratio", fail)
    pd.testing.assert_frame_equal(phrase_changes(ym, ngram_max=2), want)


def test_min_detectable_ratio_has_the_power_it_says():
    from scipy.stats import norm

    from textdrift.phrases import min_detectable_ratio

    # Wald test of log(ratio), variance under the alternative 1/m_from + 1/m_to (statsmodels, Zhu 2017):
    # power = Phi(|log RR| / se - z_{1 - alpha/2}) (+ the negligible other tail)
    rate, n = 0.001, 50_000
    rr = min_detectable_ratio(rate, n, n, 1.0, np.nan, 0.05, 0.8)
    se = math.sqrt(1 / (rate * n) + 1 / (rate * rr * n))
    assert norm.cdf(math.log(rr) / se - norm.isf(0.025)) == pytest.approx(0.8, abs=1e-3)
    # dispersion 4 doubles the standard error: a larger ratio is needed
    assert min_detectable_ratio(rate, n, n, 4.0, np.nan, 0.05, 0.8) > rr
    assert math.isnan(min_detectable_ratio(0.0, n, n))


def test_only_the_formulations_a_removed_token_lies_in_are_protected(tmp_path):
    """codebook_protected: the codebook's terms a removed token can split (a word of a spaced term,
    any substring of an unspaced one); None until the removed tokens' vocabulary exists."""
    import json

    import yaml

    from textdrift.phrases import codebook_protected, splittable

    assert splittable(["rule of law", "digital economy", "of"], {"of", "the"}, unspaced=False) == ["rule of law", "of"]
    assert splittable(["改革开放和现代化建设", "数字经济"], {"和"}, unspaced=True) == ["改革开放和现代化建设"]
    assert splittable(["rule of law"], set(), unspaced=False) == []
    book = tmp_path / "themes.yaml"
    book.write_text(yaml.safe_dump({"themes": [
        {"id": "t", "label_en": "T", "label_zh": "T", "en": ["rule of law", "digital econom*", "benchmark added term"],
         "zh": ["改革开放和现代化建设", "数字经济"]}]}, allow_unicode=True), encoding="utf-8")
    removed = tmp_path / "removed.json"
    assert codebook_protected(book, removed, ["en", "zh"]) is None
    removed.write_text(json.dumps({"en": ["of", "the"], "zh": ["和"]}), encoding="utf-8")
    assert codebook_protected(book, removed, ["en", "zh"]) == {"en": ["rule of law"], "zh": ["改革开放和现代化建设"]}


def test_entity_display_shows_a_name_by_its_label_in_the_rows_language():
    from textdrift.phrases import entity_display

    labels = {"gdi": {"en": "Global Development Initiative", "zh": "全球发展倡议"},
              "gdi_digital_cooperation_forum": {"en": "GDI Digital Cooperation Forum"},
              "deng_theory": {"zh": "邓小平理论"}}
    df = pd.DataFrame({"lang": ["zh", "en", "en", "zh", "en", "zh"],
                       "phrase": ["高举 @deng_theory", "under the @gdi", "@gdi_digital_cooperation_forum", "@gdi",
                                  "china", "@unknown_id"],
                       "display": ["高举@deng_theory", "under the @gdi", "@gdi_digital_cooperation_forum", "@gdi",
                                   "china", "@unknown_id"]})
    out = entity_display(df, labels)
    assert out["display"].tolist() == ["高举邓小平理论", "under the Global Development Initiative",
                                       "GDI Digital Cooperation Forum",  # the longer id, not "@gdi" + rest
                                       "全球发展倡议", "china", "@unknown_id"]
    assert out["phrase"].tolist() == df["phrase"].tolist()  # what is counted keeps the token
    # no labels (entities: null): unchanged; an id without a label in the language: English's, else the token
    assert entity_display(df, None) is df
    only_id = entity_display(df.iloc[[0]].assign(lang="en"), {"deng_theory": {}})
    assert only_id["display"].tolist() == ["高举@deng_theory"]
