"""What is counted: the token table, the tokens each count reads, and the kept tokens per paragraph.

One module owns the counting concept, below every analysis (:mod:`textdrift.vectorize`,
:mod:`textdrift.matching`, :mod:`textdrift.themes`, :mod:`textdrift.findings`,
:mod:`textdrift.crosslingual`, ...) and above only :mod:`textdrift.config`, :mod:`textdrift.io`
and :mod:`textdrift.structure`; docs/methods.md ("What is counted") states the rules.

* **The token table** (:data:`TOKEN_SCHEMA`, written by :mod:`textdrift.segment`, read by
  :func:`load_tokens`): one row per token in text order, with its flags: ``keep`` (not a stop word,
  punctuation or number), ``role`` (the paragraph's role, :mod:`textdrift.structure`) and
  ``entity`` (the named entity it belongs to, :mod:`textdrift.entities`; the head of a mention has
  ``norm`` = :data:`ENTITY_HEAD` + id, :func:`entity_heads`, the others are :func:`absorbed`).
* **Roles**: only the paragraphs whose role is in ``count_roles`` (default: body) are counted
  (:func:`counted`).
* **Segments**: a match or an n-gram never crosses a sentence or a break (:func:`segments`).
* **Variants** (:data:`VARIANTS`): what the findings' checks count besides the pipeline's own
  ``base`` counts, each a mask over the same token table (:func:`variant_mask`): ``roles`` (every
  role) and ``entities`` (``base`` with names counted as words, :func:`names_as_words`);
  :func:`variant_tokens` gives a variant's rows.
* **Kept tokens per paragraph** (:data:`PARA_COLUMNS`, :func:`paragraph_tokens`): the
  denominators of the theme frequencies, the bootstrap and the cross-language comparison, and the
  documents table's token counts; written per shard and variant by the ``count`` rule
  (:func:`write_paragraph_tokens`) and read back by :func:`read_shards`.
* **Integer codes** (:class:`TokenCodes`, :func:`read_tokens`): what the per-shard jobs read. The
  string columns come from the Parquet file as dictionary indices, recoded into sorted
  dictionaries, so that selecting a variant (:meth:`TokenCodes.variant`, a mask over the same
  arrays), sorting, grouping (:func:`unit_codes`) and counting (:func:`paragraph_counts`,
  :func:`textdrift.vectorize.count_codes`) run on integers and only distinct values are strings.
  Each function on codes gives exactly what its DataFrame counterpart gives (tested byte for byte).

About 800 lines, a third of them docstrings: the token table's rules on DataFrames (read by the
notebooks and the whole-corpus functions) and the same rules on integer codes (the per-shard jobs)
are kept side by side so that they stay one definition.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from textdrift.config import defaults
from textdrift.io import write_parquet
from textdrift.structure import ROLES

_D = defaults()  # the configuration schema's defaults: every keyword default below that is a config setting

__all__ = ["CHECK_VARIANTS", "COUNT_ROLES", "ENTITY_HEAD", "OPTIONAL_COLUMNS", "PARA_COLUMNS", "TOKEN_COLUMNS",
           "TOKEN_SCHEMA", "VARIANTS", "absorbed", "counted", "entity_heads", "frequent_extensions", "load_tokens", "names_as_words", "run_room",
           "paragraph_tokens", "read_shards", "segments", "variant_mask", "variant_tokens", "write_paragraph_tokens",
           "STRING_COLUMNS", "TokenCodes", "key_order", "paragraph_counts", "read_tokens", "unit_codes"]

#: The token table (``data/processed/tokens/shard-<n>.parquet``), written by ``segment`` and read here
#: and by every analysis: one row per token, in text order (columns in docs/methods.md).
TOKEN_SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),
        ("year", pa.int32()),
        ("lang", pa.string()),
        ("para", pa.int32()),
        ("sent", pa.int32()),
        ("idx", pa.int32()),
        ("text", pa.string()),
        ("norm", pa.string()),
        ("lemma", pa.string()),
        ("is_stop", pa.bool_()),
        ("is_punct", pa.bool_()),
        ("keep", pa.bool_()),
        ("role", pa.string()),
        ("entity", pa.string()),
    ]
)
TOKEN_COLUMNS = list(TOKEN_SCHEMA.names)
#: roles counted unless the config says otherwise (``count_roles``)
#: paragraph roles counted: the schema's default of ``count_roles``
COUNT_ROLES: tuple[str, ...] = tuple(_D["count_roles"])


def load_tokens(paths: str | Path | list[str | Path], columns: list[str] | None = None) -> pd.DataFrame:
    """Read the token table from a Parquet file, a directory of shards or a list of files.

    ``columns``: read only these columns (all when None).

    Parameters
    ----------
    paths : str, Path or list of them
    columns : list of str, optional

    Returns
    -------
    DataFrame
    """
    if isinstance(paths, (str, Path)) and Path(paths).is_dir():
        paths = sorted(Path(paths).glob("*.parquet"))
    elif isinstance(paths, (str, Path)):
        paths = [paths]
    frames = [_read_token_file(p, columns) for p in paths]
    frames = [f for f in frames if len(f)]
    if not frames:
        empty = TOKEN_SCHEMA.empty_table().to_pandas()
        return empty if columns is None else empty[list(columns)]
    return pd.concat(frames, ignore_index=True)


#: the ``norm`` of a named-entity mention's first token is ENTITY_HEAD + the entity id
#: (textdrift.entities; defined here, below every module that reads the token table)
ENTITY_HEAD = "@"

#: the words of an n-gram are joined with one space in every language (textdrift.vectorize; defined
#: here so that the explorer's per-shard job needs no vectorize, whose scipy import it never uses)
SEP = " "

# Columns a token table written before they existed lacks, with the value they stand for.
OPTIONAL_COLUMNS = {"role": "body", "entity": None}


def _read_token_file(path, columns: list[str] | None) -> pd.DataFrame:
    """One token file; ``role`` (all ``body``) and ``entity`` (none) filled in when it lacks them."""
    import pyarrow.parquet as pq

    names = pq.read_schema(path).names
    missing = [c for c in OPTIONAL_COLUMNS if c not in names and (columns is None or c in columns)]
    df = pd.read_parquet(path, columns=None if columns is None else [c for c in columns if c not in missing])
    for c in missing:
        df[c] = pd.Series([OPTIONAL_COLUMNS[c]] * len(df), dtype=object, index=df.index)
    return df if columns is None else df[list(columns)]


def segments(tokens: pd.DataFrame, breaks: str = "is_punct") -> pd.Series:
    """Segment id of every token: a new segment starts at each sentence and after each token
    whose ``breaks`` column is true (punctuation; for n-grams every token not kept).

    Parameters
    ----------
    tokens : DataFrame
        A token table in text order (``doc_id``, ``lang``, ``para``, ``sent`` and ``breaks``).
    breaks : str
        A boolean column.

    Returns
    -------
    Series of int
    """
    new_sent = (
        tokens["doc_id"].ne(tokens["doc_id"].shift())
        | tokens["lang"].ne(tokens["lang"].shift())
        | tokens["sent"].ne(tokens["sent"].shift())
    )
    return (new_sent | tokens[breaks].shift(fill_value=False)).cumsum()


def entity_heads(tokens: pd.DataFrame) -> np.ndarray:
    """True for the first token of each named-entity mention (its ``norm`` is ``@<id>``).

    Parameters
    ----------
    tokens : DataFrame

    Returns
    -------
    ndarray of bool
    """
    return tokens["norm"].str.startswith(ENTITY_HEAD, na=False).to_numpy(dtype=bool)


def absorbed(tokens: pd.DataFrame) -> np.ndarray:
    """True for the tokens of an entity mention other than its head (:mod:`textdrift.entities`).

    Parameters
    ----------
    tokens : DataFrame
        A token table (``norm``; ``entity`` when entities were marked).

    Returns
    -------
    ndarray of bool
    """
    if "entity" not in tokens.columns:
        return np.zeros(len(tokens), dtype=bool)
    return tokens["entity"].notna().to_numpy(dtype=bool) & ~entity_heads(tokens)


def counted(tokens: pd.DataFrame, count_roles=COUNT_ROLES) -> pd.DataFrame:
    """The tokens of the paragraphs whose role is in ``count_roles`` (all when there is no ``role``).

    Parameters
    ----------
    tokens : DataFrame
    count_roles : sequence of str

    Returns
    -------
    DataFrame
    """
    if "role" not in tokens.columns or count_roles is None:
        return tokens
    mask = tokens["role"].isin(list(count_roles)).to_numpy()
    return tokens if mask.all() else tokens[mask]


def names_as_words(tokens: pd.DataFrame) -> pd.DataFrame:
    """The token table as if there were no named entities (theme terms then match inside names).

    Every mention's head gets its own lower-cased lemma back, every token of it is kept as its
    flags say (a stop word stays removed), and the ``entity`` column is gone.

    Parameters
    ----------
    tokens : DataFrame
        A token table (:mod:`textdrift.segment`).

    Returns
    -------
    DataFrame
    """
    if "entity" not in tokens.columns:
        return tokens
    head = entity_heads(tokens)
    inside = tokens["entity"].notna().to_numpy()
    out = tokens.drop(columns="entity").copy()
    out.loc[head, "norm"] = out.loc[head, "lemma"].str.lower()
    keep = ~out["is_stop"].to_numpy() & ~out["is_punct"].to_numpy()
    out.loc[inside, "keep"] = keep[inside]
    return out


#: What the checks count besides the pipeline's own counts (``base``: the roles in ``count_roles``,
#: entities marked): ``roles``, every role; ``entities``, names counted as words (``base`` with
#: :func:`names_as_words`).
CHECK_VARIANTS = ("roles", "entities")
VARIANTS = ("base", *CHECK_VARIANTS)


def variant_mask(tokens: pd.DataFrame, name: str, count_roles=COUNT_ROLES) -> np.ndarray | None:
    """The tokens a variant counts, as a mask over the token table: ``base`` and ``entities``, the
    paragraphs whose role is in ``count_roles``; ``roles``, every role. None stands for every token
    (no ``role`` column, ``count_roles`` None, or every token's role counted), so that a caller
    does not copy the table for nothing.

    Parameters
    ----------
    tokens : DataFrame
        A token table (``role``, when paragraph roles were assigned).
    name : {"base", "roles", "entities"}
    count_roles : sequence of str

    Returns
    -------
    ndarray of bool or None
    """
    if name not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, not {name!r}")
    roles = ROLES if name == "roles" else count_roles
    if "role" not in tokens.columns or roles is None:
        return None
    mask = tokens["role"].isin(list(roles)).to_numpy()
    return None if mask.all() else mask


def variant_tokens(tokens: pd.DataFrame, name: str, count_roles=COUNT_ROLES) -> pd.DataFrame:
    """The tokens a variant counts: ``base`` (the paragraphs whose role is in ``count_roles``),
    ``roles`` (every role) or ``entities`` (``base`` with names as words, :func:`names_as_words`):
    the rows of :func:`variant_mask`, and for ``entities`` the entity heads' and members' ``norm``
    and ``keep`` as if there were no names.

    Parameters
    ----------
    tokens : DataFrame
        A token table (every role, entities marked; ``lemma`` and ``is_stop`` for ``entities``).
    name : {"base", "roles", "entities"}
    count_roles : sequence of str

    Returns
    -------
    DataFrame
    """
    mask = variant_mask(tokens, name, count_roles)
    chosen = tokens if mask is None else tokens[mask]
    return names_as_words(chosen) if name == "entities" else chosen


# Kept tokens per paragraph (``keep`` = their number): the denominators of the frequencies, of the
# bootstrap and of the cross-language comparison, written per shard next to the matches.
PARA_COLUMNS = ["year", "lang", "doc_id", "para", "keep"]


def paragraph_tokens(tokens: pd.DataFrame) -> pd.DataFrame:
    """Kept tokens per (year, lang, doc_id, para) of a token table (``keep`` = how many).

    Parameters
    ----------
    tokens : DataFrame
        A token table.

    Returns
    -------
    DataFrame
        ``PARA_COLUMNS``, sorted.
    """
    return tokens.groupby(PARA_COLUMNS[:-1], sort=True)["keep"].sum().astype("int64").reset_index()


def write_paragraph_tokens(tokens: pd.DataFrame, paths: dict, languages,
                           count_roles=COUNT_ROLES) -> None:
    """Part of the ``count`` rule: kept tokens per paragraph (:func:`paragraph_tokens`) of one token
    shard, for each variant (``base``: what the pipeline counts; the findings checks' variants) to its
    Parquet file. They do not depend on the codebook, so a codebook edit leaves them, and the
    tables built on them (``documents.csv``, drift, phrases), as they are.

    Parameters
    ----------
    tokens : DataFrame or TokenCodes
        The shard's tokens (every role; ``lemma`` and ``is_stop`` for ``entities``); as codes
        (:func:`read_tokens`), counted on the codes (:func:`paragraph_counts`).
    paths : dict of str to str or Path
        Variant (:data:`VARIANTS`) -> output file.
    languages, count_roles : sequence of str
    """
    if isinstance(tokens, TokenCodes):
        inside = tokens.isin("lang", languages)
        tokens = tokens if inside.all() else tokens.take(inside)
        # the paragraphs numbered once for every variant (a variant's paragraphs are some of them,
        # in the same order): its rows and kept flags counted per number, no variant table built
        unit, first = unit_codes(tokens, PARA_COLUMNS[:-1])
        for name, path in paths.items():
            rows, keep = tokens.variant_keep(name, count_roles)
            units = unit if rows is None else unit[rows]
            present = np.flatnonzero(np.bincount(units[units >= 0], minlength=len(first)))
            kept = np.bincount(units[(units >= 0) & keep], minlength=len(first))[present]
            out = pd.DataFrame({c: tokens.labels(c, first[present]) for c in PARA_COLUMNS[:-1]})
            out["keep"] = kept.astype("int64")
            write_parquet(out, path)  # paragraph_counts(tokens.variant(name, count_roles)), tested
        return
    if not tokens["lang"].isin(languages).all():
        tokens = tokens[tokens["lang"].isin(languages)]
    for name, path in paths.items():
        write_parquet(paragraph_tokens(variant_tokens(tokens, name, count_roles)), path)


def read_shards(paths, columns: list[str] | None = None) -> pd.DataFrame:
    """Concatenate Parquet files written per shard (:func:`paragraph_tokens`' tables, :func:`textdrift.themes.match_shard`'s matches) (only ``columns``, when given).

    Parameters
    ----------
    paths : list of str or Path
    columns : list of str, optional

    Returns
    -------
    DataFrame
        The files' rows in file order (empty with ``columns`` when there is no file).
    """
    frames = [pd.read_parquet(p, columns=columns) for p in paths]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def run_room(run):
    """Per position of a stream: the units after it in its run (int32). The runs (segments) are
    numbered in text order, each one stretch of positions, so a string of ``k`` units from ``p`` lies
    in one run exactly when ``room[p] >= k - 1``. Computed once per stream, read at every level of
    :func:`frequent_extensions`.

    Parameters
    ----------
    run : ndarray of int
        The run of every unit of the stream (non-decreasing).

    Returns
    -------
    ndarray of int32
    """
    n = len(run)
    new_run = np.ones(n, dtype=bool)
    np.not_equal(run[1:], run[:-1], out=new_run[1:])
    run_last = np.append(np.flatnonzero(new_run)[1:] - 1, n - 1).astype(np.int32)
    return run_last[np.cumsum(new_run) - 1] - np.arange(n, dtype=np.int32)


def frequent_extensions(pos, code, freq, room, L: int):
    """One step of level-wise (Apriori) n-gram counting: the positions whose string of ``L`` units
    is frequent *and* whose string of ``L`` units starting one unit later is frequent too, inside one
    run (no n-gram crosses a segment), i.e. the starts of the candidate strings of ``L + 1`` units,
    with the code of their first ``L`` units (Agrawal & Srikant 1994: a string is frequent only if
    both its ``L``-unit prefix and suffix are). Used by :mod:`textdrift.phrases` (long phrase units)
    and :mod:`textdrift.formulations` (maximal strings).

    Parameters
    ----------
    pos : ndarray of int
        Ascending start positions of the strings of ``L`` units.
    code : ndarray of int
        The string's code at each of ``pos`` (its dtype is kept).
    freq : ndarray of bool
        Whether the string at each of ``pos`` is frequent.
    room : ndarray of int
        :func:`run_room` of the stream's runs.
    L : int

    Returns
    -------
    cand : ndarray of int
        The candidates' start positions (ascending).
    prefix : ndarray of int
        The code of each candidate's first ``L`` units.
    """
    F = np.zeros(len(room) + 1, dtype=bool)
    cand, prefix = pos[freq], code[freq]  # (the codes taken along: no look-up array of every unit)
    F[cand] = True
    ok = F[cand + 1] & (room[cand] >= L)  # (room >= L: the unit L after it is in the stream and its run)
    return cand[ok], prefix[ok]


# ---------------------------------------------------------------------------------------------------
# The token table as integer codes: what the per-shard jobs (count, theme_matches) read.

#: string columns of the token table, held as codes into a sorted dictionary by :class:`TokenCodes`
STRING_COLUMNS = ("doc_id", "lang", "text", "norm", "lemma", "role", "entity")


def _sorted_codes(codes: np.ndarray, values) -> tuple[np.ndarray, pa.Array]:
    """Codes into ``values`` (distinct strings; -1 = missing) recoded into ``values`` sorted in code
    point order (UTF-8 byte order), so that comparing codes compares the strings; 32-bit codes (a
    shard's columns take half the memory of 64-bit ones) unless there are 2**31 - 1 values or more."""
    import pyarrow.compute as pc

    values = values if isinstance(values, pa.Array) else pa.array(values, type=pa.string())
    order = pc.sort_indices(values).to_numpy()
    rank = np.empty(len(order) + 1, dtype=np.int32 if len(order) < 2 ** 31 - 1 else np.int64)
    rank[order] = np.arange(len(order))
    rank[-1] = -1  # code -1 (missing) stays -1
    return rank[codes], values.take(pa.array(order, type=pa.int64()))


class TokenCodes:
    """A token table as arrays: the numeric and boolean columns as they are, each string column
    (:data:`STRING_COLUMNS`, and any other column that is not numeric) as integer codes into a
    sorted dictionary of its distinct values (-1 where missing). Codes compare as their strings
    do (code point order), so sorting, grouping and selecting rows happen on integers; only the
    distinct values are ever strings.

    Built by :func:`read_tokens` (a token file, read as Parquet dictionary indices) or
    :meth:`from_frame` (a token table already in memory).

    Parameters
    ----------
    data : dict of str to ndarray
        Column -> values, or codes for the columns of ``dicts``.
    dicts : dict of str to pyarrow.Array or pandas.Index
        Column -> its sorted distinct values.
    """

    def __init__(self, data: dict, dicts: dict):
        self.data, self.dicts = data, dicts
        self.n = len(next(iter(data.values()))) if data else 0

    def __len__(self) -> int:
        return self.n

    def __contains__(self, column: str) -> bool:
        return column in self.data

    def __getitem__(self, column: str) -> np.ndarray:
        return self.data[column]

    @property
    def columns(self) -> list[str]:
        """The column names."""
        return list(self.data)

    @classmethod
    def from_frame(cls, tokens: pd.DataFrame) -> "TokenCodes":
        """The arrays of a token table in memory: boolean and integer columns as they are, any other
        column factorised in sorted order (``pandas.factorize(sort=True)``; -1 where missing).

        Parameters
        ----------
        tokens : DataFrame

        Returns
        -------
        TokenCodes
        """
        data, dicts = {}, {}
        for c in tokens.columns:
            s = tokens[c]
            if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_integer_dtype(s.dtype):
                data[c] = s.to_numpy()
            else:
                data[c], dicts[c] = pd.factorize(s, sort=True)
        return cls(data, dicts)

    def take(self, rows, columns: list[str] | None = None) -> "TokenCodes":
        """The rows ``rows`` (positions, or a boolean mask), same dictionaries; only ``columns`` when given.

        Parameters
        ----------
        rows : ndarray of int or bool
        columns : list of str, optional

        Returns
        -------
        TokenCodes
        """
        return TokenCodes({c: self.data[c][rows] for c in (self.data if columns is None else columns)}, self.dicts)

    def codes_of(self, column: str, values) -> np.ndarray:
        """The codes of those of ``values`` that occur in ``column``.

        Parameters
        ----------
        column : str
        values : iterable of str

        Returns
        -------
        ndarray of int
        """
        index = {v: i for i, v in enumerate(self.values(column).tolist())}
        return np.array(sorted(index[v] for v in set(values) if v in index), dtype=np.int64)

    def isin(self, column: str, values) -> np.ndarray:
        """True where ``column`` is one of ``values``.

        Parameters
        ----------
        column : str
        values : iterable of str

        Returns
        -------
        ndarray of bool
        """
        hit = np.zeros(len(self.dicts[column]) + 1, dtype=bool)  # (the last: code -1, missing)
        hit[self.codes_of(column, values)] = True
        return hit[self.data[column]]

    def values(self, column: str) -> pd.Index:
        """The sorted distinct values of a coded column (the code of each is its position).

        Parameters
        ----------
        column : str

        Returns
        -------
        pandas.Index
        """
        d = self.dicts[column]
        return pd.Index(d.to_pylist(), dtype=object) if isinstance(d, pa.Array) else d

    def strings(self, column: str) -> pa.Array:
        """The sorted distinct values of a string column as an Arrow string array.

        Parameters
        ----------
        column : str

        Returns
        -------
        pyarrow.Array
        """
        d = self.dicts[column]
        return d if isinstance(d, pa.Array) else pa.array(np.asarray(d, dtype=object), type=pa.string())

    def labels(self, column: str, rows: np.ndarray):
        """The values of ``column`` at ``rows`` (strings for a coded column, missing as NaN).

        Parameters
        ----------
        column : str
        rows : ndarray of int

        Returns
        -------
        ndarray or pandas.Index
        """
        if column not in self.dicts:
            return self.data[column][rows]
        codes = self.data[column][rows]
        d = self.dicts[column]
        if isinstance(d, pa.Array):
            return pd.array(d.take(pa.array(codes, mask=codes < 0)).to_pandas(), dtype="str")
        return d.take(codes, allow_fill=True)

    def entity_heads(self) -> np.ndarray:
        """:func:`entity_heads` on the codes (the ``norm`` starts with :data:`ENTITY_HEAD`).

        Returns
        -------
        ndarray of bool
        """
        import pyarrow.compute as pc

        head = pc.starts_with(self.strings("norm"), ENTITY_HEAD).fill_null(False).to_numpy(zero_copy_only=False)
        return np.append(head, False)[self.data["norm"]]

    def absorbed(self) -> np.ndarray:
        """:func:`absorbed` on the codes: the tokens of a mention other than its head.

        Returns
        -------
        ndarray of bool
        """
        if "entity" not in self.data:
            return np.zeros(self.n, dtype=bool)
        return (self.data["entity"] >= 0) & ~self.entity_heads()

    def names_as_words(self) -> "TokenCodes":
        """:func:`names_as_words` on the codes: every head's ``norm`` becomes its lower-cased lemma
        (``pyarrow.compute.utf8_lower``, what pandas' ``str.lower`` runs), every mention token is
        kept as its flags say, and there is no ``entity`` column. A variant whose norms are not the
        file's norms or lower-cased lemmas must widen :class:`textdrift.matching.Vocabulary`'s words
        (``matchmemo.MemoKeys.vocabulary``), or the memo would leave out terms that match in it.

        Returns
        -------
        TokenCodes
        """
        import pyarrow.compute as pc

        if "entity" not in self.data:
            return self
        head = self.entity_heads()
        norms, lower = self.strings("norm"), pc.utf8_lower(self.strings("lemma"))
        both = pa.concat_arrays([norms.cast(pa.string()), lower.cast(pa.string())])
        distinct = pc.unique(both)
        codes = pc.index_in(both, value_set=distinct).to_numpy(zero_copy_only=False)
        recode, values = _sorted_codes(np.append(codes, -1), distinct)  # (the last: a missing code)
        norm = recode[self.data["norm"]]  # (code -1 indexes the last: missing)
        lemma_codes = self.data["lemma"][head]
        norm[head] = recode[np.where(lemma_codes >= 0, len(norms) + lemma_codes, -1)]
        keep = self._keep_as_words()
        data = {c: v for c, v in self.data.items() if c != "entity"}
        data.update(norm=norm, keep=keep)
        dicts = {c: d for c, d in self.dicts.items() if c != "entity"}
        dicts["norm"] = values
        return TokenCodes(data, dicts)

    def _keep_as_words(self) -> np.ndarray:
        """``keep`` with names counted as words (:meth:`names_as_words`): a mention's tokens kept as
        their own flags say (not a stop word, not punctuation)."""
        keep = self.data["keep"].copy()
        if "entity" in self.data:
            inside = self.data["entity"] >= 0
            keep[inside] = ~self.data["is_stop"][inside] & ~self.data["is_punct"][inside]
        return keep

    def variant_keep(self, name: str, count_roles=COUNT_ROLES) -> tuple[np.ndarray | None, np.ndarray]:
        """The rows of a variant (:meth:`variant`) and their ``keep`` flags, without the variant's
        table: what counting kept tokens per paragraph needs.

        Parameters
        ----------
        name : {"base", "roles", "entities"}
        count_roles : sequence of str

        Returns
        -------
        rows : ndarray of bool or None
            The variant's rows (None: every row).
        keep : ndarray of bool
            ``keep`` of those rows, as :meth:`variant` gives it.
        """
        rows = self._variant_rows(name, count_roles)
        keep = self._keep_as_words() if name == "entities" else self.data["keep"]
        keep = keep.astype(bool)
        return rows, keep if rows is None else keep[rows]

    def variant(self, name: str, count_roles=COUNT_ROLES, within: np.ndarray | None = None) -> "TokenCodes":
        """:func:`variant_tokens` on the codes: the rows of the variant's mask, names as words for
        ``entities``; with ``within``, only those of its rows (one copy of them, not of the variant's).

        Parameters
        ----------
        name : {"base", "roles", "entities"}
        count_roles : sequence of str
        within : ndarray of bool, optional
            A mask of the rows, e.g. one language's.

        Returns
        -------
        TokenCodes
        """
        rows = self._variant_rows(name, count_roles)
        if within is not None:
            rows = within if rows is None else rows & within
        chosen = self if rows is None else self.take(rows)
        return chosen.names_as_words() if name == "entities" else chosen

    def _variant_rows(self, name: str, count_roles) -> np.ndarray | None:
        """The rows of variant ``name`` (the roles it counts: every role for ``roles``), or None for
        every row."""
        if name not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, not {name!r}")
        roles = ROLES if name == "roles" else count_roles
        if "role" not in self.data or roles is None:
            return None
        mask = self.isin("role", roles)
        return None if mask.all() else mask


def read_tokens(path: str | Path, columns: list[str] | None = None) -> TokenCodes:
    """Read one token file as integer codes (:class:`TokenCodes`): the string columns as Parquet
    dictionary indices (``pyarrow.parquet.read_table(read_dictionary=...)``), never as strings;
    ``role`` (all ``body``) and ``entity`` (none) filled in when the file lacks them, as
    :func:`load_tokens` does. The one place the per-shard jobs read the token table.

    Parameters
    ----------
    path : str or Path
        A token shard (``data/processed/tokens/shard-<n>.parquet``).
    columns : list of str, optional
        Read only these columns (all when None).

    Returns
    -------
    TokenCodes
    """
    import pyarrow.parquet as pq

    names = pq.read_schema(path).names
    wanted = list(TOKEN_COLUMNS if columns is None else columns)
    present = [c for c in wanted if c in names]
    missing = [c for c in wanted if c not in names]
    bad = [c for c in missing if c not in OPTIONAL_COLUMNS]
    if bad:
        raise ValueError(f"{path}: the token table has no column {', '.join(bad)}")
    table = pq.read_table(path, columns=present, read_dictionary=[c for c in present if c in STRING_COLUMNS])
    table = table.unify_dictionaries()
    data, dicts = {}, {}
    for c in present:
        col = table[c]
        arr = col.combine_chunks() if col.num_chunks else pa.array([], type=col.type)
        if pa.types.is_dictionary(arr.type):
            codes = arr.indices.fill_null(-1).to_numpy(zero_copy_only=False)
            data[c], dicts[c] = _sorted_codes(codes, arr.dictionary)
        else:
            data[c] = arr.to_numpy(zero_copy_only=False)
    n = table.num_rows
    table = col = arr = None  # the file's columns, now codes (numbers and flags are the file's own arrays):
    pa.default_memory_pool().release_unused()  # the memory they used back to the system
    for c in missing:  # role: every token body; entity: none
        value = OPTIONAL_COLUMNS[c]
        data[c] = np.full(n, -1 if value is None else 0, dtype=np.int64)
        dicts[c] = pa.array([] if value is None else [value], type=pa.string())
    return TokenCodes({c: data[c] for c in wanted}, dicts)


def paragraph_counts(tokens: TokenCodes) -> pd.DataFrame:
    """:func:`paragraph_tokens` on the codes: kept tokens per (year, lang, doc_id, para), sorted.

    Parameters
    ----------
    tokens : TokenCodes

    Returns
    -------
    DataFrame
        ``PARA_COLUMNS`` (the same table as :func:`paragraph_tokens` of the decoded tokens).
    """
    keys = PARA_COLUMNS[:-1]
    unit, first = unit_codes(tokens, keys)
    kept = unit[(unit >= 0) & tokens["keep"].astype(bool)]
    out = pd.DataFrame({c: tokens.labels(c, first) for c in keys})
    out["keep"] = np.bincount(kept, minlength=len(first)).astype("int64")
    return out


def unit_codes(tokens: TokenCodes, columns: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The unit of every row under the key ``columns``, units numbered in sorted key order (the
    groups of ``groupby(columns, sort=True)``; a row with a missing key has unit -1), and the first
    row of each unit.

    Parameters
    ----------
    tokens : TokenCodes
    columns : list of str

    Returns
    -------
    unit : ndarray of int
    first : ndarray of int
        Row of each unit's first occurrence, in unit order.
    """
    ranks, valid = [], np.ones(len(tokens), dtype=bool)
    for c in columns:
        k = tokens[c]
        if c not in tokens.dicts and k.dtype.kind not in "iub":  # e.g. floats: NaN is missing
            k = pd.factorize(k, sort=True)[0]
        if c in tokens.dicts or k is not tokens[c]:
            valid &= k >= 0
        ranks.append(k)
    rows = np.flatnonzero(valid)
    order = rows if not ranks else rows[key_order([r[rows] for r in ranks])]
    change = np.zeros(len(order), dtype=bool)
    if len(order):
        change[0] = True
        for r in ranks:
            s = r[order]
            change[1:] |= s[1:] != s[:-1]
    unit = np.full(len(tokens), -1, dtype=np.int64)
    unit[order] = np.cumsum(change) - 1
    return unit, order[change]


def key_order(keys: list[np.ndarray]) -> np.ndarray:
    """The stable sort of the rows by ``keys`` (the first the most significant), as ``np.lexsort``
    gives it; rows already in that order (the token table's text order) are not sorted again.

    Integer keys whose ranges multiply to less than 2**62 are combined into one 64-bit key (each
    key less its minimum, scaled by the ranges of the keys after it), whose stable sort is the
    same order: numpy's stable sort (timsort) runs through a shard's documents, each already in
    text order, several times faster than ``lexsort`` of the separate keys.

    Parameters
    ----------
    keys : list of ndarray
        One array per key, all the same length.

    Returns
    -------
    ndarray of int
    """
    n = len(keys[0])
    before = np.zeros(max(n - 1, 0), dtype=bool)  # row i - 1 sorts before row i
    tied = np.ones(len(before), dtype=bool)
    for k in keys:
        before |= tied & (k[:-1] < k[1:])
        tied &= k[:-1] == k[1:]
    if (before | tied).all():
        return np.arange(n)
    if all(k.dtype.kind in "iub" for k in keys):
        lows = [int(k.min()) for k in keys]
        spans = [int(k.max()) - low + 1 for k, low in zip(keys, lows)]
        if math.prod(spans) < 2 ** 62:
            key = np.zeros(n, dtype=np.int64)
            for k, low, span in zip(keys, lows, spans):
                key = key * span + (k.astype(np.int64) - low)
            return np.argsort(key, kind="stable")
    return np.lexsort(keys[::-1])
