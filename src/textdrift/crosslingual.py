"""Across languages: does the Chinese text say what the English one says? Counted on aligned text only.

For every document that exists in both languages of a pair (default ``langs = (zh, en)``; the
first language is side *a*, the second side *b*; column suffixes are the language codes) the two
versions are aligned paragraph by paragraph, and each theme's codebook matches are **counted** in
the aligned paragraph pairs of both versions. Chinese and English tokens are not the same unit
(jieba words against English lemmas: ~0.85 Chinese kept tokens per English token here), so no
per-token rate is compared across languages: a rate per token would report the denominator as a
gap. A version that renders only part of the other (a news lead against a full text) is **not
comparable** and is left out of every comparison.

1. Paragraph alignment (``crosslingual_alignment.csv``)
---------------------------------------------------------
The paragraphs (lines of the clean texts) of the two versions are aligned by
:func:`textdrift.align.align_paragraphs` (Gale & Church 1993 length costs plus shared anchors:
numbers, enumeration numerals, months, Latin names; beads 1-1, 1-0, 0-1, 2-1, 1-2; the formulas
are in :mod:`textdrift.align`), with ``length_ratio`` "auto" = c = the median over the bilingual
documents of (characters of b) / (characters of a). One row per bead; ``cost`` of a pair is its
bead's cost; ``chars_{lang}`` its non-space characters on each side; ``paired``: the bead has
paragraphs on both sides (an *aligned pair*, the unit of every comparison below). For each bead,
``themes_a``/``themes_b`` are the themes matched in its paragraphs and ``only_a``/``only_b`` those
matched on one side only.

2. Which documents are comparable (``crosslingual_trends.csv``, ``scope = document``)
---------------------------------------------------------------------------------------
For document d (:func:`document_alignment`)::

    coverage_l    = characters of version l in aligned pairs / all characters of version l
    length_ratio  = characters of b / characters of a      (the whole versions)
    length_factor = length_ratio / c                       (c: the corpus ratio above)

d is ``comparable`` when ``min(coverage_a, coverage_b) >= min_coverage`` (default 0.8) and
``1 / max_length_factor <= length_factor <= max_length_factor`` (default 2): the two versions
then render the same text, up to a few paragraphs without counterpart. Otherwise the ``note``
says which condition fails, with the numbers; a lead paragraph aligned with the first two
paragraphs of a full text covers all of itself and a few percent of the other. A not comparable
document gets ``status = not_comparable`` and no test in every table, and no finding.

3. Counts on aligned pairs and the test (``crosslingual_themes.csv``)
-----------------------------------------------------------------------
For theme t and aligned pair i of a document: x_i = matches of t in the a-paragraphs of the
pair, y_i = in its b-paragraphs (:func:`pair_counts`; matching as in ``theme_frequencies.csv``,
every match counts once), d_i = x_i - y_i. Over the document's aligned pairs, X = sum x_i and
Y = sum y_i::

    count_ratio = X / Y                     (inf when Y = 0 < X; undefined (empty) when X = Y = 0)
    p_value     = exact paired randomization (sign-flip) test over the pairs (:func:`paired_p`):
                  under the null the two versions of a pair are exchangeable, so each d_i is as
                  likely as -d_i; p = P(|sum e_i |d_i|| >= |sum d_i|) over the 2^k sign patterns
                  e of the k pairs with d_i != 0, computed exactly by convolution (Fisher 1935,
                  Pitman 1937); 1 when every d_i = 0
    binom_p     = the exact conditional binomial test of X out of N = X + Y at 1/2 (two-sided,
                  minimum likelihood: statsmodels ``test_poisson_2indep(X, 1, Y, 1, value=1,
                  method="exact-cond")``; Przyborowski & Wilenski 1940), for reference
    ci_low, ci_high = the Clopper-Pearson interval [s_lo, s_hi] of the share X / N
                  (statsmodels ``proportion_confint(method="beta")``), turned into a ratio:
                  s / (1 - s) (s_hi = 1 gives inf)
    q_value     = Benjamini-Hochberg q of p_value over the family: every row of a comparable
                  document with N > 0
    status      = {a}_more / {b}_more if q <= q_threshold (by the side with more matches),
                  similar, absent (X = Y = 0), not_comparable

Why this test and this null. The unit is the aligned pair: words cluster by document and
paragraph, and the paired test uses only the pairs, each pair's content being its own control,
so neither the variation between pairs nor any variation within a pair that is the same for
both versions can make it too liberal; it needs no Poisson assumption. The null (the two
versions of a pair exchangeable: E[x_i] = E[y_i]) is the hypothesis of a translation: both
versions say the same thing, so the expected number of mentions is the same. A null share
estimated from all themes (the "usual" zh share of matches) was considered and not used: it is
estimated from the same counts (the test is then no longer exact), it makes the themes compete
(one theme counted more in English makes the others look Chinese-heavy) and it hides a
systematic asymmetry of the codebook, which the total row (``crosslingual_trends.csv``, theme
empty: all themes together, 137 vs 137 matches in the 2017 document) and ``codebook_pairs.csv``
show instead. A gap therefore says: in the same aligned passages, one version's terms are matched
more often, spread over enough pairs to exclude chance; the cause is the text (a free or partial
translation) or the codebook (one side's terms broader), which
``crosslingual_codebook_check.csv`` and ``codebook_pairs.csv`` separate.

The conditional binomial test (``binom_p``) conditions on each pair's total and is exact when the
two counts of a pair are independent Poisson with equal means (then the nuisance means of the
pairs drop out); it is too liberal when a version varies more than Poisson within a pair (a term
repeated for style) and very conservative for a close translation (the two counts move
together); the calibration shows both, so it is not the test that decides. The interval of the
ratio is the interval of that binomial model (its coverage is in the calibration table).
``pairs_{a}_more``, ``pairs_{b}_more`` = the aligned pairs with x_i > y_i, x_i < y_i;
``agreement`` (descriptive, no test) = sum_i min(x_i, y_i) / sum_i max(x_i, y_i) (the Ruzicka
similarity of the two count vectors over the pairs): 1 when every pair has the same count in
both versions, lower when equal totals hide pair-by-pair differences. ``tokens_{lang}`` = kept
tokens in the aligned pairs (context only, never a denominator); ``low_data``: either side under
``min_tokens``. Calibration: ``benchmarks/calibrate_crosslingual.py`` (docs/methods.md,
"Across languages").

4. Years and the whole corpus (``crosslingual_trends.csv``)
-------------------------------------------------------------
``scope = document``: one row per bilingual document, all themes together (theme empty: every
match counts, a match of two themes twice), with the comparability measures of section 2,
``rank_rho`` (descriptive: Spearman's rho between X_t and Y_t across the themes matched in
either version; no p-value: a translation is not a sample of its original) and the test of
section 3 on the totals. ``scope = year``: per year and theme (and theme empty: all), the
aligned pairs of every comparable document of the year pooled (the conditional test stays
exact: it conditions on each pair's total); ``doc_id`` lists those documents and ``note`` the
bilingual documents left out and the documents of the year in one language only; a year whose
bilingual documents are all not comparable has one row (theme empty, ``not_comparable``) saying so.
``scope = all``: the same pooled over every comparable document, with ``rank_rho`` across the
years (X_t per year against Y_t per year; descriptive) when at least ``min_years`` years have a
comparable document. The q-values are BH within each scope.

5. Codebook check (``crosslingual_codebook_check.csv``) and pairs (``codebook_pairs.csv``)
--------------------------------------------------------------------------------------------
Both on the aligned pairs of the comparable documents. Per theme: the terms that matched in each
language with their counts (``matched_{lang}``), the aligned pairs where the theme matched on
one side only, with the terms that matched there (``pairs_only_{lang}``), and a note. Per
translation pair of the codebook (:func:`pair_check`): the counts of its two sides, pooled over
the documents, with the ratio interval and the conditional binomial test of section 3 (a check
of the instrument, one test per pair; BH q over the pairs). A theme or a pair matched on one side only points at a missing or ill-fitting
translation in the codebook (or a free translation) before it points at a difference of content.

About 1,350 lines, nearly half of them docstrings: the four tables and ``codebook_pairs.csv``
share the bilingual documents, the alignment, the comparability rule and the pair counts of one
rule, and the tests (paired, conditional, interval, bootstrap) that the findings reuse; the aligner
(:mod:`textdrift.align`) and the chart (:func:`textdrift.figures.crosslingual_chart`, drawn by the rule script) are elsewhere.

References
----------
Gale, W. A. & Church, K. W. (1993). A program for aligning sentences in bilingual corpora.
Computational Linguistics 19(1), 75-102.
Clopper, C. J. & Pearson, E. S. (1934). The use of confidence or fiducial limits illustrated in
the case of the binomial. Biometrika 26(4), 404-413.
Przyborowski, J. & Wilenski, H. (1940). Homogeneity of results in testing samples from Poisson
series. Biometrika 31(3/4), 313-323 (the conditional test of two Poisson counts).
Fisher, R. A. (1935). The Design of Experiments. Oliver & Boyd (the paired randomization test).
Pitman, E. J. G. (1937). Significance tests which may be applied to samples from any populations.
Journal of the Royal Statistical Society Supplement 4(1), 119-130.
Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate. Journal of the Royal
Statistical Society B 57(1), 289-300.
"""

from __future__ import annotations

import logging
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from dataclasses import dataclass

from textdrift.align import AlignSettings, Bead, align_paragraphs, auto_length_ratio, paragraph_length
from textdrift.io import read_csv, read_texts, write_csv
from textdrift.stats import binom_test, clopper_pearson, q_values, spearman_rho
from textdrift.codebook import Theme, load_codebook
from textdrift.config import Settings, defaults, setting
from textdrift.config import UNSPACED_LANGUAGES as UNSPACED  # one definition: the config schema
from textdrift.counting import PARA_COLUMNS, read_shards
from textdrift.matching import MATCH_COLUMNS
from textdrift.themes import read_matches

_D = defaults()  # the configuration schema's defaults: every keyword default below that is a config setting
_X = _D["crosslingual"]

__all__ = ["LANGS", "alignment_table", "bilingual_documents", "codebook_check", "compare_documents", "compare_themes", "count_tests",
           "document_alignment", "pair_bootstrap", "paired_p", "pair_check", "pair_counts", "trend_table", "write_crosslingual",
           "run_crosslingual", "AlignmentMemo", "CrosslingualFiles", "CrosslingualSettings", "alignment_memo"]

log = logging.getLogger("textdrift.crosslingual")

#: the two languages compared (side a, side b): the schema's default of ``crosslingual.langs``
LANGS = tuple(_X["langs"])


@dataclass(frozen=True)
class CrosslingualSettings(Settings):
    """The settings of the cross-language comparison (the ``crosslingual`` block of the
    configuration, with ``low_data_tokens``, ``themes.conf_level`` and ``unspaced_languages``);
    defaults from the schema. Build with ``CrosslingualSettings.from_config(config)`` or, in a rule,
    ``CrosslingualSettings.from_params(params)`` (:class:`textdrift.config.Settings`).

    Attributes
    ----------
    langs : (str, str)
        Languages a and b.
    q_threshold : float
        Benjamini-Hochberg q under which a gap counts (:func:`compare_themes`).
    min_tokens : int
        Kept tokens on aligned pairs under which a version is low data.
    min_years : int
        Fewest years with a comparable document for ``rank_rho`` across years.
    alignment : dict
        ``length_ratio`` ("auto" or c), ``length_variance``, ``anchor_weight``, ``bead_priors``.
    comparable : dict
        ``min_coverage``, ``max_length_factor`` of :func:`document_alignment`.
    conf_level : float
        Confidence level of the intervals.
    unspaced_languages : tuple of str
    dpi : int
        Resolution of the chart's PNG.
    chart_docs : int or None
        Documents drawn in the chart (the last ones; None: all).
    """

    langs: tuple = setting("crosslingual", "langs", convert=tuple)
    q_threshold: float = setting("crosslingual", "q_threshold")
    min_tokens: int = setting("low_data_tokens")
    min_years: int = setting("crosslingual", "min_years")
    alignment: dict = setting("crosslingual", "alignment")
    comparable: dict = setting("crosslingual", "comparable")
    conf_level: float = setting("themes", "conf_level")
    unspaced_languages: tuple = setting("unspaced_languages", convert=tuple)
    dpi: int = setting("crosslingual", "dpi")
    chart_docs: int | None = setting("crosslingual", "chart_docs")


@dataclass(frozen=True)
class CrosslingualFiles:
    """The files of the ``crosslingual`` rule: its inputs (the `theme_matches` rule's ``matches``,
    the ``count`` rule's kept tokens per paragraph ``paras``, the clean-text ``index`` and ``texts``,
    the ``codebook`` and its ``schema``) and its outputs (``themes``, ``alignment``,
    ``codebook_check``, ``trends`` and, unless None, ``pairs``: :func:`compare_themes`,
    :func:`alignment_table`, :func:`codebook_check`, :func:`trend_table`, :func:`pair_check`).
    """

    matches: list
    paras: list
    index: str | Path
    codebook: str | Path
    texts: list
    themes: str | Path
    alignment: str | Path
    codebook_check: str | Path
    trends: str | Path
    pairs: str | Path | None = None
    schema: str | Path | None = None

    @classmethod
    def of_rule(cls, input, output) -> "CrosslingualFiles":
        """The files a Snakemake rule names (``input`` and ``output`` with the names above).

        Parameters
        ----------
        input, output : Snakemake's named lists

        Returns
        -------
        CrosslingualFiles
        """
        return cls(list(input.matches), list(input.paras), input.index, input.codebook, list(input.texts),
                   output.themes, output.alignment, output.codebook_check, output.trends,
                   getattr(output, "pairs", None), getattr(input, "schema", None))


def _test_columns(a: str, b: str) -> list[str]:
    return ["pairs", f"count_{a}", f"count_{b}", "count_ratio", "ci_low", "ci_high", "p_value", "q_value", "status",
            f"pairs_{a}_more", f"pairs_{b}_more", "binom_p", "agreement", f"tokens_{a}", f"tokens_{b}", "low_data"]


def _columns(a: str, b: str) -> dict[str, list[str]]:
    return {
        "themes": ["doc_id", "year", "theme", "comparable", *_test_columns(a, b), "note"],
        "alignment": ["doc_id", "pair", f"{a}_paras", f"{b}_paras", f"{a}_text", f"{b}_text", f"chars_{a}",
                      f"chars_{b}", "paired", "cost", f"themes_{a}", f"themes_{b}", f"only_{a}", f"only_{b}"],
        "documents": ["doc_id", "pairs", f"chars_{a}", f"chars_{b}", f"coverage_{a}", f"coverage_{b}", "length_ratio",
                      "length_factor", "comparable", "note"],
        "codebook": ["theme", f"count_{a}", f"count_{b}", f"matched_{a}", f"matched_{b}", f"pairs_only_{a}",
                     f"pairs_only_{b}", "note"],
        "trends": ["scope", "year", "doc_id", "theme", *_test_columns(a, b), "rank_rho", f"chars_{a}", f"chars_{b}",
                   f"coverage_{a}", f"coverage_{b}", "length_ratio", "length_factor", "comparable", "note"],
        "pairs": ["theme", "pair", f"terms_{a}", f"terms_{b}", f"count_{a}", f"count_{b}", "count_ratio", "ci_low",
                  "ci_high", "p_value", "q_value", "status", "note"],
    }


# ---- alignment --------------------------------------------------------------------------------


#: the first line of the alignment memo's file (its layout's version: a new layout is a miss)
_MEMO_MAGIC = b"textdrift crosslingual alignment memo 1\n"


class AlignmentMemo:
    """The paragraph alignment of each bilingual document from an earlier run, so that a codebook
    edit (which changes the matches, never the texts) does not align the documents again.

    An entry is one document's beads (:func:`textdrift.align.align_paragraphs`: paragraph indices
    of each side and the cost); its key is a BLAKE2b digest of everything the beads depend on: the
    paragraphs of both versions (each one's text, in order), the two languages, the cost model
    (:class:`textdrift.align.AlignSettings`, the resolved length ratio c included, so a corpus whose
    "auto" ratio moves misses everywhere) and the code (:func:`textdrift.memo.code_digest`:
    every module of the package and the versions of Python and the numerical packages, scipy's
    among them, for ``log_ndtr``). A document whose key differs is aligned again. The entries live in
    one file (``alignment.memo`` in ``directory``) written atomically after the job with the
    documents of this run only (the others are dropped), behind a header and a BLAKE2b digest of
    the payload: an unreadable, truncated or altered file is a miss for every document (a warning in
    the job's log), never a wrong bead. The beads are stored as JSON (a float's shortest repr reads
    back as the same float), so the table is byte-identical to a run without the memo.

    Parameters
    ----------
    directory : str or Path
        The memo's directory (created when missing; one that cannot be created or written only
        misses).
    """

    def __init__(self, directory: str | Path):
        self.path = Path(directory) / "alignment.memo"
        self.hits = self.misses = 0
        self._old: dict[str, list] = {}
        self._new: dict[str, list] = {}
        self._code: str | None = None
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as e:
            log.warning("alignment memo: cannot read %s (%s): every document aligned", self.path, e)
            return
        import hashlib
        import json

        head = len(_MEMO_MAGIC) + 32
        payload = data[head:]
        if (not data.startswith(_MEMO_MAGIC) or len(data) < head
                or data[len(_MEMO_MAGIC):head] != hashlib.blake2b(payload, digest_size=32).digest()):
            log.warning("alignment memo: %s is corrupt (its digest does not match): every document aligned", self.path)
            return
        try:
            old = json.loads(payload.decode("utf-8"))
        except ValueError as e:
            log.warning("alignment memo: %s does not decode (%s): every document aligned", self.path, e)
            return
        self._old = old if isinstance(old, dict) else {}

    def _key(self, paras_a: list[str], paras_b: list[str], lang_a: str, lang_b: str, costs) -> str:
        import hashlib
        import json
        from dataclasses import asdict

        if self._code is None:
            from textdrift.memo import code_digest  # scipy's version included

            self._code = code_digest()
        h = hashlib.blake2b(digest_size=20)
        h.update(json.dumps([self._code, lang_a, lang_b, {k: repr(v) for k, v in asdict(costs).items()}],
                            sort_keys=True).encode("utf-8"))
        for side in (paras_a, paras_b):
            h.update(f"\0{len(side)}".encode())
            for p in side:
                b = p.encode("utf-8")
                h.update(f"\0{len(b)}\0".encode())
                h.update(b)
        return h.hexdigest()

    def beads(self, doc: str, paras_a: list[str], paras_b: list[str], lang_a: str, lang_b: str, costs) -> list:
        """The document's beads: from the memo when its key matches, else aligned (and kept).

        Parameters
        ----------
        doc : str
            The document's id.
        paras_a, paras_b : list of str
            Its paragraphs in languages a and b.
        lang_a, lang_b : str
        costs : AlignSettings

        Returns
        -------
        list of Bead
        """
        key = self._key(paras_a, paras_b, lang_a, lang_b, costs)
        old = self._old.get(doc)
        beads = None
        if isinstance(old, list) and len(old) == 2 and old[0] == key:
            try:
                beads = [Bead(tuple(map(int, a)), tuple(map(int, b)), np.float64(c)) for a, b, c in old[1]]
            except (TypeError, ValueError):  # not an entry this class wrote: aligned again
                beads = None
        if beads is not None:
            self.hits += 1
        else:
            self.misses += 1
            beads = align_paragraphs(paras_a, paras_b, lang_a, lang_b, costs)
        self._new[doc] = [key, [[list(x.a), list(x.b), float(x.cost)] for x in beads]]
        return beads

    def save(self) -> None:
        """Write the entries of this run's documents (atomically), when any changed."""
        import hashlib
        import json

        from textdrift.io import atomic_write_bytes

        if self._new == self._old:
            return
        payload = json.dumps(self._new, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        try:
            atomic_write_bytes(self.path, _MEMO_MAGIC + hashlib.blake2b(payload, digest_size=32).digest() + payload)
        except OSError as e:
            log.warning("alignment memo: cannot write %s (%s)", self.path, e)


def alignment_memo(config: dict | None) -> AlignmentMemo | None:
    """The alignment memo of a configuration (``crosslingual.alignment_memo``; its directory
    ``cache/crosslingual`` beside ``processed_dir``), or None when it is off or there is no
    configuration.

    Parameters
    ----------
    config : dict or None
        The workflow's configuration.

    Returns
    -------
    AlignmentMemo or None
    """
    from textdrift.config import cache_dir

    if not config or not config.get("processed_dir"):
        return None
    on = config.get("crosslingual", {}).get("alignment_memo", _X["alignment_memo"])
    return AlignmentMemo(cache_dir(config["processed_dir"]) / "crosslingual") if on else None


def _names(themes: set[str], order: dict[str, int]) -> str:
    return ";".join(sorted(themes, key=order.get))


def alignment_table(texts: dict[str, dict[str, list[str]]], matches: pd.DataFrame, codebook: list[Theme],
                    settings: CrosslingualSettings | None = None, memo: AlignmentMemo | None = None) -> pd.DataFrame:
    """One row per bead of every document in ``texts`` (both languages), with the themes of each side.

    Parameters
    ----------
    texts : dict
        ``texts[doc][lang]`` = the paragraphs of the document's version in that language.
    matches : DataFrame
        Theme matches (doc_id, lang, para, theme).
    codebook : list of Theme
    settings : CrosslingualSettings, optional
        ``langs`` (languages a and b), ``unspaced_languages`` and ``alignment``: ``length_ratio``
        (characters of b per character of a; :func:`textdrift.align.auto_length_ratio` for
        "auto"), ``length_variance``, ``anchor_weight``, ``bead_priors`` (as in
        :class:`textdrift.align.AlignSettings`); a key ``alignment`` lacks has the schema's default.
    memo : AlignmentMemo, optional
        Each document's beads from an earlier run where its texts and the cost model are the same
        (the table is the same either way).

    Returns
    -------
    DataFrame
        The alignment columns (doc_id, pair, {a}_paras, {b}_paras, {a}_text, {b}_text, chars_{a},
        chars_{b}, paired, cost, themes_{a}, themes_{b}, only_{a}, only_{b}); ``chars``: non-space
        characters (:func:`textdrift.align.paragraph_length`); ``paired``: both sides non-empty.

    References
    ----------
    Gale, W. A. & Church, K. W. (1993). A program for aligning sentences in bilingual corpora.
    Computational Linguistics 19(1), 75-102.
    """
    settings = settings or CrosslingualSettings()
    a, b = settings.langs
    opts = {**_X["alignment"], **(settings.alignment or {})}
    cols = _columns(a, b)["alignment"]
    if not texts:
        return pd.DataFrame(columns=cols)
    length_ratio = opts["length_ratio"]
    ratio = auto_length_ratio(texts, a, b) if length_ratio == "auto" else float(length_ratio)
    costs = AlignSettings(length_ratio=ratio, length_variance=opts["length_variance"], anchor_weight=opts["anchor_weight"],
                          bead_priors=opts["bead_priors"], unspaced_languages=tuple(settings.unspaced_languages))
    log.info("alignment length ratio (%s chars per %s char): %.3f", b, a, ratio)
    order = {t.id: i for i, t in enumerate(codebook)}
    # the themes of each (doc_id, lang, para): groupby's keys and sets, built from Python lists (a
    # Python aggregate over Arrow string columns iterates them element by element); a row with a
    # missing key is left out as groupby leaves it out
    found: dict = {}
    keys = zip(matches["doc_id"].tolist(), matches["lang"].tolist(), matches["para"].tolist())
    for key, theme in zip(keys, matches["theme"].tolist()):
        if not any(pd.isna(v) for v in key):
            found.setdefault(key, set()).add(theme)
    rows = []
    for doc, t in texts.items():
        beads = memo.beads(doc, t[a], t[b], a, b, costs) if memo is not None else align_paragraphs(t[a], t[b], a, b, costs)
        for k, bead in enumerate(beads):
            th_a = set().union(*(found.get((doc, a, p), set()) for p in bead.a))
            th_b = set().union(*(found.get((doc, b, p), set()) for p in bead.b))
            rows.append([doc, k, ";".join(map(str, bead.a)), ";".join(map(str, bead.b)),
                         "\n".join(t[a][p] for p in bead.a), "\n".join(t[b][p] for p in bead.b),
                         sum(paragraph_length(t[a][p]) for p in bead.a), sum(paragraph_length(t[b][p]) for p in bead.b),
                         bool(bead.a) and bool(bead.b), bead.cost,
                         _names(th_a, order), _names(th_b, order), _names(th_a - th_b, order),
                         _names(th_b - th_a, order)])
    return pd.DataFrame(rows, columns=cols)


def _paired(alignment: pd.DataFrame, langs) -> pd.DataFrame:
    """The beads with paragraphs on both sides (``paired``; from the paragraph lists when absent)."""
    a, b = langs
    if "paired" in alignment:
        keep = alignment["paired"].astype(str).str.lower().isin(["true", "1"])
    else:
        keep = (alignment[f"{a}_paras"].fillna("").astype(str) != "") & (alignment[f"{b}_paras"].fillna("").astype(str) != "")
    return alignment[keep.to_numpy(dtype=bool)]


def document_alignment(alignment: pd.DataFrame, langs=LANGS, length_ratio: float | str = _X["alignment"]["length_ratio"],
                       min_coverage: float = _X["comparable"]["min_coverage"],
                       max_length_factor: float = _X["comparable"]["max_length_factor"]) -> pd.DataFrame:
    """Per document of ``alignment``: how much of each version lies in aligned pairs, and whether
    the two versions are comparable (module docstring, section 2).

    Parameters
    ----------
    alignment : DataFrame
        :func:`alignment_table`'s output (``chars_{lang}`` per bead).
    langs : (str, str)
    length_ratio : float or "auto"
        c, characters of b per character of a over the corpus; "auto": the median over the
        documents of their ratio (as :func:`textdrift.align.auto_length_ratio`).
    min_coverage : float
        Least share of each version's characters in aligned pairs.
    max_length_factor : float
        Largest factor (either way) between a document's length ratio and c.

    Returns
    -------
    DataFrame
        ``doc_id, pairs, chars_{a}, chars_{b}, coverage_{a}, coverage_{b}, length_ratio,
        length_factor, comparable, note`` (note: why not comparable).
    """
    a, b = langs
    cols = _columns(a, b)["documents"]
    if alignment.empty:
        return pd.DataFrame(columns=cols)
    al = alignment.assign(_paired=alignment.index.isin(_paired(alignment, langs).index))
    rows = []
    for doc, d in al.groupby("doc_id", sort=False):
        chars = {lang: int(d[f"chars_{lang}"].sum()) for lang in langs}
        inpair = {lang: int(d.loc[d["_paired"], f"chars_{lang}"].sum()) for lang in langs}
        cov = {lang: inpair[lang] / chars[lang] if chars[lang] else np.nan for lang in langs}
        rows.append([doc, int(d["_paired"].sum()), chars[a], chars[b], cov[a], cov[b],
                     chars[b] / chars[a] if chars[a] else np.nan])
    out = pd.DataFrame(rows, columns=cols[:7])
    c = float(out["length_ratio"].median()) if length_ratio == "auto" else float(length_ratio)
    out["length_factor"] = out["length_ratio"] / c
    notes, ok = [], []
    for r in out.itertuples(index=False):
        why = []
        low = [f"{lang} {getattr(r, f'coverage_{lang}'):.0%}" for lang in langs
               if not getattr(r, f"coverage_{lang}") >= min_coverage]
        if low:
            why.append(f"share of characters in aligned pairs under {min_coverage:.0%}: {', '.join(low)} "
                       f"({a} {getattr(r, f'coverage_{a}'):.0%}, {b} {getattr(r, f'coverage_{b}'):.0%})")
        f = r.length_factor
        if not (1 / max_length_factor <= f <= max_length_factor):
            why.append(f"{b}/{a} length ratio {r.length_ratio:.2f} is {f:.2f} x the corpus ratio {c:.2f} "
                       f"(outside 1/{max_length_factor:g} to {max_length_factor:g})")
        if why:
            why.append("one version renders only part of the other (a lead, a summary)")
        ok.append(not why)
        notes.append("; ".join(why))
    out["comparable"], out["note"] = ok, notes
    return out[cols]


def pair_counts(alignment: pd.DataFrame, matches: pd.DataFrame, langs=LANGS) -> pd.DataFrame:
    """Theme matches per aligned pair and language: x_i and y_i of the module docstring.

    Parameters
    ----------
    alignment : DataFrame
        :func:`alignment_table`'s output (only its beads with both sides are used).
    matches : DataFrame
        Theme matches (doc_id, lang, para, theme).
    langs : (str, str)

    Returns
    -------
    DataFrame
        ``doc_id, pair, theme, count_{a}, count_{b}``: one row per aligned pair and theme matched
        in it on either side (pairs and themes without a match have no row: both counts 0).
    """
    a, b = langs
    where = _pair_of(alignment, langs)
    m = matches[matches["lang"].isin(langs)]
    pair = np.array([where.get(k, -1) for k in _para_keys(m)], dtype=np.int64)
    m = m.assign(pair=pair)[pair >= 0]
    cols = ["doc_id", "pair", "theme", f"count_{a}", f"count_{b}"]
    if m.empty:
        return pd.DataFrame(columns=cols).astype({f"count_{a}": "int64", f"count_{b}": "int64", "pair": "int64"})
    c = m.groupby(["doc_id", "pair", "theme", "lang"], sort=True).size().unstack("lang", fill_value=0)
    c = c.reindex(columns=list(langs), fill_value=0).reset_index()
    return c.rename(columns={a: f"count_{a}", b: f"count_{b}"})[cols].astype({f"count_{a}": "int64",
                                                                                f"count_{b}": "int64"})


def _pair_of(alignment: pd.DataFrame, langs) -> dict[tuple, int]:
    """(doc_id, lang, para) -> the aligned pair (bead number) holding that paragraph."""
    out = {}
    for r in _paired(alignment, langs).itertuples(index=False):
        for lang in langs:
            for p in str(getattr(r, f"{lang}_paras")).split(";"):
                out[(r.doc_id, lang, int(float(p)))] = int(r.pair)
    return out


def _aligned_only(df: pd.DataFrame, alignment: pd.DataFrame, langs) -> pd.DataFrame:
    """Rows of a token or match table whose (doc_id, lang, para) is in an aligned pair."""
    keep = _pair_of(alignment, langs)
    return df[np.array([k in keep for k in _para_keys(df)], dtype=bool)]


def _para_keys(df: pd.DataFrame):
    """The (doc_id, lang, para) of each row of a token or match table, as :func:`_pair_of` keys them."""
    return zip(df["doc_id"].tolist(), df["lang"].tolist(), df["para"].astype(int).tolist())


# ---- the test ---------------------------------------------------------------------------------


@lru_cache(maxsize=None)
def _conditional_p(x: int, y: int) -> float:
    """The exact conditional test's p-value of counts (x, y) (:func:`count_tests`), once per process:
    the rule tests the same small counts in every document, year and scope, and the findings' checks again.
    statsmodels' ``test_poisson_2indep(x, 1, y, 1, value=1, method="exact-cond")`` is scipy's
    ``binomtest(x, x + y, 0.5)``: :func:`textdrift.stats.binom_test` (the same floats, without
    importing ``scipy.stats``)."""
    return binom_test(x, x + y, 0.5)


def count_tests(x, y, conf: float = _D["themes"]["conf_level"]):
    """The exact conditional test of two counts on the same aligned text (null: equal expected
    counts) and the count ratio with its exact interval (module docstring, section 3).

    Parameters
    ----------
    x, y : array_like of int
        The counts of side a and side b.
    conf : float
        Confidence level of the interval.

    Returns
    -------
    ratio, ci_low, ci_high, p : ndarray
        ``x / y`` (inf when y = 0 < x, NaN when both are 0), the Clopper-Pearson interval of
        x / (x + y) turned into a ratio, and the two-sided p-value (NaN when both are 0).

    References
    ----------
    Przyborowski, J. & Wilenski, H. (1940). Homogeneity of results in testing samples from Poisson
    series. Biometrika 31(3/4), 313-323.
    Clopper, C. J. & Pearson, E. S. (1934). Biometrika 26(4), 404-413.
    """
    x, y = np.asarray(x, dtype=np.int64), np.asarray(y, dtype=np.int64)
    n = x + y
    ok = n > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(y > 0, x / np.maximum(y, 1), np.where(x > 0, np.inf, np.nan))
    p, lo, hi = (np.full(len(x), np.nan) for _ in range(3))
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        for i in np.flatnonzero(ok):
            p[i] = _conditional_p(int(x[i]), int(y[i]))
        if ok.any():
            s_lo, s_hi = clopper_pearson(x[ok], n[ok], 1 - conf)  # statsmodels' proportion_confint(method="beta")
            s_lo, s_hi = np.asarray(s_lo, float), np.asarray(s_hi, float)
            lo[ok] = s_lo / (1 - s_lo)
            hi[ok] = np.where(s_hi < 1, s_hi / (1 - np.minimum(s_hi, 1 - 1e-300)), np.inf)
    return ratio, lo, hi, np.minimum(p, 1.0)


def paired_p(d) -> float:
    """Exact two-sided paired randomization (sign-flip) test of sum(d) = 0 over the pairs.

    Under the null the two versions of each pair are exchangeable, so each difference
    d_i = x_i - y_i is as likely as -d_i. With A = sum |d_i| and T = the sum of |d_i| over the
    pairs given a + sign, S = 2T - A; the distribution of T over the 2^k sign patterns is
    computed exactly by convolution (integer d). ``p = P(|S| >= |sum d_i|)``; 1 when every d_i is 0.

    Parameters
    ----------
    d : array_like of int
        The differences of the pairs.

    Returns
    -------
    float

    References
    ----------
    Fisher, R. A. (1935). The Design of Experiments, section 21. Oliver & Boyd.
    Pitman, E. J. G. (1937). Significance tests which may be applied to samples from any
    populations. Journal of the Royal Statistical Society Supplement 4(1), 119-130.
    """
    d = np.asarray(d, dtype=np.int64)
    absd = np.abs(d[d != 0])
    if not len(absd):
        return 1.0
    total = int(absd.sum())
    dist = np.zeros(total + 1)
    dist[0] = 1.0
    top = 0
    for v in absd.tolist():
        new = dist.copy()
        new[v:top + v + 1] += dist[:top + 1]
        dist = new / 2
        top += v
    s = 2 * np.arange(total + 1) - total
    return float(min(1.0, dist[np.abs(s) >= abs(int(d.sum())) - 1e-9].sum()))


def _paired_ps(groups) -> np.ndarray:
    """:func:`paired_p` of each array of differences (cached by the sorted absolute values and the sum)."""
    cache: dict = {}
    out = []
    for d in groups:
        d = np.asarray(d, dtype=np.int64)
        key = (tuple(sorted(np.abs(d[d != 0]).tolist())), abs(int(d.sum())))
        if key not in cache:
            cache[key] = paired_p(d)
        out.append(cache[key])
    return np.array(out, dtype=float)


def pair_bootstrap(x, y, n_boot: int = _D["themes"]["n_boot"], seed: int = _D["themes"]["seed"],
                   conf: float = _D["themes"]["conf_level"]) -> tuple[float, float]:
    """Percentile interval of the count ratio sum(x) / sum(y) with the aligned pairs resampled
    (with replacement; a draw with no match on either side is left out).

    Parameters
    ----------
    x, y : array_like of int
        The counts of sides a and b in each aligned pair of the text (zeros included).
    n_boot, seed, conf
        Draws, seed and confidence level.

    Returns
    -------
    (float, float)
        The interval (NaN, NaN without a match); an end is inf when the share of a reaches 1.

    References
    ----------
    Efron, B. & Tibshirani, R. J. (1993). An Introduction to the Bootstrap. Chapman & Hall.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if not len(x) or not (x.sum() + y.sum()):
        return np.nan, np.nan
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(x), size=(n_boot, len(x)))
    sx, sy = x[idx].sum(axis=1), y[idx].sum(axis=1)
    share = sx[sx + sy > 0] / (sx + sy)[sx + sy > 0]
    lo, hi = np.quantile(share, [(1 - conf) / 2, 1 - (1 - conf) / 2])
    with np.errstate(divide="ignore"):
        return float(lo / (1 - lo)) if lo < 1 else np.inf, float(hi / (1 - hi)) if hi < 1 else np.inf


def _tested(df: pd.DataFrame, keys: list[str], langs, conf: float) -> pd.DataFrame:
    """Aggregate per-pair counts (``count_a``, ``count_b``, ``mn``, ``mx`` per row: one row per pair
    of the unit) over ``keys`` and add the test columns (module docstring, section 3) except q,
    status, pairs and tokens. Pairs without a row are pairs with d = 0: they change nothing."""
    a, b = langs
    ca, cb = df[f"count_{a}"], df[f"count_{b}"]
    g = df.assign(_ma=(ca > cb).astype(int), _mb=(ca < cb).astype(int)).groupby(keys, sort=False)
    out = g.agg(**{f"count_{a}": (f"count_{a}", "sum"), f"count_{b}": (f"count_{b}", "sum"), "mn": ("mn", "sum"),
                   "mx": ("mx", "sum"), f"pairs_{a}_more": ("_ma", "sum"), f"pairs_{b}_more": ("_mb", "sum")})
    out = out.reset_index()
    # each group's differences d_i in row order (the groups numbered as the rows of ``out``: first seen first)
    group = g.ngroup().to_numpy()
    order = np.argsort(group, kind="stable")
    d = (ca.to_numpy(dtype=np.int64) - cb.to_numpy(dtype=np.int64))[order]
    diffs = np.split(d, np.flatnonzero(np.diff(group[order])) + 1) if len(d) else []
    out["count_ratio"], out["ci_low"], out["ci_high"], out["binom_p"] = count_tests(out[f"count_{a}"],
                                                                                    out[f"count_{b}"], conf)
    n = (out[f"count_{a}"] + out[f"count_{b}"]).to_numpy()
    out["p_value"] = np.where(n > 0, _paired_ps(diffs), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["agreement"] = np.where(out["mx"] > 0, out["mn"] / out["mx"].where(out["mx"] > 0, 1), np.nan)
    return out.drop(columns=["mn", "mx"])


def _with_minmax(pairs: pd.DataFrame, langs) -> pd.DataFrame:
    a, b = langs
    return pairs.assign(mn=np.minimum(pairs[f"count_{a}"], pairs[f"count_{b}"]),
                        mx=np.maximum(pairs[f"count_{a}"], pairs[f"count_{b}"]))


def _totals(pairs: pd.DataFrame, langs) -> pd.DataFrame:
    """Per aligned pair, all themes together (theme ""); mn/mx summed over the themes."""
    a, b = langs
    p = _with_minmax(pairs, langs)
    t = p.groupby(["doc_id", "pair"], sort=False)[[f"count_{a}", f"count_{b}", "mn", "mx"]].sum().reset_index()
    return t.assign(theme="")


def _status(df: pd.DataFrame, langs, q_threshold: float, tested) -> pd.Series:
    a, b = langs
    ca, cb = df[f"count_{a}"].to_numpy(), df[f"count_{b}"].to_numpy()
    q = df["q_value"].to_numpy(float)
    status = np.where((ca == 0) & (cb == 0), "absent",
                      np.where(q <= q_threshold, np.where(ca > cb, f"{a}_more", f"{b}_more"), "similar"))
    return pd.Series(np.where(tested, status, "not_comparable"), index=df.index)


def _finish(df: pd.DataFrame, langs, q_threshold: float, tested: np.ndarray, families) -> pd.DataFrame:
    """q-values (BH within each family of tested rows with a match), status; untested rows blanked."""
    df = df.copy()
    df["q_value"] = np.nan
    has = tested & df["p_value"].notna().to_numpy()
    for fam in pd.unique(families[has]) if has.any() else []:
        at = has & (families == fam)
        df.loc[at, "q_value"] = q_values(df.loc[at, "p_value"].to_numpy(float))
    df["status"] = _status(df, langs, q_threshold, tested)
    blank = ["count_ratio", "ci_low", "ci_high", "p_value", "q_value", "binom_p", "agreement", "rank_rho"]
    df.loc[~tested, [c for c in blank if c in df]] = np.nan  # nothing compared, not even descriptively
    return df


def _tokens_of(tokens: pd.DataFrame | None, langs) -> pd.DataFrame:
    """Kept tokens per (doc_id, lang) of a token table or kept-tokens-per-paragraph table."""
    if tokens is None or tokens.empty:
        return pd.DataFrame(columns=["doc_id", *[f"tokens_{lang}" for lang in langs]])
    t = tokens[tokens["lang"].isin(langs)].groupby(["doc_id", "lang"])["keep"].sum().unstack("lang", fill_value=0)
    t = t.reindex(columns=list(langs), fill_value=0)
    return t.rename(columns={lang: f"tokens_{lang}" for lang in langs}).reset_index()


def compare_themes(pairs: pd.DataFrame, docs: pd.DataFrame, codebook: list[Theme], langs=LANGS,
                   conf: float = _D["themes"]["conf_level"], q_threshold: float = _X["q_threshold"],
                   tokens: pd.DataFrame | None = None, min_tokens: int = _D["low_data_tokens"]) -> pd.DataFrame:
    """Per (bilingual document, theme): the counts on the aligned pairs in both languages, their
    ratio with its exact interval, the paired randomization test over pairs with its BH q, the
    conditional binomial test, agreement, status (module docstring, section 3).

    Parameters
    ----------
    pairs : DataFrame
        :func:`pair_counts` (doc_id, pair, theme, count_{a}, count_{b}).
    docs : DataFrame
        One row per document: doc_id, year, pairs (the number of aligned pairs), comparable, note
        (:func:`document_alignment` joined with the years).
    codebook : list of Theme
    langs : (str, str)
    conf : float
        Confidence level of the intervals.
    q_threshold : float
        BH q at or below which a theme is counted more in one version.
    tokens : DataFrame, optional
        Kept tokens of the aligned paragraphs (doc_id, lang, keep: a flag or a count), for ``tokens_{lang}``
        and ``low_data``.
    min_tokens : int

    Returns
    -------
    DataFrame
        The columns of ``crosslingual_themes.csv``.
    """
    a, b = langs
    cols = _columns(a, b)["themes"]
    if docs.empty:
        return pd.DataFrame(columns=cols)
    themes = [t.id for t in codebook]
    grid = pd.MultiIndex.from_product([docs["doc_id"].tolist(), themes], names=["doc_id", "theme"]).to_frame(index=False)
    p = _with_minmax(pairs[pairs["doc_id"].isin(docs["doc_id"]) & pairs["theme"].isin(themes)], langs)
    stats = _tested(p, ["doc_id", "theme"], langs, conf) if len(p) else None
    df = grid.merge(stats, on=["doc_id", "theme"], how="left") if stats is not None else grid
    df = _fill_zero(df, langs, conf)
    info = docs.set_index("doc_id")
    df["year"] = df["doc_id"].map(info["year"]).astype(int)
    df["comparable"] = df["doc_id"].map(info["comparable"]).astype(bool)
    df["pairs"] = df["doc_id"].map(info["pairs"]).astype(int)
    df["note"] = df["doc_id"].map(info["note"]).fillna("")
    df = df.merge(_tokens_of(tokens, langs), on="doc_id", how="left")
    df = _low_data(df, langs, min_tokens)
    tested = df["comparable"].to_numpy(dtype=bool)
    df = _finish(df, langs, q_threshold, tested, np.zeros(len(df), dtype=int))
    return df[cols]


def _fill_zero(df: pd.DataFrame, langs, conf: float) -> pd.DataFrame:
    """Rows without a match (absent from the pair counts): counts 0, no ratio, no test, agreement NaN."""
    a, b = langs
    for c in (f"count_{a}", f"count_{b}", f"pairs_{a}_more", f"pairs_{b}_more"):
        df[c] = (df[c] if c in df else pd.Series(0, index=df.index)).fillna(0).astype("int64")
    for c in ("count_ratio", "ci_low", "ci_high", "p_value", "binom_p", "agreement"):
        if c not in df:
            df[c] = np.nan
    return df


def _low_data(df: pd.DataFrame, langs, min_tokens: int) -> pd.DataFrame:
    for lang in langs:
        c = f"tokens_{lang}"
        df[c] = (df[c] if c in df else pd.Series(0, index=df.index)).fillna(0).astype("int64")
    df["low_data"] = (df[f"tokens_{langs[0]}"] < min_tokens) | (df[f"tokens_{langs[1]}"] < min_tokens)
    return df


# ---- years, documents and the whole corpus ------------------------------------------------------


def trend_table(pairs: pd.DataFrame, docs: pd.DataFrame, codebook: list[Theme],
                settings: CrosslingualSettings | None = None, tokens: pd.DataFrame | None = None,
                index: pd.DataFrame | None = None) -> pd.DataFrame:
    """``crosslingual_trends.csv``: per document (all themes), per year and theme, and per theme
    over every comparable document (module docstring, section 4).

    Parameters
    ----------
    pairs : DataFrame
        :func:`pair_counts`.
    docs : DataFrame
        :func:`document_alignment` with ``year``: every bilingual document.
    codebook : list of Theme
    settings : CrosslingualSettings, optional
        ``langs``; ``conf_level``, ``q_threshold``, ``min_tokens`` as in :func:`compare_themes`;
        ``min_years``, the fewest years with a comparable document for ``rank_rho`` across years.
    tokens : DataFrame, optional
        As in :func:`compare_themes`.
    index : DataFrame, optional
        The clean-text index (doc_id, year, lang): a year's note names its documents in one
        language only.

    Returns
    -------
    DataFrame
        The columns of ``crosslingual_trends.csv``.
    """
    s = settings or CrosslingualSettings()
    langs, conf, q_threshold, min_years, min_tokens = tuple(s.langs), s.conf_level, s.q_threshold, s.min_years, s.min_tokens
    a, b = langs
    cols = _columns(a, b)["trends"]
    if docs.empty:
        return pd.DataFrame(columns=cols)
    themes = [t.id for t in codebook]
    info = docs.set_index("doc_id")
    p = pairs[pairs["doc_id"].isin(docs["doc_id"]) & pairs["theme"].isin(themes)]
    per_theme = _with_minmax(p, langs)
    both = pd.concat([per_theme, _totals(p, langs)], ignore_index=True)
    both["year"] = both["doc_id"].map(info["year"]).astype(int)
    tok = _tokens_of(tokens, langs).set_index("doc_id") if tokens is not None else None
    comparable = set(docs.loc[docs["comparable"].astype(bool), "doc_id"])

    def rho(x, y) -> float:
        x, y = np.asarray(x, float), np.asarray(y, float)
        use = (x > 0) | (y > 0)
        if use.sum() < 2 or np.ptp(x[use]) == 0 or np.ptp(y[use]) == 0:
            return np.nan
        return spearman_rho(x[use], y[use])

    frames = []
    # documents: all themes together, with the comparability measures
    d = both[both["theme"] == ""]
    st = _tested(d, ["doc_id"], langs, conf) if len(d) else pd.DataFrame({"doc_id": []})
    doc = docs.reindex(columns=["doc_id", "year", "pairs", f"chars_{a}", f"chars_{b}", f"coverage_{a}",
                                f"coverage_{b}", "length_ratio", "length_factor", "comparable", "note"])
    doc = doc.merge(st, on="doc_id", how="left")
    doc = _fill_zero(doc, langs, conf)
    per_doc_theme = per_theme.groupby(["doc_id", "theme"])[[f"count_{a}", f"count_{b}"]].sum()
    # each document's counts over the codebook's themes (0 where not matched), one table per side
    side = {c: per_doc_theme[c].unstack("theme", fill_value=0).reindex(columns=themes, fill_value=0)
            for c in (f"count_{a}", f"count_{b}")}
    at = {x: i for i, x in enumerate(side[f"count_{a}"].index)}
    va, vb = side[f"count_{a}"].to_numpy(), side[f"count_{b}"].to_numpy()
    doc["rank_rho"] = [rho(va[at[x]], vb[at[x]]) if x in at else np.nan for x in doc["doc_id"]]
    doc["scope"], doc["theme"] = "document", ""
    for lang in langs:
        doc[f"tokens_{lang}"] = doc["doc_id"].map(tok[f"tokens_{lang}"]) if tok is not None else 0
    frames.append(doc)
    # years and the whole corpus: the comparable documents pooled
    cmp = both[both["doc_id"].isin(comparable)]
    years = sorted({int(info.loc[x, "year"]) for x in comparable})
    held = {}
    if index is not None:
        for y in sorted(set(index["year"].astype(int))):
            held[y] = {lang: set(index.loc[(index["year"].astype(int) == y) & (index["lang"] == lang), "doc_id"])
                       for lang in langs}
    year_rows = []
    for y in sorted(set(docs["year"].astype(int))):
        in_year = docs[docs["year"].astype(int) == y]
        ok = sorted(set(in_year["doc_id"]) & comparable)
        notes = [f"not comparable, left out: {r.doc_id} ({r.note})" for r in in_year.itertuples() if not r.comparable]
        if y in held:
            for lang, other in ((a, b), (b, a)):
                only = held[y][lang] - held[y][other]
                if only:
                    notes.append(f"{lang} only: " + ", ".join(sorted(only)))
        if not ok:  # every bilingual document of the year is not comparable: one row that says so
            year_rows.append(pd.DataFrame({"scope": ["year"], "year": [y], "doc_id": [";".join(in_year["doc_id"])],
                                           "theme": [""], "pairs": [0], "comparable": [False],
                                           "note": ["; ".join(notes)]}))
            continue
        c = cmp[cmp["year"] == y]
        st = _tested(c, ["theme"], langs, conf) if len(c) else pd.DataFrame({"theme": []})
        g = pd.DataFrame({"theme": ["", *themes]}).merge(st, on="theme", how="left")
        g = _fill_zero(g, langs, conf)
        g["scope"], g["year"], g["doc_id"] = "year", y, ";".join(ok)
        g["pairs"] = int(info.loc[ok, "pairs"].sum())
        g["note"] = "; ".join(notes)
        g["rank_rho"] = np.nan
        g.loc[g["theme"] == "", "rank_rho"] = rho(g.loc[g["theme"] != "", f"count_{a}"],
                                                   g.loc[g["theme"] != "", f"count_{b}"])
        for lang in langs:
            g[f"tokens_{lang}"] = int(tok.reindex(ok)[f"tokens_{lang}"].fillna(0).sum()) if tok is not None else 0
        year_rows.append(g)
    frames += year_rows
    if comparable:
        ok = sorted(comparable)
        st = _tested(cmp, ["theme"], langs, conf) if len(cmp) else pd.DataFrame({"theme": []})
        g = pd.DataFrame({"theme": ["", *themes]}).merge(st, on="theme", how="left")
        g = _fill_zero(g, langs, conf)
        g["scope"], g["year"], g["doc_id"] = "all", pd.NA, ";".join(ok)
        g["pairs"] = int(info.loc[ok, "pairs"].sum())
        g["rank_rho"] = np.nan
        note = f"rank_rho across {len(years)} years" if len(years) >= min_years else (
            f"too few years with a comparable document for rank_rho ({len(years)} < {min_years})")
        g["note"] = note
        if len(years) >= min_years:
            by_year = cmp.groupby(["theme", "year"])[[f"count_{a}", f"count_{b}"]].sum()
            for i, t in g["theme"].items():
                if t:
                    v = by_year.loc[t].reindex(years, fill_value=0) if t in by_year.index.get_level_values(0) else None
                    g.loc[i, "rank_rho"] = rho(v[f"count_{a}"], v[f"count_{b}"]) if v is not None else np.nan
        for lang in langs:
            g[f"tokens_{lang}"] = int(tok.reindex(ok)[f"tokens_{lang}"].fillna(0).sum()) if tok is not None else 0
        frames.append(g)
    out = pd.concat(frames, ignore_index=True)
    out = _low_data(out, langs, min_tokens)
    out["comparable"] = out["comparable"].where(out["scope"] == "document", out["comparable"].fillna(True))
    out["comparable"] = out["comparable"].astype(bool)
    out = _fill_zero(out, langs, conf)
    tested = out["comparable"].to_numpy(dtype=bool)
    out = _finish(out, langs, q_threshold, tested, out["scope"].to_numpy())
    out["year"] = out["year"].astype("Int64")
    return out[cols]


# ---- codebook check ---------------------------------------------------------------------------


def codebook_check(matches: pd.DataFrame, codebook: list[Theme], alignment: pd.DataFrame, langs=LANGS) -> pd.DataFrame:
    """Per theme: terms matched in each language in the aligned pairs, and where it is one-sided.

    ``matches`` should hold only the matches in aligned pairs of the documents compared (the rule
    passes those of the comparable documents); ``alignment`` is :func:`alignment_table`'s output for
    those documents: its pairs with paragraphs on both sides are checked for themes matched on one
    side only (``pairs_only_{lang}``: "doc #pair: the terms that matched").

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
    for key, term in zip(zip(m["doc_id"].tolist(), m["lang"].tolist(), m["para"].tolist(), m["theme"].tolist()),
                         m["term"].tolist()):
        terms_at.setdefault(key, []).append(term)
    rows_of = m.groupby(["theme", "lang"], sort=False).indices  # positions in table order
    pairs = _paired(alignment, langs)
    pair_list = {lang: list(zip(pairs["doc_id"], pairs["pair"], pairs[f"{lang}_paras"],
                                pairs[f"only_{lang}"].fillna("").astype(str).str.split(";")))
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
                    for term in terms_at.get((doc, lang, int(float(p)), t.id), [])))
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
            note += "; one language only in the aligned pairs of " + ", ".join(docs_one)
        rows.append([t.id, ca, cb, listed[a], listed[b], one_sided_pairs[a], one_sided_pairs[b], note])
    return pd.DataFrame(rows, columns=_columns(a, b)["codebook"])


def pair_check(matches: pd.DataFrame, codebook: list[Theme], langs=LANGS, conf: float = _D["themes"]["conf_level"],
               q_threshold: float = _X["q_threshold"]) -> pd.DataFrame:
    """``codebook_pairs.csv``: each translation pair of the codebook (``pairs:``) counted on both
    sides in ``matches`` (the rule passes the matches in the aligned pairs of the comparable
    documents), with the count ratio, its exact interval and the conditional test of
    :func:`count_tests` (null: equal counts), BH q over the pairs with both sides and a match.
    A pair whose sides are counted very differently measures the codebook, not the texts:
    ``status`` ``{a}_more`` / ``{b}_more`` (q <= q_threshold) means one side's terms are broader,
    or renderings are missing on the other. Unpaired terms get a row each (``status`` unpaired,
    their count, ``why``); a theme without pairs one row (``no_pairs``); a pair with terms on one
    side only is ``one_sided``; both counts 0: ``absent``.

    Parameters
    ----------
    matches : DataFrame
        Theme matches (lang, theme, term).
    codebook : list of Theme
    langs : (str, str)
    conf : float
        Confidence level of the intervals.
    q_threshold : float

    Returns
    -------
    DataFrame
        The columns of ``codebook_pairs.csv``: one row per pair, unpaired term, or theme without pairs.
    """
    a, b = langs
    m = matches[matches["lang"].isin(langs)]
    counts = m.groupby(["theme", "lang", "term"]).size()
    rows = []
    for t in codebook:
        def count(lang, terms):
            return int(sum(counts.get((t.id, lang, term), 0) for term in terms))
        if not t.pairs:
            rows.append({"theme": t.id, "pair": "", "status": "no_pairs",
                         "note": "the theme declares no translation pairs"})
        for j, (sides, note) in enumerate(t.pairs, start=1):
            rows.append({"theme": t.id, "pair": j, f"terms_{a}": "; ".join(sides.get(a, ())),
                         f"terms_{b}": "; ".join(sides.get(b, ())), f"count_{a}": count(a, sides.get(a, ())),
                         f"count_{b}": count(b, sides.get(b, ())), "status": "" if sides.get(a) and sides.get(b)
                         else "one_sided", "note": note})
        for lang, term, why in t.unpaired:
            rows.append({"theme": t.id, "pair": "", f"terms_{lang}": term,
                         f"count_{lang}": int(counts.get((t.id, lang, term), 0)), "status": "unpaired", "note": why})
    df = pd.DataFrame(rows, columns=_columns(a, b)["pairs"])
    test = (df["status"] == "").to_numpy()
    ya = df[f"count_{a}"].fillna(0).astype(int).to_numpy()
    yb = df[f"count_{b}"].fillna(0).astype(int).to_numpy()
    if test.any():
        r, lo, hi, p = count_tests(ya[test], yb[test], conf)
        df.loc[test, "count_ratio"], df.loc[test, "ci_low"], df.loc[test, "ci_high"], df.loc[test, "p_value"] = r, lo, hi, p
        has = test & df["p_value"].notna().to_numpy()
        df.loc[has, "q_value"] = q_values(df.loc[has, "p_value"].to_numpy(float))
        more = df["q_value"].to_numpy(float) <= q_threshold
        status = np.where((ya == 0) & (yb == 0), "absent", np.where(more, np.where(ya > yb, f"{a}_more", f"{b}_more"),
                                                                    "similar"))
        df.loc[test, "status"] = status[test]
        for i in np.flatnonzero(test & more):
            side = df.at[i, "status"].split("_")[0]
            extra = "counted more in the same passages: its terms may be broader, or the other side lacks renderings"
            df.at[i, "note"] = f"{side} {extra}" + (f"; {df.at[i, 'note']}" if df.at[i, "note"] else "")
    for c in (f"count_{a}", f"count_{b}"):
        df[c] = df[c].astype("Int64")
    df["pair"] = df["pair"].astype(object)
    return df


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


def compare_documents(texts: dict, matches: pd.DataFrame, tokens: pd.DataFrame, docs: pd.DataFrame,
                      codebook: list[Theme], settings: CrosslingualSettings | None = None,
                      index: pd.DataFrame | None = None, memo: AlignmentMemo | None = None) -> dict[str, pd.DataFrame]:
    """Every table of the rule from the texts, matches and kept tokens of the bilingual documents.

    Parameters
    ----------
    texts : dict
        ``texts[doc][lang]`` = paragraphs.
    matches : DataFrame
        Theme matches (doc_id, lang, para, theme, term).
    tokens : DataFrame
        Kept tokens per paragraph (doc_id, lang, para, keep).
    docs : DataFrame
        :func:`bilingual_documents`.
    codebook : list of Theme
    settings : CrosslingualSettings, optional
        ``langs``; ``alignment`` (:func:`alignment_table`; ``length_ratio`` also sets c of
        :func:`document_alignment`); ``comparable`` (``min_coverage``, ``max_length_factor`` of
        :func:`document_alignment`); ``conf_level``, ``q_threshold``, ``min_tokens``,
        ``min_years``, ``unspaced_languages`` as in :func:`compare_themes` and :func:`trend_table`.
    index : DataFrame, optional
        As in :func:`trend_table`.
    memo : AlignmentMemo, optional
        As in :func:`alignment_table`.

    Returns
    -------
    dict
        ``alignment``, ``documents``, ``pairs``, ``themes``, ``trends``, ``codebook_check``, ``codebook_pairs``.
    """
    s = settings or CrosslingualSettings()
    langs, conf, q_threshold, min_tokens = tuple(s.langs), s.conf_level, s.q_threshold, s.min_tokens
    alignment = dict(s.alignment or {})
    align = alignment_table(texts, matches, codebook, s, memo)
    info = document_alignment(align, langs, alignment.get("length_ratio", _X["alignment"]["length_ratio"]),
                              **(s.comparable or {}))
    info = docs[["doc_id", "year"]].merge(info, on="doc_id", how="inner") if len(info) else info.assign(year=[])
    pairs = pair_counts(align, matches, langs)
    kept = _aligned_only(tokens, align, langs) if len(align) else tokens.iloc[:0]
    ok = set(info.loc[info["comparable"].astype(bool), "doc_id"]) if len(info) else set()
    if len(info):
        for r in info[~info["comparable"].astype(bool)].itertuples():
            log.info("not comparable: %s (%s)", r.doc_id, r.note)
    ok_align = align[align["doc_id"].isin(ok)]
    ok_matches = _aligned_only(matches[matches["doc_id"].isin(ok)], ok_align, langs) if len(ok_align) else matches.iloc[:0]
    return {
        "alignment": align,
        "documents": info,
        "pairs": pairs,
        "themes": compare_themes(pairs, info, codebook, langs, conf, q_threshold, kept, min_tokens),
        "trends": trend_table(pairs, info, codebook, s, kept, index),
        "codebook_check": codebook_check(ok_matches, codebook, ok_align, langs),
        "codebook_pairs": pair_check(ok_matches, codebook, langs, conf, q_threshold),
    }


def _kept_paragraphs(paths, langs) -> pd.DataFrame:
    """The paragraphs with kept tokens in ``langs`` of the shards' kept tokens per paragraph
    (:data:`textdrift.counting.PARA_COLUMNS`), filtered shard by shard: the rows (and index labels)
    of ``read_shards(paths)`` filtered as a whole, without holding every paragraph of the corpus."""
    frames, offset = [], 0
    for p in paths:
        t = read_shards([p], PARA_COLUMNS)
        t.index = pd.RangeIndex(offset, offset + len(t))
        offset += len(t)
        frames.append(t[t["lang"].isin(langs) & t["keep"].astype(bool)])
    return pd.concat(frames) if frames else pd.DataFrame(columns=PARA_COLUMNS)


def write_crosslingual(files: CrosslingualFiles, settings: CrosslingualSettings | None = None,
                       memo: AlignmentMemo | None = None):
    """The `crosslingual` rule's tables: the four tables and the codebook's translation pairs
    (``files.pairs``, :func:`pair_check`). ``files.texts``: the clean texts' shard files
    (:func:`textdrift.io.read_texts`) holding the bilingual documents. The chart is drawn from the
    returned table by :func:`textdrift.figures.crosslingual_chart` (the rule script): no analysis
    module imports :mod:`textdrift.figures`.

    Reads the `theme_matches` rule's matches (without their KWIC context) and the ``count`` rule's
    kept tokens per paragraph (``keep`` = how many), so no token is matched twice; the texts for
    the alignment come from the clean files.

    Parameters
    ----------
    files : CrosslingualFiles
        The rule's input and output files.
    settings : CrosslingualSettings, optional
        The schema's defaults when None.
    memo : AlignmentMemo, optional
        The documents' alignments of an earlier run (:func:`alignment_memo`), saved again after
        the tables are written.

    Returns
    -------
    (DataFrame, list of Theme)
        ``crosslingual_themes.csv`` as written (:func:`compare_themes`) and the codebook: what the
        chart draws.
    """
    s = settings or CrosslingualSettings()
    langs = tuple(s.langs)
    codebook = load_codebook(files.codebook, files.schema)
    # shard by shard, only what the bilingual documents need: the paragraphs with kept tokens of the
    # two languages, then of those documents only their texts and their matches (never the corpus)
    tokens = _kept_paragraphs(files.paras, langs)
    index = read_csv(files.index)
    docs = bilingual_documents(index, tokens, langs)
    tokens = tokens[tokens["doc_id"].isin(docs["doc_id"])]
    every_text = read_texts(files.texts, set(docs["doc_id"]))  # the shards' clean texts (the files the index names)
    texts = {d: {lang: every_text[(d, lang)] for lang in langs} for d in docs["doc_id"]}
    del every_text
    import pyarrow as pa
    import pyarrow.compute as pc

    ids, pair = pa.array(docs["doc_id"].astype(str).tolist(), pa.string()), pa.array(list(langs), pa.string())
    matches = read_matches(files.matches, codebook, [c for c in MATCH_COLUMNS if c not in ("left", "match", "right")],
                           keep=lambda t: pc.and_(pc.is_in(t["lang"], value_set=pair),
                                                  pc.is_in(t["doc_id"], value_set=ids)))
    matches = matches.to_pandas()
    matches = matches[matches["lang"].isin(langs) & matches["doc_id"].isin(docs["doc_id"])].reset_index(drop=True)
    out = compare_documents(texts, matches, tokens, docs, codebook, s, index, memo)
    write_csv(out["themes"], files.themes)
    write_csv(out["alignment"], files.alignment)
    write_csv(out["codebook_check"], files.codebook_check)
    if files.pairs is not None:
        write_csv(out["codebook_pairs"], files.pairs)
    write_csv(out["trends"], files.trends)
    if memo is not None:
        memo.save()
        log.info("alignment memo %s: %d documents from the memo, %d aligned", memo.path, memo.hits, memo.misses)
    t = out["themes"]
    log.info("%d bilingual documents (%d comparable), %d aligned pairs, %d themes counted more in one version",
             len(docs), int(out["documents"]["comparable"].astype(bool).sum()) if len(out["documents"]) else 0,
             int(out["alignment"]["paired"].sum()) if len(out["alignment"]) else 0,
             int(t["status"].str.endswith("_more").sum()))
    return t, codebook


def run_crosslingual(input, output, params, log, config: dict | None = None):
    """Rule ``crosslingual``: Chinese against English in the bilingual documents (the tables; the
    rule script then draws the chart from what this returns).

    Parameters
    ----------
    input, output, params : Snakemake's named lists of the rule (``workflow/rules/crosslingual.smk``)
        Attribute access by the names the rule gives; any object with those attributes works.
    log : list of str
        The job's log file (first item).
    config : dict, optional
        The workflow's configuration (``snakemake.config``): the alignment memo's setting
        (``crosslingual.alignment_memo``) and ``processed_dir`` (:func:`alignment_memo`); None: no memo.

    Returns
    -------
    (DataFrame, list of Theme, CrosslingualSettings)
        :func:`write_crosslingual`'s table and codebook, and the settings the rule passed.
    """
    from textdrift.io import log_to_file

    log_to_file(log[0])
    settings = CrosslingualSettings.from_params(params)
    themes, codebook = write_crosslingual(CrosslingualFiles.of_rule(input, output), settings, alignment_memo(config))
    return themes, codebook, settings
