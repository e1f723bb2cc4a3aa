"""Cleaning: from a raw file as received to one clean text per language.

Output: for each language found (and listed in the config's ``languages``) a
list of paragraphs, Unicode NFC, stripped, no internal newlines, none empty;
and a log row for every change (``doc_id, lang, step, action, detail,
chars_before, chars_after``). ``chars_before``/``chars_after`` are the lengths
of the unit a change applied to (the document for document-wide steps, the
paragraph or removed block otherwise) before and after the change. ``detail``
holds what is needed to undo the change by hand: removed text verbatim (texts
longer than ``log_max_chars`` are cut to ``log_excerpt_chars`` characters and
their full length noted), the pattern name, the replaced characters and counts.

Decoding (:func:`decode_bytes`) is strict: PDF, Office/ZIP, image files and
NUL bytes (outside UTF-16/32) are refused first; then a declared encoding
(manifest column ``encoding``; for a web page also its ``<meta charset>``),
else a BOM (UTF-8, UTF-16, UTF-32), else UTF-8, else GB18030 or Big5 (cp950),
whichever reads as Chinese (common characters, and adjacent characters that
form dictionary words: Big5 bytes also decode as GB18030, into unrelated
characters); when the text is too short to tell, the encoding must be
declared. Anything else is a :class:`CleaningError` naming the file, the byte
offset and the line. Nothing is ever decoded with ``errors="replace"``.

A saved web page (``.html``/``.htm`` or content starting like HTML) is reduced
to its text by :mod:`textdrift.html` (BeautifulSoup, ``html.parser``) before
step 1: page chrome (head, nav, header, footer, aside, forms, scripts, styles)
and comments are dropped and logged (step ``html``: tag, length, text), block
elements become paragraphs.

An empty file, or one with no text left after cleaning, is an error, or with
``on_empty: skip`` a ``skipped`` log row and no text (the document is then
absent from the clean index). ``on_excess_removal`` (error | warn | skip)
decides about a document flagged by step 8.

The steps of :func:`clean_text`, in order, each configured by a key of the
``clean:`` block of ``config/config.yaml`` (defaults: :data:`DEFAULTS`):

1. ``normalize`` (``normalize``): line endings to LF, as are the other line
   separators that ``str.splitlines`` honours (VT, FF, FS-RS, NEL, U+2028,
   U+2029); other control characters (C0/C1 except tab) are removed; characters in
   ``apostrophes`` between two letters become ``'`` (U+00B4 acute accent
   ``Chair´s``, U+2019 ``China’s``; done before NFKC, which would turn U+00B4
   into a space and a combining accent); characters in ``spaces`` (no-break,
   ideographic, tab ...) become a space; characters in ``remove`` (zero-width,
   BOM, soft hyphen) are deleted; then Unicode ``form`` (NFKC): full-width
   forms and compatibility characters fold to their plain forms. Note that
   this turns Chinese full-width ``，：；（）！？`` into ASCII ``,:;()!?``
   (the corpus already uses ASCII commas in Chinese, so this makes the texts
   uniform), and ``…`` into ``...``; ``。、《》“”`` are not compatibility
   characters and stay (combining sequences are composed too: e + U+0301 ->
   é, logged). Finally runs of spaces collapse to one. One log row per
   replaced character with its count.
2. ``paragraphs``: every non-empty line is a paragraph (the corpus has one
   paragraph per line); lines are stripped; blank lines are dropped with one
   summary log row.
3. ``boilerplate`` (``boilerplate``, ``tail_max_chars``): named regular
   expressions with a scope: ``paragraph`` drops a paragraph that matches in
   full (blog chrome, comment-form lines, "more" markers, disclaimers, editor
   lines, header labels); ``tail`` cuts from the first match to the end of the
   document (a trailing comment form or an editor line + disclaimer, even when
   glued inside the last paragraph), unless that would remove more than
   ``tail_max_chars`` characters (then only flagged); ``inline`` removes the
   matched span inside a paragraph. Every removal is logged verbatim.
4. ``titles`` (``titles``): (a) a paragraph that is one string written twice
   (``X2024X2024``, copy of at least ``min_chars``) keeps one copy; (b) a
   paragraph that is a truncated copy of the next one (at least
   ``min_truncated_chars`` long and cut inside a word, so a heading that
   merely starts the next paragraph stays), or repeats an earlier one
   verbatim (at least ``min_chars``), is dropped; (c) a page title glued to the start of a paragraph
   with a site suffix (``Title_Guangming Online`` or ``Title - Xinhua`` /
   ``Title | ...``, site names from ``site_names``, spaces optional) is split
   off as its own title paragraph, the site name is removed, and the title is
   dropped as well if the same text is another paragraph of the document.
5. ``language`` (``language``): each paragraph is assigned by script: the
   share of Han among Han + Latin letters >= ``min_han_share`` is ``zh``,
   otherwise ``en``; a paragraph where other scripts (Cyrillic, Arabic, kana,
   Hangul, ...) make up more than ``max_other_share`` of the letters, where
   kana make up at least ``min_kana_share`` (Japanese: its kanji would count
   as Han), or whose language is not in ``languages``, is logged as
   ``excluded_language`` with its text (and a warning names the file). Paragraphs without letters (numbers, punctuation) join the
   language of the previous paragraph (the next one at the start).
6. ``zh_enumeration`` (``zh_enumeration``): in Chinese text, a numbered item
   run into the previous one (``...合作。 4.支持...``) is split off when its
   number is the previous item's number + 1. ``zh_spaces``: stray spaces
   next to Chinese punctuation (``远程医疗、 “互联网+”``) are removed (not
   next to a Latin letter or digit). Spaces between two Han characters are
   left alone: in this corpus they separate the halves of slogans
   (``凝聚数字合作新共识 共创全球发展新时代``), so removing them is not safe.
7. ``despace`` (``despace``): English paragraphs whose spaces were lost get
   them back (:mod:`textdrift.despace`). ``en_enumeration``: a run-together
   numbered list (``... cyberspace. 1. Expanding ... (1) Construction ...``, at
   least ``min_items`` markers in sequence) is split into one paragraph per item.
8. ``structure`` (``structure``): every paragraph gets a role, ``title``, ``heading``,
   ``body`` or ``paratext``, and a heading glued to its first sentence is split off as its
   own paragraph (:mod:`textdrift.structure`); every decision other than ``body`` is
   logged. No text is removed: the roles go to the index (column ``roles``, one letter per
   line) and the token table, and the analyses count the roles in ``count_roles``.
9. ``flag`` (``max_removed_share``): if the clean texts keep fewer than
   ``1 - max_removed_share`` of the raw non-whitespace characters, a
   ``flagged`` row is logged; the caller decides whether that is an error.
"""

from __future__ import annotations

import codecs
import contextlib
import copy
import functools
import glob
import hashlib
import logging
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from textdrift import despace as _despace
from textdrift import structure as _structure
from textdrift.io import write_paragraphs

logger = logging.getLogger("textdrift.clean")

LOG_COLUMNS = ["doc_id", "lang", "step", "action", "detail", "chars_before", "chars_after"]

DEFAULTS: dict = {
    "normalize": {
        "form": "NFKC",
        "apostrophes": ["\u00b4", "\u2019", "`"],
        "spaces": ["\u00a0", "\u2007", "\u202f", "\u3000", "\t"],
        "remove": ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"],
    },
    "boilerplate": [
        {"name": "posted_on", "scope": "paragraph",
         "pattern": r"(?i)(posted|updated|published) on\b.{0,60}"},
        {"name": "more_marker", "scope": "paragraph", "pattern": r"<!\W*more\W*>"},
        {"name": "comment_form_prompt", "scope": "paragraph",
         "pattern": r"(?i)fill in your details below.*"},
        {"name": "comment_form_account", "scope": "paragraph",
         "pattern": r"(?i).*\blog out\s*/\s*change\s*\)"},
        {"name": "comment_form_connecting", "scope": "paragraph",
         "pattern": r"(?i)connecting to %s"},
        {"name": "comment_form_icons", "scope": "paragraph",
         "pattern": r"(?i)(wordpress\.com logo|(twitter|facebook|google) (picture|photo))"},
        {"name": "share_buttons", "scope": "paragraph",
         "pattern": r"(?i)(share this|like this|like loading\.\.\.):?"},
        {"name": "header_label_zh", "scope": "paragraph", "pattern": r"核心提示\s*[:：]?"},
        {"name": "disclaimer_zh", "scope": "paragraph",
         "pattern": r"(免责)?声明\s*[:：].*(版权|转载|侵权).*"},
        {"name": "editor_line_zh", "scope": "paragraph",
         "pattern": r"[(（]?\s*(责任编辑|编辑|责编)\s*[:：].{1,30}?[)）]?"},
        {"name": "editor_line_en", "scope": "paragraph",
         "pattern": r"(Editor|Editors|Edited by|Chief editor)\s*:\s*[A-Z][\w .'-]{0,60}"},
        {"name": "comment_form", "scope": "tail",
         "pattern": r"(?im)^(leave a (reply|comment)|post a comment|发表评论|发表回复)\s*$"},
        {"name": "editor_disclaimer", "scope": "tail",
         "pattern": r"(Editor\s*:.{0,60}?)?Disclaimer\s*:?\s*The\s*views\s*and\s*opinions\s*expressed"},
    ],
    "tail_max_chars": 3000,
    "titles": {
        "min_chars": 10,
        "min_truncated_chars": 40,
        "max_title_chars": 200,
        "site_names": [
            "Guangming Online", "GMW.cn", "Xinhua", "Xinhuanet", "China Daily",
            "chinadaily.com.cn", "CGTN", "People's Daily Online", "China.org.cn",
            "Global Times", "english.gov.cn", "光明网", "新华网", "人民网",
            "中国政府网", "中国网信网",
        ],
    },
    "language": {"min_han_share": 0.3, "max_other_share": 0.5, "min_kana_share": 0.1},
    "zh_enumeration": {
        "pattern": r"(?<=[。！？；;!?.])\s*(?=(\d{1,2})[.、．](?!\d))",
    },
    "zh_spaces": {
        "pattern": r"(?<=[、。《》“”])\s+(?![A-Za-z0-9])|(?<![A-Za-z0-9])\s+(?=[、。《》“”])",
    },
    "en_enumeration": {
        "pattern": r"(?<=[.;:!?])\s+(?=(\(?)(\d{1,2})[.)]\s*[A-Z])",
        "min_items": 3,
    },
    "despace": {
        "min_chars": 40,
        "max_space_share": 0.02,
        "min_letter_run": 25,
        "words_file": "config/en_despace_words.txt",
        "word_count": 1.0e8,
    },
    "structure": copy.deepcopy(_structure.DEFAULTS),
    "max_removed_share": 0.5,
    "log_max_chars": 100000,
    "on_excess_removal": "error",
    "on_empty": "error",
    "log_excerpt_chars": 300,
}


class CleaningError(ValueError):
    """A raw file cannot be cleaned (e.g. it cannot be decoded); the message says how to fix it."""


@dataclass
class CleanResult:
    """Clean paragraphs per language code, in document order, and the change log."""

    texts: dict[str, list[str]] = field(default_factory=dict)
    log: list[dict] = field(default_factory=list)
    #: the role of every paragraph of ``texts`` (title, heading, body, paratext; :mod:`textdrift.structure`)
    roles: dict[str, list[str]] = field(default_factory=dict)
    #: (index into ``log``, text) of every span of text the cleaner removed; that log row's
    #: ``detail`` ends with the text verbatim (cut only above ``log_max_chars``)
    removed: list[tuple[int, str]] = field(default_factory=list)


# --- decoding -------------------------------------------------------------------


# Magic bytes of formats that are not text: converting them is the user's job (the
# cleaner cannot know which text a PDF or a Word file holds, nor in which order).
BINARY_SIGNATURES: list[tuple[bytes, str, str]] = [
    (b"%PDF", "a PDF file", "extract its text first (e.g. `pdftotext -layout file.pdf file.txt`)"),
    (b"PK\x03\x04", "a ZIP archive (.docx, .xlsx, .odt, .epub or .zip)",
     "save it as plain text (Word: File > Save As > Plain Text, UTF-8), or unzip it"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a Microsoft Office 97-2003 file (.doc, .xls, .ppt)",
     "save it as plain text (UTF-8)"),
    (b"{\\rtf", "an RTF document", "save it as plain text (UTF-8)"),
    (b"\x89PNG", "a PNG image", "transcribe or OCR it to a text file"),
    (b"\xff\xd8\xff", "a JPEG image", "transcribe or OCR it to a text file"),
    (b"GIF8", "a GIF image", "transcribe or OCR it to a text file"),
    (b"\x1f\x8b", "a gzip archive", "decompress it (gunzip)"),
]

#: Candidates tried for a file that is neither UTF-8 nor has a BOM: Simplified (GB18030,
#: a superset of GB2312/GBK) and Traditional (cp950, Microsoft's Big5) Chinese.
CJK_CANDIDATES = ("gb18030", "cp950")
# A candidate decoding reads as Chinese when at least _MIN_CHARS of its non-space characters
# are common (chinese_score) and, over at least _MIN_PAIRS pairs of adjacent Han characters,
# at least _MIN_WORDS of the pairs occur inside a word of jieba's dictionary (word_pair_score).
# Real text: 0.5-1.0 of pairs; GB18030 bytes read as Big5 or the reverse: ~0.0.
_MIN_CHARS = 0.85
_MIN_PAIRS = 3
_MIN_WORDS = 0.3
_MARGIN = 0.25

def check_not_binary(data: bytes, path: str, encoding: str | None = None) -> None:
    """Raise :class:`CleaningError` for PDF, Office, ZIP, image files or NUL bytes in text.

    NUL bytes are allowed in UTF-16/32 (BOM or declared encoding), nowhere else.
    """
    for magic, what, fix in BINARY_SIGNATURES:
        if data.startswith(magic):
            raise CleaningError(
                f"{path}: this is {what}, not a text file (starts with bytes {magic[:8].hex(' ')}); "
                f"{fix}, add the text file to data/raw/ and point the manifest's 'file' at it."
            )
    wide = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (
        encoding is not None and encoding.lower().replace("_", "-").startswith(("utf-16", "utf-32", "utf16", "utf32")))
    nul = data.find(b"\x00")
    if nul >= 0 and not wide:
        raise CleaningError(
            f"{path}: NUL byte at byte offset {nul}: a binary file, or UTF-16/UTF-32 without a BOM. "
            "If it is text, declare its encoding in the manifest column 'encoding' "
            "(utf-16-le, utf-16-be, ...); otherwise convert it to a UTF-8 text file."
        )


@functools.lru_cache(maxsize=1)
def _common_chars() -> frozenset[str]:
    """The commonly used Han characters: GB2312 level 1 (3,755 Simplified characters, rows
    16-55) and Big5 level 1 (5,401 Traditional characters, A440-C67E), built from the codecs
    themselves (no data file). Together they cover well over 99% of running modern Chinese
    text, while a Big5 file decoded as GB18030 (or the reverse) yields mostly characters
    outside them, or kana, Cyrillic and private-use characters."""
    chars = set()
    for lead in range(0xB0, 0xD8):
        for trail in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):
                chars.add(bytes([lead, trail]).decode("gb2312"))
    for lead in range(0xA4, 0xC7):
        for trail in [*range(0x40, 0x7F), *(range(0xA1, 0xFF) if lead < 0xC6 else ())]:
            with contextlib.suppress(UnicodeDecodeError):
                chars.add(bytes([lead, trail]).decode("big5"))
    return frozenset(chars)


def chinese_score(text: str) -> float:
    """Share of the non-space characters that are ASCII, CJK punctuation/full-width forms or
    common Han characters (:func:`_common_chars`); 0 when there is no Han character at all."""
    chars = [ch for ch in text if not ch.isspace()]
    if not chars or not any(_is_han(ch) for ch in chars):
        return 0.0
    common = _common_chars()
    ok = sum(ord(ch) < 128 or ch in common or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef"
             or "\u2010" <= ch <= "\u2027" or ch in "·•" for ch in chars)
    return ok / len(chars)


@functools.lru_cache(maxsize=1)
def _word_pairs() -> tuple[frozenset[str], object]:
    """Every pair of adjacent characters inside a word of jieba's dictionary (frequency >= 3,
    Simplified), and an OpenCC t2s converter (Traditional text is converted before lookup)."""
    import jieba
    from opencc import OpenCC

    pairs = set()
    with open(Path(jieba.__file__).with_name("dict.txt"), encoding="utf-8") as fh:
        for line in fh:
            word, freq = line.split(" ")[:2]
            if int(freq) >= 3:
                pairs.update(word[i:i + 2] for i in range(len(word) - 1))
    return frozenset(pairs), OpenCC("t2s")


def word_pair_score(text: str) -> tuple[float, int]:
    """(share of pairs of adjacent Han characters that occur inside a dictionary word, number
    of pairs). Text decoded with the wrong Chinese codec is made of real but unrelated
    characters, so its pairs almost never form words."""
    pairs, cc = _word_pairs()
    simplified = cc.convert(text)
    if len(simplified) != len(text):
        simplified = text
    found = [simplified[i:i + 2] for i in range(len(text) - 1) if _is_han(text[i]) and _is_han(text[i + 1])]
    return (sum(p in pairs for p in found) / len(found) if found else 0.0), len(found)


def _plausibly_chinese(text: str, min_share: float = _MIN_CHARS) -> bool:
    """Mostly common Han characters, CJK punctuation and ASCII."""
    return chinese_score(text) >= min_share


def decode_bytes(data: bytes, path: str, encoding: str | None = None) -> tuple[str, str]:
    """Decode a raw file strictly; returns (text, encoding used).

    First, binary formats (PDF, Office, ZIP, images, NUL bytes) are refused
    (:func:`check_not_binary`). ``encoding`` (the manifest's ``encoding`` column) wins when
    given. Else a BOM decides (UTF-8 -> ``utf-8-sig``, UTF-32, UTF-16), else UTF-8, else
    GB18030 (Simplified) or cp950 (Big5, Traditional): each that decodes without error reads
    as Chinese when >= 85% of its characters are common (:func:`chinese_score`) and >= 30% of
    at least 3 pairs of adjacent Han characters occur in dictionary words
    (:func:`word_pair_score`); the one that reads as Chinese is taken (if both do, the one
    with 0.25 more word pairs). Otherwise (too little Chinese to tell, both too close, or
    neither reads as Chinese) the encoding must be declared. Raises :class:`CleaningError` naming ``path`` and the offset
    of the first undecodable byte.
    """
    check_not_binary(data, path, encoding)

    def fail(enc: str, err: UnicodeDecodeError, extra: str = "") -> CleaningError:
        bad = data[err.start:err.start + 4].hex(" ")
        line = data[:err.start].count(b"\n") + 1
        return CleaningError(
            f"{path}: cannot decode as {enc}: byte offset {err.start} (line {line}, bytes {bad}){extra}. "
            "Declare the file's encoding in the manifest column 'encoding' "
            "(e.g. gb18030, big5, utf-16, cp1252)."
        )

    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError as err:
            raise CleaningError(f"{path}: unknown encoding {encoding!r} in the manifest column 'encoding'") from err
        if codecs.lookup(encoding).name == "utf-8" and data.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"  # a declared UTF-8 file with a BOM: the BOM is not text
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError as err:
            raise fail(encoding, err) from err
    if data.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        candidates = ["utf-32"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        candidates = []
    for enc in candidates:
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError as err:
            raise fail(enc, err) from err
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as err:
        utf8_err = err
    scored = []
    for enc in CJK_CANDIDATES:
        with contextlib.suppress(UnicodeDecodeError):
            text = data.decode(enc)
            scored.append((enc, text, chinese_score(text), *word_pair_score(text)))
    if not scored:
        raise fail("utf-8", utf8_err, "; GB18030 and Big5 (cp950) do not fit either")
    tried = "; ".join(f"{enc}: {chars:.0%} common characters, {words:.0%} of {pairs} character pairs "
                      "in words" for enc, _, chars, words, pairs in scored)
    plausible = sorted((c for c in scored if c[2] >= _MIN_CHARS and c[4] >= _MIN_PAIRS and c[3] >= _MIN_WORDS),
                       key=lambda c: -c[3])
    if len(plausible) == 1 or (len(plausible) > 1 and plausible[0][3] - plausible[1][3] >= _MARGIN):
        return plausible[0][1], plausible[0][0]
    if plausible:
        raise fail("utf-8", utf8_err, f"; it reads as Chinese both as GB18030 and as Big5 ({tried}), "
                                      "too close to tell")
    if any(c[2] >= _MIN_CHARS and c[4] < _MIN_PAIRS for c in scored):
        raise fail("utf-8", utf8_err, f"; too little Chinese text to tell GB18030 from Big5 reliably ({tried})")
    raise fail("utf-8", utf8_err, f"; as GB18030 or Big5 it does not read as Chinese ({tried})")


# --- helpers -------------------------------------------------------------------


def _merge(base: dict, over: dict) -> dict:
    """``over`` merged into a copy of ``base`` (nested dicts merged, other values replaced)."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


@functools.lru_cache(maxsize=None)
def _is_han(ch: str) -> bool:
    """Whether ``ch`` is a CJK (compatibility) ideograph; cached per character (texts repeat
    a few thousand distinct characters millions of times)."""
    return unicodedata.name(ch, "").startswith(("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH"))


def _char_name(ch: str) -> str:
    return f"U+{ord(ch):04X} {unicodedata.name(ch, repr(ch))}"


class _Log:
    def __init__(self, doc_id: str, cfg: dict):
        self.doc_id = doc_id
        self.rows: list[dict] = []
        # (row number, text) of every span removed from the text (not a CSV column: the
        # detail of that row ends with the text verbatim, unless longer than log_max_chars)
        self.removed: list[tuple[int, str]] = []
        self.max_chars = cfg["log_max_chars"]
        self.excerpt_chars = cfg["log_excerpt_chars"]

    def text(self, text: str) -> str:
        """``text`` verbatim, or cut with its full length noted when very long."""
        if len(text) <= self.max_chars:
            return text
        return f"{text[:self.excerpt_chars]}… [{len(text)} chars in full]"

    def add(self, lang: str, step: str, action: str, detail: str, before: int, after: int,
            removed: str | None = None) -> None:
        if removed is not None:
            self.removed.append((len(self.rows), removed))
        self.rows.append({"doc_id": self.doc_id, "lang": lang, "step": step, "action": action,
                          "detail": detail, "chars_before": before, "chars_after": after})


# --- 1. normalize ----------------------------------------------------------------

# Line boundaries of str.splitlines() besides LF and CR (VT, FF, FS, GS, RS, NEL, LS, PS).
LINE_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
# Control characters (Unicode category Cc, which is exactly U+0000-U+001F and U+007F-U+009F and
# never changes) other than LF and tab: found by one regex scan instead of a category look-up
# per character.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def normalize(text: str, cfg: dict, log: _Log) -> str:
    """Line endings, look-alike apostrophes and spaces, invisible characters, NFKC, space runs."""
    step = "normalize"
    n_crlf, n_cr = text.count("\r\n"), text.replace("\r\n", "").count("\r")
    if n_crlf or n_cr:
        before = len(text)
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        log.add("", step, "replaced", f"line endings to LF: CRLF x{n_crlf}, CR x{n_cr}",
                before, len(text))
    # Other line and paragraph separators (str.splitlines() breaks at them, so a clean file
    # would not have one paragraph per line) become LF; other control characters go.
    for ch in LINE_BREAKS:
        n = text.count(ch)
        if n:
            before = len(text)
            text = text.replace(ch, "\n")
            log.add("", step, "replaced", f"{_char_name(ch)} -> line break (U+000A) x{n}", before, len(text))
    controls = Counter(_CONTROLS.findall(text))
    for ch, n in sorted(controls.items()):
        before = len(text)
        text = text.replace(ch, "")
        log.add("", step, "removed", f"control character {_char_name(ch)} -> nothing x{n}", before, len(text))
    for ch in cfg["apostrophes"]:
        if ch not in text:  # nothing to replace (the look-behind pattern is slow to scan for)
            continue
        before = len(text)
        text, n = re.subn(rf"(?<=[^\W\d_]){re.escape(ch)}(?=[^\W\d_])", "'", text)
        if n:
            log.add("", step, "replaced",
                    f"{_char_name(ch)} between letters -> U+0027 APOSTROPHE x{n}", before, len(text))
    for chars, repl, action in ((cfg["spaces"], " ", "replaced"), (cfg["remove"], "", "removed")):
        for ch in chars:
            n = text.count(ch)
            if n:
                before = len(text)
                text = text.replace(ch, repl)
                target = "U+0020 SPACE" if repl else "nothing"
                log.add("", step, action, f"{_char_name(ch)} -> {target} x{n}", before, len(text))
    form = cfg["form"]
    if not unicodedata.is_normalized(form, text):
        changed = Counter(ch for ch in text if unicodedata.normalize(form, ch) != ch)
        before = len(text)
        per_char = "".join(unicodedata.normalize(form, ch) for ch in text)
        text = unicodedata.normalize(form, text)
        for ch, n in sorted(changed.items()):
            new = unicodedata.normalize(form, ch)
            log.add("", step, "replaced",
                    f"{form}: {_char_name(ch)} -> {new!r} ({' '.join(f'U+{ord(c):04X}' for c in new)}) x{n}",
                    before, len(text))
        # sequences (a letter + combining accents) composed into one character: é = e + U+0301
        gone, made = Counter(per_char) - Counter(text), Counter(text) - Counter(per_char)
        if gone or made:
            names = lambda c: ", ".join(f"{_char_name(ch)} x{n}" for ch, n in sorted(c.items()))  # noqa: E731
            log.add("", step, "replaced", f"{form}: combining sequences composed: {names(gone)} -> {names(made)}",
                    before, len(text))
    before = len(text)
    text, n = re.subn(r" {2,}", " ", text)
    if n:
        log.add("", step, "replaced", f"runs of spaces collapsed to one space x{n}", before, len(text))
    return text


# --- 2. paragraphs ---------------------------------------------------------------


def split_paragraphs(text: str, log: _Log) -> list[str]:
    """Every non-empty line is a paragraph, stripped; blank lines are dropped (one summary row)."""
    lines = text.split("\n")
    paras = [line.strip() for line in lines if line.strip()]
    blank = len(lines) - len(paras)
    if blank:
        log.add("", "paragraphs", "removed", f"{blank} blank lines dropped", len(text),
                len("\n".join(paras)))
    return paras


# --- 3. boilerplate --------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _compile(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def remove_boilerplate(paras: list[str], cfg: dict, log: _Log) -> list[str]:
    """Drop / cut / remove publisher boilerplate by the configured patterns (see module doc)."""
    step = "boilerplate"
    rules = cfg["boilerplate"]
    for rule in rules:
        if rule["scope"] not in ("paragraph", "tail", "inline"):
            raise CleaningError(f"clean.boilerplate {rule['name']!r}: unknown scope {rule['scope']!r}")
    for rule in (r for r in rules if r["scope"] == "paragraph"):
        rx, kept = _compile(rule["pattern"]), []
        for p in paras:
            if rx.fullmatch(p):
                log.add("", step, "removed", f"{rule['name']}: {log.text(p)}", len(p), 0, removed=p)
            else:
                kept.append(p)
        paras = kept
    for rule in (r for r in rules if r["scope"] == "tail"):
        rx = _compile(rule["pattern"])
        for i, p in enumerate(paras):
            m = rx.search(p)
            if not m:
                continue
            head = p[:m.start()].rstrip()
            removed = "\n".join([p[m.start():]] + paras[i + 1:])
            if len(removed) > cfg["tail_max_chars"]:
                log.add("", step, "flagged",
                        f"{rule['name']}: would cut {len(removed)} chars (> tail_max_chars "
                        f"{cfg['tail_max_chars']}), not removed: {log.text(removed)}",
                        len(removed), len(removed))
            else:
                log.add("", step, "removed", f"{rule['name']} (to end of document): {log.text(removed)}",
                        len(removed), 0, removed=removed)
                paras = paras[:i] + ([head] if head else [])
            break
    for rule in (r for r in rules if r["scope"] == "inline"):
        rx, kept = _compile(rule["pattern"]), []
        for p in paras:
            for m in rx.finditer(p):
                log.add("", step, "removed", f"{rule['name']}: {log.text(m.group())}", len(p),
                        len(p) - len(m.group()), removed=m.group())
            p = re.sub(r" {2,}", " ", rx.sub("", p)).strip()
            if p:
                kept.append(p)
        paras = kept
    return paras


# --- 4. titles --------------------------------------------------------------------


_DOUBLED = re.compile(r"(.+?)\s*\1")


def _site_title_regex(cfg: dict) -> re.Pattern:
    names = sorted(cfg["site_names"], key=len, reverse=True)
    sites = "|".join(r"\s*".join(re.escape(w) for w in name.split()) for name in names)
    return re.compile(
        rf"(?P<title>.{{{cfg['min_chars']},{cfg['max_title_chars']}}}?)"
        rf"(?P<sep>\s*_\s*|\s+[-–—|]\s+)(?P<site>{sites})(?P<rest>.*)"
    )


def dedupe_titles(paras: list[str], cfg: dict, log: _Log) -> list[str]:
    """Doubled lines, truncated or repeated paragraphs, site titles (see module doc)."""
    step, min_chars = "titles", cfg["min_chars"]
    out = []
    for p in paras:
        m = _DOUBLED.fullmatch(p)
        if m and len(m.group(1)) >= min_chars:
            copy_ = p[len(m.group(1)):]
            log.add("", step, "deduplicated", f"line written twice, second copy removed: {log.text(copy_)}",
                    len(p), len(m.group(1)), removed=copy_)
            p = m.group(1)
        out.append(p)
    paras, out, seen = out, [], set()
    for i, p in enumerate(paras):
        nxt = paras[i + 1] if i + 1 < len(paras) else ""
        if (len(p) >= cfg["min_truncated_chars"] and len(nxt) > len(p) and nxt.startswith(p)
                and p[-1].isalnum() and nxt[len(p)].isalnum()):
            log.add("", step, "removed", f"truncated copy of the next paragraph: {log.text(p)}", len(p), 0,
                    removed=p)
        elif len(p) >= min_chars and p in seen:
            log.add("", step, "removed", f"repeats an earlier paragraph: {log.text(p)}", len(p), 0, removed=p)
        else:
            out.append(p)
            seen.add(p)
    rx, paras, out = _site_title_regex(cfg), out, []
    for p in paras:
        m = rx.fullmatch(p)
        if not m:
            out.append(p)
            continue
        title, rest = m.group("title").strip(), m.group("rest").strip()
        site = m.group("sep") + m.group("site")
        log.add("", step, "split",
                f"page title split off its paragraph, site name removed: {site!r} (title: {log.text(title)})",
                len(p), len(title) + len(rest), removed=site)
        if title in paras:
            log.add("", step, "removed", f"page title repeated elsewhere: {log.text(title)}", len(title), 0,
                    removed=title)
        else:
            out.append(title)
        if rest:
            out.append(rest)
    return out


# --- 5. language -------------------------------------------------------------------

#: The language a paragraph of each script is assigned to (the segmenter supports these
#: two); which of them are analysed is the config's ``languages``.
SCRIPT_LANGUAGES = {"han": "zh", "latin": "en"}


@functools.lru_cache(maxsize=None)
def _script(ch: str) -> str | None:
    """Script of a letter: 'han', 'latin' or the first word of its Unicode name (lower case);
    None for a character that is not a letter. Cached per character."""
    if not ch.isalpha():
        return None
    if _is_han(ch):
        return "han"
    name = unicodedata.name(ch, "OTHER")
    return "latin" if name.startswith("LATIN") else name.split()[0].lower()


def _scripts(text: str) -> Counter:
    """Letters of ``text`` counted by script: 'han', 'latin' or the Unicode script word.

    Scripts appear in the order of their first letter in ``text`` (the characters are counted
    first, in order of first occurrence, then classified once each)."""
    counts: Counter = Counter()
    for ch, n in Counter(text).items():
        script = _script(ch)
        if script is not None:
            counts[script] += n
    return counts


def split_languages(paras: list[str], cfg: dict, languages: list[str], log: _Log) -> dict[str, list[str]]:
    """Assign each paragraph to zh / en by script; exclude other scripts and unwanted languages."""
    step, lcfg = "language", cfg["language"]
    labels: list[str | None] = []
    for p in paras:
        counts = _scripts(p)
        letters = sum(counts.values())
        if not letters:
            labels.append(None)
            continue
        han, latin = counts["han"], counts["latin"]
        other = letters - han - latin
        kana = counts["hiragana"] + counts["katakana"] + counts["katakana-hiragana"]
        if kana and kana / letters >= lcfg["min_kana_share"]:
            # Japanese: kanji are Han, so the Han share alone would call it Chinese
            log.add("ja", step, "excluded_language",
                    f"script kana ({kana}/{letters} letters >= min_kana_share {lcfg['min_kana_share']}): "
                    f"Japanese, not a configured language: {log.text(p)}", len(p), 0, removed=p)
            labels.append("")
            continue
        if other / letters > lcfg["max_other_share"]:
            script = max((k for k in counts if k not in ("han", "latin")), key=counts.__getitem__)
            log.add(script, step, "excluded_language",
                    f"script {script} ({other}/{letters} letters), not a configured language: {log.text(p)}",
                    len(p), 0, removed=p)
            labels.append("")
            continue
        lang = SCRIPT_LANGUAGES["han" if han / (han + latin) >= lcfg["min_han_share"] else "latin"]
        if lang not in languages:
            log.add(lang, step, "excluded_language",
                    f"language {lang} is not in the configured languages {languages}: {log.text(p)}", len(p), 0,
                    removed=p)
            lang = ""
        labels.append(lang)
    texts: dict[str, list[str]] = {}
    for i, (p, lang) in enumerate(zip(paras, labels)):
        if lang is None:
            near = [x for x in labels[i - 1::-1] if x is not None][:1] if i else []
            near = near or [x for x in labels[i + 1:] if x is not None][:1]
            lang = near[0] if near else ""
            if lang:
                log.add(lang, step, "attached", f"paragraph without letters joins its neighbours: {p}",
                        len(p), len(p))
            else:
                log.add("", step, "removed", f"paragraph without letters and no neighbour: {p}", len(p), 0,
                        removed=p)
        if lang:
            texts.setdefault(lang, []).append(p)
    for lang, ps in texts.items():
        log.add(lang, step, "split", f"{len(ps)} paragraphs", sum(map(len, ps)), sum(map(len, ps)))
    return texts


# --- 6. Chinese numbered items --------------------------------------------------


_ITEM_START = re.compile(r"(\d{1,2})[.、．]")


def split_zh_enumeration(paras: list[str], cfg: dict, log: _Log) -> list[str]:
    """Split ``...。 4.xxx`` off as its own paragraph when 4 follows the previous item number."""
    rx = _compile(cfg["zh_enumeration"]["pattern"])
    out, last = [], None
    for p in paras:
        m = _ITEM_START.match(p)
        if m:
            last = int(m.group(1))
        start = 0
        for m in rx.finditer(p):
            if last is not None and int(m.group(1)) == last + 1:
                piece = p[start:m.start()].strip()
                out.append(piece)
                log.add("zh", "zh_enumeration", "split",
                        f"item {m.group(1)} split from item {last}: ...{p[max(0, m.start() - 20):m.end() + 20]}...",
                        len(p), len(piece))
                start, last = m.end(), int(m.group(1))
        out.append(p[start:].strip())
    return out


def split_en_enumeration(paras: list[str], cfg: dict, log: _Log) -> list[str]:
    """Split a run-together numbered list into one paragraph per item.

    A paragraph is split before each marker matched by ``en_enumeration.pattern`` (after a
    sentence end: ``... in cyberspace. 1. Expanding ...``, ``... worldwide. (1) Construction ...``)
    that continues its style's sequence (``1.`` then ``2.``; ``(1)`` restarts under each item),
    but only when at least ``min_items`` such markers are found, so that a sentence which
    merely mentions "(1)" is left alone. Typical of pages whose line breaks were lost.
    """
    c = cfg["en_enumeration"]
    rx = _compile(c["pattern"])
    out = []
    for p in paras:
        cuts, last = [], {}
        for m in rx.finditer(p):
            style, n = m.group(1), int(m.group(2))
            if n == 1 or n == last.get(style, 0) + 1:
                cuts.append(m)
                last[style] = n
        if len(cuts) < c["min_items"]:
            out.append(p)
            continue
        pieces, start = [], 0
        for m in cuts:
            pieces.append(p[start:m.start()].strip())
            start = m.end()
        pieces.append(p[start:].strip())
        pieces = [x for x in pieces if x]
        out.extend(pieces)
        log.add("en", "en_enumeration", "split",
                f"{len(cuts)} numbered items run together, split into {len(pieces)} paragraphs before: "
                + " | ".join(f"...{p[max(0, m.start() - 15):m.end() + 20]}..." for m in cuts),
                len(p), sum(map(len, pieces)))
    return out


def remove_zh_spaces(paras: list[str], cfg: dict, log: _Log) -> list[str]:
    """Remove the spaces matched by ``zh_spaces.pattern`` (next to Chinese punctuation)."""
    rx, out = _compile(cfg["zh_spaces"]["pattern"]), []
    for p in paras:
        spots = [f"...{p[max(0, m.start() - 10):m.end() + 10]}..." for m in rx.finditer(p)]
        if spots:
            new = rx.sub("", p)
            log.add("zh", "zh_spaces", "removed",
                    f"{len(spots)} space run(s) next to Chinese punctuation: {' | '.join(spots)}",
                    len(p), len(new))
            p = new
        out.append(p)
    return out


# --- 7. English de-spacing ------------------------------------------------------


def restore_spaces(paras: list[str], cfg: dict, log: _Log) -> list[str]:
    """Restore lost spaces in English paragraphs detected as de-spaced."""
    dcfg = cfg["despace"]
    out, segmenter = [], None
    for p in paras:
        if _despace.is_despaced(p, dcfg["min_chars"], dcfg["max_space_share"], dcfg["min_letter_run"]):
            if segmenter is None:
                words = _despace.read_words(dcfg["words_file"])
                segmenter = _despace.load_segmenter(words, dcfg["word_count"])
            new, n = _despace.despace(p, segmenter)
            log.add("en", "despace", "restored_spaces", f"{n} spaces inserted; original: {log.text(p)}",
                    len(p), len(new))
            p = new
        out.append(p)
    return out


# --- the whole pipeline -----------------------------------------------------------


def _nonspace(text: str) -> int:
    """Number of characters of ``text`` that are not whitespace (``str.isspace``): the
    pieces of ``str.split()``, which splits at runs of exactly those characters."""
    return sum(map(len, text.split()))


def clean_text(raw: str, doc_id: str, cfg: dict, titles: list[str] | None = None) -> CleanResult:
    """Clean one decoded document. ``cfg``: the ``clean:`` config block plus ``languages``;
    missing keys take :data:`DEFAULTS`. ``titles``: the document's title(s) from the manifest
    (any language), for the ``structure`` step."""
    cfg = _merge(DEFAULTS, cfg)
    languages = list(cfg.get("languages") or SCRIPT_LANGUAGES.values())
    log = _Log(doc_id, cfg)
    text = normalize(raw, cfg["normalize"], log)
    paras = split_paragraphs(text, log)
    paras = remove_boilerplate(paras, cfg, log)
    paras = dedupe_titles(paras, cfg["titles"], log)
    texts = split_languages(paras, cfg, languages, log)
    if "zh" in texts:
        texts["zh"] = split_zh_enumeration(texts["zh"], cfg, log)
        texts["zh"] = remove_zh_spaces(texts["zh"], cfg, log)
    if "en" in texts:
        texts["en"] = restore_spaces(texts["en"], cfg, log)
        texts["en"] = split_en_enumeration(texts["en"], cfg, log)
    texts = {lang: [unicodedata.normalize("NFC", p) for p in ps if p] for lang, ps in texts.items()}
    texts = {lang: ps for lang, ps in texts.items() if ps}
    roles = {}
    for lang in list(texts):
        texts[lang], roles[lang] = _structure.assign_roles(
            texts[lang], lang, list(titles or []), cfg["structure"],
            lambda step, action, detail, b, a, lang=lang: log.add(lang, step, action, detail, b, a),
            unspaced=lang in cfg.get("unspaced_languages", ("zh", "ja")))
    before = _nonspace(raw)
    after = sum(_nonspace(p) for ps in texts.values() for p in ps)
    if after < (1 - cfg["max_removed_share"]) * before:
        log.add("", "flag", "flagged",
                f"cleaning kept {after} of {before} non-space characters "
                f"(more than max_removed_share {cfg['max_removed_share']} removed)", before, after)
    return CleanResult(texts=texts, log=log.rows, removed=log.removed, roles=roles)


# --- shard level: files in, files out (called by the `clean` rule) -----------

# roles: one letter per paragraph (t title, h heading, b body, p paratext; textdrift.structure)
INDEX_COLUMNS = ["doc_id", "year", "lang", "file", "paragraphs", "chars", "sha256", "roles"]
LOG_COLUMNS = ["doc_id", "lang", "step", "action", "detail", "chars_before", "chars_after"]


def _entry(doc_id: str, lang: str, step: str, action: str, detail: str, before: int, after: int) -> dict:
    return {"doc_id": doc_id, "lang": lang, "step": step, "action": action, "detail": detail,
            "chars_before": before, "chars_after": after}


# <meta charset> labels that name a subset of what pages so labelled really use (as browsers
# read them: WHATWG Encoding Standard)
_HTML_CHARSETS = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "big5": "cp950",
                  "iso-8859-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252", "ascii": "cp1252"}


def _skip(result: CleanResult, doc_id: str, reason: str) -> CleanResult:
    result.texts = {}
    result.log.append(_entry(doc_id, "", "document", "skipped", reason, 0, 0))
    return result


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
    """
    from textdrift import html as _html

    cfg = _merge(DEFAULTS, cfg)
    doc_id = str(doc["doc_id"])
    path = Path(doc["path"])
    where = f"{path} (doc_id={doc_id!r})"
    data = path.read_bytes()
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
    head = _Log(doc_id, cfg)
    head.add("", "read", "decoded", f"{path.name} as {used}" + (f" (from {source})" if source else ""),
             len(raw), len(raw))
    is_html = _html.looks_like_html(raw, path)
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
    result = clean_text(raw, doc_id, cfg, titles)
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
        result.log.append(_entry(doc_id, lang, "languages", "not_configured",
                                 f"declared in the manifest but not in the config's languages {configured}: "
                                 "not analysed", 0, 0))
    for lang in sorted(set(result.texts) - set(declared)) if declared else []:
        logger.warning("%s: text in %r found but not declared in the manifest; it is kept", where, lang)
        result.log.append(_entry(doc_id, lang, "languages", "undeclared_language",
                                 "kept; add it to the manifest's languages", 0, 0))
    return result


def clean_shard(docs: list[dict], clean_dir: str | Path, cfg: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Clean every document of a shard into ``clean_dir/{doc_id}.{lang}.txt``.

    Returns (index, log): the index lists each text written (with its size and
    SHA-256); the log holds every change the cleaner made. A skipped document
    (``on_empty``/``on_excess_removal: skip``) has log rows but no text and no
    index row. Texts of a document from an earlier run in a language no longer
    found (or of a document now skipped) are deleted.
    """
    clean_dir = Path(clean_dir)
    index, log = [], []
    for doc in docs:
        result = clean_document_file(doc, cfg)
        prefix = f"{doc['doc_id']}."
        for stale in clean_dir.glob(f"{glob.escape(prefix)}*.txt"):
            lang = stale.name[len(prefix):-len(".txt")]
            if "." not in lang and lang not in result.texts:  # not "a.b.zh.txt" of doc "a.b"
                logger.info("%s: deleting %s from an earlier run (no %s text now)", doc["doc_id"], stale, lang)
                stale.unlink()
        for lang, paragraphs in result.texts.items():
            path = clean_dir / f"{doc['doc_id']}.{lang}.txt"
            write_paragraphs(path, paragraphs)
            data = path.read_bytes()
            index.append({
                "doc_id": doc["doc_id"], "year": int(doc["year"]), "lang": lang, "file": str(path),
                "paragraphs": len(paragraphs), "chars": sum(map(len, paragraphs)),
                "sha256": hashlib.sha256(data).hexdigest(),
                "roles": _structure.encode_roles(result.roles.get(lang) or ["body"] * len(paragraphs)),
            })
        log.extend(result.log)
        logger.info("%s: %s", doc["doc_id"], {k: len(v) for k, v in result.texts.items()} or "skipped")
    return pd.DataFrame(index, columns=INDEX_COLUMNS), pd.DataFrame(log, columns=LOG_COLUMNS)
