"""Small I/O helpers shared by every step: atomic writes, CSV/Parquet tables, the clean texts' file
and a rule's log file (the steps: :mod:`textdrift.cleanio` writes the clean texts,
:mod:`textdrift.manifest` ``documents.csv``).

Every output is written to a temporary file in the same directory and moved
into place with ``os.replace``, so an interrupted job never leaves a
half-written file that a rerun could take for a finished one.

About 580 lines: every step's tables pass through these few formats, so each writer and reader
lives here once (pandas' CSV bytes written through Arrow for the large tables, CSVs read in
chunks with the types a whole read gives, atomic writes, the texts' shard files, job logs).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["TEXT_COLUMNS", "atomic_write_bytes", "atomic_write_text", "atomic_writer", "concat_csv", "log_to_file",
           "csv_rows", "frame_csv_rows", "file_sha256", "joined_chunks", "numeric_kinds", "read_csv", "read_csv_chunks", "read_texts", "release_memory", "text_bytes", "write_arrow", "write_csv",
           "write_csv_batches", "write_csv_tables", "write_parquet", "write_texts"]


def _file_mode() -> int:
    """The mode ``open()`` gives a new file: 0o666 minus the process's umask."""
    try:  # Linux: read it without changing it (os.umask is process-wide, not thread-safe)
        with open("/proc/self/status", encoding="ascii") as fh:
            umask = next(int(line.split()[1], 8) for line in fh if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError):
        umask = os.umask(0o022)
        os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_writer(path: str | Path):
    """A binary file object whose content replaces ``path`` when the block ends without error.

    Written to a temporary file beside ``path``, then ``os.replace``; for outputs written piece by
    piece. On an error the temporary file is removed and ``path`` left as it was.

    Parameters
    ----------
    path : str or Path
        The file to write; its directory is created.

    Yields
    ------
    file object
        Open for binary writing.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fchmod(fh.fileno(), _file_mode())  # mkstemp makes 0600; outputs get the umask's mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (:func:`atomic_writer`).

    Parameters
    ----------
    path : str or Path
        The file to write.
    data : bytes
        Its whole content.
    """
    with atomic_writer(path) as fh:
        fh.write(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` as UTF-8, atomically.

    Parameters
    ----------
    path : str or Path
        The file to write.
    text : str
        Its whole content.
    """
    atomic_write_bytes(path, text.encode("utf-8"))


def write_csv(df: pd.DataFrame, path: str | Path, **kwargs) -> None:
    """Write a CSV (UTF-8, one header row, no index, LF line ends) atomically.

    Parameters
    ----------
    df : DataFrame
        The table.
    path : str or Path
        The file to write.
    **kwargs
        Passed to :meth:`pandas.DataFrame.to_csv`.
    """
    buf = io.StringIO()
    df.to_csv(buf, index=False, lineterminator="\n", **kwargs)
    atomic_write_text(path, buf.getvalue())


def write_csv_batches(frames, path: str | Path) -> None:
    """Write DataFrames as one CSV, atomically, without holding the whole text in memory.

    The bytes are those :func:`write_csv` writes for their concatenation.

    Parameters
    ----------
    frames : iterable of DataFrame
        At least one (e.g. batches of a large table); the first gives the header.
    path : str or Path
        The file to write.
    """
    with atomic_writer(path) as fh:
        for i, df in enumerate(frames):
            rows = frame_csv_rows(df)
            if rows is None:  # a column frame_csv_rows does not write: pandas
                fh.write(df.to_csv(index=False, header=i == 0, lineterminator="\n").encode("utf-8"))
                continue
            if i == 0:
                fh.write(df.iloc[:0].to_csv(index=False, lineterminator="\n").encode("utf-8"))
            for part in rows:
                fh.write(part)


def frame_csv_rows(df: pd.DataFrame) -> list | None:
    """The rows of a DataFrame as the bytes ``df.to_csv(index=False, header=False,
    lineterminator="\\n")`` writes, through :func:`csv_rows`; None when a column is neither int64
    (no nulls), float64 nor strings (then pandas).

    A float64 value is written as pandas writes it (no ``float_format``): numpy's ``str`` of the
    value, the shortest text that reads back as it, which is Python's ``repr`` of the float (NaN:
    the empty field); ``repr`` is about twice as fast, and Arrow's kernels then join the fields
    instead of pandas' row-by-row writer (``phrase_changes.csv``: 13 float columns). Tested byte
    for byte against pandas (tests/test_themes_identical.py).

    Parameters
    ----------
    df : DataFrame

    Returns
    -------
    list of pyarrow.Buffer or None
    """
    import pyarrow as pa

    if not df.columns.is_unique:
        return None
    cols = []
    for name in df.columns:
        s = df[name]
        if s.dtype == np.float64:
            v = s.to_numpy()
            cols.append(pa.array(list(map(repr, v.tolist())), type=pa.large_string(), mask=np.isnan(v)))
        elif s.dtype == np.int64:
            cols.append(pa.array(s.to_numpy()))
        elif pd.api.types.is_string_dtype(s.dtype):
            try:
                col = pa.array(s.to_numpy(dtype=object), from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError):  # not only strings (an object column of mixed values)
                return None
            if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type) or pa.types.is_null(col.type)):
                return None
            cols.append(col.cast(pa.large_string()) if pa.types.is_null(col.type) else col)
        else:
            return None
    return csv_rows(pa.table(cols, names=[str(i) for i in range(len(cols))]))


def _csv_quoted() -> str:
    """The characters of ``,"\\n\\r`` that make Python's csv writer quote a field, as pandas'
    ``to_csv`` calls it (QUOTE_MINIMAL, ``"`` doubled, ``lineterminator="\\n"``): CPython 3.11
    quotes a field holding the delimiter, the quote character or a character of the line
    terminator (so ``\\r`` is not quoted with ``"\\n"``); asked of the running interpreter."""
    import csv

    def quotes(c: str) -> bool:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow([f"a{c}b", "x"])
        return buf.getvalue().startswith('"')

    return "".join(c for c in ',"\n\r' if quotes(c))


def csv_rows(table) -> list | None:
    """The rows of an Arrow table as the bytes :func:`write_csv` writes for ``table.to_pandas()``
    (no header), built by Arrow's compute kernels instead of pandas' row-by-row writer; None when
    the table has a column it does not handle (then write the DataFrame).

    Handled: integer columns without nulls (their decimal digits, as pandas writes int64) and
    string columns (a null is the empty field, pandas' ``na_rep``; a value holding a character of
    :func:`_csv_quoted` is enclosed in ``"`` with each ``"`` doubled, Python's QUOTE_MINIMAL), at
    least two columns (a one-column row of an empty string is written ``""``). Tested byte for
    byte against pandas on adversarial strings (tests/test_themes_identical.py).

    Parameters
    ----------
    table : pyarrow.Table

    Returns
    -------
    list of pyarrow.Buffer or None
        The CSV text of the rows, in order (UTF-8, one ``\\n``-terminated line per row).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if table.num_columns < 2:
        return None
    special = np.frombuffer(_csv_quoted().encode("ascii"), dtype=np.uint8)
    text = pa.large_string()  # (64-bit offsets: a batch of lines may pass 2 GB)
    quote, comma, empty = (pa.scalar(c, text) for c in ('"', ",", ""))
    parts: list = []
    for col in table.columns:
        t = col.type
        if pa.types.is_integer(t) and col.null_count == 0:
            field = pc.cast(col, text)
        elif pa.types.is_string(t) or pa.types.is_large_string(t):
            field = pc.fill_null(pc.cast(col, text), empty).combine_chunks()
            need = _needs_quotes(field, special)
            if need is not None:  # only those values: "..." with each " doubled
                mine = pc.replace_substring(field.filter(need), '"', '""')
                field = pc.replace_with_mask(field, need, pc.binary_join_element_wise(quote, mine, quote, empty))
        else:
            return None
        parts += [field, comma]
    parts[-1] = pa.scalar("\n", text)
    lines = pc.binary_join_element_wise(*parts, empty)
    out = []
    for chunk in getattr(lines, "chunks", [lines]):
        if not len(chunk):
            continue
        offsets, data = chunk.buffers()[1:3]
        ends = np.frombuffer(offsets, dtype=np.int64)
        start, stop = int(ends[chunk.offset]), int(ends[chunk.offset + len(chunk)])
        out.append(data.slice(start, stop - start))
    return out


def _needs_quotes(values, special: np.ndarray):
    """Which values of a large-string Arrow array (no nulls) hold a byte of ``special`` (ASCII
    characters: in UTF-8 such a byte is never part of another character), as a pyarrow boolean
    array; None when none does. One pass over the array's bytes."""
    import pyarrow as pa

    if not len(values) or not len(special):
        return None
    ends = np.frombuffer(values.buffers()[1], dtype=np.int64)[values.offset:values.offset + len(values) + 1]
    data = values.buffers()[2]
    data = np.frombuffer(data, dtype=np.uint8)[ends[0]:ends[-1]] if data is not None else np.zeros(0, np.uint8)
    hit = data == special[0]
    for c in special[1:]:
        hit |= data == c
    at = np.flatnonzero(hit)
    if not len(at):
        return None
    need = np.zeros(len(values), dtype=bool)
    need[np.searchsorted(ends, at + ends[0], side="right") - 1] = True
    return pa.array(need)


def write_csv_tables(tables, path: str | Path, columns: list[str]) -> None:
    """Write Arrow tables as one CSV, atomically, in bounded memory: the header, then each
    table's rows as :func:`write_csv` writes ``table.to_pandas()`` (:func:`csv_rows`; a table it
    does not handle goes through pandas), as :func:`write_csv_batches` does with DataFrames.

    Parameters
    ----------
    tables : iterable of pyarrow.Table
        Their columns ``columns``, in that order.
    path : str or Path
        The file to write.
    columns : list of str
        The header.
    """
    with atomic_writer(path) as fh:
        fh.write(pd.DataFrame(columns=columns).to_csv(index=False, lineterminator="\n").encode("utf-8"))
        for t in tables:
            if list(t.column_names) != list(columns):
                raise ValueError(f"table columns {t.column_names} are not the header's {columns}")
            rows = csv_rows(t)
            if rows is None:
                fh.write(t.to_pandas().to_csv(index=False, header=False, lineterminator="\n").encode("utf-8"))
                continue
            for buf in rows:
                fh.write(buf)


def write_parquet(df: pd.DataFrame, path: str | Path) -> None:
    """Write a DataFrame to Parquet (no index), atomically (temp file + rename).

    Parameters
    ----------
    df : DataFrame
        The table.
    path : str or Path
        The file to write.
    """
    import pyarrow as pa

    write_arrow(pa.Table.from_pandas(df, preserve_index=False), path)


def write_arrow(table, path: str | Path) -> None:
    """Write an Arrow table to Parquet, atomically (temp file + rename).

    Parameters
    ----------
    table : pyarrow.Table
        The table, with its schema.
    path : str or Path
        The file to write.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = pa.BufferOutputStream()
    pq.write_table(table, buf)
    atomic_write_bytes(path, buf.getvalue().to_pybytes())


def release_memory() -> None:
    """Give the memory freed so far back to the system: Arrow's pool released and glibc's heap
    trimmed (``malloc_trim``; nothing where the C library has none).

    After large frees glibc raises its mmap threshold, so later arrays of up to 32 MB come from
    the heap and stay in the process when freed; a job that handles one shard (or language) after
    another then carries every earlier one's freed memory under its next peak.
    """
    import ctypes

    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def read_csv(path: str | Path, **kwargs) -> pd.DataFrame:
    """Read a CSV written by :func:`write_csv`: UTF-8, only an empty field is missing (not "NA").

    Parameters
    ----------
    path : str or Path
        The file to read.
    **kwargs
        Passed to :func:`pandas.read_csv`.

    Returns
    -------
    DataFrame
    """
    return pd.read_csv(path, keep_default_na=False, na_values=[""], encoding="utf-8", **kwargs)


def read_csv_chunks(path: str | Path, kinds: dict, chunk_rows: int, **kwargs):
    """:func:`read_csv` in chunks of ``chunk_rows`` rows (each chunk's index numbers the rows of the
    file), noting in ``kinds`` (column -> set of dtypes) what each chunk read every column as, for
    :func:`joined_chunks`.

    Parameters
    ----------
    path : str or Path
    kinds : dict
        Filled in: column -> the set of dtypes the chunks read it as.
    chunk_rows : int
    **kwargs
        Passed to :func:`read_csv`.

    Yields
    ------
    DataFrame
    """
    for chunk in read_csv(path, chunksize=chunk_rows, **kwargs):
        for c, dt in chunk.dtypes.items():
            kinds.setdefault(c, set()).add(dt)
        yield chunk


def numeric_kinds(dtypes) -> bool:
    """Whether every dtype of a column's chunks (:func:`read_csv_chunks`) is a number (booleans not).

    Parameters
    ----------
    dtypes : iterable of dtype

    Returns
    -------
    bool
    """
    return all(pd.api.types.is_numeric_dtype(d) and not pd.api.types.is_bool_dtype(d) for d in dtypes)


def joined_chunks(pieces: list[pd.DataFrame], kinds: dict) -> pd.DataFrame:
    """The rows kept from :func:`read_csv_chunks`' chunks as one table, a column read as integers in
    one chunk and as floats in another (a missing value) made float, as a read of the whole file
    makes it (a column read as numbers and as text is left as the chunks read it).

    Parameters
    ----------
    pieces : list of DataFrame
        The rows kept of each chunk, in file order (at least one).
    kinds : dict
        Column -> the dtypes the chunks read it as.

    Returns
    -------
    DataFrame
        Indexed by the rows' numbers in the file.
    """
    df = pd.concat(pieces)
    for c, dts in kinds.items():
        if len(dts) > 1 and numeric_kinds(dts):
            df[c] = df[c].astype(np.result_type(*dts))
    return df


TEXT_COLUMNS = ["doc_id", "lang", "para", "text"]


def text_bytes(paragraphs: list[str]) -> bytes:
    """A clean text as bytes: UTF-8, one paragraph per line, trailing newline.

    The index's ``sha256`` is computed over these bytes.

    Parameters
    ----------
    paragraphs : list of str
        Paragraphs without line breaks.

    Returns
    -------
    bytes
    """
    return "".join(p + "\n" for p in paragraphs).encode("utf-8")


def write_texts(texts: dict[tuple[str, str], list[str]], path: str | Path) -> None:
    """Write clean texts, ``{(doc_id, lang): paragraphs}``, as one Parquet file, atomically.

    One row per paragraph (:data:`TEXT_COLUMNS`; ``para`` = the token table's ``para``), texts in the
    order given. One file per shard rather than one per text: a declared output that object
    storage and cluster file systems handle as one object (no directories, no thousands of small
    files).

    Parameters
    ----------
    texts : dict
        ``(doc_id, lang) -> list of paragraphs``.
    path : str or Path
        The Parquet file (written even when ``texts`` is empty).
    """
    import pyarrow as pa

    cols = {"doc_id": [], "lang": [], "para": [], "text": []}
    for (doc_id, lang), paragraphs in texts.items():
        cols["doc_id"] += [doc_id] * len(paragraphs)
        cols["lang"] += [lang] * len(paragraphs)
        cols["para"] += list(range(len(paragraphs)))
        cols["text"] += list(paragraphs)
    schema = pa.schema([("doc_id", pa.string()), ("lang", pa.string()), ("para", pa.int32()), ("text", pa.string())])
    write_arrow(pa.Table.from_pydict(cols, schema=schema), path)


def read_texts(paths, doc_ids=None) -> dict[tuple[str, str], list[str]]:
    """The clean texts of one or more files of :func:`write_texts`: ``{(doc_id, lang): paragraphs}``.

    Parameters
    ----------
    paths : str, Path or list of them
        Files written by :func:`write_texts`.
    doc_ids : collection of str, optional
        Only these documents (filtered file by file, before any becomes a Python string).

    Returns
    -------
    dict
        In file order, then text order.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    wanted = None if doc_ids is None else pa.array(sorted({str(d) for d in doc_ids}), type=pa.string())
    texts: dict[tuple[str, str], list[str]] = {}
    for path in [paths] if isinstance(paths, (str, Path)) else paths:
        table = pq.read_table(path, columns=TEXT_COLUMNS)
        if wanted is not None:
            table = table.filter(pc.is_in(table["doc_id"].cast(pa.string()), value_set=wanted))
        cols = table.to_pydict()
        for doc_id, lang, text in zip(cols["doc_id"], cols["lang"], cols["text"]):
            texts.setdefault((doc_id, lang), []).append(text)
    return texts


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    str
        Hex digest.
    """
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def log_to_file(path: str | Path | None) -> logging.Logger:
    """Route the ``textdrift`` logger (and warnings) to a rule's log file.

    Parameters
    ----------
    path : str, Path or None
        The log file (overwritten); None logs nowhere new.

    Returns
    -------
    logging.Logger
        The ``textdrift`` logger, at level INFO.
    """
    logger = logging.getLogger("textdrift")
    logger.setLevel(logging.INFO)
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, mode="w", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logging.captureWarnings(True)
        logging.getLogger("py.warnings").addHandler(handler)
    return logger


def concat_csv(paths: list[str | Path], sort: list[str] | None = None) -> pd.DataFrame:
    """Concatenate per-shard CSV tables (all columns as text, order kept).

    Parameters
    ----------
    paths : list of str or Path
        The tables, in order.
    sort : list of str, optional
        Columns to sort the result by (stable sort).

    Returns
    -------
    DataFrame
        Empty (no columns) when ``paths`` is empty.
    """
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8") for p in paths]
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if sort and len(df):
        df = df.sort_values(sort, kind="stable").reset_index(drop=True)
    return df
