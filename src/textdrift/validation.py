"""Codebook validation: how often a counted match is really the theme (precision), from KWIC rows
a person has read and coded; the KWIC comes from :mod:`textdrift.themes`, the interval from
:mod:`textdrift.stats`.

Workflow
--------
1. ``make validation-sample`` (:func:`draw_sample`): a stratified random sample of the theme rows of
   ``results/tables/theme_kwic.csv``: per (theme, language), ``per_cell`` rows drawn without
   replacement (all of them when the cell has fewer), with ``numpy.random.default_rng([seed,
   crc32(theme), crc32(lang)])`` so that a cell's draw does not depend on the other cells. Written to
   ``validation/sample-<codebook hash>.csv`` with empty ``relevant`` and ``note`` columns; an
   existing sample is never overwritten, and rows already coded are not drawn again.
2. A person reads each row's ``left``/``match``/``right`` and writes ``relevant`` = 1 (the match is
   the theme in this context) or 0, and may add a ``note`` and ``coder``; the coded rows go to
   ``validation/coded.csv`` (rows of several samples may be stacked there).
3. The ``precision`` rule (:func:`precision_table`) keeps the coded rows that still match under the
   current codebook (:func:`locate_coded`: same document, language, paragraph, sentence, theme,
   matched text and occurrence of that text in the sentence, ``KEY``; or, when the paragraphs or
   sentences were numbered anew (a cleaning change that merges or splits paragraphs), the same
   document, language, theme and matched text in the same context), and computes per (theme,
   language), per language and overall: ``n_coded``, ``relevant``, ``precision`` = relevant /
   n_coded and its Wilson score interval (Wilson 1927;
   ``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")``). ``n_no_longer_matched`` counts
   coded rows the current codebook no longer matches (a rule or a removed term dropped them): they
   say what a revision removed, not what it keeps.
"""

from __future__ import annotations

import argparse
import logging
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from textdrift.io import joined_chunks, numeric_kinds, read_csv, read_csv_chunks, write_csv
from textdrift.config import defaults
from textdrift.stats import wilson

_D = defaults()  # the configuration schema's defaults: every keyword default below that is a config setting

__all__ = ["KEY", "PRECISION_COLUMNS", "SAMPLE_COLUMNS", "coded_documents_kwic", "draw_sample", "locate_coded", "main",
           "precision_cells", "precision_table", "write_precision", "theme_rows", "run_precision"]

log = logging.getLogger("textdrift.validation")

#: a KWIC row's identity across codebook versions
KEY = ["doc_id", "lang", "para", "sent", "theme", "match", "occurrence"]
SAMPLE_COLUMNS = ["sample_id", "codebook", "doc_id", "year", "lang", "para", "sent", "role", "theme", "term", "left",
                  "match", "right", "occurrence", "relevant", "note", "coder"]
PRECISION_COLUMNS = ["theme", "lang", "n_coded", "relevant", "precision", "ci_low", "ci_high", "n_no_longer_matched",
                     "codebook"]
TRUE = {"1", "1.0", "yes", "y", "true", "relevant"}
FALSE = {"0", "0.0", "no", "n", "false", "not relevant"}


def theme_rows(kwic: pd.DataFrame) -> pd.DataFrame:
    """The theme rows of a KWIC table (``kind`` theme), each with its ``occurrence``.

    Parameters
    ----------
    kwic : DataFrame
        A ``theme_kwic.csv`` table.

    Returns
    -------
    DataFrame
        With ``occurrence``: the rank (from 1) of the row among the rows of its sentence with the
        same theme and matched text, in table order.
    """
    rows = kwic[kwic["kind"] == "theme"] if "kind" in kwic else kwic
    rows = rows.reset_index(drop=True)
    rows["occurrence"] = rows.groupby(KEY[:-1], sort=False).cumcount() + 1
    return rows


def _keys(df: pd.DataFrame) -> pd.Series:
    return pd.Series(list(zip(*(df[c].astype(str) for c in KEY))), index=df.index, dtype=object)


def _context(df: pd.DataFrame, column: str) -> list[str]:
    """A KWIC context column as text ("" for an empty cell, or for a table without the column)."""
    if column not in df:
        return [""] * len(df)
    return df[column].fillna("").astype(str).tolist()


def _same_context(coded: tuple[str, str], now: tuple[str, str]) -> bool:
    """Whether a coded row's (left, right) context and a current row's are the same place in the
    text although its paragraph may have changed: each side equal, or the shorter the end of the
    longer (``left``) or its start (``right``), since a context stops at its paragraph's edge and a
    merged or split paragraph moves that edge; and some context shared (or both sides equal)."""
    (cl, cr), (nl, nr) = coded, now
    if (cl, cr) == (nl, nr):
        return True
    left = cl.endswith(nl) or nl.endswith(cl)
    right = cr.startswith(nr) or nr.startswith(cr)
    return left and right and min(len(cl), len(nl)) + min(len(cr), len(nr)) > 0


def locate_coded(coded: pd.DataFrame, current: pd.DataFrame) -> tuple[np.ndarray, int]:
    """Where each coded row is in the current theme rows: by its ``KEY``, or else by its text.

    A coded row is first looked up by ``KEY`` (document, language, paragraph, sentence, theme,
    matched text, occurrence), and taken when its context is the same (:func:`_same_context`; a
    coded file without ``left`` and ``right`` is matched by ``KEY`` alone). A row not found so (its
    paragraph or sentence numbers changed: a cleaning change merged a heading-like lead into its
    paragraph, or split one, and the numbers may now name another sentence) is then looked up
    among the current rows not yet taken, in table order, with the same document, language, theme
    and matched text and the same context (:func:`_same_context`: ``left`` and ``right`` equal, or
    cut at a paragraph edge that moved); coded rows are taken in their order, each current row
    once.

    Parameters
    ----------
    coded : DataFrame
        Coded rows (``KEY``; ``left`` and ``right`` when a row is to be found by its text).
    current : DataFrame
        The current theme rows (:func:`theme_rows`: ``KEY``, ``left``, ``right``).

    Returns
    -------
    ndarray of int64, int
        Per coded row, the position of its row in ``current`` (-1: no longer matched); and how many
        were found by their text rather than by their ``KEY``.
    """
    now = list(zip(_context(current, "left"), _context(current, "right")))
    was = list(zip(_context(coded, "left"), _context(coded, "right")))
    texts = "left" in coded and "right" in coded  # coded rows without their context: by KEY alone
    cur_keys = {k: i for i, k in enumerate(_keys(current))}
    at = np.array([cur_keys.get(k, -1) for k in _keys(coded)], dtype=np.int64)
    if texts:  # a KEY that now names another place (numbers shifted onto another sentence) is not it
        at = np.array([i if i < 0 or _same_context(was[j], now[i]) else -1 for j, i in enumerate(at.tolist())],
                      dtype=np.int64)
    taken = set(at[at >= 0].tolist())
    lost = np.flatnonzero(at < 0)
    if not texts or not len(lost) or not len(current):
        return at, 0
    place = ["doc_id", "lang", "theme", "match"]
    candidates: dict[tuple, list[int]] = {}
    for i, key in enumerate(zip(*(current[c].astype(str) for c in place))):
        if i not in taken:
            candidates.setdefault(key, []).append(i)
    keys = list(zip(*(coded[c].astype(str) for c in place)))
    found = 0
    for j in lost.tolist():
        for i in candidates.get(keys[j], []):
            if i not in taken and _same_context(was[j], now[i]):
                at[j], found = i, found + 1
                taken.add(i)
                break
    return at, found


def draw_sample(kwic: pd.DataFrame, codebook: str, per_cell: int = _D["validation"]["per_cell"],
                seed: int = _D["validation"]["seed"],
                coded: pd.DataFrame | None = None) -> pd.DataFrame:
    """A stratified random sample of the theme rows: ``per_cell`` per (theme, lang), or all of a smaller cell.

    Rows already in ``coded`` (:func:`locate_coded`) are not drawn again: after a revision of the
    codebook, a new sample adds contexts nobody has coded yet.

    Parameters
    ----------
    kwic : DataFrame
        The current ``theme_kwic.csv``.
    codebook : str
        The codebook's hash (:func:`textdrift.codebook.codebook_hash`).
    per_cell : int
        Rows per (theme, lang).
    seed : int
        Random seed.
    coded : DataFrame, optional
        Rows coded before.

    Returns
    -------
    DataFrame
        The sample, with empty ``relevant`` and ``note`` columns to fill in.
    """
    if per_cell < 1:
        raise ValueError(f"per_cell must be at least 1, not {per_cell}")
    rows = theme_rows(kwic)
    if coded is not None and len(coded):
        at, _ = locate_coded(coded, rows)
        rows = rows[~np.isin(np.arange(len(rows)), at)]
    picks = []
    for (theme, lang), cell in rows.groupby(["theme", "lang"], sort=True):
        rng = np.random.default_rng([seed, zlib.crc32(str(theme).encode()), zlib.crc32(str(lang).encode())])
        take = np.sort(rng.choice(len(cell), size=min(per_cell, len(cell)), replace=False))
        picks.append(cell.iloc[take])
    out = pd.concat(picks, ignore_index=True) if picks else rows.iloc[:0]
    out = out.assign(codebook=codebook, relevant="", note="", coder="")
    out.insert(0, "sample_id", [f"{codebook}-{i + 1:04d}" for i in range(len(out))])
    return out[SAMPLE_COLUMNS]


def _relevance(coded: pd.DataFrame, source: str) -> pd.Series:
    """``relevant`` as True / False / NaN (not coded yet); a value that is none of these is an error."""
    raw = coded["relevant"].fillna("").astype(str).str.strip().str.lower()
    bad = sorted(set(raw[~raw.isin(TRUE | FALSE | {""})]))
    if bad:
        raise ValueError(f"{source}: 'relevant' must be 1 or 0 (or yes/no); found {', '.join(map(repr, bad))}")
    return raw.map(lambda v: True if v in TRUE else False if v in FALSE else np.nan)


def precision_table(coded: pd.DataFrame, kwic: pd.DataFrame, codebook: str, conf: float = _D["themes"]["conf_level"],
                    source: str = "coded rows") -> pd.DataFrame:
    """``codebook_precision.csv`` (``PRECISION_COLUMNS``) from the coded rows and the current KWIC;
    rows per (theme, lang), then per lang (``theme`` all) and overall (``all``, ``all``).

    Parameters
    ----------
    coded : DataFrame
        Coded sample rows (``KEY`` and ``relevant``).
    kwic : DataFrame
        The current ``theme_kwic.csv``.
    codebook : str
        The codebook's hash.
    conf : float
        Confidence level of the Wilson interval (:func:`textdrift.stats.wilson`).
    source : str
        Name of the coded rows in error messages.

    Returns
    -------
    DataFrame

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
    Journal of the American Statistical Association 22(158), 209-212.
    """
    missing = [c for c in [*KEY, "relevant"] if c not in coded.columns]
    if missing:
        raise ValueError(f"{source}: missing column(s) {', '.join(missing)} (start from a validation sample)")
    coded = coded.assign(relevant=_relevance(coded, source)).dropna(subset=["relevant"])
    coded = coded.drop_duplicates(KEY, keep="last").reset_index(drop=True)
    current = theme_rows(kwic)
    current = current[[c for c in [*KEY, "left", "right"] if c in current]]
    for df in (coded, current):
        for c in ("para", "sent", "occurrence"):
            df[c] = df[c].astype("int64")
        for c in ("doc_id", "lang", "theme", "match"):
            df[c] = df[c].astype(str)
    at, by_text = locate_coded(coded, current)
    if by_text:
        log.info("%d coded rows found again by their text (document, theme, match and context): their paragraph "
                 "or sentence numbers changed since they were coded", by_text)
    merged = coded.assign(_now=at >= 0)
    rows = []

    def add(theme, lang, part):
        now = part[part["_now"]]
        k, n = int(now["relevant"].sum()), len(now)
        low, high = wilson(k, n, conf)
        rows.append({"theme": theme, "lang": lang, "n_coded": n, "relevant": k, "precision": k / n if n else np.nan,
                     "ci_low": low, "ci_high": high, "n_no_longer_matched": int((~part["_now"]).sum()),
                     "codebook": codebook})

    for (theme, lang), part in merged.groupby(["theme", "lang"], sort=True):
        add(theme, lang, part)
    for lang, part in merged.groupby("lang", sort=True):
        add("all", lang, part)
    if len(merged):
        add("all", "all", merged)
    return pd.DataFrame(rows, columns=PRECISION_COLUMNS)


def precision_cells(precision: pd.DataFrame | None) -> dict:
    """The lookup the findings text and the theme-trend titles show: precision per coded cell.

    Parameters
    ----------
    precision : DataFrame or None
        ``codebook_precision.csv``.

    Returns
    -------
    dict
        ``{(theme, lang): (precision, n_coded)}`` of the coded cells; empty for None.
    """
    if precision is None or precision.empty:
        return {}
    rows = precision[precision["n_coded"] > 0]
    return {(r.theme, r.lang): (float(r.precision), int(r.n_coded)) for r in rows.itertuples()}


# rows of theme_kwic.csv read at a time by :func:`coded_documents_kwic`
_CHUNK_ROWS = 100_000


def _id_forms(doc_ids) -> set[str]:
    """Every text a document id of the coded rows can have in ``theme_kwic.csv`` read by type
    inference: the id as read, and when it reads as a number, that number printed as a float and,
    when whole, as an integer (``"12"``, ``"12.0"``): which one depends on the whole column."""
    forms = set()
    for d in {str(d) for d in doc_ids}:
        forms.add(d)
        try:
            x = float(d)
        except ValueError:
            continue
        forms.add(str(x))
        if x == x and abs(x) != float("inf") and x.is_integer():
            forms.add(str(int(x)))
    return forms


def coded_documents_kwic(kwic_path, doc_ids, chunk_rows: int = _CHUNK_ROWS) -> pd.DataFrame:
    """The theme rows of ``theme_kwic.csv`` (the columns of ``KEY`` but ``occurrence``, ``kind``,
    ``left`` and ``right``) of the coded documents, read in chunks: what :func:`precision_table`
    needs of the table, in memory bounded by the chunk and the coded documents, not by the corpus.

    A coded row can only match a row of its own document, and a row's ``occurrence``
    (:func:`theme_rows`) counts rows of its own document, so keeping every row of the coded
    documents, in table order, gives the same keys and the same ``occurrence`` as the whole table.
    The chunks are read as the whole table was read before (:func:`textdrift.io.read_csv`, types
    inferred, since the coded rows' keys were written from such a read: a sample drawn from
    numeric-looking ids ``0012`` holds ``12``), and a column read as integers in one chunk and as
    floats in another (a missing value) is made float, and one read as numbers in one chunk and as
    text in another is text (its kept cells read again as written), as a read of the whole file
    makes them.

    Parameters
    ----------
    kwic_path : str or Path
        ``theme_kwic.csv``.
    doc_ids : iterable
        The coded rows' ``doc_id`` values (as read from the coded file).
    chunk_rows : int
        Rows read at a time.

    Returns
    -------
    DataFrame
        The rows kept, in table order (index from 0).

    Raises
    ------
    ValueError
        When a theme row has an empty key cell: it could not be told apart from another row
        (the whole table's read failed on it before, converting an occurrence count).
    """
    forms = _id_forms(doc_ids)
    wanted = {*KEY, "kind", "left", "right"}
    kinds, pieces = {}, []
    for chunk in read_csv_chunks(kwic_path, kinds, chunk_rows, usecols=lambda c: c in wanted):
        rows = chunk[chunk["kind"] == "theme"] if "kind" in chunk else chunk
        empty = rows[[c for c in KEY[:-1] if c in rows]].isna()
        if empty.to_numpy().any():
            at, col = empty.any(axis=1).idxmax(), empty.columns[empty.any(axis=0)][0]
            raise ValueError(f"{kwic_path}: data row {at + 1} (a theme row) has an empty {col!r}: "
                             f"a KWIC row needs {', '.join(KEY[:-1])} to be told apart (rerun the themes rule)")
        pieces.append(rows[rows["doc_id"].astype(str).isin(forms)] if "doc_id" in rows else rows)
    if not pieces:  # no data rows: the header's columns
        return read_csv(kwic_path, usecols=lambda c: c in wanted, nrows=0)
    df = joined_chunks(pieces, kinds)  # indexed by the row's number in the file
    for c, dts in kinds.items():
        if len(dts) > 1 and not numeric_kinds(dts):  # text in some chunk: the whole column is text,
            df[c] = _as_written(kwic_path, c, df.index, chunk_rows)  # the kept rows' cells as written
    return df.reset_index(drop=True)


def _as_written(path, column: str, rows: pd.Index, chunk_rows: int) -> pd.Series:
    """The cells of ``column`` at file rows ``rows`` as text (a second pass over the file, made
    only when chunks read the column as numbers and as text: a read of the whole file reads it as
    text; pandas' own default read would mix numbers and text there, with a ``DtypeWarning``)."""
    parts = [c[c.index.isin(rows)] for c in read_csv(path, usecols=[column], dtype={column: object},
                                                         chunksize=chunk_rows)]
    return pd.concat(parts)[column].reindex(rows)


def write_precision(coded_path, kwic_path, codebook_path, out_path,
                    conf: float = _D["themes"]["conf_level"]) -> pd.DataFrame:
    """The ``precision`` rule: ``codebook_precision.csv`` from the coded file and the current KWIC.

    Parameters
    ----------
    coded_path : str, Path or None
        The coded rows; None or a missing file gives an empty table (and the log says how to make one).
    kwic_path : str or Path
        ``theme_kwic.csv``.
    codebook_path : str or Path
        The codebook (its hash is the table's version).
    out_path : str or Path
        The table to write.
    conf : float
        Confidence level of the Wilson interval.

    Returns
    -------
    DataFrame
        The table written (:func:`precision_table`).
    """
    from textdrift.codebook import codebook_hash

    version = codebook_hash(codebook_path)
    if coded_path is None or not Path(coded_path).exists():
        log.info("no coded rows (%s): run `make validation-sample`, code it, save it as the coded file", coded_path)
        table = pd.DataFrame(columns=PRECISION_COLUMNS)
    else:
        coded = read_csv(coded_path, dtype={"relevant": str})
        # theme_kwic.csv grows with the corpus (658 MB at 200 MB): only the coded documents' rows
        kwic = coded_documents_kwic(kwic_path, coded["doc_id"] if "doc_id" in coded else [])
        table = precision_table(coded, kwic, version, conf, source=str(coded_path))
        total = table[(table["theme"] == "all") & (table["lang"] == "all")]
        if len(total):
            r = total.iloc[0]
            log.info("precision %.3f (%d of %d coded rows that still match); %d coded rows no longer match",
                     r["precision"], r["relevant"], r["n_coded"], r["n_no_longer_matched"])
    write_csv(table, out_path)
    return table


def main(argv: list[str] | None = None) -> Path:
    """``python -m textdrift.validation sample --config config/config.yaml``: draw the sample of the
    current theme_kwic.csv into ``validation/sample-<codebook hash>.csv`` (never overwritten)."""
    from textdrift.codebook import codebook_hash
    from textdrift.config import load_yaml, with_defaults

    parser = argparse.ArgumentParser(prog="python -m textdrift.validation", description=main.__doc__)
    parser.add_argument("command", choices=["sample"])
    parser.add_argument("--config", default="config/config.yaml")
    args = parser.parse_args(argv)
    config = with_defaults(load_yaml(args.config))  # validation: the schema's defaults where not set
    v = config["validation"]
    version = codebook_hash(config["themes"]["codebook"])
    kwic = Path(config["results_dir"]) / "tables" / "theme_kwic.csv"
    if not kwic.exists():
        raise SystemExit(f"{kwic} does not exist: run `make run` first")
    out = Path(v["sample_dir"]) / f"sample-{version}.csv"
    if out.exists():
        print(f"{out} exists (this codebook's sample); code it and save the coded rows as {v['coded']}")
        return out
    coded = read_csv(v["coded"], dtype=str) if Path(v["coded"]).exists() else None
    sample = draw_sample(read_csv(kwic), version, int(v["per_cell"]), int(v["seed"]), coded)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_csv(sample, out)
    print(f"wrote {len(sample)} rows to {out}: read each context, write relevant = 1 or 0 (and a note), "
          f"then add the rows to {v['coded']}")
    return out


if __name__ == "__main__":
    main()


def run_precision(input, output, params, log) -> None:
    """Rule ``precision``: the codebook's precision from the hand-coded contexts.

    Parameters
    ----------
    input, output, params : Snakemake's named lists of the rule (``workflow/rules/validation.smk``)
        Attribute access by the names the rule gives; any object with those attributes works.
    log : list of str
        The job's log file (first item).
    """
    from textdrift.io import log_to_file

    log_to_file(log[0])
    write_precision(input.coded[0] if input.coded else None, input.kwic, input.codebook, output[0], params.conf_level)
