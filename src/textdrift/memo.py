"""What the workflow's memos share: a directory of checksummed entries, the code digest every key
includes, and where a memo lives.

A memo keeps a job's results between runs, outside Snakemake's outputs (``data/cache/`` beside
``processed_dir``; ``make clean-results`` removes it), so that a rerun recomputes only what its
inputs changed: a text's tokens (:class:`textdrift.segment.TextMemo`), the theme matches per theme
(:mod:`textdrift.matchmemo`), a language's phrases,
formulations and drift (:mod:`textdrift.langmemo`), the crosslingual paragraph alignment
(:class:`textdrift.crosslingual.AlignmentMemo`, one file). The outputs are the same with or
without a memo; a memo only saves time, so it never fails a job:

* :class:`EntryStore`: one file per key, ``MAGIC`` + a BLAKE2b check of (key, payload) + the payload,
  written atomically (temporary file + rename); an entry that is missing, unreadable or whose check
  does not match is a miss (logged, and the corrupt file removed); a directory that cannot be
  created or written only stores nothing (logged); :meth:`EntryStore.prune` removes after the job
  every file that is not an entry the job used (old keys, temporary files of an interrupted write).
* :func:`code_digest`: the bytes of every module of the package and the versions of Python and of
  the numerical packages, so that any change to the code makes every entry a miss.
* :class:`MemoLocation`: a memo's directory from its ``memo`` / ``memo_dir`` settings.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from textdrift.config import cache_dir
from textdrift.io import atomic_write_bytes, atomic_write_text

__all__ = ["EntryStore", "MemoLocation", "chart_key", "code_digest", "keep_chart", "kept_chart"]

log = logging.getLogger("textdrift.memo")

_DIGEST = 32  # bytes of the BLAKE2b check after MAGIC
_SUFFIX = ".memo"
#: the packages whose versions are part of :func:`code_digest`
PACKAGES = ("numpy", "pandas", "pyarrow", "scikit-learn", "scipy", "statsmodels")


def frame_bytes(df) -> bytes:
    """What a key hashes of a table: its column names, dtypes and length, then every row's values in
    order (``pandas.util.hash_pandas_object``, index not included: exact bytes of numbers, the text
    of strings; the same in every process), for the memos' keys (:func:`chart_key`,
    :func:`textdrift.findings._language_key`).

    Parameters
    ----------
    df : DataFrame

    Returns
    -------
    bytes
    """
    import pandas as pd

    head = json.dumps([[str(c) for c in df.columns], [str(t) for t in df.dtypes], len(df)], ensure_ascii=False)
    rows = pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes() if len(df.columns) and len(df) else b""
    return head.encode("utf-8") + b"\0" + rows


def _environment() -> str:
    """The versions of the packages that draw a chart (matplotlib with its FreeType, its layout solver
    kiwisolver, numpy, pandas, the CJK font's package), for :func:`chart_key`."""
    from importlib.metadata import PackageNotFoundError, version

    names = ("matplotlib", "kiwisolver", "numpy", "pandas", "mplfonts")
    out = []
    for name in names:
        try:
            out.append(f"{name}={version(name)}")
        except PackageNotFoundError:
            out.append(f"{name}=?")
    return ";".join(out)


def chart_key(parts: Sequence, code: str, dpi: int) -> str:
    """SHA-256 of what one chart is drawn from: its rows, its settings, the code and the packages.

    Parameters
    ----------
    parts : sequence
        The chart's data: DataFrames (hashed by their column names, dtypes and every row's values:
        :func:`textdrift.memo.frame_bytes`) and
        scalars or None (by ``repr``), in a fixed order.
    code : str
        The identity of the library code that draws it (a rule's ``code`` param:
        :func:`textdrift.provenance.code_hash` of its script).
    dpi : int

    Returns
    -------
    str
        64 hex digits; any change to a row, a setting, the code, the dpi or a drawing package's
        version changes it.
    """
    import pandas as pd

    h = hashlib.sha256()
    for value in (code, dpi, _environment(), *parts):
        if isinstance(value, pd.DataFrame):
            h.update(b"frame\0" + frame_bytes(value))
        else:
            h.update(b"value\0" + repr(value).encode("utf-8") + b"\0")
    return h.hexdigest()


def _kept_files(stem: Path, memo_dir: str | Path) -> tuple[list[Path], Path]:
    """Where a chart is kept in ``memo_dir``: its PNG and SVG, and the file holding its key."""
    kept = Path(memo_dir) / stem.name
    return [kept.with_name(f"{kept.name}.{ext}") for ext in ("png", "svg")], kept.with_name(f"{kept.name}.key")


def keep_chart(paths: list[Path], key: str, memo_dir: str | Path) -> None:
    """Keep a chart just drawn (its PNG and SVG, ``paths``) in ``memo_dir`` under ``key``, for
    :func:`kept_chart`; the key is written last, so an interrupted store is never taken for a kept chart.

    Parameters
    ----------
    paths : list of Path
        The PNG and the SVG, as :func:`textdrift.figures.save_figure` returns them.
    key : str
        :func:`chart_key` of what the chart was drawn from.
    memo_dir : str or Path
    """
    files, key_file = _kept_files(Path(paths[0]).with_suffix(""), memo_dir)
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.unlink(missing_ok=True)
    for f, path in zip(files, paths):
        atomic_write_bytes(f, Path(path).read_bytes())
    atomic_write_text(key_file, key)


def kept_chart(stem: str | Path, key: str | None, memo_dir: str | Path | None) -> list[Path] | None:
    """The chart kept in ``memo_dir`` under ``key`` copied to ``stem``'s PNG and SVG, or None when
    none is kept there (:func:`textdrift.figures.save_memoized` then draws it; here, without
    matplotlib, so that a job whose chart is copied does not import it).

    Parameters
    ----------
    stem : str or Path
        The chart's files without their suffix.
    key : str or None
        :func:`chart_key` of what the chart is drawn from.
    memo_dir : str or Path or None
        Where the last drawing of each chart is kept (``{memo_dir}/{name}.png``, ``.svg``, ``.key``).

    Returns
    -------
    list of Path or None
        The PNG and the SVG written; None without ``key`` or ``memo_dir`` or when the kept files are
        not those of ``key``.
    """
    if key is None or memo_dir is None:
        return None
    stem = Path(stem)
    files, key_file = _kept_files(stem, memo_dir)
    if not (key_file.is_file() and key_file.read_text(encoding="utf-8") == key and all(f.is_file() for f in files)):
        return None
    paths = []
    for f in files:
        path = stem.with_name(f"{stem.name}{f.suffix}")
        atomic_write_bytes(path, f.read_bytes())
        paths.append(path)
    logging.getLogger("textdrift").info("%s: its data, settings and code are those of the chart kept in %s "
                                        "(key %s): copied, not drawn again", stem.name, memo_dir, key[:12])
    return paths


def code_digest() -> str:
    """The code an entry was made with: the bytes of every module of the package and the versions of
    Python, numpy, pandas, pyarrow, scikit-learn, scipy and statsmodels (a change to any of them
    makes every entry a miss).

    Returns
    -------
    str
        Hex digest.
    """
    from importlib import metadata

    from textdrift.provenance import library_modules

    h = hashlib.sha256()
    for name, path in library_modules(Path(__file__).resolve().parent).items():
        source = path.read_bytes()
        h.update(f"{name}\0{len(source)}\0".encode())
        h.update(source)
    versions = [sys.version]
    for package in PACKAGES:
        try:
            versions.append(metadata.version(package))
        except metadata.PackageNotFoundError:
            versions.append(None)
    h.update(json.dumps(versions).encode())
    return h.hexdigest()


class MemoLocation:
    """The ``directory`` of a memo's settings object (a :class:`textdrift.config.Settings` with
    ``memo`` and ``memo_dir`` fields; ``NAME``: its directory under ``data/cache``)."""

    NAME = ""

    def directory(self, processed_dir: str | Path | None) -> Path | None:
        """The memo's directory: None when it is off; ``memo_dir`` when set; else ``cache/<NAME>``
        beside ``processed_dir`` (None without one).

        Parameters
        ----------
        processed_dir : str or Path or None
            The configuration's ``processed_dir``.

        Returns
        -------
        Path or None
        """
        if not self.memo:
            return None
        if self.memo_dir:
            return Path(self.memo_dir)
        return cache_dir(processed_dir) / self.NAME if processed_dir else None


class EntryStore:
    """A directory of entries: :meth:`get` and :meth:`put` bytes by key, :meth:`prune` after the
    job. Never raises on the file system: an entry it cannot read is a miss (logged), one it cannot
    write is not stored (logged).

    Parameters
    ----------
    directory : str or Path
        The directory (created when missing).
    label : str
        The memo's name in log messages (``"<label> memo: ..."``).
    magic : bytes
        The first bytes of every entry (the layout's version: a new layout makes every old entry a
        miss).
    fallback : str
        What the job does when the directory cannot be used (for the log).
    """

    def __init__(self, directory: str | Path, label: str, magic: bytes, fallback: str):
        self.dir, self.label, self.magic = Path(directory), label, magic
        self.used: set[str] = set()
        self.hits = self.misses = self.written = self.bad = 0
        self._read: dict[str, bytes] = {}
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            self.usable = True
        except OSError as e:
            log.warning("%s memo: cannot use %s (%s): %s", label, self.dir, e, fallback)
            self.usable = False

    def _path(self, key: str) -> Path:
        return self.dir / f"{key}{_SUFFIX}"

    @staticmethod
    def _check(key: str, payload: bytes) -> bytes:
        return hashlib.blake2b(key.encode("ascii") + payload, digest_size=_DIGEST).digest()

    def get(self, key: str) -> bytes | None:
        """The payload stored under ``key``, or None (a miss: absent, unreadable or corrupt).

        Parameters
        ----------
        key : str

        Returns
        -------
        bytes or None
        """
        self.used.add(key)
        if key in self._read:  # (two entries with the same content: read once)
            self.hits += 1
            return self._read[key]
        data = None
        if self.usable:
            try:
                data = self._path(key).read_bytes()
            except FileNotFoundError:
                pass
            except OSError as e:
                log.warning("%s memo: cannot read entry %s (%s): recomputed", self.label, self._path(key), e)
                self.bad += 1
        if data is not None:
            head = len(self.magic) + _DIGEST
            payload = data[head:]
            if not data.startswith(self.magic) or len(data) < head or data[len(self.magic):head] != self._check(key, payload):
                log.warning("%s memo: entry %s is corrupt (its digest does not match): recomputed",
                            self.label, self._path(key))
                self.bad += 1
                self.discard(key)
            else:
                self.hits += 1
                self._read[key] = payload
                return payload
        self.misses += 1
        return None

    def discard(self, key: str) -> None:
        """Remove an entry (one that could not be used).

        Parameters
        ----------
        key : str
        """
        self._read.pop(key, None)
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError:
            pass

    def put(self, key: str, payload: bytes) -> None:
        """Store ``payload`` under ``key``, atomically (temporary file + rename).

        Parameters
        ----------
        key : str
        payload : bytes
        """
        self.used.add(key)
        if not self.usable:
            return
        try:
            atomic_write_bytes(self._path(key), self.magic + self._check(key, payload) + payload)
            self.written += 1
        except OSError as e:
            log.warning("%s memo: cannot write entry %s (%s)", self.label, self._path(key), e)

    def retain(self, keys) -> None:
        """Count ``keys`` as used by this job without reading them: :meth:`prune` keeps their entries.

        Parameters
        ----------
        keys : iterable of str
        """
        self.used.update(keys)

    def prune(self) -> int:
        """Remove every file of the directory that is not an entry this job used (old keys' entries,
        temporary files of an interrupted write).

        Returns
        -------
        int
            Files removed.
        """
        if not self.usable:
            return 0
        removed = 0
        try:
            for path in self.dir.iterdir():
                if path.is_file() and not (path.suffix == _SUFFIX and path.stem in self.used):
                    path.unlink(missing_ok=True)
                    removed += 1
        except OSError as e:
            log.warning("%s memo: cannot prune %s (%s)", self.label, self.dir, e)
        return removed

    def summary(self) -> str:
        """One line for the job's log.

        Returns
        -------
        str
        """
        return (f"{self.label} memo {self.dir}: {self.hits} hits, {self.misses} misses, {self.written} written, "
                f"{self.bad} unusable")
