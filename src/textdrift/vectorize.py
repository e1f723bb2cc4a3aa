"""Count matrices over our own tokens: per year-document and per document, per language; the
token table comes from :mod:`textdrift.segment`, the matrices go to :mod:`textdrift.drift` and
:mod:`textdrift.phrases`.

Method
------
* Input: the token table (``data/processed/tokens/*.parquet``), ``keep`` tokens
  only, counted by ``norm``.
* Only the paragraphs whose ``role`` is in ``count_roles`` (default: body) are counted
  (:func:`counted`): titles, headings and paratext stay in the token table but not in
  the matrices.
* Phrases (n-grams, n = 1..``ngram_max``) are **contiguous**: an n-gram is counted only
  where its words stand next to each other in the sentence. A removed token (stop word,
  number, dropped date or list label) breaks a phrase as a punctuation mark or a sentence
  end does, the way quanteda pads removed tokens (``tokens_remove(padding = TRUE)`` then
  ``tokens_ngrams``): "community with a shared future" yields "shared future" but not
  the skip-gram "community shared future".
* A named entity (:mod:`textdrift.entities`) is one token, ``@<id>``: the tokens it
  absorbed are skipped (they neither count nor break a phrase), so "the GDI Digital
  Cooperation Forum was held" and "the forum was held" give "@gdi_forum hold"-style
  n-grams of the same length whatever alias was used.
* The words of an n-gram are joined with one space in both languages
  ("数字 经济" is the bigram of two tokens; "数字经济" is one token from the
  user dictionary), so the vocabulary is unambiguous.
* The n-gram lists are counted into a sparse matrix exactly as
  scikit-learn's ``CountVectorizer`` with an identity analyzer would (same
  counts, vocabulary sorted the same way), but on integer codes
  (:func:`count_matrix`), which is an order of magnitude faster and smaller on
  large corpora; no regex tokenizer is ever used (sklearn's default would drop
  one-character words, most Chinese single-character words among them).
* The unit of comparison is the **year-document**: all documents of one year
  and language concatenated. Per-document matrices are kept for notebooks.

Each matrix is saved as one ``.npz`` file holding the CSR arrays, the
vocabulary and the row labels; :func:`load_matrix` reads it back in one call.

About 850 lines, nearly half of them docstrings: counting, merging the shards' matrices, their
file format and the export for R share :class:`CountMatrix` and its sorted vocabulary (a merge
must reproduce a count exactly, tested).
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from textdrift.io import atomic_write_bytes
from textdrift.config import defaults
from textdrift.counting import (COUNT_ROLES, SEP, VARIANTS, TokenCodes, counted, key_order, load_tokens, read_tokens,
                                 unit_codes, variant_tokens)

_D = defaults()  # the configuration schema's defaults: every keyword default below that is a config setting

__all__ = ["MATRIX_COLUMNS", "SEP", "by_language", "count_matrix", "CountMatrix", "doc_matrix", "export_matrices",
           "load_matrix", "merge_matrices", "merge_shard_matrices", "para_matrix", "save_matrix",
           "write_shard_matrices", "count_partials", "count_codes", "count_shard", "SHARD_MATRICES", "write_partial_counts", "year_matrix", "year_matrix_of", "COUNT_COLUMNS",
           "write_shard_counts",
           "run_merge_counts", "run_export"]

log = logging.getLogger("textdrift.vectorize")

# Token columns that the count matrices are built from (the rest is not read by write_shard_matrices).
MATRIX_COLUMNS = ["doc_id", "year", "lang", "para", "sent", "idx", "norm", "is_punct", "keep", "role", "entity"]
# The columns rule ``count`` counts from (:func:`write_shard_counts`; names as words need lemma, is_stop).
COUNT_COLUMNS = [*MATRIX_COLUMNS, "lemma", "is_stop"]


@dataclass
class CountMatrix:
    """A sparse count matrix with its vocabulary and row labels.

    ``X[i, j]`` is how often term ``vocab[j]`` occurs in unit ``rows.iloc[i]``;
    ``rows`` has the unit columns plus ``tokens`` (kept unigram tokens of the unit).
    """

    X: sp.csr_matrix
    vocab: np.ndarray
    rows: pd.DataFrame

    @property
    def ngram_order(self) -> np.ndarray:
        """n of each vocabulary term (1 for unigrams)."""
        return np.char.count(self.vocab.astype(str), SEP) + 1 if len(self.vocab) else np.array([], int)

    def select(self, n: int | None = None) -> "CountMatrix":
        """The sub-matrix of n-grams of order ``n`` (all when None)."""
        if n is None:
            return self
        cols = np.flatnonzero(self.ngram_order == n)
        return CountMatrix(self.X[:, cols].tocsr(), self.vocab[cols], self.rows.copy())

    def take(self, rows) -> "CountMatrix":
        """The sub-matrix of ``rows`` (positions, or a boolean mask over the rows), rows renumbered."""
        rows = np.asarray(rows)
        idx = np.flatnonzero(rows) if rows.dtype == bool else rows.astype(np.int64)
        return CountMatrix(self.X[idx].tocsr(), self.vocab, self.rows.iloc[idx].reset_index(drop=True))

    def to_frame(self) -> pd.DataFrame:
        """Dense DataFrame (rows x terms); for small matrices and notebooks."""
        return pd.DataFrame(self.X.toarray(), columns=self.vocab, index=pd.MultiIndex.from_frame(self.rows))


def count_matrix(tokens: pd.DataFrame, by: list[str], ngram_max: int = _D["vectorize"]["ngram_max"]) -> CountMatrix:
    """Count n-grams (1..ngram_max) of ``keep`` tokens for each unit of ``by`` columns.

    The counts are those of ``CountVectorizer(analyzer=identity)`` over the
    contiguous n-grams of each unit (same matrix, vocabulary in the same sorted order),
    computed without building the n-gram strings of every occurrence:
    the kept tokens' norms are factorised to integers, an n-gram is the integer
    code of its (n-1)-gram prefix combined with its last word, and only the
    distinct n-grams become strings (joined with ``SEP``). Memory and time grow
    with the number of tokens, not with the number of n-gram strings.

    Parameters
    ----------
    tokens : DataFrame
        A token table (``doc_id, lang, para, idx, sent, is_punct, keep, norm`` and the ``by`` columns).
    by : list of str
        The unit columns (the ``rows`` of the result).
    ngram_max : int

    Returns
    -------
    CountMatrix
        Rows sorted by ``by``, with ``tokens`` (kept unigrams of the unit).

    References
    ----------
    scikit-learn, ``CountVectorizer``: https://scikit-learn.org/stable/modules/feature_extraction.html#text-feature-extraction
    quanteda, ``tokens_remove(padding = TRUE)`` + ``tokens_ngrams``: https://quanteda.io/reference/tokens_ngrams.html
    """
    cols = list(dict.fromkeys([*by, "doc_id", "lang", "para", "idx", "sent", "is_punct", "keep", "norm",
                               *(["entity"] if "entity" in tokens.columns else [])]))
    return count_codes(TokenCodes.from_frame(tokens[cols]), {"m": (list(by), ngram_max)})["m"]


def _empty(by: list[str]) -> CountMatrix:
    keys = pd.DataFrame(columns=by)
    return CountMatrix(sp.csr_matrix((0, 0), dtype=np.int64), np.array([], dtype=object), keys.assign(tokens=0))


def count_codes(tokens: TokenCodes, matrices: dict) -> dict:
    """:func:`count_matrix` on a token table as integer codes (:class:`textdrift.counting.TokenCodes`),
    for several unit columns at once: the n-grams of the kept tokens are found once and counted
    into each matrix; no string is built but the distinct terms.

    Parameters
    ----------
    tokens : TokenCodes
        ``doc_id, lang, para, idx, sent, keep, norm`` (``entity`` when names are marked) and the unit
        columns.
    matrices : dict of str to (list of str, int)
        Name -> (unit columns, ngram_max).

    Returns
    -------
    dict of str to CountMatrix
        Name -> the matrix (rows sorted by its unit columns, with ``tokens``).
    """
    keep_all = tokens["keep"].astype(bool) if len(tokens) else np.zeros(0, dtype=bool)
    if not keep_all.any():
        return {name: _empty(by) for name, (by, _) in matrices.items()}
    skip = tokens.absorbed()
    # an entity is one token: the tokens it absorbed are skipped, not gaps (sel: the other rows)
    sel = np.flatnonzero(~skip) if skip.any() else np.arange(len(tokens))
    # (doc_id, lang, para, idx) order, stable; codes sort as their strings
    order = sel[key_order([tokens[c][sel] for c in ["doc_id", "lang", "para", "idx"]])]
    keep = tokens["keep"][order].astype(bool)
    doc, lang, sent = tokens["doc_id"][order], tokens["lang"][order], tokens["sent"][order]
    new = np.ones(len(order), dtype=bool)  # counting.segments: a new segment at each sentence, after a removed token
    new[1:] = (doc[1:] != doc[:-1]) | (lang[1:] != lang[:-1]) | (sent[1:] != sent[:-1]) | ~keep[:-1]
    seg_all = np.cumsum(new)
    kept = tokens.take(order[keep], list(dict.fromkeys([c for by, _ in matrices.values() for c in by] + ["norm"])))
    out, grams = {}, {}
    for name, (by, ngram_max) in matrices.items():
        unit, first = unit_codes(kept, list(by))
        ok = unit >= 0
        seg, words = seg_all[keep], kept["norm"]
        if not ok.all():  # a unit key is missing (NaN): groupby leaves such tokens out
            seg, words, unit = seg[ok], words[ok], unit[ok]
        key = (ngram_max, bool(ok.all()))
        if key not in grams or not key[1]:
            grams[key] = _ngram_columns(words, kept.strings("norm"), seg, ngram_max)
        starts, cols_j, vocab = grams[key]
        rows_i = np.concatenate([unit[s] for s in starts])
        X = _summed(rows_i, cols_j, (len(first), len(vocab)))
        rows = pd.DataFrame({c: kept.labels(c, first) for c in by})
        rows["tokens"] = np.bincount(unit, minlength=len(first)).astype("int64")
        out[name] = CountMatrix(X, vocab, rows)
    return out


def _summed(rows_i: np.ndarray, cols_j: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    """The CSR matrix counting each (row, column) pair of ``rows_i``, ``cols_j``: the matrix that
    ``csr_matrix((ones, (rows_i, cols_j)))`` gives (summed duplicates, sorted column indices), made
    through CSC. Each column is one n-gram, and its occurrences come in token order, in which the
    units (documents, paragraphs) are numbered: the row indices of a CSC column are already sorted,
    which scipy checks in linear time instead of sorting every row's columns (0.35 s of a 10 MB
    shard's `count` job); the CSC-to-CSR conversion is a counting pass that leaves each row's
    columns sorted. Any other order is sorted by scipy: the same matrix either way."""
    X = sp.csc_matrix((np.ones(len(rows_i), dtype=np.int64), (rows_i, cols_j)), shape=shape, dtype=np.int64)
    return X.tocsr()


def _ngram_columns(codes: np.ndarray, strings: pa.Array, seg: np.ndarray, ngram_max: int):
    """The n-grams (n = 1..``ngram_max``) of a stream of kept tokens (``codes`` into ``strings``;
    ``seg``: segment of each, contiguous runs): for each n the start of every occurrence, the column
    of every occurrence (all n together) in the sorted vocabulary, and that vocabulary.

    An n-gram is the integer code of its (n-1)-gram prefix combined with its last word; only the
    distinct n-grams become strings (joined with ``SEP``), sorted in code point order (UTF-8 byte
    order = Python's ``sorted()``); a norm containing ``SEP`` that equals an n-gram is one term.
    """
    used = np.zeros(len(strings) + 1, dtype=bool)
    used[codes] = True
    used = used[:-1]
    dense = np.cumsum(used) - 1
    words = dense[codes].astype(np.int64)
    word_strings = strings.take(pa.array(np.flatnonzero(used)))
    n_words = max(len(word_strings), 1)
    start_parts, code_parts, strings_parts, offset = [], [], [], 0
    # prefix[i]: code of the (n-1)-gram starting at kept token i (valid where an n-gram starts)
    prefix, prefix_strings = words, word_strings
    for n in range(1, ngram_max + 1):
        if n == 1:
            starts, occ_codes, gram_strings = np.arange(len(words)), words, word_strings
        else:
            m = len(words) - n + 1
            if m <= 0:
                break
            starts = np.flatnonzero(seg[:m] == seg[n - 1 :])  # segments are contiguous runs
            occ_codes, distinct = pd.factorize(prefix[starts] * n_words + words[starts + n - 1], sort=False)
            occ_codes = occ_codes.astype(np.int64)
            gram_strings = pc.binary_join_element_wise(
                prefix_strings.take(pa.array(distinct // n_words)), word_strings.take(pa.array(distinct % n_words)), SEP
            )
            prefix = np.full(len(words), -1, dtype=np.int64)
            prefix[starts] = occ_codes
            prefix_strings = gram_strings
        start_parts.append(starts)
        code_parts.append(occ_codes + offset)
        strings_parts.append(gram_strings)
        offset += len(gram_strings)
    vocab_arrow = pa.chunked_array(strings_parts, type=pa.string()).combine_chunks()
    order = pc.sort_indices(vocab_arrow).to_numpy()  # UTF-8 byte order = code point order = Python's sorted()
    vocab = np.array(vocab_arrow.take(pa.array(order)).to_pylist(), dtype=object)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    cols_j = rank[np.concatenate(code_parts)]
    if len(vocab) > 1 and (vocab[1:] == vocab[:-1]).any():  # a norm containing SEP equals an n-gram: one term
        merged, vocab = pd.factorize(vocab, sort=False)  # vocab is sorted, so the codes keep its order
        cols_j = merged[cols_j]
    return start_parts, cols_j, vocab


def _lang_matrix(tokens: pd.DataFrame, lang: str, by: list[str], ngram_max: int) -> CountMatrix:
    """:func:`count_matrix` of one language's tokens, its rows labelled with ``lang`` first."""
    m = count_matrix(tokens[tokens["lang"] == lang], by, ngram_max)
    m.rows.insert(0, "lang", lang)
    return m


def year_matrix(tokens: pd.DataFrame, lang: str, ngram_max: int = _D["vectorize"]["ngram_max"]) -> CountMatrix:
    """Year-document matrix of one language: rows are years (all documents of the year pooled).

    Parameters
    ----------
    tokens : DataFrame
    lang : str
    ngram_max : int

    Returns
    -------
    CountMatrix
    """
    return _lang_matrix(tokens, lang, ["year"], ngram_max)


def doc_matrix(tokens: pd.DataFrame, lang: str, ngram_max: int = _D["vectorize"]["ngram_max"]) -> CountMatrix:
    """Per-document matrix of one language: rows are (doc_id, year).

    Parameters
    ----------
    tokens : DataFrame
    lang : str
    ngram_max : int

    Returns
    -------
    CountMatrix
    """
    return _lang_matrix(tokens, lang, ["doc_id", "year"], ngram_max)


def save_matrix(m: CountMatrix, path: str | Path) -> None:
    """Write a CountMatrix to one compressed .npz file (atomically).

    The archive is what ``numpy.savez_compressed`` writes, but deflated at level 1 (numpy uses
    zlib's default, 6): about 3x faster to write for files ~15% larger; ``numpy.load`` reads both.
    Its members carry a fixed time stamp (1980-01-01, zip's first date) instead of the time of
    writing, so the file's bytes are a function of the matrix alone: the per-language memo of the
    `phrases` job keys a language's rows by the SHA-256 of its matrix files (:mod:`textdrift.langmemo`).

    Parameters
    ----------
    m : CountMatrix
    path : str or Path
    """
    X = m.X.tocsr()
    arrays = {
        "data": X.data, "indices": X.indices, "indptr": X.indptr, "shape": np.array(X.shape),
        "vocab": np.array(json.dumps(list(map(str, m.vocab)), ensure_ascii=False)),
        "rows": np.array(_rows_json(m.rows)),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, arr in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16  # as zipfile gives a member opened by name
            try:  # the member's deflate level (its attribute's name since Python 3.13, and before)
                info.compress_level = 1
            except AttributeError:
                info._compresslevel = 1
            with zf.open(info, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.asanyarray(arr), allow_pickle=False)
    atomic_write_bytes(path, buf.getvalue())


def _rows_json(rows: pd.DataFrame) -> str:
    """``rows.to_json(orient="split", index=False, force_ascii=False)``, the same text: pandas builds
    ``{"columns": ..., "data": ...}`` row by row (``DataFrame.to_dict``, a Python tuple and list per
    row: 0.2 s of a 50 MB corpus's shard) and encodes it with its own encoder; here the lists are
    made column by column (``Series.tolist``: the Python ints, floats, strings and NaN that the
    row iteration gives) and given to that encoder (pandas' private ``ujson_dumps``, of the pinned
    pandas; ``tests/test_counting.py`` compares the texts) with ``to_json``'s arguments. Columns of
    any other kind than numbers and strings, or repeated column names: ``to_json`` itself."""
    from pandas.io.json._json import ujson_dumps

    cols = list(rows.columns)
    if len(set(cols)) != len(cols) or not all(
            isinstance(d, np.dtype) and d.kind in "iuf" or isinstance(d, pd.StringDtype) for d in rows.dtypes):
        return rows.to_json(orient="split", index=False, force_ascii=False)
    data = [list(r) for r in zip(*(rows[c].tolist() for c in cols))] if len(cols) else [[] for _ in range(len(rows))]
    return ujson_dumps({"columns": cols, "data": data}, orient="split", double_precision=10, ensure_ascii=False,
                       date_unit="ms", iso_dates=False, default_handler=None, indent=0)


def _rows_of(z) -> pd.DataFrame:
    """The row labels of an open matrix file (:func:`save_matrix`'s ``rows``), without its counts."""
    return pd.read_json(io.StringIO(str(z["rows"])), orient="split")


def load_matrix(path: str | Path) -> CountMatrix:
    """Read a CountMatrix written by :func:`save_matrix` (e.g. ``data/processed/vectors/year_en.npz``).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    CountMatrix
    """
    with np.load(path, allow_pickle=False) as z:
        X = sp.csr_matrix((z["data"], z["indices"], z["indptr"]), shape=tuple(z["shape"]))
        vocab = np.array(json.loads(str(z["vocab"])), dtype=object)
        rows = _rows_of(z)
    return CountMatrix(X, vocab, rows)


def merge_matrices(parts: list[CountMatrix], by: list[str]) -> CountMatrix:
    """One matrix from several with different vocabularies (e.g. one per shard), rows summed by ``by``.

    The vocabulary is the union of the parts' vocabularies, sorted as :func:`count_matrix`
    sorts it (code point order); a row of the result is the sum of the parts' rows with the
    same ``by`` key (and ``lang``, when the rows have that column), in sorted key order, and
    its ``tokens`` the sum of theirs. So the merged per-shard document matrices equal
    :func:`doc_matrix` of the whole token table, and merged with ``by=["year"]`` they equal
    :func:`year_matrix` (counts are additive: a segment, hence an n-gram, never spans two
    documents). Only the parts' distinct terms become Arrow strings; no token is re-read.

    Parameters
    ----------
    parts : list of CountMatrix
    by : list of str
        Row columns of the merged rows.

    Returns
    -------
    CountMatrix
    """
    parts = [p for p in parts if p.X.shape[0]]
    if not parts:
        return CountMatrix(sp.csr_matrix((0, 0), dtype=np.int64), np.array([], dtype=object),
                           pd.DataFrame(columns=["lang", *by, "tokens"]))
    union, columns = _vocabulary_union([p.vocab for p in parts])
    blocks = []
    for p, cols in zip(parts, columns):
        coo = p.X.tocoo()
        blocks.append(sp.csr_matrix((coo.data.astype(np.int64), (coo.row, cols[coo.col])),
                                    shape=(p.X.shape[0], len(union))))
    stacked = sp.vstack(blocks, format="csr")
    rows = pd.concat([p.rows for p in parts], ignore_index=True)
    keys = [c for c in ("lang",) if c in rows.columns and c not in by] + list(by)
    grouped = rows.groupby(keys, sort=True)
    group = grouped.ngroup().to_numpy()
    S = sp.csr_matrix((np.ones(len(rows), dtype=np.int64), (group, np.arange(len(rows)))),
                      shape=(grouped.ngroups, len(rows)))
    X = (S @ stacked).tocsr()
    X.sort_indices()
    merged = grouped["tokens"].sum().reset_index()
    merged["tokens"] = merged["tokens"].astype("int64")
    return CountMatrix(X, union, merged)


def _vocabulary_union(vocabs: list) -> tuple[np.ndarray, list[np.ndarray]]:
    """The sorted union of several vocabularies (code point order: UTF-8 byte order) and, per
    vocabulary, each term's position in it.

    One hash pass over every term (Arrow's ``dictionary_encode`` of the vocabularies as one chunked
    array: every chunk is encoded against one growing dictionary, the distinct terms in order of
    first appearance), one sort of the distinct terms, and each term's position is the rank of its
    dictionary entry; the union is made of the parts' own string objects (one occurrence of each
    term), not decoded from Arrow again. The same as ``pc.unique`` + ``pc.sort_indices`` and a
    ``pc.index_in`` per vocabulary (each ``index_in`` built a hash table of the whole union again:
    two thirds of a merge of five 50 MB shards' document matrices), which is still the way when a
    vocabulary has a missing term (:func:`save_matrix` never writes one). A single vocabulary
    already sorted and distinct (a merged matrix summed by year) is its own union.
    """
    objs = [np.asarray(v, dtype=object) for v in vocabs]
    if len(objs) == 1 and len(objs[0]) > 1 and bool((objs[0][:-1] < objs[0][1:]).all()):
        return objs[0].copy(), [np.arange(len(objs[0]), dtype=np.int64)]  # sorted and distinct: itself
    chunks = [pa.array(v, type=pa.string()) for v in objs]
    full = [c for c in chunks if len(c)]
    if not full:
        return np.zeros(0, dtype=object), [np.zeros(0, dtype=np.int64) for _ in objs]
    pieces = (pc.dictionary_encode(pa.chunked_array(full, type=pa.string())).chunks
              if not any(c.null_count for c in full) else [])
    if len(pieces) != len(full) or any(len(c.dictionary) != len(pieces[-1].dictionary) for c in pieces):
        # not one dictionary for every vocabulary (or a missing term): a lookup per vocabulary
        union = pc.unique(pa.chunked_array(chunks, type=pa.string()))
        union = union.take(pc.sort_indices(union))  # UTF-8 byte order = code point order
        return (np.array(union.to_pylist(), dtype=object),
                [pc.index_in(c, value_set=union).to_numpy(zero_copy_only=False).astype(np.int64) for c in chunks])
    order = pc.sort_indices(pieces[-1].dictionary).to_numpy().astype(np.int64)  # UTF-8 byte order = code points'
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    codes = [c.indices.to_numpy().astype(np.int64) for c in pieces]
    at = iter(codes)
    columns = [rank[next(at)] if len(c) else np.zeros(0, dtype=np.int64) for c in chunks]
    # a position of each distinct term in the vocabularies put end to end (any one: the strings are equal)
    where = np.empty(len(order), dtype=np.int64)
    where[np.concatenate(codes)] = np.arange(sum(len(c) for c in codes), dtype=np.int64)
    return np.concatenate([v for v in objs if len(v)])[where[order]], columns


def year_matrix_of(docs: CountMatrix, doc_ids) -> CountMatrix:
    """The year matrix (rows summed by year, :func:`merge_matrices`) of the documents ``doc_ids``
    of a per-document matrix (``doc_{lang}.npz``); no row when none of them has text.

    Parameters
    ----------
    docs : CountMatrix
        A per-document matrix (rows doc_id, year).
    doc_ids : iterable of str

    Returns
    -------
    CountMatrix
    """
    ids = {str(d) for d in doc_ids}
    return merge_matrices([docs.take(docs.rows["doc_id"].astype(str).isin(ids).to_numpy(dtype=bool))], ["year"])


def para_matrix(tokens: pd.DataFrame, lang: str) -> CountMatrix:
    """Per-paragraph unigram matrix of one language: rows are (year, doc_id, para); drift's baseline.

    Parameters
    ----------
    tokens : DataFrame
    lang : str

    Returns
    -------
    CountMatrix
    """
    return _lang_matrix(tokens, lang, ["year", "doc_id", "para"], 1)


def write_shard_matrices(token_path: str | Path, doc_paths: dict[str, str | Path], para_paths: dict[str, str | Path],
                         ngram_max: int, count_roles=COUNT_ROLES, tokens: pd.DataFrame | None = None) -> None:
    """The `count` rule, one token shard: ``doc_{lang}`` (n-grams 1..ngram_max per document) and
    ``para_{lang}`` (unigrams per paragraph) for every language in ``doc_paths``, of the
    paragraphs whose role is in ``count_roles``.

    Parameters
    ----------
    token_path : str or Path
        The token shard.
    doc_paths, para_paths : dict of str to str or Path
        Language -> output ``.npz`` file.
    ngram_max : int
    count_roles : sequence of str
    tokens : DataFrame, optional
        The shard's tokens, already read (``token_path`` is then not read).
    """
    tokens = read_tokens(token_path, MATRIX_COLUMNS) if tokens is None else tokens
    mats = count_shard(tokens, list(doc_paths), ngram_max, count_roles, {"base": ["doc", "para"]})
    for lang in doc_paths:
        save_matrix(mats[("doc", "base", lang)], doc_paths[lang])
        save_matrix(mats[("para", "base", lang)], para_paths[lang])


#: the matrices :func:`count_shard` counts: kind -> (unit columns, whether n-grams or unigrams only)
SHARD_MATRICES = {"doc": (["doc_id", "year"], True), "para": (["year", "doc_id", "para"], False),
                  "para_ngrams": (["year", "doc_id", "para"], True)}


def count_shard(tokens, languages, ngram_max: int = _D["vectorize"]["ngram_max"], count_roles=COUNT_ROLES,
                wanted: dict | None = None) -> dict:
    """Every count matrix of one token shard in one pass over its codes: for each variant
    (:data:`textdrift.counting.VARIANTS`, a mask over the same arrays) and language, the matrices
    of ``wanted`` (:data:`SHARD_MATRICES`: ``doc``, n-grams per document, :func:`doc_matrix`;
    ``para``, unigrams per paragraph, :func:`para_matrix`; ``para_ngrams``, n-grams per paragraph),
    each the same as :func:`count_matrix` of the variant's tokens (:func:`textdrift.counting.variant_tokens`)
    of that language, its rows labelled with ``lang`` first. The n-grams of one variant and language
    are found once for all its matrices (:func:`count_codes`).

    Parameters
    ----------
    tokens : TokenCodes or DataFrame
        The shard's tokens (every role; ``lemma`` and ``is_stop`` for ``entities``).
    languages : sequence of str
    ngram_max : int
    count_roles : sequence of str
    wanted : dict of str to list of str, optional
        Variant -> matrix kinds (default: every kind of ``base``).

    Returns
    -------
    dict of (str, str, str) to CountMatrix
        (kind, variant, lang) -> the matrix.
    """
    tokens = tokens if isinstance(tokens, TokenCodes) else TokenCodes.from_frame(tokens)
    wanted = wanted or {"base": list(SHARD_MATRICES)}
    out = {}
    for name, kinds in wanted.items():
        for lang in languages:
            one = tokens.variant(name, count_roles, within=tokens.isin("lang", [lang]))
            mats = count_codes(one, {k: (SHARD_MATRICES[k][0], ngram_max if SHARD_MATRICES[k][1] else 1)
                                     for k in kinds})
            for kind, m in mats.items():
                m.rows.insert(0, "lang", lang)
                out[(kind, name, lang)] = m
    return out


def count_partials(tokens: pd.DataFrame, languages, ngram_max: int = _D["vectorize"]["ngram_max"],
                   count_roles=COUNT_ROLES, variants=VARIANTS) -> tuple[dict, dict]:
    """The codebook-independent partial results of the checks for one token shard (or a whole
    token table): per variant and language, the n-gram counts per document
    (:func:`textdrift.vectorize.doc_matrix`: the phrase checks' counts, and by their unigram
    columns the drift checks'); per language, the ``base`` n-gram counts per paragraph (rows year,
    doc_id, para: the phrase interval resamples them).

    Documents and paragraphs lie in one shard, so the shards' matrices merged
    (:func:`textdrift.vectorize.merge_matrices`) are those of the whole token table.

    Parameters
    ----------
    tokens : DataFrame or TokenCodes
        A token table (every role, entities marked; ``lemma`` and ``is_stop`` for ``entities``).
    languages : sequence of str
    ngram_max : int
    count_roles : sequence of str
    variants : sequence of str
        The variants whose document matrices are counted.

    Returns
    -------
    (dict, dict)
        ``{(variant, lang): CountMatrix}`` and ``{lang: CountMatrix}``.
    """
    wanted = {name: ["doc"] for name in variants}
    wanted.setdefault("base", []).append("para_ngrams")
    mats = count_shard(tokens, languages, ngram_max, count_roles, wanted)
    docs = {(name, lang): mats[("doc", name, lang)] for name in variants for lang in languages}
    paras = {}
    for lang in languages:
        paras[lang] = mats[("para_ngrams", "base", lang)]
        paras[lang].rows.pop("lang")  # (count_matrix's rows: no lang)
    return docs, paras


def write_partial_counts(token_path, doc_paths: dict, para_paths: dict, languages,
                         ngram_max: int = _D["vectorize"]["ngram_max"], count_roles=COUNT_ROLES,
                         tokens: pd.DataFrame | None = None) -> None:
    """Part of the `count` rule: the check variants' n-gram counts per document and the ``base``
    n-gram counts per paragraph of one token shard (:func:`count_partials`).

    Parameters
    ----------
    token_path : str or Path
        The token shard (not read when ``tokens`` is given).
    doc_paths : dict of (str, str) to str or Path
        (variant, language) -> output ``.npz``.
    para_paths : dict of str to str or Path
        Language -> output ``.npz``.
    languages : sequence of str
    ngram_max : int
    count_roles : sequence of str
    tokens : DataFrame, optional
        The shard's tokens, already read (every role; ``lemma`` and ``is_stop`` included).
    """
    if tokens is None:
        tokens = read_tokens(token_path, [*MATRIX_COLUMNS, "lemma", "is_stop"])
    variants = list(dict.fromkeys(name for name, _ in doc_paths))
    docs, paras = count_partials(tokens, languages, ngram_max, count_roles, variants)
    for key, path in doc_paths.items():
        save_matrix(docs[key], path)
    for lang, path in para_paths.items():
        save_matrix(paras[lang], path)


def by_language(matrices: list[CountMatrix], languages) -> dict[str, list[CountMatrix]]:
    """The non-empty matrices of each language (by the ``lang`` of their rows), e.g. shard files in any order.

    Parameters
    ----------
    matrices : list of CountMatrix
    languages : sequence of str

    Returns
    -------
    dict of str to list of CountMatrix
        One entry per language of ``languages``.
    """
    out: dict[str, list[CountMatrix]] = {lang: [] for lang in languages}
    for m in matrices:
        if len(m.rows) and m.rows["lang"].iat[0] in out:
            out[m.rows["lang"].iat[0]].append(m)
    return out


def merge_shard_matrices(doc_shards: list[str | Path], year_paths: dict[str, str | Path],
                         doc_paths: dict[str, str | Path], memo=None) -> None:
    """The `vectorize` rule: per language (the keys of the path dicts), the shards' document
    matrices merged into ``doc_{lang}.npz`` and summed by year into ``year_{lang}.npz``
    (:func:`merge_matrices`).

    With ``memo`` a language's two files are written from the memo when its shard files (those
    named ``doc_{lang}-*``, :func:`textdrift.langmemo.file_languages`, by their SHA-256 in the
    given order) and the code are those of a kept entry, and only the other languages' shards are
    read: after a document is added in one language, the other's merge is not redone.

    Parameters
    ----------
    doc_shards : list of str or Path
        The `count` rule's ``doc_{lang}-{shard}.npz`` files, in any order.
    year_paths, doc_paths : dict of str to str or Path
        Language -> ``year_{lang}.npz``, ``doc_{lang}.npz``.
    memo : textdrift.langmemo.LanguageMemo, optional
        The job's per-language memo (:func:`textdrift.langmemo.memo_for`); None: no memo.
    """
    from textdrift.langmemo import file_languages

    langs = list(year_paths)
    keys = {lang: memo.key(lang=lang, docs=[memo.sha(p) for p in doc_shards if lang in file_languages(p, "doc", langs)])
            for lang in langs} if memo is not None else {}
    todo = [lang for lang in langs if memo is None or not memo.restore(keys[lang], [doc_paths[lang], year_paths[lang]])]
    for lang in langs:
        if lang not in todo:
            log.info("%s: doc and year matrices kept in the memo (its shard matrices and the code unchanged)", lang)
    parts = by_language([load_matrix(p) for p in doc_shards if set(todo) & set(file_languages(p, "doc", langs))], todo)
    for lang, mats in parts.items():
        docs = merge_matrices(mats, ["doc_id", "year"])
        save_matrix(docs, doc_paths[lang])
        save_matrix(merge_matrices([docs], ["year"]), year_paths[lang])
        if memo is not None:
            memo.keep(keys[lang], [doc_paths[lang], year_paths[lang]])
    if memo is not None:
        log.info(memo.finish())


def export_matrices(doc_paths: dict[str, str | Path], documents: str | Path, out: dict[str, dict[str, str | Path]],
                    memo=None) -> None:
    """Rule ``export``: each language's document x term counts for R and Python users.

    ``doc_paths``: {lang: doc_{lang}.npz}; ``documents``: ``documents.csv`` (its metadata become
    the document variables); ``out[lang]`` maps ``mtx``, ``features``, ``docvars``, ``parquet`` to
    paths:

    * ``dfm_{lang}.mtx``: the unigram counts (documents x features, Matrix Market coordinate
      format, integers), read by R's ``Matrix::readMM`` and Python's ``scipy.io.mmread``;
    * ``dfm_{lang}_features.csv``: ``feature`` (column order of the matrix; ``@id`` = a named entity);
    * ``dfm_{lang}_docvars.csv``: one row per matrix row: ``doc_id, year, tokens`` (kept unigram
      tokens) and the document's metadata from ``documents.csv``;
    * ``counts_{lang}.parquet``: every n-gram count, long: ``doc_id, year, feature, n, count``.

    With ``memo`` a language's four files are written from the memo when its ``doc_{lang}.npz``
    (its SHA-256), the metadata columns and rows the document variables take (``documents.csv``'s
    rows of the matrix's documents: their values and the columns' names and types,
    :func:`textdrift.memo.frame_bytes`) and the code are those of a kept entry.

    Parameters
    ----------
    doc_paths : dict of str to str or Path
    documents : str or Path
    out : dict of str to dict of str to str or Path
    memo : textdrift.langmemo.LanguageMemo, optional
        The job's per-language memo (:func:`textdrift.langmemo.memo_for`); None: no memo.
    """
    import hashlib

    import scipy.io

    from textdrift.io import atomic_writer, read_csv, write_csv, write_parquet
    from textdrift.memo import frame_bytes

    meta = read_csv(documents)
    keep = [c for c in meta.columns if c not in ("year", "file", "sha256") and not c.startswith("tokens")]
    for lang, path in doc_paths.items():
        files = list(out[lang].values())
        if memo is not None:
            with np.load(path, allow_pickle=False) as z:  # the row labels only (the documents)
                ids = set(_rows_of(z)["doc_id"].astype(str))
            own = meta.loc[meta["doc_id"].astype(str).isin(ids), keep].reset_index(drop=True)
            key = memo.key(lang=lang, doc=memo.sha(path), meta=hashlib.blake2b(frame_bytes(own)).hexdigest())
            if memo.restore(key, files):
                log.info("%s: the exported files kept in the memo (its document matrix, its documents' "
                         "metadata and the code unchanged)", lang)
                continue
        m = load_matrix(path)
        # the terms as one Arrow array: their n (CountMatrix.ngram_order: SEP counted) and the long
        # table's columns are taken from it, not built as a Python string per count
        terms = pa.array(np.asarray(m.vocab, dtype=object), type=pa.string())
        n = pc.count_substring(terms, SEP).to_numpy(zero_copy_only=False).astype(np.int64) + 1
        cols = np.flatnonzero(n == 1)
        uni = CountMatrix(m.X[:, cols].tocsr(), m.vocab[cols], m.rows.copy())  # m.select(1)
        rows = m.rows[["doc_id", "year", "tokens"]].reset_index(drop=True)
        with atomic_writer(out[lang]["mtx"]) as fh:
            scipy.io.mmwrite(fh, uni.X.astype(np.int64).tocoo(), field="integer",
                             comment=f"textdrift unigram counts, {lang}: rows = dfm_{lang}_docvars.csv, "
                                     f"columns = dfm_{lang}_features.csv")
        write_csv(pd.DataFrame({"feature": uni.vocab}), out[lang]["features"])
        write_csv(rows.merge(meta[keep], on="doc_id", how="left"), out[lang]["docvars"])
        coo = m.X.tocoo()
        doc_ids, features = rows["doc_id"].to_numpy()[coo.row], m.vocab[coo.col]
        if len(coo.row) and rows["doc_id"].dtype == _STR:
            # the same columns (pandas' str dtype, as inferred from the strings) taken in Arrow
            ids = pa.array(rows["doc_id"].to_numpy(dtype=object), type=pa.string())
            doc_ids = pd.array(ids.take(pa.array(coo.row)), dtype=_STR)
            features = pd.array(terms.take(pa.array(coo.col)), dtype=_STR)
        write_parquet(pd.DataFrame({"doc_id": doc_ids, "year": rows["year"].to_numpy()[coo.row],
                                    "feature": features, "n": n[coo.col].astype(np.int64),
                                    "count": coo.data.astype(np.int64)}), out[lang]["parquet"])
        if memo is not None:
            memo.keep(key, files)
    if memo is not None:
        log.info(memo.finish())


#: pandas' dtype of a column of Python strings (``str``: Arrow-backed, NaN for missing)
_STR = pd.Series(["x"], dtype=object).infer_objects().dtype


def write_shard_counts(tokens: TokenCodes, output, params) -> None:
    """Every output of rule ``count`` but the explorer's partial index: the count matrices of one token
    shard (document, paragraph and paragraph n-gram matrices per language, the findings checks'
    document matrices, :func:`count_shard`) and its kept tokens per paragraph of each variant
    (:func:`textdrift.counting.write_paragraph_tokens`).

    Parameters
    ----------
    tokens : TokenCodes
        The shard read by :func:`textdrift.counting.read_tokens`, with :data:`COUNT_COLUMNS` (it may
        have more; they are not used).
    output, params : Snakemake's named lists of rule ``count`` (``workflow/rules/vectorize.smk``)
        Attribute access by the names the rule gives; any object with those attributes works.
    """
    from itertools import product

    from textdrift.counting import CHECK_VARIANTS, write_paragraph_tokens

    langs = params.languages
    tokens = TokenCodes({c: tokens[c] for c in COUNT_COLUMNS}, tokens.dicts)  # only these (a copy copies no other)
    mats = count_shard(tokens, langs, params.ngram_max, params.count_roles,
                       {"base": ["doc", "para", "para_ngrams"], **{name: ["doc"] for name in CHECK_VARIANTS}})
    for lang, doc, para, para_ngrams in zip(langs, output.doc, output.para, output.para_ngrams):
        save_matrix(mats.pop(("doc", "base", lang)), doc)
        save_matrix(mats.pop(("para", "base", lang)), para)
        m = mats.pop(("para_ngrams", "base", lang))
        save_matrix(CountMatrix(m.X, m.vocab, m.rows.drop(columns="lang")), para_ngrams)
    for (name, lang), path in zip(product(CHECK_VARIANTS, langs), output.check_doc):
        save_matrix(mats.pop(("doc", name, lang)), path)
    del m
    write_paragraph_tokens(tokens, {"base": output.paras, **dict(zip(CHECK_VARIANTS, output.check_paras))}, langs,
                           params.count_roles)


def run_merge_counts(input, output, params, log, config=None) -> None:
    """Rule ``merge_counts``: merge the shards' document matrices into one year and one document matrix per language.

    Parameters
    ----------
    input, output, params : Snakemake's named lists of the rule (``workflow/rules/vectorize.smk``)
        Attribute access by the names the rule gives; any object with those attributes works.
    log : list of str
        The job's log file (first item).
    config : dict, optional
        The workflow's configuration: its ``language_memo`` settings (the per-language memo,
        :func:`textdrift.langmemo.memo_for`); None: no memo.
    """
    from textdrift.io import log_to_file
    from textdrift.langmemo import for_files, memo_for

    log_to_file(log[0])
    langs = params.languages
    memo = for_files(memo_for(config, "merge_counts"), input.doc)
    merge_shard_matrices(input.doc, dict(zip(langs, output.year)), dict(zip(langs, output.doc)), memo)


def run_export(input, output, params, log, config=None) -> None:
    """Rule ``export``: the document matrices for R and Python (results/matrices/).

    Parameters
    ----------
    input, output, params : Snakemake's named lists of the rule (``workflow/rules/vectorize.smk``)
        Attribute access by the names the rule gives; any object with those attributes works.
    log : list of str
        The job's log file (first item).
    config : dict, optional
        The workflow's configuration: its ``language_memo`` settings (the per-language memo,
        :func:`textdrift.langmemo.memo_for`); None: no memo.
    """
    from textdrift.io import log_to_file
    from textdrift.langmemo import for_files, memo_for

    log_to_file(log[0])
    langs, kinds = params.languages, ["mtx", "features", "docvars", "parquet"]
    export_matrices(dict(zip(langs, input.doc)), input.documents,
                    {lang: {k: output[f"{k}_{lang}"] for k in kinds} for lang in langs},
                    for_files(memo_for(config, "export"), [*input.doc, input.documents]))
