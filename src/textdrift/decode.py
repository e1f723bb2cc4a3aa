"""Decoding: the bytes of a raw file as received -> its text, strictly; the first part of the
cleaning stage (decode -> :mod:`textdrift.clean` -> :mod:`textdrift.cleanio`).

Part of the cleaning stage (the house: :mod:`textdrift.cleanio` reads each manifest row's file,
decodes it here, extracts a web page's text with :mod:`textdrift.html`, and cleans it with
:func:`textdrift.clean.clean_text`).

:func:`decode_bytes` refuses PDF, Office/ZIP, image files and NUL bytes (outside UTF-16/32)
first (:func:`check_not_binary`; PDF and Word .docx files never get here: :mod:`textdrift.cleanio`
sends them to :mod:`textdrift.extract`); then takes a declared encoding (manifest column ``encoding``;
for a web page also its ``<meta charset>``), else a BOM (UTF-8, UTF-16, UTF-32), else UTF-8,
else GB18030 or Big5 (cp950), whichever reads as Chinese (:func:`chinese_score`: common
characters; :func:`word_pair_score`: adjacent characters that form dictionary words, since Big5
bytes also decode as GB18030, into unrelated characters); when the text is too short to tell,
the encoding must be declared. Anything else is a :class:`CleaningError` naming the file, the
byte offset and the line. Nothing is ever decoded with ``errors="replace"``.
"""

from __future__ import annotations

import codecs
import contextlib
import functools
import unicodedata
from pathlib import Path

__all__ = ["BINARY_SIGNATURES", "CJK_CANDIDATES", "CleaningError", "check_not_binary", "chinese_score",
           "decode_bytes", "is_han", "word_pair_score"]


class CleaningError(ValueError):
    """A raw file cannot be cleaned (e.g. it cannot be decoded); the message says how to fix it."""


@functools.lru_cache(maxsize=None)
def is_han(ch: str) -> bool:
    """Whether ``ch`` is a CJK (compatibility) ideograph; cached per character (texts repeat
    a few thousand distinct characters millions of times).

    Parameters
    ----------
    ch : str
        One character.

    Returns
    -------
    bool
    """
    return unicodedata.name(ch, "").startswith(("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH"))


# Magic bytes of formats that are not text: PDF and Word .docx files are extracted by
# textdrift.extract before decoding; converting the others is the user's job.
BINARY_SIGNATURES: list[tuple[bytes, str, str]] = [
    (b"%PDF", "a PDF file", "PDF files are read by textdrift.extract (the cleaning stage does so for a raw "
     "file): decode_bytes reads only text"),
    (b"PK\x03\x04", "a ZIP archive (.xlsx, .odt, .epub or .zip; a Word .docx is read, this is not one)",
     "save it as .docx or as plain text (UTF-8), or unzip it"),
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

    Parameters
    ----------
    data : bytes
        The file's content.
    path : str
        The file, for the message.
    encoding : str, optional
        The declared encoding (manifest column ``encoding``).

    Raises
    ------
    CleaningError
        Naming the format found (:data:`BINARY_SIGNATURES`) or the offset of the NUL byte, and the fix.
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
    common Han characters (GB2312 level 1 and Big5 level 1, built from the codecs).

    Parameters
    ----------
    text : str
        A candidate decoding.

    Returns
    -------
    float
        The share, 0 when there is no Han character at all.
    """
    chars = [ch for ch in text if not ch.isspace()]
    if not chars or not any(is_han(ch) for ch in chars):
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
    """How many pairs of adjacent Han characters occur inside a word of jieba's dictionary.

    Text decoded with the wrong Chinese codec is made of real but unrelated characters, so its
    pairs almost never form words (real text: 0.5-1.0 of them).

    Parameters
    ----------
    text : str
        A candidate decoding (Traditional characters are converted with OpenCC t2s first).

    Returns
    -------
    share : float
        Share of the pairs found inside a dictionary word (0 without pairs).
    pairs : int
        Number of pairs.
    """
    pairs, cc = _word_pairs()
    simplified = cc.convert(text)
    if len(simplified) != len(text):
        simplified = text
    found = [simplified[i:i + 2] for i in range(len(text) - 1) if is_han(text[i]) and is_han(text[i + 1])]
    return (sum(p in pairs for p in found) / len(found) if found else 0.0), len(found)


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
    neither reads as Chinese) the encoding must be declared.

    Parameters
    ----------
    data : bytes
        The raw file's content.
    path : str
        The file, for messages.
    encoding : str, optional
        The declared encoding (manifest column ``encoding``, or a web page's ``<meta charset>``).

    Returns
    -------
    text : str
        The decoded text.
    encoding : str
        The codec used (``utf-8-sig`` for UTF-8 with a BOM).

    Raises
    ------
    CleaningError
        Naming ``path``, the offset and line of the first undecodable byte, and the scores of
        the Chinese codecs tried.
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
