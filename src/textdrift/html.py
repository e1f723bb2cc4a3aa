"""Text of a saved web page (HTML), for the cleaning stage: :mod:`textdrift.cleanio` reads the file,
:mod:`textdrift.decode` decodes it, this module extracts its text, :mod:`textdrift.clean` cleans it.

A raw file is treated as HTML when its name ends in ``.html``/``.htm`` or its decoded text
starts (after an optional XML declaration, comments and whitespace) with ``<!DOCTYPE html``,
``<html``, ``<head`` or ``<body`` (:func:`looks_like_html`). A plain-text file that merely
contains a tag somewhere (a ``<!--more-->`` marker of a blog export) is not HTML.

:func:`extract_text` parses it with BeautifulSoup's ``html.parser`` (pure Python, no lxml):

* page chrome is dropped with its text: ``DROP_TAGS`` (``head`` with its ``<title>``,
  ``script``, ``style``, ``noscript``, ``template``, ``nav``, ``header``, ``footer``,
  ``aside``, ``form``, ``iframe``, ``svg``, ``button``, ...) and HTML comments; each dropped
  element is returned as ``(tag, text)`` so that the cleaning log records the tag name, the
  length and the text verbatim (within the log's limits);
* block elements (``BLOCK_TAGS``: ``p``, ``div``, ``h1``-``h6``, ``li``, ``tr``, ``td``,
  ``blockquote``, ``section``, ``article``, ...) and ``<br>`` end a paragraph; inside a
  paragraph, runs of whitespace from the markup's line breaks become one space (as a browser
  renders them), except inside ``<pre>``, whose lines stay lines;
* character references (``&amp;``, ``&#20013;``) are decoded by the parser.

The result is plain text, one paragraph per line, which then goes through every step of
:func:`textdrift.clean.clean_text` like any other document.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["BLOCK_TAGS", "DROP_TAGS", "HTML_SUFFIXES", "declared_charset", "extract_text", "looks_like_html"]

HTML_SUFFIXES = (".html", ".htm", ".xhtml")

# Dropped with their content (page chrome, code, forms, embedded objects).
DROP_TAGS = ("head", "title", "script", "style", "noscript", "template", "nav", "header", "footer",
             "aside", "form", "iframe", "object", "embed", "svg", "canvas", "button", "select",
             "textarea", "input", "menu", "dialog")
# Elements that start and end a paragraph.
BLOCK_TAGS = ("address", "article", "blockquote", "body", "caption", "center", "dd", "details",
              "div", "dl", "dt", "fieldset", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5",
              "h6", "hr", "li", "main", "ol", "p", "pre", "section", "summary", "table", "tbody",
              "td", "tfoot", "th", "thead", "tr", "ul")

_START = re.compile(
    r"\A\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(!doctype\s+html|html[\s>]|head[\s>]|body[\s>])",
    re.IGNORECASE | re.DOTALL,
)
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.IGNORECASE)


def looks_like_html(text_or_bytes: str | bytes, path: str | Path = "") -> bool:
    """Whether a raw file is a web page: a ``.html``/``.htm``/``.xhtml`` name or text that starts like one.

    Parameters
    ----------
    text_or_bytes : str or bytes
        The file's content (its first 4,096 characters or bytes are read; bytes as Latin-1).
    path : str or Path, optional
        The file's name.

    Returns
    -------
    bool
    """
    if str(path).lower().endswith(HTML_SUFFIXES):
        return True
    head = text_or_bytes[:4096]
    if isinstance(head, bytes):
        head = head.decode("latin-1")
    return bool(_START.match(head.lstrip("\ufeff")))


def declared_charset(data: bytes) -> str | None:
    """The ``<meta charset=...>`` (or http-equiv content type) of an HTML file, if any.

    Parameters
    ----------
    data : bytes
        The file's bytes (the first 8,192 are searched).

    Returns
    -------
    str or None
        The charset's name, lower case.
    """
    m = _META_CHARSET.search(data[:8192])
    return m.group(1).decode("ascii").lower() if m else None


def extract_text(markup: str) -> tuple[str, list[tuple[str, str]]]:
    """The text of a web page, one paragraph per line, and what was dropped.

    Parameters
    ----------
    markup : str
        The decoded HTML.

    Returns
    -------
    text : str
        Plain text, one paragraph per line, each line ending in a newline.
    dropped : list of (str, str)
        ``(tag, text)`` per dropped element: ``tag`` is the element name, ``"comment"`` for an
        HTML comment; ``text`` is its ``get_text()`` with whitespace runs collapsed (a script's
        code, a menu's labels), so the log shows what was lost.
    """
    from bs4 import BeautifulSoup, Comment, Declaration, Doctype, NavigableString, ProcessingInstruction

    soup = BeautifulSoup(markup, "html.parser")
    dropped: list[tuple[str, str]] = []
    for node in list(soup.find_all(string=lambda s: isinstance(s, (Comment, Doctype, Declaration,
                                                                    ProcessingInstruction)))):
        if isinstance(node, Comment) and node.strip():
            dropped.append(("comment", _squash(str(node))))
        node.extract()
    for tag in list(soup.find_all(DROP_TAGS)):
        if tag.decomposed or tag.parent is None:
            continue  # inside an element dropped already
        text = _squash(" ".join(tag.find_all(string=True)))
        dropped.append((tag.name, text))
        tag.decompose()
    # Whitespace inside running text is a space, as a browser shows it (not in <pre>).
    for node in list(soup.find_all(string=True)):
        if isinstance(node, NavigableString) and not node.find_parent("pre"):
            squashed = re.sub(r"\s+", " ", str(node))
            if squashed != str(node):
                node.replace_with(squashed)
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for tag in soup.find_all(BLOCK_TAGS):
        tag.insert_before("\n")
        tag.append("\n")
    lines = (line.strip() for line in soup.get_text().split("\n"))
    return "".join(line + "\n" for line in lines if line), dropped


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
