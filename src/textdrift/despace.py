"""Restore the spaces lost between English words ("de-spaced" text): the ``despace`` step of
:mod:`textdrift.clean`, configured by the ``clean.despace`` block of ``config/config.yaml``.

Some republished pages lose every space of the English text
("JointlyBuildaCommunitywithaSharedFuture..."). This module finds such
paragraphs and puts the spaces back.

Detection (:func:`is_despaced`): a paragraph of at least ``min_chars``
characters whose share of spaces is below ``max_space_share`` and whose
longest run of Latin letters is at least ``min_letter_run`` characters.
Ordinary English has a space every 5-6 characters, so the rule cannot fire on
normal prose.

Restoration (:func:`despace`) keeps every original character and its case and
only inserts spaces:

1. The paragraph is cut into *compounds* (letters and digits, possibly joined
   by internal hyphens or apostrophes: ``cross-border``, ``China's``,
   ``Covid-19``) and single punctuation characters.
2. Inside a compound, hyphens and apostrophes are set aside (a space is never
   put next to them), then the letters are split at case boundaries
   (``lower|Upper``; for an upper-case run followed by lower case the three
   readings ``BRICS|countries``, ``BRICS|Working`` (last capital starts the
   word) and ``ICTs|unanimously`` (acronym plural) are scored and the best
   kept; all-capital pieces such as ``UN`` are never split), at letter/digit
   changes (``In|2017``, ``23|countries``; an ordinal suffix such as
   ``10th`` stays attached when that reads better), and each lower-case
   stretch is segmented with ``wordsegment`` (Norvig's unigram/bigram model
   from the Google Web Trillion Word Corpus). The segmenter's words are
   mapped back onto the original characters by their lengths, so case is
   kept.
3. Between compounds and punctuation, English spacing rules insert a space:
   after ``, ; : ! ?``, after ``.`` before a capital, an opening bracket or
   quote, or a digit when the ``.`` ends a word (``Nov. 7`` but ``2.5``;
   ``.`` before lower case stays glued: ``GMW.cn``), after a comma before a
   digit unless it is a thousands separator (``7, 2022`` but ``1,000``),
   before an opening bracket or quote, after a closing one, and on both sides
   of an en or em dash.

Words missing from wordsegment's vocabulary (``Wuzhen``, ``robocalls``, ...)
are listed in ``words_file`` (one per line, ``#`` comments) and added to the
unigram table with count ``word_count`` before segmenting. The segmenter is a
private :class:`wordsegment.Segmenter` loaded once per (words, count) and
cached for the process, so the module-level ``wordsegment`` tables that other
code may use are left untouched.

:func:`boundary_f1` measures a restoration against a reference text: the F1
score of the sets of word-boundary offsets, counted on the text with all
whitespace removed.

About 500 lines: the detection, the restoration's rules and its segmentation search (wordsegment's
own recursion, about twenty times faster bottom-up with the same words) are one step of cleaning.
"""

from __future__ import annotations

import functools
import math
import re
import weakref
from pathlib import Path

import wordsegment

__all__ = ["boundary_f1", "despace", "is_despaced", "load_segmenter", "read_words"]

from textdrift.config import defaults

_DS = defaults()["clean"]["despace"]  # the schema's defaults of clean.despace: the keyword defaults below

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# A compound: letters/digits, possibly joined by internal hyphens or apostrophes.
_COMPOUND = re.compile(r"[A-Za-z0-9]+(?:[-'’][A-Za-z0-9]+)*")
_TOKEN = re.compile(_COMPOUND.pattern + r"|\s+|.", re.S)
_LETTER_RUN = re.compile(r"[A-Za-z]+")
_ALNUM_RUN = re.compile(r"[A-Za-z]+|[0-9]+")
_CASE_PIECE = re.compile(r"[A-Z]+[a-z]*|[a-z]+")

_CLOSE_PUNCT = set(",;:!?")
_OPENERS = set("([{“‘")
_CLOSERS = set(")]}”")
_DASHES = set("–—")


def is_despaced(text: str, min_chars: int = _DS["min_chars"],
                max_space_share: float = _DS["max_space_share"],
                min_letter_run: int = _DS["min_letter_run"]) -> bool:
    """Whether ``text`` looks like English whose spaces were lost (see the module docstring).

    Parameters
    ----------
    text : str
        A paragraph.
    min_chars : int
        Shorter paragraphs are never de-spaced.
    max_space_share : float
        The share of whitespace characters must be below this.
    min_letter_run : int
        The longest run of Latin letters must be at least this long.

    Returns
    -------
    bool
    """
    if len(text) < min_chars:
        return False
    # characters for which str.isspace() is true: str.split() splits at runs of exactly those
    spaces = len(text) - sum(map(len, text.split()))
    if not spaces / len(text) < max_space_share:  # ordinary prose: letter runs need no look
        return False
    return max(map(len, _LETTER_RUN.findall(text)), default=0) >= min_letter_run


def read_words(path: str | Path) -> tuple[str, ...]:
    """Words of a vocabulary file: one per line, ``#`` starts a comment, blanks ignored.

    Parameters
    ----------
    path : str or Path
        A relative path is looked up in the working directory first, then in the project root (so
        tests and notebooks find ``config/...`` from anywhere).

    Returns
    -------
    tuple of str
    """
    path = Path(path)
    if not path.is_absolute() and not path.exists():
        path = PROJECT_ROOT / path
    words = []
    for line in path.read_text(encoding="utf-8").splitlines():
        word = line.split("#", 1)[0].strip()
        if word:
            words.append(word)
    return tuple(words)


@functools.lru_cache(maxsize=4)
def load_segmenter(words: tuple[str, ...] = (), word_count: float = _DS["word_count"]) -> wordsegment.Segmenter:
    """A loaded wordsegment model with ``words`` added; cached per process and vocabulary (~1 s load).

    Single letters other than "a" and "i" get the lowest unigram count and lose their bigrams, so
    that rare words are not cut into letters.

    Parameters
    ----------
    words : tuple of str
        Words to add (key: lower case, letters and digits only, as wordsegment sees them).
    word_count : float
        Their unigram count (an existing larger count is kept).

    Returns
    -------
    wordsegment.Segmenter

    References
    ----------
    Norvig, P. (2009). Natural language corpus data. In T. Segaran & J. Hammerbacher (eds.),
    Beautiful Data, 219-242. O'Reilly. (wordsegment: https://grantjenks.com/docs/wordsegment/)
    """
    seg = wordsegment.Segmenter()
    seg.load()
    # Single letters other than "a" and "i" are rare words in running prose;
    # web counts inflate them (list markers, split contractions), which makes
    # the model cut rare words into letters ("volun t arity"). Their bigrams
    # go too: stupid backoff divides by the unigram count.
    floor = min(seg.unigrams.values())
    letters = set("bcdefghjklmnopqrstuvwxyz")
    for letter in letters:
        seg.unigrams[letter] = floor
    for bigram in [b for b in seg.bigrams if not letters.isdisjoint(b.split(" "))]:
        del seg.bigrams[bigram]
    for word in words:
        key = seg.clean(word)
        if key:
            seg.unigrams[key] = max(seg.unigrams.get(key, 0.0), float(word_count))
    return seg


# Per loaded segmenter: for each word, the previous words with which it has a bigram count.
_FOLLOWERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_UNIGRAM_LOG: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _followers(seg: wordsegment.Segmenter) -> dict[str, set[str]]:
    index = _FOLLOWERS.get(seg)
    if index is None:
        index = {}
        for bigram in seg.bigrams:
            previous, word = bigram.split(" ")
            index.setdefault(word, set()).add(previous)
        _FOLLOWERS[seg] = index
    return index


def _search(seg: wordsegment.Segmenter, followers: dict[str, set[str]], text: str) -> list[str]:
    """The words of wordsegment's ``search(text)`` (version 1.3.1), computed bottom-up.

    wordsegment finds the best division of ``text`` by a memoised recursion over (suffix, previous
    word): ``search(t, prev) = max over prefixes w of t (at most ``limit`` letters) of
    (log10 score(w | prev) + search(t[len(w):], w).score, [w] + its words)``, with ``'<s>'`` as the
    first previous word. Here the same values are filled in from the end of ``text``: the state is
    (position, length of the previous word), the sums are the same floats in the same order, and a
    tie in score is broken as Python's ``max`` breaks it on those tuples (the larger word list).
    The score of ``w`` after ``prev`` is its unigram score unless the bigram "prev w" is counted
    (stupid backoff), so it is computed once per prefix and again only for the previous words that
    have a bigram with it. About twenty times faster than the recursion (its words unchanged: tested).
    """
    n, limit = len(text), seg.limit
    if n == 0:
        return []
    known = _UNIGRAM_LOG.setdefault(seg, {})  # log10 of a word's unigram score, kept for the next calls
    if len(known) > 500_000:  # bounded: any string of up to `limit` letters may be a key
        known.clear()
    best = [[0.0] * (limit + 1) for _ in range(n + 1)]  # best[i][L]: score from i after a word of L letters
    step = [[0] * (limit + 1) for _ in range(n + 1)]  # step[i][L]: letters of the next word chosen
    log10, score = math.log10, seg.score

    def words(i: int, length: int) -> list[str]:
        out = []
        while i < n:
            p = step[i][length]
            out.append(text[i:i + p])
            i, length = i + p, p
        return out

    def choose(sums: list[float]) -> tuple[float, int]:
        top = max(sums)
        k = sums.index(top)
        if sums.count(top) > 1:  # Python's max on (score, words): the larger list of words
            tied = [k for k in range(len(sums)) if sums[k] == top]
            k = max(tied, key=lambda k: [prefixes[k]] + words(i + k + 1, k + 1))
        return top, k + 1

    for i in range(n - 1, -1, -1):
        reach = min(n - i, limit)
        prefixes = [text[i:i + p] for p in range(1, reach + 1)]
        # the previous word of state (i, L): its L letters before i, or '<s>' (L = 0) at the start
        previous = [text[i - length:i] for length in range(1, min(i, limit) + 1)] if i else ["<s>"]
        lengths = range(1, len(previous) + 1) if i else range(0, 1)
        unigram = [known[w] if w in known else known.setdefault(w, log10(score(w))) for w in prefixes]
        after = [best[i + p][p] for p in range(1, reach + 1)]
        plain = [unigram[k] + after[k] for k in range(reach)]
        special: dict[int, list[float]] = {}  # previous-word length -> its candidates' sums
        for k, w in enumerate(prefixes):
            before = followers.get(w)
            if not before:
                continue
            for length, prev in zip(lengths, previous):
                if prev in before:
                    sums = special.setdefault(length, list(plain))
                    sums[k] = log10(score(w, prev)) + after[k]
        choice = choose(plain)
        for length in lengths:
            sums = special.get(length)
            best[i][length], step[i][length] = choice if sums is None else choose(sums)
    return words(0, 0)


def _segment(seg: wordsegment.Segmenter, text: str) -> list[str]:
    """``seg.segment(text)`` of wordsegment 1.3.1: the same chunks of 250 letters, each prefixed with
    the last five words of the one before, each divided by :func:`_search`."""
    followers = _followers(seg)
    clean = seg.clean(text)
    out: list[str] = []
    prefix = ""
    for offset in range(0, len(clean), 250):
        chunk_words = _search(seg, followers, prefix + clean[offset:offset + 250])
        prefix = "".join(chunk_words[-5:])
        del chunk_words[-5:]
        out.extend(chunk_words)
    out.extend(_search(seg, followers, prefix))
    return out


class _Scorer:
    """Segment lower-case strings with a Segmenter, returning (log10 score, words); memoised."""

    def __init__(self, seg: wordsegment.Segmenter):
        self.seg = seg
        self.memo: dict[str, tuple[float, list[str]]] = {}

    def __call__(self, text: str) -> tuple[float, list[str]]:
        if not text:
            return 0.0, []
        if text not in self.memo:
            words = _segment(self.seg, text)
            score, prev = 0.0, "<s>"
            for word in words:
                score += math.log10(self.seg.score(word, prev))
                prev = word
            self.memo[text] = (score, words)
        return self.memo[text]


def _ordinal_suffix(digits: str) -> str:
    if digits[-2:] in ("11", "12", "13"):
        return "th"
    return {"1": "st", "2": "nd", "3": "rd"}.get(digits[-1], "th")


def _split_letters(run: str, score: _Scorer) -> list[int]:
    """Word boundaries (offsets into ``run``, excluding 0) of a run of letters."""
    # Case pieces: each is either a lower-case stretch or an upper-case run
    # plus the lower-case letters that follow it.
    pieces: list[tuple[int, int, bool]] = []  # (start, end, is_acronym)
    for m in _CASE_PIECE.finditer(run):
        start, end, text = m.start(), m.end(), m.group()
        upper = len(text) - len(text.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
        lower = text[upper:]
        if upper <= 1 or not lower:
            pieces.append((start, end, upper > 1 and not lower))
            continue
        # Upper-case run (>= 2) followed by lower case: three readings.
        options = [(score(lower.lower())[0], upper)]               # BRICS|countries
        options.append((score(text[upper - 1:].lower())[0], upper - 1))  # BRICS|Working
        if lower[0] == "s":                                         # ICTs|unanimously
            options.append((score(lower[1:].lower())[0], upper + 1))
        cut = max(options)[1]
        pieces.append((start, start + cut, True))
        if start + cut < end:
            pieces.append((start + cut, end, False))
    bounds = []
    for start, end, is_acronym in pieces:
        if start > 0:
            bounds.append(start)
        if not is_acronym:
            pos = start
            for word in score(run[start:end].lower())[1][:-1]:
                pos += len(word)
                bounds.append(pos)
    return bounds


def _split_compound(stripped: str, score: _Scorer) -> list[int]:
    """Word boundaries in a compound with its hyphens/apostrophes removed."""
    runs = [(m.start(), m.group()) for m in _ALNUM_RUN.finditer(stripped)]
    bounds: list[int] = []
    for i, (start, text) in enumerate(runs):
        if start > 0:
            bounds.append(start)
        if text.isdigit():
            continue
        offset = 0
        if i > 0 and runs[i - 1][1].isdigit():
            # A suffix that belongs to the number: an ordinal ("10th") or one
            # capital ("5G", "4K"; not the words "A", "I"), kept when the
            # letters after it read better than the whole run.
            suffix = _ordinal_suffix(runs[i - 1][1])
            if not text.lower().startswith(suffix):
                suffix = text[0] if text[0].isupper() and text[0] not in "AI" else ""
            rest = text[len(suffix):]
            if suffix and (not rest or score(rest.lower())[0] > score(text.lower())[0]):
                bounds.pop()  # no space between the number and its suffix
                offset = len(suffix)
                if rest:
                    bounds.append(start + offset)
        bounds.extend(start + offset + b for b in _split_letters(text[offset:], score))
    return bounds


def _despace_compound(token: str, score: _Scorer) -> tuple[str, int]:
    keep = [i for i, ch in enumerate(token) if ch.isalnum()]
    stripped = "".join(token[i] for i in keep)
    out, last, inserted = [], 0, 0
    for b in sorted(set(_split_compound(stripped, score))):
        left, right = keep[b - 1], keep[b]
        if right - left > 1:
            # A hyphen or apostrophe sits here: keep it glued, except a
            # plural possessive ("Nations'" + "main" -> "Nations' main").
            if token[right - 1] in "'’" and token[left] == "s" and token[right] != "s":
                out.append(token[last:right])
                out.append(" ")
                last = right
                inserted += 1
            continue
        out.append(token[last:right])
        out.append(" ")
        last = right
        inserted += 1
    out.append(token[last:])
    return "".join(out), inserted


def _space_between(prev: str, prev2: str, cur: str, quote_open: bool) -> bool:
    """Whether English puts a space between token ``prev`` and token ``cur``.

    ``prev2`` is the token before ``prev``; ``quote_open`` tells whether a straight double quote ``cur``/``prev``
    opens (True) or closes a quotation.
    """
    a, b = prev[-1], cur[0]
    b_word = b.isalnum()
    if b in _DASHES or a in _DASHES:
        return True
    if b == '"':
        return quote_open and (a.isalnum() or a in _CLOSE_PUNCT or a in ".)]}”")
    if a == '"':
        return not quote_open and (b_word or b in _OPENERS)
    if b in _OPENERS:
        return a.isalnum() or a in _CLOSE_PUNCT or a == "." or a in _CLOSERS
    if a in _CLOSERS:
        return b_word or b in _OPENERS
    if a == ",":
        if b.isdigit():
            # "1,000" (thousands separator) stays glued, "7, 2022" does not.
            return not (prev2[-1:].isdigit() and len(re.match(r"\d+", cur).group()) == 3)
        return b_word
    if a in ";:":
        if b.isdigit() and prev2[-1:].isdigit():  # 10:30
            return False
        return b_word
    if a in "!?":
        return b_word
    if a == ".":
        if b.isupper():
            return True
        if b.isdigit():
            return prev2[-1:].isalpha()  # "Nov. 7" but "2.5"
        return False
    return False


def despace(text: str, segmenter: wordsegment.Segmenter) -> tuple[str, int]:
    """Restore the spaces in ``text``, keeping every original character and its case.

    Parameters
    ----------
    text : str
        A de-spaced paragraph (:func:`is_despaced`).
    segmenter : wordsegment.Segmenter
        From :func:`load_segmenter`.

    Returns
    -------
    text : str
        The text with spaces inserted.
    inserted : int
        The number of spaces inserted.
    """
    score = _Scorer(segmenter)
    tokens = [m.group() for m in _TOKEN.finditer(text)]
    # Straight double quotes alternate: opening, closing, opening, ...
    opening: dict[int, bool] = {}
    is_open = True
    for i, tok in enumerate(tokens):
        if tok == '"':
            opening[i] = is_open
            is_open = not is_open
    out: list[str] = []
    inserted = 0
    for i, tok in enumerate(tokens):
        if _COMPOUND.fullmatch(tok):
            tok, n = _despace_compound(tok, score)
            inserted += n
        if i > 0 and not tok[0].isspace() and not tokens[i - 1][-1].isspace():
            quote = opening.get(i, opening.get(i - 1, False))
            prev2 = tokens[i - 2] if i > 1 else ""
            if _space_between(tokens[i - 1], prev2, tokens[i], quote):
                out.append(" ")
                inserted += 1
        out.append(tok)
    return "".join(out), inserted


def boundary_f1(predicted: str, reference: str) -> float:
    """F1 of the word boundaries of ``predicted`` against ``reference``.

    A boundary is the offset, in the text with all whitespace removed, of a character preceded by
    whitespace.

    Parameters
    ----------
    predicted, reference : str
        Two texts equal once whitespace is removed (they differ only in spacing).

    Returns
    -------
    float
        1.0 when neither text has a boundary.

    Raises
    ------
    ValueError
        When the texts differ beyond spacing (the message shows where).
    """
    def boundaries(text: str) -> tuple[str, set[int]]:
        chars, bounds, gap = [], set(), False
        for ch in text:
            if ch.isspace():
                gap = True
                continue
            if gap and chars:
                bounds.add(len(chars))
            gap = False
            chars.append(ch)
        return "".join(chars), bounds

    p_text, p = boundaries(predicted)
    r_text, r = boundaries(reference)
    if p_text != r_text:
        at = next((i for i, (x, y) in enumerate(zip(p_text, r_text)) if x != y),
                  min(len(p_text), len(r_text)))
        raise ValueError(
            f"texts differ beyond spacing at non-space offset {at}: "
            f"{p_text[max(0, at - 20):at + 20]!r} vs {r_text[max(0, at - 20):at + 20]!r}"
        )
    if not p and not r:
        return 1.0
    hits = len(p & r)
    if hits == 0:
        return 0.0
    precision, recall = hits / len(p), hits / len(r)
    return 2 * precision * recall / (precision + recall)
