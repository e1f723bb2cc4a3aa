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
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from textdrift.config import defaults
from textdrift.io import write_parquet
from textdrift.structure import ROLES

_D = defaults()  # the configuration schema's defaults: every keyword default below that is a config setting

__all__ = ["CHECK_VARIANTS", "COUNT_ROLES", "ENTITY_HEAD", "OPTIONAL_COLUMNS", "PARA_COLUMNS", "TOKEN_COLUMNS",
           "TOKEN_SCHEMA", "VARIANTS", "absorbed", "counted", "entity_heads", "frequent_extensions", "load_tokens", "names_as_words",
           "paragraph_tokens", "read_shards", "segments", "variant_mask", "variant_tokens", "write_paragraph_tokens"]

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
    tokens : DataFrame
        The shard's tokens (every role; ``lemma`` and ``is_stop`` for ``entities``).
    paths : dict of str to str or Path
        Variant (:data:`VARIANTS`) -> output file.
    languages, count_roles : sequence of str
    """
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


def frequent_extensions(pos, code, freq, run, L: int):
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
    run : ndarray of int
        The run (segment) of every unit of the stream.
    L : int

    Returns
    -------
    cand : ndarray of int
        The candidates' start positions (ascending).
    prefix : ndarray of int
        The code of each candidate's first ``L`` units.
    """
    n = len(run)
    F = np.zeros(n + 1, dtype=bool)
    F[pos[freq]] = True
    D = np.full(n, -1, dtype=code.dtype)
    D[pos] = code
    cand = pos[freq]
    cand = cand[cand + L < n]
    cand = cand[F[cand + 1] & (run[cand] == run[cand + L])]
    return cand, D[cand]
