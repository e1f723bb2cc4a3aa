"""A per-language memo for the whole-corpus vocabulary jobs (`phrases`, `formulations`, `drift`,
`findings_vocabulary`, `merge_counts`, `export`): after a document is added in one language, the
other language's rows (`merge_counts`, `export`: its files) come from the memo.

What `drift`'s and `findings_vocabulary`'s rows depend on is written beside their keys
(:func:`textdrift.drift.write_drift`, :func:`textdrift.findings._language_key`).

What a language's rows depend on
--------------------------------
Both methods are corpus-wide but per language (read from the code):

* ``formulations`` (:func:`textdrift.formulations.new_formulations`): a language's rows are
  computed from that language's counted tokens alone (the columns
  :data:`textdrift.formulations.TOKEN_COLUMNS` of its rows whose ``role`` is counted), shard by
  shard in the order of the token shards, and its settings; the example sentences are read back
  from the same rows. Nothing is shared across languages (each language has its own units, vocabulary
  and spill files). Inside a language that is recomputed, each year's candidates are kept too,
  keyed by that year's units alone (:class:`textdrift.formulations._YearMemo`): the years a new
  document is not in are not counted again.
* ``phrases`` (:func:`textdrift.phrases.write_phrases`): a language's rows and steps come from its
  year, document and paragraph matrices (``year_{lang}.npz``, ``doc_{lang}.npz``,
  ``_findings/para_{lang}-{shard}.npz``: one language each), its counted tokens (the long phrases
  and the protected formulations, :func:`textdrift.phrases.long_counts`), its protected
  formulations (codebook, user dictionary, ``new_formulations.csv``: the list for that language),
  the settings, and, for ``genre_match``, the documents with kept tokens in that language (their
  id, year and genre: :func:`textdrift.manifest.step_documents`). The prior, the test and the
  ranking are computed within a language; the table is sorted by language first. With
  ``phrases.group_by`` the grouped table mixes the languages' documents per group: no memo then.
* ``merge_counts`` (:func:`textdrift.vectorize.merge_shard_matrices`): a language's two files
  (``doc_{lang}.npz``, ``year_{lang}.npz``) are merged from its shards' document matrices
  (``doc_{lang}-{shard}.npz``, in the rule's order) alone; its entry keeps the two files' bytes
  (:meth:`LanguageMemo.keep`, :meth:`LanguageMemo.restore`: the same bytes, since
  :func:`textdrift.vectorize.save_matrix` writes no time stamp).
* ``export`` (:func:`textdrift.vectorize.export_matrices`): a language's four files are made from
  its ``doc_{lang}.npz`` and, for the document variables, ``documents.csv``'s metadata columns of
  the matrix's documents (left-merged on ``doc_id``: those rows, and the columns' names and types,
  which the other language's rows can change); the entry keeps the four files' bytes.

The key
-------
A language's entry is keyed by the BLAKE2b digest of a canonical JSON of exactly those inputs
(:meth:`LanguageMemo.key`): the job, the language, the settings, the code (every module of the
package and the versions of Python and the numerical packages: :func:`textdrift.memo.code_digest`), the
SHA-256 of each per-language matrix file (the files :func:`textdrift.vectorize.save_matrix` writes
are byte-for-byte functions of the matrix: no time stamp), and, per token shard in order, the
digest of the language's rows of it (:func:`table_digest`: the values of the columns the job
reads, strings as their runs or numbered by first occurrence, not by Arrow's dictionaries, so the
other language's rows of the shard, which share those dictionaries, do not enter it). A token shard's per-language digest is itself
kept, keyed by the file's SHA-256 (a shard of several files, the explorer's partial index: each
file's), the language and the code (:meth:`LanguageMemo.shard_digests`):
a job that finds every shard's digest kept reads only the shards that changed (the one the new
document went to) before it knows whether the language hits. On a cold run (no digest kept) the
job reads every shard once, as without the memo, and records the digests as it reads.

The store
---------
One directory per job under ``language_memo.memo_dir`` (default ``cache/languages`` beside
``processed_dir``, i.e. ``data/cache/languages/<job>/``; removed by ``make clean-results``),
outside Snakemake's outputs. An entry is a pickled value written atomically (temporary file +
rename) after a header and a BLAKE2b digest of key and payload; a read checks both, so a truncated,
altered or undecodable entry is a logged miss (warning), recomputed, never a wrong row. Entries a
job did not use are removed after it (:meth:`LanguageMemo.prune`). A directory that cannot be
created or written only makes misses. ``language_memo.memo: false`` turns it off; like
``theme_matches.memo`` it is read from the configuration, not a rule param, so changing it reruns
nothing.

About 510 lines, half of them docstrings: what each job's key holds is written here, beside the
store and the digests that make it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from textdrift.config import Settings, setting
from textdrift.io import atomic_write_bytes, file_sha256
from textdrift.memo import EntryStore, MemoLocation, code_digest

__all__ = ["MAGIC", "LanguageMemo", "LanguageMemoSettings", "code_digest", "documents_of", "file_languages",
           "memo_for", "rows_digest", "table_digest"]

log = logging.getLogger("textdrift.langmemo")

#: the first bytes of every entry (the layout's version: a new layout makes every old entry a miss)
MAGIC = b"textdrift language memo 1\n"


@dataclass(frozen=True)
class LanguageMemoSettings(MemoLocation, Settings):
    """The memo's settings (the ``language_memo`` block of the configuration; defaults from the
    schema: ``LanguageMemoSettings.from_config(config)``).

    Attributes
    ----------
    memo : bool
        Whether the `phrases` and `formulations` jobs use the memo.
    memo_dir : str or None
        Its directory; None: ``cache/languages`` beside ``processed_dir``.
    """

    memo: bool = setting("language_memo", "memo")
    memo_dir: str | None = setting("language_memo", "memo_dir")
    NAME = "languages"


def table_digest(table: pa.Table, plain: bool = False) -> str:
    """Digest of an Arrow table's values: its column names and types and every row's values, in
    order. A string column (dictionary-encoded or not) is hashed as its runs of equal values
    (:func:`_runs`: doc_id, role and lang, whose runs are long) or as its values numbered in the
    order they first occur (:func:`_first_codes`: each row's number, then each number's string), so
    the digest does not depend on the dictionary a filtered read kept (the other language's words),
    nor on how the rows are chunked, nor on whether the column was read dictionary-encoded; a table
    read from the same rows has the same digest. SHA-256 (hardware-accelerated here: twice
    BLAKE2b's speed), its first 40 hex digits.

    Parameters
    ----------
    table : pyarrow.Table
    plain : bool
        Hash a string column that is not dictionary-encoded as its UTF-8 bytes and offsets (no
        hashing of its values into runs or codes: about half the time on the explorer's partial
        indexes): for a table that is always read the same way (a file of plain strings, as
        the rows of :func:`textdrift.explorer.write_shard_partials`); the digest differs from
        the default's.

    Returns
    -------
    str
        40 hex digits.
    """
    import pyarrow.compute as pc

    h = hashlib.sha256()
    h.update(str(table.num_rows).encode() + b"\0")
    for name, col in zip(table.column_names, table.columns):
        typ = col.type.value_type if pa.types.is_dictionary(col.type) else col.type
        text = pa.types.is_string(typ) or pa.types.is_large_string(typ)
        runs = None
        if text and plain and not pa.types.is_dictionary(col.type):  # its bytes, hashed below
            text, typ = False, pa.large_string()
        elif text and not pa.types.is_dictionary(col.type):
            first = col[0] if len(col) and not col.null_count else None
            if first is not None and len(col) >= 8 and first.is_valid and pc.all(pc.equal(col, first)).as_py():  # (_runs' rule)
                runs = [first.as_py()], np.asarray([len(col)], dtype=np.int64)  # one value (lang): one run
            else:
                col = pc.dictionary_encode(col)
        if text and runs is None:
            runs = _runs(col)
        if runs is not None:  # a column of long runs (doc_id, role, lang): each run's value and length
            values, lengths = runs
            h.update(f"{name}\0runs\0{len(values)}\0".encode())
            h.update(json.dumps(values, ensure_ascii=False).encode("utf-8") + b"\0" + lengths.tobytes())
            continue
        if text:  # each row's number (by first occurrence; -1 for a null), then each number's string
            codes, values = _first_codes(col)
            h.update(f"{name}\0codes\0{len(values)}\0".encode() + codes.tobytes())
            col = values
            typ = pa.large_string()
        col = pc.cast(col, typ) if col.type != typ else col
        arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
        h.update(f"{name}\0{typ}\0{arr.null_count}\0".encode())
        if arr.null_count:
            h.update(np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool).tobytes())
        if pa.types.is_large_string(typ):
            offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset:arr.offset + len(arr) + 1]
            data = arr.buffers()[2]
            h.update((offsets - offsets[0]).tobytes() if len(offsets) else b"")
            if len(offsets) and data is not None:
                h.update(memoryview(data)[int(offsets[0]):int(offsets[-1])])
        else:
            values = arr.to_numpy(zero_copy_only=False)
            if values.dtype == object:  # nulls in a numeric column: their positions are hashed above
                values = np.asarray(pd.Series(values).fillna(0).to_numpy(), dtype=np.float64)
            h.update(str(values.dtype).encode() + b"\0" + np.ascontiguousarray(values).tobytes())
    return h.hexdigest()[:40]


def rows_digest(rows, plain: bool = False) -> str:
    """:func:`table_digest` of a table, or of each table of a mapping (a shard's partial index of
    the explorer: part -> its rows) joined by ``/``.

    Parameters
    ----------
    rows : pyarrow.Table or mapping of str to pyarrow.Table
    plain : bool
        :func:`table_digest`'s.

    Returns
    -------
    str
    """
    if isinstance(rows, Mapping):
        return "/".join(table_digest(t, plain) for t in rows.values())
    return table_digest(rows, plain)


def _first_codes(col) -> tuple[np.ndarray, pa.Array]:
    """A dictionary-encoded string column as each row's value numbered in the order the values first
    occur (int32; -1 for a null) and those values in that order (a string array): a function of the
    values alone, whatever the dictionaries (the other language's words) and the chunks."""
    import pyarrow.compute as pc

    chunks = [c for c in (col.chunks if isinstance(col, pa.ChunkedArray) else [col]) if len(c)]
    if not chunks:
        return np.zeros(0, dtype=np.int32), pa.array([], type=pa.large_string())
    if len(chunks) > 1:
        chunks = pa.Table.from_arrays([pa.chunked_array(chunks)], ["c"]).unify_dictionaries().column(0).chunks
    dictionary = chunks[0].dictionary
    if len(pc.unique(dictionary)) < len(dictionary):  # repeated values: number the values themselves
        dictionary = pc.unique(dictionary)
        idx = np.concatenate([pc.index_in(c.dictionary.take(c.indices), value_set=dictionary)
                              .fill_null(-1).to_numpy(zero_copy_only=False) for c in chunks]).astype(np.int64)
    else:
        idx = np.concatenate([(c.indices.fill_null(-1) if c.indices.null_count else c.indices)
                              .to_numpy(zero_copy_only=False) for c in chunks]).astype(np.int64)
    codes, first = pd.factorize(idx, sort=False)
    codes = codes.astype(np.int32)
    null = np.flatnonzero(first < 0)
    if len(null):  # the null's number is -1; the others keep their order
        codes[codes == null[0]] = -1
        codes[codes > null[0]] -= 1
        first = np.delete(first, null)
    return codes, dictionary.take(pa.array(first, type=pa.int64()))


def _runs(col) -> tuple[list, np.ndarray] | None:
    """A dictionary-encoded column as its runs of equal values (each run's value, None for a null,
    and its length; adjacent runs of equal values merged, so the result depends on the values alone,
    not on the dictionaries or the chunks), or None when it has more than one run per 8 rows (then
    decoding it is as cheap; the count is of the merged runs, so the choice does not depend on the
    chunks either)."""
    chunks = [c for c in (col.chunks if isinstance(col, pa.ChunkedArray) else [col]) if len(c)]
    parts, edges = [], []
    for chunk in chunks:
        idx = chunk.indices
        codes = (idx.fill_null(-1) if idx.null_count else idx).to_numpy(zero_copy_only=False).astype(np.int64)
        starts = np.flatnonzero(np.concatenate([[True], codes[1:] != codes[:-1]]))
        ends = [int(codes[0]), int(codes[-1])]
        edges.append([None if c < 0 else chunk.dictionary[c].as_py() for c in ends])
        parts.append((chunk, codes, starts))
    merged = sum(len(p[2]) for p in parts) - sum(a[1] == b[0] for a, b in zip(edges[:-1], edges[1:]))
    if merged * 8 > len(col):
        return None
    values: list = []
    lengths: list = []
    for chunk, codes, starts in parts:
        first = codes[starts]
        taken = chunk.dictionary.take(pa.array(np.maximum(first, 0))).to_pylist() if len(chunk.dictionary) \
            else [None] * len(first)  # (only nulls)
        run_lengths = np.diff(np.append(starts, len(codes))).tolist()
        for c, v, n in zip(first.tolist(), taken, run_lengths):
            v = None if c < 0 else v
            if values and values[-1] == v:
                lengths[-1] += n
            else:
                values.append(v)
                lengths.append(n)
    return values, np.asarray(lengths, dtype=np.int64)


def documents_of(documents: pd.DataFrame | None, lang: str) -> list | None:
    """What ``genre_match`` reads of ``documents.csv`` for one language: the id, year and genre of
    each document with kept tokens in it (:func:`textdrift.manifest.step_documents`), sorted.

    Parameters
    ----------
    documents : DataFrame or None
    lang : str

    Returns
    -------
    list or None
    """
    if documents is None:
        return None
    col = f"tokens_{lang}"
    if col not in documents:
        return []
    d = documents[documents[col] > 0]
    genre = d["genre"] if "genre" in d else pd.Series(None, index=d.index, dtype=object)
    return sorted([str(i), int(y), None if pd.isna(g) else str(g)]
                  for i, y, g in zip(d["doc_id"], d["year"], genre))


class LanguageMemo(EntryStore):
    """One job's directory of entries (:class:`textdrift.memo.EntryStore`, values pickled):
    :meth:`get` and :meth:`put` by key, :meth:`shard_digests`, :meth:`prune` after the job.

    Parameters
    ----------
    directory : str or Path
        The job's directory (created when missing).
    job : str
        The job's name (part of every key).
    code : str, optional
        :func:`textdrift.memo.code_digest` (computed when not given).
    """

    def __init__(self, directory: str | Path, job: str, code: str | None = None):
        super().__init__(directory, job, MAGIC, "every language computed")
        self.job = job
        self.code = code or code_digest()
        self._sha: dict[str, str] = {}

    def key(self, **parts) -> str:
        """The key of an entry: the digest of a canonical JSON of ``parts``, the job and the code.

        Parameters
        ----------
        **parts
            JSON-serialisable values (lists, strings, numbers, None, dicts).

        Returns
        -------
        str
        """
        text = json.dumps({"job": self.job, "code": self.code, **parts}, sort_keys=True, ensure_ascii=False,
                          separators=(",", ":"), default=str)
        return hashlib.blake2b(text.encode("utf-8"), digest_size=20).hexdigest()

    def sha(self, path: str | Path) -> str:
        """SHA-256 of a file (computed once per job).

        Parameters
        ----------
        path : str or Path

        Returns
        -------
        str
        """
        p = str(path)
        if p not in self._sha:
            self._sha[p] = file_sha256(p)
        return self._sha[p]

    def get(self, key: str):
        """The value stored under ``key``, or None (a miss: absent, unreadable, corrupt or not
        decodable).

        Parameters
        ----------
        key : str

        Returns
        -------
        object or None
        """
        payload = super().get(key)
        if payload is None:
            return None
        try:
            value = pickle.loads(payload)
        except Exception as e:  # noqa: BLE001 - an entry that does not decode is a miss
            log.warning("%s memo: entry %s does not decode (%s): recomputed", self.job, self._path(key), e)
            value = None
        if value is None:
            self.hits -= 1
            self.bad += 1
            self.misses += 1
            self.discard(key)
        return value

    def put(self, key: str, value) -> None:
        """Store ``value`` (pickled) under ``key``, atomically (temporary file + rename).

        Parameters
        ----------
        key : str
        value : object
            Not None.
        """
        super().put(key, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))

    def _digest_key(self, path, lang: str) -> str:
        shard = [self.sha(p) for p in path.values()] if isinstance(path, Mapping) else self.sha(path)
        return self.key(what="shard digest", shard=shard, lang=lang)

    def known_digest(self, path, lang: str) -> str | None:
        """The kept digest of ``lang``'s rows of a token shard (None when not kept).

        Parameters
        ----------
        path : str, Path or mapping
            The token shard (its SHA-256 names the entry), or a shard's files (name -> file: the
            explorer's partial index; each file's SHA-256, in order).
        lang : str

        Returns
        -------
        str or None
        """
        value = self.get(self._digest_key(path, lang))
        return value if isinstance(value, str) else None

    def keep_digest(self, path, lang: str, digest: str) -> None:
        """Keep the digest of ``lang``'s rows of a token shard.

        Parameters
        ----------
        path : str, Path or mapping
            As in :meth:`known_digest`.
        lang : str
        digest : str
        """
        self.put(self._digest_key(path, lang), digest)

    def shard_digests(self, paths, lang: str, read, plain: bool = False) -> list[str] | None:
        """The digest of ``lang``'s rows of every token shard: the kept ones, the others computed
        (``read(path, lang)``: the Arrow table the job reads, or a mapping of tables,
        :func:`rows_digest`) and kept; None when none is kept (a cold run: the job then records
        them as it reads every shard anyway).

        Parameters
        ----------
        paths : list of str, Path or mapping
            The shards (a mapping: a shard's files, :meth:`known_digest`).
        lang : str
        read : callable
            ``read(path, lang) -> pyarrow.Table`` (or a mapping of name -> table).
        plain : bool
            :func:`table_digest`'s.

        Returns
        -------
        list of str or None
        """
        if not _all_files(paths):
            return None
        known = [self.known_digest(p, lang) for p in paths]
        if not any(known):
            return None
        out = []
        for path, digest in zip(paths, known):
            if digest is None:
                digest = rows_digest(read(path, lang), plain)
                self.keep_digest(path, lang, digest)
            out.append(digest)
        return out

    def restore(self, key: str, paths) -> bool:
        """Write the files kept under ``key`` (their bytes, atomically) to ``paths``: whether they were kept.

        Parameters
        ----------
        key : str
        paths : list of str or Path
            The files, in the order :meth:`keep` was given them.

        Returns
        -------
        bool
        """
        value = self.get(key)
        if not (isinstance(value, list) and len(value) == len(paths) and all(isinstance(v, bytes) for v in value)):
            return False
        for path, data in zip(paths, value):
            atomic_write_bytes(path, data)
        return True

    def keep(self, key: str, paths) -> None:
        """Keep the bytes of the files ``paths`` (just written) under ``key``, for :meth:`restore`.

        Parameters
        ----------
        key : str
        paths : list of str or Path
        """
        self.put(key, [Path(p).read_bytes() for p in paths])

    def finish(self) -> str:
        """After the job: :meth:`prune`, then the line for its log (:meth:`summary`).

        Returns
        -------
        str
        """
        self.prune()
        return self.summary()


def file_languages(path, prefix: str, languages) -> list[str]:
    """The languages whose rows a per-language matrix file may hold: the one its name says
    (``{prefix}_{lang}-*``, as the ``count`` rule names them), or every language for a file named
    otherwise (then the file enters every language's key).

    Parameters
    ----------
    path : str or Path
    prefix : str
        ``doc``, ``para``.
    languages : sequence of str

    Returns
    -------
    list of str
    """
    name = Path(path).name
    return [lang for lang in languages if name.startswith(f"{prefix}_{lang}-")] or list(languages)


def _all_files(paths) -> bool:
    return all(isinstance(p, (str, Path)) or (isinstance(p, Mapping) and _all_files(p.values())) for p in paths)


def for_files(memo: LanguageMemo | None, paths) -> LanguageMemo | None:
    """``memo`` when every input of ``paths`` is a file path, else None: a key names the inputs by
    their files' digests, so inputs given as objects (matrices or token tables: tests) are computed
    without a memo.

    Parameters
    ----------
    memo : LanguageMemo or None
    paths : iterable
        The job's inputs (paths, or objects).

    Returns
    -------
    LanguageMemo or None
    """
    return memo if memo is not None and _all_files(paths) else None


def memo_for(config: dict | None, job: str) -> LanguageMemo | None:
    """The memo of a job under a configuration (None when the memo is off or there is no configuration).

    Parameters
    ----------
    config : dict or None
        The workflow's configuration (the ``language_memo`` block and ``processed_dir``).
    job : str
        ``phrases``, ``formulations``, ``drift``, ``findings_vocabulary``, ``merge_counts`` or
        ``export`` (its directory's name).

    Returns
    -------
    LanguageMemo or None
    """
    if config is None:
        return None
    where = LanguageMemoSettings.from_config(config).directory(config.get("processed_dir"))
    return None if where is None else LanguageMemo(where / job, job)
