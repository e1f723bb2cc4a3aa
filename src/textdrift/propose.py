"""``make manifest``: rows proposed for the raw files that the manifest does not name yet.

``python -m textdrift.propose [--config config/config.yaml] [--write] [FILE ...]`` finds the files in
the raw folder (``raw_dir``; or the FILEs given) that no manifest row names, reads each (text, web
page, PDF, Word: :func:`textdrift.cleanio` reading and :mod:`textdrift.extract`), and proposes a row:

* ``doc_id``: the file name without its suffix, reduced to letters, digits, ``_ . -`` (made unique
  against the manifest and the other proposals with ``-2``, ``-3``, ...);
* ``date``: from the file name (``2024-03-05``, ``20240305``, ``2024_03_05``); else, when the
  file name has a year (``report_2024.pdf``), the first date of the text in that year, or the
  year alone (a text quotes earlier dates: a report to the 1982 congress cites 1 October 1949
  before any date of 1982); else from the text (``2024年3月5日``, ``二〇二四年三月五日``,
  ``5 March 2024``, ``March 5, 2024``, ``2024-03-05``; the first date of the text that falls
  within the configured ``years``), else the document's own metadata (a PDF's or Word
  file's creation date: the date the file was made, which may not be the date of the text);
  only dates within the configured ``years``; empty when nothing is found (``make check`` then
  names the row);
* ``title``: the document's metadata title (unless a placeholder such as "Untitled" or the name of
  a converted file, "Microsoft Word - draft.docx"), else its first heading (a Word ``Title`` or heading
  style, a PDF line in a large font), else its first short line, else the file name;
* ``languages``: what the cleaner finds in the text (:func:`textdrift.clean.clean_text`, the
  configured languages), largest first;
* ``notes``: where each guess came from (and the other candidates found), so that it can be
  checked;
* ``genre``: empty; the controlled list is printed.

The rows are printed as CSV; with ``--write`` (``make manifest WRITE=1``) they are appended to the
manifest (created with a header when missing). An existing row is never changed, and a file the
manifest names is never proposed again. A file that cannot be read is named at the end with
the reason (exit status 1); a file in a format textdrift does not read is named too (status 0). Progress (one line per file) goes to standard error.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
import unicodedata
from pathlib import Path

__all__ = ["SUPPORTED_SUFFIXES", "dates_in_text", "doc_id_from_name", "main", "propose_row", "propose_rows",
           "unnamed_files"]

ROOT = Path(__file__).resolve().parents[2]
#: raw files proposed (others are reported as not supported)
SUPPORTED_SUFFIXES = (".txt", ".text", ".md", ".html", ".htm", ".xhtml", ".pdf", ".docx")
#: the columns a proposed row fills (in the manifest's own column order when it has a header)
COLUMNS = ["doc_id", "date", "title", "file", "languages", "notes", "genre"]

_MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"], start=1)}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_MON = "|".join(sorted(_MONTHS, key=len, reverse=True))
_ZH_DIGITS = {"〇": 0, "零": 0, "○": 0, "Ｏ": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9, "十": 10}
_ZH_NUM = "[〇零○Ｏ一二三四五六七八九十]"
_DATE_PATTERNS = [
    ("zh", re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")),
    ("zh_numerals", re.compile(rf"({_ZH_NUM}{{4}})\s*年\s*({_ZH_NUM}{{1,2}})\s*月\s*({_ZH_NUM}{{1,3}})\s*日")),
    ("day month year", re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MON})\.?,?\s+(\d{{4}})\b", re.I)),
    ("month day, year", re.compile(rf"\b({_MON})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I)),
    ("iso", re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")),
]
_NAME_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12]\d|3[01])(?!\d)")
# metadata titles that are a program's placeholder or the name of the file converted, not a title
_JUNK_TITLE = re.compile(r"^(untitled|title|document\d*|microsoft (word|powerpoint) - .*|.*\.(docx?|pdf|rtf|odt|txt|indd)"
                         r"|文档\d*|新建.*文档.*)$", re.IGNORECASE)
_NAME_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")


def _zh_number(text: str) -> int:
    if len(text) == 4 and "十" not in text:  # a year written digit by digit: 二〇二四
        return int("".join(str(_ZH_DIGITS[c]) for c in text))
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_ZH_DIGITS[tens] if tens else 1) * 10 + (_ZH_DIGITS[ones] if ones else 0)
    return _ZH_DIGITS[text]


def _iso(y: int, m: int, d: int) -> str | None:
    import datetime as _dt

    try:
        return _dt.date(y, m, d).isoformat()
    except ValueError:
        return None


def dates_in_text(text: str) -> list[tuple[int, str, str]]:
    """Every date written in the text, in text order.

    Parameters
    ----------
    text : str

    Returns
    -------
    list of (offset, ISO date, the date as written)
    """
    found = []
    for kind, rx in _DATE_PATTERNS:
        for m in rx.finditer(text):
            a, b, c = m.groups()
            if kind == "zh":
                iso = _iso(int(a), int(b), int(c))
            elif kind == "zh_numerals":
                try:
                    iso = _iso(_zh_number(a), _zh_number(b), _zh_number(c))
                except KeyError:
                    iso = None
            elif kind == "day month year":
                iso = _iso(int(c), _MONTHS[b.lower().rstrip(".")], int(a))
            elif kind == "month day, year":
                iso = _iso(int(c), _MONTHS[a.lower().rstrip(".")], int(b))
            else:
                iso = _iso(int(a), int(b), int(c))
            if iso:
                found.append((m.start(), iso, m.group()))
    return sorted(found)


def doc_id_from_name(name: str, taken: set[str]) -> str:
    """A ``doc_id`` from a file name: its stem reduced to ``[A-Za-z0-9_.-]`` (other characters become
    ``_``; a name with none left: ``doc``), unique against ``taken`` (``-2``, ``-3``, ...).

    Parameters
    ----------
    name : str
        The file name (or path).
    taken : set of str
        The ids already used (updated with the result).

    Returns
    -------
    str
    """
    stem = Path(name).stem
    base = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    base = re.sub(r"[^A-Za-z0-9_.-]+", "_", base).strip("_.-")[:120] or "doc"
    if not base[0].isalnum():
        base = "doc_" + base
    doc_id, n = base, 1
    while doc_id in taken:
        n += 1
        doc_id = f"{base}-{n}"
    taken.add(doc_id)
    return doc_id


def _read(path: Path) -> tuple[str, dict, str]:
    """(text, metadata, what it is) of a raw file; raises CleaningError when it cannot be read."""
    from textdrift import extract as _extract
    from textdrift import html as _html
    from textdrift.clean import _Log
    from textdrift.cleanio import _read_text
    from textdrift.config import defaults

    data = path.read_bytes()
    extracted = _extract.extract_file(path, data)
    if extracted is not None:
        return extracted.text, extracted.meta, extracted.kind + (f", {extracted.pages} page(s)" if extracted.pages else "")
    raw, _ = _read_text(data, path, {}, _Log("", defaults()["clean"]))
    meta = {}
    if _html.looks_like_html(raw, path):
        m = re.search(r"<title[^>]*>(.*?)</title>", raw, re.I | re.S)
        if m and m.group(1).strip():
            meta["title"] = re.sub(r"\s+", " ", m.group(1)).strip()
        raw, _ = _html.extract_text(raw)
        return raw, meta, "web page"
    return raw, meta, "text"


def propose_row(path: Path, raw_dir: Path, taken: set[str], cfg: dict) -> dict:
    """One proposed manifest row for a raw file (module docstring).

    Parameters
    ----------
    path : Path
        The raw file.
    raw_dir : Path
        The raw folder (``file`` is relative to it).
    taken : set of str
        The ``doc_id`` values in use (updated).
    cfg : dict
        The configuration (``years``, ``languages``, ``clean``).

    Returns
    -------
    dict
        :data:`COLUMNS`.

    Raises
    ------
    textdrift.decode.CleaningError
        The file cannot be read (a scan, an undecodable text, a damaged file).
    """
    from textdrift.clean import clean_text

    text, meta, kind = _read(path)
    notes = [f"proposed by make manifest from {kind}"]
    years = (cfg["years"]["min"], cfg["years"]["max"])
    date, source = "", ""
    m = _NAME_DATE.search(path.name)
    in_text = [(o, iso, w) for o, iso, w in dates_in_text(text) if years[0] <= int(iso[:4]) <= years[1]]
    y = _NAME_YEAR.search(path.name)
    name_year = y.group(1) if y and years[0] <= int(y.group(1)) <= years[1] else None
    same_year = [d for d in in_text if d[1][:4] == name_year]
    if m:
        date, source = f"{m.group(1)}-{m.group(2)}-{m.group(3)}", f"the file name ({m.group()!r})"
    elif name_year and same_year:  # the name's year, made precise by a date of the text in that year
        date, source = same_year[0][1], (f"the text ({same_year[0][2]!r}, the first date found in the file "
                                         f"name's year {name_year})")
    elif name_year:  # a report quotes earlier dates (a founding, a previous congress): the name's year
        date, source = name_year, f"a year in the file name ({name_year})" + (
            f"; the text's first date, {in_text[0][1]}, is of another year" if in_text else "")
    elif in_text:
        date, source = in_text[0][1], f"the text ({in_text[0][2]!r}, the first of {len(in_text)} date(s) found)"
    elif meta.get("created") and years[0] <= int(meta["created"][:4]) <= years[1]:
        date, source = meta["created"], "the file's metadata (creation date: when the file was made, check it)"
    notes.append(f"date from {source}" if date else "date: none found, fill it in (YYYY-MM-DD, YYYY-MM or YYYY)")
    others = sorted({iso for _, iso, _ in in_text} - {date})
    if date and others:
        notes.append(f"other dates in the text: {', '.join(others[:5])}")
    if meta.get("created") and meta["created"] != date:
        notes.append(f"file created {meta['created']}")
    title = ""
    if meta.get("title") and _JUNK_TITLE.search(meta["title"]):
        notes.append(f"metadata title {meta.pop('title')!r} ignored (a file name or a placeholder)")
    for key, what in [("title", "the document's metadata"), ("first_heading", "its first heading"),
                      ("heading", "its first heading"), ("first_line", "its first short line")]:
        if meta.get(key):
            title, source = meta[key], what
            break
    if not title:
        first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
        if first and len(first) <= 200:
            title, source = first, "its first line"
        else:
            title, source = path.stem, "the file name"
    notes.append(f"title from {source}")
    clean_cfg = {**cfg["clean"], "languages": list(cfg["languages"]),
                 "unspaced_languages": list(cfg["unspaced_languages"])}
    result = clean_text(text, "proposed", clean_cfg)
    sizes = {lang: sum(map(len, paras)) for lang, paras in result.texts.items()}
    languages = ";".join(sorted(sizes, key=lambda k: (-sizes[k], k)))
    notes.append("languages from the text (" + (", ".join(f"{k} {v} characters" for k, v in sorted(
        sizes.items(), key=lambda kv: -kv[1])) or "none found") + ")")
    return {"doc_id": doc_id_from_name(path.name, taken), "date": date, "title": title,
            "file": path.relative_to(raw_dir).as_posix(), "languages": languages,
            "notes": "; ".join(notes), "genre": ""}


def unnamed_files(raw_dir: Path, manifest: Path) -> list[Path]:
    """The files in ``raw_dir`` (recursively; not hidden, not the manifest) that no manifest row names.

    Parameters
    ----------
    raw_dir : Path
        The raw folder.
    manifest : Path
        The manifest (may not exist yet).

    Returns
    -------
    list of Path
        Sorted.
    """
    named = set()
    if manifest.is_file():
        with open(manifest, encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                if row.get("file"):
                    named.add((raw_dir / row["file"].strip()).resolve())
    return sorted(p for p in raw_dir.rglob("*") if p.is_file() and not any(
        part.startswith(".") for part in p.relative_to(raw_dir).parts)
        and p.resolve() != manifest.resolve() and p.resolve() not in named)


def propose_rows(files: list[Path], raw_dir: Path, manifest: Path, cfg: dict,
                 progress=None) -> tuple[list[dict], list[tuple[Path, str]]]:
    """Proposed rows for ``files`` and the files that could not be read (with the reason).

    Parameters
    ----------
    files : list of Path
        Raw files (in ``raw_dir``).
    raw_dir, manifest : Path
        The raw folder and the manifest.
    cfg : dict
        The configuration with defaults.
    progress : callable, optional
        Called with one line per file.

    Returns
    -------
    rows : list of dict
    failed : list of (Path, str, bool)
        The files not proposed, why, and whether the format is one textdrift reads (then the
        file itself is the problem).
    """
    from textdrift.decode import CleaningError

    taken = set()
    if manifest.is_file():
        with open(manifest, encoding="utf-8-sig", newline="") as fh:
            taken = {row.get("doc_id", "") for row in csv.DictReader(fh)}
    rows, failed = [], []  # failed: (path, reason, whether it is a supported format)
    for i, path in enumerate(files, start=1):
        say = progress or (lambda _: None)
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            failed.append((path, f"not a supported format ({path.suffix or 'no suffix'}; supported: "
                                 f"{', '.join(SUPPORTED_SUFFIXES)}): not proposed", False))
            say(f"[{i}/{len(files)}] {path.name}: skipped, not a supported format")
            continue
        try:
            row = propose_row(path, raw_dir, taken, cfg)
        except (CleaningError, OSError, ValueError) as err:
            failed.append((path, str(err), True))
            say(f"[{i}/{len(files)}] {path.name}: cannot be read")
            continue
        rows.append(row)
        say(f"[{i}/{len(files)}] {path.name}: {row['doc_id']}, {row['date'] or 'no date'}, {row['languages'] or '?'}")
    return rows, failed


def _append(manifest: Path, rows: list[dict]) -> list[str]:
    """Append rows to the manifest (created with a header when missing); existing bytes untouched.
    Returns the proposed columns the manifest's header lacks (left out)."""
    if manifest.is_file() and manifest.stat().st_size:
        with open(manifest, encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh))
        data = manifest.read_bytes()
        prefix = b"" if data.endswith((b"\n", b"\r")) else b"\n"
    else:
        header, prefix = list(COLUMNS), None
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, extrasaction="ignore", lineterminator="\n")
    if prefix is None:
        writer.writeheader()
    writer.writerows({k: row.get(k, "") for k in header} for row in rows)
    with open(manifest, "ab") as fh:
        fh.write((prefix or b"") + buf.getvalue().encode("utf-8"))
    return [c for c in COLUMNS if c not in header and any(r.get(c) for r in rows)]


def main(argv: list[str] | None = None) -> int:
    """The command line (module docstring).

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0, or 1 when a file could not be read.
    """
    from textdrift.config import load_yaml, with_defaults
    from textdrift.manifest import GENRES

    parser = argparse.ArgumentParser(prog="python -m textdrift.propose", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="config/config.yaml")
    parser.add_argument("--write", action="store_true", help="append the proposed rows to the manifest")
    parser.add_argument("files", nargs="*", help="raw files (default: every file no row names)")
    args = parser.parse_args(argv)
    cfg = with_defaults(load_yaml(args.config)) if Path(args.config).is_file() else with_defaults({})
    raw_dir = Path(cfg.get("raw_dir") or "data/raw")
    manifest = Path(cfg.get("manifest") or raw_dir / "documents.csv")
    if args.files:
        files = [Path(f) for f in args.files]
        outside = [f for f in files if raw_dir.resolve() not in f.resolve().parents]
        if outside:
            print(f"make manifest: {', '.join(map(str, outside))}: not in {raw_dir}/; copy the file(s) there first",
                  file=sys.stderr)
            return 1
        files = [f for f in files if f.resolve() in {p.resolve() for p in unnamed_files(raw_dir, manifest)}]
        files = [raw_dir / f.resolve().relative_to(raw_dir.resolve()) for f in files]
    else:
        files = unnamed_files(raw_dir, manifest)
    if not files:
        print(f"make manifest: {'the file(s) given have' if args.files else f'every file in {raw_dir}/ has'} "
              f"a row in {manifest}; nothing to propose")
        return 0
    print(f"make manifest: {len(files)} file(s) in {raw_dir}/ without a row in {manifest}", file=sys.stderr)
    rows, failed = propose_rows(files, raw_dir, manifest, cfg, progress=lambda s: print("  " + s, file=sys.stderr))
    if rows:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        print(buf.getvalue(), end="")
        print(f"\ngenre is left empty: one of {', '.join(GENRES)} (or leave it empty)")
        if args.write:
            left_out = _append(manifest, rows)
            print(f"wrote {len(rows)} row(s) to {manifest} (existing rows unchanged); check them, then `make check`")
            if left_out:
                print(f"  the manifest has no column(s) {', '.join(left_out)}: left out")
        else:
            print(f"not written: `make manifest WRITE=1` appends these rows to {manifest}")
    if failed:
        print(f"make manifest: {len(failed)} file(s) not proposed:", file=sys.stderr)
        for path, why, _ in failed:
            print(f"  {path}: {why}", file=sys.stderr)
    return 1 if any(supported for _, _, supported in failed) else 0


if __name__ == "__main__":
    sys.exit(main())
