"""Phrase units (issue 28, items 2 and 3): maximal phrases up to ``phrases.max_length`` tokens, pieces
folded into their unit, "X+" terms whole, formulations not split by stop words, and the exploratory
effect ranking; checked on a one-report-per-year Chinese corpus with planted formulations."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from textdrift.io import read_csv
from textdrift.phrases import (
    RANKINGS,
    PhraseSettings,
    effect_rank,
    effect_size,
    fold_pieces,
    is_rest,
    long_counts,
    phrase_changes,
    write_phrases,
)
from textdrift.vectorize import SEP, count_matrix, doc_matrix, save_matrix, year_matrix

ROOT = Path(__file__).resolve().parents[1]

# filler words that share no character with a planted formulation
FILLER = ("经济 科技 教育 医疗 农业 农村 城市 交通 能源 环境 保护 治理 提高 效益 稳定 就业 收入 增长 投资 消费 市场 企业 "
          "服务 政府 职能 转变 法治 推进 加快 实施 战略 规划 目标 任务 完善 体系 机制 驱动 协调 绿色 共享 合作 区域 统筹 "
          "促进 结构 调整 升级").split()
# formulation -> first year. jieba cuts 碳达峰 into single characters, 新质生产力 into 新 / 质 / 生产力,
# 全过程人民民主 and 全面建成小康社会 into three words; 互联网+ has the plus; 改革开放和现代化 holds the
# stop word 和 (kept only because new_formulations.csv names the formulation). 双循环 is one word.
PLANTED = {"碳达峰": 2011, "双循环": 2011, "新质生产力": 2012, "全过程人民民主": 2013, "互联网+": 2014,
           "全面建成小康社会": 2015, "改革开放和现代化": 2016}
PER_YEAR = 4  # occurrences of each planted formulation in every year from its first, in 4 paragraphs


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """One report a year, 2010-2016: 12 paragraphs of random filler sentences; each planted
    formulation stands in 4 paragraphs a year from its first year, between random words."""
    from textdrift.segment import Segmenter

    rng = np.random.default_rng(1)
    seg = Segmenter({"cache_dir": str(tmp_path_factory.mktemp("jieba"))}, ROOT)
    frames = []
    for year in range(2010, 2017):
        paras = [["".join(rng.choice(FILLER, size=8)) + "。" for _ in range(3)] for _ in range(12)]
        for i, (f, y0) in enumerate(PLANTED.items()):
            if year >= y0:
                for p in range(PER_YEAR):
                    paras[(i + 3 * p) % 12].append("".join(rng.choice(FILLER, size=3)) + f
                                                   + "".join(rng.choice(FILLER, size=3)) + "。")
        frames.append(seg.document_table(f"r{year}", year, "zh", ["".join(s) for s in paras]).to_pandas())
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def tables(reports, tmp_path_factory):
    """phrase_changes.csv and phrase_steps.csv of the reports, as the rule writes them (the
    protected formulations from new_formulations.csv of the same tokens)."""
    from textdrift.formulations import new_formulations

    tmp = tmp_path_factory.mktemp("phrases")
    form = new_formulations([reports], ["zh"])
    save_matrix(year_matrix(reports, "zh"), tmp / "year_zh.npz")
    save_matrix(doc_matrix(reports, "zh"), tmp / "doc_zh.npz")
    save_matrix(count_matrix(reports, ["year", "doc_id", "para"]), tmp / "para_zh-0.npz")
    write_phrases({"zh": tmp / "year_zh.npz"}, tmp / "phrase_changes.csv", tokens=[reports],
                  doc_matrices={"zh": tmp / "doc_zh.npz"}, para_matrices={"zh": [tmp / "para_zh-0.npz"]},
                  formulations=form, steps_csv=tmp / "phrase_steps.csv")
    return read_csv(tmp / "phrase_changes.csv"), read_csv(tmp / "phrase_steps.csv"), form


def test_plus_stays_on_its_term(reports):
    words = set(reports["norm"])
    assert "互联网+" in words and "+" not in words
    row = reports[reports["norm"] == "互联网+"].iloc[0]
    assert row["keep"] and not row["is_punct"]


@pytest.mark.parametrize("formulation", list(PLANTED))
def test_planted_formulation_is_counted_whole_in_its_first_year(tables, formulation):
    """In the step into its first year the formulation is one row, 0 -> 4, at the top of the rising
    side by the exploratory effect, and none of its pieces is listed on its own."""
    pc, _, _ = tables
    y = PLANTED[formulation]
    step = pc[pc["year_to"] == y]
    row = step[step["display"] == formulation]
    assert len(row) == 1, step["display"].tolist()
    row = row.iloc[0]
    assert (row["count_from"], row["count_to"]) == (0, PER_YEAR)
    # among the first three of the step's 30-odd rising phrases (random filler words that went, say,
    # from 1 to 8 compete with 0 -> 4)
    assert (step["effect"] > 0).sum() > 30 and 1 <= row["effect_rank"] <= 3
    assert row["effect"] > 0 and row["effect_low"] < row["effect"] < row["effect_high"]
    pieces = step[[d != formulation and d in formulation for d in step["display"]]]
    assert pieces.empty, pieces["display"].tolist()
    # and later steps count it whole too (4 -> 4)
    later = pc[(pc["year_from"] >= y) & (pc["display"] == formulation)]
    assert set(zip(later["count_from"], later["count_to"])) <= {(PER_YEAR, PER_YEAR)}


def test_stop_word_inside_a_named_formulation_is_bridged(tables):
    pc, _, form = tables
    assert "改革开放和现代化" in set(form["formulation"])  # named by the new-formulation table
    row = pc[pc["display"] == "改革开放和现代化"].iloc[0]
    assert row["phrase"] == SEP.join(["改革开放", "和", "现代化"]) and row["pieces"] >= 2
    # the stop word never stands at either end of a phrase, and only with its whole formulation
    words = pc["phrase"].str.split(SEP)
    assert not any(w[0] == "和" or w[-1] == "和" for w in words)
    assert all("改革开放 和 现代化" in p for p, w in zip(pc["phrase"], words) if "和" in w)


def test_no_table_lists_two_pieces_of_one_formulation(tables):
    """Of two listed phrases of one step where one begins or ends the other (word-wise), the
    longer never holds fold_share of the shorter's occurrences: else the shorter is a piece."""
    pc, _, _ = tables
    share = PhraseSettings().fold_share
    for _, step in pc.groupby(["lang", "year_from"]):
        count = dict(zip(step["phrase"], step["count_from"] + step["count_to"]))
        for long_, c_long in count.items():
            w = long_.split(SEP)
            for k in range(1, len(w)):
                for piece in (SEP.join(w[:k]), SEP.join(w[-k:])):
                    if piece in count:
                        assert c_long < share * count[piece], (piece, long_)


def test_step_says_once_that_its_ranking_is_exploratory(tables):
    pc, steps, _ = tables
    assert set(steps["ranking"]) <= set(RANKINGS)
    for r in steps.itertuples():
        step = pc[pc["year_from"] == r.year_from]
        assert r.min_q == pytest.approx(step["q"].min())
        assert r.ranking == ("test" if r.min_q <= r.alpha else "exploratory")
        assert r.folded > 0 and r.tested == len(step)
    assert (steps["ranking"] == "exploratory").all()  # one short report a side: nothing reaches q <= 0.05


def test_long_counts_equal_vectorize_counts_of_the_same_orders(reports):
    """Counted from the tokens with ngram_max 0 and min_count 1, orders 1-3 are vectorize's counts
    exactly (the same token stream), with empty remainders."""
    lc = long_counts([reports], "zh", PhraseSettings(ngram_max=0, max_length=3, min_count=1))
    ym = year_matrix(reports, "zh")
    rest = is_rest(lc.year.vocab)
    assert lc.year.X[:, np.flatnonzero(rest)].sum() == 0
    mine = pd.DataFrame(lc.year.X[:, np.flatnonzero(~rest)].toarray().T, index=lc.year.vocab[~rest])
    theirs = pd.DataFrame(ym.X.toarray().T, index=ym.vocab)
    pd.testing.assert_frame_equal(mine.sort_index(), theirs.sort_index(), check_names=False)


def test_long_counts_remainder_keeps_the_totals(reports):
    """Per year and order, the recurring columns plus the remainder = the positions of that order."""
    s = PhraseSettings(ngram_max=3, max_length=6)
    lc = long_counts([reports], "zh", s)
    full = long_counts([reports], "zh", PhraseSettings(ngram_max=3, max_length=6, min_count=1))
    order = np.char.count(lc.year.vocab.astype(str), SEP) + 1
    order_full = np.char.count(full.year.vocab.astype(str), SEP) + 1
    for n in range(4, 7):
        a = lc.year.X[:, np.flatnonzero(order == n)].sum(axis=1)
        b = full.year.X[:, np.flatnonzero(order_full == n)].sum(axis=1)
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("ascending", [True, False])
def test_paragraph_and_year_indexes_are_numpy_unique(ascending):
    """The stream's paragraph and year indexes (built without a sort when the pairs ascend along the
    stream) are ``np.unique``'s: the distinct pairs ascending and each token's index in them."""
    from textdrift.phrases import _paragraph_index, _small_index

    rng = np.random.default_rng(3)
    doc = np.repeat(np.arange(40, dtype=np.int32), rng.integers(1, 30, 40))
    para = np.concatenate([np.sort(rng.integers(0, 6, (doc == d).sum())) for d in range(40)]).astype(np.int32)
    if not ascending:
        at = rng.permutation(len(doc))
        doc, para = doc[at], para[at]
    keys, idx = np.unique(doc.astype(np.int64) * 6 + para, return_inverse=True)
    pairs, mine = _paragraph_index(doc, para)
    np.testing.assert_array_equal(pairs, np.stack([keys // 6, keys % 6], axis=1))
    np.testing.assert_array_equal(mine, idx.ravel())
    assert mine.dtype == np.int32
    year = rng.choice(np.array([2001, 2003, 2004, 2010], dtype=np.int32), len(doc))
    years, yidx = _small_index(year)
    np.testing.assert_array_equal(years, np.unique(year))
    np.testing.assert_array_equal(yidx, np.searchsorted(np.unique(year), year))
    assert years.dtype == year.dtype and _paragraph_index(doc[:0], para[:0])[0].shape == (0, 2)


@pytest.mark.parametrize("block", [None, 1, 7, 64])
@pytest.mark.parametrize("unspaced", [True, False])
def test_occurrences_are_the_shortest_string_at_each_start(unspaced, block):
    """The protected strings' occurrences (the hashed search, strings of 6 characters or more
    compared for all positions at once) are, at every start (spaced: of a word, and ending one),
    the shortest string of the list that begins there: brute force on random texts; the same with
    the text hashed in blocks shorter than the strings or the text (None: the default block)."""
    import random

    from textdrift.phrases import _occurrences

    rng = random.Random(7)
    for _ in range(60):
        if unspaced:
            joined = "".join(rng.choice("ab的c") for _ in range(rng.randint(1, 300)))
            pats = sorted({"".join(rng.choice("ab的c") for _ in range(rng.randint(1, 11))) for _ in range(20)})
        else:
            joined = " ".join("".join(rng.choice("ab") for _ in range(rng.randint(1, 3)))
                              for _ in range(rng.randint(1, 120)))
            pats = sorted({" ".join("".join(rng.choice("ab") for _ in range(rng.randint(1, 3)))
                                    for _ in range(rng.randint(1, 5))) for _ in range(20)})
        want_s, want_e = [], []
        for s in range(len(joined)):
            if not unspaced and s and joined[s - 1] != " ":
                continue
            ends = [s + len(f) for f in pats if joined.startswith(f, s)
                    and (unspaced or s + len(f) == len(joined) or joined[s + len(f)] == " ")]
            if ends:
                want_s.append(s)
                want_e.append(min(ends))
        got_s, got_e = _occurrences(joined, pats, unspaced, **({} if block is None else {"block": block}))
        assert got_s.tolist() == want_s and got_e.tolist() == want_e



def test_spaced_occurrences_by_the_tokens_are_those_by_the_characters(monkeypatch):
    """Spaced, the protected strings are searched on the tokens (each distinct word one character,
    :func:`_word_occurrences`): the tokens each occurrence covers are those of the search on the
    characters of the texts joined by spaces, on random texts (upper case, words absent from the
    text, repeated words); a word that is empty or holds a space falls back to the characters."""
    import random

    from textdrift import phrases
    from textdrift.phrases import _occurrences, _protected_tokens, _word_occurrences

    rng = random.Random(11)
    vocab = ["a", "b", "ab", "ba", "A", "of", "the", "x-y"]
    for _ in range(80):
        words = np.array(sorted(set(rng.sample(vocab, rng.randint(1, len(vocab))))), dtype=object)
        text = np.array([rng.randrange(len(words)) for _ in range(rng.randint(1, 150))], dtype=np.int64)
        low = [w.lower() for w in words]
        pats = sorted({" ".join(rng.choice(vocab + ["zz"]).lower() for _ in range(rng.randint(1, 8)))
                       for _ in range(15)})
        joined = " ".join(low[i] for i in text)
        starts = np.cumsum([0] + [len(low[i]) + 1 for i in text])[:-1]
        ends = starts + np.array([len(low[i]) for i in text])
        s, e = _occurrences(joined, pats, False)
        a, b = _word_occurrences(np.array(low, dtype=object), text, pats)
        assert a.tolist() == np.searchsorted(starts, s).tolist()
        assert b.tolist() == np.searchsorted(ends, e, side="right").tolist()
        removed = np.array([rng.random() < 0.3 for _ in text])
        removed[0] = True
        got = _protected_tokens(text, False, pats, removed, strings=words)
        with monkeypatch.context() as m:  # the characters' search
            m.setattr(phrases, "_word_occurrences", lambda *args: None)
            want = _protected_tokens(text, False, pats, removed, strings=words)
        assert all(np.array_equal(g, w) for g, w in zip(got, want))
    assert _word_occurrences(np.array(["a", "b c"], dtype=object), np.array([0, 1]), ["a b"]) is None
    assert _word_occurrences(np.array(["a", ""], dtype=object), np.array([0, 1]), ["a"]) is None

# --- the rules by hand ----------------------------------------------------------------------------

def test_fold_pieces_by_hand():
    phrases = ["a", "b", "c", "a b", "b c", "a b c", "d"]
    counts = [10, 5, 5, 5, 5, 5, 3]
    unit, pieces = fold_pieces(phrases, counts, 0.8)
    # a: its best extension "a b" has 5 < 0.8 * 10 -> a unit; b -> "a b" (5 >= 4) -> "a b c";
    # c -> "b c" -> "a b c"; "a b" -> "a b c"; "b c" -> "a b c"
    assert dict(zip(phrases, unit)) == {"a": True, "b": False, "c": False, "a b": False, "b c": False,
                                        "a b c": True, "d": True}
    assert dict(zip(phrases, pieces))["a b c"] == 4
    assert fold_pieces(phrases, counts, None)[0].all()
    # fold_share 1: only pieces that never occur outside (closed repeats)
    unit1, _ = fold_pieces(["x", "x y"], [3, 2], 1.0)
    assert unit1.tolist() == [True, True]


def test_effect_size_by_hand_and_it_does_not_bury_a_new_term():
    from scipy.special import digamma, polygamma

    eff, lo, hi = effect_size([0, 100], [5, 200], [1000, 1000], [1000, 1000], prior=0.5, conf_level=0.95)
    # equal totals: the prior's a / r cancels
    assert eff[0] == pytest.approx(digamma(5.5) - digamma(0.5))
    sd = math.sqrt(polygamma(1, 5.5) + polygamma(1, 0.5))
    assert hi[0] - eff[0] == pytest.approx(1.959963984540054 * sd)
    assert eff[1] == pytest.approx(digamma(200.5) - digamma(100.5))
    assert eff[0] > eff[1] > 0  # 0 -> 5 before 100 -> 200
    assert effect_rank([eff[0], eff[1], -0.3, -1.0], [5, 300, 9, 9]).tolist() == [1, 2, 2, 1]
    # unequal totals: r = 6 / 300, a / r = 25 -> effect = -log((200 + 25) / (100 + 25))
    e2, _, _ = effect_size([3], [3], [100], [200], prior=0.5)
    assert e2[0] == pytest.approx(-math.log(225 / 125))
    # the default prior (2 occurrences): a phrase going 1 -> 12 before one going 0 -> 4, and 0 -> 5
    # still before 100 -> 200
    e4, _, _ = effect_size([1, 0, 0, 100], [12, 4, 5, 200], [1000] * 4, [1000] * 4)
    assert e4[0] > e4[1] and e4[2] > e4[3]
    # a phrase absent from a tiny year is pulled to its pooled rate, not ranked as rising:
    # 2 -> 0 with 1000 and 10 n-grams: r = 2/1010, a/r = 252.5
    e3, _, _ = effect_size([2], [0], [1000], [10], prior=0.5)
    assert e3[0] == pytest.approx(digamma(0.5) - math.log(262.5) - digamma(2.5) + math.log(1252.5)) and e3[0] < 0


def test_phrase_changes_takes_a_settings_object(reports):
    m = year_matrix(reports, "zh")
    a = phrase_changes(m, PhraseSettings(min_count=3))
    b = phrase_changes(m, {"min_count": 3})
    c = phrase_changes(m, min_count=3)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)
    with pytest.raises(ValueError, match="unknown phrase setting"):
        phrase_changes(m, min_cont=3)


@pytest.mark.parametrize("formulation", sorted(PLANTED))
def test_planted_formulation_is_new_in_its_first_year_in_the_formulation_table(tables, formulation):
    """Issue 28's Done-when for the new-formulation table: each planted formulation (whatever jieba
    makes of it) is a row `new` in its first year, whole, among the top entries of that year."""
    _, _, form = tables
    new = form[(form["status"] == "new") & (form["year"] == PLANTED[formulation])]
    row = new[new["formulation"] == formulation]
    assert len(row) == 1, new["formulation"].tolist()[:10]
    assert row["rank"].iloc[0] <= 5 and row["count"].iloc[0] == PER_YEAR
