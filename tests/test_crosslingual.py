"""textdrift.crosslingual and textdrift.align on small invented parallel texts, against values computed by hand."""

import math
import warnings

import matplotlib
import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

from scipy.special import log_ndtr

from textdrift import align as A
from textdrift import crosslingual as X
from textdrift.codebook import Theme
from textdrift.figures import crosslingual_chart, save_figure, setup_fonts
from textdrift.matching import match_themes
from textdrift.stats import spearman


# ---- reference: the aligner's costs cell by cell (textdrift.align computes them for all cells at once)


def length_cost(len_a: float, len_b: float, ratio: float, variance: float) -> float:
    """Gale & Church's length cost: -log of the two-sided normal tail of delta."""
    if len_a == 0 and len_b == 0:
        return 0.0
    delta = (len_b - ratio * len_a) / np.sqrt(variance * (len_a + len_b / ratio) / 2)
    return float(-np.log(2) - log_ndtr(-abs(delta)))  # log_ndtr(-x) is scipy's norm.logsf(x), minus its overhead


def dice_distance(x: set, y: set) -> float:
    """1 - 2|x & y| / (|x| + |y|); 0 when both are empty."""
    return 1 - 2 * len(x & y) / (len(x) + len(y)) if x or y else 0.0


CODEBOOK = [
    Theme("economy", {"en": "Economy", "zh": "经济"}, {"en": ("economy",), "zh": ("经济",)}),
    Theme("green", {"en": "Green", "zh": "绿色"}, {"en": ("green",), "zh": ("绿色",)}),
    Theme("sovereignty", {"en": "Sovereignty", "zh": "主权"}, {"en": ("sovereignty",), "zh": ("主权",)}),
]


def token_table(doc_id, year, lang, paragraphs):
    """Tokens of invented paragraphs (lists of words): one sentence each, every token kept."""
    rows, sent = [], 0
    for para, words in enumerate(paragraphs):
        idx = 0
        for w in words:
            rows.append({"doc_id": doc_id, "year": year, "lang": lang, "para": para, "sent": sent, "idx": idx,
                         "text": w, "norm": w, "lemma": w, "is_stop": False, "is_punct": False, "keep": True})
            idx += len(w) + (lang == "en")
        sent += 1
    return pd.DataFrame(rows)


# d1: zh 10 kept tokens (经济 x4, 绿色 x0); en 20 kept tokens (economy x2, green x3). d2: English only.
ZH = [["经济", "发展", "经济", "合作", "经济", "创新", "经济", "开放", "共享", "包容"]]
EN = [["economy", "green", "economy", "green", "green"] + [f"word{i}" for i in range(15)]]
TOKENS = pd.concat([token_table("d1", 2020, "zh", ZH), token_table("d1", 2020, "en", EN),
                    token_table("d2", 2021, "en", [["economy", "policy"]])], ignore_index=True)
INDEX = pd.DataFrame({"doc_id": ["d1", "d1", "d2"], "year": [2020, 2020, 2021], "lang": ["zh", "en", "en"]})


@pytest.fixture(scope="module")
def table():
    matches = match_themes(TOKENS, CODEBOOK, 0)
    docs = X.bilingual_documents(INDEX, TOKENS)
    return X.compare_themes(TOKENS, matches, CODEBOOK, docs, z_threshold=0.85, min_tokens=15).set_index("theme")


# ---- alignment ---------------------------------------------------------------------------------


def test_anchors_numbers_enumerations_months_and_names():
    assert A.zh_numeral("一") == 1 and A.zh_numeral("十") == 10 and A.zh_numeral("十五") == 15
    assert A.zh_numeral("二十三") == 23
    # "(一)" -> 1, "11月21日" -> 11, 21, "2024年" -> 2024, a Latin word in Chinese (RDI) counts
    assert A.anchors("(一)2024年11月21日,研发(RDI)", "zh") == {"1", "2024", "11", "21", "RDI"}
    # English: November -> 11; acronyms (AI, 5G) count, ordinary capitalised words (The) do not
    assert A.anchors("The forum of November 21, 2024 on AI and 5G.", "en") == {"11", "21", "2024", "AI", "5G"}
    assert A.anchors("3. Stimulate e-commerce cooperation", "en") == {"3"}


def test_length_cost_by_hand():
    # l_a = 100, l_b = 400, c = 4: delta = 0 -> -log(2 * 0.5) = 0
    assert length_cost(100, 400, 4.0, 8.0) == pytest.approx(0.0, abs=1e-12)
    # l_b = 440: delta = 40 / sqrt(8 * (100 + 110) / 2) = 40 / sqrt(840) = 1.38013;
    # 2 * (1 - Phi(1.38013)) = 0.16754; -log(0.16754) = 1.7865
    assert length_cost(100, 440, 4.0, 8.0) == pytest.approx(1.7865, abs=1e-4)
    assert length_cost(0, 0, 4.0, 8.0) == 0.0


def test_dice_distance():
    assert dice_distance({"1", "2024"}, {"1"}) == pytest.approx(1 - 2 * 1 / 3)
    assert dice_distance(set(), set()) == 0.0
    assert dice_distance({"3"}, set()) == 1.0


def zh_para(item, n):
    return f"{item}." + "数" * n


def en_para(item, n_chars):
    """An English paragraph of ``n_chars`` non-space characters (words of 5 letters), "item." first if given."""
    head = f"{item}. " if item else ""
    body_chars = n_chars - (len(str(item)) + 1 if item else 0)
    words = ["words"] * (body_chars // 5) + (["x" * (body_chars % 5)] if body_chars % 5 else [])
    return head + " ".join(words)


def test_aligner_finds_a_split_paragraph_an_omission_and_an_addition():
    """5 zh vs 6 en paragraphs: item 2 split in two in English, item 3 missing in English, one extra en paragraph.

    zh items 1-5 have 30, 50, 40, 60, 35 Han characters (+ "n." = 32, 52, 42, 62, 37 characters);
    English uses 4 characters per Chinese one: items 1, 4, 5 have 128, 248, 148 characters,
    item 2 is 104 + 104 (only the first half carries "2."), item 3 is absent, and a closing
    paragraph of 80 characters with no number has no Chinese counterpart.
    Expected by hand: zh0-en0, zh1-en1;en2 (1-2), zh2-nothing (1-0), zh3-en3, zh4-en4, nothing-en5 (0-1).
    """
    zh = [zh_para(i, n) for i, n in zip(range(1, 6), [30, 50, 40, 60, 35])]
    en = [en_para(1, 128), en_para(2, 104), en_para(None, 104), en_para(4, 248), en_para(5, 148),
          en_para(None, 80)]
    assert [A.paragraph_length(p) for p in en] == [128, 104, 104, 248, 148, 80]
    beads = A.align_paragraphs(zh, en, length_ratio=4.0)
    assert [(b.a, b.b) for b in beads] == [((0,), (0,)), ((1,), (1, 2)), ((2,), ()), ((3,), (3,)), ((4,), (4,)),
                                           ((), (5,))]
    # costs by hand: zh0-en0 has delta 0 and shared anchor "1": only -log(0.89) = 0.11653;
    # zh2 alone: no length cost, its anchor "3" is not in the English text -> -log(0.00495) = 5.30842
    assert beads[0].cost == pytest.approx(-math.log(0.89))
    assert beads[2].cost == pytest.approx(-math.log(0.00495))
    # the 1-2 bead: 52 vs 208 characters, delta 0, anchors {2} vs {2}: -log(0.0445) = 3.11226
    assert beads[1].cost == pytest.approx(-math.log(0.0445))


def test_aligner_one_paragraph_against_many_and_empty_sides():
    """One zh paragraph (22 characters, item 1) against 3 en paragraphs: a 30-character title, the
    88-character translation and a 200-character paragraph 2 (its "2" is not in the zh text).
    Title alone (0-1): -log(0.00495) = 5.31, + zh-en1 1-1 (delta 0, anchor 1 shared): 0.12 -> 5.43;
    title merged (1-2, 22 vs 118 characters): delta = 30 / sqrt(8 * (22 + 29.5) / 2) = 2.09, length
    cost 3.6 + -log(0.0445) = 3.11 -> 6.7. So: title alone, 1-1, paragraph 2 alone."""
    beads = A.align_paragraphs([zh_para(1, 20)], [en_para(None, 30), en_para(1, 88), en_para(2, 200)], length_ratio=4.0)
    assert [(b.a, b.b) for b in beads] == [((), (0,)), ((0,), (1,)), ((), (2,))]
    assert [(b.a, b.b) for b in A.align_paragraphs([], [en_para(1, 10)])] == [((), (0,))]
    assert A.align_paragraphs([], []) == []


def test_alignment_table_lists_one_sided_themes():
    texts = {"d1": {"zh": ["".join(ZH[0])], "en": [" ".join(EN[0])]}}
    matches = match_themes(TOKENS, CODEBOOK, 0)
    t = X.alignment_table(texts, matches, CODEBOOK, length_ratio=4.0)
    assert t.columns.tolist() == ["doc_id", "pair", "zh_paras", "en_paras", "zh_text", "en_text", "cost",
                                  "themes_zh", "themes_en", "only_zh", "only_en"]
    row = t.iloc[0]
    assert (row["zh_paras"], row["en_paras"], row["themes_zh"], row["themes_en"]) == ("0", "0", "economy", "economy;green")
    assert (row["only_zh"], row["only_en"]) == ("", "green")
    assert row["zh_text"] == "经济发展经济合作经济创新经济开放共享包容"


# ---- theme comparison --------------------------------------------------------------------------


def test_document_with_one_language_is_skipped(table):
    assert set(table["doc_id"]) == {"d1"}
    assert X.bilingual_documents(INDEX, TOKENS)["doc_id"].tolist() == ["d1"]


def test_theme_comparison_by_hand(table):
    eco, green, sov = table.loc["economy"], table.loc["green"], table.loc["sovereignty"]
    # economy: zh 4 / 10 tokens = 4000 per 10k, en 2 / 20 = 1000; diff 3000
    assert (eco["count_zh"], eco["tokens_zh"], eco["count_en"], eco["tokens_en"]) == (4, 10, 2, 20)
    assert (eco["per_10k_zh"], eco["per_10k_en"], eco["diff"]) == pytest.approx((4000, 1000, 3000))
    # exact Poisson interval of 4: chi2(.025, 8)/2 = 1.08987, chi2(.975, 10)/2 = 10.24159; x 10000 / 10
    assert (eco["ci_low_zh"], eco["ci_high_zh"]) == pytest.approx((1089.87, 10241.59), abs=0.01)
    # prior: pair pooled share (4 + 2) / (10 + 20) = 0.2; alpha_0 = median(10, 20) = 15; alpha_w = 3
    assert (eco["alpha_0"], eco["alpha_w"]) == pytest.approx((15, 3))
    # log_odds = log(7 / (10 + 15 - 4 - 3)) - log(5 / (20 + 15 - 2 - 3)) = log(7/18) - log(5/30) = 0.84730
    # var = 1/7 + 1/5 = 0.342857 -> z = 0.84730 / 0.58554 = 1.44704
    assert eco["log_odds"] == pytest.approx(0.847298, abs=1e-6)
    assert eco["z"] == pytest.approx(1.447037, abs=1e-6)
    assert eco["status"] == "zh_stronger"  # z >= 0.85 (the threshold of this test)
    # green, English only: share 3/30 = 0.1, alpha_w = 1.5
    # log_odds = log(1.5 / 23.5) - log(4.5 / 30.5) = -0.83789; var = 1/1.5 + 1/4.5 = 0.88889; z = -0.88871
    assert (green["count_zh"], green["count_en"], green["per_10k_zh"]) == (0, 3, 0.0)
    assert green["ci_low_zh"] == 0.0 and green["ci_high_zh"] == pytest.approx(3.68888 * 1000, abs=0.01)
    assert green["z"] == pytest.approx(-0.888712, abs=1e-6)
    assert green["status"] == "en_stronger"
    # sovereignty: absent from both -> log_odds = z = 0
    assert (sov["z"], sov["log_odds"], sov["status"]) == (0.0, 0.0, "absent")
    # zh has 10 tokens < min_tokens 15
    assert table["low_data"].all()


def test_z_recomputable_from_each_row(table):
    for _, r in table[table["status"] != "absent"].iterrows():
        a, a0 = r["alpha_w"], r["alpha_0"]
        delta = (math.log((r["count_zh"] + a) / (r["tokens_zh"] + a0 - r["count_zh"] - a))
                 - math.log((r["count_en"] + a) / (r["tokens_en"] + a0 - r["count_en"] - a)))
        z = delta / math.sqrt(1 / (r["count_zh"] + a) + 1 / (r["count_en"] + a))
        assert r["z"] == pytest.approx(z, rel=1e-12)
        assert r["diff"] == pytest.approx(r["per_10k_zh"] - r["per_10k_en"])


def test_corpus_prior_and_fixed_alpha_0():
    matches = match_themes(TOKENS, CODEBOOK, 0)
    docs = X.bilingual_documents(INDEX, TOKENS)
    t = X.compare_themes(TOKENS, matches, CODEBOOK, docs, prior="corpus", alpha_0=100).set_index("theme")
    # corpus: economy matched 4 + 2 + 1 (d2) = 7 times in 10 + 20 + 2 = 32 kept tokens -> alpha_w = 100 * 7/32
    assert t.loc["economy", "alpha_w"] == pytest.approx(100 * 7 / 32)
    # sovereignty: corpus share 0 -> alpha_w 0 -> absent, z = 0
    assert t.loc["sovereignty", "z"] == 0.0
    with pytest.raises(ValueError, match="prior"):
        X.compare_themes(TOKENS, matches, CODEBOOK, docs, prior="uniform")


def test_no_bilingual_document_gives_empty_tables():
    en_only = TOKENS[TOKENS["doc_id"] == "d2"]
    docs = X.bilingual_documents(INDEX[INDEX["doc_id"] == "d2"], en_only)
    assert docs.empty
    out = X.compare_themes(en_only, match_themes(en_only, CODEBOOK, 0), CODEBOOK, docs)
    assert out.empty and "z" in out.columns
    assert X.alignment_table({}, match_themes(en_only, CODEBOOK, 0), CODEBOOK).empty


# ---- codebook check ----------------------------------------------------------------------------


def test_codebook_check_lists_one_sided_themes_and_pairs():
    texts = {"d1": {"zh": ["".join(ZH[0])], "en": [" ".join(EN[0])]}}
    matches = match_themes(TOKENS, CODEBOOK, 0)
    align = X.alignment_table(texts, matches, CODEBOOK, length_ratio=4.0)
    c = X.codebook_check(matches, CODEBOOK, align).set_index("theme")
    assert c.loc["economy", "matched_zh"] == "经济 (4)" and c.loc["economy", "matched_en"] == "economy (2)"
    assert c.loc["economy", "note"] == "matched in both"
    # d2 (English only) is not a bilingual document: its "economy" does not count
    assert c.loc["economy", "count_en"] == 2
    assert c.loc["green", "matched_zh"] == "" and c.loc["green", "pairs_only_en"] == "d1 #0: green"
    assert c.loc["green", "note"] == "matched in en only: check the zh terms; one-sided in 1 aligned pair(s)"
    assert c.loc["sovereignty", "note"] == "matched in neither"


# ---- trends ------------------------------------------------------------------------------------


def freq_table():
    """Invented theme_frequencies.csv: themes A, B, C; zh and en in 2017 and 2019, en only in 2018, both in 2020."""
    rows = []
    rates = {(2017, "zh"): [1, 2, 3], (2017, "en"): [10, 30, 20], (2018, "en"): [5, 5, 5],
             (2019, "zh"): [0, 4, 8], (2019, "en"): [0, 2, 9], (2020, "zh"): [3, 1, 2], (2020, "en"): [3, 1, 2]}
    tokens = {"zh": 1000, "en": 2000}
    for (year, lang), values in rates.items():
        n = 300 if (year, lang) == (2020, "zh") else tokens[lang]
        for theme, v in zip("ABC", values):
            rows.append({"year": year, "lang": lang, "theme": theme, "count": v, "tokens": n, "per_10k": v * 10000 / n,
                         "ci_low": 0.0, "ci_high": 1.0})
    return pd.DataFrame(rows)


def test_spearman_exact_by_hand():
    # ranks (1, 2, 3) vs (1, 3, 2): rho = 1 - 6 * (0 + 1 + 1) / (3 * 8) = 0.5; of the 6 pairings
    # rho = 1, .5, .5, -.5, -.5, -1: all have |rho| >= 0.5 -> p = 1
    assert spearman([1, 2, 3], [10, 30, 20]) == pytest.approx((0.5, 1.0))
    # perfect agreement: |rho| = 1 for 2 of 6 pairings -> p = 1/3
    assert spearman([1, 2, 3], [2, 4, 9]) == pytest.approx((1.0, 1 / 3))
    rho, p = spearman([1, 2, 3], [5, 5, 5])
    assert math.isnan(rho) and math.isnan(p)


def test_trend_agreement_by_hand():
    codebook = [Theme(t, {"en": t}) for t in "ABC"]
    index = pd.DataFrame({"doc_id": ["a", "a", "b"], "year": [2017, 2017, 2017], "lang": ["zh", "en", "en"]})
    t = X.trend_agreement(freq_table(), codebook, min_tokens=500, index=index)
    years = t[t["scope"] == "year"].set_index("year")
    assert years.index.tolist() == [2017, 2019, 2020]  # 2018 has no Chinese text
    assert (years.loc[2017, "spearman_rho"], years.loc[2017, "p_value"]) == pytest.approx((0.5, 1.0))
    assert years.loc[2017, "note"] == "en only: b"
    # 2019: theme A is 0 in both languages and left out: n_themes = 2, (4, 8) vs (2, 9) -> rho = 1
    assert years.loc[2019, "n_themes"] == 2 and years.loc[2019, "spearman_rho"] == pytest.approx(1.0)
    # 2020: zh has 300 tokens < 500
    assert bool(years.loc[2020, "low_data"]) and years.loc[2020, "note"].startswith("low data: zh 300")
    assert not years.loc[2017, "low_data"]
    themes = t[t["scope"] == "theme"].set_index("theme")
    # theme C across 2017, 2019, 2020: zh per_10k 30, 80, 66.7 vs en 100, 45, 10 -> ranks (1,3,2) vs (3,2,1): rho = -0.5
    assert themes.loc["C", "spearman_rho"] == pytest.approx(-0.5)
    assert themes.loc["C", "n_years"] == 3 and themes.loc["C", "note"] == "low-data years included: 2020"
    few = X.trend_agreement(freq_table(), codebook, min_years=4).set_index("theme")
    assert few.loc["A", "note"].startswith("too few years with both languages (3 < 4)")
    assert math.isnan(few.loc["A", "spearman_rho"])


# ---- figure ------------------------------------------------------------------------------------


def test_chart_renders_every_glyph(table, tmp_path):
    setup_fonts()
    t = table.reset_index()
    two_docs = pd.concat([t, t.assign(doc_id="d3", year=2021, tokens_zh=800, tokens_en=900)], ignore_index=True)
    fig = crosslingual_chart(two_docs, CODEBOOK, z_threshold=0.85, min_tokens=15)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*missing from font.*")
        png, svg = save_figure(fig, tmp_path / "crosslingual_themes", dpi=60)
    img = mpimg.imread(png)[..., :3]
    assert (img < 0.95).any(axis=-1).mean() > 0.02
    assert svg.stat().st_size > 1000


def test_chart_keeps_the_last_max_docs_and_says_so(table):
    t = table.reset_index()
    three = pd.concat([t, t.assign(doc_id="d3", year=2021), t.assign(doc_id="d0", year=2015)], ignore_index=True)
    fig = crosslingual_chart(three, CODEBOOK, max_docs=2)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert len(titles) == 2 and "d0" not in " ".join(titles)  # d0 (2015) is the oldest
    assert "the last 2 of 3 bilingual documents" in fig._suptitle.get_text()
    matplotlib.pyplot.close(fig)


def test_chart_with_no_bilingual_document(tmp_path):
    setup_fonts()
    empty = X.compare_themes(TOKENS.iloc[:0], match_themes(TOKENS.iloc[:0], CODEBOOK, 0), CODEBOOK,
                             pd.DataFrame(columns=["doc_id", "year"]))
    png, _ = save_figure(crosslingual_chart(empty, CODEBOOK), tmp_path / "empty", dpi=50)
    assert png.exists()


def test_length_ratio_auto_is_the_median_over_documents():
    texts = {"a": {"zh": ["数" * 10], "en": ["x" * 40]}, "b": {"zh": ["数" * 10], "en": ["x" * 50]},
             "c": {"zh": ["数" * 2], "en": ["x" * 400]}}
    # ratios 4, 5, 200 -> median 5 (the truncated third document does not drag it)
    assert A.auto_length_ratio(texts, "zh", "en") == 5.0
    assert np.isfinite(length_cost(1, 5, 5.0, 8.0))


def _align_cell_by_cell(paras_a, paras_b, lang_a="zh", lang_b="en", length_ratio=4.0, length_variance=8.0,
                        anchor_weight=5.0, bead_priors=None):
    """The aligner's definition, one cell and one bead at a time (the reference of the vectorised one)."""
    priors = {**A.BEAD_PRIORS, **(bead_priors or {})}
    lens_a, lens_b = [A.paragraph_length(p) for p in paras_a], [A.paragraph_length(p) for p in paras_b]
    anc_a, anc_b = [A.anchors(p, lang_a) for p in paras_a], [A.anchors(p, lang_b) for p in paras_b]
    shared = set().union(*anc_a) & set().union(*anc_b)
    anc_a, anc_b = [s & shared for s in anc_a], [s & shared for s in anc_b]
    n, m = len(paras_a), len(paras_b)
    total = np.full((n + 1, m + 1), np.inf)
    total[0, 0] = 0.0
    back = {}
    for i in range(n + 1):
        for j in range(m + 1):
            for da, db in A.BEADS:
                if da > i or db > j or not np.isfinite(total[i - da, j - db]):
                    continue
                length = (length_cost(sum(lens_a[i - da:i]), sum(lens_b[j - db:j]), length_ratio, length_variance)
                          if da and db else 0.0)
                cost = (length + anchor_weight * dice_distance(set().union(*anc_a[i - da:i]),
                                                                 set().union(*anc_b[j - db:j]))
                        - np.log(priors[f"{da}-{db}"]))
                if total[i - da, j - db] + cost < total[i, j]:
                    total[i, j] = total[i - da, j - db] + cost
                    back[i, j] = (da, db, cost)
    beads, i, j = [], n, m
    while i or j:
        da, db, cost = back[i, j]
        beads.append((tuple(range(i - da, i)), tuple(range(j - db, j)), cost))
        i, j = i - da, j - db
    return beads[::-1]


def _anchors_word_by_word(text, lang, unspaced_languages=("zh", "ja")):
    out = {str(int(n)) if n.isdigit() else n for n in A.NUMBER.findall(text)}
    out |= {str(A.zh_numeral(next(g for g in m.groups() if g))) for m in A.ZH_ENUM.finditer(text)}
    for word in A.LATIN.findall(text):
        if word.lower() in A.MONTHS:
            out.add(str(A.MONTHS[word.lower()]))
        elif lang in unspaced_languages or sum(c.isupper() for c in word) >= 2 or any(c.isdigit() for c in word):
            out.add(word.upper())
    return out


@pytest.mark.parametrize("seed", range(40))
def test_vectorised_aligner_equals_the_cell_by_cell_definition(seed):
    """Same beads and bit-identical costs on random paragraph lists (repeated paragraphs force ties,
    empty ones zero lengths), with random length ratios, weights and priors."""
    rng = np.random.default_rng(seed)
    words = ["AI", "5G", "GDI", "November", "may", "forum", "2024", "3.5", "1.", "Trade", "eCommerce", "x",
             "(一)", "二、", "第三", "合作", "经济", "11月", "RDI", "Belt"]

    def paras(k):
        pool = [" ".join(rng.choice(words, rng.integers(0, 12))) for _ in range(max(1, k // 2))]
        return [pool[rng.integers(len(pool))] for _ in range(k)]

    zh, en = paras(int(rng.integers(0, 14))), paras(int(rng.integers(0, 14)))
    kw = {"length_ratio": float(rng.choice([1.0, 2.5, 4.0])), "length_variance": float(rng.choice([2.0, 8.0])),
          "anchor_weight": float(rng.choice([0.0, 1.0, 5.0]))}
    if seed % 3 == 0:
        kw["bead_priors"] = {"1-1": 0.5, "1-0": 0.1, "0-1": 0.1, "2-1": 0.15, "1-2": 0.15}
    got = [(b.a, b.b, b.cost) for b in A.align_paragraphs(zh, en, **kw)]
    assert got == _align_cell_by_cell(zh, en, **kw)
    for p in zh + en:
        for lang in ("zh", "en"):
            assert A.anchors(p, lang) == _anchors_word_by_word(p, lang)


def test_vectorised_aligner_breaks_ties_in_bead_order():
    """Empty paragraphs cost only their prior: with 2-1 and 1-2 equally likely, paths tie everywhere."""
    priors = {"1-1": 0.01, "1-0": 0.01, "0-1": 0.01, "2-1": 0.3, "1-2": 0.3}
    for n, m in [(3, 3), (4, 5), (6, 3), (2, 7)]:
        got = [(b.a, b.b, b.cost) for b in A.align_paragraphs([""] * n, [""] * m, bead_priors=priors)]
        assert got == _align_cell_by_cell([""] * n, [""] * m, bead_priors=priors)
