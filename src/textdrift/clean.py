"""Cleaning steps: from a document's decoded text to one clean text per language.

The house of the cleaning stage: :mod:`textdrift.decode` (bytes -> text, strictly),
:mod:`textdrift.html` (a saved web page -> its text), :mod:`textdrift.extract` (a PDF or Word
file -> its text, headers and page numbers removed, with role hints), this module (the steps below, on one
decoded text: :func:`clean_text`), :mod:`textdrift.despace` (step 7), :mod:`textdrift.structure`
(step 8), and :mod:`textdrift.cleanio` (a manifest row's file in, the manifest policies, a
shard's texts, index and log out; the functions the rules ``clean`` and ``cleaning_log`` call).

This module is over 500 lines: it holds the nine steps of one concern (a text, cleaned) with
the log every step writes; the docstring below documents each step and its keys.

Output: for each language found (and listed in the config's ``languages``) a
list of paragraphs, Unicode NFC, stripped, no internal newlines, none empty;
and a log row for every change (``doc_id, lang, step, action, detail,
chars_before, chars_after``). ``chars_before``/``chars_after`` are the lengths
of the unit a change applied to (the document for document-wide steps, the
paragraph or removed block otherwise) before and after the change. ``detail``
holds what is needed to undo the change by hand: removed text verbatim (texts
longer than ``log_max_chars`` are cut to ``log_excerpt_chars`` characters and
their full length noted), the pattern name, the replaced characters and counts.

Decoding (:func:`textdrift.decode.decode_bytes`), web pages, empty files and the
``on_empty`` / ``on_excess_removal`` policies: :mod:`textdrift.cleanio`.

The steps of :func:`clean_text`, in order, each configured by a key of the
``clean:`` block of the configuration (defaults: ``workflow/schemas/config.schema.yaml``,
:func:`textdrift.config.defaults`):

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
   logged; roles the file's format states (:mod:`textdrift.extract`: a Word heading style,
   a footnote, a PDF heading's font size) then replace the guesses (``role_hints``). No text
   is removed: the roles go to the index (column ``roles``, one letter per
   line) and the token table, and the analyses count the roles in ``count_roles``.
9. ``flag`` (``max_removed_share``): if the clean texts keep fewer than
   ``1 - max_removed_share`` of the raw non-whitespace characters, a
   ``flagged`` row is logged; the caller decides whether that is an error.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from textdrift import despace as _despace
from textdrift import rxcheck as _rxcheck
from textdrift import structure as _structure
from textdrift.config import UNSPACED_LANGUAGES, defaults, merge
from textdrift.decode import CleaningError, is_han

# The steps (normalize, split_paragraphs, remove_boilerplate, dedupe_titles, split_languages,
# split_zh_enumeration, remove_zh_spaces, restore_spaces, split_en_enumeration) take the text or
# paragraphs, the config block and the log, and are documented above; clean_text runs them.
__all__ = ["LOG_COLUMNS", "SCRIPT_LANGUAGES", "CleanResult", "CleaningError", "clean_text", "log_row"]

#: Columns of the cleaning log (one row per change).
LOG_COLUMNS = ["doc_id", "lang", "step", "action", "detail", "chars_before", "chars_after"]


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



# --- helpers -------------------------------------------------------------------


class _Complete(dict):
    """A ``clean:`` block merged with the schema's defaults (:func:`_complete`)."""


def _complete(cfg: dict) -> dict:
    """``cfg`` merged with the schema's defaults of ``clean:`` (:func:`textdrift.config.merge`), once:
    a block this returned is returned as it is (a shard merges its block once, not once per
    document and step; merging a merged block again changes nothing)."""
    return cfg if isinstance(cfg, _Complete) else _Complete(merge(defaults()["clean"], cfg))


def log_row(doc_id: str, lang: str, step: str, action: str, detail: str, before: int, after: int) -> dict:
    """One row of the cleaning log (:data:`LOG_COLUMNS`).

    Parameters
    ----------
    doc_id, lang, step, action, detail : str
        The document, the language ("" for the whole document), the step, what it did and
        what is needed to undo it.
    before, after : int
        Length of the unit the change applied to, before and after it.

    Returns
    -------
    dict
    """
    return {"doc_id": doc_id, "lang": lang, "step": step, "action": action, "detail": detail,
            "chars_before": before, "chars_after": after}


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
        self.rows.append(log_row(self.doc_id, lang, step, action, detail, before, after))


# --- 1. normalize ----------------------------------------------------------------

# Line boundaries of str.splitlines() besides LF and CR (VT, FF, FS, GS, RS, NEL, LS, PS).
LINE_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
# Control characters (Unicode category Cc, which is exactly U+0000-U+001F and U+007F-U+009F and
# never changes) other than LF and tab: found by one regex scan instead of a category look-up
# per character.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@functools.lru_cache(maxsize=16)
def _apostrophe(ch: str) -> re.Pattern:
    return re.compile(rf"{re.escape(ch)}(?<=[^\W\d_]{re.escape(ch)})(?=[^\W\d_])")


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
        if ch not in text:  # nothing to replace
            continue
        before = len(text)
        # ch between two letters: the look-behind (letter, ch) after ch itself, so that the engine
        # scans for ch (a pattern starting with a look-behind is tried at every position); the
        # same matches as (?<=[^\W\d_])ch(?=[^\W\d_])
        text, n = _apostrophe(ch).subn("'", text)
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
    # each pattern is tried only on the paragraphs that contain a literal every match contains
    # (textdrift.rxcheck: one scan of the text; the same paragraphs match)
    view = _rxcheck.Text(paras)
    for rule in (r for r in rules if r["scope"] == "paragraph"):
        rx, kept = _compile(rule["pattern"]), []
        view = view if view.paras is paras else _rxcheck.Text(paras)
        maybe = _rxcheck.candidates(_rxcheck.prefilter(rule["pattern"], whole=True), view)
        for i, p in enumerate(paras):
            if i in maybe and rx.fullmatch(p):
                log.add("", step, "removed", f"{rule['name']}: {log.text(p)}", len(p), 0, removed=p)
            else:
                kept.append(p)
        paras = kept if len(kept) < len(paras) else paras
    for rule in (r for r in rules if r["scope"] == "tail"):
        rx = _compile(rule["pattern"])
        view = view if view.paras is paras else _rxcheck.Text(paras)
        maybe = _rxcheck.candidates(_rxcheck.prefilter(rule["pattern"]), view)
        for i, p in enumerate(paras):
            m = rx.search(p) if i in maybe else None
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
        maybe = _rxcheck.candidates(_rxcheck.prefilter(rule["pattern"]), _rxcheck.Text(paras))
        for i, p in enumerate(paras):
            if i in maybe:
                for m in rx.finditer(p):
                    log.add("", step, "removed", f"{rule['name']}: {log.text(m.group())}", len(p),
                            len(p) - len(m.group()), removed=m.group())
                p = rx.sub("", p)
            p = re.sub(r" {2,}", " ", p).strip()
            if p:
                kept.append(p)
        paras = kept
    return paras


# --- 4. titles --------------------------------------------------------------------


_DOUBLED = re.compile(r"(.+?)\s*\1")


def _doubled(p: str) -> int:
    """Length of the first copy when ``p`` is one string written twice, white space between
    allowed (what ``_DOUBLED.fullmatch(p)`` captures: the shortest), else 0. Without the
    regex's trial of every length: a copy of length ``k`` leaves ``p[k:len(p) - k]`` between the
    two, which must be white space, so only the few lengths around the middle are compared."""
    if "\n" in p:  # the regex's . stops at a line break
        m = _DOUBLED.fullmatch(p)
        return len(m.group(1)) if m else 0
    n = len(p)
    top = n // 2
    if top < 1 or (n % 2 and not p[top].isspace()):  # an odd length leaves one character between
        return 0
    low = top
    while low > 1 and p[low - 1].isspace() and p[n - low].isspace():
        low -= 1
    return next((k for k in range(low, top + 1) if p[:k] == p[n - k:]), 0)


#: what every match of :func:`_site_title_regex` contains: its separator
_SITE_SEPARATOR = re.compile(r"_|\s[-–—|]\s")


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
        k = _doubled(p)
        if k and k >= min_chars:
            copy_ = p[k:]
            log.add("", step, "deduplicated", f"line written twice, second copy removed: {log.text(copy_)}",
                    len(p), k, removed=copy_)
            p = p[:k]
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
        # (the quick tests first: the separator's characters, the separator)
        sep = "_" in p or (any(c in p for c in "-–—|") and _SITE_SEPARATOR.search(p) is not None)
        m = rx.fullmatch(p) if sep else None
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


def _script(ch: str) -> str | None:
    """Script of a letter: 'han', 'latin' or the first word of its Unicode name (lower case);
    None for a character that is not a letter."""
    if not ch.isalpha():
        return None
    if is_han(ch):
        return "han"
    name = unicodedata.name(ch, "OTHER")
    return "latin" if name.startswith("LATIN") else name.split()[0].lower()


_SCRIPT_OF: dict[str, str | None] = {}  # character -> _script(character), filled as characters are seen
# the ASCII characters that are not letters (an ASCII letter is Latin)
_ASCII_NONLETTERS = bytes(b for b in range(128) if not chr(b).isalpha())
_ASCII_RUNS = re.compile(r"[\x00-\x7f]+")


@functools.lru_cache(maxsize=1)
def _han_runs() -> re.Pattern:
    """Runs of Han letters (:func:`_script` ``han``) of the CJK ideograph blocks of the Basic
    Multilingual Plane, as a regular expression (built once, from those blocks' characters). A
    Han character outside them (the rare ones of planes 2 and 3) is still found by
    :func:`_script`, one by one."""
    blocks = [(0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF)]
    chars = [chr(c) for lo, hi in blocks for c in range(lo, hi + 1) if _script(chr(c)) == "han"]
    runs, start = [], None
    for i, ch in enumerate(chars):  # contiguous code points as ranges
        if start is None:
            start = ch
        if i + 1 == len(chars) or ord(chars[i + 1]) != ord(ch) + 1:
            runs.append(f"{start}-{ch}" if ch != start else start)
            start = None
    return re.compile(f"[{''.join(runs)}]+")


def _scripts(text: str) -> Counter:
    """Letters of ``text`` counted by script: 'han', 'latin' or the Unicode script word.

    Han letters (:func:`_han_runs`) and ASCII letters (Latin) are counted in one pass each;
    every other character is classified once (:func:`_script`, kept in ``_SCRIPT_OF``). The
    scripts other than Han and Latin appear in the order of their first letter in ``text``."""
    if text.isascii():
        n = len(text.encode("ascii").translate(None, _ASCII_NONLETTERS))
        return Counter({"latin": n}) if n else Counter()
    rest = _han_runs().sub("", text)
    counts: Counter = Counter()
    if len(rest) < len(text):
        counts["han"] = len(text) - len(rest)
    latin = len(rest.encode("ascii", "ignore").translate(None, _ASCII_NONLETTERS))
    if latin:
        counts["latin"] = latin
    script_of = _SCRIPT_OF
    for ch, n in Counter(_ASCII_RUNS.sub("", rest)).items():
        script = script_of.get(ch, "")
        if script == "":
            script = script_of[ch] = _script(ch)
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


def _hint_key(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def apply_role_hints(texts: dict[str, list[str]], roles: dict[str, list[str]], hints: dict[str, str],
                     log: _Log) -> None:
    """Roles the file's format states (a Word heading style, a PDF heading's font size, a
    footnote) replace the ``structure`` step's guesses, in place; each change is logged
    (step ``structure``, detector ``format``). A paragraph matches a hint when both are equal
    after NFKC with whitespace removed (a hint whose paragraph a cleaning step changed is lost)."""
    keys = {_hint_key(k): v for k, v in hints.items()}
    for lang, paras in texts.items():
        for i, para in enumerate(paras):
            role = keys.get(_hint_key(para))
            if role and roles[lang][i] != role:
                log.add(lang, "structure", role, f"paragraph {i}: format ({roles[lang][i]} -> {role}): {para}",
                        len(para), len(para))
                roles[lang][i] = role


def clean_text(raw: str, doc_id: str, cfg: dict, titles: list[str] | None = None,
               role_hints: dict[str, str] | None = None) -> CleanResult:
    """Clean one decoded document: steps 1-9 of the module docstring.

    Parameters
    ----------
    raw : str
        The decoded text (:func:`textdrift.decode.decode_bytes`).
    doc_id : str
        The document's id, for the log.
    cfg : dict
        The ``clean:`` config block plus ``languages`` and ``unspaced_languages``; missing keys
        take the schema's defaults (:func:`textdrift.config.defaults`).
    titles : list of str, optional
        The document's title(s) from the manifest (any language), for the ``structure`` step.
    role_hints : dict, optional
        Paragraph text -> role stated by the file's format (:mod:`textdrift.extract`: Word
        styles, PDF font sizes, footnotes); applied after the ``structure`` step
        (:func:`apply_role_hints`).

    Returns
    -------
    CleanResult
        The clean paragraphs and their roles per language, the log, the removed spans.
    """
    cfg = _complete(cfg)
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
            unspaced=lang in cfg.get("unspaced_languages", UNSPACED_LANGUAGES))
    if role_hints:
        apply_role_hints(texts, roles, role_hints, log)
    before = _nonspace(raw)
    after = sum(_nonspace(p) for ps in texts.values() for p in ps)
    if after < (1 - cfg["max_removed_share"]) * before:
        log.add("", "flag", "flagged",
                f"cleaning kept {after} of {before} non-space characters "
                f"(more than max_removed_share {cfg['max_removed_share']} removed)", before, after)
    return CleanResult(texts=texts, log=log.rows, removed=log.removed, roles=roles)
