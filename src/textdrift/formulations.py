"""New and vanished formulations: the maximal recurring strings that enter or leave a corpus in a year.

A reader of annual reports looks first for the *new formulations* (新提法) of each year: the terms
that enter the official vocabulary, and those that leave it. This module finds them without a
dictionary and without a fixed n-gram length (about 1,340 lines: the level-wise counting of
strings one year at a time, the trie that counts the candidates in every year, the trimmed
cores, the maximal-unit and boundary rules, the table and the rule).

Method
------
* **Units and runs.** For each language, the tokens of the counted paragraphs (config
  ``count_roles``) are read from the token shards, one shard at a time, in text order. An
  *unspaced* language (config ``unspaced_languages``, e.g. Chinese) is read as **characters**: the
  tokens' ``text`` joined within each sentence, so a compound the segmenter's dictionary splits
  (数字丝绸之路 -> 数字 / 丝绸之路, or into single characters) is recovered whole; jieba's tokens
  serve only as boundary evidence (below). A spaced language (English) is read as **words**: the
  lower-cased ``text`` of every token, function words included, so "community with a shared future
  in cyberspace" is one formulation. A *run* is a stretch of units inside one sentence between two
  breaks: a break is a character (unspaced) or a token (spaced) made only of Unicode punctuation
  (category P*), separators (Z*) or control characters (C*). Symbols (S*: ``+``, ``%``) are not
  breaks, so "互联网+" stays one string. A formulation never crosses a run boundary.
* **Frequent strings, level by level.** A string of L units is *frequent* when it occurs at least
  ``min_count`` times in one year (of the language). Every substring of a frequent string is
  frequent in the same year (the Apriori property: Agrawal & Srikant 1994, "Fast algorithms for
  mining association rules", VLDB, applied to contiguous sequences), so the strings of length
  L + 1 are counted in a year only at positions where both their length-L prefix and suffix are
  frequent in that year. Strings are exact integer codes (each level's code pairs a length-L code
  with the next unit, renumbered by ``pandas.factorize``; no hashing), so a frequent string's count
  in the year is exact. No suffix tree is built, and no string longer than ``max_length + 1`` is
  ever counted.
* **One year at a time, in bounded memory.** A string's count, closedness (below) and ends in a
  year depend on that year's text only, so the strings are found year by year: the units are read
  once, shard by shard, and kept per year as integer arrays in a temporary directory; each year's
  candidates (closed, with clean ends, frequent and in ``min_paragraphs`` paragraphs of the year)
  are found from that year's units alone. The candidates that may be new or vanished (no
  candidate row of the same string in a year before, or after, within ``window``) are then
  counted exactly in every year, one year at a time, through a trie of their unit codes (a hash
  index per length): their year profile. Memory is one year's units and the candidates, not the
  language's text.
* **Maximal units.** A frequent string of year y is *closed* (a maximal repeat of that year) when
  no one-unit extension to the left or right has the same count in y: a piece that occurs in y only
  inside one longer string (数字丝绸 inside 数字丝绸之路) is folded into it, while a piece that also
  occurs on its own (丝绸之路 alone or in other strings) has a larger count than any extension and is
  kept. This is the maximal (left- and right-) repeat of suffix-tree string mining (Gusfield 1997,
  *Algorithms on Strings, Trees and Sequences*, section 7.12), restricted to the repeats of one
  year; it differs from the C-value of nested terms (Frantzi, Ananiadou & Mima 2000, "Automatic
  recognition of multi-word terms: the C-value/NC-value method", *Int. J. Digital Libraries* 3(2),
  115-130), which discounts rather than folds nested strings: here a nested piece is dropped only
  when every occurrence in the year is inside the same longer string. A closed string of length
  ``max_length`` that extends with the same count is part of a longer repeated passage (a repeated
  sentence, a boilerplate line), not a formulation: it is not reported.
* **Boundaries.** At least ``min_count`` of its occurrences in the year begin where a token of the
  segmenter begins and end where one ends, and neither their first nor their last token is a stop
  word (``is_stop``): the string recurs as a unit of its own. "的数字丝绸之路", "丝绸之路建设的" or
  "绸之路" are not formulations; 数字丝绸之路 is even when the dictionary cuts it inside, and
  丝绸之路 is when it occurs on its own at least ``min_count`` times, although the dictionary makes
  数字丝绸之路 one token. The segmenter is used only for the two ends.
* **New and vanished.** With the language's years that have counted text sorted, a closed string
  of year y is ``new`` in y when it occurs in no earlier year (``window`` None, the default), or in
  none of the ``window`` preceding years with text; it is ``vanished`` in y when it occurs in no
  later year (or none of the ``window`` following years with text). The first year has no new and
  the last no vanished formulations (nothing to compare with). It must also occur in at least
  ``min_paragraphs`` paragraphs of y.
* **Length** is at least ``min_chars`` characters (unspaced) or ``min_words`` words, numbers not
  counted (a year, "2024年" or "二〇二〇年", is not a formulation; "2030年可持续发展议程" is), and at most
  ``max_chars`` / ``max_words``.
* **Ranking** (within language, year and status): more documents first, then more paragraphs, then
  a higher count in the year, then the longer string, then the string; ``rank`` 1 is the first.
  A formulation spread over several documents and paragraphs thus comes before a string repeated
  within one paragraph. At most ``top_n`` rows per (language, year, status) are written.

* **Nested pieces in displays.** A piece that also occurs on its own is kept in the table (it has a
  larger count than the longer string), but when the longer string of the same year and status
  (among the rows written) covers at least ``fold_share`` of its occurrences (改革开放和现代化, 22,
  inside 改革开放和现代化建设, 21), ``nested_in`` names that string and the chart leaves the piece
  out: one formulation, one bar.

Output (``results/tables/new_formulations.csv``): ``lang, year, status, rank, formulation, length,
count, paragraphs, documents, years, first_year, last_year, total, compared_units, nested_in,
example_doc, example``: ``length`` in characters (unspaced) or words, ``count``/``paragraphs``/
``documents`` in ``year``, ``years`` every year it occurs in (``;``-separated, with the count:
``2017:5;2018:2``), ``total`` its count in the whole corpus of the language, ``compared_units``
the units of counted text of the years it is absent from (before a ``new`` row's year, after a
``vanished`` one's, within ``window``: "new" against 55 characters says little), ``nested_in``
the longer formulation it is folded
into in displays (empty if none), ``example`` the first sentence of ``year`` it occurs
in (document ``example_doc``).
"""

from __future__ import annotations

import logging
import time
import unicodedata
from dataclasses import dataclass, field
from typing import NamedTuple
from pathlib import Path

import numpy as np
import pandas as pd

from textdrift.config import Settings, defaults, setting
from textdrift.counting import frequent_extensions, key_order, run_room

log = logging.getLogger("textdrift.formulations")

_D = defaults()
_F = _D["formulations"]

__all__ = ["COLUMNS", "STATUSES", "FormulationSettings", "Units", "formulations", "new_formulations", "nested_in", "read_all_units", "read_units", "run_formulations",
           "write_formulations"]

@dataclass(frozen=True)
class FormulationSettings(Settings):
    """The settings of the new-formulation table (the ``formulations`` block of the configuration,
    with ``unspaced_languages`` and ``count_roles``); defaults from the schema
    (:class:`textdrift.config.Settings`: ``FormulationSettings.from_config(config)``, or in a rule
    ``FormulationSettings.from_params(params)``).

    Attributes
    ----------
    unspaced_languages : tuple of str
        Languages read as characters.
    count_roles : tuple of str
        The paragraph roles counted.
    min_count, min_paragraphs : int
        Occurrences and paragraphs in the year.
    window : int or None
        Years with text compared before (new) or after (vanished); None = all.
    min_chars, max_chars, min_words, max_words : int
        Lengths in characters (unspaced languages) or words.
    top_n : int or None
        Rows kept per (language, year, status).
    fold_share : float
        As in :func:`nested_in`.
    """

    unspaced_languages: tuple = setting("unspaced_languages", convert=tuple)
    count_roles: tuple = setting("count_roles", convert=tuple)
    min_count: int = setting("formulations", "min_count")
    min_paragraphs: int = setting("formulations", "min_paragraphs")
    window: int | None = setting("formulations", "window")
    min_chars: int = setting("formulations", "min_chars")
    max_chars: int = setting("formulations", "max_chars")
    min_words: int = setting("formulations", "min_words")
    max_words: int = setting("formulations", "max_words")
    top_n: int | None = setting("formulations", "top_n")
    fold_share: float = setting("formulations", "fold_share")


COLUMNS = ["lang", "year", "status", "rank", "formulation", "length", "count", "paragraphs", "documents", "years",
           "first_year", "last_year", "total", "compared_units", "nested_in", "example_doc", "example"]
STATUSES = ("new", "vanished")
TOKEN_COLUMNS = ["doc_id", "year", "lang", "para", "sent", "idx", "text", "is_stop", "role"]
_SENT_COLUMNS = ["doc_id", "lang", "para", "sent", "idx", "text", "role"]


def _is_break(strings) -> np.ndarray:
    """True for each string made only of punctuation (P*), separators (Z*) or control (C*) characters."""
    return np.array([bool(s) and all(unicodedata.category(ch)[0] in "PZC" for ch in s) or not s for s in strings],
                    dtype=bool)


@dataclass
class Units:
    """One language's counted text as units (characters or words) in runs, with what the method needs.

    Attributes
    ----------
    lang : str
    unspaced : bool
        Characters (True) or words (False).
    codes : ndarray of int32
        Unit per position (a code point, or a word's number in ``words``).
    run : ndarray of int32
        Run per position (runs are numbered in text order; a run lies in one sentence).
    clean_start, clean_end : ndarray of bool
        The position begins (ends) a segmenter token that is not a stop word.
    run_year, run_para, run_doc, run_sent : ndarray of int64
        Per run: its year, paragraph (numbered over the language), document (index in ``docs``) and
        sentence (index in ``sentences``).
    docs : list of str
    sentences : list of tuple
        (shard index, doc_id, para, sent) of each sentence.
    words : list of str
        Spaced languages: the word of each code.
    """

    lang: str
    unspaced: bool
    codes: np.ndarray
    run: np.ndarray
    clean_start: np.ndarray
    clean_end: np.ndarray
    run_year: np.ndarray
    run_para: np.ndarray
    run_doc: np.ndarray
    run_sent: np.ndarray
    docs: list = field(default_factory=list)
    sentences: list = field(default_factory=list)
    words: list = field(default_factory=list)

    def text(self, start: int, length: int) -> str:
        """The string of ``length`` units from position ``start`` (words joined by one space)."""
        units = self.codes[start:start + length]
        if self.unspaced:
            return "".join(map(chr, units))
        return " ".join(self.words[u] for u in units)


def _in(column, values) -> np.ndarray:
    """Per row of an Arrow string column (dictionary-encoded or not): its value is one of ``values``."""
    codes, distinct = _dictionary(column)
    wanted = set(values)
    return np.array([v in wanted for v in distinct], dtype=bool)[codes] if len(codes) else np.zeros(0, dtype=bool)


def _token_table(path, languages, count_roles):
    """The counted tokens (``lang`` in ``languages``, ``role`` in ``count_roles``) of one shard, as an
    Arrow table of :data:`TOKEN_COLUMNS` with dictionary-encoded strings (read once for every language)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if isinstance(path, pd.DataFrame):
        t = pa.Table.from_pandas(path[TOKEN_COLUMNS].reset_index(drop=True), preserve_index=False)
        t = t.filter(pa.array(_in(t["lang"], languages)))
    else:
        t = pq.read_table(path, columns=TOKEN_COLUMNS, filters=[("lang", "in", list(languages))],
                          read_dictionary=["doc_id", "lang", "text", "role"])
    return t.filter(pa.array(_in(t["role"], [str(r) for r in count_roles])))


def _dictionary(column):
    """(codes, values) of an Arrow string column: a number per row (int64) and the list of its
    distinct strings."""
    import pyarrow as pa

    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if not pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_encode()
    if arr.null_count:
        raise ValueError(f"{arr.null_count} missing values in a token column: the token shards are damaged")
    codes, values = arr.indices.to_numpy(zero_copy_only=False).astype(np.int64), arr.dictionary.to_pylist()
    if len(set(values)) < len(values):  # chunks whose dictionaries were concatenated, not unified
        renumber, values = pd.factorize(np.array(values, dtype=object), sort=False)
        codes, values = renumber[codes], list(values)
    return codes, values


def _shard_units(t, unspaced: bool, vocab: dict, shard: int):
    """Units of one shard's tokens of one language (an Arrow table already filtered to the language and
    the counted roles), as arrays plus per-run and per-sentence metadata with shard-local numbers
    (renumbered by the caller). Every string operation is done once per distinct token text."""
    doc_idx, doc_values = _dictionary(t["doc_id"])
    text_idx, text_values = _dictionary(t["text"])
    para_no = t["para"].to_numpy().astype(np.int64)
    sent_col = t["sent"].to_numpy().astype(np.int64)
    tok_idx = t["idx"].to_numpy().astype(np.int64)
    # text order: doc_id (as strings), para, sent, idx; a stable sort, skipped when already in order
    doc_order = np.argsort(np.array(doc_values, dtype=object), kind="stable")
    doc_rank = np.empty(len(doc_values), dtype=np.int64)
    doc_rank[doc_order] = np.arange(len(doc_values))
    rank = doc_rank[doc_idx]
    keys = (tok_idx, sent_col, para_no, rank)
    if len(rank) > 1:
        later = np.zeros(len(rank) - 1, dtype=bool)
        same = np.ones(len(rank) - 1, dtype=bool)
        for k in reversed(keys):  # lexicographic: rank first
            later |= same & (k[1:] > k[:-1])
            same &= k[1:] == k[:-1]
        if not (later | same).all():
            perm = key_order(list(keys)[::-1])
            rank, para_no, sent_col, text_idx = rank[perm], para_no[perm], sent_col[perm], text_idx[perm]
            stop = t["is_stop"].to_numpy(zero_copy_only=False).astype(bool)[perm]
            years = t["year"].to_numpy().astype(np.int64)[perm]
        else:
            stop = t["is_stop"].to_numpy(zero_copy_only=False).astype(bool)
            years = t["year"].to_numpy().astype(np.int64)
    else:
        stop = t["is_stop"].to_numpy(zero_copy_only=False).astype(bool)
        years = t["year"].to_numpy().astype(np.int64)
    # the documents present in sorted order, numbered 0, 1, ... (ranks are dense: a count, not a sort)
    present = np.flatnonzero(np.bincount(rank, minlength=len(doc_values)))
    renumber = np.zeros(len(doc_values), dtype=np.int64)
    renumber[present] = np.arange(len(present))
    docs_codes = renumber[rank]
    docs = [doc_values[i] for i in doc_order[present]]
    n_tok = len(text_idx)
    para_start = np.ones(n_tok, dtype=bool)
    sent_start = np.ones(n_tok, dtype=bool)
    para_start[1:] = (docs_codes[1:] != docs_codes[:-1]) | (para_no[1:] != para_no[:-1])
    sent_start[1:] = para_start[1:] | (sent_col[1:] != sent_col[:-1])
    sent_no = np.cumsum(sent_start) - 1
    para_key = np.cumsum(para_start) - 1
    if unspaced:
        ulens = np.fromiter((len(s) for s in text_values), dtype=np.int64, count=len(text_values))
        ucodes = np.frombuffer("".join(text_values).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        uoff = np.cumsum(ulens) - ulens
        lens = ulens[text_idx]
        ends = np.cumsum(lens)
        tok = np.repeat(np.arange(n_tok), lens)
        codes = ucodes[np.repeat(uoff[text_idx] - (ends - lens), lens) + np.arange(len(tok))]
        first = np.zeros(len(codes), dtype=bool)
        first[(ends - lens)[lens > 0]] = True
        last = np.zeros(len(codes), dtype=bool)
        last[ends[lens > 0] - 1] = True
        uniq = np.unique(ucodes)
        if len(codes):  # each code point's break flag through a table indexed by the code point
            lut = np.zeros(int(uniq[-1]) + 1, dtype=bool)
            lut[uniq] = _is_break([chr(u) for u in uniq])
            brk = lut[codes]
        else:
            brk = first
        starts_sentence = first & sent_start[tok]
    else:
        lower_of, lowered = pd.factorize(np.array([s.lower() for s in text_values], dtype=object), sort=False)
        local, uniques = pd.factorize(lower_of[text_idx], sort=False)
        words = [lowered[u] for u in uniques]
        mapping = np.array([vocab.setdefault(w, len(vocab)) for w in words], dtype=np.int64)
        codes = mapping[local] if len(local) else np.zeros(0, dtype=np.int64)
        tok = np.arange(n_tok)
        first = last = np.ones(len(codes), dtype=bool)
        brk = _is_break(words)[local] if len(local) else np.zeros(0, dtype=bool)
        starts_sentence = sent_start
    keep = ~brk
    # a run starts at a kept unit after a break or at the start of a sentence
    prev_break = np.ones(len(codes), dtype=bool)
    prev_break[1:] = brk[:-1]
    run_start = keep & (prev_break | starts_sentence)
    run = (np.cumsum(run_start) - 1)[keep]
    rs = np.flatnonzero(run_start)
    tok_of_run = tok[rs]
    runs = {"year": years[tok_of_run], "para": para_key[tok_of_run].astype(np.int64),
            "doc": docs_codes[tok_of_run].astype(np.int64), "sent": sent_no[tok_of_run].astype(np.int64)}
    arrays = {"codes": codes[keep], "run": run.astype(np.int64), "clean_start": (first & ~stop[tok])[keep],
              "clean_end": (last & ~stop[tok])[keep]}
    sentences = (docs_codes[sent_start].astype(np.int32), para_no[sent_start].astype(np.int32),
                 sent_col[sent_start].astype(np.int32))
    return arrays, runs, docs, sentences


class _Sentences:
    """The sentences of one language, as arrays (no Python object per sentence): item ``i`` is
    (shard index, doc_id, para, sent) of sentence ``i``."""

    def __init__(self):
        self.docs: list = []
        self._parts: list = []
        self._cat = None
        self.n = 0

    def add(self, shard: int, docs: list, sentences: tuple) -> None:
        """Append one shard's sentences (``docs``: its documents; ``sentences``: (document index in
        ``docs``, para, sent) arrays)."""
        doc, para, sent = sentences
        self._parts.append((np.full(len(doc), shard, dtype=np.int32), doc + len(self.docs), para, sent))
        self.docs += docs
        self.n += len(doc)
        self._cat = None

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i):
        if self._cat is None:
            self._cat = [np.concatenate([p[k] for p in self._parts]) if self._parts else np.zeros(0, np.int32)
                         for k in range(4)]
        shard, doc, para, sent = (int(a[i]) for a in self._cat)
        return shard, self.docs[doc], para, sent


class _UnitsBuilder:
    """Collects one language's shard units, renumbers runs, paragraphs, documents and sentences, and
    keeps them per year as compact chunks (int32 codes and run numbers, two flags: 10 bytes a unit),
    so that the counting holds one year's arrays at a time (:meth:`year_units`)."""

    def __init__(self, lang: str, unspaced: bool, spill: str | Path | None = None):
        self.lang, self.unspaced, self.spill = lang, unspaced, spill
        self.vocab, self.sentences = {}, _Sentences()
        # year -> [(codes, run, clean_start, clean_end, run ids, para, doc, sent)], or the .npy files of
        # each chunk when ``spill`` is a directory (the arrays then leave memory until the year is counted)
        self.chunks: dict = {}
        self.n_runs = self.n_paras = 0
        self._files = 0

    def _keep(self, year: int, arrays: tuple) -> None:
        if self.spill is not None:  # one file per chunk: the arrays' bytes one after the other (raw)
            name = Path(self.spill) / f"{self.lang}-{self._files}.bin"
            self._files += 1
            with open(name, "wb") as fh:
                for a in arrays:
                    fh.write(np.ascontiguousarray(a).data)
            arrays = (name, tuple((a.dtype.str, len(a)) for a in arrays))
        self.chunks.setdefault(year, []).append(arrays)

    def _parts(self, year: int, drop: bool) -> list:
        parts = self.chunks.pop(year) if drop else self.chunks[year]
        if self.spill is None:
            return parts
        out = []
        for name, layout in parts:
            data, at, arrays = np.fromfile(name, dtype=np.uint8), 0, []
            for dtype, n in layout:
                size = np.dtype(dtype).itemsize * n
                arrays.append(data[at:at + size].view(dtype))
                at += size
            out.append(tuple(arrays))
            if drop:
                Path(name).unlink()
        return out

    @property
    def docs(self) -> list:
        return self.sentences.docs

    def add(self, t, shard: int) -> None:
        """Add the tokens ``t`` (one shard, this language, counted roles) of shard number ``shard``."""
        if t.num_rows == 0:
            return
        arrays, runs, shard_docs, shard_sents = _shard_units(t, self.unspaced, self.vocab, shard)
        run = arrays["run"]
        para = runs["para"] + self.n_paras
        doc = runs["doc"] + len(self.docs)
        sent = runs["sent"] + len(self.sentences)
        run_year = runs["year"]
        # each year's runs and units in text order: the runs ordered by year once (a stable sort,
        # none when the shard's years already come one after the other), then one slice per year
        years, ry = np.unique(run_year, return_inverse=True)
        ry = ry.reshape(-1)
        unit_ry = ry[run]
        run_ids = np.arange(self.n_runs, self.n_runs + len(run_year), dtype=np.int32)
        per_run = [run_ids, para.astype(np.int32), doc.astype(np.int32), sent.astype(np.int32)]
        per_unit = [arrays["codes"].astype(np.int32), (run + self.n_runs).astype(np.int32),
                    arrays["clean_start"].astype(bool), arrays["clean_end"].astype(bool)]
        if len(ry) > 1 and (ry[1:] < ry[:-1]).any():
            r_order, u_order = np.argsort(ry, kind="stable"), np.argsort(unit_ry, kind="stable")
            per_run, per_unit = [a[r_order] for a in per_run], [a[u_order] for a in per_unit]
        r_end = np.cumsum(np.bincount(ry, minlength=len(years)))
        u_end = np.cumsum(np.bincount(unit_ry, minlength=len(years)))
        for i, y in enumerate(years):
            r = slice(r_end[i - 1] if i else 0, r_end[i])
            u = slice(u_end[i - 1] if i else 0, u_end[i])
            self._keep(int(y), tuple(a[u] for a in per_unit) + tuple(a[r] for a in per_run))
        self.n_runs += len(run_year)
        self.n_paras = int(para.max()) + 1 if len(para) else self.n_paras
        self.sentences.add(shard, shard_docs, shard_sents)

    def words(self) -> list:
        """The word of each code (spaced languages)."""
        words = [None] * len(self.vocab)
        for w, i in self.vocab.items():
            words[i] = w
        return words

    def years(self) -> list:
        """The years with units, ascending."""
        return sorted(self.chunks)

    def year_units(self, year: int, words=None, drop: bool = False) -> Units:
        """The :class:`Units` of one year (runs renumbered from 0 in text order; ``run_para``,
        ``run_doc`` and ``run_sent`` keep the language's numbers); ``drop``: free the year's chunks."""
        parts = self._parts(year, drop)
        cat = [np.concatenate([p[k] for p in parts]) for k in range(8)]
        del parts
        run = _renumber_runs(cat[4], cat[1])
        return Units(self.lang, self.unspaced, cat[0], run, cat[2], cat[3], np.full(len(cat[4]), year, dtype=np.int64),
                     cat[5].astype(np.int64), cat[6].astype(np.int64), cat[7].astype(np.int64), self.docs,
                     self.sentences, words if words is not None else [])

    def units(self) -> Units:
        """The :class:`Units` of every shard added (the years one after the other)."""
        years = self.years()
        parts = [self.year_units(y) for y in years]
        offsets = np.cumsum([0] + [int(u.run.max()) + 1 if len(u.run) else 0 for u in parts])
        cat = {k: np.concatenate([getattr(u, k) for u in parts]) if parts else np.zeros(0, dtype=np.int64)
               for k in ("codes", "clean_start", "clean_end", "run_year", "run_para", "run_doc", "run_sent")}
        run = np.concatenate([u.run.astype(np.int64) + o for u, o in zip(parts, offsets)]) if parts \
            else np.zeros(0, dtype=np.int64)
        return Units(self.lang, self.unspaced, cat["codes"].astype(np.int32), run.astype(np.int32),
                     cat["clean_start"].astype(bool), cat["clean_end"].astype(bool), cat["run_year"], cat["run_para"],
                     cat["run_doc"], cat["run_sent"], self.docs, self.sentences, self.words())


def _renumber_runs(run_ids: np.ndarray, unit_run: np.ndarray) -> np.ndarray:
    """Each unit's run as its index in ``run_ids`` (ascending; int32): ``np.searchsorted(run_ids,
    unit_run)``. The units come in text order and every run has a unit, so the index is the number
    of run changes before the unit, checked against ``run_ids`` (O(n), no binary search; the search
    when the check fails)."""
    n = len(unit_run)
    if n:
        new = np.ones(n, dtype=bool)
        np.not_equal(unit_run[1:], unit_run[:-1], out=new[1:])
        idx = np.cumsum(new, dtype=np.int32)
        idx -= 1
        if int(idx[-1]) + 1 == len(run_ids) and np.array_equal(unit_run[new], run_ids):
            return idx
    return np.searchsorted(run_ids, unit_run).astype(np.int32)


def read_all_units(token_paths, languages, unspaced_languages=_D["unspaced_languages"],
                   count_roles=_D["count_roles"]) -> dict:
    """:class:`Units` of every language, each token shard read once (one shard at a time).

    Parameters
    ----------
    token_paths : list of str or Path
        The token shards (``data/processed/tokens/shard-*.parquet``), or DataFrames (tests).
    languages : sequence of str
    unspaced_languages : sequence of str
        Languages read as characters.
    count_roles : sequence of str
        Paragraph roles read (config ``count_roles``).

    Returns
    -------
    dict
        Language -> :class:`Units`.
    """
    return {lang: b.units() for lang, b in _read_builders(token_paths, languages, unspaced_languages,
                                                          count_roles).items()}


def _read_builders(token_paths, languages, unspaced_languages, count_roles, spill=None, digests=None) -> dict:
    """A :class:`_UnitsBuilder` of every language, each token shard read once (one at a time); with
    ``spill`` (a directory) the units wait there, per year, until they are counted; with ``digests``
    ({lang: list}) the :func:`textdrift.langmemo.table_digest` of each shard's rows of each language
    is appended as it is read (the per-language memo's key, :func:`_lang_rows`)."""
    import pyarrow as pa

    unspaced = set(unspaced_languages)
    builders = {lang: _UnitsBuilder(lang, lang in unspaced, spill) for lang in languages}
    for shard, path in enumerate(token_paths):
        t = _token_table(path, languages, count_roles)
        lang_codes = _dictionary(t["lang"])
        for lang, b in builders.items():
            rows = _of_language(t, lang_codes, lang)
            if digests is not None:
                from textdrift.langmemo import table_digest

                digests[lang].append(table_digest(rows))
            b.add(rows, shard)
            del rows
        del t
        pa.default_memory_pool().release_unused()  # the shard's Arrow buffers back to the system
    return builders


def _of_language(t, lang_codes: tuple, lang: str):
    """The rows of a token table ``t`` in ``lang`` (``lang_codes``: :func:`_dictionary` of its
    ``lang`` column)."""
    import pyarrow as pa

    codes, values = lang_codes
    return t.filter(pa.array(np.isin(codes, [i for i, v in enumerate(values) if v == lang])))


def _lang_rows(path, lang: str, count_roles):
    """One token shard's counted rows of ``lang`` as :func:`_read_builders` gives them to the
    language's builder (what the per-language memo's digest of the shard is taken of)."""
    t = _token_table(path, [lang], count_roles)
    return _of_language(t, _dictionary(t["lang"]), lang)


def read_units(token_paths, lang: str, unspaced: bool, count_roles=_D["count_roles"]) -> Units:
    """Read one language's counted tokens from the token shards, one shard at a time, as :class:`Units`.

    Parameters
    ----------
    token_paths : list of str or Path
        The token shards (``data/processed/tokens/shard-*.parquet``), or DataFrames (tests).
    lang : str
    unspaced : bool
        Characters (True) or words (False).
    count_roles : sequence of str
        Paragraph roles read (config ``count_roles``).

    Returns
    -------
    Units
    """
    return read_all_units(token_paths, [lang], [lang] if unspaced else [], count_roles)[lang]


def _neighbour_years(years_idx: np.ndarray, gram: np.ndarray, n_years: int, window: int | None):
    """For each (gram, year index) pair sorted by gram then year: whether the gram occurs in an
    earlier (later) year within ``window`` years (all when None)."""
    same_prev = np.zeros(len(gram), dtype=bool)
    same_prev[1:] = gram[1:] == gram[:-1]
    same_next = np.zeros(len(gram), dtype=bool)
    same_next[:-1] = gram[:-1] == gram[1:]
    w = n_years if window is None else window
    gap_prev = np.full(len(gram), n_years + 1)
    gap_prev[1:] = years_idx[1:] - years_idx[:-1]
    gap_next = np.full(len(gram), n_years + 1)
    gap_next[:-1] = years_idx[1:] - years_idx[:-1]
    return same_prev & (gap_prev <= w), same_next & (gap_next <= w)


def _levels(units: Units, yidx: np.ndarray, Y: int, min_count: int, max_length: int):
    """The strings of each length L = 1..``max_length``, counted per year, level by level (module
    docstring: "Frequent strings, level by level").

    Yields
    ------
    L : int
    pos : ndarray
        Start positions of the counted strings of length L (those whose two length-(L-1) pieces are
        frequent in some year).
    pair_id : ndarray
        (string, year) of each position, numbering ``pairs``.
    pairs : ndarray
        string code * Y + year index.
    cnt : ndarray
        Count of each pair.
    closed : ndarray of bool
        Per pair: no one-unit extension (left or right) has the same count in the year.
    """
    n, run = len(units.codes), units.run

    # positions, codes and pair numbers are int32 (a language of up to 2**31 units): the arrays of
    # one level and the dense look-ups are the memory of the method
    code1, uniq1 = pd.factorize(units.codes, sort=False)
    code1 = code1.astype(np.int32)
    V = max(len(uniq1), 1)
    pos, code = np.arange(n, dtype=np.int32), code1
    room = run_room(run)  # read at every level
    # one year (Y == 1, the caller's year at a time): a string's pair is the string itself, its
    # code (numbered by first occurrence, as a factorization of the pairs would number them)
    one = Y == 1
    if one:
        pair_id, pairs = code, np.arange(V if n else 0, dtype=np.int64)
    else:
        pair_id, pairs = pd.factorize(code.astype(np.int64) * Y + yidx[pos], sort=False)
    pair_id, pairs, cnt = pair_id.astype(np.int32), np.asarray(pairs, dtype=np.int64), np.bincount(pair_id).astype(np.int32)
    L = 1
    while len(pos):
        cnt_pos = cnt[pair_id]
        # frequent in some year: the string's largest count over the years (codes are dense; one year:
        # the pair is the string)
        if one:
            freq = cnt_pos >= min_count
        else:
            gmax = np.zeros(int(code.max()) + 1, dtype=np.int32)
            np.maximum.at(gmax, pairs // Y, cnt)
            freq = gmax[code] >= min_count
        # the next level: positions whose length-L prefix and suffix are both frequent, in one run
        cand, prefix = frequent_extensions(pos, code, freq, room, L)  # int32 codes
        del freq
        if len(cand):
            # one factorization of (string, year) in text order; the strings numbered in the order of
            # their first (string, year), which is their own first occurrence: the same numbers as
            # factorizing the strings first
            key = prefix.astype(np.int64) * V + code1[cand + L]
            if not one:
                key = key * Y + yidx[cand]
            npair_id, nkeys = pd.factorize(key, sort=False)
            npair_id = npair_id.astype(np.int32)
            ncnt = np.bincount(npair_id).astype(np.int32)
            if one:  # the keys are the strings, already numbered in order
                ncode, npairs = npair_id, np.arange(len(nkeys), dtype=np.int64)
            else:
                code_of_pair = pd.factorize(nkeys // Y, sort=False)[0]
                ncode = code_of_pair[npair_id].astype(np.int32)
                npairs = code_of_pair.astype(np.int64) * Y + nkeys % Y
        else:
            ncode, npair_id, npairs, ncnt = (np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.int64),
                                             np.zeros(0, np.int32))
        del prefix
        # closed: no position's right or left extension (same run, so same year) has the same count;
        # E[n] stays 0 (a candidate has L more units after it), so E[pos - 1] at position 0 reads 0
        E = np.zeros(n + 1, dtype=np.int32)
        if len(cand):
            E[cand] = ncnt[npair_id]
        violate = E[pos] == cnt_pos
        violate |= E[pos - 1] == cnt_pos
        closed = np.ones(len(pairs), dtype=bool)
        closed[pair_id[violate]] = False
        del E, violate, cnt_pos
        yield L, pos, pair_id, pairs, cnt, closed
        if L >= max_length:
            return
        pos, code, pair_id, pairs, cnt = cand, ncode, npair_id, npairs, ncnt
        L += 1


def formulations(units: Units, min_count: int = _F["min_count"], min_length: int | None = None,
                 max_length: int | None = None, min_paragraphs: int = _F["min_paragraphs"],
                 window: int | None = _F["window"]) -> pd.DataFrame:
    """The new and vanished formulations of one language (module docstring: the method).

    The years are counted one at a time (:func:`_formulations_of_years`).

    Parameters
    ----------
    units : Units
        From :func:`read_units`.
    min_count : int
        Occurrences in the year (config ``formulations.min_count``).
    min_length, max_length : int, optional
        In units (characters or words). Default: config ``formulations.min_chars``/``max_chars``
        (unspaced) or ``min_words``/``max_words`` (spaced).
    min_paragraphs : int
        Paragraphs of the year it occurs in (config ``formulations.min_paragraphs``).
    window : int or None
        Years with text compared before (new) or after (vanished); None = all.

    Returns
    -------
    DataFrame
        :data:`COLUMNS` but ``rank``, ``nested_in``, ``example_doc`` and ``example`` (added by
        :func:`new_formulations`), plus ``pos`` (the first occurrence in the year) and ``sent``.
    """
    year_values, yidx_run = np.unique(units.run_year, return_inverse=True)
    yidx = yidx_run[units.run] if len(units.run) else np.zeros(0, dtype=np.int64)

    def year_units(y: int) -> Units:
        yi = int(np.searchsorted(year_values, y))
        at, runs = np.flatnonzero(yidx == yi), np.flatnonzero(yidx_run == yi)
        return Units(units.lang, units.unspaced, units.codes[at], np.searchsorted(runs, units.run[at]).astype(np.int32),
                     units.clean_start[at], units.clean_end[at], units.run_year[runs], units.run_para[runs],
                     units.run_doc[runs], units.run_sent[runs], units.docs, units.sentences, units.words)

    lo, hi = _lengths(units.unspaced, min_length, max_length)
    df = _formulations_of_years(year_units, [int(y) for y in year_values] if len(units.codes) else [],
                                _Thresholds(min_count, lo, hi, min_paragraphs, window))
    if len(df):  # the first occurrence as a position of ``units``
        at = {yi: np.flatnonzero(yidx == yi) for yi in np.unique(df["yi"])}
        df["pos"] = [int(at[yi][p]) for yi, p in zip(df["yi"], df["pos"])]
    return df.drop(columns="yi")


def _lengths(unspaced: bool, min_length: int | None, max_length: int | None) -> tuple[int, int]:
    """(min_length, max_length), the configuration's defaults for characters or words where None."""
    if min_length is None:
        min_length = _F["min_chars"] if unspaced else _F["min_words"]
    if max_length is None:
        max_length = _F["max_chars"] if unspaced else _F["max_words"]
    return min_length, max_length


class _Thresholds(NamedTuple):
    """The thresholds of :func:`_formulations_of_years` (those of :func:`formulations`)."""

    min_count: int
    min_length: int
    max_length: int
    min_paragraphs: int
    window: int | None


_OUT_COLUMNS = [c for c in COLUMNS if c not in ("rank", "nested_in", "example_doc", "example")] + ["pos", "sent", "yi"]


def _formulations_of_years(year_units, year_values: list, th: _Thresholds,
                           memo: "_YearMemo | None" = None) -> pd.DataFrame:
    """The new and vanished formulations of one language whose units are given one year at a time.

    1. Each year alone (:func:`_year_candidates`): its closed strings with clean ends (and the cores
       of the unclean ones), at least ``min_count`` times and in ``min_paragraphs`` paragraphs of the
       year, with their count, paragraphs, documents and first occurrence in the year. A string's
       counts, closedness and ends in a year depend on that year's text alone, so they are those of
       counting every year at once (and, with ``memo``, a year whose units are unchanged takes them
       from the memo: :class:`_YearMemo`).
    2. The strings that may be new or vanished (no candidate row of the same string in the years
       before, or after, within ``window``) are counted in every year (:func:`_count_strings`):
       their year profile, exact.
    3. Status from the profile; the rows new or vanished (:func:`_status_rows`).

    ``year_units(year)`` returns the year's :class:`Units` (called twice per year: the candidates,
    then the count). Returns :data:`_OUT_COLUMNS` (``pos``: in the year's units; ``yi``: the year's
    index in ``year_values``).
    """
    if not year_values:
        return pd.DataFrame(columns=_OUT_COLUMNS)
    t0 = time.perf_counter()
    Y, lang = len(year_values), None
    found: dict = {}  # L -> list of (year index, strings (m x L), first, count, paragraphs, documents, sent)
    n_cores = 0
    sizes = np.zeros(Y, dtype=np.int64)  # the units of each year
    unspaced, words = True, []
    for yi, y in enumerate(year_values):
        u = year_units(y)
        lang, unspaced, words, sizes[yi] = u.lang, u.unspaced, u.words, len(u.codes)
        recs, nc = _year_candidates(u, th) if memo is None else memo.candidates(u, th)
        n_cores += nc
        for L, first, cnt, paras, docs in recs:
            strings = u.codes[first[:, None] + np.arange(L)[None, :]].astype(np.int64)
            found.setdefault(L, []).append((np.full(len(first), yi, dtype=np.int64), strings, first, cnt, paras, docs,
                                            u.run_sent[u.run[first]]))
        del u
    if not found:
        return pd.DataFrame(columns=_OUT_COLUMNS)
    # each length's candidate rows, their strings numbered (exact: one column of codes at a time)
    rows, walk = {}, {}
    for L, parts in found.items():
        cat = [np.concatenate([p[k] for p in parts]) for k in range(7)]
        V = int(cat[1].max()) + 1
        sid = np.zeros(len(cat[0]), dtype=np.int64)
        for j in range(L):
            sid = pd.factorize(sid * V + cat[1][:, j], sort=False)[0].astype(np.int64)
        order = np.lexsort((cat[0], sid))
        before, after = _neighbour_years(cat[0][order], sid[order], Y, th.window)
        maybe = np.zeros(len(sid), dtype=bool)
        maybe[order] = (~before & (cat[0][order] > 0)) | (~after & (cat[0][order] < Y - 1))
        keep_string = np.zeros(int(sid.max()) + 1, dtype=bool)
        keep_string[sid[maybe]] = True
        on = keep_string[sid]
        if not on.any():
            continue
        rows[L] = [c[on] for c in cat] + [sid[on]]
        # one row per string to count
        uniq, at = np.unique(sid[on], return_index=True)
        walk[L] = (uniq, rows[L][1][at])
    del found
    if not walk:
        return pd.DataFrame(columns=_OUT_COLUMNS)
    counts, string_of = _count_strings(year_units, year_values, walk)
    log.info("%s: %d units, %d years, %d (string, year) cores of unclean strings, %d strings counted in every year, "
             "%.1f s", lang, int(sizes.sum()), Y, n_cores, sum(len(v[0]) for v in walk.values()), time.perf_counter() - t0)
    df = _status_rows(rows, string_of, counts, (year_values, th.window, unspaced, words, lang, sizes))
    # numbers do not count toward the minimum length (a year, "2024年" or "二〇二〇年", is not a formulation)
    # (a boolean array, not a list: an empty list would select no columns instead of no rows)
    keep = np.array([_length_without_numbers(f, unspaced) >= th.min_length for f in df["formulation"]], dtype=bool)
    return df[keep].reset_index(drop=True)


def _year_digest(units: Units) -> str:
    """Digest of what :func:`_year_candidates` reads of one year's ``units``: which positions hold
    the same unit (the codes numbered by first occurrence), the runs, the two clean-end flags, and
    which runs share a paragraph and a document (numbered by first occurrence). The candidates are
    a function of exactly these: the counting factorizes the codes first (only equality matters),
    and paragraphs and documents are only counted distinct; the positions are the year's own.
    SHA-256, 40 hex digits."""
    import hashlib

    h = hashlib.sha256()
    for a in (pd.factorize(units.codes, sort=False)[0], units.run, units.clean_start, units.clean_end,
              pd.factorize(units.run_para, sort=False)[0], pd.factorize(units.run_doc, sort=False)[0]):
        a = np.ascontiguousarray(a, dtype=bool if a.dtype == bool else np.int64)
        h.update(f"{a.dtype.str}:{len(a)}\0".encode())
        h.update(a.data)
    return h.hexdigest()[:40]


class _YearMemo:
    """Each year's candidates (:func:`_year_candidates`) of one language in the per-language memo,
    keyed by the year's units (:func:`_year_digest`), the thresholds and the code: after a document
    is added, the years it is not in are not counted again (a year's candidates depend on its own
    units only; the counts in every year, step 2, are still made). ``keys``: the entries this
    language used, kept under :meth:`list_key` so that a run taking the language's rows from the
    memo keeps them too (:meth:`textdrift.memo.EntryStore.retain`).

    Parameters
    ----------
    memo : textdrift.langmemo.LanguageMemo
    lang : str
    """

    def __init__(self, memo, lang: str):
        self.memo, self.lang, self.keys, self.hits = memo, lang, [], 0

    def candidates(self, units: Units, th: _Thresholds) -> tuple[list, int]:
        """:func:`_year_candidates` of ``units``, from the memo when kept.

        Parameters
        ----------
        units : Units
            One year's.
        th : _Thresholds
        """
        key = self.memo.key(what="year candidates", lang=self.lang, thresholds=list(th), units=_year_digest(units))
        self.keys.append(key)
        value = self.memo.get(key)
        if isinstance(value, tuple):
            self.hits += 1
            return value
        value = _year_candidates(units, th)
        self.memo.put(key, value)
        return value

    @staticmethod
    def list_key(memo, language_key: str) -> str:
        """The key of the list of year entries of the language entry ``language_key``.

        Parameters
        ----------
        memo : textdrift.langmemo.LanguageMemo
        language_key : str
        """
        return memo.key(what="year entries", language=language_key)


def _year_candidates(units: Units, th: _Thresholds) -> tuple[list, int]:
    """Step 1 of :func:`_formulations_of_years` on one year's ``units``: per length L, the kept
    strings' (first position, count, paragraphs, documents); and the number of cores kept."""
    min_count, min_length = th.min_count, th.min_length
    yidx = np.zeros(len(units.codes), dtype=np.int16)
    recs, cores = [], []

    def keep(L, pos, pair_id, cnt, keep_pair):
        paras, docs, first = _pair_spread(pos, pair_id, keep_pair, units)
        k = np.flatnonzero(keep_pair & (paras >= th.min_paragraphs))
        if len(k):
            recs.append((L, first[k], np.asarray(cnt)[k].astype(np.int64), paras[k], docs[k]))

    levels = {}  # L -> (pos, pair_id, cnt, closed, n_good): what the cores are looked up in
    for L, pos, pair_id, pairs, cnt, closed in _levels(units, yidx, 1, min_count, th.max_length):
        if L < min_length:
            continue
        good = units.clean_start[pos] & units.clean_end[pos + L - 1]
        n_good = np.bincount(pair_id[good], minlength=len(pairs))
        frequent = cnt >= min_count
        keep_pair = closed & frequent & (n_good >= min_count)
        if keep_pair.any():
            keep(L, pos, pair_id, cnt, keep_pair)
        if L < th.max_length:  # (a core is shorter than its string)
            levels[L] = (pos, pair_id, cnt, closed, n_good)
        # a closed string whose ends are not clean ("a community with ... cyberspace", "的数字丝绸之路"):
        # its core (trimmed to the first clean start and the last clean end of its first occurrence)
        # is looked up in the second pass
        unclean = np.flatnonzero(closed & frequent & (n_good < min_count))
        if len(unclean):
            # pairs are numbered in text order and positions ascend: a pair's first position is where
            # its number first appears
            is_first = np.ones(len(pair_id), dtype=bool)
            is_first[1:] = pair_id[1:] > np.maximum.accumulate(pair_id)[:-1]
            first = pos[is_first][unclean]
            span = first[:, None] + np.arange(L)[None, :]
            starts, ends = units.clean_start[span], units.clean_end[span]
            a = np.where(starts.any(axis=1), starts.argmax(axis=1), L)
            b = L - 1 - ends[:, ::-1].argmax(axis=1)
            ok = ends.any(axis=1) & (b - a + 1 >= min_length) & (b - a + 1 < L)
            cores.append(pd.DataFrame({"pos": first[ok] + a[ok], "length": (b - a + 1)[ok], "count": cnt[unclean][ok]}))
    n_cores = 0
    cores = [c for c in cores if len(c)]
    if cores:
        # second pass: each core that has the count of its closed string (so every occurrence of it
        # is inside that string) and recurs as a clean unit is the formulation of that string. A core
        # is frequent (its count is its string's), so every occurrence of it was counted at its
        # length (Apriori) and the level's pair at the core's position is the core: its count,
        # closedness and clean ends are the level's, looked up, not counted again
        cores = pd.concat(cores, ignore_index=True)
        for L, g in cores.groupby("length"):
            pos, pair_id, cnt, closed, n_good = levels[L]
            want = g["pos"].to_numpy()
            at = np.searchsorted(pos, want)
            if (at >= len(pos)).any() or (pos[np.minimum(at, len(pos) - 1)] != want).any():
                raise RuntimeError(f"{units.lang}: a core not counted at its length (a bug)")
            req, k = pair_id[at], g["count"].to_numpy()
            keep_pair = np.zeros(len(cnt), dtype=bool)
            keep_pair[req[(cnt[req] == k) & (n_good[req] >= min_count)]] = True
            keep_pair &= ~closed  # (a closed core is already a row of the first pass)
            n_cores += int(keep_pair.sum())
            if keep_pair.any():
                keep(L, pos, pair_id, cnt, keep_pair)
    return recs, n_cores


def _pair_spread(pos: np.ndarray, pair_id: np.ndarray, keep_pair: np.ndarray, units: Units):
    """Per pair of a level: its paragraphs and documents (distinct) and its first position, over the
    occurrences of the pairs of ``keep_pair`` (0, 0, -1 for the others)."""
    P = len(keep_pair)
    on = keep_pair[pair_id]
    p_id, p_pos = pair_id[on].astype(np.int64), pos[on]
    p_run = units.run[p_pos]

    def distinct(v: np.ndarray) -> np.ndarray:
        span = int(v.max()) + 1 if len(v) else 1
        return np.bincount(pd.unique(p_id * span + v) // span, minlength=P)

    first = np.full(P, -1, dtype=np.int64)
    is_first = np.ones(len(p_id), dtype=bool)  # pairs are numbered in text order (positions ascend)
    is_first[1:] = p_id[1:] > np.maximum.accumulate(p_id)[:-1]
    first[p_id[is_first]] = p_pos[is_first]
    return (distinct(np.asarray(units.run_para, dtype=np.int64)[p_run]),
            distinct(np.asarray(units.run_doc, dtype=np.int64)[p_run]), first)


def _count_strings(year_units, year_values: list, walk: dict):
    """Count the strings of ``walk`` ({L: (string numbers, strings m x L)}) in every year, exactly:
    a trie of the strings (a level per length, its edges parent * V + unit looked up in a hash
    index), walked from every position of the year. Returns ((string, year index, count) arrays
    sorted by string then year, with the strings numbered over every length) and {L: offset of the
    length's strings in that numbering}."""
    lengths = sorted(walk)
    offset, g = {}, 0
    for L in lengths:
        offset[L] = g
        g += len(walk[L][0])
    G = g
    V = max(int(s.max()) for _, s in walk.values()) + 1
    K = max(lengths)
    node = {L: np.zeros(len(walk[L][0]), dtype=np.int64) for L in lengths}
    index, term = [], []
    for k in range(1, K + 1):
        on = [L for L in lengths if L >= k]
        keys = np.concatenate([node[L] * V + walk[L][1][:, k - 1] for L in on])
        ids, uniq = pd.factorize(keys, sort=False)
        t = np.full(len(uniq), -1, dtype=np.int64)
        start = 0
        for L in on:
            m = len(walk[L][0])
            node[L] = ids[start:start + m].astype(np.int64)
            if L == k:
                t[node[L]] = offset[L] + np.arange(m)
            start += m
        index.append(pd.Index(uniq))
        term.append(t)
    # the first level (node 0: the key is the unit) as a table indexed by the unit (V: no string's unit)
    root = np.full(V + 1, -1, dtype=np.int64)
    root[index[0].to_numpy()] = np.arange(len(index[0]))
    out_g, out_y, out_c = [], [], []
    for yi, y in enumerate(year_values):
        u = year_units(y)
        codes, room, n = u.codes.astype(np.int64), run_room(u.run), len(u.codes)
        active, cur = np.arange(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
        tot = np.zeros(G, dtype=np.int64)
        for k in range(1, K + 1):
            if k > 1:
                ok = room[active] >= k - 1
                active, cur = active[ok], cur[ok]
            nxt = active + (k - 1)
            unit = codes[nxt]  # a unit no string has matches nothing
            if k == 1:
                cur = root[np.minimum(unit, V)]
            else:
                cur = index[k - 1].get_indexer(np.where(unit < V, cur * V + unit, -1)).astype(np.int64)
            ok = cur >= 0
            active, cur = active[ok], cur[ok]
            hit = term[k - 1][cur]
            tot += np.bincount(hit[hit >= 0], minlength=G)
            if not len(active):
                break
        nz = np.flatnonzero(tot)
        out_g.append(nz)
        out_y.append(np.full(len(nz), yi, dtype=np.int64))
        out_c.append(tot[nz])
        del u, codes, active, cur
    gg, yy, cc = np.concatenate(out_g), np.concatenate(out_y), np.concatenate(out_c)
    order = np.lexsort((yy, gg))
    return (gg[order], yy[order], cc[order]), offset


def _status_rows(rows: dict, string_of: dict, counts: tuple, ctx: tuple) -> pd.DataFrame:
    """Step 3 of :func:`_formulations_of_years`: the candidate rows (``rows``: {L: [year index,
    strings, first, count, paragraphs, documents, sent, string number]}) that are new or vanished
    given the strings' year profiles (``counts``, from :func:`_count_strings`), with the profile
    columns. ``ctx``: (year values, window, unspaced, words, lang, the units of each year)."""
    year_values, window, unspaced, words, lang, sizes = ctx
    gg, yy, cc = counts
    Y = len(year_values)
    w = Y if window is None else window
    key = gg * Y + yy
    csum = np.concatenate([[0], np.cumsum(cc)])
    units_before = np.concatenate([[0], np.cumsum(sizes)])  # units of the years before index i
    years = np.asarray(year_values, dtype=np.int64)
    out = []
    for L, (yi, strings, first, cnt, paras, docs, sent, sid) in sorted(rows.items()):
        uniq = np.unique(sid)
        g = string_of[L] + np.searchsorted(uniq, sid)
        at = np.searchsorted(key, g * Y + yi)  # the row's own (string, year) in the profile
        if (at >= len(key)).any() or (key[np.minimum(at, len(key) - 1)] != g * Y + yi).any() or (cc[at] != cnt).any():
            raise RuntimeError(f"{lang}: a string's count in its year differs between the two passes (a bug)")
        prev_ok = at > 0
        before = np.zeros(len(at), dtype=bool)
        before[prev_ok] = (gg[at[prev_ok] - 1] == g[prev_ok]) & (yi[prev_ok] - yy[at[prev_ok] - 1] <= w)
        nxt = at + 1
        next_ok = nxt < len(gg)
        after = np.zeros(len(at), dtype=bool)
        after[next_ok] = (gg[nxt[next_ok]] == g[next_ok]) & (yy[nxt[next_ok]] - yi[next_ok] <= w)
        for st, mask in (("new", ~before & (yi > 0)), ("vanished", ~after & (yi < Y - 1))):
            i = np.flatnonzero(mask)
            if not len(i):
                continue
            lo = np.searchsorted(gg, g[i], side="left")
            hi = np.searchsorted(gg, g[i], side="right")
            profile = [";".join(f"{years[y]}:{c}" for y, c in zip(yy[a:b], cc[a:b])) for a, b in zip(lo, hi)]
            text = ["".join(map(chr, s)) for s in strings[i]] if unspaced else \
                [" ".join(words[u] for u in s) for s in strings[i]]
            y = yi[i]  # the units of the years compared: the w before (new) or after (vanished)
            compared = (units_before[y] - units_before[np.maximum(y - w, 0)] if st == "new" else
                        units_before[np.minimum(y + 1 + w, Y)] - units_before[y + 1])
            out.append(pd.DataFrame({
                "lang": lang, "year": years[yi[i]], "status": st, "formulation": text, "length": L,
                "count": cnt[i], "paragraphs": paras[i], "documents": docs[i], "years": profile,
                "first_year": years[yy[lo]], "last_year": years[yy[hi - 1]],
                "total": csum[hi] - csum[lo], "compared_units": compared, "pos": first[i], "sent": sent[i], "yi": yi[i]}))
    if not out:
        return pd.DataFrame(columns=_OUT_COLUMNS)
    return pd.concat(out, ignore_index=True)[_OUT_COLUMNS]


_ZERO = "〇○零"
_CJK_DIGITS = "一二三四五六七八九"


def _length_without_numbers(text: str, unspaced: bool) -> int:
    """Units of ``text`` that are not digits: Unicode decimal digits (Nd); in unspaced text also 〇/○/零
    and, when the text writes a zero so (a number written digit by digit, 二〇二〇), 一 to 九. Words
    made only of digits in spaced text."""
    if not unspaced:
        return sum(not all(unicodedata.category(ch) == "Nd" for ch in w) for w in text.split())
    digits = _ZERO + (_CJK_DIGITS if any(z in text for z in _ZERO) else "")
    return sum(not (unicodedata.category(ch) == "Nd" or ch in digits) for ch in text)


def _rank(df: pd.DataFrame, top_n: int | None) -> pd.DataFrame:
    """Sort within (lang, year, status) by documents, paragraphs, count, length (all descending) and
    the string; number the rows (``rank``) and keep the first ``top_n``."""
    if df.empty:
        return df.assign(rank=pd.Series(dtype=np.int64))
    df = df.sort_values(["lang", "year", "status", "documents", "paragraphs", "count", "length", "formulation"],
                        ascending=[True, True, True, False, False, False, False, True], kind="stable")
    df["rank"] = df.groupby(["lang", "year", "status"]).cumcount() + 1
    if top_n is not None:
        df = df[df["rank"] <= top_n]
    return df.reset_index(drop=True)


def nested_in(df: pd.DataFrame, unspaced_languages=_D["unspaced_languages"],
              fold_share: float = _F["fold_share"]) -> pd.Series:
    """For each row, the longest formulation of the same language, year and status (among the rows of
    ``df``) that contains it and whose count in the year is at least ``fold_share`` times its own:
    the piece is then, in the year, mostly used inside that formulation (a display folds it there);
    empty when there is none. Words are matched whole in spaced languages.

    Parameters
    ----------
    df : DataFrame
        Rows of :data:`COLUMNS` (``nested_in`` not needed).
    unspaced_languages : sequence of str
    fold_share : float
        Config ``formulations.fold_share``.

    Returns
    -------
    Series of str, aligned with ``df``.
    """
    out = pd.Series("", index=df.index, dtype=object)
    unspaced = set(unspaced_languages)
    for (lang, _, _), g in df.groupby(["lang", "year", "status"], sort=False):
        pad = "" if lang in unspaced else " "
        forms = [pad + str(f) + pad for f in g["formulation"]]
        counts = g["count"].to_numpy()
        order = np.argsort([-len(f) for f in forms], kind="stable")
        for i, idx in enumerate(g.index):
            for j in order:
                if len(forms[j]) <= len(forms[i]):
                    break
                if forms[i] in forms[j] and counts[j] >= fold_share * counts[i]:
                    out[idx] = forms[j].strip() if pad else forms[j]
                    break
    return out


def _examples(frames: dict, sentences: dict, token_paths) -> dict:
    """The example sentence (text as the token table has it) of each row of each language's table
    (``frames``: language -> table with ``sent``), read back from the shards, each shard once."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    keys = {lang: [sentences[lang][s] for s in df["sent"]] for lang, df in frames.items()}
    need = {}
    for lang, ks in keys.items():
        for shard, d, p, s in ks:
            need.setdefault(shard, set()).add((lang, d, p, s))
    texts = {}
    for shard, sents in sorted(need.items()):
        path = token_paths[shard]
        docs = sorted({d for _, d, _, _ in sents})
        if isinstance(path, pd.DataFrame):
            t = path[_SENT_COLUMNS]
            t = pa.Table.from_pandas(t[t["doc_id"].isin(docs)].reset_index(drop=True), preserve_index=False)
        else:
            t = pq.read_table(path, columns=_SENT_COLUMNS, filters=[("doc_id", "in", docs)],
                              read_dictionary=["doc_id", "lang", "text"])
        lang_codes, lang_values = _dictionary(t["lang"])
        doc_codes, doc_values = _dictionary(t["doc_id"])
        para, sent = t["para"].to_numpy().astype(np.int64), t["sent"].to_numpy().astype(np.int64)
        idx = t["idx"].to_numpy().astype(np.int64)
        # one integer per (language, document, paragraph, sentence): rows of the wanted sentences
        n_p, n_s = int(para.max(initial=0)) + 2, int(sent.max(initial=0)) + 2
        lang_no = {v: i for i, v in enumerate(lang_values)}
        doc_no = {v: i for i, v in enumerate(doc_values)}
        row_key = ((lang_codes * len(doc_values) + doc_codes) * n_p + para) * n_s + sent
        wanted = {((lang_no[lg] * len(doc_values) + doc_no[d]) * n_p + p) * n_s + s: (shard, d, p, s, lg)
                  for lg, d, p, s in sents if lg in lang_no and d in doc_no and p < n_p and s < n_s}
        wanted_keys = pd.Index(np.fromiter(wanted, dtype=np.int64, count=len(wanted)))
        rows = np.flatnonzero(wanted_keys.get_indexer(row_key) >= 0)  # (a hash look-up, no sort)
        rows = rows[np.lexsort((idx[rows], row_key[rows]))]
        text_codes, text_values = _dictionary(t["text"])
        lens = np.fromiter((len(v) for v in text_values), dtype=np.int64, count=len(text_values))
        k, i, tc = row_key[rows], idx[rows], text_codes[rows]
        new = np.ones(len(rows), dtype=bool)
        new[1:] = k[1:] != k[:-1]
        gap = np.zeros(len(rows), dtype=bool)
        gap[1:] = i[1:] > i[:-1] + lens[tc[:-1]]
        pieces = [(" " + text_values[c]) if g and not f else text_values[c] for c, g, f in zip(tc, gap, new)]
        starts = np.flatnonzero(new).tolist() + [len(rows)]
        for a, b in zip(starts[:-1], starts[1:]):
            shard_, d, p, s, lg = wanted[int(k[a])]
            texts[(lg, shard_, d, p, s)] = "".join(pieces[a:b])
    return {lang: df.assign(example_doc=[k[1] for k in keys[lang]],
                            example=[texts.get((lang, *k), "") for k in keys[lang]])
            for lang, df in frames.items()}


def new_formulations(token_paths, languages, settings: "FormulationSettings | None" = None, memo=None,
                     **overrides) -> pd.DataFrame:
    """The table ``new_formulations.csv`` for every language (module docstring: method and columns).

    Parameters
    ----------
    token_paths : list of str, Path or DataFrame
        Token shards (one DataFrame per shard in tests).
    languages : sequence of str
    settings : FormulationSettings, optional
        Default: the schema's (``formulations.*``, ``unspaced_languages``, ``count_roles``).
    memo : textdrift.langmemo.LanguageMemo, optional
        Each language's rows kept by a digest of its rows of every token shard, the settings and the
        code (:mod:`textdrift.langmemo`): a language whose rows are kept is not computed (the table
        is the same either way).
    **overrides
        Fields of :class:`FormulationSettings` that replace the settings' (e.g. ``window=2``).

    Returns
    -------
    DataFrame
        :data:`COLUMNS`.
    """
    st = settings if settings is not None else FormulationSettings()
    if overrides:
        st = st.replace(**overrides)
    import tempfile
    from dataclasses import asdict

    from textdrift.langmemo import for_files

    memo = for_files(memo, token_paths)

    def key(lang: str, digests: list) -> str:
        return memo.key(lang=lang, settings=asdict(st), shards=digests)

    kept, keys = {}, {}
    for lang in languages if memo is not None else []:
        digests = memo.shard_digests(token_paths, lang, lambda p, lg: _lang_rows(p, lg, st.count_roles))
        if digests is not None:
            keys[lang] = key(lang, digests)
            value = memo.get(keys[lang])
            if isinstance(value, pd.DataFrame):
                kept[lang] = value
                years = memo.get(_YearMemo.list_key(memo, keys[lang]))  # its years' entries kept, not pruned
                memo.retain(years if isinstance(years, list) else [])
                log.info("%s: the rows kept in the memo (its tokens, the settings and the code unchanged)", lang)
    todo = [lang for lang in languages if lang not in kept]
    recorded = {lang: [] for lang in todo} if memo is not None else None
    year_memos = {lang: _YearMemo(memo, lang) for lang in todo} if memo is not None else {}
    frames = {}
    if todo:
        with tempfile.TemporaryDirectory(prefix="textdrift-formulations-") as spill:
            frames, sentences = _language_tables(token_paths, todo, st, spill, recorded, year_memos)
        if frames:
            frames = _examples(frames, sentences, token_paths)
        for df in frames.values():
            df["nested_in"] = nested_in(df, st.unspaced_languages, st.fold_share)
    if memo is not None:
        for lang in todo:
            for path, digest in zip(token_paths, recorded[lang]):
                memo.keep_digest(path, lang, digest)
            lang_key = keys.get(lang) or key(lang, recorded[lang])
            memo.put(lang_key, frames.get(lang, pd.DataFrame(columns=COLUMNS)))
            memo.put(_YearMemo.list_key(memo, lang_key), year_memos[lang].keys)
    parts = [df for lang in languages for df in [kept.get(lang, frames.get(lang))] if df is not None and len(df)]
    if not parts:
        return pd.DataFrame(columns=COLUMNS)
    return pd.concat(parts, ignore_index=True)[COLUMNS]


def _language_tables(token_paths, languages, st: FormulationSettings, spill, digests=None,
                     year_memos=None) -> tuple[dict, dict]:
    """The ranked rows of every language that has some ({lang: table}, without the examples) and each
    language's sentences; the units read once, kept per year in the directory ``spill`` and counted
    one year at a time (``digests``: as :func:`_read_builders`; ``year_memos``: {lang:
    :class:`_YearMemo`} of the languages whose years' candidates are memoized)."""
    year_memos = year_memos or {}
    unspaced = set(st.unspaced_languages)
    builders = _read_builders(token_paths, languages, st.unspaced_languages, st.count_roles, spill, digests)
    frames, sentences = {}, {}
    for lang in languages:
        b = builders.pop(lang)
        lo, hi = (st.min_chars, st.max_chars) if lang in unspaced else (st.min_words, st.max_words)
        words, seen = b.words(), set()

        def year_units(y: int) -> Units:  # the second call (the count) is the year's last: its chunks freed
            drop = y in seen
            seen.add(y)
            return b.year_units(y, words, drop=drop)

        ym = year_memos.get(lang)
        df = _formulations_of_years(year_units, b.years(), _Thresholds(st.min_count, lo, hi, st.min_paragraphs,
                                                                        st.window), ym)
        if ym is not None:
            log.info("%s: %d of %d years' candidates taken from the memo", lang, ym.hits, len(ym.keys))
        df = _rank(df.drop(columns="yi"), st.top_n)
        sentences[lang] = b.sentences
        del b
        if len(df):
            frames[lang] = df
        log.info("%s: %d new, %d vanished formulations written", lang, int((df["status"] == "new").sum()),
                 int((df["status"] == "vanished").sum()))
    return frames, sentences


def write_formulations(token_paths, out_csv: str | Path, languages, settings: "FormulationSettings | None" = None,
                       memo=None) -> pd.DataFrame:
    """Write :func:`new_formulations` to ``out_csv`` and return it.

    Parameters
    ----------
    token_paths : list of str or Path
    out_csv : str or Path
    languages : sequence of str
    settings : FormulationSettings, optional
    memo : textdrift.langmemo.LanguageMemo, optional
        The per-language memo (:func:`new_formulations`); its unused entries are removed after.

    Returns
    -------
    DataFrame
    """
    from textdrift.io import write_csv

    df = new_formulations(token_paths, languages, settings, memo)
    write_csv(df, out_csv)
    if memo is not None:
        log.info(memo.finish())
    return df


def run_formulations(input, output, params, log, config=None) -> None:
    """Rule ``formulations``: ``results/tables/new_formulations.csv``.

    Parameters
    ----------
    input, output, params : Snakemake's named lists of the rule (``workflow/rules/formulations.smk``)
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
    write_formulations(list(input.tokens), output.table, params.languages, FormulationSettings.from_params(params),
                       memo_for(config, "formulations"))
