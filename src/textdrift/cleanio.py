"""Cleaning files: a manifest row's raw file in; a shard's clean texts, index and log out; the
cleaning stage's I/O (:mod:`textdrift.decode` -> :mod:`textdrift.clean` -> this module).

The house of the cleaning stage: :mod:`textdrift.decode` (bytes -> text), :mod:`textdrift.html`
(a web page -> its text), :mod:`textdrift.clean` (the cleaning steps on one text), this module
(files and policies); the rules ``clean`` and ``cleaning_log`` call :func:`run_clean` and
:func:`run_cleaning_log`, the checkpoint ``repeated_paragraphs`` :func:`run_repeated_paragraphs`;
``segment`` reads what they write.

:func:`clean_document_file` reads one file strictly: a PDF or Word .docx file through
:mod:`textdrift.extract` (text layer, headers/footers/page numbers removed and logged under step
``extract``, lines joined into paragraphs, role hints from the format, a summary row: pages,
characters, what was removed and why), any other through :func:`textdrift.decode.decode_bytes`. A
saved web page (``.html``/``.htm`` or content starting like HTML) is reduced to its text by
:mod:`textdrift.html` (BeautifulSoup, ``html.parser``) before cleaning: page chrome (head, nav,
header, footer, aside, forms, scripts, styles) and comments are dropped and logged (step
``html``: tag, length, text), block elements become paragraphs. An empty file, or one with no
text left after cleaning, is an error, or with ``on_empty: skip`` a ``skipped`` log row and no
text (the document is then absent from the clean index). ``on_excess_removal`` (error | warn |
skip) decides about a document flagged by step 9 of :mod:`textdrift.clean`.

:func:`clean_shard` writes the shard's texts into one Parquet file, one row per paragraph
(the ``clean`` rule's output ``data/processed/clean/shard-{shard}.parquet``,
:func:`textdrift.io.write_texts`; one file, not a directory of texts, so that the job's outputs
are plain objects for a storage provider) and returns the shard's index (:data:`INDEX_COLUMNS`) and log (:data:`textdrift.clean.LOG_COLUMNS`); the
``cleaning_log`` rule gathers them into ``data/processed/clean/index.csv`` and
``data/processed/cleaning_log.csv``.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from pathlib import Path

import pandas as pd

from textdrift import structure as _structure
from textdrift.clean import LOG_COLUMNS, SCRIPT_LANGUAGES, CleanResult, _complete, _Log, clean_text, log_row
from textdrift.config import defaults, merge
from textdrift.decode import CleaningError, decode_bytes
from textdrift.io import concat_csv, log_to_file, read_texts, text_bytes, write_csv, write_texts

__all__ = ["INDEX_COLUMNS", "clean_document_file", "clean_shard", "repeated_log",
           "repeated_paragraphs", "run_clean", "run_cleaning_log", "run_repeated_paragraphs", "shard_keys",
           "shard_roles"]

logger = logging.getLogger("textdrift.cleanio")

#: Columns of the clean index; roles: one letter per paragraph (t title, h heading, b body,
#: p paratext; :mod:`textdrift.structure`).
INDEX_COLUMNS = ["doc_id", "year", "lang", "file", "paragraphs", "chars", "sha256", "roles"]


# <meta charset> labels that name a subset of what pages so labelled really use (as browsers
# read them: WHATWG Encoding Standard)
_HTML_CHARSETS = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "big5": "cp950",
                  "iso-8859-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252", "ascii": "cp1252"}


def _skip(result: CleanResult, doc_id: str, reason: str) -> CleanResult:
    result.texts = {}
    result.log.append(log_row(doc_id, "", "document", "skipped", reason, 0, 0))
    return result


def _read_text(data: bytes, path: Path, doc: dict, head: _Log) -> tuple[str, _Log]:
    """Decode a text file or web page strictly (its ``read`` log row in ``head``)."""
    from textdrift import html as _html

    encoding = doc.get("encoding") or None
    source = "the manifest column 'encoding'" if encoding else ""
    if not encoding and _html.looks_like_html(data, path):
        meta = _html.declared_charset(data)
        if meta:
            encoding, source = _HTML_CHARSETS.get(meta, meta), f"the page's <meta charset={meta}>"
    try:
        raw, used = decode_bytes(data, str(path), encoding)
    except CleaningError as err:
        if source.startswith("the page"):
            raise CleaningError(f"{err} (encoding taken from {source})") from err
        raise
    head.add("", "read", "decoded", f"{path.name} as {used}" + (f" (from {source})" if source else ""),
             len(raw), len(raw))
    return raw, head


def clean_document_file(doc: dict, cfg: dict) -> CleanResult:
    """Read one manifest row's raw file strictly, clean it, and check the result.

    Decoding: :func:`decode_bytes` (binary files are refused). A saved web page
    (:func:`textdrift.html.looks_like_html`) is decoded with its ``<meta charset>`` unless
    the manifest declares an encoding, and its text is extracted
    (:func:`textdrift.html.extract_text`) before :func:`clean_text`; each dropped element
    (tag, length, text) is logged under step ``html``.

    Raises :class:`CleaningError` when a declared language (manifest ``languages``) that
    the config analyses yields no text; when the file is empty or nothing is left after
    cleaning and ``on_empty`` is ``error`` (the default; ``skip``: the document produces no
    text and is logged as ``skipped``); or when the cleaner removed more than
    ``max_removed_share`` and ``on_excess_removal`` is ``error`` (the default; ``warn``:
    kept and flagged; ``skip``: no text, logged as ``skipped``).

    Parameters
    ----------
    doc : dict
        A manifest row: ``doc_id``, ``path``, optional ``encoding``, ``languages`` (``zh;en``),
        ``title`` and ``title_<lang>``.
    cfg : dict
        The ``clean:`` block plus ``languages`` and ``unspaced_languages``; missing keys take
        the schema's defaults.

    Returns
    -------
    textdrift.clean.CleanResult
        The texts (none when skipped) and the log, starting with the ``read`` and ``html`` rows.

    Raises
    ------
    textdrift.decode.CleaningError
        As above.
    """
    from textdrift import html as _html

    cfg = _complete(cfg)
    doc_id = str(doc["doc_id"])
    path = Path(doc["path"])
    where = f"{path} (doc_id={doc_id!r})"
    data = path.read_bytes()
    head = _Log(doc_id, cfg)
    from textdrift import extract as _extract

    extracted = _extract.extract_file(path, data) if data else None
    if extracted is not None:
        raw, is_html = extracted.text, False
        head.add("", "read", "extracted", f"{path.name}: {extracted.kind}"
                 + (f", {extracted.pages} page(s)" if extracted.pages else "") + f", {len(raw)} characters",
                 len(data), len(raw))
        for action, detail, before, after, removed in extracted.log:
            head.add("", "extract", action, head.text(detail) if removed is None else
                     detail[: len(detail) - len(removed)] + head.text(removed), before, after, removed=removed)
        removed = Counter(d.split(": ")[1].split(" (")[0] for a, d, *_ in extracted.log if a == "removed")
        head.add("", "extract", "summary",
                 (f"{extracted.pages} page(s), " if extracted.pages else "") + f"{len(raw)} characters extracted; removed: "
                 + (", ".join(f"{k} x{n}" for k, n in sorted(removed.items())) or "nothing"), len(data), len(raw))
    else:
        raw, head = _read_text(data, path, doc, head)
        is_html = _html.looks_like_html(raw, path)
    if is_html:
        meta = _html.declared_charset(data)
        if meta:
            encoding, source = _HTML_CHARSETS.get(meta, meta), f"the page's <meta charset={meta}>"
    if is_html:
        text, dropped = _html.extract_text(raw)
        for tag, content in dropped:
            head.add("", "html", "removed", f"<{tag}> {len(content)} chars: {head.text(content)}",
                     len(content), 0, removed=content)
        head.add("", "html", "extracted",
                 f"web page: text extracted with BeautifulSoup (html.parser), markup and "
                 f"{len(dropped)} page element(s) dropped ({', '.join(sorted({t for t, _ in dropped})) or 'none'}), "
                 f"{text.count(chr(10))} paragraphs", len(raw), len(text))
        raw = text
    on_empty = cfg.get("on_empty", "error")
    if not raw.strip():
        if on_empty == "skip":
            logger.warning("%s: empty file, skipped (clean.on_empty: skip)", where)
            return _skip(CleanResult(log=head.rows, removed=head.removed), doc_id,
                         "empty file: no text (clean.on_empty: skip)")
        raise CleaningError(
            f"{where}: the file is empty{' (no text in the web page)' if is_html else ''}. "
            "Fix the file, remove its manifest row, or set clean.on_empty: skip to skip empty documents."
        )
    titles = [doc[k] for k in sorted(doc) if (k == "title" or k.startswith("title_")) and isinstance(doc[k], str)]
    result = clean_text(raw, doc_id, cfg, titles, role_hints=extracted.roles if extracted else None)
    result.removed = head.removed + [(i + len(head.rows), t) for i, t in result.removed]
    result.log = head.rows + result.log
    excluded = [e for e in result.log if e["action"] == "excluded_language"]
    if excluded:
        langs = Counter(e["lang"] for e in excluded)
        logger.warning("%s: %d paragraph(s) not in a configured language excluded (%s); see the cleaning log",
                       where, len(excluded), ", ".join(f"{k or '?'} x{n}" for k, n in sorted(langs.items())))
    if not result.texts:
        removed = Counter(f"{e['step']} {e['action']}" for e in result.log
                          if e["action"] in ("removed", "excluded_language") and e["step"] != "paragraphs")
        why = "; ".join(f"{k} x{n}" for k, n in sorted(removed.items())) or "no paragraphs"
        if on_empty == "skip":
            logger.warning("%s: no text left after cleaning (%s), skipped (clean.on_empty: skip)", where, why)
            return _skip(result, doc_id, f"no text left after cleaning ({why}) (clean.on_empty: skip)")
        raise CleaningError(
            f"{where}: no text left after cleaning ({why}); check the file, the boilerplate patterns and "
            "the configured languages, or set clean.on_empty: skip to skip such documents."
        )
    configured = list(cfg.get("languages") or SCRIPT_LANGUAGES.values())
    declared = [x for x in str(doc.get("languages") or "").split(";") if x]
    flagged = [e for e in result.log if e["action"] == "flagged"]
    if flagged:
        policy = cfg.get("on_excess_removal", "error")
        if policy == "error":
            raise CleaningError(
                f"{where}: {flagged[0]['detail']}; check the cleaning of this file (the removed text is in the "
                "log rows above the flag), or set clean.on_excess_removal: warn to keep it or skip to skip it"
            )
        if policy == "skip":
            logger.warning("%s: %s; skipped (clean.on_excess_removal: skip)", where, flagged[0]["detail"])
            return _skip(result, doc_id, f"{flagged[0]['detail']} (clean.on_excess_removal: skip)")
        logger.warning("%s: %s; kept (clean.on_excess_removal: warn)", where, flagged[0]["detail"])
    missing = [lang for lang in declared if lang in configured and lang not in result.texts]
    if missing:
        raise CleaningError(
            f"{where}: manifest field 'languages' declares {missing} but the cleaned text has none; "
            f"found {sorted(result.texts)}. Fix the manifest row or the file."
        )
    for lang in sorted(set(declared) - set(configured)):
        result.log.append(log_row(doc_id, lang, "languages", "not_configured",
                                 f"declared in the manifest but not in the config's languages {configured}: "
                                 "not analysed", 0, 0))
    for lang in sorted(set(result.texts) - set(declared)) if declared else []:
        logger.warning("%s: text in %r found but not declared in the manifest; it is kept", where, lang)
        result.log.append(log_row(doc_id, lang, "languages", "undeclared_language",
                                 "kept; add it to the manifest's languages", 0, 0))
    return result


def clean_shard(docs: list[dict], texts_path: str | Path, cfg: dict,
                file_name: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Clean every document of a shard into one file of texts, ``texts_path`` (:func:`textdrift.io.write_texts`).

    Parameters
    ----------
    docs : list of dict
        Manifest rows (``doc_id``, ``year``, ``path``, optional ``encoding``, ``languages``,
        ``title``, ``title_<lang>``).
    texts_path : str or Path
        The shard's texts (Parquet; written even when every document is skipped).
    cfg : dict
        As for :func:`clean_document_file`.
    file_name : str, optional
        The name the index gives the file (its ``file`` column; default ``texts_path``): the
        workflow's path of the file, also when the job writes a local copy for a storage provider.

    Returns
    -------
    index : pandas.DataFrame
        One row per text (:data:`INDEX_COLUMNS`: its file, size, SHA-256 of the text as UTF-8 lines
        (:func:`textdrift.io.text_bytes`) and roles). A skipped document (``on_empty`` /
        ``on_excess_removal: skip``) has no row.
    log : pandas.DataFrame
        Every change the cleaner made (:data:`textdrift.clean.LOG_COLUMNS`).
    """
    texts, index, log = _clean_texts(docs, str(texts_path) if file_name is None else file_name, cfg)
    write_texts(texts, texts_path)
    return index, log


def _clean_texts(docs: list[dict], file_name: str, cfg: dict) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """:func:`clean_shard` without writing: the texts (``(doc_id, lang) -> paragraphs``, as
    :func:`textdrift.io.read_texts` reads them back, a text without paragraphs aside), the index and
    the log."""
    cfg = _complete(cfg)  # once for the shard
    texts, index, log = {}, [], []
    for doc in docs:
        result = clean_document_file(doc, cfg)
        for lang, paragraphs in result.texts.items():
            texts[(doc["doc_id"], lang)] = paragraphs
            index.append({
                "doc_id": doc["doc_id"], "year": int(doc["year"]), "lang": lang, "file": file_name,
                "paragraphs": len(paragraphs), "chars": sum(map(len, paragraphs)),
                "sha256": hashlib.sha256(text_bytes(paragraphs)).hexdigest(),
                "roles": _structure.encode_roles(result.roles.get(lang) or ["body"] * len(paragraphs)),
            })
        log.extend(result.log)
        logger.info("%s: %s", doc["doc_id"], {k: len(v) for k, v in result.texts.items()} or "skipped")
    return texts, pd.DataFrame(index, columns=INDEX_COLUMNS), pd.DataFrame(log, columns=LOG_COLUMNS)


def run_clean(input, output, params, log) -> None:
    """Rule ``clean``: clean the raw files of one shard.

    Parameters
    ----------
    input : Snakemake input
        ``raw`` (the shard's raw files) and ``words`` (``clean.despace.words_file``), read
        through ``params``.
    output : Snakemake output
        ``texts`` (the shard's texts, Parquet), ``index`` and ``cleaning_log`` (CSV).
    params : Snakemake params
        ``docs`` (the shard's manifest rows), ``clean`` (the config block), ``languages`` and
        ``unspaced_languages``.
    log : Snakemake log
        The job's log file.
    """
    log_to_file(log[0])
    cfg = {**params.clean, "languages": list(params.languages), "unspaced_languages": list(params.unspaced_languages)}
    file_name = str(output.texts) if params.texts_file is None else params.texts_file
    # the paragraph keys from the texts as written, not read back from the file (read_texts' dict)
    texts, index, changes = _clean_texts(params.docs, file_name, cfg)
    write_texts(texts, output.texts)
    write_csv(changes, output.cleaning_log)
    write_csv(index, output.index)
    if output.get("paragraphs"):
        write_csv(shard_keys(index, texts), output.paragraphs)


def shard_keys(index: pd.DataFrame, texts: dict) -> pd.DataFrame:
    """The key of every paragraph of a shard (:func:`textdrift.structure.paragraph_keys`), for the
    corpus-wide step ``repeated_paragraphs``.

    Parameters
    ----------
    index : DataFrame
        The shard's clean index (its ``roles``).
    texts : dict
        The shard's texts, ``(doc_id, lang) -> paragraphs``.

    Returns
    -------
    DataFrame
        :data:`textdrift.structure.KEY_COLUMNS`.
    """
    roles = {(str(r.doc_id), str(r.lang)): _structure.decode_roles(r.roles, int(r.paragraphs))
             for r in index.itertuples(index=False)}
    return _structure.paragraph_keys(texts, roles)


def repeated_paragraphs(key_paths: list, text_paths: list, settings: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Boilerplate across documents: the repeated paragraphs of the corpus and, per document,
    which of its paragraphs become paratext (:func:`textdrift.structure.find_repeated`,
    :func:`textdrift.structure.repeated_roles`), with the text of each repeated paragraph (as
    in the first document, by ``doc_id``, that has it).

    Parameters
    ----------
    key_paths : list of str or Path
        Every shard's paragraph keys (:func:`shard_keys`).
    text_paths : list of str or Path
        Every shard's clean texts (read only for the texts of repeated paragraphs).
    settings : dict
        ``clean.repeated_paragraphs``.

    Returns
    -------
    repeated : DataFrame
        :data:`textdrift.structure.REPEATED_COLUMNS`.
    marks : DataFrame
        :data:`textdrift.structure.MARK_COLUMNS`.
    """
    settings = merge(defaults()["clean"]["repeated_paragraphs"], settings or {})
    keys = concat_csv(key_paths)
    keys = (keys.astype({c: int for c in ("para", "chars", "letters")}) if len(keys)
            else pd.DataFrame(columns=_structure.KEY_COLUMNS))
    repeated = _structure.find_repeated(keys, settings)
    marks = _structure.repeated_roles(keys, repeated, settings)
    para_of = {}
    if len(repeated):
        first = keys[keys.set_index(["lang", "key"]).index.isin(list(zip(repeated["lang"], repeated["key"])))]
        first = first.sort_values(["doc_id", "para"], kind="stable").drop_duplicates(["lang", "key"])
        para_of = {(r.lang, r.key): (r.doc_id, r.lang, int(r.para)) for r in first.itertuples(index=False)}
        wanted = {v[:2] for v in para_of.values()}
        texts = {}
        for path in text_paths:
            texts.update({k: v for k, v in read_texts(path).items() if k in wanted})
        paratext = set(zip(marks.loc[marks["action"] == "paratext", "lang"], marks.loc[marks["action"] == "paratext", "key"]))
        repeated = repeated.assign(
            paratext=[(lang, k) in paratext for lang, k in zip(repeated["lang"], repeated["key"])],
            text=[texts[para_of[(lang, k)][:2]][para_of[(lang, k)][2]] for lang, k in zip(repeated["lang"], repeated["key"])],
            _at=[para_of[(lang, k)] for lang, k in zip(repeated["lang"], repeated["key"])])
        # in the order of the text where it is first found
        repeated = repeated.sort_values(["lang", "documents", "_at"], ascending=[True, False, True], kind="stable")
        repeated = repeated.reset_index(drop=True)
    return repeated.reindex(columns=_structure.REPEATED_COLUMNS), marks


def shard_roles(marks: pd.DataFrame, key_paths: list) -> list[pd.DataFrame]:
    """The paragraphs :func:`repeated_paragraphs` makes paratext, split by shard: for each shard
    (its paragraph keys, :func:`shard_keys`), the rows of ``marks`` with action ``paratext`` of its
    documents, in the order of ``marks``. What the shard's ``segment`` job reads: the file of a
    shard changes only when the roles of its own paragraphs change (rows with action ``kept``
    change no role and are left out), so a document added to another shard does not rerun its
    segmentation (docs/reruns.md).

    Parameters
    ----------
    marks : DataFrame
        :func:`repeated_paragraphs` (:data:`textdrift.structure.MARK_COLUMNS`).
    key_paths : list of str or Path
        Every shard's paragraph keys, in the shards' order (only ``doc_id`` is read).

    Returns
    -------
    list of DataFrame
        One per key file: :data:`textdrift.structure.MARK_COLUMNS`.
    """
    paratext = marks[marks["action"] == "paratext"]
    doc_ids = paratext["doc_id"].astype(str)
    out = []
    for path in key_paths:
        docs = set(pd.read_csv(path, usecols=["doc_id"], dtype=str, keep_default_na=False, encoding="utf-8")["doc_id"])
        out.append(paratext[doc_ids.isin(docs)].reset_index(drop=True))
    return out


def repeated_log(marks: pd.DataFrame, repeated: pd.DataFrame) -> pd.DataFrame:
    """The cleaning-log rows of the repeated paragraphs (step ``repeated_paragraphs``): one per
    paragraph of each document that :func:`repeated_paragraphs` marked, action ``paratext`` (its
    role changed) or ``kept``; the detail names the role before, how many documents of the
    language have the paragraph (their list: ``repeated_paragraphs.csv``) and its text.

    Parameters
    ----------
    marks, repeated : DataFrame
        :func:`repeated_paragraphs`.

    Returns
    -------
    DataFrame
        :data:`textdrift.clean.LOG_COLUMNS`.
    """
    info = {(r.lang, r.key): r for r in repeated.itertuples(index=False)}
    rows = []
    for m in marks.itertuples(index=False):
        r = info.get((m.lang, m.key))
        where = (f"found in {r.documents} of {r.of_documents} {m.lang} documents (repeated_paragraphs.csv)"
                 if r is not None else "")
        text = r.text if r is not None else ""
        role = f"{m.role} -> paratext" if m.action == "paratext" else f"{m.role} kept"
        rows.append(log_row(m.doc_id, m.lang, "repeated_paragraphs", m.action,
                            f"paragraph {m.para} ({role}; {m.reason}){'; ' + where if where else ''}"
                            f"{': ' + text if text else ''}", int(m.chars), int(m.chars)))
    return pd.DataFrame(rows, columns=LOG_COLUMNS)


def run_repeated_paragraphs(input, output, params, log) -> None:
    """Checkpoint ``repeated_paragraphs``: the paragraphs repeated across the corpus
    (``data/processed/clean/repeated_paragraphs.csv``) and the paragraphs they make paratext
    (``data/processed/clean/repeated_roles.csv``, and the rows of each shard that become paratext:
    ``data/processed/clean/_shards/repeated-{shard}.csv``, :func:`shard_roles`), from every
    shard's paragraph keys.

    Parameters
    ----------
    input : Snakemake input
        ``paragraphs`` (the shards' keys) and ``texts`` (the shards' clean texts).
    output : Snakemake output
        ``repeated``, ``roles`` and optionally ``shard_roles`` (one file per shard, in the order
        of ``paragraphs``).
    params : Snakemake params
        ``settings``: ``clean.repeated_paragraphs``.
    log : Snakemake log
        The job's log file.
    """
    logger = log_to_file(log[0])
    repeated, marks = repeated_paragraphs(list(input.paragraphs), list(input.texts), params.settings)
    for r in repeated.itertuples(index=False):
        logger.info("%s: repeated in %d of %d documents (%s): %s", r.lang, r.documents, r.of_documents,
                    "paratext" if r.paratext else "kept, short", r.text[:80])
    write_csv(repeated, output.repeated)
    write_csv(marks, output.roles)
    if output.get("shard_roles"):
        for part, path in zip(shard_roles(marks, list(input.paragraphs)), output.shard_roles, strict=True):
            write_csv(part, path)


def run_cleaning_log(input, output, params, log) -> None:
    """Rule ``cleaning_log``: the shards' clean-text indexes and cleaning logs, one table each.

    Parameters
    ----------
    input : Snakemake input
        ``index`` and ``cleaning_log``: the per-shard CSV files.
    output : Snakemake output
        ``index`` (sorted by doc_id and language) and ``cleaning_log`` (in shard order).
    params : Snakemake params
        Unused (the uniform signature of the rules' ``run_*`` functions).
    log : Snakemake log
        The job's log file.
    """
    log_to_file(log[0])
    index = concat_csv(input.index, sort=["doc_id", "lang"])
    changes = concat_csv(input.cleaning_log)
    if input.get("repeated"):
        marks = _structure.read_marks(input.roles)
        repeated = concat_csv([input.repeated]).astype({"documents": int, "of_documents": int})
        if len(marks):
            index = _structure.with_repeated_roles(index.astype({"paragraphs": int}), marks).astype(str)
            changes = pd.concat([changes, repeated_log(marks, repeated).astype(str)], ignore_index=True)
    write_csv(index, output.index)
    write_csv(changes, output.cleaning_log)
