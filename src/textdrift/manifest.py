"""The document manifest (``data/raw/documents.csv``): load, validate, shard, group; the first
step, before the cleaning stage (:mod:`textdrift.cleanio` reads each row's file).

One row per source file: ``doc_id, date, year, title, source, file``, the
optional ``languages, encoding, notes, title_<lang>`` and the optional document
metadata ``METADATA`` (``genre`` from ``GENRES``, ``issuer``, ``original_language``,
``translation``, ``url``, ``retrieved``), which :func:`documents_table` echoes in
``results/tables/documents.csv``. Validation runs before any job and
reports every problem with its row number as a spreadsheet shows it (the header
is row 1, the first document row 2), its ``doc_id`` and the field, so a
hand-typed manifest can be fixed from the message alone; a file that does not
exist is reported with the closest existing file name.
"""

from __future__ import annotations

import codecs
import math
import datetime as _dt
import warnings
import zlib
from pathlib import Path

import pandas as pd
from textdrift.config import defaults, enum_hint, import_jsonschema, load_yaml

_D = defaults()  # the configuration schema's defaults: every keyword default below that is a config setting

__all__ = ["CLEAN_COLUMNS", "GENRES", "METADATA", "OPTIONAL", "REQUIRED", "SHARD_MB", "STEP_COLUMNS", "ManifestError", "auto_shards",
           "check_group_by", "document_groups", "documents_table", "languages_of", "load_manifest", "run_documents",
           "shard_of", "step_documents", "with_group"]

REQUIRED = ["doc_id", "date", "title", "file"]
#: document metadata: what kind of text each is, who issued it, which version is a translation
METADATA = ["genre", "issuer", "original_language", "translation", "url", "retrieved"]
OPTIONAL = ["year", "source", "languages", "encoding", "notes", *METADATA]
#: the controlled list of ``genre`` (also in workflow/schemas/manifest.schema.yaml)
GENRES = ["proposal", "statement", "white_paper", "non_paper", "speech", "report", "declaration",
          "communique", "plan", "law", "news", "article", "other", "unknown"]
#: the manifest columns the cleaning step needs (a change to any other column reruns nothing)
CLEAN_COLUMNS = ["doc_id", "year", "path", "encoding", "languages", "title"]


class ManifestError(ValueError):
    """The manifest cannot be used; the message lists every problem found (``problems``: one per item)."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = list(problems) if problems else [message]


def _digits(name: str) -> list[str]:
    """The short numbers (up to 4 digits: years, issue and part numbers) in a file name: a
    suggestion for a missing file must have the same ones (``gwr_2026.txt`` is another document
    than ``gwr_2025.txt``, not a typo of it); longer digit runs are identifiers, where typos are."""
    import re

    return [n for n in re.findall(r"\d+", name) if len(n) <= 4]


def _schema(path: str | Path | None) -> dict:
    if path is None:
        path = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "manifest.schema.yaml"
    return load_yaml(path)


def load_manifest(
    path: str | Path,
    raw_dir: str | Path | None = None,
    years: tuple[int, int] = (_D["years"]["min"], _D["years"]["max"]),
    schema: str | Path | None = None,
    warn=None,
) -> pd.DataFrame:
    """Read, validate and normalise the manifest.

    Parameters
    ----------
    path : str or Path
        ``documents.csv``.
    raw_dir : str or Path, optional
        The directory of the raw files (default: the manifest's directory).
    years : (int, int)
        The years allowed, inclusive.
    schema : str or Path, optional
        The manifest schema (default: ``workflow/schemas/manifest.schema.yaml``).
    warn : callable, optional
        Called with each warning's message (default: ``warnings.warn``).

    Returns
    -------
    DataFrame
        Every column of the data contract (optional ones filled with ""), ``year`` as int (derived
        from ``date`` when empty) and ``path``: the absolute path of the raw file.

    Raises
    ------
    ManifestError
        Naming row, doc_id and field for each problem: missing columns, schema violations,
        duplicate ``doc_id``, impossible dates, a year outside ``years``, a ``file`` outside
        ``raw_dir`` (``..``, an absolute path, a symbolic link that leads out) or missing, a file
        named by two rows, an unknown ``encoding``. Files in ``raw_dir`` that no row names are
        only warned about.
    """
    path = Path(path)
    raw_dir = Path(raw_dir) if raw_dir is not None else path.parent
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as err:
        raise ManifestError(f"{path}: cannot read the manifest as UTF-8 CSV: {err}") from err
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise ManifestError(
            f"{path}: missing required column(s) {missing}; the header must contain "
            f"{REQUIRED} and may contain {OPTIONAL}"
        )
    for col in OPTIONAL:
        if col not in df.columns:
            df[col] = ""
    df = df.map(lambda v: v.strip() if isinstance(v, str) else v)

    validator = import_jsonschema().Draft202012Validator(_schema(schema))
    problems: list[str] = []
    raw_root = raw_dir.resolve()
    years_out: list[int | None] = []
    named_by: dict[str, list[int]] = {}
    abs_paths: list[str] = []
    for i, row in enumerate(df.to_dict("records"), start=2):  # the spreadsheet's row: the header is row 1
        where = f"{path} row {i} (doc_id={row['doc_id']!r})"
        record = {k: v for k, v in row.items() if v != ""}
        if "year" in record:
            try:
                record["year"] = int(record["year"])
            except ValueError:
                problems.append(f"{where}, field 'year': {row['year']!r} is not an integer year")
                record.pop("year")
        for err in validator.iter_errors(record):
            field = err.path[0] if err.path else (err.message.split("'")[1] if "'" in err.message else "?")
            problems.append(f"{where}, field '{field}': {err.message}{enum_hint(err)}")
        year = None
        date = row["date"]
        if date:
            try:
                parts = [int(p) for p in date.split("-")]
                _dt.date(parts[0], *(parts[1:] + [1] * (3 - len(parts))))
                year = parts[0]
            except (ValueError, TypeError):
                problems.append(f"{where}, field 'date': {date!r} is not a valid ISO date (YYYY-MM-DD)")
        if isinstance(record.get("year"), int):
            if year is not None and record["year"] != year:
                problems.append(f"{where}, field 'year': {record['year']} disagrees with date {date!r}")
            year = record["year"]
        if year is not None and not years[0] <= year <= years[1]:
            problems.append(
                f"{where}, field 'year': {year} is outside the configured range {years[0]}-{years[1]} "
                "(config: years)"
            )
        years_out.append(year)
        if row["encoding"]:
            try:
                codecs.lookup(row["encoding"])
            except LookupError:
                problems.append(
                    f"{where}, field 'encoding': {row['encoding']!r} is not an encoding Python knows "
                    "(e.g. utf-8, utf-16, gb18030, big5, cp950, cp1252); leave it empty to detect it"
                )
        declared = set(languages_of(row))
        listed = [part.split(":")[0] for part in row["translation"].split(";") if ":" in part]
        if declared and listed and not set(listed) <= declared:
            problems.append(
                f"{where}, field 'translation': {row['translation']!r} names language(s) "
                f"{sorted(set(listed) - declared)} that the row's languages {row['languages']!r} do not declare"
            )
        target = (raw_dir / row["file"]).resolve() if row["file"] else None
        if target is not None:
            link = raw_dir / row["file"]
            hops = [link, *(q for q in link.parents if raw_dir in q.parents)]
            via = f" (through a symbolic link, to {target})" if any(q.is_symlink() for q in hops) else ""
            if Path(row["file"]).is_absolute():
                problems.append(
                    f"{where}, field 'file': {row['file']!r} is an absolute path; give the path relative to "
                    f"{raw_dir}/ and keep the file there (raw data are read only from {raw_dir}/)"
                )
            elif raw_root not in target.parents:
                problems.append(
                    f"{where}, field 'file': {row['file']!r} points outside {raw_dir}/{via}; copy the file "
                    f"into {raw_dir}/ and name it relative to that folder"
                )
            elif target == path.resolve():
                problems.append(f"{where}, field 'file': {row['file']!r} is the manifest itself")
            elif not target.is_file():
                import difflib

                present = sorted(str(f.relative_to(raw_root)) for f in raw_root.rglob("*") if f.is_file()
                                 and f.resolve() != path.resolve())
                close = [c for c in difflib.get_close_matches(str(row["file"]), present, n=3, cutoff=0.6)
                         if _digits(c) == _digits(str(row["file"]))]  # never another year's or number's file
                problems.append(
                    f"{where}, field 'file': {row['file']!r} does not exist in {raw_dir}/{via}"
                    + (" (it is a folder)" if target.is_dir() else f"; did you mean {close[0]!r}?" if close else "")
                )
            else:
                named_by.setdefault(str(target), []).append(i)
        abs_paths.append(str(target) if target else "")
    for target, rows in named_by.items():
        if len(rows) > 1:
            problems.append(
                f"{path} rows {', '.join(map(str, rows))}, field 'file': the same file "
                f"{Path(target).relative_to(raw_root)!s} is named more than once (its text would be counted "
                "twice); one row per source file"
            )
    dupes = df["doc_id"][df["doc_id"].duplicated(keep=False) & (df["doc_id"] != "")]
    for doc_id in sorted(set(dupes)):
        rows = [str(i + 2) for i in df.index[df["doc_id"] == doc_id]]  # spreadsheet rows
        problems.append(f"{path} rows {', '.join(rows)}, field 'doc_id': duplicate doc_id {doc_id!r}")
    if problems:
        raise ManifestError("invalid manifest:\n  " + "\n  ".join(problems), problems)

    df["year"] = pd.array(years_out, dtype="int64")
    df["path"] = abs_paths
    named = {Path(p) for p in abs_paths} | {path.resolve()}
    unnamed = sorted(
        str(p.relative_to(raw_root)) for p in raw_root.rglob("*")
        if p.is_file() and p.resolve() not in named and not p.name.startswith(".")
    )
    if unnamed:
        message = (
            f"{len(unnamed)} file(s) in {raw_dir}/ are not named in {path.name} and are ignored: "
            + ", ".join(unnamed[:10]) + (", ..." if len(unnamed) > 10 else "")
            + f"; add a row for each document to analyse (`make manifest` proposes them) or move the file out "
            f"of {raw_dir}/"
        )
        if warn is None:
            warnings.warn(message, stacklevel=2)
        else:
            warn(message)
    return df


#: ``shards: auto`` aims at about this much raw text per shard (MB, 10^6 bytes)
SHARD_MB = 12


def auto_shards(raw_bytes: int, cores: int, shard_mb: float = SHARD_MB) -> int:
    """The number of shards for ``shards: auto``: about ``shard_mb`` of raw text each, at least one
    per core.

    Enough shards to keep every core busy on a small corpus; on a large one, shards of about
    ``shard_mb`` MB, the size at which a per-shard job's memory stays well under 1.5 GB (docs/cluster.md)
    and the slowest shard does not hold up the run. The results do not depend on the number of
    shards (only ``data/processed/``'s layout does); a change of it reruns every per-shard job.

    Parameters
    ----------
    raw_bytes : int
        Total size of the raw files of the manifest.
    cores : int
        CPU cores of the machine running the workflow.
    shard_mb : float
        Target raw megabytes per shard.

    Returns
    -------
    int
        ``max(cores, ceil(raw_bytes / (shard_mb * 10**6)))``, at least 1.
    """
    return max(1, int(cores), math.ceil(raw_bytes / (shard_mb * 1e6)))


def shard_of(doc_id: str, n_shards: int) -> int:
    """Stable shard of a document: CRC-32 of its doc_id modulo ``n_shards``.

    Stable across runs and machines (unlike ``hash()``), so adding a document changes the input of
    one shard only.

    Parameters
    ----------
    doc_id : str
        The document's id.
    n_shards : int
        The number of shards.

    Returns
    -------
    int
        In ``range(n_shards)``.
    """
    return zlib.crc32(doc_id.encode("utf-8")) % n_shards


def documents_table(manifest: pd.DataFrame, paras: pd.DataFrame, languages) -> pd.DataFrame:
    """``results/tables/documents.csv``: one row per document of the manifest.

    Parameters
    ----------
    manifest : DataFrame
        From :func:`load_manifest`.
    paras : DataFrame
        Kept tokens per paragraph (``counting.PARA_COLUMNS``, the ``count`` rule's files), so
        the counts are the denominators every analysis uses.
    languages : list of str
        The configured languages.

    Returns
    -------
    DataFrame
        ``doc_id, year, date, title``, the metadata (``METADATA``), ``source``, ``file``,
        ``sha256`` (of the raw file as received), ``tokens_<lang>`` (kept tokens of the counted
        paragraphs; 0 when the document has no text in it) and ``tokens`` (their sum).
    """
    import hashlib

    df = manifest.copy()
    df["sha256"] = [hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in df["path"]]
    per = paras.groupby(["doc_id", "lang"])["keep"].sum() if len(paras) else pd.Series(dtype="int64")
    for lang in languages:
        df[f"tokens_{lang}"] = [int(per.get((d, lang), 0)) for d in df["doc_id"]]
    df["tokens"] = df[[f"tokens_{lang}" for lang in languages]].sum(axis=1).astype("int64")
    # a user's own manifest columns (e.g. "region") follow the metadata: any of them can be a group_by
    own = [c for c in manifest.columns if c not in KNOWN_COLUMNS and not c.startswith("title_")]
    cols = ["doc_id", "year", "date", "title", *METADATA, *own, "source", "file", "sha256",
            *[f"tokens_{lang}" for lang in languages], "tokens"]
    return df[cols].sort_values(["year", "doc_id"], kind="stable").reset_index(drop=True)


#: manifest columns that describe the file, not the document (never a ``group_by``)
NOT_GROUPS = ("doc_id", "year", "date", "title", "file", "path", "encoding", "languages", "notes", "source",
              "url", "retrieved", "shard")
#: the manifest's own columns and the ones :func:`load_manifest` adds (other columns are the user's)
KNOWN_COLUMNS = (*NOT_GROUPS, *METADATA)
#: the group of a document whose ``group_by`` column is empty
UNKNOWN_GROUP = "unknown"


def check_group_by(column: str | None, columns) -> None:
    """Check the config's ``group_by``: None or a manifest column that describes documents.

    Parameters
    ----------
    column : str or None
        ``group_by`` (``genre``, ``issuer``, a column of the user's own ...).
    columns : iterable of str
        The manifest's columns.

    Raises
    ------
    ValueError
        Naming the columns that can group documents.
    """
    if column is None:
        return
    allowed = [c for c in columns if c not in NOT_GROUPS and not c.startswith("title_")]
    if column not in allowed:
        raise ValueError(f"config group_by: {column!r} is not a manifest column that can group documents; "
                         f"choose one of {', '.join(allowed) or '(none: add a column such as genre)'} or null")


def document_groups(documents: pd.DataFrame, column: str) -> dict[str, list[str]]:
    """Config ``group_by``: the documents of each value of ``column``.

    Each analysis then runs on each group's documents alone, as quanteda's ``dfm_group`` groups a
    dfm by a document variable, and writes its table with a leading ``group`` column.

    Parameters
    ----------
    documents : DataFrame
        ``documents.csv`` rows (:func:`documents_table`).
    column : str
        The grouping column.

    Returns
    -------
    dict of str to list of str
        ``{value: [doc_id, ...]}`` in value order; an empty value is the group ``unknown``.

    References
    ----------
    quanteda's ``dfm_group``: https://quanteda.io/reference/dfm_group.html
    """
    if column not in documents.columns:
        raise ValueError(f"group_by: the documents table has no column {column!r}")
    values = documents[column].fillna("").astype(str).str.strip()
    values = values.where(values != "", UNKNOWN_GROUP)
    return {g: documents.loc[values == g, "doc_id"].astype(str).tolist() for g in sorted(set(values))}


def with_group(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One table from ``{group: table}``: the tables stacked, a ``group`` column first.

    Parameters
    ----------
    frames : dict of str to DataFrame
        One table per group.

    Returns
    -------
    DataFrame
    """
    parts = [f.assign(group=g)[["group", *f.columns]] for g, f in frames.items()]
    full = [p for p in parts if len(p)]  # (an empty group's table would turn integer columns into floats)
    return pd.concat(full or parts[:1], ignore_index=True) if parts else pd.DataFrame(columns=["group"])


#: columns :func:`step_documents` adds to a table of steps (lang, year_from, year_to)
STEP_COLUMNS = ["docs_from", "docs_to", "genres_from", "genres_to", "genre_match"]


def step_documents(table: pd.DataFrame, documents: pd.DataFrame) -> pd.DataFrame:
    """``table`` with ``STEP_COLUMNS`` appended: which documents stand on each side of each step.

    Parameters
    ----------
    table : DataFrame
        Rows with ``lang, year_from, year_to``.
    documents : DataFrame
        :func:`documents_table` (``results/tables/documents.csv``).

    Returns
    -------
    DataFrame
        With the documents of each side (those with kept tokens in that language and year,
        ``;``-joined), their genres (sorted, ``;``-joined; ``unknown`` when not given) and
        ``genre_match``: ``same`` (both sides have the same genres), ``partial`` (they share one),
        ``different`` (none shared) or ``unknown`` (a side has a document of unknown genre).
    """
    out = table.copy()
    if out.empty:
        for c in STEP_COLUMNS:
            out[c] = pd.Series(dtype=object)
        return out
    docs = documents.copy()
    docs["genre"] = docs["genre"].where(docs["genre"].notna() & (docs["genre"].astype(str) != ""), "unknown")
    sides: dict[tuple, tuple[str, str, frozenset]] = {}

    def side(lang, year):
        key = (lang, year)
        if key not in sides:
            col = f"tokens_{lang}"
            d = docs[(docs["year"].astype(int) == int(year)) & (docs[col] > 0)] if col in docs else docs.iloc[:0]
            genres = frozenset(d["genre"].astype(str))
            sides[key] = (";".join(sorted(d["doc_id"].astype(str))), ";".join(sorted(genres)), genres)
        return sides[key]

    rows = [(side(r.lang, r.year_from), side(r.lang, r.year_to)) for r in out[["lang", "year_from", "year_to"]].itertuples()]
    out["docs_from"] = [a[0] for a, _ in rows]
    out["docs_to"] = [b[0] for _, b in rows]
    out["genres_from"] = [a[1] for a, _ in rows]
    out["genres_to"] = [b[1] for _, b in rows]
    out["genre_match"] = ["unknown" if "unknown" in a[2] | b[2] or not a[2] or not b[2] else
                          "same" if a[2] == b[2] else "partial" if a[2] & b[2] else "different" for a, b in rows]
    return out


def languages_of(row: dict) -> list[str]:
    """The languages a manifest row declares.

    Parameters
    ----------
    row : dict
        A manifest row (``languages``: ``;``-separated codes).

    Returns
    -------
    list of str
        Empty when not declared.
    """
    return [x for x in str(row.get("languages", "")).split(";") if x]


def run_documents(input, output, params, log) -> None:
    """Rule ``documents``: the documents table (manifest metadata with each text's paragraphs and tokens).

    Parameters
    ----------
    input, output, params : Snakemake's named lists of the rule (``workflow/rules/documents.smk``)
        Attribute access by the names the rule gives; any object with those attributes works.
    log : list of str
        The job's log file (first item).
    """
    from textdrift.io import log_to_file

    log_to_file(log[0])
    from textdrift.counting import PARA_COLUMNS, read_shards
    from textdrift.io import write_csv

    paras = read_shards(input.paras, PARA_COLUMNS)
    write_csv(documents_table(pd.DataFrame(params.manifest), paras, params.languages), output[0])
