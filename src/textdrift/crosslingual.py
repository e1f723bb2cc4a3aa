"""Across languages: does the Chinese text say what the English one says?

For every document that exists in both languages of a pair (default ``langs = (zh, en)``; the
first language is side *a*, the second side *b*; column suffixes are the language codes) this
module compares the two versions theme by theme, aligns their paragraphs, checks the bilingual
codebook for one-sided themes, and compares the theme profiles of the two languages year by year.

1. Theme shares per document (``crosslingual_themes.csv``)
------------------------------------------------------------
For document d, language l and theme t: ``count`` = codebook matches of t in the text
(:func:`textdrift.themes.match_themes`, every match counts once), ``tokens`` = kept tokens
(``keep``: not stop word, punctuation or number), ``per_10k = count / tokens * 10000``, and the
exact Poisson interval of :func:`textdrift.themes.poisson_ci` (Garwood 1936) scaled the same way.
``diff = per_10k_a - per_10k_b``.

Test (weighted log-odds ratio with an informative Dirichlet prior, Monroe, Colaresi & Quinn 2008,
eqs. 16, 18-22, via :func:`textdrift.phrases.log_odds_dirichlet`): within each language a token
is either a theme match or "the rest", y_l = count_l, n_l = tokens_l::

    p_t      = prior share of theme t:  "pair":   (y_a + y_b) / (n_a + n_b)    (the document pair pooled)
                                        "corpus": theme t's matches / kept tokens over every
                                                  document of the two languages
    alpha_0  = prior weight in pseudo-tokens; "auto" = median(n_a, n_b) (the prior weighs one
               typical text of the pair, as "auto" in phrases.compare_groups)
    alpha_w  = alpha_0 * p_t
    log_odds = log((y_a + alpha_w) / (n_a + alpha_0 - y_a - alpha_w))
             - log((y_b + alpha_w) / (n_b + alpha_0 - y_b - alpha_w))
    var      = 1 / (y_a + alpha_w) + 1 / (y_b + alpha_w)
    z        = log_odds / sqrt(var)

so z > 0 means theme t is relatively more frequent in language a (Chinese). ``status``:
``{a}_stronger`` if z >= ``z_threshold``, ``{b}_stronger`` if z <= -``z_threshold``, ``absent`` if
both counts are 0 (then alpha_w = 0 under the pair prior and the formula is 0/0: log_odds and z are
set to 0), else ``similar``. z is recomputed from count_a, tokens_a, count_b, tokens_b, alpha_w
and alpha_0 of its row. ``low_data``: either text has fewer than ``min_tokens`` kept tokens.
``paragraphs``: ``"all"`` (default) compares the whole texts; ``"aligned"`` only the paragraphs that
the aligner (section 2) pairs with a paragraph of the other language (1-1, 2-1, 1-2 beads), so
a Chinese version that renders only part of the English text is compared with that part.

2. Paragraph alignment (``crosslingual_alignment.csv``)
---------------------------------------------------------
Dynamic programming over the paragraphs (lines of the clean texts) in order, after Gale & Church
(1993), with beads 1-1, 1-0, 0-1, 2-1 and 1-2 (a-paragraphs - b-paragraphs). The cost of a bead
with l_a, l_b non-space characters and anchor sets A, B is::

    c        = length_ratio: b characters per a character; "auto" = the median over the
               bilingual documents of (characters of b) / (characters of a)
    delta    = (l_b - c * l_a) / sqrt(s2 * (l_a + l_b / c) / 2)          (s2 = length_variance)
    length   = -log(2 * (1 - Phi(|delta|)))      for 1-1, 2-1, 1-2;  0 for 1-0 and 0-1
    anchors  = 1 - 2 |A & B| / (|A| + |B|)  (Dice distance; 0 when A and B are both empty,
                                             1 for a 1-0/0-1 bead whose paragraph has anchors)
    cost     = length + anchor_weight * anchors - log(bead_priors[bead])

Unlike Gale & Church, a paragraph left without counterpart (1-0, 0-1) pays no length cost: its
length says nothing about whether the other version renders it, and with the length term an
omitted paragraph of a few hundred characters costs ~50 nats and is forced into a neighbour's
2-1 bead instead of being reported as missing.
Phi is the standard normal CDF. Anchors of a paragraph: its numbers (digit runs such as 2030,
"1." item numbers, decimals), Chinese enumeration numerals ("(一)", "一、", "第三" -> 1, 1, 3),
English month names (November -> 11, to meet 11月), and Latin names: acronyms (two or more
capitals, or letters with digits: AI, GDI, 5G) in every language, any Latin word in an unspaced
language. Only anchors that occur somewhere in *both* versions of the document count, so an
acronym the other version spells out (GDI / 全球发展倡议) is no evidence either way. The
alignment is the path of least total cost; ``cost`` of a pair is its bead's cost. For each
aligned pair, ``themes_a``/``themes_b`` are the themes matched in its paragraphs and
``only_a``/``only_b`` those matched on one side only.

3. Codebook check (``crosslingual_codebook_check.csv``)
---------------------------------------------------------
Pooled over the bilingual documents (whole texts, whatever ``paragraphs``), per theme: the terms that
matched in each language with their counts (``matched_{lang}``), the aligned pairs (paragraphs on
both sides) where the theme matched on one side only, with the terms that matched there
(``pairs_only_{lang}``), and a note: matched in both / in one language only / in neither, how
many pairs are one-sided, and (for a theme matched in both overall) the documents where it matched
in one language only. A theme or a pair that matches on one side only points at a missing or
ill-fitting translation in the codebook (or a free translation) before it points at a difference
of content.

4. Trends side by side (``crosslingual_trends.csv``, from ``theme_frequencies.csv``)
-------------------------------------------------------------------------------------
``scope = year``: for each year where both languages have text, Spearman's rank correlation
between the a and b rates (per_10k) across the themes that occur in at least one of the two
(themes absent from both are left out: they would agree trivially). ``scope = theme``: for each
theme, the correlation across the years with both languages, when there are at least
``min_years``. p-values: exact (two-sided, all n! pairings, share with |rho| >= observed) for
n <= ``exact_max_n``, else the t approximation of :func:`scipy.stats.spearmanr`. ``low_data``:
a year with fewer than ``min_tokens`` kept tokens in either language is involved. ``note`` also
names the documents of a year that exist in one language only (the two year-documents then do not
hold the same texts: in 2022 the English year has a white paper the Chinese year lacks).
The drift of each language (``tfidf_drift.csv``) already lists both languages side by side.

Limits. A translation is not word-for-word: per-token rates compare jieba words with English
lemmas (Chinese has fewer kept tokens for the same content, ~0.8 per English token here, which
alone raises Chinese rates by ~1.2x), a theme can be rendered by words outside the codebook,
and short texts leave wide intervals.

Gale, W. A. & Church, K. W. (1993). A program for aligning sentences in bilingual corpora.
Computational Linguistics 19(1), 75-102.
Monroe, B. L., Colaresi, M. P. & Quinn, K. M. (2008). Fightin' words. Political Analysis 16(4), 372-403.
Garwood, F. (1936). Fiducial limits for the Poisson distribution. Biometrika 28(3/4), 437-442.
"""

from __future__ import annotations

import itertools
import logging
import re
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.special import log_ndtr
from scipy.stats import rankdata, spearmanr

from textdrift.io import read_csv, read_paragraphs, write_csv
from textdrift.phrases import log_odds_dirichlet
from textdrift.themes import (MATCH_COLUMNS, PARA_COLUMNS, UNSPACED, Theme, load_codebook, poisson_ci, read_matches,
                              read_shards)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

log = logging.getLogger("textdrift.crosslingual")

LANGS = ("zh", "en")
BEADS = ((1, 1), (1, 0), (0, 1), (2, 1), (1, 2))
# Gale & Church (1993), table 5: 1-1 .89, 1-0 or 0-1 .0099, 2-1 or 1-2 .089 (split evenly here).
BEAD_PRIORS = {"1-1": 0.89, "1-0": 0.00495, "0-1": 0.00495, "2-1": 0.0445, "1-2": 0.0445}
ZH_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")}
MONTHS = {m: i for i, m in enumerate(["january", "february", "march", "april", "may", "june", "july", "august",
                                      "september", "october", "november", "december"], 1)}
ZH_ENUM = re.compile(r"[(（]([零一二三四五六七八九十]+)[)）]|^([零一二三四五六七八九十]+)[、.．]|第([零一二三四五六七八九十]+)")
NUMBER = re.compile(r"(?<![A-Za-z0-9])\d+(?:\.\d+)?(?![A-Za-z0-9])")  # not the 5 of 5G
LATIN = re.compile(r"[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*")


def _columns(a: str, b: str) -> dict[str, list[str]]:
    side = ["count", "tokens", "per_10k", "ci_low", "ci_high"]
    return {
        "themes": ["doc_id", "year", "theme", *(f"{c}_{a}" for c in side), *(f"{c}_{b}" for c in side),
                   "diff", "alpha_w", "alpha_0", "log_odds", "z", "status", "low_data"],
        "alignment": ["doc_id", "pair", f"{a}_paras", f"{b}_paras", f"{a}_text", f"{b}_text", "cost",
                      f"themes_{a}", f"themes_{b}", f"only_{a}", f"only_{b}"],
        "codebook": ["theme", f"count_{a}", f"count_{b}", f"matched_{a}", f"matched_{b}", f"pairs_only_{a}",
                     f"pairs_only_{b}", "note"],
        "trends": ["scope", "year", "theme", f"tokens_{a}", f"tokens_{b}", "n_themes", "n_years", "spearman_rho",
                   "p_value", "low_data", "note"],
    }


# ---- alignment --------------------------------------------------------------------------------


def zh_numeral(s: str) -> int:
    """Value of a Chinese numeral up to 99 (一 -> 1, 十 -> 10, 十五 -> 15, 二十三 -> 23)."""
    if "十" not in s:
        return int("".join(str(ZH_DIGITS[c]) for c in s))
    tens, _, units = s.partition("十")
    return (ZH_DIGITS[tens] if tens else 1) * 10 + (ZH_DIGITS[units] if units else 0)


def anchors(text: str, lang: str, unspaced_languages=UNSPACED) -> set[str]:
    """Numbers, enumeration numerals, month numbers and Latin names of a paragraph (see the docstring)."""
    out = {str(int(n)) if n.isdigit() else n for n in NUMBER.findall(text)}
    out |= {str(zh_numeral(next(g for g in m.groups() if g))) for m in ZH_ENUM.finditer(text)}
    unspaced = lang in unspaced_languages
    for word in set(LATIN.findall(text)):  # the result is a set: each distinct word is enough
        low = word.lower()
        if low in MONTHS:
            out.add(str(MONTHS[low]))
        # LATIN words are ASCII letters and digits with a letter: not isalpha() = has a digit
        elif unspaced or not word.isalpha() or (word != low and sum(c.isupper() for c in word) >= 2):
            out.add(word.upper())
    return out


def paragraph_length(text: str) -> int:
    """Characters of a paragraph, white space excluded."""
    return len(re.sub(r"\s", "", text))


def length_cost(len_a: float, len_b: float, ratio: float, variance: float) -> float:
    """Gale & Church's length cost: -log of the two-sided normal tail of delta."""
    if len_a == 0 and len_b == 0:
        return 0.0
    delta = (len_b - ratio * len_a) / np.sqrt(variance * (len_a + len_b / ratio) / 2)
    return float(-np.log(2) - log_ndtr(-abs(delta)))  # log_ndtr(-x) is scipy's norm.logsf(x), minus its overhead


def _length_costs(len_a: np.ndarray, len_b: np.ndarray, ratio: float, variance: float) -> np.ndarray:
    """:func:`length_cost` of every pair (len_a[i], len_b[j]), elementwise with the same arithmetic."""
    la, lb = np.asarray(len_a, float)[:, None], np.asarray(len_b, float)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = (lb - ratio * la) / np.sqrt(variance * (la + lb / ratio) / 2)
        out = -np.log(2) - log_ndtr(-np.abs(delta))
    return np.where((la == 0) & (lb == 0), 0.0, out)


def dice_distance(x: set, y: set) -> float:
    """1 - 2|x & y| / (|x| + |y|); 0 when both are empty."""
    return 1 - 2 * len(x & y) / (len(x) + len(y)) if x or y else 0.0


def _dice_distances(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """:func:`dice_distance` of every pair of rows of the 0/1 membership matrices x (n, v) and y (m, v)."""
    inter = x @ y.T
    size = x.sum(axis=1)[:, None] + y.sum(axis=1)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 1 - 2 * inter / size
    return np.where(size > 0, out, 0.0)


@dataclass(frozen=True)
class Bead:
    """One aligned unit: paragraph indices on each side (either may be empty) and its cost."""

    a: tuple[int, ...]
    b: tuple[int, ...]
    cost: float


def _bead_costs(paras_a, paras_b, lang_a, lang_b, length_ratio, length_variance, anchor_weight, priors,
                unspaced_languages) -> dict[tuple[int, int], np.ndarray]:
    """Cost of every bead of each shape (da, db), indexed by the first paragraph of each side.

    ``costs[da, db][i, j]`` is the cost of the bead of a-paragraphs i..i+da-1 and b-paragraphs
    j..j+db-1 (1-0: ``costs[1, 0][i]``, 0-1: ``costs[0, 1][j]``), computed elementwise with the
    arithmetic of the cell-by-cell definition (length + anchor_weight * dice - log prior).
    """
    lens_a = np.array([paragraph_length(p) for p in paras_a], dtype=np.int64)
    lens_b = np.array([paragraph_length(p) for p in paras_b], dtype=np.int64)
    anc_a = [anchors(p, lang_a, unspaced_languages) for p in paras_a]
    anc_b = [anchors(p, lang_b, unspaced_languages) for p in paras_b]
    shared = sorted(set().union(*anc_a) & set().union(*anc_b))
    col = {s: k for k, s in enumerate(shared)}
    mat_a = np.zeros((len(paras_a), len(shared)), dtype=np.int64)
    mat_b = np.zeros((len(paras_b), len(shared)), dtype=np.int64)
    for mat, anc in ((mat_a, anc_a), (mat_b, anc_b)):
        for i, s in enumerate(anc):
            mat[i, [col[x] for x in s if x in col]] = 1
    # two consecutive paragraphs: the sum of their lengths and the union of their anchors
    lens_a2, lens_b2 = lens_a[:-1] + lens_a[1:], lens_b[:-1] + lens_b[1:]
    mat_a2, mat_b2 = mat_a[:-1] | mat_a[1:], mat_b[:-1] | mat_b[1:]
    none = np.zeros((1, len(shared)), dtype=np.int64)
    lp = {(da, db): np.log(priors[f"{da}-{db}"]) for da, db in BEADS}
    return {
        (1, 1): (_length_costs(lens_a, lens_b, length_ratio, length_variance)
                 + anchor_weight * _dice_distances(mat_a, mat_b)) - lp[1, 1],
        (2, 1): (_length_costs(lens_a2, lens_b, length_ratio, length_variance)
                 + anchor_weight * _dice_distances(mat_a2, mat_b)) - lp[2, 1],
        (1, 2): (_length_costs(lens_a, lens_b2, length_ratio, length_variance)
                 + anchor_weight * _dice_distances(mat_a, mat_b2)) - lp[1, 2],
        (1, 0): (0.0 + anchor_weight * _dice_distances(mat_a, none)[:, 0]) - lp[1, 0],
        (0, 1): (0.0 + anchor_weight * _dice_distances(mat_b, none)[:, 0]) - lp[0, 1],
    }


def align_paragraphs(
    paras_a: list[str],
    paras_b: list[str],
    lang_a: str = "zh",
    lang_b: str = "en",
    length_ratio: float = 4.0,
    length_variance: float = 8.0,
    anchor_weight: float = 5.0,
    bead_priors: dict[str, float] | None = None,
    unspaced_languages=UNSPACED,
) -> list[Bead]:
    """Least-cost alignment of two paragraph lists (Gale & Church 1993 + shared anchors), in text order.

    The bead costs are computed for every cell at once (:func:`_bead_costs`); the dynamic programme
    then runs row by row: the beads from the two previous rows (1-1, 1-0, 2-1, 1-2) are vectorised
    over the row, the 0-1 bead (from the cell to the left) is taken cell by cell. Ties go to the
    first bead in ``BEADS`` order (1-1, 1-0, 0-1, 2-1, 1-2), as a strict ``<`` over that order.
    """
    priors = {**BEAD_PRIORS, **(bead_priors or {})}
    n, m = len(paras_a), len(paras_b)
    costs = _bead_costs(paras_a, paras_b, lang_a, lang_b, length_ratio, length_variance, anchor_weight, priors,
                        unspaced_languages)
    inf = np.inf
    total = np.full((n + 1, m + 1), inf)
    back = np.full((n + 1, m + 1), -1, dtype=np.int64)  # index into BEADS, -1: unreachable / origin
    cost01 = costs[0, 1].tolist()
    k01 = BEADS.index((0, 1))
    for i in range(n + 1):
        # candidates from earlier rows, in BEADS order: 1-1, 1-0 | (0-1 from this row) | 2-1, 1-2
        first = np.full((2, m + 1), inf)
        later = np.full((2, m + 1), inf)
        if i >= 1:
            prev = total[i - 1]
            first[0, 1:] = prev[:-1] + costs[1, 1][i - 1]
            first[1, :] = prev + costs[1, 0][i - 1]
            first[0, 1:][~np.isfinite(prev[:-1])] = inf
            first[1, :][~np.isfinite(prev)] = inf
            if m >= 2:
                later[1, 2:] = prev[:-2] + costs[1, 2][i - 1]
                later[1, 2:][~np.isfinite(prev[:-2])] = inf
        if i >= 2:
            prev2 = total[i - 2]
            later[0, 1:] = prev2[:-1] + costs[2, 1][i - 2]
            later[0, 1:][~np.isfinite(prev2[:-1])] = inf
        first[np.isnan(first)] = inf
        later[np.isnan(later)] = inf
        k_first = np.where(first[1] < first[0], 1, 0)  # a strict < keeps the earlier bead on ties
        v_first = np.where(k_first == 1, first[1], first[0]).tolist()
        k_later = np.where(later[1] < later[0], 4, 3)
        v_later = np.where(k_later == 4, later[1], later[0]).tolist()
        k_first, k_later = k_first.tolist(), k_later.tolist()
        row, row_back = [inf] * (m + 1), [-1] * (m + 1)
        if i == 0:
            row[0] = 0.0
        left = row[0]
        for j in range(m + 1):
            v, k = v_first[j], k_first[j]
            if not v < inf:
                k = -1
            if j and left < inf:
                c = left + cost01[j - 1]
                if c < v:
                    v, k = c, k01
            if v_later[j] < v:
                v, k = v_later[j], k_later[j]
            if k >= 0:
                row[j], row_back[j] = v, k
            left = row[j]
        total[i] = row
        back[i] = row_back
    beads = []
    i, j = n, m
    while i or j:
        k = int(back[i, j])
        if k < 0:
            raise KeyError((i, j))
        da, db = BEADS[k]
        cost = costs[da, db][i - da] if db == 0 else costs[da, db][j - db] if da == 0 else costs[da, db][i - da, j - db]
        beads.append(Bead(tuple(range(i - da, i)), tuple(range(j - db, j)), cost))
        i, j = i - da, j - db
    return beads[::-1]


def auto_length_ratio(texts: dict[str, dict[str, list[str]]], a: str, b: str) -> float:
    """Median over documents of (characters of b) / (characters of a); ``texts[doc][lang]`` = paragraphs."""
    ratios = [sum(map(paragraph_length, t[b])) / sum(map(paragraph_length, t[a])) for t in texts.values()]
    return float(np.median(ratios))


def _names(themes: set[str], order: dict[str, int]) -> str:
    return ";".join(sorted(themes, key=order.get))


def alignment_table(texts: dict[str, dict[str, list[str]]], matches: pd.DataFrame, codebook: list[Theme],
                    langs=LANGS, length_ratio: float | str = "auto", length_variance: float = 8.0,
                    anchor_weight: float = 5.0, bead_priors: dict[str, float] | None = None,
                    unspaced_languages=UNSPACED) -> pd.DataFrame:
    """One row per bead of every document in ``texts`` (both languages), with the themes of each side."""
    a, b = langs
    cols = _columns(a, b)["alignment"]
    if not texts:
        return pd.DataFrame(columns=cols)
    ratio = auto_length_ratio(texts, a, b) if length_ratio == "auto" else float(length_ratio)
    log.info("alignment length ratio (%s chars per %s char): %.3f", b, a, ratio)
    order = {t.id: i for i, t in enumerate(codebook)}
    found = matches.groupby(["doc_id", "lang", "para"])["theme"].agg(set).to_dict()
    rows = []
    for doc, t in texts.items():
        beads = align_paragraphs(t[a], t[b], a, b, ratio, length_variance, anchor_weight, bead_priors,
                                 unspaced_languages)
        for k, bead in enumerate(beads):
            th_a = set().union(*(found.get((doc, a, p), set()) for p in bead.a))
            th_b = set().union(*(found.get((doc, b, p), set()) for p in bead.b))
            rows.append([doc, k, ";".join(map(str, bead.a)), ";".join(map(str, bead.b)),
                         "\n".join(t[a][p] for p in bead.a), "\n".join(t[b][p] for p in bead.b), bead.cost,
                         _names(th_a, order), _names(th_b, order), _names(th_a - th_b, order),
                         _names(th_b - th_a, order)])
    return pd.DataFrame(rows, columns=cols)


# ---- theme comparison -------------------------------------------------------------------------


def compare_themes(tokens: pd.DataFrame, matches: pd.DataFrame, codebook: list[Theme], docs: pd.DataFrame,
                   langs=LANGS, conf: float = 0.95, prior: str = "pair", alpha_0: float | str = "auto",
                   z_threshold: float = 1.96, min_tokens: int = 500) -> pd.DataFrame:
    """Per (bilingual document, theme): rates in both languages with intervals, diff, log-odds z, status.

    ``docs``: one row per document to compare (``doc_id``, ``year``). ``tokens``/``matches`` hold
    the tokens and matches to count (already restricted to aligned paragraphs for paragraphs="aligned");
    the "corpus" prior is taken from them too. ``tokens`` is a token table (``keep`` a flag) or
    its kept tokens per paragraph (``themes.paragraph_tokens``: ``keep`` a count): ``keep`` is
    summed. See the module docstring for the formulas.
    """
    a, b = langs
    if prior not in ("pair", "corpus"):
        raise ValueError(f"prior must be 'pair' or 'corpus', not {prior!r}")
    themes = [t.id for t in codebook]
    kept = tokens[tokens["keep"].astype(bool) & tokens["lang"].isin(langs)]
    n_tok = kept.groupby(["doc_id", "lang"])["keep"].sum()
    counts = matches.groupby(["doc_id", "lang", "theme"]).size()
    corpus_share = (matches[matches["lang"].isin(langs)].groupby("theme").size().reindex(themes, fill_value=0)
                    / max(int(kept["keep"].sum()), 1))
    frames = []
    for doc, year in zip(docs["doc_id"], docs["year"]):
        df = pd.DataFrame({"doc_id": doc, "year": int(year), "theme": themes})
        for lang in langs:
            y = counts.reindex(pd.MultiIndex.from_product([[doc], [lang], themes]), fill_value=0).to_numpy()
            n = int(n_tok.get((doc, lang), 0))
            low, high = poisson_ci(y, conf)
            scale = 10000 / n if n else np.nan
            df[f"count_{lang}"], df[f"tokens_{lang}"] = y.astype(np.int64), n
            df[f"per_10k_{lang}"], df[f"ci_low_{lang}"], df[f"ci_high_{lang}"] = y * scale, low * scale, high * scale
        frames.append(df)
    cols = _columns(a, b)["themes"]
    if not frames:
        return pd.DataFrame(columns=cols)
    df = pd.concat(frames, ignore_index=True)
    ya, yb = df[f"count_{a}"].to_numpy(float), df[f"count_{b}"].to_numpy(float)
    na, nb = df[f"tokens_{a}"].to_numpy(float), df[f"tokens_{b}"].to_numpy(float)
    df["diff"] = df[f"per_10k_{a}"] - df[f"per_10k_{b}"]
    share = (ya + yb) / (na + nb) if prior == "pair" else corpus_share.reindex(df["theme"]).to_numpy(float)
    df["alpha_0"] = np.median([na, nb], axis=0) if alpha_0 == "auto" else float(alpha_0)
    df["alpha_w"] = df["alpha_0"] * share
    with np.errstate(divide="ignore", invalid="ignore"):
        delta, _, z = log_odds_dirichlet(yb, ya, df["alpha_w"], df["alpha_0"], nb, na)
    absent = (ya == 0) & (yb == 0)
    df["log_odds"], df["z"] = np.where(absent & (df["alpha_w"] == 0), 0.0, delta), np.where(
        absent & (df["alpha_w"] == 0), 0.0, z)
    df["status"] = np.select([absent, df["z"] >= z_threshold, df["z"] <= -z_threshold],
                             ["absent", f"{a}_stronger", f"{b}_stronger"], default="similar")
    df["low_data"] = (na < min_tokens) | (nb < min_tokens)
    return df[cols]


# ---- codebook check ---------------------------------------------------------------------------


def codebook_check(matches: pd.DataFrame, codebook: list[Theme], alignment: pd.DataFrame, langs=LANGS) -> pd.DataFrame:
    """Per theme: terms matched in each language on the bilingual documents, and where it is one-sided.

    ``alignment`` is :func:`alignment_table`'s output: its documents are the bilingual ones, and
    its pairs with paragraphs on both sides are checked for themes matched on one side only
    (``pairs_only_{lang}``: "doc #pair: the terms that matched").
    """
    a, b = langs
    docs = list(dict.fromkeys(alignment["doc_id"]))
    m = matches[matches["doc_id"].isin(docs) & matches["lang"].isin(langs)]
    by_doc = m.groupby(["theme", "doc_id", "lang"]).size().to_dict()
    # the terms matched at (doc_id, lang, para, theme), in table order
    terms_at: dict[tuple, list[str]] = {}
    for key, term in zip(zip(m["doc_id"], m["lang"], m["para"], m["theme"]), m["term"]):
        terms_at.setdefault(key, []).append(term)
    rows_of = m.groupby(["theme", "lang"], sort=False).indices  # positions in table order
    pairs = alignment[(alignment[f"{a}_paras"] != "") & (alignment[f"{b}_paras"] != "")]
    pair_list = {lang: list(zip(pairs["doc_id"], pairs["pair"], pairs[f"{lang}_paras"],
                                pairs[f"only_{lang}"].fillna("").str.split(";")))
                 for lang in langs}
    rows = []
    for t in codebook:
        terms = {lang: m["term"].iloc[rows_of.get((t.id, lang), [])].value_counts() for lang in langs}
        listed = {lang: "; ".join(f"{term} ({n})" for term, n in terms[lang].items()) for lang in langs}
        one_sided_pairs = {}
        for lang in langs:
            one_sided_pairs[lang] = " | ".join(
                f"{doc} #{pair}: " + ", ".join(dict.fromkeys(
                    term for p in str(paras).split(";")
                    for term in terms_at.get((doc, lang, int(p), t.id), [])))
                for doc, pair, paras, only in pair_list[lang] if t.id in only)
        ca, cb = int(terms[a].sum()), int(terms[b].sum())
        if ca and cb:
            note = "matched in both"
        elif ca or cb:
            one, other = (a, b) if ca else (b, a)
            note = f"matched in {one} only: check the {other} terms" + (
                "" if t.terms.get(other) else f" (the theme has no {other} terms)")
        else:
            note = "matched in neither"
        n_pairs = sum(len(v.split(" | ")) for v in one_sided_pairs.values() if v)
        if n_pairs:
            note += f"; one-sided in {n_pairs} aligned pair(s)"
        docs_one = [f"{doc} ({a} {na}, {b} {nb})" for doc in docs
                    for na, nb in [tuple(int(by_doc.get((t.id, doc, lang), 0)) for lang in langs)]
                    if (na == 0) != (nb == 0)]
        if docs_one and ca and cb:
            note += "; one language only in the whole document " + ", ".join(docs_one)
        rows.append([t.id, ca, cb, listed[a], listed[b], one_sided_pairs[a], one_sided_pairs[b], note])
    return pd.DataFrame(rows, columns=_columns(a, b)["codebook"])


def pair_check(matches: pd.DataFrame, tokens: pd.DataFrame, codebook: list[Theme], docs: pd.DataFrame, langs=LANGS,
               alpha_0: float | str = "auto", z_threshold: float = 1.96, min_tokens: int = 500) -> pd.DataFrame:
    """``codebook_pairs.csv``: each translation pair of the codebook (``pairs:``) counted on both
    sides in the bilingual documents ``docs`` pooled (the rule passes only their aligned
    paragraphs), with ``ratio`` = ((count_a + .5) / tokens_a) / ((count_b + .5) / tokens_b) and the log-odds test of the crosslingual
    themes (pair prior: the two sides pooled; ``alpha_0`` auto = the median of the two token
    counts). A pair whose sides are counted very differently measures the codebook, not the
    texts: ``status`` ``{a}_more`` / ``{b}_more`` (|z| >= z_threshold) means one side's terms are
    broader, or renderings are missing on the other. Unpaired terms get a row each (``status``
    unpaired, their count, ``why``); a theme without pairs one row (``no_pairs``).
    """
    a, b = langs
    ids = set(docs["doc_id"])
    m = matches[matches["doc_id"].isin(ids) & matches["lang"].isin(langs)]
    counts = m.groupby(["theme", "lang", "term"]).size()
    kept = tokens[tokens["doc_id"].isin(ids) & tokens["lang"].isin(langs)]
    n = {lang: int(kept.loc[kept["lang"] == lang, "keep"].sum()) for lang in langs}
    rows = []
    for t in codebook:
        def count(lang, terms):
            return int(sum(counts.get((t.id, lang, term), 0) for term in terms))
        if not t.pairs:
            rows.append({"theme": t.id, "pair": "", "status": "no_pairs",
                         "note": "the theme declares no translation pairs"})
        for j, (sides, note) in enumerate(t.pairs, start=1):
            ya, yb = count(a, sides.get(a, ())), count(b, sides.get(b, ()))
            row = {"theme": t.id, "pair": j, f"terms_{a}": "; ".join(sides.get(a, ())),
                   f"terms_{b}": "; ".join(sides.get(b, ())), f"count_{a}": ya, f"count_{b}": yb,
                   f"tokens_{a}": n[a], f"tokens_{b}": n[b]}
            for lang, y in ((a, ya), (b, yb)):
                row[f"per_10k_{lang}"] = y / n[lang] * 1e4 if n[lang] else np.nan
            share = (ya + yb) / (n[a] + n[b]) if n[a] + n[b] else 0.0
            a0 = float(np.median([n[a], n[b]])) if alpha_0 == "auto" else float(alpha_0)
            if not sides.get(a) or not sides.get(b):
                status, z, lo = "one_sided", np.nan, np.nan
            elif ya == 0 and yb == 0:
                status, z, lo = "absent", np.nan, np.nan
            else:
                with np.errstate(divide="ignore", invalid="ignore"):
                    lo, _, z = log_odds_dirichlet(np.array([yb], float), np.array([ya], float), np.array([a0 * share]),
                                                  np.array([a0]), n[b], n[a])
                lo, z = float(lo[0]), float(z[0])
                status = f"{a}_more" if z >= z_threshold else f"{b}_more" if z <= -z_threshold else "similar"
            row["ratio"] = ((ya + .5) / n[a]) / ((yb + .5) / n[b]) if n[a] and n[b] else np.nan
            row.update({"log_odds": lo, "z": z, "status": status,
                        "low_data": n[a] < min_tokens or n[b] < min_tokens,
                        "note": note if status in ("similar", "absent", "one_sided") else
                        f"{status.split('_')[0]} counted more in the same documents: its terms may be broader, or the "
                        f"other side lacks renderings" + (f"; {note}" if note else "")})
            rows.append(row)
        for lang, term, why in t.unpaired:
            rows.append({"theme": t.id, "pair": "", f"terms_{lang}": term,
                         f"count_{lang}": int(counts.get((t.id, lang, term), 0)), "status": "unpaired", "note": why})
    cols = ["theme", "pair", f"terms_{a}", f"terms_{b}", f"count_{a}", f"count_{b}", f"tokens_{a}", f"tokens_{b}",
            f"per_10k_{a}", f"per_10k_{b}", "ratio", "log_odds", "z", "status", "low_data", "note"]
    return pd.DataFrame(rows, columns=cols)


# ---- trends -----------------------------------------------------------------------------------


def spearman(x, y, exact_max_n: int = 8) -> tuple[float, float]:
    """Spearman's rho and its two-sided p-value (exact over all pairings for n <= exact_max_n)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return np.nan, np.nan
    if len(x) > exact_max_n:
        res = spearmanr(x, y)
        return float(res.statistic), float(res.pvalue)
    rx, ry = rankdata(x), rankdata(y)
    rho = float(np.corrcoef(rx, ry)[0, 1])
    perms = [np.corrcoef(rx, ry[list(p)])[0, 1] for p in itertools.permutations(range(len(y)))]
    return rho, float(np.mean(np.abs(perms) >= abs(rho) - 1e-12))


def trend_agreement(freq: pd.DataFrame, codebook: list[Theme], langs=LANGS, min_tokens: int = 500,
                    min_years: int = 3, exact_max_n: int = 8, index: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rank correlation of the two languages' theme rates: per year across themes, per theme across years.

    With ``index`` (the clean-text index: doc_id, year, lang) a year's note names the documents
    that exist in one language only (the two year-documents then do not hold the same texts).
    """
    a, b = langs
    cols = _columns(a, b)["trends"]
    wide = freq[freq["lang"].isin(langs)].pivot_table(index=["year", "theme"], columns="lang",
                                                      values=["per_10k", "count", "tokens"], aggfunc="first")
    years = sorted(y for y in freq["year"].unique()
                   if {a, b} <= set(freq.loc[freq["year"] == y, "lang"]))
    tokens = freq.groupby(["year", "lang"])["tokens"].max()
    low = {y: tokens[(y, a)] < min_tokens or tokens[(y, b)] < min_tokens for y in years}
    rows = []
    for y in years:
        d = wide.loc[y]
        d = d[(d[("count", a)] > 0) | (d[("count", b)] > 0)]
        rho, p = spearman(d[("per_10k", a)], d[("per_10k", b)], exact_max_n)
        notes = []
        if low[y]:
            notes.append(f"low data: {a} {tokens[(y, a)]}, {b} {tokens[(y, b)]} kept tokens (< {min_tokens})")
        if np.isnan(rho):
            notes.append("no correlation: fewer than 2 themes or one language's rates all equal")
        if index is not None:
            held = {lang: set(index.loc[(index["year"] == y) & (index["lang"] == lang), "doc_id"]) for lang in langs}
            for lang, other in ((a, b), (b, a)):
                if held[lang] - held[other]:
                    notes.append(f"{lang} only: " + ", ".join(sorted(held[lang] - held[other])))
        rows.append(["year", y, "", tokens[(y, a)], tokens[(y, b)], len(d), pd.NA, rho, p, low[y], "; ".join(notes)])
    for t in codebook:
        rho, p, notes = np.nan, np.nan, []
        if len(years) >= min_years:
            d = wide.xs(t.id, level="theme").loc[years]
            rho, p = spearman(d[("per_10k", a)], d[("per_10k", b)], exact_max_n)
            if np.isnan(rho):
                notes.append("no correlation: one language's rates are equal in every year")
        else:
            notes.append(f"too few years with both languages ({len(years)} < {min_years})")
        low_years = [str(y) for y in years if low[y]]
        if low_years:
            notes.append("low-data years included: " + ", ".join(low_years))
        rows.append(["theme", pd.NA, t.id, pd.NA, pd.NA, pd.NA, len(years), rho, p, bool(low_years), "; ".join(notes)])
    out = pd.DataFrame(rows, columns=cols)
    return out.astype({c: "Int64" for c in ["year", f"tokens_{a}", f"tokens_{b}", "n_themes", "n_years"]})


# ---- figure -----------------------------------------------------------------------------------


LANG_COLORS = ("#CC3311", "#0077BB")  # Paul Tol's "vibrant" red and blue: side a, side b


def crosslingual_chart(table: pd.DataFrame, codebook, langs=LANGS, z_threshold: float = 1.96,
                       conf: float = 0.95, min_tokens: int = 500, max_docs: int | None = None) -> Figure:
    """Dumbbell chart: per theme, the rate per 10,000 tokens in each language with its interval; one panel per document.

    ``max_docs``: draw only the last (most recent, by year then doc_id) that many documents and
    say so in the title (``None``: all); the table has every document.

    The two estimates of a theme are joined by a line, black and thick with its z written beside
    it when |z| >= ``z_threshold``, thin grey otherwise. Intervals of a text flagged ``low_data``
    are faint and cut at the panel edge (the x range comes from the estimates and the other
    intervals); a text is low data below ``min_tokens`` kept tokens. Each panel has its own x scale.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from textdrift.figures import lang_name, theme_styles

    a, b = langs
    styles = theme_styles(codebook)
    themes = list(styles)
    docs = table[["doc_id", "year"]].drop_duplicates().sort_values(["year", "doc_id"]).itertuples(index=False)
    docs = list(docs)
    n_docs = len(docs)
    if max_docs is not None and n_docs > max_docs:
        docs = docs[-max_docs:]
    fig, axes = plt.subplots(1, max(1, len(docs)), figsize=(3.6 * max(1, len(docs)) + 3.2, 0.42 * len(themes) + 2.4),
                             sharey=True, layout="constrained", squeeze=False)
    y = np.arange(len(themes))
    for ax, (doc, year) in zip(axes[0], docs):
        d = table[table["doc_id"] == doc].set_index("theme").reindex(themes)
        n = {lang: int(d[f"tokens_{lang}"].iloc[0]) for lang in langs}
        low_side = {lang: n[lang] < min_tokens for lang in langs}
        sig = d["z"].abs().to_numpy() >= z_threshold
        for i in range(len(themes)):
            xa, xb = d[f"per_10k_{a}"].iloc[i], d[f"per_10k_{b}"].iloc[i]
            ax.plot([xa, xb], [y[i], y[i]], color="black" if sig[i] else "#bbbbbb", linewidth=2.4 if sig[i] else 1.0,
                    zorder=1)
        right = 0.0
        for k, (lang, color, dy) in enumerate(zip(langs, LANG_COLORS, (-0.17, 0.17))):
            est = d[f"per_10k_{lang}"].to_numpy(float)
            err = np.vstack([est - d[f"ci_low_{lang}"], d[f"ci_high_{lang}"] - est])
            ax.errorbar(est, y + dy, xerr=err, fmt="none", ecolor=color, elinewidth=0.9, capsize=1.5,
                        alpha=0.3 if low_side[lang] else 0.8, zorder=2)
            ax.plot(est, y, linestyle="none", marker="os"[k], markersize=6, color=color,
                    markerfacecolor=color if k == 0 else "white", markeredgewidth=1.4, zorder=3)
            right = max(right, np.nanmax(est), 0 if low_side[lang] else np.nanmax(d[f"ci_high_{lang}"]))
        right = right * 1.08 if right > 0 else 1.0
        for i in np.flatnonzero(sig):
            ax.text(max(d[f"per_10k_{a}"].iloc[i], d[f"per_10k_{b}"].iloc[i]) + right * 0.02, y[i] - 0.32,
                    f"z={d['z'].iloc[i]:+.1f}", fontsize=7, va="center", ha="left")
        ax.set_xlim(0, right * 1.12)
        ax.set_ylim(len(themes) - 0.5, -0.6)
        flag = "".join(f"\nlow data: {lang} < {min_tokens} tokens" for lang in langs if low_side[lang])
        ax.set_title(f"{textwrap.fill(doc, 34)} ({year})\n{a} {n[a]} / {b} {n[b]} kept tokens{flag}", fontsize=9)
        ax.set_xlabel("per 10,000 kept tokens", fontsize=8.5)
        ax.tick_params(labelsize=8)
        ax.grid(axis="both", color="#eeeeee", linewidth=0.6)
        ax.set_axisbelow(True)
    if not docs:
        axes[0, 0].text(0.5, 0.5, "no document in both languages", ha="center", va="center",
                        transform=axes[0, 0].transAxes)
    axes[0, 0].set_yticks(y, [styles[t].label for t in themes], fontsize=8.5)
    handles = [Line2D([], [], color=c, marker="os"[k], linestyle="none", markerfacecolor=c if k == 0 else "white",
                      markeredgewidth=1.4, label=f"{lang_name(lang)}, {conf:.0%} interval (faint: low data)")
               for k, (lang, c) in enumerate(zip(langs, LANG_COLORS))]
    handles += [Line2D([], [], color="black", linewidth=2.4, label=f"difference beyond chance (|z| ≥ {z_threshold:g})"),
                Line2D([], [], color="#bbbbbb", linewidth=1.0, label="difference within chance")]
    fig.legend(handles=handles, loc="outside lower center", ncols=4 if len(docs) >= 3 else 2, fontsize=8, frameon=False)
    shown = (f"\nthe last {len(docs)} of {n_docs} bilingual documents; all in crosslingual_themes.csv"
             if len(docs) < n_docs else "")
    fig.suptitle(f"Theme frequency in the {lang_name(a)} and {lang_name(b)} versions of each document "
                 f"(weighted log-odds z, Monroe et al. 2008){shown}", fontsize=11)
    return fig


# ---- the rule ---------------------------------------------------------------------------------


def bilingual_documents(index: pd.DataFrame, tokens: pd.DataFrame, langs=LANGS) -> pd.DataFrame:
    """Documents (doc_id, year) with kept tokens in both languages; the others are logged as skipped.

    ``tokens``: a token table or its kept tokens per paragraph (``keep`` a flag or a count).
    """
    has = tokens[tokens["keep"].astype(bool)].groupby("doc_id")["lang"].agg(set)
    docs = index.groupby("doc_id", sort=True)["year"].first().reset_index()
    both = docs["doc_id"].map(lambda d: set(langs) <= has.get(d, set()))
    if (~both).any():
        log.info("skipped (not in both %s): %s", "/".join(langs), ", ".join(docs.loc[~both, "doc_id"]))
    return docs[both].reset_index(drop=True)


def _aligned_only(df: pd.DataFrame, alignment: pd.DataFrame, langs) -> pd.DataFrame:
    """Rows of a token or match table whose (doc_id, lang, para) is in a bead with both sides."""
    pairs = alignment[(alignment[f"{langs[0]}_paras"] != "") & (alignment[f"{langs[1]}_paras"] != "")]
    keep = {(doc, lang, int(p)) for lang in langs for doc, ps in zip(pairs["doc_id"], pairs[f"{lang}_paras"])
            for p in ps.split(";")}
    return df[np.array([k in keep for k in zip(df["doc_id"], df["lang"], df["para"])], dtype=bool)]


def run_crosslingual(match_paths, para_paths, index_path, frequencies_path, codebook_path, themes_path,
                     alignment_path, codebook_check_path, trends_path, figure_stem, langs=LANGS,
                     paragraphs: str = "all", prior: str = "pair", alpha_0: float | str = "auto",
                     z_threshold: float = 1.96, min_tokens: int = 500, min_years: int = 3, exact_max_n: int = 8,
                     alignment: dict | None = None, conf_level: float = 0.95, unspaced_languages=UNSPACED,
                     schema_path=None, dpi: int = 200, chart_docs: int | None = None,
                     pairs_path=None) -> None:
    """The `crosslingual` rule: the four tables, the codebook's translation pairs
    (``pairs_path``, :func:`pair_check`) and the dumbbell figure (PNG + SVG).

    Reads the `theme_matches` rule's per-shard outputs (:func:`textdrift.themes.match_shard`):
    the matches (without their KWIC context) and the kept tokens per paragraph (``keep`` = how
    many), so no token is matched twice; the texts for the alignment come from the clean files.
    """
    from textdrift.figures import save_figure, setup_fonts

    if paragraphs not in ("all", "aligned"):
        raise ValueError(f"paragraphs must be 'all' or 'aligned', not {paragraphs!r}")
    langs = tuple(langs)
    codebook = load_codebook(codebook_path, schema_path)
    tokens = read_shards(para_paths, PARA_COLUMNS)
    tokens = tokens[tokens["lang"].isin(langs) & tokens["keep"].astype(bool)]
    index = read_csv(index_path)
    docs = bilingual_documents(index, tokens, langs)
    files = index.set_index(["doc_id", "lang"])["file"]
    texts = {d: {lang: read_paragraphs(files[(d, lang)]) for lang in langs} for d in docs["doc_id"]}
    # Only the bilingual documents' matches are used, except by the "corpus" prior over whole
    # texts, which counts the matches of every document.
    every_doc = prior == "corpus" and paragraphs == "all"
    matches = read_matches(match_paths, codebook, [c for c in MATCH_COLUMNS if c not in ("left", "match", "right")])
    matches = matches.to_pandas()
    matches = matches[matches["lang"].isin(langs) & (every_doc or matches["doc_id"].isin(docs["doc_id"]))]
    matches = matches.reset_index(drop=True)
    if paragraphs == "aligned":
        tokens = tokens[tokens["doc_id"].isin(docs["doc_id"])]  # only those can be in an aligned pair
    align = alignment_table(texts, matches, codebook, langs, unspaced_languages=unspaced_languages,
                            **(alignment or {}))
    if paragraphs == "aligned":
        table = compare_themes(_aligned_only(tokens, align, langs), _aligned_only(matches, align, langs), codebook,
                               docs, langs, conf_level, prior, alpha_0, z_threshold, min_tokens)
    else:
        table = compare_themes(tokens, matches, codebook, docs, langs, conf_level, prior, alpha_0, z_threshold,
                               min_tokens)
    trends = trend_agreement(read_csv(frequencies_path), codebook, langs, min_tokens, min_years, exact_max_n, index)
    write_csv(table, themes_path)
    write_csv(align, alignment_path)
    write_csv(codebook_check(matches, codebook, align, langs), codebook_check_path)
    if pairs_path is not None:
        # only paragraphs the aligner pairs across the two versions: the pair's two sides then count
        # the same content (a version that renders part of the text, like a news lead, adds nothing)
        write_csv(pair_check(_aligned_only(matches, align, langs), _aligned_only(tokens, align, langs), codebook, docs,
                             langs, alpha_0, z_threshold, min_tokens), pairs_path)
    write_csv(trends, trends_path)
    setup_fonts()
    save_figure(crosslingual_chart(table, codebook, langs, z_threshold, conf_level, min_tokens, chart_docs), figure_stem,
                dpi=dpi)
    log.info("%d bilingual documents, %d aligned pairs, %d significant theme differences", len(docs), len(align),
             int(table["status"].str.endswith("_stronger").sum()))
