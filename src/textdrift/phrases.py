"""Year-over-year phrase changes: weighted log-odds ratio with an informative Dirichlet prior.

Method (Monroe, Colaresi & Quinn 2008, "Fightin' Words: Lexical Feature Selection and
Evaluation for Identifying the Content of Political Conflict", *Political Analysis* 16(4),
372-403, section 3.5)
---------------------------------------------------------------------------------------
* **Phrases** are runs of kept tokens (``norm``) inside one sentence, never across a punctuation
  token, words joined by one space: the n-grams (n = 1..``ngram_max``) of the year matrices
  written by :mod:`textdrift.vectorize` (``data/processed/vectors/year_{lang}.npz``;
  ``ngram_max`` may not exceed ``vectorize.ngram_max``), and the *recurring* ones of
  ``ngram_max + 1``..``max_length`` tokens, counted here from the token shards level by level
  (:func:`long_counts`, Apriori: Agrawal & Srikant 1994), with a remainder column per order
  (:data:`REST`) that keeps each order's totals exact (:func:`with_long`).
* **Formulations stay whole**: inside an occurrence of a formulation of the codebook, the user
  dictionary or ``new_formulations.csv`` (:func:`protected_formulations`), a stop word or dropped
  token is *bridged*: a phrase may hold it inside, never at an end (改革开放 和 现代化).
* **Units** (:func:`fold_pieces`): in each step a tested phrase whose most frequent extension
  (a tested phrase beginning or ending with it) holds at least ``fold_share`` of its occurrences
  is a piece of it, folded into it (the nested-term frequency of the C-value: Frantzi, Ananiadou
  & Mima 2000): not tested, not listed; ``pieces`` counts them on their unit.
* **Steps**: for each language, the *available* years (year-documents with at least one
  kept token, sorted) are compared pairwise in order: 2017 -> 2022 -> 2023 -> 2024. A
  language with fewer than two available years yields no rows (logged).
* **Which phrases are tested**: those occurring at least ``min_count`` times in the two
  compared years together (count_from + count_to >= min_count); the choice is per step, so
  a phrase frequent only in other years is not tested in this one.
* **Totals per n-gram order**: for phrase w of order n, ``n_from``/``n_to`` are the total
  counts of *all* phrases of order n in that year (tested or not): unigram totals for
  unigrams, bigram totals for bigrams, ... so each order is its own multinomial and its
  probabilities are comparable. (The orders overlap - a bigram's words are also counted
  as unigrams - which is why they are not pooled into one total.)
* **Prior**: the language's whole corpus (all years). With c_w the count of w in it and
  C_n the total of order n in it,

      alpha_w = alpha_0 * c_w / C_n            (so the alpha_w of one order sum to alpha_0)

  ``alpha_0`` (the prior's weight, in pseudo-counts) is per order: ``"auto"`` (default) =
  the median, over the language's available year-documents, of their total of order n,
  i.e. the prior counts as much as one typical year of text. It scales with the corpus,
  as Monroe et al. scale their prior to the corpus, so the same setting suits 2,000 or
  2,000,000 tokens a year; a year much smaller than that (the one-paragraph Chinese 2022)
  is pulled strongly towards the corpus-wide rate instead of producing wild ratios. A
  positive number fixes alpha_0 for every order.
* **Statistic** for each tested phrase (Monroe et al. eqs. 16, 18, 19/22):

      delta_w = log((y_to + a_w) / (n_to + a_0 - y_to - a_w))
              - log((y_from + a_w) / (n_from + a_0 - y_from - a_w))
      var_w   = 1 / (y_to + a_w) + 1 / (y_from + a_w)
      z_w     = delta_w / sqrt(var_w)

  ``log_odds`` = delta_w; positive means relatively more frequent in ``year_to``.
* **Bounded prior**: in each step, alpha_0 of order n is at most the smaller of the two years'
  totals of order n (at least 1), so the prior never weighs more than the smaller year; a
  year much smaller than the corpus is no longer pulled wholesale to the corpus rate.
* **Test at the sampling unit** (Lijffijt et al. 2016, "Significance testing of word frequencies
  in corpora", *Digital Scholarship in the Humanities* 31(2)): z above treats tokens as independent;
  the p-value does not. Per step the unit is the **documents** of the two years when both have at
  least ``min_documents`` (``doc_{lang}.npz``), else their **paragraphs** (the `count` rule's
  paragraph n-gram shards), else none (``tokens``). The score statistic of the two rates
  (:func:`score_z`, no prior) is divided by the square root of the phrase's quasi-Poisson
  dispersion between the units (:func:`dispersion`: Pearson X2 around each year's own rate over
  U_from + U_to - 2 df, floored at 1; McCullagh & Nelder 1989)::

      t_w = s_w / sqrt(phi_w),   p = 2 P(T_df > |t_w|)     (the normal when df is undefined)

* **Error control**: ``q`` = Benjamini-Hochberg adjusted p over all phrases tested in the step and
  language (``scipy.stats.false_discovery_control``; Benjamini & Hochberg 1995, JRSS B 57(1),
  289-300): the expected share of false discoveries among the phrases called rising or falling is
  at most ``q_threshold``.
* **Status** (``q_threshold``, config ``phrases.q_threshold``): a change is called when q <= q_threshold and the
  phrase's own rate (count / total of its order) moved in the direction of t: ``new`` =
  count_from == 0 and called up; ``gone`` = count_to == 0 and called down; ``rising``,
  ``falling``; else ``stable``. A step in which either year has fewer than ``min_tokens`` (the
  top-level ``low_data_tokens``) kept unigrams is ``insufficient`` for every phrase: too little text
  to call any change. new/gone are relative to the previous available year only.
* **Minimum detectable rate ratio** per step (:func:`min_detectable_ratio`): the smallest ratio a
  phrase of the step's median count and dispersion would be detected at with ``power``.
* **Exploratory ranking** (:func:`effect_size`, :func:`effect_rank`): ``effect`` = the posterior
  mean of the log rate ratio under a weak Gamma prior of each year's rate (mean: the phrase's pooled
  rate in the step; shape ``effect_prior``), with its interval at ``conf_level``; ``effect_rank`` ranks a step's phrases on their side by it. The
  step's ``ranking`` (``phrase_steps.csv``) is ``exploratory`` when no phrase reaches q <=
  ``q_threshold``: the statuses decide nothing there, the effect orders the phrases.

Output (``results/tables/phrase_changes.csv``, every tested phrase, sorted by lang,
year_from, descending z): ``lang, year_from, year_to, phrase, n, count_from, count_to,
total_from, total_to, alpha_w, alpha_0, log_odds, z, dispersion, df, t, p, q, status, pieces, effect,
effect_low, effect_high, effect_rank, display``
(``total_*``: n-grams of order ``n``, so rates are per n-gram of the same order, not per token).
``log_odds``, ``z``, ``t`` and ``p`` can be recomputed from the other columns of their row with the
formulas above. ``display`` is ``phrase`` with the spaces between words removed for languages written
without spaces (``unspaced_languages``, e.g. "数字 经济" -> "数字经济"), and with each name's token
(``@id``) as the entity's label in the row's language (:func:`entity_display`: "高举@deng_theory" ->
"高举邓小平理论"); note that the bigram "数字 经济" and the dictionary word "数字经济" then display
alike (``n`` tells them apart).
``results/tables/phrase_steps.csv``: one row per step (``STEP_COLUMNS``: its unit, units, tested
phrases, median count and dispersion, minimum detectable ratio, status counts, pieces folded, the
lowest q and the ``ranking``) and ``genre_match``. Settings travel as one :class:`PhraseSettings`.

Comparing any two groups of documents from a notebook (``a`` plays ``year_from``)::

    from textdrift.vectorize import load_matrix
    from textdrift.phrases import group_phrase_changes, row_counts
    m = load_matrix("data/processed/vectors/doc_en.npz")
    a = row_counts(m, m.rows["doc_id"].isin(["doc_a1", "doc_a2"]))
    b = row_counts(m, m.rows["doc_id"].isin(["doc_b"]))
    group_phrase_changes(a, b, prior_counts=row_counts(m))      # prior: all documents

(or build ``m`` with ``vectorize.count_matrix(tokens.assign(group=...), ["group"])``).

About 2,430 lines, half of them docstrings (the method and its formulas, above): one method, the
phrase changes between consecutive years and between any two groups of documents, with the
counting of its long units and their folding.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from textdrift.config import UNSPACED_LANGUAGES, defaults
from textdrift.counting import ENTITY_HEAD, frequent_extensions, key_order, run_room
from textdrift.io import read_csv, write_csv, write_csv_batches
from textdrift.io import release_memory as _release_memory  # Arrow's pool and glibc's heap, after each shard
from textdrift.stats import log_odds_dirichlet, q_values
from textdrift.vectorize import SEP, CountMatrix, load_matrix, year_matrix_of

_D = defaults()  # the configuration schema's defaults: every keyword default below that is a config setting
_P = _D["phrases"]

__all__ = ["COLUMNS", "GROUP_COLUMNS", "LongCounts", "entity_display", "PHRASE_STEP_COLUMNS", "PhraseSettings", "REST", "RANKINGS",
           "STATUSES", "STEP_COLUMNS", "UNITS", "dispersion", "effect_rank", "effect_size", "fold_pieces", "is_rest",
           "long_counts", "codebook_formulations", "codebook_protected", "protected_formulations", "removed_vocabulary",
           "run_removed_vocabulary", "splittable", "with_long",
           "min_detectable_ratio", "score_z", "t_p_values", "unit_stats", "check_ngram_max", "group_phrase_changes", "ngram_order",
           "order_totals", "phrase_changes", "PhraseVocabulary", "recount_changes", "row_counts", "write_phrases", "status", "run_phrases"]

log = logging.getLogger("textdrift.phrases")

GROUP_COLUMNS = ["phrase", "n", "count_from", "count_to", "total_from", "total_to",
                 "alpha_w", "alpha_0", "log_odds", "z", "dispersion", "df", "t", "p", "q", "status",
                 "pieces", "effect", "effect_low", "effect_high", "effect_rank"]
COLUMNS = ["lang", "year_from", "year_to", *GROUP_COLUMNS, "display"]
STATUSES = ("new", "gone", "rising", "falling", "stable", "insufficient")
#: the columns of :data:`textdrift.manifest.STEP_COLUMNS` that ``phrase_changes.csv`` repeats on each
#: phrase (the step's ``docs_from, docs_to, genres_from, genres_to`` are in ``tfidf_drift.csv``)
PHRASE_STEP_COLUMNS = ["genre_match"]


# ---- settings ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PhraseSettings:
    """The settings of the phrase changes, one object (defaults: the configuration schema's).

    Attributes
    ----------
    min_count, alpha_0, q_threshold, min_documents, power, ngram_max, max_length, fold_share,
    effect_prior, conf_level
        Config ``phrases.*`` (docs/configuration.md).
    min_tokens : int
        A step with a year under this many kept unigrams is ``insufficient`` (config ``low_data_tokens``;
        0 here, so that a notebook's call tests every step).
    unspaced_languages : tuple of str
        Languages whose ``display`` drops the spaces between words.
    vectorize_ngram_max : int
        ``vectorize.ngram_max``: the longest n-gram of the matrices (:func:`check_ngram_max`).
    count_roles : tuple of str
        Paragraph roles counted (config ``count_roles``), for the units counted from the tokens.
    group_by : str or None
        A manifest column: the table again for each group of documents (``grouped_csv``).
    """

    min_count: int = _P["min_count"]
    alpha_0: float | str | Mapping = _P["alpha_0"]
    q_threshold: float = _P["q_threshold"]
    min_documents: int = _P["min_documents"]
    power: float = _P["power"]
    ngram_max: int | None = _P["ngram_max"]
    max_length: int = _P["max_length"]
    fold_share: float | None = _P["fold_share"]
    effect_prior: float = _P["effect_prior"]
    conf_level: float = _P["conf_level"]
    min_tokens: int = 0
    unspaced_languages: tuple = tuple(UNSPACED_LANGUAGES)
    vectorize_ngram_max: int = _D["vectorize"]["ngram_max"]
    count_roles: tuple = tuple(_D["count_roles"])
    group_by: str | None = None

    @classmethod
    def of(cls, settings=None, **overrides) -> "PhraseSettings":
        """Settings from a PhraseSettings or a mapping of its fields (a rule's params), then ``overrides``.

        Parameters
        ----------
        settings : PhraseSettings or mapping, optional
        **overrides
            Fields to replace.

        Returns
        -------
        PhraseSettings

        Raises
        ------
        ValueError
            On a name that is not a field.
        """
        base = {f.name: getattr(settings, f.name) for f in fields(cls)} if isinstance(settings, cls) \
            else dict(settings or {})
        base.update(overrides)
        names = {f.name for f in fields(cls)}
        if set(base) - names:
            raise ValueError(f"unknown phrase setting(s) {sorted(set(base) - names)}; known: {sorted(names)}")
        for k in ("unspaced_languages", "count_roles"):
            if k in base and base[k] is not None and not isinstance(base[k], tuple):
                base[k] = tuple(base[k])
        return cls(**base)


# ---- phrase units longer than the matrices' n-grams (counted from the tokens) ---------------------

#: the name of the column that holds, per order n, the n-grams of a unit not listed as columns
#: (those that do not recur): REST repeated n times, joined by SEP. Never tested, never written; it
#: keeps each order's totals exact.
REST = "\x00"


def _rest_name(n: int) -> str:
    return SEP.join([REST] * n)


def is_rest(vocab) -> np.ndarray:
    """True for the remainder columns (:data:`REST`) of a vocabulary.

    Parameters
    ----------
    vocab : sequence of str

    Returns
    -------
    ndarray of bool
    """
    v = np.asarray(vocab, dtype=object)
    if not len(v):
        return np.zeros(0, dtype=bool)
    try:
        return pc.starts_with(pa.array(v, type=pa.string()), REST).to_numpy(zero_copy_only=False).astype(bool)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all strings
        return np.array([str(x).startswith(REST) for x in v], dtype=bool)


@dataclass
class LongCounts:
    """The recurring n-grams of orders ``lo``..``hi`` of one language, per year, document and paragraph.

    Each matrix has one column per recurring n-gram (corpus count >= ``min_count``) plus one
    remainder column per order (:data:`REST`), so that the row totals of every order are exact.

    Attributes
    ----------
    year, doc, para : CountMatrix
        Rows ``year``; ``doc_id, year``; ``year, doc_id, para``.
    """

    year: CountMatrix
    doc: CountMatrix
    para: CountMatrix


def codebook_formulations(codebook, languages) -> dict[str, list[str]]:
    """The codebook's part of :func:`protected_formulations`, per language: its terms of each
    language (globs left out), lower-cased, distinct, sorted. The rule ``phrases`` takes this as a
    param rather than the codebook file as an input, so that a codebook edit reruns the phrase
    changes only when these strings change (a new label, glob, pair or theme does not).

    Parameters
    ----------
    codebook : str or Path
        The theme codebook (config ``themes.codebook``).
    languages : sequence of str

    Returns
    -------
    dict of str to list of str
    """
    from textdrift.codebook import load_codebook

    themes = load_codebook(codebook)
    out = {}
    for lang in languages:
        terms = {t.lower().strip() for theme in themes for t in theme.terms.get(lang, ())
                 if not any(ch in t for ch in "*?[") and t.strip()}
        out[lang] = sorted(terms)
    return out


def protected_formulations(lang: str, codebook=None, user_dict=None, formulations=None, terms=None) -> list[str]:
    """The formulations of ``lang`` that the stop-word and dropped-token rules may not split.

    The codebook's terms of ``lang`` (globs left out; read from ``codebook``, or given as ``terms``,
    :func:`codebook_formulations`), the lines of the user dictionary (first field; unspaced
    languages only) and the ``formulation`` column of ``new_formulations.csv`` for ``lang``.

    Parameters
    ----------
    lang : str
    codebook : str or Path, optional
        The theme codebook (config ``themes.codebook``).
    user_dict : str or Path, optional
        The segmenter's user dictionary (config ``segment.zh_user_dict``).
    formulations : str, Path or DataFrame, optional
        ``results/tables/new_formulations.csv``.
    terms : sequence of str, optional
        More strings to protect (the rule passes the codebook's as a param, :func:`codebook_formulations`).

    Returns
    -------
    list of str
        Distinct strings (lower-cased), longest first.
    """
    out: list[str] = list(terms or ())
    if codebook is not None:
        out += codebook_formulations(codebook, [lang])[lang]
    if user_dict is not None and lang in UNSPACED_LANGUAGES:
        for line in Path(user_dict).read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(line.split()[0])
    if formulations is not None:
        f = formulations if isinstance(formulations, pd.DataFrame) else read_csv(formulations)
        if len(f) and "formulation" in f:
            out += f.loc[f["lang"] == lang, "formulation"].astype(str).tolist()
    out = [t.lower().strip() for t in out if str(t).strip()]
    return sorted(set(out), key=lambda t: (-len(t), t))


def splittable(formulations, removed, unspaced: bool) -> list[str]:
    """The strings of ``formulations`` that a token of ``removed`` (the lower-cased texts of tokens not
    kept and not punctuation) can split: unspaced, one that holds such a text anywhere; spaced, one
    with such a text as a word. Only these change the token stream (:func:`long_counts`): a
    formulation no removed token lies in bridges nothing.

    Parameters
    ----------
    formulations : sequence of str
        Lower-cased (:func:`protected_formulations`).
    removed : set of str
    unspaced : bool

    Returns
    -------
    list of str
        In the order of ``formulations``.
    """
    removed = set(removed)
    if not removed:
        return []
    if unspaced:
        longest = max(map(len, removed))

        def can(f):
            return any(f[i:j] in removed for i in range(len(f)) for j in range(i + 1, min(len(f), i + longest) + 1))
    else:
        def can(f):
            return any(w in removed for w in f.split())
    return [f for f in formulations if can(f)]


def removed_vocabulary(token_paths, languages) -> dict[str, list[str]]:
    """Per language, the distinct lower-cased texts of the tokens not kept and not punctuation (stop
    words, dropped characters, dates and numbers) in any role: what :func:`splittable` tests a
    formulation against. A superset of any shard's and role's, so the formulations it finds
    splittable include every one :func:`long_counts` bridges.

    Parameters
    ----------
    token_paths : list of str or Path
        The token shards.
    languages : sequence of str

    Returns
    -------
    dict of str to list of str
        Sorted.
    """
    out = {lang: set() for lang in languages}
    for path in token_paths:
        if _removed_of_shard(path, out):
            continue
        for lang in languages:
            t = _shard_columns(path, lang, ["lang", "text", "norm", "keep", "is_punct"])
            if not t.num_rows:
                continue
            names = t.column_names
            c, v = _codes(t["text"] if "text" in names else t["norm"])
            removed = ~t["keep"].to_numpy(zero_copy_only=False).astype(bool)
            if "is_punct" in names:
                removed &= ~t["is_punct"].to_numpy(zero_copy_only=False).astype(bool)
            out[lang].update(str(x).lower() for x in v[np.unique(c[removed])].tolist())
    return {lang: sorted(words) for lang, words in out.items()}


def _removed_of_shard(path, out: dict) -> bool:
    """:func:`removed_vocabulary`'s texts of one token file for every language of ``out`` (added to
    its sets), the file read once (not once per language); False, and nothing added, for a table in
    memory or a file whose text column has a null (read per language then, as before)."""
    import pyarrow.parquet as pq

    if isinstance(path, pd.DataFrame):
        return False
    names = pq.read_schema(path).names
    if "lang" not in names or "keep" not in names:
        return False
    col = "text" if "text" in names else "norm"
    have = [c for c in ("lang", col, "keep", "is_punct") if c in names]
    t = pq.read_table(path, columns=have, read_dictionary=["lang", col]).unify_dictionaries().combine_chunks()
    if t[col].null_count or t["lang"].null_count:
        return False
    if not t.num_rows:
        return True
    codes, langs = t[col].chunk(0), t["lang"].chunk(0)
    removed = ~t["keep"].to_numpy(zero_copy_only=False).astype(bool)
    if "is_punct" in have:
        removed &= ~t["is_punct"].to_numpy(zero_copy_only=False).astype(bool)
    lang_codes = langs.indices.to_numpy(zero_copy_only=False)
    text_codes = codes.indices.to_numpy(zero_copy_only=False)
    for i, lang in enumerate(langs.dictionary.to_pylist()):
        if lang in out:
            chosen = np.unique(text_codes[removed & (lang_codes == i)])
            out[lang].update(str(x).lower() for x in codes.dictionary.take(pa.array(chosen)).to_pylist())
    return True


def codebook_protected(codebook, removed_json, languages, unspaced_languages=UNSPACED_LANGUAGES) -> dict | None:
    """The codebook's formulations (:func:`codebook_formulations`) that a removed token of the corpus
    can split (:func:`splittable`, against ``removed_json``, rule ``removed_vocabulary``); None
    while that file does not exist yet.

    The rule ``phrases`` takes this as a param: Snakemake evaluates it when it plans the run (a
    codebook edit reruns the phrase changes only when this changes: a new term no stop word or
    dropped token lies in, a label, a glob, a pair change nothing) and again just before the job
    runs, when the file is up to date; the job protects exactly these, which gives the tables that
    protecting every codebook term gives. Under a storage provider the file is not local when the
    run is planned: the rule passes None and the codebook as an input, and the job calls this on its
    local copies (:func:`run_phrases`).

    Parameters
    ----------
    codebook : str or Path
    removed_json : str or Path
        {lang: [texts]} (:func:`removed_vocabulary`).
    languages : sequence of str
    unspaced_languages : sequence of str

    Returns
    -------
    dict of str to list of str, or None
    """
    import json

    path = Path(removed_json)
    if not path.exists():
        return None
    removed = json.loads(path.read_text(encoding="utf-8"))
    terms = codebook_formulations(codebook, languages)
    return {lang: splittable(terms[lang], removed.get(lang, ()), lang in set(unspaced_languages)) for lang in languages}


def run_removed_vocabulary(input, output, params, log) -> None:
    """Rule ``removed_vocabulary``: :func:`removed_vocabulary` of the token shards, as JSON.

    Parameters
    ----------
    input, output, params : Snakemake's named lists of the rule (``workflow/rules/phrases.smk``)
        Attribute access by the names the rule gives; any object with those attributes works.
    log : list of str
        The job's log file (first item).
    """
    import json

    from textdrift.io import atomic_write_text, log_to_file

    logger = log_to_file(log[0])
    vocab = removed_vocabulary(list(input.tokens), list(params.languages))
    atomic_write_text(output[0], json.dumps(vocab, ensure_ascii=False, indent=0, sort_keys=True) + "\n")
    logger.info("removed token texts: %s", {k: len(v) for k, v in vocab.items()})


def _protected_tokens(text: np.ndarray, unspaced: bool, protected: list[str], removed: np.ndarray,
                      strings: np.ndarray | None = None):
    """The occurrence of a string of ``protected`` that each token of ``text`` (one shard's tokens in
    text order) lies inside (characters joined, unspaced; lower-cased words joined by one space,
    spaced; of several, the shortest): its first and last token, -1 for a token in none. Only the
    strings that contain a
    ``removed`` token's text (a stop word, a dropped character or date) can be split, so only they
    are looked for. With ``strings``, ``text`` holds codes into it (each distinct string lower-cased once)."""
    none = (np.full(len(text), -1, dtype=np.int64), np.full(len(text), -1, dtype=np.int64))
    if not len(text) or not protected or not removed.any():
        return none
    if strings is None:
        text, strings = pd.factorize(pd.Series(text, dtype=object).astype(str).to_numpy(dtype=object), sort=False)
    low_v = pd.Series(strings, dtype=object).astype(str).str.lower().to_numpy(dtype=object)
    inner = set(low_v[np.unique(text[removed])].tolist())
    pats = splittable(protected, inner, unspaced)
    if not pats:
        return none
    occ = None if unspaced else _word_occurrences(low_v, text, pats)
    if occ is not None:  # spaced, by the tokens: the first token of each occurrence and the one after its last
        a, b = occ
        occ_start = a
    else:  # by the characters
        sep = "" if unspaced else " "
        lens = np.fromiter(map(len, low_v), dtype=np.int64, count=len(low_v))[text] + len(sep)
        starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
        ends = starts + lens - len(sep)
        occ_start, occ_end = _occurrences(sep.join(low_v[text].tolist()), pats, unspaced)
        a = np.searchsorted(starts, occ_start, side="left")  # the tokens wholly inside each occurrence
        b = np.searchsorted(ends, occ_end, side="right")
    ok = a < b
    a, size, at = a[ok], (b - a)[ok], occ_start[ok]
    if not len(a):
        return none
    # each token keeps the shortest occurrence (in tokens) it lies in; of several, the first
    tok = np.repeat(a - np.cumsum(size) + size, size) + np.arange(int(size.sum()))
    order = np.lexsort((np.repeat(at, size), np.repeat(size, size), tok))
    tok, own = tok[order], np.repeat(np.arange(len(a)), size)[order]
    head = np.ones(len(tok), dtype=bool)
    head[1:] = tok[1:] != tok[:-1]
    first, last = none
    first[tok[head]] = a[own[head]]
    last[tok[head]] = (a + size - 1)[own[head]]
    return first, last


def _word_occurrences(words: np.ndarray, text: np.ndarray, pats: list[str]) -> tuple[np.ndarray, np.ndarray] | None:
    """Spaced: :func:`_occurrences` of ``pats`` in the tokens ``text`` (codes into ``words``, their
    lower-cased texts) joined by one space, by the tokens: the first token of each occurrence and the
    one after its last. With every word one character (a code point from U+10000 on, one per
    distinct word) a string of whole words is a string of those characters, so :func:`_occurrences`
    searches tokens, not the characters of their texts (on English, whose strings share their first
    characters with common words, a fifth of the characters to hash and few pairs). None (the
    characters then) when a word is empty or holds a space (a string of words could then begin or
    end inside a token) or there are more distinct words than code points."""
    if not len(words) or any(not w or " " in w for w in words.tolist()):
        return None
    ids, distinct = pd.factorize(words, sort=False)
    if len(distinct) > 0x110000 - _WORD_BASE:
        return None
    number = {w: i for i, w in enumerate(distinct.tolist())}
    strings = []  # a string with a word no token has occurs nowhere
    for f in pats:
        parts = f.split(" ")
        if all(w in number for w in parts):
            strings.append("".join(chr(_WORD_BASE + number[w]) for w in parts))
    if not strings:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    joined = (ids[text].astype(np.uint32) + np.uint32(_WORD_BASE)).tobytes().decode("utf-32-le")
    return _occurrences(joined, strings, True)


_WORD_BASE = 0x10000  # the first code point of :func:`_word_occurrences`' words (none a surrogate)
_HASH_BASE = 0x100000001B3  # the polynomial hash of :func:`_occurrences` (a character is its code point + 1)
_HASH_BLOCK = 1 << 18  # characters of text whose positions :func:`_long_occurrences` compares at a time


def _poly_hash(chars: str) -> int:
    """The polynomial hash, modulo 2**64, that :func:`_occurrences` computes on arrays of code points."""
    h = 0
    for ch in chars:
        h = (h * _HASH_BASE + ord(ch) + 1) & 0xFFFFFFFFFFFFFFFF
    return h


def _occurrences(joined: str, pats: list[str], unspaced: bool, width: int = 6, block: int = _HASH_BLOCK
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Every position of ``joined`` at which a string of ``pats`` begins, with the end of the shortest
    one there (spaced: only whole words, a string beginning and ending at a space or an end of
    ``joined``), as two arrays of character offsets in ascending order.

    With numpy on the code points: the positions whose character begins some string (spaced: that
    begin a word), then those whose first k characters (k < ``width``: a string of k characters;
    else the first ``width``) hash (polynomial, modulo 2**64) like a string's; only at those are the
    strings compared, shortest first, so a hash collision costs a comparison, never a wrong match.
    ``block``: the characters of text whose positions :func:`_long_occurrences` compares at a time (any
    value, the same result)."""
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)  # code points (a view: 4 bytes each)
    n = len(codes)
    base = np.uint64(_HASH_BASE)
    short: dict = {}  # strings shorter than width, by length
    bucket: dict = {}  # the others, by their first width characters, shortest first
    for f in sorted(pats, key=len):
        if len(f) < width:
            short.setdefault(len(f), set()).add(f)
        else:
            bucket.setdefault(f[:width], []).append(f)
    firsts = np.zeros(max(int(codes.max(initial=0)), max(ord(f[0]) for f in pats)) + 1, dtype=bool)
    firsts[[ord(f[0]) for f in pats]] = True
    if unspaced:  # the positions whose character begins a string
        pos = np.flatnonzero(firsts[codes])
    else:  # ... and begins a word
        pos = np.concatenate([[0], np.flatnonzero(codes == ord(" ")) + 1]) if n else np.zeros(0, dtype=np.int64)
        pos = pos[pos < n]
        pos = pos[firsts[codes[pos]]]
    padded = np.concatenate([codes, np.zeros(width, dtype=np.uint32)])  # 0 past the end; a character is code + 1

    def at_(i: np.ndarray) -> np.ndarray:
        c = padded[i].astype(np.uint64)
        return np.where(i < n, c + np.uint64(1), np.uint64(0))

    best = np.full(len(pos), width, dtype=np.int64)  # the shortest string of fewer than width characters there
    live = np.arange(len(pos))  # the positions whose first k - 1 characters may begin a string (by their hash)
    key = np.zeros(len(pos), dtype=np.uint64)  # the hash of the first k characters of each live position
    space = np.uint64(ord(" ") + 1)
    with np.errstate(over="ignore"):
        for k in range(1, width):
            key = key * base + at_(pos[live] + k - 1)
            if k == 1 and 1 not in short:  # every position's first character begins a longer string
                continue
            # the strings' first k characters (the strings of k characters and the prefixes of the
            # longer ones): a position whose first k characters hash like none of them begins no
            # string of k characters or more and is dropped (a collision only keeps one)
            pre = sorted({f[:k] for f in pats if len(f) >= k})
            ref, first = np.unique(np.array([_poly_hash(f) for f in pre], dtype=np.uint64), return_index=True)
            i = np.minimum(np.searchsorted(ref, key), len(ref) - 1)
            match = ref[i] == key
            if len(ref) == len(pre):  # no two prefixes hash alike: compare the characters, exact whatever the hash
                which = first[i]
                hit = match & np.array([f in short.get(k, ()) for f in pre], dtype=bool)[which]
                longer = {f[:k] for f in pats if len(f) > k}
                go = match & np.array([f in longer for f in pre], dtype=bool)[which]
                if hit.any():
                    chars = np.array([[ord(ch) + 1 for ch in f] for f in pre], dtype=np.uint64)
                    which, at = which[hit], pos[live[hit]]
                    same = np.ones(len(at), dtype=bool)
                    for j in range(k):
                        same &= at_(at + j) == chars[which, j]
                    if not unspaced:  # a whole word: a space or the end after it
                        same &= (at + k == n) | (at_(at + k) == space)
                    hit[np.flatnonzero(hit)[~same]] = False
            else:  # two prefixes hash alike: compare the strings of k characters one by one, keep every match
                hit, go = np.zeros(len(live), dtype=bool), match
                for j in np.flatnonzero(match):
                    s_, e_ = int(pos[live[j]]), int(pos[live[j]]) + k
                    hit[j] = joined[s_:e_] in short.get(k, ()) and (unspaced or e_ == n or joined[e_] == " ")
            b = best[live[hit]]
            best[live[hit]] = np.where(b == width, k, b)
            live, key = live[go], key[go]
        key = key * base + at_(pos[live] + width - 1)
        hashes = np.array([_poly_hash(f) for f in bucket], dtype=np.uint64)
        ref = np.unique(hashes) if len(hashes) else np.zeros(1, dtype=np.uint64)
        hit_long = ref[np.minimum(np.searchsorted(ref, key), len(ref) - 1)] == key if len(hashes) else \
            np.zeros(len(live), dtype=bool)
    found = best < width
    out_s, out_e = [pos[found]], [pos[found] + best[found]]
    rest = hit_long & ~found[live]  # where a string of width characters or more may begin
    if rest.any():
        s_, e_ = _long_occurrences(joined, codes, (pos[live[rest]], key[rest]), bucket, unspaced, block)
        out_s.append(s_)
        out_e.append(e_)
    out_s, out_e = np.concatenate(out_s).astype(np.int64), np.concatenate(out_e).astype(np.int64)
    order = np.argsort(out_s, kind="stable")
    return out_s[order], out_e[order]


def _long_occurrences(joined: str, codes: np.ndarray, at: tuple, bucket: dict, unspaced: bool,
                      block: int = _HASH_BLOCK) -> tuple[np.ndarray, np.ndarray]:
    """The second half of :func:`_occurrences`: at each position of ``at`` (positions, and the hash of
    their first ``width`` characters, which equals a key's of ``bucket``: {first ``width`` characters:
    the strings beginning with them, shortest first}), the first string of that key's list that
    begins there (a whole word when spaced); the positions where one does, and its end.

    The (position, string) pairs of the positions of ``block`` characters of text at a time
    (:func:`_block_occurrences`), filtered by a hash of the whole string, then compared character by
    character on the code points, the first match of a position kept: one ``str.startswith`` per pair in Python took 1.7 million calls at 20 MB. Two
    keys whose hashes collide fall back to that loop (exact either way)."""
    pos, key = at
    n = len(codes)
    keys = list(bucket)
    width = len(keys[0])

    kh = np.array([_poly_hash(k) for k in keys], dtype=np.uint64)
    if len(np.unique(kh)) < len(kh):  # two keys hash alike: compare them one by one
        out_s, out_e = [], []
        for s in pos.tolist():
            for f in bucket.get(joined[s:s + width], []):
                e = s + len(f)
                if joined.startswith(f, s) and (unspaced or e == n or joined[e] == " "):
                    out_s.append(s)
                    out_e.append(e)
                    break
        return np.asarray(out_s, dtype=np.int64), np.asarray(out_e, dtype=np.int64)
    by_hash = np.argsort(kh)
    b = by_hash[np.searchsorted(kh[by_hash], key)]  # each position's key
    strings = [f for k in keys for f in bucket[k]]  # key by key, each key's strings in order
    size = np.array([len(bucket[k]) for k in keys], dtype=np.int64)
    flen = np.array([len(f) for f in strings], dtype=np.int64)
    S = np.zeros((len(strings), int(flen.max())), dtype=np.uint32)  # code points; 0 past the end
    for i, f in enumerate(strings):
        S[i, :len(f)] = np.frombuffer(f.encode("utf-32-le"), dtype=np.uint32)
    m = S.shape[1]
    with np.errstate(over="ignore"):
        P = np.full(min(block, n) + m + 1, np.uint64(_HASH_BASE), dtype=np.uint64)  # B^k
        P[0] = 1
        np.cumprod(P, out=P)
        fh = np.zeros(len(strings), dtype=np.uint64)  # each string's sum_j (code_j + 1) B^j
        for j in range(m):
            fh += np.where(j < flen, (S[:, j].astype(np.uint64) + np.uint64(1)) * P[j], np.uint64(0))
    table = (size, np.cumsum(size) - size, flen, S, fh, P)
    # the positions of each ``block`` characters of the text in turn (they ascend): the pairs, of
    # every position with every string of its key (English strings share their first characters
    # by the dozen: some ten million pairs a shard at 200 MB), and the hashes, over the text, were
    # arrays of 8 bytes a pair or a character each, the job's peak
    out_s, out_e = [], []
    for t0 in range(0, n, block):
        lo, hi = np.searchsorted(pos, [t0, t0 + block])
        if lo < hi:
            s_, e_ = _block_occurrences(codes, pos[lo:hi], b[lo:hi], table, unspaced)
            out_s.append(s_)
            out_e.append(e_)
    if not out_s:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(out_s), np.concatenate(out_e)


def _block_occurrences(codes: np.ndarray, pos: np.ndarray, b: np.ndarray, table: tuple, unspaced: bool
                       ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_long_occurrences` at the positions ``pos`` (ascending, fewer than the block's length
    apart) of the text ``codes``: ``b``, each position's key; ``table``, the strings of every key
    (how many, the first's number, their lengths, their code points, their hashes and the powers
    of the hash's base)."""
    size, off, flen, S, fh, P = table
    n, m = len(codes), S.shape[1]
    reps = size[b]  # the pairs: each position with every string of its key, in the key's order
    pair = np.repeat(np.arange(len(pos)), reps)
    which = np.repeat(off[b] - np.cumsum(reps) + reps, reps) + np.arange(int(reps.sum()))
    start = pos[pair]
    alive = np.flatnonzero(start + flen[which] <= n)
    # each live pair's text compared with its string at once by a hash of the whole string: with
    # P[k] = B^k and H[i] = sum_{t0<=k<i} (code_k + 1) P[k - t0] (mod 2^64) from the first position
    # t0, the text [s, s + l) has H[s + l] - H[s] = P[s - t0] * sum_j (code_{s+j} + 1) B^j, compared
    # with the string's own sum times P[s - t0] (B is odd, so P[s - t0] is invertible: equal
    # products, equal sums). A hash can collide, so the pairs it keeps are then compared character
    # by character (only those: the true occurrences, not every pair; a loop over the characters of
    # every pair was the job's costliest step on English, whose strings share their first
    # characters with common words)
    with np.errstate(over="ignore"):
        t0, e = int(pos[0]), min(int(pos[-1]) + m, n)
        H = np.zeros(e - t0 + 1, dtype=np.uint64)
        np.cumsum((codes[t0:e].astype(np.uint64) + np.uint64(1)) * P[:e - t0], out=H[1:])
        at, w = start[alive] - t0, which[alive]
        alive = alive[(H[at + flen[w]] - H[at]) == fh[w] * P[at]]  # (in order: a position's pairs in turn)
        del H, at, w
    same = np.ones(len(alive), dtype=bool)
    for j in range(m):  # the kept pairs, exactly
        on = flen[which[alive]] > j
        same[on] &= codes[start[alive[on]] + j] == S[which[alive[on]], j]
    alive = alive[same]
    if not unspaced and len(alive):  # a whole word: a space or the end after it
        e = start[alive] + flen[which[alive]]
        alive = alive[(e == n) | (codes[np.minimum(e, n - 1)] == ord(" "))]
    first = np.ones(len(alive), dtype=bool)  # the first string of a position's pairs that matches
    first[1:] = pair[alive[1:]] != pair[alive[:-1]]
    hit = alive[first]
    return start[hit].astype(np.int64), (start[hit] + flen[which[hit]]).astype(np.int64)


def _codes(col) -> tuple[np.ndarray, np.ndarray]:
    """A string column (Arrow, plain or dictionary-encoded) as integer codes and their distinct values
    (object array); a null's code is -1."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    if not pa.types.is_dictionary(col.type):
        col = pc.dictionary_encode(col)
    idx = col.indices
    codes = (pc.fill_null(idx, -1) if idx.null_count else idx).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, np.asarray(col.dictionary.to_pylist(), dtype=object)


def _shard_columns(path, lang: str, cols: list[str]) -> pa.Table:
    """The columns ``cols`` (those present) of one token shard's tokens of ``lang``, strings dictionary-encoded."""
    import pyarrow.parquet as pq

    if isinstance(path, pd.DataFrame):
        t = path[[c for c in cols if c in path.columns]]
        return pa.Table.from_pandas(t[t["lang"] == lang].reset_index(drop=True), preserve_index=False)
    names = pq.read_schema(path).names
    have = [c for c in cols if c in names]
    strings = [c for c in ("doc_id", "text", "norm", "role") if c in have]
    t = pq.read_table(path, columns=have, filters=[("lang", "=", lang)], read_dictionary=strings)
    t = t.unify_dictionaries().combine_chunks()
    _release_memory()  # the reading's buffers (the whole shard's, both languages: some 80 MB) given back
    return t


#: the token columns the phrase counting reads (those a shard has)
_STREAM_COLUMNS = ["doc_id", "year", "lang", "para", "sent", "idx", "text", "norm", "keep", "is_punct", "role", "entity"]


def _token_stream(token_paths, lang: str, count_roles, protected=(), unspaced: bool = True, digests=None):
    """The counted tokens of one language in text order, as integer arrays (the stream of
    :func:`textdrift.vectorize.count_matrix`: counted roles, entity mentions one token, a segment
    broken at every sentence end and every token not kept), except that a token not kept (stop
    word, dropped character or date, not punctuation) inside an occurrence of a ``protected``
    formulation stays in the stream, marked ``bridged``, with the stream positions of the first and
    last token of that occurrence (``span_lo``, ``span_hi``; a token's own position when it is not
    bridged). Returns (word codes, words, segment, year, doc number, paragraph number, bridged,
    span_lo, span_hi, doc ids).

    One shard at a time, its strings as Arrow dictionary codes: the counted roles and the absorbed
    tokens of entity mentions (:func:`textdrift.counting.counted`, :func:`textdrift.counting.absorbed`:
    ``entity`` set, ``norm`` not the mention's head ``@<id>``) are selected on the codes' distinct
    values, and only the integer arrays are kept between shards. With ``digests`` (a list), the
    :func:`textdrift.langmemo.table_digest` of each shard's table of the language is appended as it
    is read (the per-language memo's key)."""
    from textdrift.counting import ENTITY_HEAD

    vocab: dict = {}
    parts, docs, seg_off, pos_off = [], {}, 0, 0
    for path in token_paths:
        t = _shard_columns(path, lang, _STREAM_COLUMNS)
        if digests is not None:
            from textdrift.langmemo import table_digest

            digests.append(table_digest(t))
        if not t.num_rows:
            continue
        names = t.column_names
        sel = np.ones(t.num_rows, dtype=bool)
        if "role" in names and count_roles is not None:
            rc, rv = _codes(t["role"])
            sel &= np.append(np.isin(rv, list(count_roles)), False)[rc]
        norm_c, norm_v = _codes(t["norm"])
        if "entity" in names:
            head = np.append(np.array([str(v).startswith(ENTITY_HEAD) for v in norm_v], dtype=bool), False)[norm_c]
            sel &= ~(pc.is_valid(t["entity"]).to_numpy(zero_copy_only=False) & ~head)
        if not sel.any():
            continue
        doc_c, doc_v = _codes(t["doc_id"])
        doc_v = doc_v.astype(str).astype(object)
        rank = np.empty(len(doc_v), dtype=np.int64)
        rank[np.argsort(doc_v, kind="stable")] = np.arange(len(doc_v))  # doc_id order

        def col(name, dtype=np.int64):
            return t[name].to_numpy(zero_copy_only=False).astype(dtype)

        where = np.flatnonzero(sel)
        para_all, idx_all = col("para"), col("idx")
        where = where[key_order([rank[doc_c[where]], para_all[where], idx_all[where]])]
        keep = col("keep", bool)[where]
        removed = ~keep & ~col("is_punct", bool)[where]
        text_c, text_v = _codes(t["text"]) if "text" in names else (norm_c, norm_v)
        text_v = text_v.astype(str).astype(object)
        first, last = _protected_tokens(text_c[where], unspaced, list(protected), removed, strings=text_v)
        bridged = removed & (first >= 0)
        keep = keep | bridged
        at = np.cumsum(keep) - 1 + pos_off  # stream position of each token (of the kept ones)
        own = at[keep]
        span_lo = np.where(bridged[keep], at[np.maximum(first, 0)][keep], own)
        span_hi = np.where(bridged[keep], at[np.maximum(last, 0)][keep], own)
        pos_off += int(keep.sum())
        d = doc_c[where]
        sent = col("sent")[where]
        new = np.ones(len(where), dtype=bool)
        new[1:] = (d[1:] != d[:-1]) | (sent[1:] != sent[:-1]) | ~keep[:-1]
        seg = (np.cumsum(new) + seg_off)[keep]
        seg_off += int(new.sum()) + 1
        kept = where[keep]
        local, uniq = pd.factorize(norm_c[kept], sort=False)
        norm_s = norm_v[uniq].astype(str)
        words = np.array([vocab.setdefault(w, len(vocab)) for w in norm_s], dtype=np.int64)[local] \
            if len(local) else np.zeros(0, dtype=np.int64)
        dl, du = pd.factorize(doc_c[kept], sort=False)
        doc = np.array([docs.setdefault(x, len(docs)) for x in doc_v[du]], dtype=np.int64)[dl] if len(dl) \
            else np.zeros(0, dtype=np.int64)
        # compact: int32 positions and numbers (a language of fewer than 2**31 tokens), one flag byte
        if seg_off >= 2 ** 31 - 1:
            raise ValueError(f"{lang}: more than 2**31 tokens or segments; the phrase counting holds their positions "
                             "as 32-bit integers")
        # compact: int32 positions and numbers (fewer than 2**31 tokens, checked above), one flag byte
        parts.append([words.astype(np.int32), seg.astype(np.int32), col("year")[kept].astype(np.int32),
                      doc.astype(np.int32), para_all[kept].astype(np.int32), bridged[keep].astype(bool),
                      span_lo.astype(np.int32), span_hi.astype(np.int32)])
        del t
        _release_memory()  # the shard's Arrow buffers and freed arrays back to the system
    cat = []
    for i in range(8):  # one array at a time, each shard's piece freed as it is copied
        cat.append(np.concatenate([p[i] for p in parts]) if parts else np.zeros(0, dtype=np.int32))
        for p in parts:
            p[i] = None
    # the shards' pieces, freed into the heap, back to the system: else they stay in the process
    # under the counting's peak (some 0.3 GB of 11 M Chinese tokens at 200 MB)
    _release_memory()
    words = np.empty(len(vocab), dtype=object)
    for w, i in vocab.items():
        words[i] = w
    doc_ids = np.empty(len(docs), dtype=object)
    for x, i in docs.items():
        doc_ids[i] = x
    return cat[0], words, cat[1], cat[2], cat[3], cat[4], cat[5].astype(bool, copy=False), cat[6], cat[7], doc_ids


def _paragraph_index(doc: np.ndarray, para: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (doc, para) pairs of a token stream in ascending order (an (m, 2) array) and the
    index of each token's pair in them (int32): ``np.unique`` of the pairs, without sorting the
    stream's positions when the pairs already ascend along it (the stream of :func:`_token_stream`:
    documents numbered in the order they come, paragraphs in order inside each), which the 64-bit
    keys and their sort made the job's peak at 200 MB (about 0.5 GB for 11 M Chinese tokens)."""
    n = len(doc)
    if not n:
        return np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.int32)
    same_doc = doc[1:] == doc[:-1]
    ascending = bool(((doc[1:] > doc[:-1]) | (same_doc & (para[1:] >= para[:-1]))).all())
    if not ascending:  # any other order: sort the pairs
        span = int(para.max()) + 1
        keys, idx = np.unique(doc.astype(np.int64) * span + para, return_inverse=True)
        return np.stack([keys // span, keys % span], axis=1), np.asarray(idx).ravel().astype(np.int32)
    new = np.ones(n, dtype=bool)
    new[1:] = ~same_doc | (para[1:] != para[:-1])
    del same_doc
    starts = np.flatnonzero(new)
    idx = np.cumsum(new, dtype=np.int32)
    idx -= 1
    return np.stack([doc[starts].astype(np.int64), para[starts].astype(np.int64)], axis=1), idx


def _small_index(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values (ascending, the array's dtype) of an integer array of a narrow range (years) and the
    index of each element in them (int32): ``np.unique`` with ``return_inverse``, through a lookup
    table instead of a sort of every element."""
    if not len(values):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32)
    lo = int(values.min())
    present = np.bincount(values - lo) > 0
    distinct = np.flatnonzero(present)
    lut = np.full(len(present), -1, dtype=np.int32)
    lut[distinct] = np.arange(len(distinct), dtype=np.int32)
    return (distinct + lo).astype(values.dtype), lut[values - lo]


def long_counts(token_paths, lang: str, settings: "PhraseSettings | None" = None, protected=(),
                digests=None) -> LongCounts:
    """Count the recurring phrases of orders ``ngram_max + 1`` .. ``max_length`` of one language, and
    those of any order that hold a token only a ``protected`` formulation keeps.

    Level by level on integer codes: an n-gram of order L + 1 is counted only at the positions
    where its two pieces of order L (prefix and suffix) each occur at least ``min_count`` times in
    the language's corpus; every n-gram that occurs ``min_count`` times has such pieces (the Apriori
    property: Agrawal & Srikant 1994), so every phrase the step test can select (count_from +
    count_to >= min_count) is counted exactly. The others of each order are summed into the
    remainder column (:data:`REST`) of their unit, from the number of positions at which an
    n-gram of that order fits in a segment.

    *Bridged* tokens (:func:`protected_formulations`): a stop word, dropped character or date inside
    an occurrence of a protected formulation (改革开放**和**现代化建设) stays in the stream; a
    phrase may hold one inside, never at either end, and only together with the whole occurrence
    (改革开放 和 现代化 建设 or a phrase around it, not 和 现代化 建设 nor 开放 和 现代化). The orders up to ``ngram_max`` come from
    vectorize's matrices, which hold no bridged token: for them only the phrases with a bridged
    token inside are counted here (and their remainder), for the longer orders all.

    Parameters
    ----------
    token_paths : list of str, Path or DataFrame
        The token shards (one DataFrame per shard in tests).
    lang : str
    settings : PhraseSettings, optional
        ``ngram_max``, ``max_length``, ``min_count``, ``count_roles``, ``unspaced_languages``.
    protected : sequence of str
        Formulations (:func:`protected_formulations`).
    digests : list, optional
        Receives the digest of each shard's tokens of ``lang`` (:func:`_token_stream`).

    Returns
    -------
    LongCounts

    References
    ----------
    Agrawal, R. & Srikant, R. (1994). Fast algorithms for mining association rules. VLDB, 487-499.
    """
    t0 = time.perf_counter()
    s = PhraseSettings.of(settings)
    lo, hi = int(s.ngram_max or 0) + 1, int(s.max_length)
    words, strings, seg, year, doc, para, bridged, span_lo, span_hi, doc_ids = _token_stream(
        token_paths, lang, s.count_roles, protected, lang in set(s.unspaced_languages), digests)
    n = len(words)
    any_bridged = bool(bridged.any())
    csum = np.zeros(n + 1, dtype=np.int32)  # bridged tokens before each position
    np.cumsum(bridged, dtype=np.int32, out=csum[1:])
    para_key, para_idx = _paragraph_index(doc, para)
    years, year_idx = _small_index(year)
    para_year = np.zeros(len(para_key), dtype=np.int64)
    para_year[para_idx] = year
    doc_year = np.zeros(len(doc_ids), dtype=np.int64)
    doc_year[doc] = year
    del year, para  # (the units below are the index arrays)
    units = {"year": (year_idx, len(years)), "doc": (doc, len(doc_ids)), "para": (para_idx, len(para_key))}
    entries: dict = {u: [] for u in units}  # per unit, one CSR block per order counted
    vocab: list[str] = []
    n_bridged = 0

    def counted_at(p: np.ndarray, L: int) -> np.ndarray:
        """Positions p (an L-gram fits there) whose L-gram this function counts: no bridged token at
        either end, and every bridged token inside with the whole protected occurrence it belongs
        to; for orders of the matrices, a bridged token inside."""
        ok = ~bridged[p] & ~bridged[p + L - 1]
        if L < lo:
            ok &= (csum[p + L] - csum[p]) > 0
        if any_bridged:
            for k in range(1, L - 1):
                ok &= (span_lo[p + k] >= p) & (span_hi[p + k] <= p + L - 1)
        return ok

    if n and (hi >= lo or any_bridged):
        V = max(len(strings), 1)
        code = pd.factorize(words, sort=False)[0].astype(np.int32)  # int32 codes and positions: the memory
        pos = np.arange(n, dtype=np.int32)
        room = run_room(seg)  # per position, the units after it in its segment
        cnt = np.bincount(code)
        top = max(hi, lo - 1 if any_bridged else 0)
        for L in range(1, top + 1):
            if L >= lo or (any_bridged and L >= 3):
                on = counted_at(pos, L)
                ccnt = np.bincount(code[on], minlength=len(cnt))
                freq_gram = np.flatnonzero(ccnt >= s.min_count)
                col = np.full(len(cnt), -1, dtype=np.int32)
                col[freq_gram] = len(vocab) + np.arange(len(freq_gram))
                first = np.full(len(cnt), n, dtype=np.int64)  # positions ascend: the first of each code
                present, at = np.unique(code[on], return_index=True)
                first[present] = pos[on][at]
                vocab += [SEP.join(strings[words[p:p + L]]) for p in first[freq_gram]]
                n_bridged += int(((csum[first[freq_gram] + L] - csum[first[freq_gram]]) > 0).sum())
                vocab.append(_rest_name(L))
                c = np.where(on, col[code], -1)
                hit = c >= 0
                at_hit, c_hit = pos[hit], c[hit] - int(col[freq_gram[0]] if len(freq_gram) else 0)
                del c, hit
                fits = np.flatnonzero(room >= L - 1)  # the n-grams of L units inside one segment
                fits = fits[counted_at(fits, L)]
                for u, (idx, size) in units.items():  # this order's block: its frequent n-grams, then REST
                    r = idx[at_hit]
                    rest = np.bincount(idx[fits], minlength=size) - np.bincount(r, minlength=size)
                    block = sp.csr_matrix((np.ones(len(r), dtype=np.int64), (r, c_hit)),
                                          shape=(size, len(freq_gram)), dtype=np.int64)
                    entries[u].append(sp.hstack([block, sp.csr_matrix(rest.astype(np.int64).reshape(-1, 1))],
                                                format="csr"))
                del at_hit, c_hit, fits
            if L == top:
                break
            cand, prefix = frequent_extensions(pos, code, cnt[code] >= s.min_count, room, L)
            if len(cand):  # the key built in place (one int64 array at a time)
                key = prefix.astype(np.int64)
                del prefix
                key *= V
                key += words[cand + L]
                code = pd.factorize(key, sort=False)[0].astype(np.int32)
                del key
            else:
                code = np.zeros(0, dtype=np.int32)
            pos, cnt = cand, np.bincount(code) if len(cand) else np.zeros(0, dtype=np.int64)
    vocab_arr = np.asarray(vocab, dtype=object)

    def matrix(u: str, rows: pd.DataFrame) -> CountMatrix:
        blocks = entries[u]
        X = sp.hstack(blocks, format="csr", dtype=np.int64) if blocks else \
            sp.csr_matrix((units[u][1], len(vocab_arr)), dtype=np.int64)
        X.eliminate_zeros()
        X.sum_duplicates()
        return CountMatrix(X, vocab_arr, rows.reset_index(drop=True))

    out = LongCounts(matrix("year", pd.DataFrame({"year": years})),
                     matrix("doc", pd.DataFrame({"doc_id": doc_ids, "year": doc_year})),
                     matrix("para", pd.DataFrame({"year": para_year, "doc_id": doc_ids[para_key[:, 0]] if len(para_key)
                                                  else np.zeros(0, dtype=object), "para": para_key[:, 1]})))
    log.info("%s: %d recurring phrases counted from the tokens (orders %d to %d; %d with a bridged token of a "
             "protected formulation inside) over %d tokens, %.1f s with the reading", lang, int((~is_rest(vocab_arr)).sum()), lo, hi,
             n_bridged, n,
             time.perf_counter() - t0)
    return out


def with_long(m: CountMatrix, extra: CountMatrix, keys: list[str], ngram_max: int | None) -> CountMatrix:
    """``m`` (orders up to ``ngram_max`` kept) with the columns of ``extra`` appended, rows matched on ``keys``.

    Parameters
    ----------
    m : CountMatrix
        A matrix of vectorize (year or document rows).
    extra : CountMatrix
        The same units' long n-grams (:func:`long_counts`).
    keys : list of str
        Row columns matching the two (``["year"]``, ``["doc_id"]``).
    ngram_max : int or None
        Orders of ``m`` above it are dropped (None: none).

    Returns
    -------
    CountMatrix
    """
    X = m.X.tocsr()
    vocab = np.asarray(m.vocab, dtype=object)
    if ngram_max is not None and len(vocab):
        keep = np.flatnonzero(ngram_order(vocab) <= ngram_max)
        if len(keep) < len(vocab):  # (every order kept: no copy of the matrix)
            X, vocab = X[:, keep], vocab[keep]
    if not len(extra.vocab):
        return CountMatrix(X.tocsr(), vocab, m.rows)
    at = pd.MultiIndex.from_frame(extra.rows[keys].astype(str)).get_indexer(
        pd.MultiIndex.from_frame(m.rows[keys].astype(str)))
    E = sp.csr_matrix((len(m.rows), len(extra.vocab)), dtype=np.int64)
    if (at >= 0).any():
        pick = sp.csr_matrix((np.ones(int((at >= 0).sum()), dtype=np.int64),
                              (np.flatnonzero(at >= 0), at[at >= 0])), shape=(len(m.rows), len(extra.rows)))
        E = (pick @ extra.X).tocsr()
    return CountMatrix(sp.hstack([X, E], format="csr"), np.concatenate([vocab, np.asarray(extra.vocab, dtype=object)]),
                       m.rows)


# ---- maximal units: pieces folded into the phrase they belong to -----------------------------------

def fold_pieces(phrases, counts, fold_share: float | None = _P["fold_share"]) -> tuple[np.ndarray, np.ndarray]:
    """Which phrases are units, and how many pieces each unit absorbs.

    A phrase a of n words whose most frequent extension e (the phrase of ``phrases`` that begins
    or ends with a and has the largest count; of two with the same count the shorter, usually the
    one-word extension; a longer one when the word next to a may stand only inside a phrase, a
    bridged stop word of :func:`long_counts`) has ``count(e) >= fold_share * count(a)`` is a *piece*
    of e: at most ``1 - fold_share`` of its occurrences stand outside e. This is the nested-term
    frequency of the C-value (Frantzi, Ananiadou & Mima 2000, section 2.2: the frequency of a
    candidate nested in a longer candidate, f(a) - f(e), is what a counts on its own), used as a
    threshold: a is folded into e, and e into its own extension if it is a piece, and so on, to
    the *unit* (a phrase that is no piece). With ``fold_share = 1`` the units are the closed
    (maximal) repeats of the counts given: a piece then never occurs outside its extension.

    Parameters
    ----------
    phrases : sequence of str
        Words joined by one space.
    counts : array_like
        The count of each phrase (in one comparison: both years together).
    fold_share : float or None
        None: every phrase is a unit.

    Returns
    -------
    unit : ndarray of bool
        True for the units.
    pieces : ndarray of int
        Per phrase, the number of pieces folded into it (0 for a piece).

    References
    ----------
    Frantzi, K., Ananiadou, S. & Mima, H. (2000). Automatic recognition of multi-word terms: the
    C-value/NC-value method. International Journal on Digital Libraries 3(2), 115-130.
    """
    ph = pd.Series(np.asarray(phrases, dtype=object), dtype=object)
    c = np.asarray(counts, dtype=float)
    m = len(ph)
    if fold_share is None or m == 0:
        return np.ones(m, dtype=bool), np.zeros(m, dtype=np.int64)
    order = ngram_order(ph.to_numpy())
    # every (shorter phrase it begins or ends with, phrase): its k-word prefixes and suffixes (Arrow
    # string kernels; a suffix is the reversed prefix of the reversed phrase)
    keys, owner = [], []
    multi = np.flatnonzero(order >= 2)
    if len(multi):
        arr = pa.array(ph.to_numpy()[multi].astype(str).astype(object), type=pa.string())
        words, backwards = pc.split_pattern(arr, SEP), pc.split_pattern(pc.utf8_reverse(arr), SEP)
        for k in range(1, int(order[multi].max())):
            sel = pa.array(order[multi] > k)
            keys += [pc.binary_join(pc.list_slice(words.filter(sel), 0, k), SEP).to_numpy(zero_copy_only=False),
                     pc.utf8_reverse(pc.binary_join(pc.list_slice(backwards.filter(sel), 0, k), SEP))
                     .to_numpy(zero_copy_only=False)]
            owner += [multi[order[multi] > k]] * 2
    rows = [pd.DataFrame({"key": np.concatenate(keys).astype(object),
                          "i": np.concatenate(owner).astype(np.int64)})] if keys else []
    if rows:
        rows[0]["c"], rows[0]["n"] = c[rows[0]["i"]], order[rows[0]["i"]]
    best_c = np.zeros(m)
    best_i = np.full(m, -1, dtype=np.int64)
    if rows:
        ext = pd.concat(rows, ignore_index=True).sort_values(["c", "n", "i"], ascending=[False, True, True],
                                                             kind="stable").drop_duplicates("key").set_index("key")
        at = ext.index.get_indexer(ph)
        hit = at >= 0
        best_c = np.where(hit, ext["c"].to_numpy()[np.maximum(at, 0)], 0.0)
        best_i = np.where(hit, ext["i"].to_numpy()[np.maximum(at, 0)], -1)
    target = np.where((best_i >= 0) & (best_c >= fold_share * c), best_i, -1)
    final = target.copy()
    while True:  # follow each piece to its unit (an extension is one word longer: at most max order steps)
        nxt = np.where(final >= 0, target[np.maximum(final, 0)], -1)
        move = (final >= 0) & (nxt >= 0)
        if not move.any():
            break
        final = np.where(move, nxt, final)
    unit = target < 0
    pieces = np.bincount(final[final >= 0], minlength=m).astype(np.int64)
    return unit, np.where(unit, pieces, 0)


# ---- the exploratory effect --------------------------------------------------------------------

def effect_size(y_from, y_to, total_from, total_to, prior: float = _P["effect_prior"],
                conf_level: float = _P["conf_level"]):
    """Log rate ratio (to / from) of each phrase under a weak Gamma prior, with its interval.

    Each year's rate of the phrase gets the same Gamma prior with mean r = (y_from + y_to) /
    (N_from + N_to), the phrase's pooled rate in the two years, and shape a = ``prior`` (the prior
    weighs a occurrences; 2 by default), so the
    rate of year s given its count y_s of N_s n-grams is Gamma(y_s + a, N_s + a / r) and the
    posterior mean and variance of the log ratio are (digamma psi, trigamma psi')::

        effect = psi(y_to + a) - log(N_to + a/r) - psi(y_from + a) + log(N_from + a/r)
        var    = psi'(y_to + a) + psi'(y_from + a)

    The interval is effect -/+ z_{(1+conf)/2} sqrt(var) (normal approximation). Unlike z, the effect
    does not grow with the counts: at equal totals and a = 2 a phrase going from 0 to 5 has a larger
    effect (1.45) than one going from 100 to 200 (0.69), and its wider interval says how uncertain it
    is; one going from 1 to 12 (1.68) comes before one going from 0 to 4 (1.28). A
    year with few n-grams of the phrase's order is pulled to the pooled rate (its a / r term
    dominates N_s), so a phrase absent from a tiny year is not ranked as a change. The effect
    ignores the clustering of occurrences in paragraphs: it ranks, the test (t, q) decides.

    Parameters
    ----------
    y_from, y_to, total_from, total_to : array_like
    prior : float
        Config ``phrases.effect_prior`` (a).
    conf_level : float
        Config ``phrases.conf_level``.

    Returns
    -------
    effect, low, high : ndarray

    References
    ----------
    Gelman, A. et al. (2013). Bayesian Data Analysis, 3rd ed., section 2.6 (the Poisson model with a
    conjugate gamma prior).
    """
    from scipy.special import digamma, ndtri, polygamma

    y0, y1, n0, n1 = (np.asarray(v, dtype=float) for v in (y_from, y_to, total_from, total_to))
    with np.errstate(divide="ignore", invalid="ignore"):
        b = prior * (n0 + n1) / (y0 + y1)  # a / r
        eff = digamma(y1 + prior) - np.log(n1 + b) - digamma(y0 + prior) + np.log(n0 + b)
    sd = np.sqrt(polygamma(1, y1 + prior) + polygamma(1, y0 + prior))
    zq = float(ndtri((1 + conf_level) / 2))  # scipy.stats.norm.ppf (its _ppf: ndtri)
    return eff, eff - zq * sd, eff + zq * sd


def effect_rank(effect, count, phrase=None) -> np.ndarray:
    """Rank (1 = first) of each phrase of one step on its side: effect > 0 by descending effect,
    effect < 0 by ascending effect (the strongest fall first), ties by the larger count, then by
    the phrase (so the order does not depend on the vocabulary's order); 0 for effect 0.

    Parameters
    ----------
    effect, count : array_like
    phrase : array_like of str, optional
        The last tie-break (default: the input order).

    Returns
    -------
    ndarray of int
    """
    e, c = np.asarray(effect, dtype=float), np.asarray(count, dtype=float)
    p = np.arange(len(e)) if phrase is None else np.asarray(phrase, dtype=object).astype(str)
    out = np.zeros(len(e), dtype=np.int64)
    for side in (e > 0, e < 0):
        idx = np.flatnonzero(side)
        order = idx[np.lexsort((p[idx], -c[idx], -np.abs(e[idx])))]
        out[order] = np.arange(1, len(order) + 1)
    return out


def status(count_from, count_to, total_from, total_to, z, q, q_threshold: float = _P["q_threshold"]) -> np.ndarray:
    """new | gone | rising | falling | stable for each phrase (first matching rule wins).

    A change is called only where it is significant after false-discovery control (q <=
    ``q_threshold``) *and* the phrase's own rate moved the same way as z (count / total of
    its n-gram order): the prior can pull a small year's estimate across the other year's,
    and a phrase whose rate rose is then never called falling.

    Parameters
    ----------
    count_from, count_to : array_like
        The phrase's counts in the two years.
    total_from, total_to : array_like
        The totals of its n-gram order in the two years.
    z, q : array_like
        Log-odds z and Benjamini-Hochberg q.
    q_threshold : float

    Returns
    -------
    ndarray of str
        One of ``new, gone, rising, falling, stable`` per phrase.

    References
    ----------
    Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate. JRSS B 57(1), 289-300.
    """
    count_from, count_to, z, q = (np.asarray(v) for v in (count_from, count_to, z, q))
    with np.errstate(invalid="ignore", divide="ignore"):
        rate_from = count_from / np.asarray(total_from, dtype=float)
        rate_to = count_to / np.asarray(total_to, dtype=float)
    sig = q <= q_threshold
    up, down = sig & (z > 0) & (rate_to > rate_from), sig & (z < 0) & (rate_to < rate_from)
    return np.select([(count_from == 0) & up, (count_to == 0) & down, up, down],
                     list(STATUSES[:4]), default="stable")


def ngram_order(phrases) -> np.ndarray:
    """n of each phrase (words are joined by one space).

    Parameters
    ----------
    phrases : sequence of str

    Returns
    -------
    ndarray of int
    """
    arr = pa.array(np.asarray(phrases, dtype=object), type=pa.string())
    return np.asarray(pc.count_substring(arr, SEP).to_numpy(zero_copy_only=False), dtype=int) + 1


def order_totals(counts: pd.Series) -> pd.Series:
    """Total count of each n-gram order in a Series of phrase counts (index: n).

    Parameters
    ----------
    counts : Series
        Phrase counts indexed by phrase.

    Returns
    -------
    Series
        Total count per order n.
    """
    return counts.groupby(ngram_order(counts.index)).sum()


def row_counts(m: CountMatrix, rows=None) -> pd.Series:
    """Phrase counts of a CountMatrix summed over the selected rows (boolean mask; all when None).

    Parameters
    ----------
    m : CountMatrix
    rows : array_like of bool, optional

    Returns
    -------
    Series of int64
        Indexed by phrase (``m.vocab``, index name ``phrase``).
    """
    X = m.X if rows is None else m.X[np.asarray(rows, dtype=bool)]
    return pd.Series(np.asarray(X.sum(axis=0)).ravel().astype(np.int64), index=pd.Index(m.vocab, name="phrase"))


def check_ngram_max(ngram_max: int, vectorize_ngram_max: int) -> None:
    """Phrases are read from vectorize's matrices, which hold no n-gram longer than its ngram_max.

    Parameters
    ----------
    ngram_max : int
        ``phrases.ngram_max``.
    vectorize_ngram_max : int
        ``vectorize.ngram_max``.

    Raises
    ------
    ValueError
        When ``ngram_max`` is not an integer from 1 to ``vectorize_ngram_max``.
    """
    if not isinstance(ngram_max, int) or not 1 <= ngram_max <= vectorize_ngram_max:
        raise ValueError(
            f"phrases.ngram_max = {ngram_max!r} must be an integer from 1 to vectorize.ngram_max = "
            f"{vectorize_ngram_max}: the year matrices hold no longer n-grams. Raise "
            "vectorize.ngram_max or lower phrases.ngram_max in config/config.yaml.")


def group_phrase_changes(counts_a: pd.Series, counts_b: pd.Series, prior_counts: pd.Series | None = None,
                         settings: PhraseSettings | Mapping | None = None, **overrides) -> pd.DataFrame:
    """Weighted log-odds of every phrase between group a (``from``) and group b (``to``).

    ``counts_a``/``counts_b``: phrase counts (Series indexed by phrase, words joined by one
    space), *all* phrases of the group, since the totals per n-gram order are taken from them.
    ``prior_counts``: background counts the prior is proportional to (default a + b); every
    tested phrase must occur in it. ``alpha_0``: a positive number, a mapping
    {order: number}, or ``"auto"`` = per order, the median of the two groups' totals.
    Tested phrases: count_a + count_b >= ``min_count``, order <= ``ngram_max`` (None: all) or an
    order of :func:`long_counts` (it has a :data:`REST` entry) up to ``max_length``, and units only
    (:func:`fold_pieces` with ``fold_share``, on count_a + count_b).
    ``alpha_0`` is bounded by the smaller group's total of each order; a group with fewer than
    ``min_tokens`` unigrams makes every status ``insufficient``.
    Returns the columns ``GROUP_COLUMNS``; positive ``log_odds`` = more frequent in b.

    Parameters
    ----------
    counts_a, counts_b : Series
        Phrase counts of the two groups.
    prior_counts : Series, optional
        Background counts of the prior.
    settings : PhraseSettings or mapping, optional
        ``alpha_0``, ``min_count``, ``q_threshold``, ``ngram_max``, ``max_length``, ``fold_share``,
        ``min_tokens``, ``effect_prior``, ``conf_level``.
    **overrides
        Fields of :class:`PhraseSettings` replacing those of ``settings``.

    Returns
    -------
    DataFrame
        ``GROUP_COLUMNS``, by descending z.

    References
    ----------
    Monroe, B. L., Colaresi, M. P. & Quinn, K. M. (2008). Fightin' words. Political Analysis 16(4),
    372-403.
    """
    st = PhraseSettings.of(settings, **overrides)
    alpha_0, min_count, ngram_max, min_tokens = st.alpha_0, st.min_count, st.ngram_max, st.min_tokens
    if min_count < 1:
        raise ValueError(f"min_count must be >= 1, got {min_count}")
    a = counts_a.groupby(level=0).sum()
    b = counts_b.groupby(level=0).sum()
    prior = (a.add(b, fill_value=0) if prior_counts is None else prior_counts).groupby(level=0).sum()
    prior = prior[prior > 0]
    tot_a, tot_b, tot_prior = order_totals(a), order_totals(b), order_totals(prior)
    if isinstance(alpha_0, str):
        if alpha_0 != "auto":
            raise ValueError(f"alpha_0 must be a positive number, a mapping or 'auto', got {alpha_0!r}")
        alpha_0 = pd.concat([tot_a, tot_b], axis=1).fillna(0).median(axis=1).to_dict()

    y = pd.concat({"count_from": a, "count_to": b}, axis=1).fillna(0).astype(np.int64)
    rest = is_rest(y.index)
    long_orders = np.unique(ngram_order(y.index[rest]))
    y = y[(y.sum(axis=1) >= min_count).to_numpy() & ~rest]
    n = ngram_order(y.index)
    if ngram_max is not None:
        tested = (n <= ngram_max) | (np.isin(n, long_orders) & (n <= st.max_length))
        y, n = y[tested], n[tested]
    # A lone phrase of its order has probability 1 everywhere: its log-odds are undefined (and no
    # piece is folded into it)
    lone = (prior[~is_rest(prior.index)].groupby(ngram_order(prior.index[~is_rest(prior.index)])).size() < 2
            ).reindex(n, fill_value=True).to_numpy()
    unit, pieces = fold_pieces(y.index, np.where(lone, 0, y.sum(axis=1).to_numpy()), st.fold_share)
    unit |= lone
    y, n = y[unit], n[unit]
    df = y.rename_axis("phrase").reset_index()
    df.insert(1, "n", n)
    df["pieces"] = pieces[unit]
    df["total_from"] = tot_a.reindex(n, fill_value=0).to_numpy()
    df["total_to"] = tot_b.reindex(n, fill_value=0).to_numpy()
    a0 = (pd.Series(alpha_0).reindex(n).to_numpy(float) if isinstance(alpha_0, Mapping)
          else np.full(len(df), float(alpha_0)))
    c_w = prior.reindex(df["phrase"], fill_value=0).to_numpy(float)
    single = (prior[~is_rest(prior.index)].groupby(ngram_order(prior.index[~is_rest(prior.index)])).size() < 2
              ).reindex(n, fill_value=True).to_numpy()
    low = min(int(tot_a.get(1, 0)), int(tot_b.get(1, 0))) < min_tokens
    return _score(df, (c_w, a0, tot_prior.reindex(n).to_numpy(float), single), st, low)


def _score(df: pd.DataFrame, prior: tuple, settings: PhraseSettings, insufficient: bool = False,
           unit: tuple | None = None) -> pd.DataFrame:
    """Prior (alpha_w = a0 * c_w / tot_prior), log-odds, z, p, q, status and the exploratory effect of
    the tested phrases of one step in ``df``.

    ``df`` has phrase, n, count_from, count_to, total_from, total_to (and ``pieces``; 0 when absent);
    ``prior`` = (c_w, a0, tot_prior, single): each row's prior count, alpha_0 and total of its order
    in the prior, and whether it is the only phrase of its order (such rows are dropped). ``a0`` is
    bounded here by the smaller of the two totals of the phrase's order (at least 1): the prior
    never weighs more than the smaller side. ``unit`` = (phi, dof): each row's dispersion and its
    degrees of freedom (:func:`dispersion`; None: 1 and NaN, tokens independent); t = the score
    statistic of the two rates (:func:`score_z`) / sqrt(phi), p from Student's t(df) (the normal
    where df is NaN, :func:`t_p_values`). q: Benjamini-Hochberg over the step's tested phrases.
    ``insufficient``: every status is ``insufficient`` (a side below the low-data threshold).
    ``effect``, its interval and ``effect_rank``: :func:`effect_size`, :func:`effect_rank`
    (``settings.effect_prior``, ``settings.conf_level``). Returns ``GROUP_COLUMNS`` sorted by
    descending z.
    """
    c_w, a0, tot_prior, single = prior
    phi, dof = unit if unit is not None else (None, None)
    q_threshold = settings.q_threshold
    a0 = np.minimum(np.asarray(a0, dtype=float),
                    np.maximum(1.0, np.minimum(df["total_from"].to_numpy(float), df["total_to"].to_numpy(float))))
    if np.any(c_w <= 0) or np.any(~(a0 > 0)):
        bad = df.loc[(c_w <= 0) | ~(a0 > 0), "phrase"].head(5).tolist()
        raise ValueError(f"every tested phrase needs a positive prior count and alpha_0; not so for {bad}")
    if single.any():
        log.info("skipping %d phrase(s) that are the only phrase of their n-gram order", single.sum())
    df["alpha_w"] = a0 * c_w / tot_prior
    df["alpha_0"] = a0
    df["dispersion"] = 1.0 if phi is None else np.asarray(phi, dtype=float)
    df["df"] = np.nan if dof is None else np.asarray(dof, dtype=float)
    df = df[~single].reset_index(drop=True)
    delta, _, z = log_odds_dirichlet(df["count_from"], df["count_to"], df["alpha_w"], df["alpha_0"],
                                     df["total_from"], df["total_to"])
    df["log_odds"], df["z"] = delta, z
    df["t"] = score_z(df["count_from"], df["count_to"], df["total_from"], df["total_to"]) / np.sqrt(
        df["dispersion"].to_numpy())
    df["p"] = t_p_values(df["t"], df["df"])
    df["q"] = q_values(df["p"].to_numpy())
    df["status"] = ("insufficient" if insufficient else
                    status(df["count_from"], df["count_to"], df["total_from"], df["total_to"], df["t"], df["q"],
                           q_threshold))
    if "pieces" not in df:
        df["pieces"] = 0
    df["effect"], df["effect_low"], df["effect_high"] = effect_size(
        df["count_from"], df["count_to"], df["total_from"], df["total_to"], settings.effect_prior, settings.conf_level)
    df["effect_rank"] = effect_rank(df["effect"], df["count_from"] + df["count_to"], df["phrase"])
    return df.sort_values(["z", "phrase"], ascending=[False, True], ignore_index=True)[GROUP_COLUMNS]


# ---- the test at the sampling unit (Lijffijt et al. 2016) ------------------------------------------

#: How a step's p-values were computed (``unit`` of ``phrase_steps.csv``): between-document
#: dispersion, between-paragraph dispersion, or none (tokens independent: Monroe et al.'s z alone).
UNITS = ("documents", "paragraphs", "tokens")
STEP_COLUMNS = ["lang", "year_from", "year_to", "unit", "units_from", "units_to", "tested", "median_count",
                "median_dispersion", "alpha", "power", "min_detectable_ratio", *STATUSES, "folded", "min_q",
                "ranking"]
#: ``ranking`` of a step (``phrase_steps.csv``): ``test`` when at least one phrase of the step has
#: q <= q_threshold (the statuses rank it); ``exploratory`` when none has (nothing can be called at
#: this step's counts and dispersion: rank by ``effect_rank``, an ordering, not a finding);
#: ``insufficient`` when a year is under the low-data threshold.
RANKINGS = ("test", "exploratory", "insufficient")


def unit_stats(X, order_idx: np.ndarray, n_orders: int) -> tuple[np.ndarray, np.ndarray]:
    """Sufficient statistics of one year's units (documents or paragraphs) for the dispersion.

    For every column (phrase) w of order k, with y_uw its count in unit u and T_uk the unit's
    total of order k::

        S2_w = sum_u y_uw^2 / T_uk          (units with T_uk > 0)

    and, per order, U_k = the number of units with T_uk > 0. Both are sums over units, so the
    statistics of disjoint sets of units (shards) add up.

    Parameters
    ----------
    X : sparse matrix
        Units x phrases counts (every phrase of the units, so that the totals per order are right).
    order_idx : ndarray of int
        The order index (0 .. n_orders - 1) of each column.
    n_orders : int

    Returns
    -------
    S2 : ndarray of float
        One value per column.
    U : ndarray of int
        One value per order.
    """
    X = sp.csr_matrix(X)
    if X.shape[0] == 0:
        return np.zeros(X.shape[1]), np.zeros(n_orders, dtype=np.int64)
    onehot = sp.csr_matrix((np.ones(len(order_idx)), (np.arange(len(order_idx)), order_idx)),
                           shape=(len(order_idx), n_orders))
    T = np.asarray((X @ onehot).toarray(), dtype=float)
    coo = X.tocoo()
    w = coo.data.astype(float) ** 2 / T[coo.row, order_idx[coo.col]]
    return np.bincount(coo.col, weights=w, minlength=X.shape[1]), (T > 0).sum(axis=0).astype(np.int64)


def dispersion(y_from, y_to, total_from, total_to, s2_from, s2_to, units_from, units_to):
    """Quasi-Poisson dispersion of each phrase between the units of the two years, and its df.

    Each year keeps its own rate mu_s = y_s / N_s (N_s: the year's total of the phrase's order), so
    a real change between the years does not inflate the dispersion; Pearson's statistic over the
    units u of year s (McCullagh & Nelder 1989, sec. 4.5.2) reduces to the sums of
    :func:`unit_stats`::

        X2_s  = sum_u (y_u - T_u mu_s)^2 / (T_u mu_s) = S2_s * N_s / y_s - y_s     (0 when y_s = 0)
        df    = U_from + U_to - 2
        phi   = max(1, (X2_from + X2_to) / df)

    phi is floored at 1: a phrase never gets a smaller variance than the multinomial (token) model
    gives it. Where df < 1 (one unit on each side) phi is 1 and df is NaN (no dispersion can be
    estimated).

    Parameters
    ----------
    y_from, y_to, total_from, total_to : array_like
        The phrase's counts and the totals of its order in the two years.
    s2_from, s2_to : array_like
        S2 of :func:`unit_stats` for the phrase in each year.
    units_from, units_to : array_like
        The number of units with text of the phrase's order in each year.

    Returns
    -------
    phi, df : ndarray

    References
    ----------
    McCullagh, P. & Nelder, J. A. (1989). Generalized Linear Models, 2nd ed. Chapman & Hall (quasi-likelihood,
    the Pearson estimate of the dispersion).
    """
    y0, y1, n0, n1, s0, s1, u0, u1 = (np.asarray(v, dtype=float) for v in
                                      (y_from, y_to, total_from, total_to, s2_from, s2_to, units_from, units_to))
    with np.errstate(invalid="ignore", divide="ignore"):
        x0 = np.where(y0 > 0, s0 * n0 / np.where(y0 > 0, y0, 1) - y0, 0.0)
        x1 = np.where(y1 > 0, s1 * n1 / np.where(y1 > 0, y1, 1) - y1, 0.0)
        df = u0 + u1 - 2
        phi = np.where(df >= 1, np.maximum(1.0, (np.maximum(x0, 0) + np.maximum(x1, 0)) / np.where(df >= 1, df, 1)), 1.0)
    return phi, np.where(df >= 1, df, np.nan)


def score_z(y_from, y_to, total_from, total_to) -> np.ndarray:
    """Score statistic of the ratio of two Poisson rates (to / from), tokens independent.

    With r = (y_from + y_to) / (N_from + N_to), the pooled rate under the null of equal rates::

        z = (y_to / N_to - y_from / N_from) / sqrt(r * (1 / N_from + 1 / N_to))

    (statsmodels ``test_poisson_2indep(..., method="score")``; Gu, Ng, Tang & Schucany 2008). It is
    defined when one count is 0 (a new or gone phrase), has the sign of the raw rates' change, and
    uses no prior: the log-odds with the informative prior is the effect size, this is the test.
    Computed as statsmodels 0.15 computes it (``d = N_from / N_to``, ``r_d = 1 / d``,
    ``(y_to - y_from r_d) / sqrt((y_to + y_from) r_d)``: the same floats, tested) without importing
    statsmodels (about 0.6 s of the job's start); 0 where both counts are 0.

    Parameters
    ----------
    y_from, y_to, total_from, total_to : array_like

    Returns
    -------
    ndarray

    References
    ----------
    Gu, K., Ng, H. K. T., Tang, M. L. & Schucany, W. R. (2008). Testing the ratio of two Poisson rates.
    Biometrical Journal 50(2), 283-298.
    """
    y0, y1, n0, n1 = (np.asarray(v, dtype=float) for v in (y_from, y_to, total_from, total_to))
    if not len(y0):
        return np.zeros(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r_d = 1 / (n0 / n1)  # statsmodels: d = exposure2 / exposure1, r_d = value / d (value 1)
        stat = (y1 - y0 * r_d) / np.sqrt((y1 + y0) * r_d)
    return np.nan_to_num(np.asarray(stat, dtype=float), nan=0.0)


def t_p_values(t, df) -> np.ndarray:
    """Two-sided p of each t: Student's t with ``df`` degrees of freedom, the standard normal where
    df is NaN (no dispersion estimated).

    Parameters
    ----------
    t, df : array_like

    Returns
    -------
    ndarray
    """
    from scipy.special import ndtr, stdtr

    t, df = np.broadcast_arrays(np.abs(np.asarray(t, dtype=float)), np.asarray(df, dtype=float))
    # scipy.stats' norm.sf (ndtr(-t)) and t.sf (stdtr(df, -t)) on scipy.special: the same floats
    # without importing scipy.stats (a NaN t stays NaN, as there)
    return np.where(np.isnan(df), 2 * ndtr(-t), 2 * stdtr(np.where(np.isnan(df), 1.0, df), -t))


def min_detectable_ratio(rate: float, total_from: float, total_to: float, dispersion: float = 1.0,
                         df: float = np.nan, alpha: float = _P["q_threshold"], power: float = _P["power"]) -> float:
    """The smallest rate ratio (to / from, > 1) that a two-sided test at ``alpha`` detects with ``power``.

    A phrase whose rate is ``rate`` in ``year_from`` (per n-gram of its order) and ``ratio * rate``
    in ``year_to``, with the step's totals and a quasi-Poisson ``dispersion``: the power of the
    Wald test of log(ratio) (statsmodels ``power_poisson_ratio_2indep``, two-sided, the variance
    under the alternative, times the dispersion; Zhu 2017) is solved for the ratio (Brent's method).
    With ``df`` (the dispersion's degrees of freedom), alpha is first converted to the normal
    quantile of Student's t quantile, so the figure matches the t test of the table. The prior of
    the log-odds and the false-discovery control are left out: the figure is a lower bound of what
    the step can call (at q, the threshold of the top-ranked phrase is alpha / m).

    Parameters
    ----------
    rate : float
    total_from, total_to : float
    dispersion : float
    df : float
    alpha, power : float

    Returns
    -------
    float
        NaN when the rate or a total is 0; inf when even a ratio of 10^6 is not detected.
    """
    from scipy.optimize import brentq

    if not (rate > 0 and total_from > 0 and total_to > 0):
        return float("nan")
    if np.isfinite(df) and df >= 1:  # the normal alpha with the same critical value as t(df)
        alpha = float(2 * _norm_sf(_t_isf(alpha / 2, df)))

    def gap(log_ratio: float) -> float:
        return float(_power_poisson_ratio(rate * np.exp(log_ratio), rate, total_to, total_from / total_to, alpha,
                                          dispersion)) - power

    hi = np.log(1e6)
    if gap(hi) < 0:
        return float("inf")
    return float(np.exp(brentq(gap, 1e-9, hi, xtol=1e-6)))


# statsmodels' power of the rate-ratio test and the scipy.stats calls it and the minimum detectable
# ratio make, written on scipy.special (scipy 1.17: norm._sf = ndtr(-x), norm._isf = -ndtri(q),
# norm._ppf = ndtri, norm._cdf = ndtr; t._isf = -stdtrit(df, q); the generic wrapper's x * 1 + 0):
# the same floats (tests/test_phrases.py compares them with statsmodels and scipy.stats) without
# importing statsmodels and scipy.stats, about 0.6 s of the job's start


def _norm_sf(x):
    from scipy.special import ndtr

    return ndtr(-np.asarray(x, dtype=float))


def _t_isf(q: float, df: float):
    from scipy.special import stdtrit

    return -stdtrit(np.asarray(df, dtype=float), np.asarray(q, dtype=float)) * 1.0 + 0.0


def _power_poisson_ratio(rate1, rate2, nobs1, nobs_ratio, alpha: float, dispersion):
    """``statsmodels.stats.rates.power_poisson_ratio_2indep(rate1, rate2, nobs1, nobs_ratio=nobs_ratio,
    value=1, alpha=alpha, dispersion=dispersion, alternative="two-sided", return_results=False)``
    (statsmodels 0.15; ``method_var="alt"``, exposure 1) and its ``normal_power_het``, operation for
    operation: the variance of the log ratio under the alternative,
    ``v = dispersion * (1 / rate1 + 1 / (nobs_ratio * rate2))``, the effect ``log(rate1 / rate2)``, and
    the power of the two-sided normal test, ``sf(c - e sqrt(n1) / s) + cdf(-c - e sqrt(n1) / s)``."""
    from scipy.special import ndtr, ndtri

    rate1, rate2, nobs1 = np.asarray(rate1), np.asarray(rate2), np.asarray(nobs1)
    v1 = dispersion / 1 * (1 / rate1 + 1 / (nobs_ratio * rate2))
    std_null = std_alt = np.sqrt(v1)
    es = np.log(rate1 / rate2) - np.log(1)
    alpha_ = alpha / 2.0
    std_ratio = std_null / std_alt
    crit = -ndtri(np.asarray(alpha_, dtype=float)) * 1.0 + 0.0  # norm.isf(alpha_)
    pow_ = 0
    pow_ = ndtr(-np.asarray(crit * std_ratio - es * np.sqrt(nobs1) / std_alt, dtype=float))  # norm.sf
    crit = ndtri(np.asarray(alpha_, dtype=float)) * 1.0 + 0.0  # norm.ppf(alpha_)
    pow_ += ndtr(np.asarray(crit * std_ratio - es * np.sqrt(nobs1) / std_alt, dtype=float))  # norm.cdf
    return pow_


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object if c in ("lang", "phrase", "status", "display") else float)
                         for c in COLUMNS})


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    """lang, year_from, descending z (ties by phrase, for a stable file)."""
    return df.sort_values(["lang", "year_from", "z", "phrase"], ascending=[True, True, False, True],
                          kind="stable", ignore_index=True)[COLUMNS]


@dataclass(frozen=True)
class PhraseVocabulary:
    """What :func:`phrase_changes` derives from a year matrix's vocabulary alone, made once
    (:meth:`of`) for any number of matrices over that vocabulary (:func:`recount_changes`: the
    findings' checks recompute the test 41 times on a variant's counts, each time redoing this).

    Attributes
    ----------
    vocab : ndarray of object
        The vocabulary (distinct terms).
    rest : ndarray of bool
        :func:`is_rest` of each term.
    order : ndarray of int
        :func:`ngram_order` of each term.
    orders, order_idx : ndarray of int
        The distinct orders, ascending, and each term's position among them.
    onehot : scipy.sparse.csr_matrix
        Terms x orders, 1 at each term's order (a matrix's totals per order: ``X @ onehot``).
    """

    vocab: np.ndarray
    rest: np.ndarray
    order: np.ndarray
    orders: np.ndarray
    order_idx: np.ndarray
    onehot: sp.csr_matrix

    @classmethod
    def of(cls, vocab) -> "PhraseVocabulary":
        """The vocabulary's work.

        Parameters
        ----------
        vocab : sequence of str
            Distinct terms (a repeated term is an error: :func:`phrase_changes` sums their columns
            first).

        Returns
        -------
        PhraseVocabulary
        """
        v = np.asarray(vocab, dtype=object)
        if not pd.Index(v).is_unique:
            raise ValueError("a PhraseVocabulary needs distinct terms (phrase_changes sums a repeated term's columns)")
        return _vocabulary(v)

    def owns(self, vocab) -> bool:
        """Whether ``vocab`` is this vocabulary: the same array, or the same terms in the same order."""
        v = np.asarray(vocab, dtype=object)
        return v is self.vocab or (len(v) == len(self.vocab) and bool(np.array_equal(v, self.vocab)))


def _vocabulary(vocab: np.ndarray) -> PhraseVocabulary:
    """:meth:`PhraseVocabulary.of` of distinct terms (an object array), not checked again."""
    order = ngram_order(vocab)
    orders, order_idx = np.unique(order, return_inverse=True)
    onehot = sp.csr_matrix((np.ones(len(order), dtype=np.int64), (np.arange(len(order)), order_idx)),
                           shape=(len(order), len(orders)))
    return PhraseVocabulary(vocab, is_rest(vocab), order, orders, order_idx, onehot)


def recount_changes(matrix: CountMatrix, vocabulary: PhraseVocabulary, settings: PhraseSettings | Mapping | None,
                    lang: str, steps=None, docs: CountMatrix | None = None) -> pd.DataFrame:
    """:func:`phrase_changes` of a matrix over a vocabulary whose work is done
    (:class:`PhraseVocabulary`): the same table, without recomputing what depends only on the
    vocabulary (its orders, remainder columns and lookups; a document matrix ``docs`` that is
    over the same vocabulary array is used without mapping its terms).

    Parameters
    ----------
    matrix : CountMatrix
        One language's year matrix over ``vocabulary.vocab``.
    vocabulary : PhraseVocabulary
    settings : PhraseSettings or mapping, optional
        As in :func:`phrase_changes`.
    lang : str
    steps : collection of (int, int), optional
    docs : CountMatrix, optional

    Returns
    -------
    DataFrame
        ``COLUMNS``.

    Raises
    ------
    ValueError
        When ``matrix``'s vocabulary is not ``vocabulary``'s.
    """
    if not vocabulary.owns(matrix.vocab):
        raise ValueError("recount_changes: the matrix's vocabulary is not the PhraseVocabulary's")
    return _changes(matrix, vocabulary, PhraseSettings.of(settings), lang, steps, docs, None, False)


def phrase_changes(matrix: CountMatrix, settings: PhraseSettings | Mapping | None = None, lang: str | None = None,
                   steps=None, docs: CountMatrix | None = None, paras=None, with_steps: bool = False, **overrides):
    """Phrase changes between consecutive available years of one language's year matrix.

    The p-value of each phrase comes from its Monroe z divided by the square root of its
    dispersion between the step's sampling units (:func:`dispersion`): **documents** when both
    years have at least ``min_documents`` documents with text in ``docs``; else **paragraphs**
    (``paras``) when given; else **tokens** (dispersion 1: Monroe et al.'s z and the normal, which
    treat tokens as independent). Each step's unit, its units, the median count and dispersion
    of its tested phrases and the minimum detectable rate ratio (:func:`min_detectable_ratio`) are
    the step table (``with_steps``; ``STEP_COLUMNS``).

    ``matrix``: ``vectorize.year_matrix`` output (rows: lang, year, tokens). Prior: the
    matrix's column sums (the language's whole corpus); ``alpha_0="auto"``: per n-gram
    order, the median total of that order over the available years. ``lang`` defaults to
    the matrix's ``lang`` column (an empty matrix has none). Returns ``COLUMNS``.

    Parameters
    ----------
    matrix : CountMatrix
        One language's year matrix (a vocabulary with repeated terms has their columns summed); the
        orders above ``ngram_max`` are those :func:`with_long` appended (columns :data:`REST` are
        never tested).
    settings : PhraseSettings or mapping, optional
        ``min_count`` (a phrase is tested in a step when count_from + count_to >= min_count),
        ``alpha_0`` (the prior's weight per n-gram order), ``q_threshold`` (Benjamini-Hochberg level
        at which a change is called), ``ngram_max`` (the longest n-gram of the matrix tested) and
        ``max_length`` (the longest of the orders :func:`with_long` appended), ``fold_share`` (:func:`fold_pieces`, on the
        step's counts), ``unspaced_languages``, ``min_tokens`` (a step with a year under this many
        kept unigrams is ``insufficient``), ``min_documents``, ``power``, ``effect_prior``,
        ``conf_level``.
    lang : str, optional
    steps : collection of (int, int), optional
        Only these steps (year_from, year_to) of consecutive available years (None: every step);
        each step's rows are those of the whole table (the prior is still every year's).
    docs : CountMatrix, optional
        The language's document matrix (rows doc_id, year; ``doc_{lang}.npz``), the same n-grams.
    paras : CountMatrix or sequence of paths, optional
        Paragraph n-gram counts (rows year, doc_id, para): a matrix, or the `count` rule's
        ``_findings/para_{lang}-{shard}.npz`` files, read one at a time and only for the years of
        steps tested at the paragraph level.
    with_steps : bool
        Return the step table too.
    **overrides
        Fields of :class:`PhraseSettings` replacing those of ``settings`` (``min_count=1``).

    Returns
    -------
    DataFrame or (DataFrame, DataFrame)
        ``COLUMNS``, sorted by lang, year_from, descending z; with ``with_steps``, also the
        step table (``STEP_COLUMNS``, one row per step).

    References
    ----------
    Monroe, B. L., Colaresi, M. P. & Quinn, K. M. (2008). Fightin' words. Political Analysis 16(4),
    372-403 (:func:`textdrift.stats.log_odds_dirichlet`).
    Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate. JRSS B 57(1), 289-300.
    """
    st = PhraseSettings.of(settings, **overrides)
    rows = matrix.rows.reset_index(drop=True)
    if lang is None:
        lang = str(rows["lang"].iloc[0]) if len(rows) else "?"
    if (rows["tokens"] > 0).sum() < 2:
        return _changes(matrix, None, st, lang, steps, docs, paras, with_steps)
    if not pd.Index(matrix.vocab).is_unique:  # not written by vectorize: sum the columns of a repeated term
        codes, terms = pd.factorize(pd.Index(matrix.vocab))
        merge = sp.csr_matrix((np.ones(len(codes), dtype=matrix.X.dtype), (np.arange(len(codes)), codes)),
                              shape=(len(codes), len(terms)))
        matrix = CountMatrix((matrix.X @ merge).tocsr(), np.asarray(terms, dtype=object), matrix.rows)
    return _changes(matrix, _vocabulary(np.asarray(matrix.vocab, dtype=object)), st, lang, steps, docs, paras,
                    with_steps)


def _changes(matrix: CountMatrix, vocabulary: PhraseVocabulary | None, st: PhraseSettings, lang: str, steps,
             docs: CountMatrix | None, paras, with_steps: bool):
    """:func:`phrase_changes` of a matrix over ``vocabulary`` (None: fewer than two years with
    text, nothing tested)."""
    min_count, alpha_0, q_threshold, min_tokens = st.min_count, st.alpha_0, st.q_threshold, st.min_tokens
    min_documents, ngram_max = st.min_documents, st.ngram_max
    rows = matrix.rows.reset_index(drop=True)
    avail = rows[rows["tokens"] > 0].sort_values("year")
    if len(avail) < 2:
        log.info("%s: %d year(s) with text (%s); two are needed, no phrase changes",
                 lang, len(avail), ", ".join(map(str, avail["year"])) or "none")
        return (_empty(), pd.DataFrame(columns=STEP_COLUMNS)) if with_steps else _empty()
    per_year = dict(zip(avail["year"].astype(int).tolist(), avail.index.tolist()))  # year -> row of the matrix
    X = matrix.X.tocsr()
    vocab, rest, order = vocabulary.vocab, vocabulary.rest, vocabulary.order
    orders, order_idx, onehot = vocabulary.orders, vocabulary.order_idx, vocabulary.onehot
    # totals of each n-gram order: per row (one sparse product) and in the prior (all rows)
    row_totals = np.asarray((X @ onehot).toarray(), dtype=np.int64)
    prior = np.asarray(X.sum(axis=0)).ravel().astype(np.int64)
    tot_prior = np.bincount(order_idx, weights=prior, minlength=len(orders))
    tot_prior = pd.Series(np.where(np.bincount(order_idx, weights=prior > 0, minlength=len(orders)) > 0,
                                   tot_prior, np.nan), index=orders)
    # A lone phrase of its order has probability 1 everywhere: its log-odds are undefined.
    single_order = pd.Series(np.bincount(order_idx, weights=(prior > 0) & ~rest, minlength=len(orders)) < 2,
                             index=orders)
    # orders tested: up to ngram_max, and the orders counted from the tokens (they have a REST
    # column, :func:`with_long`) up to max_length
    long_orders = np.unique(order[rest])
    tested_order = (orders <= (ngram_max or 0)) | (np.isin(orders, long_orders) & (orders <= st.max_length))
    if alpha_0 == "auto":
        # each order's median over the available years (a float, as pandas' median of the years' totals)
        alpha_0 = dict(zip(orders.tolist(), np.median(row_totals[list(per_year.values())].astype(float), axis=0).tolist()))
    if isinstance(alpha_0, str):
        raise ValueError(f"alpha_0 must be a positive number, a mapping or 'auto', got {alpha_0!r}")
    if min_count < 1:
        raise ValueError(f"min_count must be >= 1, got {min_count}")
    years = list(per_year)
    todo = [(y0, y1) for y0, y1 in zip(years, years[1:]) if steps is None or (y0, y1) in steps]
    n_docs = ({} if docs is None else
              docs.rows[docs.rows["tokens"] > 0].groupby("year").size().rename(int).to_dict())
    unit_of = {}
    for y0, y1 in todo:
        if docs is not None and min(n_docs.get(y0, 0), n_docs.get(y1, 0)) >= min_documents:
            unit_of[(y0, y1)] = "documents"
        elif paras is not None:
            unit_of[(y0, y1)] = "paragraphs"
        else:
            unit_of[(y0, y1)] = "tokens"
    stats = {}  # (unit, year) -> (S2 per column, units per order)
    need = {u: sorted({y for st, un in unit_of.items() if un == u for y in st}) for u in UNITS[:2]}
    if need["documents"]:
        stats.update({("documents", y): v for y, v in
                      _year_unit_stats([docs], need["documents"], vocabulary).items()})
    if need["paragraphs"]:
        stats.update({("paragraphs", y): v for y, v in
                      _year_unit_stats(paras, need["paragraphs"], vocabulary).items()})
    out, step_rows = [], []
    for y0, y1 in todo:
        unit = unit_of[(y0, y1)]
        i0, i1 = per_year[y0], per_year[y1]
        pair = X[[i0, i1]]
        both = np.asarray(pair.sum(axis=0)).ravel()
        cols = np.flatnonzero((both >= min_count) & ~rest)
        if ngram_max is not None:
            cols = cols[tested_order[order_idx[cols]]]
        lone = single_order.to_numpy()[order_idx[cols]]  # no piece is folded into an untestable phrase
        unit_mask, pieces = fold_pieces(vocab[cols], np.where(lone, 0, both[cols]), st.fold_share)
        unit_mask |= lone
        folded = int((~unit_mask).sum())
        cols, pieces = cols[unit_mask], pieces[unit_mask]
        y = pair[:, cols].toarray().astype(np.int64)
        n = order[cols]
        k = order_idx[cols]
        df = pd.DataFrame({"phrase": vocab[cols], "n": n, "count_from": y[0], "count_to": y[1],
                           "total_from": row_totals[i0][k], "total_to": row_totals[i1][k], "pieces": pieces})
        a0 = (pd.Series(alpha_0).reindex(n).to_numpy(float) if isinstance(alpha_0, Mapping)
              else np.full(len(df), float(alpha_0)))
        uni = np.flatnonzero(orders == 1)
        low = len(uni) == 0 or min(row_totals[i0][uni[0]], row_totals[i1][uni[0]]) < min_tokens
        phi = dof = None
        u0 = u1 = np.zeros(len(orders), dtype=np.int64)
        if unit != "tokens":
            (s0, u0), (s1, u1) = stats[(unit, y0)], stats[(unit, y1)]
            phi, dof = dispersion(y[0], y[1], df["total_from"], df["total_to"], s0[cols], s1[cols], u0[k], u1[k])
        df = _score(df, (prior[cols].astype(float), a0, tot_prior.to_numpy(float)[k], single_order.to_numpy()[k]),
                    st, low, None if phi is None else (phi, dof))
        out.append(_label_step(df, lang, y0, y1))
        if with_steps:  # the step table only when asked: its minimum detectable ratio is a root search
            uni1 = uni[0] if len(uni) else 0
            step_rows.append(_step_row(df, {"lang": lang, "year_from": y0, "year_to": y1, "unit": unit,
                                            "units_from": int(u0[uni1]), "units_to": int(u1[uni1])}, st, folded))
    table = _finish(out, lang, st.unspaced_languages) if out else _empty()
    if with_steps:
        return table, pd.DataFrame(step_rows, columns=STEP_COLUMNS)
    return table


def _year_unit_stats(sources, years, vocabulary: PhraseVocabulary) -> dict:
    """:func:`unit_stats` of each year of ``years``, over the units (rows) of ``sources``.

    ``sources``: a CountMatrix, or a sequence of CountMatrix or ``.npz`` paths (read one at a
    time: the per-shard paragraph matrices); their rows have ``year``. Their vocabularies are
    mapped onto ``vocabulary.vocab`` (a source term absent from it counts towards its unit's
    totals only; a source over the same vocabulary array is taken as it is). Returns {year: (S2
    over the vocabulary, units per order of ``vocabulary.orders``)}.
    """
    if isinstance(sources, CountMatrix):
        sources = [sources]
    vocab, orders = vocabulary.vocab, vocabulary.orders
    target = None
    out = {y: (np.zeros(len(vocab)), np.zeros(len(orders), dtype=np.int64)) for y in years}
    for src in sources:
        m = X = None  # the previous source's matrices freed, and given back to the system before the next is read
        _release_memory()
        m = src if isinstance(src, CountMatrix) else src.load() if isinstance(src, _only_documents) else load_matrix(src)
        if not len(m.rows):
            continue
        sel = m.rows["year"].astype(int).isin(years).to_numpy(dtype=bool)
        if not sel.any():
            continue
        X = m.X.tocsr() if sel.all() else m.X.tocsr()[sel]  # (every row: no copy of the matrix)
        row_years = m.rows["year"].astype(int).to_numpy()[sel]
        if np.asarray(m.vocab, dtype=object) is vocab:  # the vocabulary's own terms, in its order
            for y in np.unique(row_years):
                s2, u = unit_stats(X[row_years == y], vocabulary.order_idx, len(orders))
                acc_s2, acc_u = out[int(y)]
                acc_s2 += s2
                acc_u += u
            continue
        if target is None:
            target = pa.array(vocab, type=pa.string())
        own = ngram_order(m.vocab)
        k = np.searchsorted(orders, own)
        keep = (k < len(orders)) & (orders[np.minimum(k, len(orders) - 1)] == own)
        if not keep.all():  # orders the year matrix does not have (longer n-grams): not tested
            X, k = X[:, np.flatnonzero(keep)], k[keep]
            src_vocab = np.asarray(m.vocab, dtype=object)[keep]
        else:
            src_vocab = np.asarray(m.vocab, dtype=object)
        pos = pc.index_in(pa.array(src_vocab, type=pa.string()), value_set=target).to_numpy(zero_copy_only=False)
        pos = np.where(pd.isna(pos), -1, pos).astype(np.int64)
        for y in np.unique(row_years):
            s2, u = unit_stats(X[row_years == y], k, len(orders))
            hit = pos >= 0
            acc_s2, acc_u = out[int(y)]
            acc_s2 += np.bincount(pos[hit], weights=s2[hit], minlength=len(vocab))
            acc_u += u
    return out


def _step_row(df: pd.DataFrame, step: dict, settings: PhraseSettings, folded: int = 0) -> dict:
    """One row of the step table: ``step`` (lang, year_from, year_to, unit, units_from, units_to), the
    tested phrases' median count (both years) and dispersion, the minimum detectable rate ratio of
    a phrase of that count (its rate in ``year_from`` = median count / (total_from + total_to) of its
    order, the unigram totals when the step has unigrams), the tally of statuses, the pieces folded
    into longer units (``folded``), the lowest q and the ``ranking`` (:data:`RANKINGS`)."""
    q_threshold, power = settings.q_threshold, settings.power
    unit = step["unit"]
    counts = df["status"].value_counts()
    row = {**step, "units_from": step["units_from"] if unit != "tokens" else np.nan,
           "units_to": step["units_to"] if unit != "tokens" else np.nan, "tested": len(df),
           "median_count": np.nan, "median_dispersion": np.nan, "alpha": q_threshold, "power": power,
           "min_detectable_ratio": np.nan, **{s: int(counts.get(s, 0)) for s in STATUSES}, "folded": folded,
           "min_q": float(df["q"].min()) if len(df) else np.nan}
    row["ranking"] = ("insufficient" if counts.get("insufficient", 0) else
                      "test" if len(df) and row["min_q"] <= q_threshold else "exploratory")
    if len(df):
        c = (df["count_from"] + df["count_to"]).to_numpy(float)
        med, phi = float(np.median(c)), float(np.median(df["dispersion"]))
        ref = df[df["n"] == df["n"].min()]
        n0, n1 = float(ref["total_from"].iloc[0]), float(ref["total_to"].iloc[0])
        dof = float(np.median(ref["df"])) if ref["df"].notna().any() else np.nan
        row.update(median_count=med, median_dispersion=phi,
                   min_detectable_ratio=min_detectable_ratio(med / (n0 + n1), n0, n1, phi, dof, q_threshold, power))
    return row


def _label_step(df: pd.DataFrame, lang: str, y0: int, y1: int) -> pd.DataFrame:
    """Prefix one step's rows with lang, year_from, year_to and log its status counts."""
    df.insert(0, "lang", lang)
    df.insert(1, "year_from", y0)
    df.insert(2, "year_to", y1)
    counts = df["status"].value_counts()
    log.info("%s %d -> %d: %d phrases tested; %s", lang, y0, y1, len(df),
             ", ".join(f"{s} {counts.get(s, 0)}" for s in STATUSES))
    return df


def entity_display(df: pd.DataFrame, labels: Mapping[str, Mapping[str, str]] | None) -> pd.DataFrame:
    """``df`` (rows of ``phrase_changes.csv``) with each name's token in ``display`` (``@id``, the
    token that stands for a mention of an entity) replaced by the entity's label in the row's
    language (English's where it has none; the token as it is where it has neither): "高举@deng_theory" ->
    "高举邓小平理论". ``phrase`` keeps the token (it is what the counts are of). Ids are matched
    longest first, so an id that begins another (``gdi``, ``gdi_digital_cooperation_forum``) never
    takes the longer one's place.

    Parameters
    ----------
    df : DataFrame
        With ``lang`` and ``display``.
    labels : mapping of str to mapping of str to str, optional
        {entity id: {language: label}} (the entity list's ``label_*``); None or empty: ``df`` as it is.

    Returns
    -------
    DataFrame
    """
    if not labels or not len(df):
        return df
    has = df["display"].astype(str).str.contains(ENTITY_HEAD, regex=False).to_numpy()
    if not has.any():
        return df
    ids = sorted(labels, key=lambda i: (-len(i), i))
    pattern = re.compile(re.escape(ENTITY_HEAD) + "(" + "|".join(map(re.escape, ids)) + ")")
    shown, langs = df["display"].to_numpy(dtype=object).copy(), df["lang"].to_numpy(dtype=object)
    for lang in dict.fromkeys(langs[has]):
        names = {k: v.get(lang) or v.get("en") or ENTITY_HEAD + k for k, v in labels.items()}
        for i in np.flatnonzero(has & (langs == lang)):
            shown[i] = pattern.sub(lambda m: names[m.group(1)], shown[i])
    return df.assign(display=shown)


def _finish(steps: list[pd.DataFrame], lang: str, unspaced_languages) -> pd.DataFrame:
    """All steps of one language in one table, with the ``display`` form, sorted."""
    df = pd.concat(steps, ignore_index=True)
    df["display"] = df["phrase"].str.replace(SEP, "", regex=False) if lang in unspaced_languages else df["phrase"]
    return _sorted(df)


#: rows of ``phrase_changes.csv`` turned into CSV text at a time (:func:`write_phrases`)
_BATCH_ROWS = 20_000

#: the keyword arguments of :func:`write_phrases` that are not settings: files, the memo, and the
#: codebook's terms and the entities' labels as read from theirs
FILE_ARGUMENTS = ("documents", "doc_matrices", "para_matrices", "tokens", "codebook", "codebook_terms", "user_dict",
                  "entity_labels",
                  "formulations", "steps_csv", "grouped_csv", "memo")


def write_phrases(year_matrices: Mapping[str, str | Path], out_csv: str | Path,
                  settings: PhraseSettings | Mapping | None = None, **kwargs) -> int:
    """Rule ``phrases``: phrase changes of every language ({lang: year_{lang}.npz}) into one CSV;
    with ``documents`` (``results/tables/documents.csv``), each row also says whether its step compares
    like with like (``genre_match`` of :func:`textdrift.manifest.step_documents`; the step's document
    and genre lists are in ``tfidf_drift.csv``, one row per step).

    ``settings.group_by`` (a column of ``documents``): the same table computed on each group's
    documents alone (year matrices summed from ``doc_matrices``, {lang: doc_{lang}.npz}; the prior is
    the group's own corpus), written to ``grouped_csv`` with a leading ``group`` column.

    The test's units (:func:`phrase_changes`): the documents of ``doc_matrices`` and the paragraphs
    of ``para_matrices`` ({lang: [the count rule's ``_findings/para_{lang}-{shard}.npz``]}, read one
    shard at a time, only for the years tested at the paragraph level); the step table
    (``STEP_COLUMNS`` + ``genre_match``) goes to ``steps_csv`` (``phrase_steps.csv``). With ``tokens``
    (the token shards) and ``max_length > ngram_max``, the phrases of ``ngram_max + 1`` to
    ``max_length`` words are counted from the tokens (:func:`long_counts`) and appended to the year,
    document and paragraph counts (:func:`with_long`); so are the phrases that hold a stop word or
    dropped token inside a formulation of ``codebook``, ``user_dict`` or ``formulations``
    (:func:`protected_formulations`).

    Parameters
    ----------
    year_matrices : mapping of str to str or Path
    out_csv : str or Path
        ``phrase_changes.csv``.
    settings : PhraseSettings or mapping, optional
        :class:`PhraseSettings` (``vectorize_ngram_max`` checked by :func:`check_ngram_max`).
    **kwargs
        Files (:data:`FILE_ARGUMENTS`): ``documents``, ``doc_matrices`` ({lang: path}),
        ``para_matrices`` ({lang: [paths]}), ``tokens`` (list of token shards), ``codebook`` (or
        ``codebook_terms``, {lang: strings}, :func:`codebook_formulations`), ``user_dict``, ``formulations`` (``new_formulations.csv``), ``steps_csv``, ``grouped_csv``; any other name is a field of :class:`PhraseSettings` (``min_count=1``).
        ``entity_labels`` ({entity id: {lang: label}}): the ``display`` of a phrase with a name
        (:func:`entity_display`; none: the ``@id`` token as it is).
        ``memo`` (a :class:`textdrift.langmemo.LanguageMemo`): each language's rows and steps kept by a
        digest of exactly its inputs (:mod:`textdrift.langmemo`); a language whose entry is kept is
        not computed (the tables are the same either way). Not used with ``group_by``.

    Returns
    -------
    int
        The number of rows written to ``out_csv`` (one language in memory at a time).

    References
    ----------
    Monroe, B. L., Colaresi, M. P. & Quinn, K. M. (2008). Fightin' words. Political Analysis 16(4),
    372-403 (:func:`textdrift.stats.log_odds_dirichlet`).
    Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate. JRSS B 57(1), 289-300.
    """
    from textdrift.manifest import STEP_COLUMNS as DOCUMENT_STEP_COLUMNS, document_groups, step_documents, with_group

    files = {k: kwargs.pop(k) for k in FILE_ARGUMENTS if k in kwargs}
    st = PhraseSettings.of(settings, **kwargs)
    check_ngram_max(st.ngram_max, st.vectorize_ngram_max)
    documents, steps_csv, grouped_csv = files.get("documents"), files.get("steps_csv"), files.get("grouped_csv")
    docs = read_csv(documents) if documents is not None else None
    doc_paths, para_paths = dict(files.get("doc_matrices") or {}), dict(files.get("para_matrices") or {})
    tokens = list(files.get("tokens") or [])
    named = {k: files.get(k) for k in ("codebook", "user_dict", "formulations")}
    labels = files.get("entity_labels") or {}
    codebook_terms = dict(files.get("codebook_terms") or {})
    memo = files.get("memo") if not st.group_by else None
    from textdrift.langmemo import for_files

    memo = for_files(memo, [*year_matrices.values(), *doc_paths.values(), *(q for v in para_paths.values() for q in v),
                            *tokens])
    step_tables: list[pd.DataFrame] = []

    def with_steps(df: pd.DataFrame, docs_of) -> pd.DataFrame:
        if docs_of is None:
            return df
        # genre_match only: the step's document and genre lists are tfidf_drift.csv's (one row per
        # step); repeated on every phrase they made the table grow with documents x phrases. Computed
        # once per step, then given to its rows: the lists built for every row were the job's peak
        # (two columns of 2 kB strings on 363,000 rows at 200 MB)
        drop = [c for c in DOCUMENT_STEP_COLUMNS if c not in PHRASE_STEP_COLUMNS]
        keys = ["lang", "year_from", "year_to"]
        if df.empty:
            return step_documents(df, docs_of).drop(columns=drop)
        # each row's step numbered (the three keys factorized, then their combination), the step's
        # values taken for every row at once (a Python loop over the rows cost 0.4 s at 50 MB)
        step = np.zeros(len(df), dtype=np.int64)
        for c in keys:
            codes, uniq = pd.factorize(df[c], sort=False)
            step = step * max(len(uniq), 1) + codes
        step, _ = pd.factorize(step, sort=False)
        first = np.unique(step, return_index=True)[1]  # the first row of step 0, 1, ...
        steps = step_documents(df[keys].iloc[first].reset_index(drop=True), docs_of).drop(columns=drop)
        return df.assign(**{c: steps[c].to_numpy(dtype=object)[step] for c in PHRASE_STEP_COLUMNS})

    def uses_tokens(protected) -> bool:
        return bool(tokens) and bool(st.max_length > st.ngram_max or protected)

    def memo_key(lang: str, protected, digests):
        """The key of ``lang``'s entry (None when the digest of some token shard is not known)."""
        from dataclasses import asdict

        from textdrift.langmemo import documents_of

        if uses_tokens(protected) and digests is None:
            return None
        return memo.key(lang=lang, settings=asdict(st), protected=list(protected),
                        year=memo.sha(year_matrices[lang]),
                        doc=memo.sha(doc_paths[lang]) if lang in doc_paths else None,
                        paras=[memo.sha(q) for q in para_paths.get(lang, [])],
                        tokens=digests if uses_tokens(protected) else None, documents=documents_of(docs, lang))

    def inputs(lang: str, protected, digests=None):
        """The year matrix, document matrix and paragraph sources of ``lang``, long phrases appended."""
        paras = para_paths.get(lang, [])
        extra = lc = None
        if uses_tokens(protected):
            # the tokens' stream first: its arrays are freed before the matrices are read
            lc = long_counts(tokens, lang, st, protected, digests)
            _release_memory()
        ym = load_matrix(year_matrices[lang])
        dm = load_matrix(doc_paths[lang]) if lang in doc_paths else None
        if lc is not None:
            ym = with_long(ym, lc.year, ["year"], st.ngram_max)
            dm = with_long(dm, lc.doc, ["doc_id"], st.ngram_max) if dm is not None else None
            extra = lc.para
        return ym, dm, [_only_documents(p, None, st.ngram_max, extra) for p in paras] or None

    # The table is sorted by language first: one language's year matrix and rows in memory at a time.
    written = 0
    per_doc = {}

    def by_language():
        nonlocal written
        for lang in sorted(year_matrices):
            protected = protected_formulations(lang, **named, terms=codebook_terms.get(lang))
            key = kept = recorded = None
            if memo is not None:
                digests = memo.shard_digests(tokens, lang, lambda p, lg: _shard_columns(p, lg, _STREAM_COLUMNS)) \
                    if uses_tokens(protected) else None
                key = memo_key(lang, protected, digests)
                kept = memo.get(key) if key is not None else None
                recorded = [] if key is None else None
            if isinstance(kept, tuple) and len(kept) == 2:
                log.info("%s: the rows and steps kept in the memo (its inputs, the settings and the code unchanged)",
                         lang)
                out, steps = kept
            else:
                log.info("%s: reading %s", lang, year_matrices[lang])
                ym, dm, paras = inputs(lang, protected, recorded)
                df, steps = phrase_changes(ym, st, lang, docs=dm, paras=paras, with_steps=True)
                if st.group_by and dm is not None:
                    per_doc[lang] = (dm, paras)
                del dm
                del ym, paras
                out = with_steps(_sorted(df), docs) if len(df) else None
                del df
                if memo is not None:
                    if key is None:
                        for path, digest in zip(tokens, recorded or []):
                            memo.keep_digest(path, lang, digest)
                        key = memo_key(lang, protected, recorded if recorded else None)
                    if key is not None:
                        memo.put(key, (out, steps))
            step_tables.append(steps)
            if out is not None and len(out):
                written += len(out)
                # in batches of rows: the CSV text of one batch in memory, not of the language's table
                # (363,000 Chinese rows at 200 MB made a text of over 1 GB)
                for start in range(0, len(out), _BATCH_ROWS):
                    yield entity_display(out.iloc[start:start + _BATCH_ROWS], labels)
                del out
            _release_memory()  # before the next language's tokens are read
        if not written:
            yield with_steps(_empty(), docs)

    write_csv_batches(by_language(), out_csv)
    log.info("wrote %d rows to %s", written, out_csv)
    if memo is not None:
        log.info(memo.finish())
    if steps_csv is not None:
        table = pd.concat([t for t in step_tables if len(t)], ignore_index=True) if any(map(len, step_tables)) \
            else pd.DataFrame(columns=STEP_COLUMNS)
        table = with_steps(table.sort_values(["lang", "year_from"], ignore_index=True), docs)
        write_csv(table, steps_csv)
        log.info("wrote %d steps to %s", len(table), steps_csv)
    if st.group_by:
        frames = {}
        for g, ids in document_groups(docs, st.group_by).items():
            ids = {str(i) for i in ids}
            parts = []
            for lang, (m, paras) in per_doc.items():
                own = m.take(m.rows["doc_id"].astype(str).isin(ids).to_numpy(dtype=bool))
                sub = year_matrix_of(m, ids)
                if not len(sub.rows):
                    continue
                group_paras = [_only_documents(p.path, ids, p.max_order, p.extra) for p in paras] if paras else None
                parts.append(phrase_changes(sub, st, lang, docs=own, paras=group_paras, with_steps=True)[0])
            parts = [f for f in parts if len(f)]
            frames[g] = entity_display(with_steps(_sorted(pd.concat(parts, ignore_index=True)) if parts else _empty(),
                                                  docs[docs["doc_id"].astype(str).isin(ids)]), labels)
        grouped = with_group(frames)
        write_csv(grouped, grouped_csv)
        log.info("wrote %d rows (%s groups) to %s", len(grouped), st.group_by, grouped_csv)
    return written


class _only_documents:
    """A paragraph matrix (a file, read lazily, or a CountMatrix) restricted to the documents ``ids``
    (all when None) and to the n-grams of at most ``max_order`` words (all when None), with the
    columns of ``extra`` (the same paragraphs' :func:`long_counts`) appended: one matrix per
    paragraph, so that its totals of every order are whole."""

    def __init__(self, path, ids, max_order: int | None = None, extra: CountMatrix | None = None):
        self.path, self.ids, self.max_order, self.extra = path, ids, max_order, extra

    def load(self) -> CountMatrix:
        m = self.path if isinstance(self.path, CountMatrix) else load_matrix(self.path)
        if self.extra is not None and len(m.rows):
            m = with_long(m, self.extra, ["year", "doc_id", "para"], self.max_order)
        elif self.max_order is not None and len(m.vocab) and ngram_order(m.vocab).max() > self.max_order:
            keep = np.flatnonzero(ngram_order(m.vocab) <= self.max_order)
            m = CountMatrix(m.X.tocsr()[:, keep], np.asarray(m.vocab, dtype=object)[keep], m.rows)
        if self.ids is None or not len(m.rows):
            return m
        return m.take(m.rows["doc_id"].astype(str).isin(self.ids).to_numpy(dtype=bool))


def run_phrases(input, output, params, log, config=None) -> None:
    """Rule ``phrases``: year-over-year phrase changes per language.

    Parameters
    ----------
    input, output, params : Snakemake's named lists of the rule (``workflow/rules/phrases.smk``)
        Attribute access by the names the rule gives; any object with those attributes works.
    log : list of str
        The job's log file (first item).
    config : dict, optional
        The workflow's configuration: the per-language memo's settings (``language_memo``,
        :func:`textdrift.langmemo.memo_for`); None: no memo.
    """
    from textdrift.io import log_to_file
    from textdrift.langmemo import memo_for

    log_to_file(log[0])
    from textdrift.provenance import settings

    i, o, p = input, output, params
    kw = settings(p)
    languages = kw.pop("languages")
    protected = kw.pop("protected", None)  # the codebook's splittable formulations (codebook_protected)
    if protected is None and i.get("codebook"):  # a storage provider's run: the codebook is an input
        protected = codebook_protected(i.codebook[0], i.removed, languages,
                                       kw.get("unspaced_languages", UNSPACED_LANGUAGES))
    if protected is None:
        raise ValueError("rule phrases: its param `protected` was planned before the removed tokens' vocabulary "
                         f"existed and not recomputed ({i.removed}); rerun the workflow")
    shards = {lang: [f for f in i.para if Path(f).name.startswith(f"para_{lang}-")] for lang in languages}
    labels = kw.pop("entity_labels", None)
    write_phrases(dict(zip(languages, i.year)), o.changes, PhraseSettings.of(kw), documents=i.documents,
                  doc_matrices=dict(zip(languages, i.doc)), para_matrices=shards, tokens=list(i.tokens),
                  codebook_terms=dict(protected), user_dict=i.get("user_dict"), formulations=i.formulations,
                  steps_csv=o.steps, grouped_csv=o.get("grouped"), memo=memo_for(config, "phrases"),
                  entity_labels=labels)
