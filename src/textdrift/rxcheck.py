"""Which paragraphs a configured regular expression can match at all: a cheap pre-check.

The cleaning steps run user-configured regular expressions (``clean.boilerplate``,
``clean.structure.paratext``) on every paragraph, and a pattern that starts with ``.*``, an
optional group or a case-insensitive word is tried at every position of every paragraph, which
was most of the ``clean`` job's time. Most such patterns contain a *literal* that every match
contains ("Disclaimer", "log out", one of "全文如下", "以下为全文", ...): a paragraph without it
cannot match. :func:`prefilter` finds such a literal (or a set of literals, one of which every
match contains) in the pattern's parse tree; :func:`candidates` searches a whole text for it once
and returns the paragraphs that contain it. Only those are given to the pattern, so the result
is the pattern's own on every paragraph, found with one scan of the text instead of one attempt
per paragraph and position.

Why it is exact. The literal is taken only from parts of the pattern that every match passes
through: a run of literal characters in the pattern's top-level sequence, in a group without
flags of its own, or in a repeat of at least one; for an alternation, one literal from each
alternative (any of them). It is searched with the pattern's own case flags (``IGNORECASE``,
``ASCII``, ``LOCALE``), so it matches the same characters the pattern's literal does (Python's
``re`` compares case-insensitively character by character). A literal never contains a line
break, so an occurrence in the paragraphs joined by line breaks lies inside one paragraph, and
every paragraph that contains the literal holds a match of the scan (matches do not cross a
line break, so none hides a later one). Patterns without such a literal get no pre-check.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_right
from itertools import accumulate

__all__ = ["Check", "Text", "candidates", "prefilter"]

# the shortest literal worth a scan of its own
_MIN_CHARS = 2
# the flags that change which characters a literal matches
_CASE_FLAGS = re.IGNORECASE | re.ASCII | re.LOCALE


def _requirements(items, out: list) -> None:
    """Append to ``out`` every set of literals (one of which every match contains) that the
    parsed sequence ``items`` (``re._parser`` items) guarantees."""
    from re import _constants as C

    run: list[str] = []

    def flush() -> None:
        if run:
            out.append(frozenset(["".join(run)]))
            run.clear()

    for op, av in items:
        if op == C.LITERAL:
            run.append(chr(av))
            continue
        flush()
        if op == C.SUBPATTERN:
            _group, add_flags, del_flags, sub = av
            if not add_flags and not del_flags:  # (a group with flags of its own: left alone)
                _requirements(sub, out)
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            low, _high, sub = av
            if low >= 1:
                _requirements(sub, out)
        elif op == C.ATOMIC_GROUP:
            _requirements(av, out)
        elif op == C.BRANCH:
            choices = []
            for alternative in av[1]:
                found: list = []
                _requirements(alternative, found)
                if not found:  # an alternative without a literal: the alternation guarantees none
                    choices = []
                    break
                choices.append(_best(found))
            if choices:
                out.append(frozenset().union(*choices))
        # anything else (a character class, any character, an anchor, a look-around, a back
        # reference) ends a run of literals and guarantees nothing here
    flush()


def _best(requirements: list) -> frozenset:
    """The most selective set: the one whose shortest literal is longest."""
    return max(requirements, key=lambda alts: min(map(len, alts)))


def _first(items):
    """The first item of a parsed sequence, looking into groups: (op, argument) or None."""
    from re import _constants as C

    while items:
        op, av = items[0]
        if op == C.SUBPATTERN and not av[1] and not av[2]:
            items = av[3]
        elif op == C.ATOMIC_GROUP:
            items = av
        else:
            return op, av
    return None


def _worth_it(parsed, whole: bool) -> bool:
    """Whether the pattern's own attempts cost more than a scan of the text: for ``match`` and
    ``fullmatch`` (``whole``: one attempt per paragraph, at its start), only when it starts with a
    repeated any-character (``.*``: the attempt runs through the paragraph and backtracks); for
    ``search``, unless it is anchored at the start of the string (``^`` without ``MULTILINE``,
    ``\\A``: one attempt) or starts with a case-sensitive literal or alternation of literals (the
    engine then scans for it itself)."""
    from re import _constants as C

    first = _first(parsed.data)
    if first is None:
        return False
    op, av = first
    if whole:
        return op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT) and av[1] > 1 and _first(av[2]) == (C.ANY, None)
    if op == C.AT:
        return not (av == C.AT_BEGINNING_STRING or av == C.AT_BEGINNING and not parsed.state.flags & re.MULTILINE)
    if parsed.state.flags & re.IGNORECASE:
        return True
    if op == C.BRANCH:
        return not all((_first(alt) or (None,))[0] == C.LITERAL for alt in av[1])
    return op != C.LITERAL


@functools.lru_cache(maxsize=1)
def _ascii_cased() -> re.Pattern:
    """The characters other than ASCII that ``re.IGNORECASE`` equates with an ASCII character
    (U+0130, U+0131, U+017F, U+212A with Python 3.11's Unicode data), as a character class: found by
    the engine itself over the Basic Multilingual Plane (that none lies beyond it, and that no
    character but itself is equated with a CJK ideograph of U+4E00-U+9FFF, is tested)."""
    ascii_ = re.compile("[\\x00-\\x7f]", re.IGNORECASE)
    # one scan of every character in a row (a match is one character), not a call per character
    found = ascii_.findall("".join(map(chr, range(0x80, 0x10000))))
    return re.compile(f"[{''.join(map(re.escape, found))}]" if found else "(?!)")


def _caseless_safe(literal: str) -> bool:
    """Whether ``literal`` has only ASCII characters and CJK ideographs (U+4E00-U+9FFF), whose
    case-insensitive matches the lower-cased text shows (:meth:`Text.lowered`)."""
    return all(ch.isascii() or "\u4e00" <= ch <= "\u9fff" for ch in literal)


class Text:
    """Paragraphs joined by line breaks, as the pre-checks scan them; the joined text, the
    paragraphs' offsets and the lower-cased text are made once for every pattern that scans them.

    Parameters
    ----------
    paras : list of str
        The paragraphs.
    """

    def __init__(self, paras: list[str]):
        self.paras = paras
        self.text = "\n".join(paras)
        self._starts = None
        self._lowered = False

    def paragraph(self, pos: int) -> int:
        """The paragraph of the character at ``pos`` of the joined text."""
        if self._starts is None:
            self._starts = list(accumulate((len(p) + 1 for p in self.paras[:-1]), initial=0))
        return bisect_right(self._starts, pos) - 1

    def lowered(self) -> str | None:
        """The text lower-cased (``str.lower``) when a case-insensitive match of an ASCII or CJK
        literal is exactly an occurrence of the lower-cased literal in it: every character kept
        its position (``str.lower`` lengthens only U+0130) and none is one the engine, not
        ``lower()``, equates with an ASCII character (:func:`_ascii_cased`). None otherwise."""
        if self._lowered is False:
            low = self.text.lower()
            ok = len(low) == len(self.text) and (self.text.isascii() or not _ascii_cased().search(self.text))
            self._lowered = low if ok else None
        return self._lowered


class Check:
    """The pre-check of one pattern (:func:`prefilter`): the literals and how to find them.

    Parameters
    ----------
    literals : list of str
        One of them is in every match.
    flags : int
        The pattern's case flags.
    """

    def __init__(self, literals: list[str], flags: int):
        self.literals = literals
        self.rx = re.compile("|".join(map(re.escape, literals)), flags)
        # case-insensitive ASCII or CJK literals: searched in the lower-cased text, case-sensitively
        # (the engine's case-insensitive scan of an alternation is several times slower)
        self.lower = (re.compile("|".join(re.escape(a.lower()) for a in literals))
                      if flags & re.IGNORECASE and not flags & (re.LOCALE | re.ASCII)
                      and all(map(_caseless_safe, literals)) else None)

    def positions(self, text: Text):
        """Where the literals are found in the joined text (match objects, left to right)."""
        low = text.lowered() if self.lower is not None else None
        return self.lower.finditer(low) if low is not None else self.rx.finditer(text.text)


@functools.lru_cache(maxsize=256)
def prefilter(pattern: str, whole: bool = False) -> Check | None:
    """The pre-check of ``pattern``: literals, one of which every match contains (see the module
    docstring), or None when the pattern guarantees no literal of at least two characters
    without a line break, or when its own attempts are cheap (:func:`_worth_it`).

    Parameters
    ----------
    pattern : str
        A Python regular expression (its inline global flags, such as ``(?i)``, included).
    whole : bool
        The pattern is used with ``match`` or ``fullmatch`` (default: ``search``, ``finditer``,
        ``sub``).

    Returns
    -------
    Check or None
    """
    try:  # (the engine's own parser, private: a Python whose parser differs gets no pre-check)
        from re import _parser

        parsed = _parser.parse(pattern)
        return _check(parsed) if _worth_it(parsed, whole) else None
    except (ImportError, AttributeError, TypeError, ValueError, re.error, RecursionError):
        return None


def _check(parsed) -> Check | None:
    """The literals of a parsed pattern (``re._parser.parse``) as a :class:`Check`, or None."""
    found: list = []
    _requirements(parsed.data, found)
    found = [alts for alts in found if all(len(a) >= _MIN_CHARS and "\n" not in a for a in alts)]
    if not found:
        return None
    return Check(sorted(_best(found), key=lambda a: (-len(a), a)), parsed.state.flags & _CASE_FLAGS)


def candidates(check: Check | None, text: Text) -> set[int] | range:
    """The positions of the paragraphs in which ``check`` (:func:`prefilter`) finds a literal:
    the only paragraphs its pattern can match. Every position when ``check`` is None.

    Parameters
    ----------
    check : Check or None
        :func:`prefilter` of the pattern.
    text : Text
        The paragraphs.

    Returns
    -------
    set of int or range
    """
    if check is None:
        return range(len(text.paras))
    return {text.paragraph(m.start()) for m in check.positions(text)}
