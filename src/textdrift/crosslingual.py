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
exact Poisson interval of :func:`textdrift.stats.poisson_ci` (Garwood 1936) scaled the same way.
``diff = per_10k_a - per_10k_b``.

Test (weighted log-odds ratio with an informative Dirichlet prior, Monroe, Colaresi & Quinn 2008,
eqs. 16, 18-22, via :func:`textdrift.stats.log_odds_dirichlet`): within each language a token
is either a theme match or "the rest", y_l = count_l, n_l = tokens_l::

    p_t      = prior share of theme t:  "pair":   (y_a + y_b) / (n_a + n_b)    (the document pair pooled)
                                        "corpus": theme t's matches / kept tokens over every
                                                  document of the two languages
    alpha_0  = prior weight in pseudo-tokens; "auto" = median(n_a, n_b) (the prior weighs one
               typical text of the pair, as "auto" in phrases.group_phrase_changes)
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
The paragraphs (lines of the clean texts) of the two versions are aligned by
:func:`textdrift.align.align_paragraphs` (Gale & Church 1993 length costs plus shared anchors:
numbers, enumeration numerals, months, Latin names; beads 1-1, 1-0, 0-1, 2-1, 1-2; the formulas
are in :mod:`textdrift.align`), with ``length_ratio`` "auto" = the median over the bilingual
documents of (characters of b) / (characters of a). One row per bead; ``cost`` of a pair is its
bead's cost. For each aligned pair, ``themes_a``/``themes_b`` are the themes matched in its
paragraphs and ``only_a``/``only_b`` those matched on one side only.

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
n <= ``exact_max_n``, else the t approximation (:func:`textdrift.stats.spearman`). ``low_data``:
a year with fewer than ``min_tokens`` kept tokens in either language is involved. ``note`` also
names the documents of a year that exist in one language only (the two year-documents then do not
hold the same texts: in 2022 the English year has a white paper the Chinese year lacks).
The drift of each language (``tfidf_drift.csv``) already lists both languages side by side.

Limits. A translation is not word-for-word: per-token rates compare jieba words with English
lemmas (Chinese has fewer kept tokens for the same content, ~0.8 per English token here, which
alone raises Chinese rates by ~1.2x), a theme can be rendered by words outside the codebook,
and short texts leave wide intervals.

About 650 lines, nearly half of them docstrings: the four tables
share the bilingual documents, the matches and the alignment of one rule; the aligner
(:mod:`textdrift.align`), the statistics (:mod:`textdrift.stats`) and the chart
(:func:`textdrift.figures.crosslingual_chart`) are elsewhere.

Gale, W. A. & Church, K. W. (1993). A program for aligning sentences in bilingual corpora.
Computational Linguistics 19(1), 75-102.
Monroe, B. L., Colaresi, M. P. & Quinn, K. M. (2008). Fightin' words. Political Analysis 16(4), 372-403.
Garwood, F. (1936). Fiducial limits for the Poisson distribution. Biometrika 28(3/4), 437-442.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from textdrift.align import align_paragraphs, auto_length_ratio
from textdrift.io import read_csv, read_texts, write_csv
from textdrift.stats import log_odds_dirichlet, poisson_ci, spearman
from textdrift.codebook import Theme, load_codebook
from textdrift.config import defaults
from textdrift.matching import MATCH_COLUMNS, UNSPACED
from textdrift.themes import PARA_COLUMNS, read_matches, read_shards

_D = defaults()  # the configuration schema's defaults: every keyword default below that is a config setting
_X = _D["crosslingual"]

__all__ = ["LANGS", "alignment_table", "bilingual_documents", "codebook_check", "compare_themes", "pair_check",
           "write_crosslingual", "trend_agreement", "run_crosslingual"]

log = logging.getLogger("textdrift.crosslingual")

#: the two languages compared (side a, side b): the schema's default of ``crosslingual.langs``
LANGS = tuple(_X["langs"])


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


def _names(themes: set[str], order: dict[str, int]) -> str:
    return ";".join(sorted(themes, key=order.get))


def alignment_table(texts: dict[str, dict[str, list[str]]], matches: pd.DataFrame, codebook: list[Theme],
                    langs=LANGS, length_ratio: float | str = _X["alignment"]["length_ratio"],
                    length_variance: float = _X["alignment"]["length_variance"],
                    anchor_weight: float = _X["alignment"]["anchor_weight"],
                    bead_priors: dict[str, float] | None = None,
                    unspaced_languages=UNSPACED) -> pd.DataFrame:
    """One row per bead of every document in ``texts`` (both languages), with the themes of each side.

    Parameters
    ----------
    texts : dict
        ``texts[doc][lang]`` = the paragraphs of the document's version in that language.
    matches : DataFrame
        Theme matches (doc_id, lang, para, theme).
    codebook : list of Theme
    langs : (str, str)
        Languages a and b.
    length_ratio : float or "auto"
        Characters of b per character of a (:func:`textdrift.align.auto_length_ratio` for "auto").
    length_variance, anchor_weight, bead_priors, unspaced_languages
        As in :func:`textdrift.align.align_paragraphs`.

    Returns
    -------
    DataFrame
        The alignment columns (doc_id, pair, {a}_paras, {b}_paras, {a}_text, {b}_text, cost,
        themes_{a}, themes_{b}, only_{a}, only_{b}).

    References
    ----------
    Gale, W. A. & Church, K. W. (1993). A program for aligning sentences in bilingual corpora.
    Computational Linguistics 19(1), 75-102.
    """
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
                   langs=LANGS, conf: float = _D["themes"]["conf_level"], prior: str = _X["prior"],
                   alpha_0: float | str = _X["alpha_0"], z_threshold: float = _X["z_threshold"],
                   min_tokens: int = _D["low_data_tokens"]) -> pd.DataFrame:
    """Per (bilingual document, theme): rates in both languages with intervals, diff, log-odds z, status.

    ``docs``: one row per document to compare (``doc_id``, ``year``). ``tokens``/``matches`` hold
    the tokens and matches to count (already restricted to aligned paragraphs for paragraphs="aligned");
    the "corpus" prior is taken from them too. ``tokens`` is a token table (``keep`` a flag) or
    its kept tokens per paragraph (``themes.paragraph_tokens``: ``keep`` a count): ``keep`` is
    summed. See the module docstring for the formulas.

    Parameters
    ----------
    tokens : DataFrame
        Token table or kept tokens per paragraph.
    matches : DataFrame
        Theme matches (doc_id, lang, theme).
    codebook : list of Theme
    docs : DataFrame
        The documents to compare (doc_id, year).
    langs : (str, str)
    conf : float
        Confidence level of the Poisson intervals (:func:`textdrift.stats.poisson_ci`).
    prior : {"pair", "corpus"}
    alpha_0 : float or "auto"
    z_threshold : float
    min_tokens : int

    Returns
    -------
    DataFrame
        The themes columns of ``crosslingual_themes.csv``.

    References
    ----------
    Monroe, B. L., Colaresi, M. P. & Quinn, K. M. (2008). Fightin' words. Political Analysis 16(4),
    372-403 (:func:`textdrift.stats.log_odds_dirichlet`).
    Garwood, F. (1936). Fiducial limits for the Poisson distribution. Biometrika 28(3/4), 437-442.
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

    Parameters
    ----------
    matches : DataFrame
        Theme matches (doc_id, lang, para, theme, term).
    codebook : list of Theme
    alignment : DataFrame
        :func:`alignment_table`'s output.
    langs : (str, str)

    Returns
    -------
    DataFrame
        The columns of ``crosslingual_codebook_check.csv``: one row per theme, with a ``note``.
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
               alpha_0: float | str = _X["alpha_0"], z_threshold: float = _X["z_threshold"],
               min_tokens: int = _D["low_data_tokens"]) -> pd.DataFrame:
    """``codebook_pairs.csv``: each translation pair of the codebook (``pairs:``) counted on both
    sides in the bilingual documents ``docs`` pooled (the rule passes only their aligned
    paragraphs), with ``ratio`` = ((count_a + .5) / tokens_a) / ((count_b + .5) / tokens_b) and the log-odds test of the crosslingual
    themes (pair prior: the two sides pooled; ``alpha_0`` auto = the median of the two token
    counts). A pair whose sides are counted very differently measures the codebook, not the
    texts: ``status`` ``{a}_more`` / ``{b}_more`` (|z| >= z_threshold) means one side's terms are
    broader, or renderings are missing on the other. Unpaired terms get a row each (``status``
    unpaired, their count, ``why``); a theme without pairs one row (``no_pairs``).

    Parameters
    ----------
    matches : DataFrame
        Theme matches (doc_id, lang, theme, term).
    tokens : DataFrame
        Token table or kept tokens per paragraph (doc_id, lang, keep).
    codebook : list of Theme
    docs : DataFrame
        The bilingual documents (doc_id).
    langs : (str, str)
    alpha_0 : float or "auto"
        Prior weight of the log-odds test.
    z_threshold : float
        |z| from which a pair is ``{a}_more`` / ``{b}_more``.
    min_tokens : int
        Low-data threshold in kept tokens of either side.

    Returns
    -------
    DataFrame
        The columns of ``codebook_pairs.csv``: one row per pair, unpaired term, or theme without pairs.

    References
    ----------
    Monroe, B. L., Colaresi, M. P. & Quinn, K. M. (2008). Fightin' words. Political Analysis 16(4),
    372-403 (:func:`textdrift.stats.log_odds_dirichlet`).
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


def trend_agreement(freq: pd.DataFrame, codebook: list[Theme], langs=LANGS, min_tokens: int = _D["low_data_tokens"],
                    min_years: int = _X["min_years"], exact_max_n: int = _X["exact_max_n"],
                    index: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rank correlation of the two languages' theme rates: per year across themes, per theme across years.

    With ``index`` (the clean-text index: doc_id, year, lang) a year's note names the documents
    that exist in one language only (the two year-documents then do not hold the same texts).

    Parameters
    ----------
    freq : DataFrame
        ``theme_frequencies.csv``.
    codebook : list of Theme
    langs : (str, str)
    min_tokens : int
        Low-data threshold in kept tokens.
    min_years : int
        Fewest years with both languages for a theme's correlation.
    exact_max_n : int
        Largest n for the exact p-value (:func:`textdrift.stats.spearman`).
    index : DataFrame, optional

    Returns
    -------
    DataFrame
        The columns of ``crosslingual_trends.csv``.

    References
    ----------
    Spearman, C. (1904). The proof and measurement of association between two things. American
    Journal of Psychology 15(1), 72-101.
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


# ---- the rule ---------------------------------------------------------------------------------


def bilingual_documents(index: pd.DataFrame, tokens: pd.DataFrame, langs=LANGS) -> pd.DataFrame:
    """Documents (doc_id, year) with kept tokens in both languages; the others are logged as skipped.

    ``tokens``: a token table or its kept tokens per paragraph (``keep`` a flag or a count).

    Parameters
    ----------
    index : DataFrame
        The clean-text index (doc_id, year, ...).
    tokens : DataFrame
        Token table or kept tokens per paragraph (doc_id, lang, keep).
    langs : (str, str)

    Returns
    -------
    DataFrame
        ``doc_id, year`` of the documents with text in both languages, sorted by doc_id.
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


def write_crosslingual(match_paths, para_paths, index_path, frequencies_path, codebook_path, themes_path,
                     alignment_path, codebook_check_path, trends_path, figure_stem, langs=LANGS,
                     paragraphs: str = _X["paragraphs"], prior: str = _X["prior"],
                     alpha_0: float | str = _X["alpha_0"], z_threshold: float = _X["z_threshold"],
                     min_tokens: int = _D["low_data_tokens"], min_years: int = _X["min_years"],
                     exact_max_n: int = _X["exact_max_n"], alignment: dict | None = None,
                     conf_level: float = _D["themes"]["conf_level"], unspaced_languages=UNSPACED,
                     schema_path=None, dpi: int = _X["dpi"], chart_docs: int | None = None,
                     pairs_path=None, text_paths=()) -> None:
    """The `crosslingual` rule: the four tables, the codebook's translation pairs
    (``pairs_path``, :func:`pair_check`) and the dumbbell figure (PNG + SVG). ``text_paths``: the
    clean texts' shard files (:func:`textdrift.io.read_texts`) holding the bilingual documents.

    Reads the `theme_matches` rule's per-shard outputs (:func:`textdrift.themes.match_shard`):
    the matches (without their KWIC context) and the kept tokens per paragraph (``keep`` = how
    many), so no token is matched twice; the texts for the alignment come from the clean files.

    Parameters
    ----------
    match_paths, para_paths : list of str or Path
        The `theme_matches` rule's matches and kept-tokens-per-paragraph shard files.
    index_path, frequencies_path, codebook_path : str or Path
        The clean-text index, ``theme_frequencies.csv`` and the codebook.
    themes_path, alignment_path, codebook_check_path, trends_path : str or Path
        Output CSVs: :func:`compare_themes`, :func:`alignment_table`, :func:`codebook_check`,
        :func:`trend_agreement`.
    figure_stem : str or Path
        The chart's path without extension (:func:`textdrift.figures.crosslingual_chart`).
    langs : (str, str)
    paragraphs : {"all", "aligned"}
        Compare whole texts, or only the paragraphs the aligner pairs.
    prior, alpha_0, z_threshold, min_tokens, conf_level
        As in :func:`compare_themes`.
    min_years, exact_max_n
        As in :func:`trend_agreement`.
    alignment : dict, optional
        Keyword arguments of :func:`alignment_table`.
    unspaced_languages : sequence of str
    schema_path : str or Path, optional
        The codebook schema.
    dpi : int
    chart_docs : int, optional
        Documents drawn in the chart (the last ones; None: all).
    pairs_path : str or Path, optional
        Output of :func:`pair_check` (``codebook_pairs.csv``); not written when None.
    text_paths : list of str or Path
    """
    from textdrift.figures import crosslingual_chart, save_figure, setup_fonts

    if paragraphs not in ("all", "aligned"):
        raise ValueError(f"paragraphs must be 'all' or 'aligned', not {paragraphs!r}")
    langs = tuple(langs)
    codebook = load_codebook(codebook_path, schema_path)
    tokens = read_shards(para_paths, PARA_COLUMNS)
    tokens = tokens[tokens["lang"].isin(langs) & tokens["keep"].astype(bool)]
    index = read_csv(index_path)
    docs = bilingual_documents(index, tokens, langs)
    every_text = read_texts(text_paths)  # the shards' clean texts (the files the index names)
    texts = {d: {lang: every_text[(d, lang)] for lang in langs} for d in docs["doc_id"]}
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


def run_crosslingual(input, output, params, log) -> None:
    """Rule ``crosslingual``: Chinese against English in the bilingual documents (tables and chart).

    Parameters
    ----------
    input, output, params : Snakemake's named lists of the rule (``workflow/rules/crosslingual.smk``)
        Attribute access by the names the rule gives; any object with those attributes works.
    log : list of str
        The job's log file (first item).
    """
    from textdrift.io import log_to_file

    log_to_file(log[0])
    i, o, p = input, output, params
    write_crosslingual(
        i.matches, i.paras, i.index, i.frequencies, i.codebook, o.themes, o.alignment, o.codebook_check, o.trends,
        p.figure_stem, langs=p.langs, paragraphs=p.paragraphs, prior=p.prior, alpha_0=p.alpha_0,
        z_threshold=p.z_threshold, min_tokens=p.min_tokens, min_years=p.min_years, exact_max_n=p.exact_max_n,
        alignment=p.alignment, conf_level=p.conf_level, unspaced_languages=p.unspaced_languages, schema_path=i.schema,
        dpi=p.dpi, chart_docs=p.chart_docs, pairs_path=o.pairs, text_paths=i.texts,
    )
