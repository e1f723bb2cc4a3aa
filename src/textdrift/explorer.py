"""The offline explorer: ``results/explorer.html``, from any number to the sentences behind it;
the browser's view of the result tables, as :mod:`textdrift.notebook` is the notebooks'.

One self-contained HTML file (rule ``explorer``): the page, its script, its style, the vendored
Vega and Vega-Lite builds (``workflow/explorer/vendor/``) and one JSON payload, all inline, so it
opens from disk with no network access. The term index and the phrase view, which need a pass over
every token but nothing of the codebook, are made by their own rule (``explorer_terms``,
:func:`term_index`), so a codebook edit only reassembles the page (:func:`page_payload`); the term
index travels gzip-compressed (:func:`pack_terms`, base64 in the payload) and the browser inflates
it (``DecompressionStream``). Four views:

* **Themes**: ``theme_frequencies.csv`` per theme and language with its interval; a click on a
  year lists the ``theme_kwic.csv`` rows behind that count (sampled to ``contexts_per_cell``,
  the total shown), each beside the aligned paragraph of the other language
  (``crosslingual_alignment.csv``) when the document is bilingual;
* **Phrases**: ``phrase_changes.csv``, per language and step the ``phrases_per_step`` phrases
  with the highest and lowest z, each with its sentences in both years;
* **Any term**: every word or n-gram the pipeline counts (the year matrices
  ``data/processed/vectors/year_{lang}.npz``: lemmas, named entities as ``@id``), the
  ``max_terms`` most frequent of each language with at least ``min_term_count`` occurrences:
  count, rate per 10,000 kept tokens and an exact Poisson interval per year, computed here, and
  up to ``term_contexts`` sentences per year; the search box also resolves English word forms to
  their lemma and entity aliases to their ``@id``;
* **Drift and documents**: ``tfidf_drift.csv`` with ``tfidf_baseline.csv``, ``documents.csv``
  and the aligned paragraphs of up to ``aligned_documents`` bilingual documents.

Every number the page shows is in the payload, computed in Python; the script only draws and
filters. Corpus text is only ever inserted as text (``textContent``), and the payload is JSON in a
``<script type="application/json">`` element in which every ``<`` is written ``\\u003c`` (so
neither ``</script>`` nor ``<!--`` in a text can end it). Sampling is seeded; sentences are drawn
by one random ranking of all sentences, so different terms tend to share the same sentences and
the payload stays small.

The term index is built in two steps so that adding a document does not redo it all: per token
shard its partial index (:func:`term_partial`, written by rule ``count``, which reads the shard
once for its counts and for this, :func:`run_shard`: every word and n-gram of the shard with every
sentence it occurs in, whatever its count, the sentences' texts and the word forms), then the
merge (:func:`term_index`, rule ``explorer_terms``), which decides on the whole corpus which terms
are listed (the year matrices) and numbers and ranks the sentences as in the
whole table, so the page is the one the whole token table would give. Memory does not grow with
the corpus: the merge reads one shard's partial at a time and keeps only the sentences that can
still be shown, a shard's partial is made from its documents in batches, and ``theme_kwic.csv``
and ``phrase_changes.csv`` are read in chunks, keeping only the rows the page can show. A
language whose rows of the partials, year matrix, phrases shown and page numbers did not change
is taken from the per-language memo (:mod:`textdrift.langmemo`) as its JSON text.

Why one module of about 1700 lines, about a third of them docstrings: each view's payload is built
here from the tables it shows, beside the page's assembly, so the fields the page script reads
are defined in one place; and the reading in pieces sits beside the whole-table function whose
result it must reproduce.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from textdrift.io import atomic_write_text, joined_chunks, read_csv, read_csv_chunks, release_memory
from textdrift.config import UNSPACED_LANGUAGES, defaults
from textdrift.counting import (ENTITY_HEAD, SEP, TokenCodes, absorbed, counted, key_order, load_tokens, read_tokens,
                                segments)

if TYPE_CHECKING:
    from textdrift.vectorize import CountMatrix

_D = defaults()  # the configuration schema's defaults: every keyword default below that is a config setting
_E = _D["explorer"]

__all__ = [
    "ASSETS", "ExplorerSettings", "embed_json", "theme_payload", "phrase_payload", "alignment_payload",
    "sentence_frame", "term_payload", "formulation_payload", "term_index", "write_term_index", "pack_terms", "TERMS_LEVEL", "write_packed_json",
    "page_payload", "build_payload", "render_html", "run_term_index", "run_explorer", "write_explorer",
    "EncodedJson", "PARTIAL_PARTS", "term_partial", "shard_partials", "write_shard_partials", "read_partials", "run_shard",
    "TERM_COLUMNS",
]

ASSETS = Path(__file__).resolve().parents[2] / "workflow" / "explorer"
VENDOR = ["vega.min.js", "vega-lite.min.js"]
#: the gzip level of the term index (:func:`pack_terms`). The browser inflates any level to the same
#: JSON; measured on the 50 MB corpus's index (35.8 MB of JSON, docs/performance.md): level 9 took
#: 3.0 s of CPU for 6.17 MB, level 4 0.47 s for 6.97 MB (+13%), level 1 0.33 s for 8.84 MB.
TERMS_LEVEL = 4


@dataclass(frozen=True)
class ExplorerSettings:
    """Everything the explorer is configured by, as one object (defaults: the configuration
    schema's, :func:`textdrift.config.defaults`).

    Attributes
    ----------
    explorer : dict
        The config's ``explorer`` block; missing keys take the schema's defaults (:meth:`get`).
    count_roles, unspaced_languages : tuple of str
    low_data_tokens : int
    conf_level : float
    q_threshold : float
        Benjamini-Hochberg level of the phrase changes.
    crosslingual_langs : tuple of str, optional
        The two languages of the aligned paragraphs (default: the first two analysed).
    made_by : str
        What made the results (:func:`textdrift.provenance.describe`), shown in the page's header.
    ngram_max : int
        Longest n-gram of the partial term indexes (config ``vectorize.ngram_max``).
    """

    explorer: dict = field(default_factory=dict)
    count_roles: tuple = tuple(_D["count_roles"])
    unspaced_languages: tuple = tuple(UNSPACED_LANGUAGES)
    low_data_tokens: int = _D["low_data_tokens"]
    conf_level: float = _D["themes"]["conf_level"]
    q_threshold: float = _D["phrases"]["q_threshold"]
    crosslingual_langs: tuple | None = None
    made_by: str = ""
    ngram_max: int = _D["vectorize"]["ngram_max"]

    @classmethod
    def from_config(cls, config: dict, made_by: str = "") -> "ExplorerSettings":
        """The settings from a configuration (any key missing takes its default).

        Parameters
        ----------
        config : dict
            The workflow's configuration, or part of it.
        made_by : str

        Returns
        -------
        ExplorerSettings
        """
        langs = (config.get("crosslingual") or {}).get("langs")
        return cls(explorer=dict(config.get("explorer") or {}),
                   count_roles=tuple(config.get("count_roles", _D["count_roles"])),
                   unspaced_languages=tuple(config.get("unspaced_languages", UNSPACED_LANGUAGES)),
                   low_data_tokens=int(config.get("low_data_tokens", _D["low_data_tokens"])),
                   conf_level=float((config.get("themes") or {}).get("conf_level", _D["themes"]["conf_level"])),
                   q_threshold=float((config.get("phrases") or {}).get("q_threshold", _D["phrases"]["q_threshold"])),
                   crosslingual_langs=tuple(langs) if langs else None, made_by=made_by,
                   ngram_max=int((config.get("vectorize") or {}).get("ngram_max", _D["vectorize"]["ngram_max"])))

    def get(self, key: str):
        """One setting of the ``explorer`` block (its default when not set).

        Parameters
        ----------
        key : str

        Returns
        -------
        object
        """
        return self.explorer[key] if key in self.explorer else _E[key]

    def block(self) -> dict:
        """The ``explorer`` block with every default filled in (shown on the page).

        Returns
        -------
        dict
        """
        return {**_E, **self.explorer}


def _num(x, digits: int = 6):
    """A JSON-safe number: None for NaN, ints as ints, floats to ``digits`` significant digits."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return None if not math.isfinite(x) else float(f"{float(x):.{digits}g}")
    return x


def _floats(values: np.ndarray, digits: int = 6) -> list:
    """:func:`_num` of every element of a float array (None for NaN and infinities)."""
    return [float(f"{x:.{digits}g}") if math.isfinite(x) else None for x in values.tolist()]


def _column(values: pd.Series) -> list:
    """One column as JSON-safe values (:func:`_num` of each; strings kept, NaN and infinities as None),
    converted by its dtype: a numeric column without a per-value type test."""
    kind = values.dtype.kind
    if kind == "f" and isinstance(values.dtype, np.dtype):
        return [float(f"{x:.6g}") if math.isfinite(x) else None for x in values.tolist()]
    if kind in "iub" and isinstance(values.dtype, np.dtype):
        return values.tolist()  # Python ints / bools, as _num gives them
    return [v if isinstance(v, str) else _num(v) if not pd.isna(v) else None for v in values.tolist()]


def _rows(df: pd.DataFrame, cols: list[str]) -> list[list]:
    """``df[cols]`` as lists of JSON-safe values (strings kept, NaN as None)."""
    return [list(r) for r in zip(*(_column(df[c]) for c in cols))] if len(df) else []


def embed_json(obj) -> str:
    """``obj`` as JSON that is safe inside a ``<script>`` element: every ``<`` (and ``>``, ``&``)
    escaped as ``\\uXXXX``, so no text can close the element or open a comment; NaN is refused.

    Parameters
    ----------
    obj : JSON-serialisable object

    Returns
    -------
    str
    """
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


# items of a long list encoded at a time by :func:`_json_pieces`
_JSON_ITEMS = 20_000


class EncodedJson(bytes):
    """A value's :func:`embed_json` text, UTF-8 encoded: :func:`_json_pieces` yields it as it is
    (a language's term index kept by the memo, :func:`term_index`)."""


def _json_pieces(obj, items: int = _JSON_ITEMS):
    """:func:`embed_json` of ``obj`` in pieces whose concatenation is that text: a dict with string
    keys key by key, a list of more than ``items`` items that many at a time, anything else whole.

    JSON without spaces is the concatenation of its parts (``[a,b]`` is ``[`` + ``a`` + ``,`` +
    ``b`` + ``]``), and the escapes replace single characters, so escaping each piece escapes the
    whole; a piece is never larger than ``items`` items of a list, where the one-shot encoder holds
    every fragment of the whole text and then the text and its escaped copies (at 200 MB the term
    index is 152 MB of JSON, which held about 0.3 GB on top of the index).
    """
    if isinstance(obj, EncodedJson):
        yield obj
    elif isinstance(obj, dict) and all(isinstance(k, str) for k in obj):
        yield "{"
        for i, (k, v) in enumerate(obj.items()):
            yield ("," if i else "") + embed_json(k) + ":"
            yield from _json_pieces(v, items)
        yield "}"
    elif isinstance(obj, list) and len(obj) > items:
        yield "["
        for i in range(0, len(obj), items):
            yield ("," if i else "") + embed_json(obj[i:i + items])[1:-1]
        yield "]"
    else:
        yield embed_json(obj)


def write_packed_json(obj, path: str | Path) -> tuple[int, int]:
    """``pack_terms(embed_json(obj).encode("utf-8"))`` written to ``path`` (atomically), the text
    made and compressed a piece at a time (:func:`_json_pieces`, one ``zlib`` stream with the same
    parameters as :func:`gzip.compress` at ``mtime=0``, so the same bytes) instead of whole.

    Parameters
    ----------
    obj : JSON-serialisable object
    path : str or Path
        The file written.

    Returns
    -------
    tuple of int
        Bytes of the JSON text and of the file.
    """
    import zlib

    from textdrift.io import atomic_writer

    z = zlib.compressobj(TERMS_LEVEL, zlib.DEFLATED, 31)  # what gzip.compress(data, TERMS_LEVEL, mtime=0) uses
    n_text = n_packed = 0
    buf, size = [], 0

    def put(data: bytes, last: bool = False) -> None:
        nonlocal n_text, n_packed
        out = z.compress(data) + (z.flush() if last else b"")
        n_text, n_packed = n_text + len(data), n_packed + len(out)
        fh.write(out)

    with atomic_writer(path) as fh:
        for piece in _json_pieces(obj):
            if isinstance(piece, bytes):  # encoded already (the output does not depend on the pieces)
                put("".join(buf).encode("utf-8"))
                put(piece)
                buf, size = [], 0
                continue
            buf.append(piece)
            size += len(piece)
            if size >= 1 << 20:
                put("".join(buf).encode("utf-8"))
                buf, size = [], 0
        put("".join(buf).encode("utf-8"), last=True)
    return n_text, n_packed


def _sample(df: pd.DataFrame, keys: list[str], k: int, seed: int) -> pd.DataFrame:
    """At most ``k`` rows of each group of ``keys``, drawn at random (seeded), in table order."""
    rank = np.random.default_rng(seed).permutation(len(df))
    pos = pd.Series(rank, index=df.index).groupby([df[c] for c in keys]).rank(method="first")
    return df[pos.to_numpy() <= k]


# ---- tables ------------------------------------------------------------------------------------


def _paras(value) -> str:
    """Paragraph numbers of a bead as written in the table ("3", "16;17"; "" for none)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(int(value)) if isinstance(value, (float, int, np.number)) else str(value)


def alignment_payload(alignment: pd.DataFrame, documents: pd.DataFrame, langs: list[str], needed: set[int],
                      max_documents: int) -> tuple[dict, dict]:
    """Aligned paragraphs: every bead of the first ``max_documents`` bilingual documents (in the
    order of ``documents.csv``) plus the beads in ``needed`` (row numbers); and the lookup
    ``(doc_id, lang, para) -> row`` of every bead.

    Parameters
    ----------
    alignment : DataFrame
        ``crosslingual_alignment.csv``.
    documents : DataFrame
        ``documents.csv``.
    langs : list of str
    needed : set of int
    max_documents : int

    Returns
    -------
    payload : dict
    where : dict
        ``(doc_id, lang, para) -> row``.
    """
    a, b = langs
    where = {}
    for i, rec in enumerate(alignment[["doc_id", f"{a}_paras", f"{b}_paras"]].itertuples(index=False)):
        for lang, paras in ((a, rec[1]), (b, rec[2])):
            for p in str(paras).split(";") if not pd.isna(paras) else []:
                if p not in ("", "nan"):
                    where[(rec[0], lang, int(float(p)))] = i
    aligned = set(alignment["doc_id"])
    order = [d for d in documents["doc_id"] if d in aligned]
    full = order[:max_documents]
    keep = sorted(set(np.flatnonzero(alignment["doc_id"].isin(full).to_numpy()).tolist()) | set(needed))
    sub = alignment.iloc[keep]
    cols = ["doc_id", "pair", f"{a}_paras", f"{b}_paras", f"{a}_text", f"{b}_text", "cost"]
    sub = sub.assign(**{c: sub[c].map(_paras) for c in (f"{a}_paras", f"{b}_paras")})
    rows = _rows(sub, cols)
    return ({"langs": langs, "cols": cols, "rows": rows, "ids": keep, "full_docs": full,
             "bilingual_docs": order}, where)


def theme_payload(freq: pd.DataFrame, kwic: pd.DataFrame, labels: dict, per_cell: int, seed: int,
                  low_data_tokens: int, where: dict) -> tuple[dict, set[int]]:
    """The theme series (``theme_frequencies.csv``) and the ``theme_kwic.csv`` rows behind each
    count (``kind = theme``), at most ``per_cell`` per (theme, language, year), with the row of
    the aligned paragraph in the other language; and the alignment rows they refer to.

    Parameters
    ----------
    freq : DataFrame
        ``theme_frequencies.csv``.
    kwic : DataFrame
        ``theme_kwic.csv``.
    labels : dict
        The theme labels, passed to the page.
    per_cell : int
    seed : int
        Seed of the choice of rows.
    low_data_tokens : int
    where : dict
        ``(doc_id, lang, para) -> row`` of the aligned paragraphs (:func:`alignment_payload`).

    Returns
    -------
    payload : dict
    needed : set of int
        The alignment rows the KWIC rows refer to.
    """
    k = kwic[kwic["kind"] == "theme"]
    return _theme_cells(freq, _sample(k, _CELL, per_cell, seed), k.groupby(_CELL).size(), labels, low_data_tokens,
                        where)


def _theme_cells(freq: pd.DataFrame, shown: pd.DataFrame, totals, labels: dict, low_data_tokens: int,
                 where: dict) -> tuple[dict, set[int]]:
    """:func:`theme_payload` from the KWIC rows shown and the number of rows of each cell."""
    cols = ["year", "lang", "theme", "count", "tokens", "per_10k", "ci_low", "ci_high", "ci_method"]
    series = _rows(freq, cols)
    for r in series:
        r.append(bool(r[4] < low_data_tokens))
    cells, needed = {}, set()
    kcols = ["doc_id", "para", "sent", "role", "term", "left", "match", "right"]
    keys = shown[["theme", "lang", "year"]]
    known = keys.notna().all(axis=1).to_numpy()  # as groupby, rows with a missing key are in no cell
    for key, r in zip(keys[known].itertuples(index=False, name=None), _rows(shown[known], kcols)):
        theme, lang, year = key
        ref = where.get((r[0], lang, r[1]))  # its bead in crosslingual_alignment.csv
        if ref is not None:
            needed.add(ref)
        cell = cells.get(key)
        if cell is None:  # cells in the order of their first row, as groupby(sort=False)
            cell = cells[key] = {"total": int(totals[key]), "rows": []}
        cell["rows"].append(r + [ref])
    cells = {f"{theme}|{lang}|{int(year)}": cell for (theme, lang, year), cell in cells.items()}
    return ({"cols": cols + ["low_data"], "rows": series, "labels": labels, "kwic_cols": kcols + ["align"],
             "cells": cells}, needed)


def phrase_payload(phrases: pd.DataFrame, per_step: int) -> dict:
    """Per language and step of ``phrase_changes.csv``: the ``per_step`` phrases with the highest z
    and the ``per_step`` with the lowest, with how many phrases the step tested.

    Parameters
    ----------
    phrases : DataFrame
        ``phrase_changes.csv``.
    per_step : int

    Returns
    -------
    dict
        ``cols`` and ``steps``.
    """
    return _phrase_steps(phrases, None, per_step)


def _phrase_steps(phrases: pd.DataFrame, tested: dict | None, per_step: int) -> dict:
    """:func:`phrase_payload`; ``tested``: (lang, year_from, year_to) -> the number of phrases of the
    step when ``phrases`` holds only some of its rows (:func:`_read_phrases`)."""
    cols = ["phrase", "display", "status", "count_from", "count_to", "total_from", "total_to", "z", "q"]
    steps = []
    for (lang, y0, y1), g in phrases.groupby(_STEP, sort=False):
        n = len(g) if tested is None else tested[(lang, y0, y1)]
        g = g.sort_values("z", kind="stable")
        up = g[g["z"] > 0].iloc[::-1].head(per_step)
        down = g[g["z"] < 0].head(per_step)
        head = g.iloc[0]
        steps.append({"lang": lang, "year_from": int(y0), "year_to": int(y1), "tested": int(n),
                      "docs_from": head.get("docs_from"), "docs_to": head.get("docs_to"),
                      "genre_match": head.get("genre_match"),
                      "up": _rows(up, cols), "down": _rows(down, cols)})
    for s in steps:
        s.update({k: (None if isinstance(v, float) else v) for k, v in s.items()
                  if k in ("docs_from", "docs_to", "genre_match")})
    return {"cols": cols, "steps": steps}


def _step_documents(steps: list[dict], drift: pd.DataFrame) -> None:
    """Fill in each phrase step's ``docs_from, docs_to`` from its row of ``tfidf_drift.csv`` (the
    phrase table carries only ``genre_match``; the lists are the same for every phrase of a step)."""
    if not {"docs_from", "docs_to"} <= set(drift.columns):
        return
    rows = drift.set_index(_STEP)[["docs_from", "docs_to"]]
    for st in steps:
        key = (st["lang"], st["year_from"], st["year_to"])
        if key in rows.index:
            for k in ("docs_from", "docs_to"):
                if st.get(k) is None:
                    v = rows.at[key, k]
                    st[k] = None if isinstance(v, float) else v


# ---- the two large tables, read in chunks ------------------------------------------------------------

_CELL = ["theme", "lang", "year"]  # a cell of the theme view
_STEP = ["lang", "year_from", "year_to"]  # a step of the phrase view
# rows of theme_kwic.csv and phrase_changes.csv read at a time
_CHUNK_ROWS = 20_000


def _chunks(path, kinds: dict, **kwargs):
    """:func:`textdrift.io.read_csv_chunks` in chunks of :data:`_CHUNK_ROWS` rows."""
    return read_csv_chunks(path, kinds, _CHUNK_ROWS, **kwargs)


def _read_kwic(path, per_cell: int, seed: int) -> tuple[pd.DataFrame, dict]:
    """The ``theme_kwic.csv`` rows :func:`theme_payload` shows and the number of rows of each
    cell, reading the file in chunks: first the cell of every row (as a number), then the rows shown."""
    kinds, code, cells, rows = {}, {}, [], []
    for c in _chunks(path, kinds, usecols=["kind", *_CELL]):
        c = c[c["kind"] == "theme"]
        inv = _cell_codes(c)
        u, at = np.unique(inv, return_index=True)
        firsts = c[_CELL].iloc[at[u >= 0]]  # the first row of each cell of the chunk
        known = np.array([code.setdefault(k, len(code)) for k in zip(*(firsts[k] for k in _CELL))] + [-1],
                         dtype=np.int64)
        cells.append(known[inv])  # inv -1: the last, -1
        rows.append(c.index.to_numpy())
    cell, row = np.concatenate(cells), np.concatenate(rows)
    # :func:`_sample`: a random ranking of the rows, the first per_cell of each cell
    rank = np.random.default_rng(seed).permutation(len(cell))
    order = np.lexsort((rank, cell))
    first = np.r_[True, cell[order][1:] != cell[order][:-1]] if len(cell) else np.zeros(0, dtype=bool)
    at = np.arange(len(cell))
    pos = at - np.maximum.accumulate(np.where(first, at, 0))
    chosen = row[order[(pos < per_cell) & (cell[order] >= 0)]]
    n = np.bincount(cell[cell >= 0], minlength=len(code))
    totals = {key: int(n[i]) for key, i in code.items()}
    kinds = {}
    pieces = [c[c.index.isin(chosen)] for c in _chunks(path, kinds)]
    return joined_chunks(pieces, kinds), totals


def _cell_codes(rows: pd.DataFrame) -> np.ndarray:
    """The cell (theme, lang, year) of each row, numbered in order of first appearance, -1 for a row
    with any of them missing (in no cell, as in a groupby): what factorizing the joined strings
    ``theme \x00 lang \x00 year.astype(str)`` gives, on the columns' codes (joining the strings
    was a fifth of the page job)."""
    codes = [pd.factorize(rows[c])[0].astype(np.int64) for c in _CELL]
    valid = (codes[0] >= 0) & (codes[1] >= 0) & (codes[2] >= 0)
    key = np.zeros(len(rows), dtype=np.int64)
    for k in codes:
        key = key * (int(k.max(initial=0)) + 1) + k
    inv = np.full(len(rows), -1, dtype=np.int64)
    inv[valid] = pd.factorize(key[valid])[0]
    return inv


def _read_phrases(path, per_step: int) -> tuple[pd.DataFrame, dict]:
    """The ``phrase_changes.csv`` rows :func:`phrase_payload` can show, reading the file in chunks
    (per chunk and step: its first row, the row of lowest z and the ``per_step`` highest and
    lowest), and the number of phrases of each step."""
    kinds, pieces, tested = {}, [], {}
    for chunk in _chunks(path, kinds):
        take = []
        for key, g in chunk.groupby(_STEP, sort=False):
            tested[key] = tested.get(key, 0) + len(g)
            z = g.sort_values("z", kind="stable")["z"]
            take += [g.index[:1], z.index[:1], z[z > 0].index[-per_step:], z[z < 0].index[:per_step]]
        pieces.append(chunk.loc[np.unique(np.concatenate([i.to_numpy() for i in take]))] if take else chunk[:0])
    return joined_chunks(pieces, kinds), tested


# ---- any term: counts, intervals and sentences from the token data ---------------------------------

# The token columns the term index reads (``role`` only to select the counted paragraphs), and the
# fewer the first pass over the shards reads to number the sentences.
# The token columns the partial term index is made from (:func:`shard_partials`).
TERM_COLUMNS = ["doc_id", "year", "lang", "para", "sent", "idx", "text", "norm", "keep", "role", "entity"]
_SENTENCE_COLUMNS = ["doc_id", "lang", "para", "sent", "idx", "role"]
# Documents are handed to the term index in batches of about this many tokens (a batch holds whole
# documents), so its memory does not grow with the size of a shard.
_BATCH_TOKENS = 400_000


def _text_order(tokens: pd.DataFrame, ordered: bool = False) -> tuple[pd.DataFrame, np.ndarray]:
    """``tokens`` in text order (documents by ``doc_id``, then ``para``, ``idx``; ``ordered``: they
    are, as :func:`_batched_text_order` leaves them) and, per token, whether it starts a sentence."""
    if ordered:
        t = tokens.reset_index(drop=True)
    else:
        doc_code = pd.factorize(tokens["doc_id"], sort=True)[0]
        t = tokens.take(key_order([doc_code, tokens["para"].to_numpy(), tokens["idx"].to_numpy()]))
        t = t.reset_index(drop=True)
    new = (t["doc_id"].ne(t["doc_id"].shift()) | t["para"].ne(t["para"].shift())
           | t["sent"].ne(t["sent"].shift())).to_numpy()
    return t, new


def _sentence_counts(tokens: pd.DataFrame, ordered: bool = False) -> pd.Series:
    """doc_id -> how many sentences :func:`sentence_frame` numbers in it (one language's tokens;
    ``ordered``: each document's tokens are together and in text order)."""
    t, new = _text_order(tokens[["doc_id", "para", "sent", "idx"]], ordered)
    return t["doc_id"][new].value_counts(sort=False)


def _first_sids(counts: list[pd.Series]) -> tuple[pd.Series, int]:
    """doc_id -> the number of its first sentence when the sentences of all documents (the
    :func:`_sentence_counts` of each shard) are numbered in ``doc_id`` order; and how many there are."""
    counts = [c for c in counts if len(c)]
    n = pd.concat(counts).sort_index().astype(np.int64) if counts else pd.Series([], dtype=np.int64)
    return n.cumsum() - n, int(n.sum())


def sentence_frame(tokens: pd.DataFrame, first_sid: pd.Series | None = None, ordered: bool = False) -> pd.DataFrame:
    """One language's counted tokens in text order with the sentence of each (``sid``) and its
    character span in the sentence as the page shows it (``off``, ``end``; tokens joined with one
    space where the text had white space); an entity head's ``end`` covers the whole mention.

    Sentences are numbered in text order (documents by ``doc_id``); ``first_sid`` (doc_id -> number
    of its first sentence) numbers them as in the whole table when ``tokens`` is a part of it that
    holds whole documents (one token shard).

    Parameters
    ----------
    tokens : DataFrame
        One language's token table, or whole documents of it.
    first_sid : Series, optional
        doc_id -> the number of the document's first sentence (from 0 when None).
    ordered : bool
        ``tokens`` are in text order already (documents by ``doc_id``, then ``para``, ``idx``).

    Returns
    -------
    DataFrame
        The counted tokens with ``sid, off, end, gap``.
    """
    t, new = _text_order(tokens, ordered)
    sid = np.cumsum(new) - 1
    if first_sid is not None and len(t):
        start = t["doc_id"].ne(t["doc_id"].shift()).to_numpy()
        doc = np.cumsum(start) - 1
        shift = first_sid.reindex(t["doc_id"][start]).to_numpy(dtype=np.int64) - sid[start]
        sid = sid + shift[doc]
    idx = t["idx"].to_numpy().astype(np.int64)
    tlen = t["text"].str.len().to_numpy().astype(np.int64)
    gap = np.zeros(len(t), dtype=np.int64)
    gap[1:] = idx[1:] > idx[:-1] + tlen[:-1]
    gap[new] = 0
    piece = gap + tlen
    before = np.cumsum(piece) - piece  # characters before each piece, over the whole table
    off = before + gap - before[np.flatnonzero(new)][np.cumsum(new) - 1]
    end = off + tlen
    if "entity" in t.columns and t["entity"].notna().any():
        # a mention is a run of one entity (compared as codes, not as Python strings), each token
        # with no entity a run of its own; the mention's tokens end where its last token ends
        empty = t["entity"].fillna("").eq("").to_numpy(dtype=bool)
        code = pd.factorize(t["entity"])[0]
        run = np.cumsum(new | np.r_[True, code[1:] != code[:-1]] | empty) - 1
        last = np.maximum.reduceat(end, np.flatnonzero(np.r_[True, run[1:] != run[:-1]]))
        end = np.where(empty, end, last[run])
    return t.assign(sid=sid, off=off, end=end, gap=gap.astype(bool))


def _ngram_occurrences(t: pd.DataFrame, ngram_max: int) -> tuple[np.ndarray, pd.DataFrame]:
    """Every word and n-gram of ``t`` (a :func:`sentence_frame`) up to ``ngram_max`` tokens as
    :func:`textdrift.vectorize.count_matrix` counts them (kept tokens, contiguous, an entity one
    token): its strings, and per occurrence the string's code, sentence and character span (first
    occurrence in a sentence only, in text order)."""
    t = t[[c for c in ("doc_id", "lang", "sent", "keep", "norm", "entity", "sid", "off", "end") if c in t.columns]]
    skip = absorbed(t)
    if skip.any():
        t = t[~skip]
    keep = t["keep"].to_numpy(dtype=bool)
    seg = segments(t.assign(_removed=~t["keep"]), breaks="_removed").to_numpy()[keep]
    kept = t[["norm", "sid", "off", "end"]][keep]
    words, uniques = pd.factorize(kept["norm"], sort=False)  # (Arrow's, on Arrow strings: no Python string per row)
    words, uniques = words.astype(np.int64), np.asarray(uniques, dtype=object)
    n_words = max(len(uniques), 1)
    codes_, firsts, lasts, vocab, offset = [], [], [], [], 0
    prefix, prefix_str = words, uniques
    for n in range(1, ngram_max + 1):
        if n == 1:
            starts, codes, strings = np.arange(len(words)), words, uniques
        else:
            m = len(words) - n + 1
            if m <= 0:
                break
            starts = np.flatnonzero(seg[:m] == seg[n - 1:])
            codes, distinct = pd.factorize(prefix[starts] * n_words + words[starts + n - 1], sort=False)
            codes = codes.astype(np.int64)
            strings = np.array([a + SEP + b for a, b in zip(prefix_str[distinct // n_words],
                                                            uniques[distinct % n_words])], dtype=object)
            prefix = np.full(len(words), -1, dtype=np.int64)
            prefix[starts] = codes
            prefix_str = strings
        codes_.append(codes + offset)
        firsts.append(starts)
        lasts.append(starts + n - 1)
        vocab.append(strings)
        offset += len(strings)
    code = np.concatenate(codes_) if codes_ else np.zeros(0, dtype=np.int64)
    first = np.concatenate(firsts) if firsts else np.zeros(0, dtype=np.int64)
    last = np.concatenate(lasts) if lasts else np.zeros(0, dtype=np.int64)
    sid = kept["sid"].to_numpy(dtype=np.int64)[first]
    # an n-gram's first occurrence in each sentence (within one code, occurrences are in text order)
    order = key_order([code, sid, first])  # np.lexsort's order, on one 64-bit key
    code, sid, first, last = code[order], sid[order], first[order], last[order]
    new = np.ones(len(code), dtype=bool)
    new[1:] = (code[1:] != code[:-1]) | (sid[1:] != sid[:-1])
    occ = pd.DataFrame({"term": code[new], "sid": sid[new], "a": kept["off"].to_numpy(dtype=np.int64)[first[new]],
                        "b": kept["end"].to_numpy(dtype=np.int64)[last[new]]})
    strings = np.concatenate(vocab) if vocab else np.zeros(0, dtype=object)
    return strings, occ


def _sentence_texts(t: pd.DataFrame, sids: np.ndarray) -> dict[int, str]:
    """The text of each sentence in ``sids`` as :func:`sentence_frame` lays it out."""
    hit = t["sid"].isin(sids).to_numpy()
    sub = t if hit.all() else t[hit]
    sid = sub["sid"].to_numpy(dtype=np.int64)
    order = np.argsort(sid, kind="stable")  # a sentence's tokens in text order
    whole, ends = _joined_pieces(sub["text"], sub["gap"].to_numpy(dtype=bool), order)
    sid = sid[order]
    last = np.flatnonzero(np.r_[sid[1:] != sid[:-1], True]) if len(sid) else np.zeros(0, dtype=np.int64)
    stop = ends[last].tolist()
    start = [0, *stop[:-1]]
    return {k: whole[a:b] for k, a, b in zip(sid[last].tolist(), start, stop)}


def _joined_pieces(text: pd.Series, gap: np.ndarray, order: np.ndarray) -> tuple[str, np.ndarray]:
    """The texts ``text`` taken in ``order``, each after a space where ``gap``, as one string, and
    where each piece ends in it (Python code points, cumulative): for the pyarrow strings of a token
    table, the joined UTF-8 bytes of ``" " * gap + text`` as Arrow lays them out, decoded once
    (pandas' ``astype(str)``, a Python string per token and ``"".join`` cost about a tenth of the
    shard's partial index); for any other column or a missing text (``astype(str)``: ``"nan"``), as
    Python strings."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(text.dtype, pd.StringDtype) and text.dtype.storage == "pyarrow" and not text.isna().any():
        arr = pa.array(text.array)
        arr = (arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr).cast(pa.large_string())
        space = pc.if_else(pa.array(gap), pa.scalar(" ", pa.large_string()), pa.scalar("", pa.large_string()))
        pieces = pc.binary_join_element_wise(space, arr, pa.scalar("", pa.large_string())).take(pa.array(order))
        offsets = np.frombuffer(pieces.buffers()[1], dtype=np.int64)[pieces.offset:pieces.offset + len(pieces) + 1]
        data = pieces.buffers()[2]
        whole = data[int(offsets[0]):int(offsets[-1])].to_pybytes().decode("utf-8") if len(pieces) else ""
        ends = np.cumsum(pc.utf8_length(pieces).to_numpy(zero_copy_only=False).astype(np.int64))
        return whole, ends
    text = text.astype(str).to_numpy(dtype=object)[order]
    pieces = np.where(gap[order], " " + text, text).tolist()
    return "".join(pieces), np.cumsum(np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces)))


def _term_index(year: CountMatrix, extra_terms, max_terms: int | None, min_count: int, conf_level: float) -> dict:
    """The terms of :func:`term_payload` (column numbers in the year matrix and their strings), per
    term its counts per year and the rate and interval of every (year, count); ``max_terms`` None:
    every term with ``min_count`` occurrences or more."""
    from textdrift.themes import poisson_ci

    X = year.X.tocsc()
    total = np.asarray(X.sum(axis=0)).ravel()
    order = np.lexsort((np.arange(len(total)), -total))
    order = order[total[order] >= min_count]
    cols = (order if max_terms is None else order[:max_terms]).tolist()
    pos = pd.Index(year.vocab).get_indexer(list(extra_terms))
    cols = sorted(set(cols) | set(pos[pos >= 0].tolist()), key=lambda j: (-total[j], j))
    terms = pd.Index(year.vocab[cols])
    years = year.rows["year"].astype(int).tolist()
    ntok = year.rows["tokens"].to_numpy(dtype=float)
    sub = X[:, cols].tocsc()
    # per term its (year index, count) pairs, flat: year index, count, ...
    rows, counts = sub.indices.astype(np.int64), sub.data.astype(np.int64)
    flat = np.empty(2 * len(rows), dtype=np.int64)
    flat[0::2], flat[1::2] = rows, counts
    flat, ptr = flat.tolist(), (2 * sub.indptr).tolist()
    stats = [flat[ptr[j]:ptr[j + 1]] for j in range(len(cols))]
    seen = pd.DataFrame({"r": rows, "c": counts}).drop_duplicates().groupby("r")["c"]
    seen = {int(r): c.to_numpy() for r, c in seen}
    # rate and interval of every (year, count) that occurs, once: [count, per_10k, ci_low, ci_high]
    rates = []
    for r, n in enumerate(ntok):
        c = np.unique(np.r_[seen.get(r, np.zeros(0, dtype=np.int64)), 0]).astype(float)
        lo, hi = poisson_ci(c, conf_level)
        # _num(x, 4) of each rate, the arrays' elements computed as the scalars were
        rates.append([[int(k), *v] for k, *v in zip(c.tolist(), *(_floats(x * 1e4 / n, 4) for x in (c, lo, hi)))]
                     if n else [])
    return {"terms": terms, "years": years, "ntok": ntok, "stats": stats, "rates": rates,
            "vocabulary": int(len(year.vocab)), "occurrences": int(total.sum()), "min_count": int(min_count)}


def term_partial(frames, ngram_max: int, unspaced: bool) -> dict:
    """The partial term index of one language's whole documents (one token shard): every word and
    n-gram up to ``ngram_max`` tokens with every sentence it occurs in, whatever its count (which
    terms the page lists is decided on the whole corpus, :func:`term_index`), the sentences' texts,
    and the counts of English word forms.

    What a document adds to the index depends only on that document, so adding one document
    recomputes one shard's partial (in its rule ``count`` job) and the cheap merge (rule
    ``explorer_terms``), not every shard.

    Parameters
    ----------
    frames : iterable of DataFrame
        :func:`sentence_frame` of whole documents of one language, their sentences numbered in
        the shard (0, 1, ... in ``doc_id`` order, over all the frames).
    ngram_max : int
        Longest n-gram (config ``vectorize.ngram_max``: the year matrices count no longer one).
    unspaced : bool
        A language written without spaces (no word forms collected).

    Returns
    -------
    dict
        ``vocab`` (the term strings), ``occ`` (``term`` a position in ``vocab``, ``sid``, ``a``,
        ``b``: the span of the term's first occurrence in the sentence; sorted by term and
        sentence), ``sentences`` (``sid, doc_id, para, year, text``, by ``sid``) and ``forms``
        (``form, norm, count``: how often a lower-cased word form is counted as that lemma).
    """
    vocab, occs, sents, pairs = [], [], [], None
    for t in frames:
        if not len(t):
            continue
        strings, occ = _ngram_occurrences(t, ngram_max)
        vocab.append(strings)
        occs.append(occ)
        sid = t["sid"].to_numpy()
        # each sentence's first token (sentence numbers never decrease in text order)
        cols = t[["sid", "doc_id", "para", "year"]]
        head = cols.iloc[np.flatnonzero(np.r_[True, sid[1:] != sid[:-1]])] if (np.diff(sid) >= 0).all() \
            else cols.drop_duplicates("sid")
        sid = head["sid"].to_numpy()
        texts = _sentence_texts(t, sid)
        sents.append(pd.DataFrame({"sid": sid, "doc_id": head["doc_id"].to_numpy(), "para": head["para"].to_numpy(),
                                   "year": head["year"].to_numpy(), "text": [texts[x] for x in sid.tolist()]}))
        # search aids: a word form -> the lemma counted (English); the counts of (form, lemma) add up
        if not unspaced:
            words = t.loc[t["keep"].to_numpy(dtype=bool) & ~t["norm"].str.startswith(ENTITY_HEAD, na=False).to_numpy(),
                          ["text", "norm"]]  # (only the two columns copied)
            low = words["text"].str.lower()
            other = low.ne(words["norm"]).to_numpy()
            if other.any():
                one = pd.DataFrame({"form": low[other], "norm": words["norm"][other]}).groupby(["form", "norm"]).size()
                pairs = one if pairs is None else pd.concat([pairs, one]).groupby(level=[0, 1]).sum()
    if vocab:
        codes, strings = pd.factorize(np.concatenate(vocab), sort=False)
        starts = np.cumsum([0] + [len(v) for v in vocab[:-1]])
        occ = pd.concat([o.assign(term=codes[o["term"].to_numpy() + k]) for o, k in zip(occs, starts)],
                        ignore_index=True)
        occ = occ.take(key_order([occ["term"].to_numpy(), occ["sid"].to_numpy()])).reset_index(drop=True)
        sentences = pd.concat(sents, ignore_index=True).sort_values("sid", kind="stable").reset_index(drop=True)
    else:
        strings = np.zeros(0, dtype=object)
        occ = pd.DataFrame({c: np.zeros(0, dtype=np.int64) for c in ["term", "sid", "a", "b"]})
        sentences = pd.DataFrame({"sid": np.zeros(0, dtype=np.int64), "doc_id": pd.Series([], dtype=object),
                                  "para": np.zeros(0, dtype=np.int64), "year": np.zeros(0, dtype=np.int64),
                                  "text": pd.Series([], dtype=object)})
    forms = (pairs.rename("count").reset_index() if pairs is not None
             else pd.DataFrame({"form": pd.Series([], dtype=object), "norm": pd.Series([], dtype=object),
                                "count": np.zeros(0, dtype=np.int64)}))
    return {"vocab": np.asarray(strings, dtype=object), "occ": occ, "sentences": sentences, "forms": forms}


def _global_sids(sentences: pd.DataFrame, first_sid: pd.Series) -> np.ndarray:
    """Shard sentence number -> its number in the whole table (``first_sid``: doc_id -> the number
    of the document's first sentence, :func:`_first_sids`)."""
    local = sentences["sid"].to_numpy(dtype=np.int64)
    if not len(local):
        return local
    if not np.array_equal(local, np.arange(len(local))):
        raise ValueError("a partial term index must number its sentences 0, 1, ... (term_partial)")
    doc = sentences["doc_id"]
    start = pd.Series(local).groupby(doc.to_numpy()).transform("min").to_numpy()
    return first_sid.reindex(doc).to_numpy(dtype=np.int64) + local - start


class _Contexts:
    """The sentences of one language's terms, gathered one partial index (:func:`term_partial`,
    one token shard) at a time, its sentences numbered as in the whole table: per shard only the
    occurrences that can still be among the ones shown, the texts of their sentences and the counts
    of word forms are kept; :meth:`result` is what :func:`term_payload` computes from the whole
    table.

    The occurrences are held as numpy arrays (``term``, ``year``, ``sid``, ``a``, ``b``,
    ``rank``), and ranked and cut with a sort on their integer keys (a shard's occurrences of the
    listed terms, two million rows at 200 MB, were sorted and grouped as a DataFrame, and the
    phrases' (term, year) pairs looked up as strings)."""

    _COLUMNS = ("term", "year", "sid", "a", "b", "rank")

    def __init__(self, terms: pd.Index, n_sentences: int, per_cell: int, phrase_years, phrase_contexts: int,
                 seed: int, unspaced: bool):
        import pyarrow as pa

        self.terms, self.per_cell, self.phrase_contexts, self.unspaced = terms, per_cell, phrase_contexts, unspaced
        self.want = None  # the (term, year) pairs of the phrases shown, as term * span + (year - low)
        if phrase_years:
            pairs = [(k, y) for k, y in phrase_years if k in terms]
            term = terms.get_indexer([k for k, _ in pairs]).astype(np.int64)
            year = np.array([y for _, y in pairs], dtype=np.int64)
            self.low = int(year.min()) if len(year) else 0
            self.span = int(year.max()) - self.low + 1 if len(year) else 1
            self.want = np.unique(term * self.span + (year - self.low))
        self.rank = np.random.default_rng(seed).permutation(max(n_sentences, 1))
        self.occ = {c: np.zeros(0, dtype=np.int64) for c in self._COLUMNS}
        self.sids = np.zeros(0, dtype=np.int64)  # the sentences of the rows held, sorted
        self.lookup = pa.array(terms.to_numpy(dtype=object), type=pa.large_string())  # (:meth:`_codes`)
        self.texts, self.heads, self.pairs = {}, {}, None

    def _codes(self, vocab) -> np.ndarray:
        """The position of each string of a partial's ``vocab`` (an Arrow or an object array) among
        the terms, -1 for one not listed: ``terms.get_indexer(vocab)``, hashed by Arrow (about a
        third of the time on Python strings)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if not len(vocab):
            return np.zeros(0, dtype=np.int64)
        vocab = vocab.cast(pa.large_string()) if isinstance(vocab, (pa.Array, pa.ChunkedArray)) \
            else pa.array(vocab, type=pa.large_string())
        return pc.index_in(vocab, value_set=self.lookup).fill_null(-1).to_numpy().astype(np.int64)

    def _limit(self, term: np.ndarray, year: np.ndarray):
        """How many rows of each row's (term, year) are shown: ``per_cell``, or ``phrase_contexts``
        for a phrase shown when that is more (a number, or an array over the rows)."""
        if self.want is None or self.phrase_contexts <= self.per_cell:
            return self.per_cell
        y = year.astype(np.int64) - self.low
        ok = (y >= 0) & (y < self.span)
        key = term.astype(np.int64) * self.span + np.where(ok, y, 0)
        return np.where(ok & np.isin(key, self.want), self.phrase_contexts, self.per_cell)

    def _shown(self, occ: dict) -> dict:
        """Per term and year its first ``per_cell`` sentences in the ranking; per phrase shown,
        its first ``phrase_contexts`` in each of the two years of its step when that is more.
        The rows sorted by (term, year, rank), stably (equal keys keep their order)."""
        order = key_order([occ["term"], occ["year"], occ["rank"]])  # np.lexsort's order, on one 64-bit key
        occ = {c: v[order] for c, v in occ.items()}
        term, year = occ["term"], occ["year"]
        at = np.arange(len(term))
        new = np.r_[True, (term[1:] != term[:-1]) | (year[1:] != year[:-1])] if len(term) else at.astype(bool)
        n = at - np.maximum.accumulate(np.where(new, at, 0)) if len(term) else at  # rank in (term, year)
        first = n < self._limit(term, year)
        return {c: v[first] for c, v in occ.items()}

    def _contenders(self, occ: dict) -> np.ndarray:
        """Which rows of a new shard's occurrences can still be shown, before any sort: a row whose
        (term, year) already holds its :meth:`_limit` of rows (:meth:`_shown`, sorted by rank within
        the cell), all ranked before it, cannot (a sentence's rank is unique and a sentence is in
        one shard), so only the other rows go to the sort with the held ones."""
        held = self.occ
        term, year = held["term"], held["year"]
        starts = np.flatnonzero(np.r_[True, (term[1:] != term[:-1]) | (year[1:] != year[:-1])])
        count = np.diff(np.r_[starts, len(term)])
        full = count >= self._limit(term[starts], year[starts])
        last = held["rank"][starts + count - 1]  # the cell's highest rank shown (its last row)
        low = min(int(year.min()), int(occ["year"].min(initial=year.min())))
        span = max(int(year.max()), int(occ["year"].max(initial=year.max()))) - low + 1
        cells = term[starts].astype(np.int64) * span + (year[starts].astype(np.int64) - low)  # sorted
        key = occ["term"].astype(np.int64) * span + (occ["year"].astype(np.int64) - low)
        at = np.minimum(np.searchsorted(cells, key), len(cells) - 1)
        return (cells[at] != key) | ~full[at] | (occ["rank"] < last[at])

    def add(self, part: dict, sid: np.ndarray) -> None:
        """Gather from ``part``, the :func:`term_partial` of whole documents, whose sentence ``i``
        is sentence ``sid[i]`` of the whole table."""
        sent = part["sentences"]
        if not len(sent):
            return
        if len(self.terms):
            occ = part["occ"]
            term = self._codes(part["vocab"])
            term = term[occ["term"].to_numpy()]
            hit = term >= 0
            local = occ["sid"].to_numpy()[hit]
            occ = {"term": term[hit], "year": sent["year"].to_numpy()[local], "sid": sid[local],
                   "a": occ["a"].to_numpy()[hit], "b": occ["b"].to_numpy()[hit]}
            occ["rank"] = self.rank[occ["sid"]]
            before = self.sids  # the sentences whose texts are held (the keys of texts)
            if len(self.occ["term"]):  # the held rows and the shard's rows that can still displace them
                keep = self._contenders(occ)
                occ = {c: np.concatenate([self.occ[c], occ[c][keep]]) for c in self._COLUMNS}
            self.occ = self._shown(occ)
            held = np.zeros(len(self.rank), dtype=bool)  # np.unique of the sids, without sorting them
            held[self.occ["sid"]] = True
            self.sids = np.flatnonzero(held)
            fresh = np.setdiff1d(self.sids, before, assume_unique=True)  # (the shard's: no sentence is in two)
            # the texts of the sentences no longer shown dropped (the others stay: no dict rebuilt)
            for s in np.setdiff1d(before, self.sids, assume_unique=True).tolist():
                del self.texts[s], self.heads[s]
            rows = np.flatnonzero(np.isin(sid, fresh))
            glob = sid[rows].tolist()
            self.texts.update(zip(glob, sent["text"].take(rows).tolist()))
            self.heads.update(zip(glob, zip(sent["doc_id"].take(rows).tolist(), sent["para"].take(rows).tolist())))
        forms = part["forms"]
        if not self.unspaced and len(forms):
            pairs = forms.set_index(["form", "norm"])["count"]
            self.pairs = pairs if self.pairs is None else pd.concat([self.pairs, pairs]).groupby(level=[0, 1]).sum()

    def result(self, doc_index: dict[str, int], years: list[int]) -> tuple[list, list, dict]:
        """Per term its sentences, flat: ``sentence, start, length`` three numbers each (the year is
        the sentence's document's), in year order; the sentences ``[document, paragraph, text]``
        and the search's word forms."""
        occ = self.occ
        sids = self.sids
        sentences = [[doc_index[self.heads[s][0]], int(self.heads[s][1]), self.texts[s]] for s in sids.tolist()]
        ctx = [[] for _ in range(len(self.terms))]
        if len(occ["term"]):  # each term's rows in their order (term, year, rank): sentence, start, length
            term = occ["term"].astype(np.int64)
            order = np.argsort(term, kind="stable")
            a = occ["a"].astype(np.int64)[order]
            flat = np.column_stack([np.searchsorted(sids, occ["sid"].astype(np.int64)[order]), a,
                                    occ["b"].astype(np.int64)[order] - a]).ravel().tolist()
            term = term[order]
            starts = np.flatnonzero(np.r_[True, term[1:] != term[:-1]])
            for k, lo, hi in zip(term[starts].tolist(), starts.tolist(), [*starts[1:].tolist(), len(term)]):
                ctx[k] = flat[3 * lo:3 * hi]
        surface = {}
        if self.pairs is not None:
            pairs = self.pairs.sort_values(ascending=False, kind="stable").reset_index().drop_duplicates("form")
            surface = {f: n for f, n in zip(pairs["form"], pairs["norm"]) if n in self.terms}
        return ctx, sentences, surface


def _longest(terms: pd.Index) -> int:
    """The most words of a term in ``terms`` (1 when there are none): ``max(t.count(SEP) + 1)``,
    counted by pandas' string methods instead of a Python loop over the index."""
    if not len(terms):
        return 1
    return int(pd.Series(terms, dtype="str").str.count(SEP).max()) + 1


def _parts(tokens) -> list[pd.DataFrame]:
    """``tokens`` (one table or a list of parts each holding whole documents) as a list."""
    return [tokens] if isinstance(tokens, pd.DataFrame) else list(tokens)


def _payload(index: dict, contexts: _Contexts, lang: str, doc_index: dict[str, int], unspaced: bool,
             aliases: dict | None) -> dict:
    """The term index of one language from its :func:`_term_index` and its gathered sentences
    (``unspaced``: the page shows a term without the spaces between its tokens)."""
    terms = index["terms"]
    ctx, sentences, surface = contexts.result(doc_index, index["years"])
    return {"lang": lang, "years": index["years"], "tokens": [int(n) for n in index["ntok"]], "rates": index["rates"],
            "terms": terms.tolist(), "unspaced": bool(unspaced),
            "stats": index["stats"], "ctx": ctx, "sentences": sentences, "surface": surface,
            "aliases": {k: v for k, v in (aliases or {}).items() if v in terms},
            "vocabulary": index["vocabulary"], "occurrences": index["occurrences"], "min_count": index["min_count"]}


def term_payload(tokens, year: CountMatrix, lang: str, doc_index: dict[str, int],
                 settings: ExplorerSettings | None = None, extra_terms=(), phrase_years=(),
                 aliases: dict | None = None) -> dict:
    """The term index of one language: every term of the year matrix with at least
    ``min_term_count`` occurrences (the ``max_terms`` most frequent of them when that is set),
    plus ``extra_terms``; per term its count in each year (``stats``: year index, count, ...) and,
    per year and count, the rate per 10,000 kept tokens and its exact Poisson interval (``rates``,
    ``themes.poisson_ci``); per term and year up to ``term_contexts`` sentences, and for each
    ``(term, year)`` of ``phrase_years`` up to ``phrase_contexts`` (one random ranking of all
    sentences, seeded, so terms share them and the page stays small).

    ``tokens`` may be split into parts that each hold whole documents (the token shards): the
    sentences are numbered as in the whole table and each part is read on its own, so the result is
    the same as from the whole table.

    Parameters
    ----------
    tokens : DataFrame or list of DataFrame
        One language's token table, or its parts.
    year : CountMatrix
        The language's year matrix.
    lang : str
    doc_index : dict of str to int
        doc_id -> its number on the page.
    settings : ExplorerSettings, optional
        ``explorer`` block (``max_terms``, ``min_term_count``, ``term_contexts``,
        ``phrase_contexts``, ``seed``), ``conf_level`` and ``unspaced_languages``.
    extra_terms : sequence of str
    phrase_years : sequence of (term, year)
    aliases : dict, optional
        Name (lower-cased) -> ``@id``, the search box's entity lookup.

    Returns
    -------
    dict
        ``terms``, ``stats``, ``rates``, ``ctx`` (per term a flat list of ``sentence, start,
        length``, three numbers a sentence, in year order), ``sentences`` (``[document, paragraph, text]``), ``surface``, ``aliases``,
        ``unspaced``, ``vocabulary``, ``occurrences``, ``min_count``.

    References
    ----------
    Garwood, F. (1936). Fiducial limits for the Poisson distribution. Biometrika 28(3/4), 437-442.
    """
    s = settings or ExplorerSettings()
    index = _term_index(year, extra_terms, s.get("max_terms"), s.get("min_term_count"), s.conf_level)
    unspaced = lang in s.unspaced_languages
    ngram_max = _longest(index["terms"])
    partials = [term_partial([sentence_frame(p)], ngram_max, unspaced) for p in _parts(tokens)]
    first_sid, n = _first_sids([_doc_sentences(part["sentences"]) for part in partials])
    contexts = _Contexts(index["terms"], n, s.get("term_contexts"), phrase_years, s.get("phrase_contexts"),
                         s.get("seed"), unspaced)
    for part in partials:
        contexts.add(part, _global_sids(part["sentences"], first_sid))
    return _payload(index, contexts, lang, doc_index, unspaced, aliases)


def _doc_sentences(sentences: pd.DataFrame) -> pd.Series:
    """doc_id -> its number of sentences (a partial's ``sentences``, :func:`term_partial`)."""
    return sentences["doc_id"].value_counts(sort=False)


# ---- the page --------------------------------------------------------------------------------------


def _aliases(entities: list, lang: str) -> dict[str, str]:
    """{alias or label, lower-cased: "@id"} of one language (the search box's entity lookup)."""
    out = {}
    for e in entities:
        for name in [*e.aliases.get(lang, ()), e.labels.get(lang, "")]:
            if name:
                out[" ".join(name.lower().split())] = ENTITY_HEAD + e.id
    return out


def _token_files(paths) -> list:
    """The token files of ``paths`` (a file, a directory of shards or a list of files)."""
    if isinstance(paths, (str, Path)):
        return sorted(Path(paths).glob("*.parquet")) if Path(paths).is_dir() else [paths]
    return list(paths)


PARTIAL_PARTS = ("occ", "vocab", "sentences", "forms")


def shard_partials(token_path, languages: list[str], settings: ExplorerSettings | None = None) -> dict:
    """The partial term index (:func:`term_partial`) of every language of one token shard, its
    documents read in batches of about 400,000 tokens.

    Parameters
    ----------
    token_path : str, Path or TokenCodes
        One token shard (``data/processed/tokens/shard-{i}.parquet``), or the shard already read by
        :func:`textdrift.counting.read_tokens` with at least :data:`TERM_COLUMNS`.
    languages : list of str
    settings : ExplorerSettings, optional
        ``count_roles``, ``unspaced_languages`` and ``ngram_max`` (config ``vectorize.ngram_max``).

    Returns
    -------
    dict
        Language -> :func:`term_partial`.
    """
    st = settings or ExplorerSettings()
    # read as integer codes (no string decoded from the file: 0.4 s instead of 1 s at 10 MB), the
    # rows chosen and sorted on them, and only then the sorted rows' strings made, with the dtypes
    # of `load_tokens` (tests/test_explorer.py compares the partials with those from its frame)
    if isinstance(token_path, TokenCodes):  # its columns only (as read below)
        tokens = TokenCodes({c: token_path[c] for c in TERM_COLUMNS}, token_path.dicts)
    else:
        tokens = read_tokens(token_path, TERM_COLUMNS)
    # the counted paragraphs (:func:`textdrift.counting.counted`) selected in the batches' one copy
    chosen = tokens.isin("role", st.count_roles) if st.count_roles is not None else None
    tokens, spans = _batched_text_order(tokens, languages, chosen)
    out = {}
    for lang in languages:
        one = tokens.iloc[spans[lang][0][0]:spans[lang][-1][1]] if spans[lang] else tokens.iloc[:0]
        first, _ = _first_sids([_sentence_counts(one, ordered=True)])
        out[lang] = term_partial((sentence_frame(tokens.iloc[a:b], first, ordered=True) for a, b in spans[lang]),
                                 st.ngram_max, lang in st.unspaced_languages)
    return out


def _batched_text_order(tokens: TokenCodes, languages: list[str],
                        chosen: np.ndarray | None = None) -> tuple[pd.DataFrame, dict]:
    """The tokens of ``languages`` (and of ``chosen``, a boolean mask over the rows, when given) cut
    into batches of whole documents and sorted once, each batch a contiguous run of rows in text
    order (:func:`_text_order`), as a DataFrame of every column but ``role``; and per language the
    (start, stop) rows of its batches, in batch order.

    A language's documents, in their order of appearance, go to batches of about
    :data:`_BATCH_TOKENS` tokens (all in one when the language has no more). The rows and their
    order are those of selecting ``chosen``, filtering the language, cutting it into batches and
    sorting each batch (the sort is stable), with one copy of the table instead of four."""
    size = _BATCH_TOKENS
    lang = tokens["lang"]
    doc = tokens["doc_id"]  # codes sort as the doc_id strings
    rank = np.full(len(tokens), -1, dtype=np.int64)
    batch = np.zeros(len(tokens), dtype=np.int64)
    for k, name in enumerate(languages):
        code = tokens.codes_of("lang", [name])
        where = np.flatnonzero(lang == code[0]) if len(code) else np.zeros(0, np.int64)
        if chosen is not None:
            where = where[chosen[where]]
        rank[where] = k
        if len(where) > size:  # documents in order of appearance, about `size` tokens a batch
            codes = pd.factorize(doc[where])[0]
            n = np.bincount(codes)
            batch[where] = ((np.cumsum(n) - n) // size)[codes]
    rows = np.flatnonzero(rank >= 0)
    order = rows[key_order([rank[rows], batch[rows], doc[rows], tokens["para"][rows], tokens["idx"][rows]])]
    sorted_ = pd.DataFrame({c: tokens.labels(c, order) for c in tokens.columns if c != "role"})
    key = rank[order] * (int(batch.max(initial=0)) + 1) + batch[order]
    cut = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, np.int64)
    stops = [*cut[1:].tolist(), len(key)]
    spans = {name: [] for name in languages}
    for a, b in zip(cut.tolist(), stops):
        spans[languages[int(rank[order[a]])]].append((a, b))
    return sorted_, spans


def write_shard_partials(paths: Mapping, token_path, languages: list[str],
                         settings: ExplorerSettings | None = None) -> dict:
    """Rule ``count`` (:func:`run_shard`): :func:`shard_partials` of one token shard as four Parquet files,
    every language's rows in each (column ``lang``): ``occ`` (``term`` a position in that
    language's rows of ``vocab``, ``sid``, ``a``, ``b``), ``vocab`` (``term``), ``sentences`` and
    ``forms``.

    Parameters
    ----------
    paths : mapping
        Part (:data:`PARTIAL_PARTS`) -> the file written.
    token_path : str, Path or TokenCodes
        As :func:`shard_partials` takes it.
    languages : list of str
    settings : ExplorerSettings, optional

    Returns
    -------
    dict
        Part -> rows written.
    """
    from textdrift.io import write_parquet

    partials = shard_partials(token_path, languages, settings)
    rows = {}
    for part in PARTIAL_PARTS:
        frames = []
        for lang in languages:
            value = partials[lang][part]
            frame = pd.DataFrame({"term": value}) if part == "vocab" else value
            frames.append(frame.assign(lang=lang)[["lang", *frame.columns]])
        table = pd.concat(frames, ignore_index=True)
        for col in ("term", "sid", "a", "b") if part == "occ" else ("sid",) if part == "sentences" else ():
            table[col] = table[col].astype(np.int64)
        write_parquet(table, paths[part])
        rows[part] = len(table)
    return rows


def read_partials(paths: Mapping, languages: list[str]) -> dict:
    """The partial term indexes of one shard written by :func:`write_shard_partials`.

    Parameters
    ----------
    paths : mapping
        Part -> file.
    languages : list of str

    Returns
    -------
    dict
        Language -> :func:`term_partial` (empty for a language the files do not hold).
    """
    tables = _partial_tables(paths)
    out = {lang: _partial_of(_lang_rows(tables, lang)) for lang in languages}
    return {lang: {**part, "vocab": part["vocab"].to_numpy().astype(object)} for lang, part in out.items()}


def _partial_tables(paths: Mapping) -> dict:
    """The four files of one shard's partial index as Arrow tables (not yet pandas), ``lang``
    dictionary-encoded (a string per row cost about half of the read)."""
    import pyarrow.parquet as pq

    return {part: pq.read_table(paths[part], read_dictionary=["lang"]) for part in PARTIAL_PARTS}


def _lang_rows(tables: dict, lang: str) -> dict:
    """One language's rows of :func:`_partial_tables`, without the ``lang`` column (Arrow tables):
    a slice (no copy) when they are contiguous, as :func:`write_shard_partials` writes them."""
    import pyarrow as pa

    out = {}
    for part, t in tables.items():
        mask = np.concatenate([np.zeros(0, dtype=bool), *(_equals(chunk, lang) for chunk in t["lang"].chunks)])
        at = np.flatnonzero(mask)
        contiguous = not len(at) or at[-1] - at[0] + 1 == len(at)
        rows = t.slice(int(at[0]) if len(at) else 0, len(at)) if contiguous else t.filter(pa.array(mask))
        out[part] = rows.drop_columns(["lang"])
    return out


def _equals(chunk, value: str) -> np.ndarray:
    """Which values of an Arrow string array (dictionary-encoded or not) are ``value`` (a null is not)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_dictionary(chunk.type):
        return pc.equal(chunk, value).fill_null(False).to_numpy(zero_copy_only=False)
    at = pc.index(chunk.dictionary, value).as_py()  # -1: not in it
    return (chunk.indices.fill_null(-1).to_numpy(zero_copy_only=False) == at) & (at >= 0)


def _partial_of(rows: dict) -> dict:
    """One language's :func:`term_partial` from its :func:`_lang_rows`: only its rows converted
    to pandas, as ``pd.read_parquet`` converts them (so a shard's two languages are never both
    held as frames, nor a frame of every row); the vocabulary stays an Arrow array (looked up as
    one, :meth:`_Contexts._codes`)."""
    one = {part: t.to_pandas() for part, t in rows.items() if part != "vocab"}
    return {"vocab": rows["vocab"]["term"], "occ": one["occ"], "sentences": one["sentences"], "forms": one["forms"]}


def _shard_sentences(shard, languages: list[str], count_roles) -> dict:
    """Language -> doc_id -> number of sentences, of one shard: a token file or the files of its
    partial index."""
    if isinstance(shard, Mapping):
        sent = pd.read_parquet(shard["sentences"], columns=["lang", "doc_id"])
        return {lang: _doc_sentences(sent[sent["lang"] == lang]) for lang in languages}
    tokens = counted(load_tokens(shard, columns=_SENTENCE_COLUMNS), count_roles)
    return {lang: _sentence_counts(tokens[tokens["lang"] == lang]) for lang in languages}


def formulation_payload(table: pd.DataFrame) -> dict:
    """The new and vanished formulations (``new_formulations.csv``, rule ``formulations``) as the
    page shows them: per language, year and status (``new``, ``vanished``) the rows in rank order
    with their counts, paragraphs, documents, years, the text of the years compared and example
    sentence.

    Parameters
    ----------
    table : DataFrame
        ``new_formulations.csv`` (empty or None: nothing to show).

    Returns
    -------
    dict
        ``cols`` and ``rows`` (in the table's order: language, year, status, rank).
    """
    cols = ["lang", "year", "status", "rank", "formulation", "length", "count", "paragraphs", "documents", "years",
            "first_year", "last_year", "total", "compared_units", "nested_in", "example_doc", "example"]
    if table is None or not len(table):
        return {"cols": cols, "rows": []}
    cols = [c for c in cols if c in table.columns]
    t = table.sort_values(["lang", "year", "status", "rank"], kind="stable")
    return {"cols": cols, "rows": _rows(t, cols)}


def term_index(year_matrices: dict[str, str | Path], token_paths, phrase_changes: str | Path,
               documents: pd.DataFrame, entities: list, languages: list[str],
               settings: ExplorerSettings | None = None, memo=None) -> dict:
    """The part of the page that does not depend on the codebook (rule ``explorer_terms``): the
    phrase view (``phrase_changes.csv``, :func:`phrase_payload`, read in chunks) and the term index
    of every language (:func:`term_payload`, the token shards read one at a time), with the
    sentences of the phrases the phrase view shows.

    A codebook edit changes the theme tables but none of these inputs, so the index (the page's
    largest part and its slowest, a pass over every token) is not recomputed: the rule ``explorer``
    only assembles the page (:func:`page_payload`). With a ``memo`` and the partial indexes as
    files, a language whose inputs did not change (:func:`_memo_parts`) is taken from the memo as
    its JSON text, and a language computed is stored there (adding a document in one language
    recomputes only that language's index).

    Parameters
    ----------
    year_matrices : dict of str to str or Path
        Language -> ``year_{lang}.npz``.
    token_paths : list of str or Path
        Token shards, or each shard's partial index files (part -> file, :func:`write_shard_partials`).
    phrase_changes : str or Path
        ``phrase_changes.csv``.
    documents : DataFrame
        ``documents.csv`` (a document's number on the page is its row).
    entities : list of Entity
        The search box's entity aliases.
    languages : list of str
    settings : ExplorerSettings, optional
    memo : textdrift.langmemo.LanguageMemo, optional
        The per-language memo; None (or shards given as tables): every language computed.

    Returns
    -------
    dict
        ``phrases`` (:func:`phrase_payload`, without the steps' document lists, which
        :func:`page_payload` takes from ``tfidf_drift.csv``) and ``terms`` (language ->
        :func:`term_payload`; with a memo, its :class:`EncodedJson`).
    """
    from textdrift.langmemo import for_files, rows_digest

    st = settings or ExplorerSettings()
    s = st.block()
    count_roles, unspaced_languages = st.count_roles, st.unspaced_languages
    doc_index = {d: i for i, d in enumerate(documents["doc_id"])}
    phrases = _phrase_steps(*_read_phrases(phrase_changes, s["phrases_per_step"]), s["phrases_per_step"])
    years_of = {}
    for lang in languages:
        shown = [(r[0], st_) for st_ in phrases["steps"] if st_["lang"] == lang for r in st_["up"] + st_["down"]]
        years_of[lang] = {(k, st_[y]) for k, st_ in shown for y in ("year_from", "year_to")}
    aliases = {lang: _aliases(entities, lang) for lang in languages}
    # the sentences, one shard at a time: first their number in each document, then each shard's
    # partial index with its sentences numbered as in the whole table
    shards = [sh if isinstance(sh, Mapping) else Path(sh) for sh in _token_files(token_paths)]
    counts = {lang: [] for lang in languages}
    for shard in shards:
        for lang, c in _shard_sentences(shard, languages, count_roles).items():
            counts[lang].append(c)
    files = [*year_matrices.values(), *(f for sh in shards if isinstance(sh, Mapping) for f in sh.values())]
    memo = for_files(memo, files) if all(isinstance(sh, Mapping) for sh in shards) else None
    kept, keys, digests = {}, {}, {}
    if memo is not None:
        last = {}  # the shard last read: a shard whose digests are not kept is read once for every language

        def read(shard, lang):
            if last.get("shard") is not shard:
                last.update(shard=shard, tables=_partial_tables(shard))
            return _lang_rows(last["tables"], lang)

        for lang in languages:  # (none kept, a cold run: each computed as the shards are read below)
            digests[lang] = memo.shard_digests(shards, lang, read, plain=True) or [None] * len(shards)
        last.clear()
        for lang in languages:
            keys[lang] = _memo_parts(memo, year_matrices[lang], years_of[lang], counts[lang], doc_index, aliases[lang],
                                     lang, st)
            if all(digests[lang]):
                value = memo.get(memo.key(**keys[lang], partials=digests[lang]))
                if isinstance(value, bytes):
                    kept[lang] = EncodedJson(value)
    todo = [lang for lang in languages if lang not in kept]
    contexts, first, index = {}, {}, {}
    if todo:
        from textdrift.vectorize import load_matrix
    for lang in todo:
        index[lang] = _term_index(load_matrix(year_matrices[lang]), {k for k, _ in years_of[lang]}, s["max_terms"],
                                  s["min_term_count"], st.conf_level)
        first[lang], n = _first_sids(counts[lang])
        longest = _longest(index[lang]["terms"])
        if longest > st.ngram_max:
            raise ValueError(f"the {lang} year matrix has {longest}-grams but the partial term indexes stop at "
                             f"{st.ngram_max} (vectorize.ngram_max): rerun the workflow")
        contexts[lang] = _Contexts(index[lang]["terms"], n, s["term_contexts"], years_of[lang], s["phrase_contexts"],
                                   s["seed"], lang in unspaced_languages)
    for k, shard in enumerate(shards if todo else []):
        # a shard's files read once, each language's rows converted and gathered in turn
        tables = _partial_tables(shard) if isinstance(shard, Mapping) else shard_partials(shard, todo, st)
        for lang in todo:
            if isinstance(shard, Mapping):
                rows = _lang_rows(tables, lang)
                if memo is not None and digests[lang][k] is None:  # (a cold run: kept as the shards are read)
                    digests[lang][k] = rows_digest(rows, plain=True)
                    memo.keep_digest(shard, lang, digests[lang][k])
                part = _partial_of(rows)
                del rows
            else:
                part = tables[lang]
            contexts[lang].add(part, _global_sids(part["sentences"], first[lang]))
            del part
        del tables
        release_memory()  # the shard's freed arrays, else each next shard's peak comes on top of them
    terms = {}
    for lang in languages:
        if lang in kept:
            terms[lang] = kept.pop(lang)
            continue
        terms[lang] = _payload(index.pop(lang), contexts.pop(lang), lang, doc_index, lang in unspaced_languages,
                               aliases[lang])
        if memo is not None:  # its text, made once: for the memo and the file
            terms[lang] = EncodedJson(b"".join(piece.encode("utf-8") for piece in _json_pieces(terms[lang])))
            memo.put(memo.key(**keys[lang], partials=digests[lang]), bytes(terms[lang]))
    return {"phrases": phrases, "terms": terms}


def _memo_parts(memo, year_matrix, years_of: set, counts: list, doc_index: dict, aliases: dict, lang: str,
                settings: ExplorerSettings) -> dict:
    """What one language's term index depends on besides its rows of the partial indexes (their
    digests, :meth:`textdrift.langmemo.LanguageMemo.shard_digests`), for its memo key: the settings, the year matrix (its
    SHA-256: the terms listed, their counts, rates and intervals), the phrases shown (term, year:
    the extra terms and sentences), the page number of each of the language's documents, and the
    search's aliases."""
    docs = sorted({d for c in counts for d in c.index.tolist()})
    return {"what": "term index", "lang": lang, "settings": settings.block(), "conf_level": settings.conf_level,
            "unspaced": lang in settings.unspaced_languages, "ngram_max": settings.ngram_max,
            "year": memo.sha(year_matrix), "phrases": sorted([k, int(y)] for k, y in years_of),
            "docs": [[d, doc_index.get(d)] for d in docs], "aliases": aliases}


def write_term_index(paths: dict, year_matrices: dict[str, str | Path], token_paths, languages: list[str],
                     entities: list, settings: ExplorerSettings | None = None, memo=None) -> dict:
    """Rule ``explorer_terms``: :func:`term_index` written as two files, the phrase view as JSON
    (``paths["phrases"]``) and the term index as the gzip of its page text
    (``paths["terms"]``, :func:`pack_terms`), so that the page job neither parses nor compresses it.

    Parameters
    ----------
    paths : dict
        ``phrase_changes`` and ``documents`` (the tables read), ``phrases`` and ``terms`` (the
        files written).
    year_matrices, token_paths, languages, entities, settings, memo
        As in :func:`term_index`.

    Returns
    -------
    dict
        Part -> size in bytes (``terms``: compressed; ``terms_json``: its text).
    """
    index = term_index(year_matrices, token_paths, paths["phrase_changes"], read_csv(paths["documents"]), entities,
                       languages, settings, memo)
    n_text, n_packed = write_packed_json(index["terms"], paths["terms"])
    phrases = embed_json(index["phrases"])
    atomic_write_text(paths["phrases"], phrases)
    return {"phrases": len(phrases.encode("utf-8")), "terms_json": n_text, "terms": n_packed}


def pack_terms(text: bytes) -> bytes:
    """The term index as the page carries it: ``text`` (its JSON) compressed with gzip (level
    :data:`TERMS_LEVEL`, no timestamp or name in the header, so the same index gives the same
    bytes), which the page inflates with the browser's own ``DecompressionStream("gzip")`` (no
    network, works from ``file://``; Chromium 80, Firefox 113, Safari 16.4 and later).

    Parameters
    ----------
    text : bytes
        The UTF-8 JSON text of the term index.

    Returns
    -------
    bytes
    """
    import gzip

    return gzip.compress(text, compresslevel=TERMS_LEVEL, mtime=0)


def page_payload(tables: dict[str, str | Path], index: dict, codebook: list, languages: list[str],
                 settings: ExplorerSettings | None = None) -> dict:
    """Everything the page shows, from the result tables (``tables``: name -> CSV path) and the
    codebook-free part (:func:`term_index`; ``index["terms"]`` may be missing when the page carries
    it compressed, ``terms_gz``).

    Parameters
    ----------
    tables : dict of str to str or Path
        ``theme_frequencies, theme_kwic, tfidf_drift, tfidf_baseline, documents,
        crosslingual_alignment`` and, when the workflow made it, ``new_formulations``.
    index : dict
        ``phrases`` and, optionally, ``terms`` (:func:`term_index`).
    codebook : list of Theme
    languages : list of str
    settings : ExplorerSettings, optional

    Returns
    -------
    dict
        The page's data, JSON-serialisable.
    """
    st = settings or ExplorerSettings()
    s = st.block()
    large = ("theme_kwic", "phrase_changes")  # read in chunks (the phrases by term_index)
    read = {name: read_csv(path) for name, path in tables.items() if name not in large}
    docs = read["documents"]
    langs2 = list(st.crosslingual_langs or languages[:2])
    if "crosslingual_alignment" not in read:  # no bilingual document: the workflow makes no alignment table
        read["crosslingual_alignment"] = pd.DataFrame(columns=["doc_id", "pair", *(f"{lg}_{c}" for c in ("paras", "text")
                                                                                   for lg in langs2), "cost"])
    align, where = alignment_payload(read["crosslingual_alignment"], docs, langs2, set(), s["aligned_documents"])
    labels = {t.id: dict(t.labels) for t in codebook}
    shown, totals = _read_kwic(tables["theme_kwic"], s["contexts_per_cell"], s["seed"])
    themes, needed = _theme_cells(read["theme_frequencies"], shown, totals, labels, st.low_data_tokens, where)
    del shown
    align, _ = alignment_payload(read["crosslingual_alignment"], docs, langs2, needed, s["aligned_documents"])
    renumber = {old: new for new, old in enumerate(align.pop("ids"))}
    for cell in themes["cells"].values():
        for r in cell["rows"]:
            r[-1] = renumber.get(r[-1]) if r[-1] is not None else None
    phrases = index["phrases"]
    _step_documents(phrases["steps"], read["tfidf_drift"])
    drift, base = read["tfidf_drift"], read["tfidf_baseline"]
    return {
        "meta": {"languages": languages, "low_data_tokens": st.low_data_tokens, "conf_level": st.conf_level,
                 "q_threshold": st.q_threshold, "settings": s, "made_by": st.made_by,
                 "codebook": str(read["theme_frequencies"]["codebook"].iloc[0]) if len(read["theme_frequencies"])
                 else ""},
        "themes": themes, "phrases": phrases, **({"terms": index["terms"]} if "terms" in index else {}),
        "align": align,
        "formulations": formulation_payload(read.get("new_formulations")),
        "docs": {"cols": list(docs.columns), "rows": _rows(docs, list(docs.columns))},
        "drift": {"cols": list(drift.columns), "rows": _rows(drift, list(drift.columns))},
        "baseline": {"cols": list(base.columns), "rows": _rows(base, list(base.columns))},
    }


def build_payload(tables: dict[str, str | Path], year_matrices: dict[str, str | Path], token_paths,
                  codebook: list, entities: list, languages: list[str],
                  settings: ExplorerSettings | None = None) -> dict:
    """Everything the page shows, in one call: :func:`term_index` then :func:`page_payload` (what
    the rules ``explorer_terms`` and ``explorer`` compute in two jobs), the term index uncompressed.

    Parameters
    ----------
    tables : dict of str to str or Path
        ``theme_frequencies, theme_kwic, phrase_changes, tfidf_drift, tfidf_baseline, documents,
        crosslingual_alignment`` and, when the workflow made it, ``new_formulations``.
    year_matrices : dict of str to str or Path
        Language -> ``year_{lang}.npz``.
    token_paths : list of str or Path
    codebook : list of Theme
    entities : list of Entity
    languages : list of str
    settings : ExplorerSettings, optional

    Returns
    -------
    dict
        The page's data, JSON-serialisable.
    """
    index = term_index(year_matrices, token_paths, tables["phrase_changes"], read_csv(tables["documents"]), entities,
                       languages, settings)
    return page_payload(tables, index, codebook, languages, settings)


def render_html(payload: dict, assets: str | Path = ASSETS, title: str = "textdrift explorer") -> str:
    """The page: ``assets``' ``explorer.html`` template with its style, the vendored scripts, the
    page script and ``payload`` (:func:`embed_json`) inline.

    Parameters
    ----------
    payload : dict or str
        :func:`build_payload`'s output, or its :func:`embed_json` text.
    assets : str or Path
        Directory of the template and scripts.
    title : str

    Returns
    -------
    str
        The HTML page.
    """
    assets = Path(assets)
    page = (assets / "explorer.html").read_text(encoding="utf-8")
    vendor = "\n".join("<script>" + (assets / "vendor" / name).read_text(encoding="utf-8").replace(
        "</script", "<\\/script") + "</script>" for name in VENDOR)
    parts = {
        "{{title}}": html.escape(title),
        "{{style}}": (assets / "explorer.css").read_text(encoding="utf-8"),
        "{{payload}}": payload if isinstance(payload, str) else embed_json(payload),
        "{{vendor}}": vendor,
        "{{script}}": (assets / "explorer.js").read_text(encoding="utf-8"),
    }
    missing = [k for k in parts if k not in page]
    if missing:
        raise ValueError(f"explorer template without {missing}")
    # one pass over the template: a text inside the payload that looks like a placeholder stays text
    page = re.sub(r"\{\{\w+\}\}", lambda m: parts.get(m.group(0), m.group(0)), page)
    return page


def write_explorer(out_path: str | Path, tables: dict[str, str | Path], index: dict, languages: list[str],
                   files: dict, settings: ExplorerSettings | None = None) -> dict:
    """Rule ``explorer``: write ``results/explorer.html`` from the tables and the term index
    (:func:`page_payload`, :func:`render_html`); returns the sizes of the parts, for the log.

    Parameters
    ----------
    out_path : str or Path
    tables, languages, settings
        As in :func:`page_payload`.
    index : dict
        ``phrases`` and ``terms``, the files of :func:`write_term_index`: the term index goes into
        the page as it is, compressed (``terms_gz``, base64).
    files : dict
        ``codebook`` (required), ``schema`` (the codebook schema), ``entities`` and
        ``entities_schema`` (optional), ``assets`` (the page's directory; default :data:`ASSETS`).

    Returns
    -------
    dict
        Part -> size in bytes (``page``: the whole file).
    """
    import base64

    from textdrift.entities import load_entities
    from textdrift.themes import load_codebook

    entities = load_entities(files["entities"], files.get("entities_schema")) if files.get("entities") else []
    codebook = load_codebook(files["codebook"], files.get("schema"), entities)
    phrases = json.loads(Path(index["phrases"]).read_text(encoding="utf-8"))
    payload = page_payload(tables, {"phrases": phrases}, codebook, languages, settings)
    payload["terms_gz"] = base64.b64encode(Path(index["terms"]).read_bytes()).decode("ascii")
    # each part's JSON once, for the page and the log: JSON without spaces is its parts joined, and
    # the escapes replace single characters (:func:`_json_pieces`), so this is embed_json(payload)
    parts = {k: embed_json(v) for k, v in payload.items()}
    text = "{" + ",".join(embed_json(k) + ":" + v for k, v in parts.items()) + "}"
    page = render_html(text, files.get("assets") or ASSETS)
    atomic_write_text(out_path, page)
    sizes = {k: len(v.encode("utf-8")) for k, v in parts.items()}
    sizes["page"] = len(page.encode("utf-8"))
    return sizes


def _settings(params, made_by: str = "") -> ExplorerSettings:
    """The :class:`ExplorerSettings` of a rule's params (the keys a rule does not pass: defaults)."""
    get = params.get if hasattr(params, "get") else lambda k, d=None: getattr(params, k, d)
    return ExplorerSettings.from_config(
        {"explorer": get("settings") or {}, "count_roles": get("count_roles", _D["count_roles"]),
         "unspaced_languages": get("unspaced_languages", UNSPACED_LANGUAGES),
         "low_data_tokens": get("low_data_tokens", _D["low_data_tokens"]),
         "themes": {"conf_level": get("conf_level", _D["themes"]["conf_level"])},
         "phrases": {"q_threshold": get("q_threshold", _D["phrases"]["q_threshold"])},
         "crosslingual": {"langs": get("crosslingual_langs")},
         "vectorize": {"ngram_max": get("ngram_max", _D["vectorize"]["ngram_max"])}}, made_by=made_by)


def run_term_index(input, output, params, log, config=None) -> None:
    """Rule ``explorer_terms``: the explorer's phrase view and term index (:func:`write_term_index`).

    Parameters
    ----------
    input, output, params : Snakemake's named lists of the rule (``workflow/rules/explorer.smk``)
        Attribute access by the names the rule gives; any object with those attributes works.
    log : list of str
        The job's log file (first item).
    config : dict, optional
        The workflow's configuration: the per-language memo's settings (``language_memo``,
        :func:`textdrift.langmemo.memo_for`); None: no memo.
    """
    from textdrift.entities import load_entities
    from textdrift.io import log_to_file
    from textdrift.langmemo import memo_for

    logger = log_to_file(log[0])
    i, o, p = input, output, params
    entities = load_entities(*i.entities) if i.entities else []
    paths = {"phrase_changes": i.phrases, "documents": i.documents, "phrases": o.phrases, "terms": o.terms}
    # the partial indexes of the shards, each shard's files in PARTIAL_PARTS order
    n = len(PARTIAL_PARTS)
    shards = [dict(zip(PARTIAL_PARTS, list(i.partials)[k:k + n])) for k in range(0, len(i.partials), n)]
    memo = memo_for(config, "explorer_terms")
    sizes = write_term_index(paths, dict(zip(p.languages, i.year)), shards, p.languages, entities, _settings(p), memo)
    logger.info("term index: %s bytes", sizes)
    if memo is not None:
        logger.info(memo.finish())


def run_shard(input, output, params, log) -> None:
    """Rule ``count``: one token shard read once (:func:`textdrift.counting.read_tokens`), its count
    matrices and kept tokens per paragraph written (:func:`textdrift.vectorize.write_shard_counts`),
    then its partial term index (:func:`write_shard_partials`). One job instead of two saves a job's
    start-up, imports and read of the shard (docs/performance.md); the counts' matrices are freed
    before the partial index is made.

    Parameters
    ----------
    input, output, params : Snakemake's named lists of the rule (``workflow/rules/vectorize.smk``)
        Attribute access by the names the rule gives; any object with those attributes works.
    log : list of str
        The job's log file (first item).
    """
    from textdrift.io import log_to_file
    from textdrift.vectorize import COUNT_COLUMNS, write_shard_counts

    logger = log_to_file(log[0])
    tokens = read_tokens(input.tokens, list(dict.fromkeys([*COUNT_COLUMNS, *TERM_COLUMNS])))
    write_shard_counts(tokens, output, params)
    rows = write_shard_partials({part: getattr(output, part) for part in PARTIAL_PARTS}, tokens,
                                params.languages, _settings(params))
    logger.info("partial term index of %s: %s rows", input.tokens, rows)


def run_explorer(input, output, params, log) -> None:
    """Rule ``explorer``: ``results/explorer.html`` (:func:`write_explorer`).

    Parameters
    ----------
    input, output, params : Snakemake's named lists of the rule (``workflow/rules/explorer.smk``)
        Attribute access by the names the rule gives; any object with those attributes works.
    log : list of str
        The job's log file (first item).
    """
    from textdrift.io import log_to_file
    from textdrift.provenance import describe

    logger = log_to_file(log[0])
    i, p = input, params
    settings = _settings(p, made_by=describe(json.loads(Path(i.provenance).read_text(encoding="utf-8"))))
    files = {"codebook": i.codebook, "schema": i.schema, "entities": i.entities[0] if i.entities else None,
             "entities_schema": i.entities[1] if i.entities else None, "assets": Path(i.assets[0]).parent}
    sizes = write_explorer(output[0], {Path(t).stem: t for t in i.tables}, {"phrases": i.phrases, "terms": i.terms},
                           p.languages, files, settings)
    logger.info("explorer.html: %s bytes (payload parts: %s)", sizes.pop("page"), sizes)
