"""Paragraph alignment of two versions of one text (Gale & Church 1993, with shared anchors).

Generic: two lists of paragraphs in, the least-cost sequence of beads out. The cross-language
comparison (:mod:`textdrift.crosslingual`) aligns the two language versions of each bilingual
document with it (``crosslingual_alignment.csv``).

Method
------
Dynamic programming over the paragraphs (lines of the clean texts) in order, after Gale & Church
(1993), with beads 1-1, 1-0, 0-1, 2-1 and 1-2 (a-paragraphs - b-paragraphs). The cost of a bead
with l_a, l_b non-space characters and anchor sets A, B is::

    c        = length_ratio: b characters per a character; "auto" = the median over the
               bilingual documents of (characters of b) / (characters of a) (:func:`auto_length_ratio`)
    delta    = (l_b - c * l_a) / sqrt(s2 * (l_a + l_b / c) / 2)          (s2 = length_variance)
    length   = -log(2 * (1 - Phi(|delta|)))      for 1-1, 2-1, 1-2;  0 for 1-0 and 0-1
    anchors  = 1 - 2 |A & B| / (|A| + |B|)  (Dice distance; 0 when A and B are both empty,
                                             1 for a 1-0/0-1 bead whose paragraph has anchors)
    cost     = length + anchor_weight * anchors - log(bead_priors[bead])

Unlike Gale & Church, a paragraph left without counterpart (1-0, 0-1) pays no length cost: its
length says nothing about whether the other version renders it, and with the length term an
omitted paragraph of a few hundred characters costs ~50 nats and is forced into a neighbour's
2-1 bead instead of being reported as missing.
Phi is the standard normal CDF. Anchors of a paragraph (:func:`anchors`): its numbers (digit runs
such as 2030, "1." item numbers, decimals), Chinese enumeration numerals ("(一)", "一、", "第三" ->
1, 1, 3), English month names (November -> 11, to meet 11月), and Latin names: acronyms (two or
more capitals, or letters with digits: AI, GDI, 5G) in every language, any Latin word in an
unspaced language. Only anchors that occur somewhere in *both* versions of the document count, so
an acronym the other version spells out (GDI / 全球发展倡议) is no evidence either way. The
alignment is the path of least total cost (:func:`align_paragraphs`); each :class:`Bead` carries
its cost.

The costs of all cells are computed at once with array operations (:func:`_bead_costs`); the
cell-by-cell definitions (``length_cost``, ``dice_distance``) are the tests' reference
(``tests/test_crosslingual.py``).

References
----------
Gale, W. A. & Church, K. W. (1993). A program for aligning sentences in bilingual corpora.
Computational Linguistics 19(1), 75-102.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from scipy.special import log_ndtr

from textdrift.config import UNSPACED_LANGUAGES as UNSPACED  # one definition: the config schema
from textdrift.config import Settings, defaults, setting

_D = defaults()  # the configuration schema's defaults: every keyword default below that is a config setting

__all__ = ["AlignSettings", "BEADS", "BEAD_PRIORS", "Bead", "align_paragraphs", "anchors", "auto_length_ratio", "paragraph_length",
           "zh_numeral"]

BEADS = ((1, 1), (1, 0), (0, 1), (2, 1), (1, 2))
# Gale & Church (1993), table 5: 1-1 .89, 1-0 or 0-1 .0099, 2-1 or 1-2 .089 (split evenly here).
#: prior probability of each bead type: the schema's default of ``crosslingual.alignment.bead_priors``
BEAD_PRIORS: dict[str, float] = _D["crosslingual"]["alignment"]["bead_priors"]
ZH_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")}
MONTHS = {m: i for i, m in enumerate(["january", "february", "march", "april", "may", "june", "july", "august",
                                      "september", "october", "november", "december"], 1)}
ZH_ENUM = re.compile(r"[(（]([零一二三四五六七八九十]+)[)）]|^([零一二三四五六七八九十]+)[、.．]|第([零一二三四五六七八九十]+)")
NUMBER = re.compile(r"(?<![A-Za-z0-9])\d+(?:\.\d+)?(?![A-Za-z0-9])")  # not the 5 of 5G
LATIN = re.compile(r"[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*")


def zh_numeral(s: str) -> int:
    """Value of a Chinese numeral up to 99 (一 -> 1, 十 -> 10, 十五 -> 15, 二十三 -> 23).

    Parameters
    ----------
    s : str
        The numeral, characters of 零一二三四五六七八九十 only.

    Returns
    -------
    int
    """
    if "十" not in s:
        return int("".join(str(ZH_DIGITS[c]) for c in s))
    tens, _, units = s.partition("十")
    return (ZH_DIGITS[tens] if tens else 1) * 10 + (ZH_DIGITS[units] if units else 0)


def anchors(text: str, lang: str, unspaced_languages=UNSPACED) -> set[str]:
    """Anchors of a paragraph: numbers, enumeration numerals, month numbers and Latin names.

    Digit runs and decimals as written (2030, 1, 3.5); Chinese enumeration numerals ("(一)", "一、",
    "第三") as their value; English month names as their number; acronyms (two or more capitals, or
    letters with digits) upper-cased, and in an unspaced language every Latin word.

    Parameters
    ----------
    text : str
        The paragraph.
    lang : str
        Its language code.
    unspaced_languages : sequence of str
        Languages written without spaces between words.

    Returns
    -------
    set of str
    """
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
    """Characters of a paragraph, white space excluded (the l of the length cost).

    Parameters
    ----------
    text : str

    Returns
    -------
    int
    """
    return len(re.sub(r"\s", "", text))


def _length_costs(len_a: np.ndarray, len_b: np.ndarray, ratio: float, variance: float) -> np.ndarray:
    """Gale & Church's length cost of every pair (len_a[i], len_b[j]): -log of the two-sided normal
    tail of delta (module docstring); 0 when both lengths are 0. ``log_ndtr(-x)`` is scipy's
    ``norm.logsf(x)`` without its overhead. Reference: ``tests/test_crosslingual.py:length_cost``."""
    la, lb = np.asarray(len_a, float)[:, None], np.asarray(len_b, float)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = (lb - ratio * la) / np.sqrt(variance * (la + lb / ratio) / 2)
        out = -np.log(2) - log_ndtr(-np.abs(delta))
    return np.where((la == 0) & (lb == 0), 0.0, out)


def _dice_distances(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Dice distance 1 - 2|x & y| / (|x| + |y|) (0 when both are empty) of every pair of rows of the
    0/1 membership matrices x (n, v) and y (m, v). Reference: ``tests/test_crosslingual.py:dice_distance``."""
    inter = x @ y.T
    size = x.sum(axis=1)[:, None] + y.sum(axis=1)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 1 - 2 * inter / size
    return np.where(size > 0, out, 0.0)


@dataclass(frozen=True)
class AlignSettings(Settings):
    """The aligner's cost model (module docstring); defaults from the schema's
    ``crosslingual.alignment`` block, except ``length_ratio``, whose default there is "auto" (a
    corpus statistic, :func:`auto_length_ratio`, resolved by the caller) and here 4.0.

    Attributes
    ----------
    length_ratio : float
        c, characters of b per character of a.
    length_variance : float
        s2, the variance of the length difference per character.
    anchor_weight : float
        Weight of the anchors' Dice distance in a bead's cost.
    bead_priors : dict or None
        Prior probability of each bead type ("1-1", "1-0", ...); missing types from ``BEAD_PRIORS``.
    unspaced_languages : tuple of str
        Languages written without spaces between words.
    """

    length_ratio: float = 4.0
    length_variance: float = setting("crosslingual", "alignment", "length_variance")
    anchor_weight: float = setting("crosslingual", "alignment", "anchor_weight")
    bead_priors: dict | None = None
    unspaced_languages: tuple = setting("unspaced_languages", convert=tuple)


@dataclass(frozen=True)
class Bead:
    """One aligned unit: paragraph indices on each side (either may be empty) and its cost."""

    a: tuple[int, ...]
    b: tuple[int, ...]
    cost: float


def _bead_costs(paras_a, paras_b, lang_a, lang_b, settings: AlignSettings) -> dict[tuple[int, int], np.ndarray]:
    """Cost of every bead of each shape (da, db), indexed by the first paragraph of each side.

    ``costs[da, db][i, j]`` is the cost of the bead of a-paragraphs i..i+da-1 and b-paragraphs
    j..j+db-1 (1-0: ``costs[1, 0][i]``, 0-1: ``costs[0, 1][j]``), computed elementwise with the
    arithmetic of the cell-by-cell definition (length + anchor_weight * dice - log prior).
    """
    length_ratio, length_variance, anchor_weight = settings.length_ratio, settings.length_variance, settings.anchor_weight
    unspaced_languages = settings.unspaced_languages
    priors = {**BEAD_PRIORS, **(settings.bead_priors or {})}
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
    lang_a: str = _D["crosslingual"]["langs"][0],
    lang_b: str = _D["crosslingual"]["langs"][1],
    settings: AlignSettings | None = None,
) -> list[Bead]:
    """Least-cost alignment of two paragraph lists (Gale & Church 1993 + shared anchors), in text order.

    The bead costs are computed for every cell at once (:func:`_bead_costs`); the dynamic programme
    then runs row by row: the beads from the two previous rows (1-1, 1-0, 2-1, 1-2) are vectorised
    over the row, the 0-1 bead (from the cell to the left) is taken cell by cell. Ties go to the
    first bead in ``BEADS`` order (1-1, 1-0, 0-1, 2-1, 1-2), as a strict ``<`` over that order.

    Parameters
    ----------
    paras_a, paras_b : list of str
        The paragraphs of the two versions.
    lang_a, lang_b : str
        Their languages (for the anchors).
    settings : AlignSettings, optional
        The cost model: length ratio c, variance s2, anchor weight, bead priors, unspaced languages
        (:class:`AlignSettings`; its defaults when None).

    Returns
    -------
    list of Bead
        The beads in text order; every paragraph of each side is in exactly one bead.

    References
    ----------
    Gale, W. A. & Church, K. W. (1993). A program for aligning sentences in bilingual corpora.
    Computational Linguistics 19(1), 75-102.
    """
    n, m = len(paras_a), len(paras_b)
    costs = _bead_costs(paras_a, paras_b, lang_a, lang_b, settings or AlignSettings())
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
    """The length ratio c estimated from the documents: median over documents of (characters of b) /
    (characters of a).

    Parameters
    ----------
    texts : dict
        ``texts[doc][lang]`` = the document's paragraphs in that language.
    a, b : str
        The two languages.

    Returns
    -------
    float
    """
    ratios = [sum(map(paragraph_length, t[b])) / sum(map(paragraph_length, t[a])) for t in texts.values()]
    return float(np.median(ratios))
