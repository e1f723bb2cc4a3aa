"""Text of a PDF or Word (.docx) file, for the cleaning stage: :mod:`textdrift.cleanio` reads the
file, this module extracts its text (one paragraph per line, as a plain-text file has it), and
:func:`textdrift.clean.clean_text` then runs every cleaning step on it as on any other text.

PDF (:func:`extract_pdf`, with pdfminer.six: its layout analysis gives each text line with its
position and the size of its characters, page by page):

* **Text layer only.** A page whose text layer is empty but which holds an image is a scan: a
  :class:`textdrift.decode.CleaningError` names the file and the page and says to run OCR
  (e.g. ``ocrmypdf``) and use the OCR'd file. A page whose characters are mostly unmapped
  glyphs (pdfminer's ``(cid:N)``: a font without a Unicode map) is refused the same way.
  A page with neither text nor image is blank: logged, skipped. Nothing is guessed.
* **Running headers and footers.** Candidates are the lines of a page's top and bottom margin
  (within ``MARGIN`` of the page height, and always the page's first and last line). A
  candidate is a *page number* when it is one in a common form (``3``, ``- 3 -``, ``— 3 —``,
  ``第3页``, ``第 3 页 共 10 页``, ``Page 3``, ``Page 3 of 10``, ``3 / 10``, ``iii``) and the same
  margin (top or bottom) holds one on at least half of the pages (so a lone "4" of a table at
  the top of one page stays); it is a *running header* (top) or *running footer* (bottom) when
  the same line (digits ignored, so "Report 2024 | 5" and "Report 2024 | 6" are one line;
  it must hold a letter) is a candidate in the same margin on at least two pages and at least
  half of the document's pages with text. A line elsewhere on the page that stands
  alone in its block and repeats on at least three pages and half of them (a footer placed in
  the middle of the page, a watermark line) is removed as *repeated line*. Each removal is one
  log row: page, reason, text.
* **Paragraphs.** pdfminer groups lines into blocks (a vertical gap ends a block; columns are
  separate blocks, read column by column: :func:`_blocks`; a list marker set apart from its
  text is joined to it). Inside a block a new paragraph starts where a line is indented (its
  left edge more than ``INDENT`` of the font size right of the line before; the block's first
  line: of the block's), where the gap between two lines exceeds ``PARA_GAP`` times the block's
  usual line pitch, where the font size changes by more than ``SIZE_CHANGE``, or
  where the previous line ended early: the first word of the next line would have fitted into
  the previous line's free space (a line wrapped by the typesetter is full up to one word). A
  paragraph that runs over a page break is joined when the page's last line was full (the next
  page's first word would not have fitted), does not end a sentence, and the next page's first line is not indented and is in the same script.
* **Lines joined.** English lines are joined with a space; a word hyphenated at a line end
  (``inter-`` + ``national``) is joined without the hyphen only when the joined word is a word
  (in wordsegment's vocabulary of 333,000 words, from web counts) at least as common as the
  two parts written as a pair; else the hyphen stays (``well-`` + ``known`` -> ``well-known``:
  "wellknown" 50,312 against "well known" 4,988,788); each decision is logged. Chinese (a Han character or CJK punctuation on
  either side) is joined without a space.
* **Roles.** A paragraph set in a font at least ``HEADING_SIZE`` times the body size (the
  median size of the document's characters) is a heading, and the largest such on the first
  page the title: hints for the ``structure`` step (:func:`textdrift.clean.clean_text`'s
  ``role_hints``).

Word (:func:`extract_docx`, with python-docx): the body's paragraphs and tables in document
order; a paragraph's style gives its role (``Title`` -> title; ``Heading N``, ``Subtitle``, a
style or paragraph with an outline level -> heading); each table row is one paragraph (role
``body``, never taken for a short heading), its cells separated by a space (a merged cell once); footnotes and endnotes (read from the
package's ``footnotes.xml``/``endnotes.xml``) are appended after the body as ``paratext``, kept
apart from the text the analyses count. The section headers and footers of a Word file are
not read (they are not body text).

Both return an :class:`Extracted`: the text, role hints, log rows (step ``extract``) and the
document's metadata (title, dates), which :mod:`textdrift.propose` uses for manifest rows.

This module is about 800 lines: two formats' readers and the PDF layout analysis (blocks,
margins, paragraphs) they share one concern, a file's text as its author wrote it.

Limits: no OCR; no reading-order repair beyond pdfminer's blocks (a complex layout with
sidebars, captions or text in figures may come out in an odd order); tables in a PDF come out
as lines of text; vertical writing is not supported; a heading is recognised in a PDF only by
its font size.
"""

from __future__ import annotations

import functools
import re
import statistics
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from textdrift.decode import CleaningError, is_han

__all__ = ["EXTRACTED_SUFFIXES", "Extracted", "extract_docx", "extract_file", "extract_pdf", "is_docx", "is_pdf",
           "join_lines", "page_number"]

#: file name suffixes read by this module (others go to :func:`textdrift.decode.decode_bytes`)
EXTRACTED_SUFFIXES = (".pdf", ".docx")
#: share of the page height at top and bottom where running headers and footers are looked for
MARGIN = 0.12
#: a line whose left edge is this many font sizes right of its block's starts a paragraph
INDENT = 0.8
#: a relative change of font size between two lines starts a paragraph
SIZE_CHANGE = 0.15
#: a paragraph whose font is this many times the body size is a heading
HEADING_SIZE = 1.15
#: a line more than this many font sizes below the last line of a block (baseline to baseline) opens a block
BLOCK_PITCH = 3.0
#: a block wider than this share of the page's text area spans the columns
SPAN_WIDTH = 0.6
#: a gap between two lines of a block this many times the block's usual line pitch starts a paragraph
PARA_GAP = 1.25
#: share of a page's characters that may be unmapped glyphs ``(cid:N)`` before the page is refused
MAX_CID_SHARE = 0.05

_OCR = ("run OCR on it first (e.g. `ocrmypdf --skip-text {name} {stem}.ocr.pdf`, or your scanner's software), "
        "put the OCR'd file in data/raw/ and point the manifest's 'file' at it")

_PAGE_NUMBER = re.compile(
    r"(?:[-–—~·•]?\s*(?:\d{1,3}|(?=[ivx])x{0,3}(?:ix|iv|v?i{0,3}))\s*[-–—~·•]?"
    r"|第\s*[0-9一二三四五六七八九十百零〇]+\s*页(?:\s*[,，/、]?\s*共\s*[0-9一二三四五六七八九十百零〇]+\s*页)?"
    r"|共\s*\d+\s*页\s*第\s*\d+\s*页"
    r"|(?:page|p\.|pp\.|seite|página)\s*\d{1,4}(?:\s*(?:of|/|von|de)\s*\d{1,4})?"
    r"|\d{1,4}\s*(?:/|of)\s*\d{1,4})", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?;:。！？；：…][\"'”’)\]）】》」』]*$")
_CJK_PUNCT = re.compile(r"[\u3000-\u303f\uff00-\uffef\u2018-\u201f\u2026\u2014]")
_HYPHENS = "-\u00ad\u2010"
_CID = re.compile(r"\(cid:\d+\)")
_LETTER = re.compile(r"[^\W\d_]")  # a letter or a Han character


def page_number(line: str) -> bool:
    """Whether a line is a page number in a common form.

    ``3``, ``- 3 -``, ``— 3 —``, ``·3·``, ``iii``, ``第3页``, ``第 3 页 共 10 页``, ``共10页 第3页``,
    ``Page 3``, ``Page 3 of 10``, ``p. 3``, ``3 / 10``, ``3 of 10``. A bare number has at most three
    digits (``2024`` alone is a year) and a bare Roman numeral is at most ``xxxix`` (so that words
    such as "mix" or "civil" are not page numbers).

    Parameters
    ----------
    line : str
        One line of a page (stripped).

    Returns
    -------
    bool
    """
    return bool(_PAGE_NUMBER.fullmatch(line.strip()))


@functools.lru_cache(maxsize=1)
def _counts() -> tuple[dict, dict]:
    import wordsegment

    seg = wordsegment.Segmenter()
    seg.load()
    return seg.unigrams, seg.bigrams


def _is_solid_word(head: str, tail: str) -> bool:
    """Whether ``head``-``tail`` broken at a line end is one word written solid: the joined word is
    in wordsegment's vocabulary and at least as common as the two parts as a pair (web counts:
    "international" yes; "wellknown" 50,312 < "well known" 4,988,788: keep the hyphen)."""
    unigrams, bigrams = _counts()
    joined = unigrams.get((head + tail).lower(), 0.0)
    return joined > 0 and joined >= bigrams.get(f"{head.lower()} {tail.lower()}", 0.0)


def _unspaced(ch: str) -> bool:
    return is_han(ch) or bool(_CJK_PUNCT.match(ch)) or "\u3040" <= ch <= "\u30ff"


def join_lines(lines: list[str], log=None) -> str:
    """One paragraph from its lines: a space between English lines, none where either side is
    Chinese (a Han character or CJK punctuation), a line-end hyphen removed only where the joined
    word is a word (wordsegment's vocabulary), else kept without a space.

    Parameters
    ----------
    lines : list of str
        The paragraph's lines, in order (stripped).
    log : callable, optional
        ``log(action, detail)`` is called for every hyphen decision (``dehyphenated``,
        ``kept_hyphen``).

    Returns
    -------
    str
    """
    out = ""
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if not out:
            out = line
            continue
        if (len(out) >= 2 and out[-1] in _HYPHENS and out[-2].isalpha() and line[0].isalpha()
                and line[0].islower()):
            head = re.search(r"[A-Za-z]+$", out[:-1])
            tail = re.match(r"[A-Za-z]+", line)
            if head and tail:
                joined = head.group() + tail.group()
                if _is_solid_word(head.group(), tail.group()):
                    if log:
                        log("dehyphenated", f"{head.group()}{out[-1]}|{tail.group()} -> {joined} (a word)")
                    out = out[:-1] + line
                    continue
                if log:
                    log("kept_hyphen", f"{head.group()}-|{tail.group()} -> {head.group()}-{tail.group()} "
                                       f"({joined.lower()!r} is not a word, or rarer than the pair)")
            out = (out[:-1] + "-" if out[-1] == "\u00ad" else out) + line
        elif _unspaced(out[-1]) or _unspaced(line[0]):
            out += line
        else:
            out += " " + line
    return out


@dataclass
class Extracted:
    """What a PDF or Word file holds: text, role hints, log, metadata."""

    #: the text, one paragraph per line
    text: str
    #: role hints: paragraph text -> ``title``, ``heading``, ``paratext`` or ``body`` (a table row)
    roles: dict[str, str] = field(default_factory=dict)
    #: log rows ``(action, detail, chars_before, chars_after, removed text or None)``, step ``extract``
    log: list[tuple] = field(default_factory=list)
    #: number of pages (PDF; 0 for Word)
    pages: int = 0
    #: ``title``, ``created``, ``modified`` (ISO dates), ``author``, ``subject`` where the file says
    meta: dict[str, str] = field(default_factory=dict)
    #: the format and library, for the log
    kind: str = ""

    def add(self, action: str, detail: str, before: int = 0, after: int = 0, removed: str | None = None) -> None:
        self.log.append((action, detail, before, after, removed))


def is_pdf(data: bytes, path: str | Path = "") -> bool:
    """Whether a raw file is a PDF: it starts with ``%PDF-``, or has a ``.pdf`` name (a PDF may
    carry up to 1,024 bytes before its header; a text that merely mentions "%PDF-" is not one).

    Parameters
    ----------
    data : bytes
        The file's content (its start suffices).
    path : str or Path, optional
        The file's name.

    Returns
    -------
    bool
    """
    return data.startswith(b"%PDF-") or str(path).lower().endswith(".pdf")


def is_docx(data: bytes, path: str | Path = "") -> bool:
    """Whether a raw file is a Word document (.docx: a ZIP archive holding ``word/document.xml``).

    Parameters
    ----------
    data : bytes
        The file's content (its start suffices).
    path : str or Path, optional
        The file's name.

    Returns
    -------
    bool
    """
    if str(path).lower().endswith(".docx"):
        return True
    if not data.startswith(b"PK\x03\x04"):
        return False
    import io
    import zipfile

    try:
        return "word/document.xml" in zipfile.ZipFile(io.BytesIO(data)).namelist()
    except zipfile.BadZipFile:
        return False


def extract_file(path: str | Path, data: bytes | None = None) -> Extracted | None:
    """The text of a PDF or .docx file, or None when the file is neither (read it as text).

    Parameters
    ----------
    path : str or Path
        The file.
    data : bytes, optional
        Its content, when already read.

    Returns
    -------
    Extracted or None

    Raises
    ------
    textdrift.decode.CleaningError
        A scanned page, an encrypted or corrupt file (naming the file, the page and the fix).
    """
    path = Path(path)
    data = path.read_bytes() if data is None else data
    if is_pdf(data, path):
        return extract_pdf(path)
    if is_docx(data, path):
        return extract_docx(path)
    return None


# --- PDF ------------------------------------------------------------------------------


@dataclass
class _Line:
    page: int
    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    size: float
    block: int
    alone: bool = False  # the only line of its block
    text_x0: float | None = None  # where the text starts after a list marker joined to it (else x0)

    def start(self) -> float:
        return self.x0 if self.text_x0 is None else self.text_x0

    def first_word(self) -> float:
        """Width of the line's first word and a space (a Chinese line: its first character)."""
        width = (self.x1 - self.x0) / max(len(self.text), 1)
        word = re.match(r"\S+", self.text).group()
        return width if _unspaced(word[0]) else (len(word) + 1) * width


def _pdf_date(value: str) -> str:
    m = re.match(r"(?:D:)?(\d{4})(\d{2})?(\d{2})?", value or "")
    if not m:
        return ""
    return "-".join(p for p in m.groups() if p)


def _pdf_meta(doc) -> dict[str, str]:
    from pdfminer.pdftypes import resolve1
    from pdfminer.utils import decode_text

    meta = {}
    for info in doc.info or []:
        for key, name in [("Title", "title"), ("Author", "author"), ("Subject", "subject"),
                          ("CreationDate", "created"), ("ModDate", "modified")]:
            value = resolve1(info.get(key))
            if isinstance(value, bytes):
                value = decode_text(value)
            if isinstance(value, str) and value.strip():
                value = value.strip().replace("\x00", "")
                meta[name] = _pdf_date(value) if name in ("created", "modified") else value
    return {k: v for k, v in meta.items() if v}


def _open_pdf(path: Path, fh):
    from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFParser

    try:
        return PDFDocument(PDFParser(fh))
    except (PDFPasswordIncorrect, PDFEncryptionError) as err:
        raise CleaningError(
            f"{path}: the PDF is encrypted and needs a password to open ({type(err).__name__}); "
            f"decrypt it (e.g. `qpdf --password=PASSWORD --decrypt {path.name} {path.stem}.decrypted.pdf`), "
            "put the decrypted file in data/raw/ and point the manifest's 'file' at it") from err
    except Exception as err:  # pdfminer raises many kinds (PDFSyntaxError, PSEOF, KeyError, ...)
        raise CleaningError(
            f"{path}: not a readable PDF ({type(err).__name__}: {err}); the file is damaged or truncated: "
            "download or export it again (or repair it, e.g. `qpdf {0} {1}.repaired.pdf`)".format(path.name, path.stem)
        ) from err


def _walk(obj):
    yield obj
    if hasattr(obj, "__iter__") and not isinstance(obj, str):
        for child in obj:
            yield from _walk(child)


def _page_lines(layout, page_no: int, path: Path) -> tuple[list[_Line], bool]:
    """The text lines of one analysed page (pdfminer's lines: characters grouped horizontally)
    and whether the page holds an image."""
    from pdfminer.layout import LTChar, LTFigure, LTImage, LTTextLine

    lines, image = [], False
    n_chars = n_cid = 0
    for element in _walk(layout):
        if isinstance(element, LTImage):
            image = True
        if isinstance(element, LTFigure) or not isinstance(element, LTTextLine):
            continue
        text = element.get_text().strip()
        if not text:
            continue
        sizes = [c.size for c in element if isinstance(c, LTChar) and c.get_text().strip()]
        n_chars += len(text)
        n_cid += sum(len(m) for m in _CID.findall(text))
        lines.append(_Line(page_no, element.x0, element.y0, element.x1, element.y1, re.sub(r"\s+", " ", text),
                           statistics.median(sizes) if sizes else element.height, -1))
    lines = _attach_markers(lines)
    if n_chars and n_cid > MAX_CID_SHARE * n_chars:
        raise CleaningError(
            f"{path}: page {page_no}: {n_cid} of {n_chars} characters of the text layer have no Unicode mapping "
            "(pdfminer shows them as (cid:N): the font does not say which characters its glyphs are), "
            "so the text cannot be read; " + _OCR.format(name=path.name, stem=path.stem))
    return lines, image


_MARKER = re.compile(r"[•·▪●○■◆◇►▶‣*\-–]|\(?\d{1,2}[.)]|\(?[a-zA-Z][.)]|[一二三四五六七八九十]{1,3}、|[(（][一二三四五六七八九十]{1,3}[)）]")


def _attach_markers(lines: list[_Line]) -> list[_Line]:
    """A list marker set apart from its text (pdfminer makes a line of a bullet far from its text)
    joined to the line it starts: the nearest line to its right on the same baseline, within four
    font sizes."""
    markers = [ln for ln in lines if _MARKER.fullmatch(ln.text)]
    if not markers:
        return lines
    gone = set()
    for mk in markers:
        right = [ln for ln in lines if ln is not mk and id(ln) not in gone and abs(ln.y0 - mk.y0) <= 0.3 * mk.size
                 and 0 <= ln.x0 - mk.x1 <= 4 * mk.size]
        if right:
            target = min(right, key=lambda ln: ln.x0)
            target.text, target.text_x0, target.x0 = f"{mk.text} {target.text}", target.x0, mk.x0
            gone.add(id(mk))
    return [ln for ln in lines if id(ln) not in gone]


def _blocks(lines: list[_Line], width: float, first_block: int) -> tuple[list[_Line], int]:
    """Group a page's lines into blocks and put them in reading order.

    Lines are taken from the top; a line joins the first block whose horizontal extent it overlaps
    (by at least half of the narrower of the two) when it is at most ``BLOCK_PITCH`` font sizes
    below it, in a similar font size; otherwise it opens a block. A block wider than
    ``SPAN_WIDTH`` of the text area spans the columns: it separates bands; inside a band the
    blocks are read column by column (left to right, each from the top).

    Returns the lines in reading order (``block`` and ``alone`` set) and the next block number.
    """
    if not lines:
        return [], first_block
    order = sorted(lines, key=lambda ln: (-ln.y1, ln.x0))
    blocks: list[list[_Line]] = []
    for ln in order:
        home = None
        for block in blocks:
            last = block[-1]
            x0, x1 = min(b.x0 for b in block), max(b.x1 for b in block)
            overlap = min(x1, ln.x1) - max(x0, ln.x0)
            pitch = last.y0 - ln.y0
            if (overlap >= 0.5 * min(x1 - x0, ln.x1 - ln.x0) and 0 < pitch <= BLOCK_PITCH * ln.size
                    and abs(ln.size - last.size) <= SIZE_CHANGE * max(ln.size, last.size)):
                home = block
                break
        if home is None:
            blocks.append([ln])
        else:
            home.append(ln)
    left = min(ln.x0 for ln in lines)
    right = max(ln.x1 for ln in lines)
    area = max(right - left, 1.0)
    bands: list[list[list[_Line]]] = [[]]
    for block in sorted(blocks, key=lambda b: -b[0].y1):
        x0, x1 = min(ln.x0 for ln in block), max(ln.x1 for ln in block)
        if x1 - x0 > SPAN_WIDTH * area:
            bands.append([block])
            bands.append([])
        else:
            bands[-1].append(block)
    out = []
    for band in bands:
        for block in sorted(band, key=lambda b: (round(min(ln.x0 for ln in b) / (0.1 * area)), -b[0].y1)):
            for ln in block:
                ln.block = first_block
                ln.alone = len(block) == 1
            out.extend(block)
            first_block += 1
    return out, first_block


def _key(text: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", " ", text.strip().lower()))


def _margin_candidates(lines: list[_Line], height: float) -> tuple[set[int], set[int]]:
    """Indexes (into ``lines`` of one page) of the top and bottom margin lines."""
    if not lines:
        return set(), set()
    top_y = max(ln.y1 for ln in lines)
    bottom_y = min(ln.y0 for ln in lines)
    top = {i for i, ln in enumerate(lines) if ln.y0 >= height * (1 - MARGIN) or ln.y1 >= top_y - 0.5}
    bottom = {i for i, ln in enumerate(lines) if ln.y1 <= height * MARGIN or ln.y0 <= bottom_y + 0.5}
    return top, bottom


def extract_pdf(path: str | Path) -> Extracted:
    """The text of a PDF file with a text layer: headers, footers and page numbers removed, lines
    joined into paragraphs (module docstring).

    Parameters
    ----------
    path : str or Path
        The PDF file.

    Returns
    -------
    Extracted

    Raises
    ------
    textdrift.decode.CleaningError
        A page with an image but no text (a scan: run OCR), a page of unmapped glyphs, an encrypted
        or unreadable file; the message names the file, the page and the fix.
    """
    import pdfminer
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.layout import LAParams
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage

    path = Path(path)
    out = Extracted(text="", kind=f"PDF (pdfminer.six {pdfminer.__version__})")
    pages: list[tuple[list[_Line], float]] = []
    with open(path, "rb") as fh:
        doc = _open_pdf(path, fh)
        out.meta = _pdf_meta(doc)
        manager = PDFResourceManager()
        device = PDFPageAggregator(manager, laparams=LAParams())
        interpreter = PDFPageInterpreter(manager, device)
        block = 0
        try:
            for page_no, page in enumerate(PDFPage.create_pages(doc), start=1):
                interpreter.process_page(page)
                layout = device.get_result()
                lines, image = _page_lines(layout, page_no, path)
                lines, block = _blocks(lines, layout.width, block)
                if not lines:
                    if image:
                        raise CleaningError(
                            f"{path}: page {page_no} has no text layer, only an image (a scanned page?): "
                            "textdrift reads the text layer of a PDF and does not guess; " +
                            _OCR.format(name=path.name, stem=path.stem))
                    out.add("blank_page", f"page {page_no}: no text and no image (a blank page): skipped")
                pages.append((lines, layout.height))
        except CleaningError:
            raise
        except Exception as err:
            raise CleaningError(
                f"{path}: page {len(pages) + 1}: cannot be read ({type(err).__name__}: {err}); the file is damaged: "
                "download or export it again") from err
    out.pages = len(pages)
    if not pages:
        raise CleaningError(
            f"{path}: not a readable PDF (no pages found); the file is damaged or truncated: download or "
            f"export it again (or repair it, e.g. `qpdf {path.name} {path.stem}.repaired.pdf`)")
    if not any(lines for lines, _ in pages):
        raise CleaningError(
            f"{path}: none of its {len(pages)} page(s) has a text layer (a blank or image-only PDF); " +
            _OCR.format(name=path.name, stem=path.stem))
    _remove_margins(pages, out)
    _paragraphs(pages, out)
    return out


def _remove_margins(pages: list[tuple[list[_Line], float]], out: Extracted) -> None:
    """Drop page numbers, running headers/footers and repeated lines, logging each (in place)."""
    with_text = sum(1 for lines, _ in pages if lines)
    need = max(2, -(-with_text // 2))
    cands = [_margin_candidates(lines, h) for lines, h in pages]
    seen_margin: dict[tuple[str, str], set[int]] = {}  # (zone, key) -> pages
    numbered: dict[str, set[int]] = {"top": set(), "bottom": set()}  # zone -> pages with a page number there
    seen_alone: dict[str, set[int]] = {}
    for (lines, _), (top, bottom) in zip(pages, cands):
        for i, ln in enumerate(lines):
            zone = "top" if i in top else "bottom" if i in bottom else ""
            if zone and page_number(ln.text):
                numbered[zone].add(ln.page)
            elif zone and _LETTER.search(ln.text):
                seen_margin.setdefault((zone, _key(ln.text)), set()).add(ln.page)
            if ln.alone and len(ln.text) <= 120 and _LETTER.search(ln.text):
                seen_alone.setdefault(_key(ln.text), set()).add(ln.page)
    for p, ((lines, _), (top, bottom)) in enumerate(zip(pages, cands)):
        keep = []
        for i, ln in enumerate(lines):
            where = "top" if i in top else "bottom" if i in bottom else ""
            reason = ""
            if where and page_number(ln.text) and len(numbered[where]) >= -(-with_text // 2):
                reason = f"page number ({where} of the page)"
            elif where and len(seen_margin.get((where, _key(ln.text)), ())) >= need:
                n = len(seen_margin[(where, _key(ln.text))])
                reason = f"running {'header' if where == 'top' else 'footer'} (on {n} of {with_text} pages)"
            elif ln.alone and with_text >= 3 and len(seen_alone.get(_key(ln.text), ())) >= max(3, need):
                reason = f"repeated line (alone in its block on {len(seen_alone[_key(ln.text)])} of {with_text} pages)"
            if reason:
                out.add("removed", f"page {ln.page}: {reason}: {ln.text}", len(ln.text), 0, removed=ln.text)
            else:
                keep.append(ln)
        pages[p] = (keep, pages[p][1])


def _paragraphs(pages: list[tuple[list[_Line], float]], out: Extracted) -> None:
    """Lines -> paragraphs -> ``out.text`` and heading hints."""
    sizes = [ln.size for lines, _ in pages for ln in lines for _ in range(len(ln.text))]
    body = statistics.median(sizes) if sizes else 10.0
    paras: list[dict] = []  # {"lines": [...], "size": float, "x0"/"x1": its block, "free": space after its last line}
    waiting: list[dict] = []  # paragraphs that ended a block of the previous page unfinished
    for lines, _ in pages:
        blocks: dict[int, list[_Line]] = {}
        for ln in lines:
            blocks.setdefault(ln.block, []).append(ln)
        ended: list[dict] = []
        seen: list[tuple[float, float]] = []  # x-ranges of the blocks read so far on this page
        for block in blocks.values():
            left = min(ln.x0 for ln in block)
            right = max(ln.x1 for ln in block)
            top_of_column = not any(min(x1, right) - max(x0, left) > 0 for x0, x1 in seen)
            seen.append((left, right))
            pitches = [a.y0 - b.y0 for a, b in zip(block, block[1:])]
            usual = statistics.median(pitches) if len(pitches) >= 2 else None
            current = None
            for j, ln in enumerate(block):
                width = (ln.x1 - ln.x0) / max(len(ln.text), 1)
                # indented against the line before (a hanging indent's lines line up with each
                # other), the block's first line against the block
                indent = (ln.x0 - (block[j - 1].start() if j else left) > INDENT * ln.size) and len(block) > 1
                gap = j > 0 and usual is not None and pitches[j - 1] > PARA_GAP * usual
                start = (current is None or indent or gap
                         or abs(ln.size - current["size"]) > SIZE_CHANGE * current["size"])
                if not start:  # the line before ended early: this line's first word would have fitted
                    start = right - current["lines"][-1].x1 > ln.first_word() + 0.5 * width
                if start:
                    cont = None
                    if current is None and top_of_column and not indent:
                        cont = next((p for p in waiting
                                     if min(p["x1"], right) - max(p["x0"], left) > 0
                                     and p["free"] <= ln.first_word() + 0.5 * width
                                     and abs(ln.size - p["size"]) <= SIZE_CHANGE * p["size"]
                                     and _unspaced(p["lines"][-1].text[-1]) == _unspaced(ln.text[0])), None)
                    if cont is not None:
                        waiting.remove(cont)
                        current = cont  # a paragraph running over the page break
                        out.add("joined_page", f"page {ln.page - 1} -> {ln.page}: paragraph continues: "
                                f"{current['lines'][-1].text[-30:]!r} + {ln.text[:30]!r}")
                    else:
                        current = {"lines": [], "size": ln.size}
                        paras.append(current)
                current["lines"].append(ln)
                current["x0"], current["x1"] = left, right
                current["free"] = right - ln.x1
            if current is not None and not _SENTENCE_END.search(current["lines"][-1].text):
                ended.append(current)
        waiting = ended
    texts, n_lines = [], 0
    largest = max((p["size"] for p in paras if p["lines"][0].page == 1), default=0)
    title_done = False
    for p in paras:
        n_lines += len(p["lines"])
        text = join_lines([ln.text for ln in p["lines"]],
                          lambda action, detail: out.add(action, detail))
        if not text:
            continue
        texts.append(text)
        if p["size"] >= HEADING_SIZE * body and len(text) <= 300:
            role = "title" if (not title_done and p["lines"][0].page == 1 and p["size"] >= largest) else "heading"
            title_done = title_done or role == "title"
            out.roles.setdefault(text, role)
            out.add(f"role_{role}", f"font size {p['size']:.1f} (body {body:.1f}): {text}", len(text), len(text))
            if role == "title" and "first_heading" not in out.meta:
                out.meta["first_heading"] = text
        elif "first_heading" not in out.meta and len(text) <= 200 and not _SENTENCE_END.search(text):
            out.meta.setdefault("first_line", text)
    out.text = "\n".join(texts)
    out.add("paragraphs", f"{n_lines} lines joined into {len(texts)} paragraphs", n_lines, len(texts))


# --- Word -----------------------------------------------------------------------------

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _docx_role(paragraph) -> str:
    style = paragraph.style
    names = []
    while style is not None:
        names.append((style.name or "").lower())
        style = style.base_style
    if any(n == "title" or n == "标题" for n in names):
        return "title"
    if any(re.match(r"(heading|标题)\s*\d", n) or n == "subtitle" for n in names):
        return "heading"
    ppr = paragraph._p.pPr
    if ppr is not None and ppr.find(f"{_W}outlineLvl") is not None:
        return "heading"
    return "body"


def _notes(doc, kind: str) -> list[tuple[str, str]]:
    """(id, text) of every footnote or endnote of a .docx (``kind``: footnote | endnote)."""
    from lxml import etree

    notes = []
    for part in doc.part.package.iter_parts():
        if str(part.partname) != f"/word/{kind}s.xml":
            continue
        root = etree.fromstring(part.blob)
        for note in root.iter(f"{_W}{kind}"):
            if note.get(f"{_W}type") in ("separator", "continuationSeparator", "continuationNotice"):
                continue
            paras = ["".join(t.text or "" for t in p.iter(f"{_W}t")).strip() for p in note.iter(f"{_W}p")]
            text = " ".join(p for p in paras if p)
            if text:
                notes.append((note.get(f"{_W}id", "?"), text))
    return notes


def extract_docx(path: str | Path) -> Extracted:
    """The text of a Word (.docx) file: paragraphs and tables in order, roles from styles, notes
    appended as paratext (module docstring).

    Parameters
    ----------
    path : str or Path
        The .docx file.

    Returns
    -------
    Extracted

    Raises
    ------
    textdrift.decode.CleaningError
        The file is not a readable .docx (a .doc saved under another name, a damaged archive).
    """
    import docx
    from docx.table import Table

    path = Path(path)
    try:
        doc = docx.Document(str(path))
    except Exception as err:
        raise CleaningError(
            f"{path}: not a readable Word .docx file ({type(err).__name__}: {err}); if it is an old .doc or "
            "another format, open it in Word or LibreOffice and save it as .docx (or as plain text, UTF-8)"
        ) from err
    out = Extracted(text="", kind="Word .docx (python-docx)")
    props = doc.core_properties
    for name in ("title", "author", "subject"):
        value = getattr(props, name, None)
        if value and str(value).strip():
            out.meta[name] = str(value).strip()
    for name in ("created", "modified"):
        value = getattr(props, name, None)
        if value is not None:
            out.meta[name] = value.date().isoformat()
    texts, n_tables, n_rows = [], 0, 0

    def para_text(text: str) -> str:
        return join_lines(text.replace("\t", " ").split("\n"))

    for item in doc.iter_inner_content():
        if isinstance(item, Table):
            n_tables += 1
            for row in item.rows:
                cells, seen = [], set()
                for cell in row.cells:
                    if id(cell._tc) in seen:
                        continue
                    seen.add(id(cell._tc))
                    text = " ".join(para_text(p.text) for p in cell.paragraphs if p.text.strip())
                    if text:
                        cells.append(text)
                if cells:
                    n_rows += 1
                    texts.append(" ".join(cells))
                    out.roles.setdefault(texts[-1], "body")  # a table row, not a short heading
            continue
        text = para_text(item.text)
        if not text.strip():
            continue
        role = _docx_role(item)
        texts.append(text)
        if role != "body":
            out.roles.setdefault(text, role)
            out.add(f"role_{role}", f"style {item.style.name!r}: {text}", len(text), len(text))
            if role == "title" and "first_heading" not in out.meta:
                out.meta["first_heading"] = text
            elif "first_heading" not in out.meta:
                out.meta.setdefault("heading", text)
    n_notes = 0
    for kind in ("footnote", "endnote"):
        for note_id, text in _notes(doc, kind):
            n_notes += 1
            texts.append(text)
            out.roles[text] = "paratext"
            out.add(f"{kind}", f"{kind} {note_id} kept apart as paratext (after the body): {text}", len(text), len(text))
    out.text = "\n".join(texts)
    out.add("paragraphs", f"{len(texts)} paragraphs: {len(texts) - n_rows - n_notes} body paragraphs, "
            f"{n_tables} table(s) as {n_rows} row paragraph(s), {n_notes} foot-/endnote(s); "
            "section headers and footers not read", 0, len(texts))
    return out


def nfkc_key(text: str) -> str:
    """A paragraph's text reduced for matching role hints after cleaning: NFKC, no whitespace."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
