"""Matching: every occurrence of a codebook's terms in a token table, with its KWIC context.

:func:`match_themes` takes a token table (:mod:`textdrift.segment`) and a codebook
(:mod:`textdrift.codebook`) and returns one row per counted match (``MATCH_COLUMNS``);
:mod:`textdrift.themes` counts them, :mod:`textdrift.crosslingual` and :mod:`textdrift.findings`
reuse them.

Matching
--------
Terms are matched against the token ``norm`` (lower-cased lemma for English, the Simplified
word for Chinese), so they are written as the segmenter normalises them ("country", not
"countries"; the lookup lemmatizer turns "shared" into "share" and "building" into "build":
globs such as "share*" absorb such quirks).

* **Where.** A term is matched inside one *segment*: a run of consecutive non-punctuation
  tokens of one sentence (:func:`textdrift.counting.segments`). Stop words stay in the run,
  so "community with a shared future" matches; a match never crosses a sentence end or a
  punctuation token (a comma, a quote, a Chinese enumeration comma 、), as n-grams in
  ``vectorize`` never do.
* **Spaced languages** (English, ...): a term is one or more words separated by one space and
  matches that many consecutive tokens, word by word. A word may be a glob (``*``, ``?``,
  ``[...]``, :func:`fnmatch.fnmatchcase`): "cyber*" matches "cybersecurity", "cybercrime";
  "digiti?ation" matches "digitisation" and "digitization"; "unite* nation" matches "unite
  nation".
* **Unspaced languages** (``unspaced_languages``, default zh and ja): jieba may cut a term
  differently from how it is written (数字经济 as 数字 + 经济, or as one word from the user
  dictionary), so a term (spaces removed) matches the *concatenated characters* of one or
  more consecutive tokens, **aligned to token boundaries**: the match starts at the start of
  a token and ends at the end of a token. Tokens 数字 + 经济 match 数字经济, but 经济 does
  **not** match inside the single token 数字经济 (nor 合作 inside 数字合作): a word is never
  split. A glob term matches one token: "*合作" matches 数字合作, 南南合作 and 合作.
* **Counting.** Every match counts once, whatever its length in tokens. Within one theme,
  overlapping matches are resolved greedily: the longest match (in tokens) first, then the
  leftmost, then a plain term before a glob, then the term listed first in the codebook; a
  match overlapping an accepted one is dropped. So "cross-border data flow" counts once, not also as "data flow". Different
  themes are resolved independently: one span can count for two themes.

KWIC
----
Every counted match is one row of the KWIC table (so the KWIC rows of a (year, language,
theme) add up to its ``count``): ``match`` is the text of the matched tokens, ``left`` and
``right`` the ``window`` tokens (punctuation included) before and after it in the same
paragraph, from the token ``text`` (the original characters). Tokens are joined as in the
clean text, from their character offsets: one space where the text had white space between
them, none otherwise (so Chinese has no spaces and English keeps its spaces).

Implementation
--------------
Candidates are found with array operations over the vocabulary (:func:`_candidate_arrays`) and
resolved in rounds (:func:`_resolve_arrays`); a glob is tried only on the vocabulary words that
contain its longest literal run (:func:`_glob_candidates`), and the ``near`` rule is checked on
arrays too (:func:`_near_found`). Three cases fall back to the token-by-token path, which is
therefore part of the library and not only the tests' reference: an unspaced language with an
empty token (:func:`_candidates_loop`), overlap chains longer than ``max_rounds``
(:func:`_resolve`), and an unspaced glob near word (:func:`_near_loop`). Each language's tokens
are ordered and prepared once (:class:`_Language`) for every codebook matched on them
(:func:`match_codebooks`: a `theme_matches` job's entity list and codebook); the KWIC text is
joined in Arrow. :class:`Vocabulary` tells which terms can match in a token table at all.

Why one module of about 870 lines, a tenth of them this docstring: one concern (which tokens a
term matches), whose array path and the token-by-token fallback it relies on must agree and are
tested against each other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase, translate

import numpy as np
import pandas as pd

from textdrift.codebook import Rule, Theme
from textdrift.config import UNSPACED_LANGUAGES as UNSPACED  # one definition: the config schema
from textdrift.config import defaults
from textdrift.counting import ENTITY_HEAD, TOKEN_COLUMNS, TokenCodes, key_order

_D = defaults()  # the configuration schema's defaults: every keyword default below that is a config setting

__all__ = ["GLOB_CHARS", "MATCH_COLUMNS", "MATCH_ORDER", "UNSPACED", "Vocabulary", "match_codebooks", "match_themes",
           "order_matches"]

#: the key of :func:`match_themes`' row order (:func:`order_matches`; the theme in codebook order)
MATCH_ORDER = ["year", "lang", "theme", "doc_id", "para", "start_idx"]

MATCH_COLUMNS = [
    "doc_id", "year", "lang", "theme", "term", "para", "sent", "role", "start_idx", "end_idx", "left", "match", "right",
]
GLOB_CHARS = "*?["
#: the token columns :class:`_Language` reads
_LANG_COLUMNS = ["doc_id", "year", "lang", "para", "sent", "idx", "text", "norm", "is_punct", "role", "entity"]
#: the columns of a match's text and context (:func:`match_themes` with ``context=False`` leaves them out)
_CONTEXT_COLUMNS = ("end_idx", "left", "match", "right")


@dataclass(frozen=True)
class _Term:
    theme: str
    text: str  # as written in the codebook
    order: int  # position in the theme's list (tie-break)
    parts: tuple[str, ...]  # spaced: the words; unspaced: one string (spaces removed)
    glob: bool
    rule: Rule | None = None  # context rules (exclude, near)


def _compile(codebook: list[Theme], lang: str, unspaced: bool) -> list[_Term]:
    out = []
    for theme in codebook:
        terms = theme.terms.get(lang, ())
        rules = theme.rules.get(lang, {})
        for order, text in enumerate(terms):
            out.append(_Term(theme.id, text, order, _parts(text, unspaced), any(c in text for c in GLOB_CHARS),
                             rules.get(text)))
        for k, eid in enumerate(theme.entities):  # an entity member matches its head token, @id
            out.append(_Term(theme.id, ENTITY_HEAD + eid, len(terms) + k, (ENTITY_HEAD + eid,), False))
    return out


def _parts(text: str, unspaced: bool) -> tuple[str, ...]:
    return (text.replace(" ", ""),) if unspaced else tuple(text.split(" "))


def _context_rules(by_theme: dict, terms: list[_Term], codes: np.ndarray, vocab: np.ndarray, seg: np.ndarray,
                   sent: np.ndarray, unspaced: bool) -> dict:
    """Candidates (p, q, term index per theme, over the words) without those a term's context
    rule drops: a match inside an occurrence of one of its ``exclude`` phrases (found by the same
    matcher: :func:`_candidate_arrays`), or, with ``near``, a match with none of the near words
    within ``window`` words before or after it in the same sentence (``sent``: sentence id of
    every word, never decreasing). Spaced languages: a near word is one norm (glob allowed);
    unspaced ones: the characters of one to four consecutive tokens. ``codes``: the words' norms
    as codes into ``vocab`` (-1: missing).

    The near test runs on arrays (:func:`_near_found`); an unspaced language with a glob near word
    or an empty token takes the word-by-word reference (:func:`_near_loop`)."""
    ruled = [i for i, t in enumerate(terms) if t.rule is not None]
    if not ruled:
        return by_theme
    ex_terms = [_Term(str(i), e, 0, _parts(e, unspaced), any(c in e for c in GLOB_CHARS))
                for i in ruled for e in terms[i].rule.exclude]
    spans = _candidate_arrays(ex_terms, codes, seg, unspaced, vocab) if ex_terms else {}
    for key, (ep, eq, _) in list(spans.items()):  # per ruled term: starts sorted, the farthest end so far
        order = np.argsort(ep, kind="stable")
        spans[key] = (ep[order], np.maximum.accumulate(eq[order]))
    n = len(codes)
    # a word's sentence as the range [first, end) of word positions (sent never decreases), for
    # the candidates' words only
    def sent_first(x):
        return np.searchsorted(sent, sent[x], side="left")

    def sent_end(x):
        return np.searchsorted(sent, sent[x], side="right")

    out = {}
    for theme, (p, q, ti) in by_theme.items():
        keep = np.ones(len(p), dtype=bool)
        for i in np.unique(ti):
            rule = terms[i].rule
            if rule is None:
                continue
            sel = np.flatnonzero(ti == i)
            if str(i) in spans:
                ep, far = spans[str(i)]
                k = np.searchsorted(ep, p[sel], side="right") - 1
                keep[sel[(k >= 0) & (far[np.maximum(k, 0)] >= q[sel])]] = False
            if rule.near:
                j = sel[keep[sel]]
                a, b = p[j], q[j]
                sides = ((np.maximum(np.maximum(a - rule.window, 0), sent_first(a)), a),  # [lo, hi) before
                         (b + 1, np.minimum(np.minimum(b + 1 + rule.window, n), sent_end(b))))  # and after
                keep[j] = _near_found(rule, codes, vocab, sides, unspaced)
        if keep.any():
            out[theme] = (p[keep], q[keep], ti[keep])
    return out


def _near_found(rule: Rule, codes: np.ndarray, vocab: np.ndarray, sides, unspaced: bool) -> np.ndarray:
    """For each candidate, whether a near word of ``rule`` occurs in one of its ``sides``: pairs
    (lo, hi) of arrays, the word ranges [lo, hi) before and after it.

    A near occurrence at word x is a run of m consecutive words x .. x + m - 1 (m = 1 in a spaced
    language, 1 to 4 in an unspaced one) whose norms (joined) match a near word; ``end[x]`` is
    x + the smallest such m. A side [lo, hi) has one when some x in it has ``end[x] <= hi``
    (the run inside the side, as in :func:`_near_loop`). Only the words of the sides are tested,
    each distinct norm (or cut of a near word into norms) once.
    """
    pats = [(pat, any(c in pat for c in GLOB_CHARS)) for pat in rule.near]
    if unspaced and (any(g for _, g in pats) or bool((vocab == "").any())):
        return _near_loop(rule, np.append(vocab, None)[codes], sides, unspaced)
    n = len(codes)
    found = np.zeros(len(sides[0][0]), dtype=bool)
    xs = np.unique(np.concatenate([lo[:, None] + np.arange(rule.window)[None, :] for lo, _ in sides]).ravel())
    xs = xs[xs < n]
    big = np.iinfo(np.int64).max
    end = np.full(n + 1, big, dtype=np.int64)  # (the last: a position past the words)
    if not unspaced:
        at = codes[xs]
        distinct = np.unique(at[at >= 0])
        hit = np.zeros(len(vocab) + 1, dtype=bool)  # (the last: code -1, a missing norm, never a near word)
        hit[distinct] = [any(fnmatchcase(w, pat) if g else w == pat for pat, g in pats)
                         for w in vocab[distinct].tolist()]
        end[xs[hit[at]]] = xs[hit[at]] + 1
    else:
        lookup = {w: k for k, w in enumerate(vocab.tolist())}

        def cuts(s: str, m: int) -> list[list[int]]:  # the ways to write s as m vocabulary words
            if m == 1:
                return [[lookup[s]]] if s in lookup else []
            return [[lookup[s[:k]], *rest] for k in range(1, len(s)) if s[:k] in lookup for rest in cuts(s[k:], m - 1)]

        for m in range(4, 0, -1):  # the smallest m last: it sets end
            ok = np.zeros(len(xs), dtype=bool)
            inside = xs + m <= n
            for pat, _ in pats:
                for cut in cuts(pat, m):
                    hit = inside.copy()
                    for k, c in enumerate(cut):
                        hit[inside] &= codes[xs[inside] + k] == c
                    ok |= hit
            end[xs[ok]] = xs[ok] + m
    for lo, hi in sides:
        for d in range(rule.window):
            x = lo + d
            found |= (x < hi) & (end[np.minimum(x, n)] <= hi)
    return found


def _near_loop(rule: Rule, norms: np.ndarray, sides, unspaced: bool) -> np.ndarray:
    """:func:`_near_found` word by word (the reference; the path of an unspaced language with a glob
    near word or an empty token): ``norms`` are the words' strings."""
    pats = [(pat, any(c in pat for c in GLOB_CHARS)) for pat in rule.near]

    def hit(word: str) -> bool:
        return any(fnmatchcase(word, pat) if g else word == pat for pat, g in pats)

    found = np.zeros(len(sides[0][0]), dtype=bool)
    for lo, hi in sides:
        for j, (x0, x1) in enumerate(zip(lo.tolist(), hi.tolist())):
            side = range(x0, x1)
            if unspaced:
                found[j] |= any(hit("".join(norms[side[u]:side[u] + m]))
                                for u in range(len(side)) for m in range(1, min(4, len(side) - u) + 1))
            else:
                found[j] |= any(norms[x] is not None and hit(norms[x]) for x in side)
    return found


def _word_match(pattern: str, word: str) -> bool:
    return fnmatchcase(word, pattern) if any(c in pattern for c in GLOB_CHARS) else word == pattern


def _starters(terms: list[_Term], vocab: set[str], unspaced: bool) -> dict[str, list[_Term]]:
    """For each norm of the vocabulary, the terms whose match can start with it."""
    exact: dict[str, list[_Term]] = {}
    globs = []
    for t in terms:
        if unspaced and not t.glob:
            s = t.parts[0]
            for k in range(1, len(s) + 1):  # a match starts with a token that is a prefix of the term
                exact.setdefault(s[:k], []).append(t)
        elif not unspaced and not any(c in t.parts[0] for c in GLOB_CHARS):
            exact.setdefault(t.parts[0], []).append(t)
        else:
            globs.append(t)
    out = {}
    for w in vocab:
        cands = exact.get(w, []) + [t for t in globs if fnmatchcase(w, t.parts[0])]
        if cands:
            out[w] = cands
    return out


def _match_end(term: _Term, p: int, norms: np.ndarray, seg: np.ndarray, unspaced: bool) -> int | None:
    """Index of the last token of a match of ``term`` starting at token ``p``, or None."""
    n = len(norms)
    if unspaced:
        if term.glob:
            return p  # the starter lookup already checked the one token
        target, acc, q = term.parts[0], norms[p], p
        while len(acc) < len(target):
            q += 1
            if q >= n or seg[q] != seg[p]:
                return None
            acc += norms[q]
            if not target.startswith(acc):
                return None
        return q if acc == target else None
    q = p + len(term.parts) - 1
    if q >= n or seg[q] != seg[p]:
        return None
    ok = all(_word_match(pat, norms[p + i]) for i, pat in enumerate(term.parts[1:], 1))
    return q if ok else None


def _resolve(cands: list[tuple[int, int, _Term]]) -> list[tuple[int, int, _Term]]:
    """Greedy overlap resolution within one theme: longest, leftmost, plain before glob, codebook order."""
    taken: set[int] = set()
    kept = []
    for p, q, t in sorted(cands, key=lambda c: (c[0] - c[1], c[0], c[2].glob, c[2].order)):
        span = range(p, q + 1)
        if not taken.intersection(span):
            taken.update(span)
            kept.append((p, q, t))
    return sorted(kept, key=lambda c: c[0])


def _candidates(terms: list[_Term], norms: np.ndarray, seg: np.ndarray, unspaced: bool) -> dict[str, list]:
    """Every match (p, q, term) of every term, by theme: the candidates of :func:`_resolve`.

    The same matches as :func:`_starters` + :func:`_match_end` token by token, found with array
    operations (:func:`_candidate_arrays`).
    """
    return {
        theme: [(a, b, terms[i]) for a, b, i in zip(p.tolist(), q.tolist(), ti.tolist())]
        for theme, (p, q, ti) in _candidate_arrays(terms, norms, seg, unspaced).items()
    }


def _candidate_arrays(terms: list[_Term], norms: np.ndarray, seg: np.ndarray, unspaced: bool,
                      vocab: np.ndarray | None = None) -> dict[str, tuple]:
    """:func:`_candidates` as arrays: theme -> (p, q, index of the term in ``terms``), int64 each.

    Each word of a term is turned into the codes of the vocabulary words it matches, and a term
    of k words matches at p when the codes at p .. p + k - 1 are in those sets and p and
    p + k - 1 are in one segment (segment ids never decrease). An unspaced plain term is tried
    as each way of cutting it into vocabulary words. With ``vocab`` (distinct strings), ``norms``
    are integer codes into it (:class:`textdrift.counting.TokenCodes`; words of ``vocab`` that do
    not occur find no match), otherwise strings.
    """
    if vocab is not None:
        codes, vocab = np.asarray(norms, dtype=np.int64), np.asarray(vocab, dtype=object)
        used = np.zeros(len(vocab) + 1, dtype=bool)
        used[codes] = True
        present = np.flatnonzero(used[:-1])  # only the words that occur: the vocabulary globs are tried on
        dense = np.full(len(vocab) + 1, -1, dtype=np.int64)
        dense[present] = np.arange(len(present))
        codes, vocab = dense[codes], vocab[present]
        empty = unspaced and bool((vocab == "").any())
    else:
        codes, empty = None, unspaced and "" in set(norms)
    if empty:  # an empty token could end a cut anywhere: token by token
        strings = norms if codes is None else np.append(vocab, None)[codes]
        index = {t: i for i, t in enumerate(terms)}
        return {
            theme: (np.array([c[0] for c in cands], dtype=np.int64), np.array([c[1] for c in cands], dtype=np.int64),
                    np.array([index[c[2]] for c in cands], dtype=np.int64))
            for theme, cands in _candidates_loop(terms, strings, seg, unspaced).items()
        }
    n = len(norms)
    if codes is None:
        codes, vocab = pd.factorize(pd.Series(norms, dtype=object))
    vocab = np.asarray(vocab, dtype=object).tolist()
    lookup = {w: i for i, w in enumerate(vocab)}
    # the positions of each code, in order: a stable sort by code (as 16-bit codes when they fit,
    # code -1 then last: numpy's stable sort is a radix sort for them, the same order)
    key = codes.astype(np.uint16) if len(vocab) < np.iinfo(np.uint16).max else codes
    by_code = np.argsort(key, kind="stable")
    bounds = np.searchsorted(key[by_code], np.arange(len(vocab) + 1))
    cache: dict[str, np.ndarray] = {}
    arrow: list = []  # the vocabulary as one Arrow array, made at the first glob

    def word_codes(pattern: str) -> np.ndarray:  # codes of the vocabulary words that _word_match(pattern, .)
        if pattern not in cache:
            if any(c in pattern for c in GLOB_CHARS):
                match = re.compile(translate(pattern)).match
                cache[pattern] = np.array([i for i in _glob_candidates(pattern, vocab, arrow)
                                           if match(vocab[i]) is not None], dtype=np.int64)
            else:
                cache[pattern] = np.array([lookup[pattern]] if pattern in lookup else [], dtype=np.int64)
        return cache[pattern]

    def cuts(s: str) -> list[list[str]]:
        return [[s[:k], *rest] for k in range(1, len(s) + 1) if s[:k] in lookup for rest in cuts(s[k:])] if s else [[]]

    parts: dict[str, list] = {}
    for ti, t in enumerate(terms):
        if unspaced and t.glob:
            ways = [[word_codes(t.parts[0])]]
        elif unspaced:
            ways = [[word_codes(w) for w in cut] for cut in cuts(t.parts[0])]
        else:
            ways = [[word_codes(w) for w in t.parts]]
        for way in ways:
            if not all(len(c) for c in way):
                continue
            p = np.concatenate([by_code[bounds[c]:bounds[c + 1]] for c in way[0]])
            k = len(way)
            p = p[p + k - 1 < n]
            ok = seg[p + k - 1] == seg[p]
            for i in range(1, k):
                if len(way[i]) == 1:  # one word (a plain word, never code -1): compared, no mask of the vocabulary
                    ok &= codes[p + i] == way[i][0]
                    continue
                hit = np.zeros(len(vocab) + 1, dtype=bool)  # (the last: code -1, a missing norm)
                hit[way[i]] = True
                ok &= hit[codes[p + i]]
            p = np.sort(p[ok]).astype(np.int64)
            if len(p):
                parts.setdefault(t.theme, []).append((p, p + (k - 1), np.full(len(p), ti, dtype=np.int64)))
    return {theme: tuple(np.concatenate(col) for col in zip(*chunks)) for theme, chunks in parts.items()}


class Vocabulary:
    """The distinct words of a token table, for a test that a codebook term matches nothing in it.

    :meth:`may_match` is False only when no match of the term is possible: a spaced term needs
    each of its words (a glob: some word it matches) among the words; an unspaced plain term needs
    a cut of its characters into words; an unspaced glob, one word it matches; an entity member
    (``@id``), its head token. A term's matches and the other terms' never depend on a term with no
    candidate (the overlap resolution ranks only candidates, by their terms' relative order), so
    such a term can be left out of a theme (:mod:`textdrift.matchmemo`'s keys) without changing a
    row. A superset of the words only makes the test weaker, never wrong: the shard's norms and
    lower-cased lemmas (those of the names counted as words) in every language serve every table.

    Parameters
    ----------
    words : iterable of str
    """

    def __init__(self, words):
        self.set = set(words)
        self.list = sorted(self.set)
        self._arrow: list = []
        self._globs: dict[str, bool] = {}

    def has(self, pattern: str) -> bool:
        """Whether some word is ``pattern`` (a glob: matches it).

        Parameters
        ----------
        pattern : str

        Returns
        -------
        bool
        """
        if not any(c in pattern for c in GLOB_CHARS):
            return pattern in self.set
        if pattern not in self._globs:
            match = re.compile(translate(pattern)).match
            self._globs[pattern] = any(match(self.list[i]) is not None
                                       for i in _glob_candidates(pattern, self.list, self._arrow))
        return self._globs[pattern]

    def may_match(self, term: str, unspaced: bool) -> bool:
        """False when ``term`` (as written in the codebook, or ``@id``) provably matches nothing.

        Parameters
        ----------
        term : str
        unspaced : bool
            Whether the term's language is matched on concatenated characters.

        Returns
        -------
        bool
        """
        if term.startswith(ENTITY_HEAD):  # an entity member: its head token, one word whatever its id
            return term in self.set
        if not unspaced:
            return all(self.has(w) for w in _parts(term, False))
        s = _parts(term, True)[0]
        if any(c in s for c in GLOB_CHARS):
            return self.has(s)
        reach = [True] + [False] * len(s)  # reach[j]: s[:j] is a run of words
        for j in range(1, len(s) + 1):
            reach[j] = any(reach[i] and s[i:j] in self.set for i in range(j))
        return reach[-1]


def _glob_candidates(pattern: str, vocab: list[str], arrow: list) -> np.ndarray:
    """Positions in ``vocab`` of the words that may match the glob ``pattern``, in order: those
    that contain its longest literal run (the text between two of ``*`` and ``?``; a word the
    glob matches contains every such run), found by ``pyarrow.compute.match_substring`` in C++
    so that the glob's regular expression runs on these few words only. Every word when the
    pattern has a bracket expression (``[...]``) or no literal. ``arrow``: a one-item cache of
    the vocabulary as an Arrow array (filled on the first call)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    literal = max(re.split(r"[*?]", pattern), key=len)
    if "[" in pattern or not literal:
        return np.arange(len(vocab))
    if not arrow:
        arrow.append(pa.array(vocab, type=pa.large_string()))
    return np.flatnonzero(pc.match_substring(arrow[0], literal).to_numpy(zero_copy_only=False))


def _resolve_arrays(p: np.ndarray, q: np.ndarray, ti: np.ndarray, terms: list[_Term], max_rounds: int = 32) -> np.ndarray:
    """:func:`_resolve` on arrays (the candidates of one theme: starts, ends, indices in ``terms``):
    the positions of the kept candidates, by start.

    A candidate that overlaps no other candidate of the theme is kept whatever the greedy order.
    The others are resolved in rounds: a candidate that comes first in the greedy order among
    the live candidates it overlaps is kept (the greedy pass would keep it too: every candidate
    before it that overlaps it has been dropped), and the candidates it overlaps are dropped.
    After ``max_rounds`` (long chains of overlaps) the rest goes through :func:`_resolve`.
    """
    o = np.lexsort((q, p))  # by start, then end
    ps, qs = p[o], q[o]
    alone = np.ones(len(o), dtype=bool)  # overlaps neither the candidate before nor the one after
    if len(o) > 1:
        reach = np.maximum.accumulate(qs)
        alone[1:] &= ps[1:] > reach[:-1]
        alone[:-1] &= ps[1:] > reach[:-1]
    if alone.all():
        return o
    m = o[~alone]
    P, Q, T = ps[~alone], qs[~alone], ti[m]
    glob = np.array([t.glob for t in terms], dtype=bool)[T]
    rank = np.empty(len(m), dtype=np.int64)  # position in the greedy order
    rank[np.lexsort((np.array([t.order for t in terms], dtype=np.int64)[T], glob, P, P - Q))] = np.arange(len(m))
    # overlapping pairs i < j (by start): P[j] <= Q[i], both ways
    stop = np.searchsorted(P, Q, side="right")
    count = stop - np.arange(len(m)) - 1
    first = np.repeat(np.arange(len(m)), count)
    second = first + 1 + np.arange(len(first)) - np.repeat(np.cumsum(count) - count, count)
    first, second = np.concatenate([first, second]), np.concatenate([second, first])
    alive, kept = np.ones(len(m), dtype=bool), np.zeros(len(m), dtype=bool)
    for _ in range(max_rounds):
        live = alive[first] & alive[second]
        first, second = first[live], second[live]
        best = np.full(len(m), len(m), dtype=np.int64)
        np.minimum.at(best, first, rank[second])
        win = alive & (rank < best)
        kept |= win
        alive[win] = False
        alive[second[win[first]]] = False
        if not alive.any():
            break
    else:
        rest = np.flatnonzero(alive)
        at = {(a, b, i): r for a, b, i, r in zip(P[rest].tolist(), Q[rest].tolist(), T[rest].tolist(), rest.tolist())}
        index = {t: i for i, t in enumerate(terms)}
        for a, b, t in _resolve([(a, b, terms[i]) for a, b, i in at]):
            kept[at[(a, b, index[t])]] = True
    out = np.concatenate([o[alone], m[kept]])
    return out[np.argsort(p[out], kind="stable")]


def _candidates_loop(terms: list[_Term], norms: np.ndarray, seg: np.ndarray, unspaced: bool) -> dict[str, list]:
    """:func:`_candidates` token by token (the reference implementation)."""
    starters = _starters(terms, set(norms), unspaced)
    by_theme: dict[str, list] = {}
    for p in np.flatnonzero([w in starters for w in norms]):
        for t in starters[norms[p]]:
            q = _match_end(t, p, norms, seg, unspaced)
            if q is not None:
                by_theme.setdefault(t.theme, []).append((int(p), q, t))
    return by_theme


def _token_order(tokens: "pd.DataFrame | TokenCodes") -> np.ndarray | None:
    """The stable sort of the rows by (doc_id, para, idx) (:func:`textdrift.counting.key_order`), or
    None when they are in that order."""
    coded = isinstance(tokens, TokenCodes)  # (codes sort as their strings)
    doc_codes = np.asarray(tokens["doc_id"] if coded else pd.factorize(tokens["doc_id"], sort=True)[0])
    n = len(doc_codes)
    if n < 2:
        return None
    order = key_order([doc_codes, np.asarray(tokens["para"]), np.asarray(tokens["idx"])])
    return None if (order[1:] > order[:-1]).all() else order


def _entity_rule(by_theme: dict, terms: list[_Term], tokens: TokenCodes, words: np.ndarray,
                 mention_end: np.ndarray) -> dict:
    """Candidates (p, q, term index per theme, over ``words``) under the entity rule: a match that
    touches a token of a named-entity mention is dropped, except an entity-member term (``@id``,
    which matches a mention's head), whose match is widened to the mention's last word (the last
    word up to ``mention_end`` of its head, :func:`_mention_ends`, whose last token, a closing quote
    or bracket, the KWIC ``match`` then runs to)."""
    if "entity" not in tokens:
        return by_theme
    in_ent = (tokens["entity"] >= 0)[words]
    if not in_ent.any():
        return by_theme
    touched = np.concatenate([[0], np.cumsum(in_ent)])
    member = np.array([t.parts[0].startswith(ENTITY_HEAD) for t in terms], dtype=bool)
    out = {}
    for theme, (p, q, ti) in by_theme.items():
        is_member = member[ti]
        q = np.where(is_member, np.searchsorted(words, mention_end[words[p]], side="right") - 1, q)
        ok = is_member | (touched[q + 1] - touched[p] == 0)
        if ok.any():
            out[theme] = (p[ok], q[ok], ti[ok])
    return out


def _mention_ends(tokens: TokenCodes, head: np.ndarray) -> np.ndarray:
    """For each token that heads a named-entity mention (``head``: :meth:`TokenCodes.entity_heads`),
    the row of the mention's last token (punctuation included: the ``)`` of "Global Development
    Initiative (GDI)", the closing quote of a quoted title); -1 for every other token (and for
    every token without an ``entity`` column)."""
    out = np.full(tokens.n, -1, dtype=np.int64)
    if "entity" not in tokens or not tokens.n:
        return out
    in_ent = tokens["entity"] >= 0
    span = np.cumsum(head)  # the mention a token belongs to, counted from its head (mentions are contiguous)
    end = np.full(span[-1] + 1, -1, dtype=np.int64)
    np.maximum.at(end, span[in_ent], np.flatnonzero(in_ent))
    out[head] = end[span[head]]
    return out


_OPEN, _CLOSE = ("(", "\uff08"), (")", "\uff09")  # round brackets, ASCII and full-width


def _bracket_tokens(tokens: TokenCodes) -> tuple[np.ndarray, np.ndarray]:
    """Per token: whether its text is an opening round bracket, a closing one (``_OPEN``, ``_CLOSE``)."""
    text = np.append(np.asarray(tokens.values("text"), dtype=object), "")
    codes = tokens["text"]
    return np.isin(text, _OPEN)[codes], np.isin(text, _CLOSE)[codes]


def _restated(a0: np.ndarray, a1: np.ndarray, opens: np.ndarray, closes: np.ndarray,
              para_start: np.ndarray) -> np.ndarray:
    """Which of one theme's kept matches (first and last token rows ``a0``, ``a1``, by start) only
    restate the match before them: the whole of a bracket that follows it directly, "artificial
    intelligence (AI)", "人工智能（AI）": one mention of the theme, counted once (the first).
    A match starting a paragraph's text is never one."""
    out = np.zeros(len(a0), dtype=bool)
    if len(a0) < 2:
        return out
    n = len(opens)
    before, after = a0[1:] - 1, a1[1:] + 1
    ok = (a1[:-1] == a0[1:] - 2) & (before >= para_start[a0[1:]]) & (a1[:-1] >= para_start[a0[1:]])
    ok &= opens[np.clip(before, 0, n - 1)] & (after < n) & closes[np.clip(after, 0, n - 1)]
    out[1:] = ok
    return out


class _Language:
    """One language's tokens (integer codes, :class:`textdrift.counting.TokenCodes`) in matching
    order (doc_id, para, idx) with what every codebook's match reads of them (segments, words,
    mentions, paragraphs, brackets): made once for all the codebooks matched on them
    (:func:`match_codebooks`); the KWIC text (:meth:`_text`) at the first match that needs it."""

    def __init__(self, tokens: TokenCodes):
        # stable sort by doc_id, para, idx, without a copy of the table when it is already in that order
        order = _token_order(tokens)
        self.tokens = tokens = tokens if order is None else tokens.take(order)
        self.n = n = len(tokens)
        doc, para, sent, punct = tokens["doc_id"], tokens["para"], tokens["sent"], tokens["is_punct"].astype(bool)
        new_sent = np.ones(n, dtype=bool)  # counting.segments: a new segment at each sentence and after punctuation
        new_sent[1:] = (doc[1:] != doc[:-1]) | (tokens["lang"][1:] != tokens["lang"][:-1]) | (sent[1:] != sent[:-1])
        new_sent[1:] |= punct[:-1]
        # row of each word: a non-punctuation token, or a mention's head (``@id``) even when the mention
        # starts with a quote mark (a quoted title): the head stands for the whole mention
        heads = tokens.entity_heads()
        self.words = np.flatnonzero(~punct | heads)
        self.mention_end = _mention_ends(tokens, heads)  # an entity-member match runs to its mention's last token
        self.vocab = np.asarray(tokens.values("norm"), dtype=object)
        self.codes = tokens["norm"][self.words]
        self.seg = np.cumsum(new_sent)[self.words]
        new_para = np.ones(n, dtype=bool)
        new_para[1:] = (doc[1:] != doc[:-1]) | (para[1:] != para[:-1])
        starts, group = np.flatnonzero(new_para), np.cumsum(new_para) - 1
        self.para_start, self.para_end = starts[group], np.append(starts[1:], n)[group]  # end exclusive
        self.opens, self.closes = _bracket_tokens(tokens)
        self._kwic = None

    def sentences(self) -> np.ndarray:
        """The sentence id of every word (never decreasing), for the context rules."""
        tokens, n = self.tokens, self.n
        new_s = np.ones(n, dtype=bool)
        doc, para, sent = tokens["doc_id"], tokens["para"], tokens["sent"]
        new_s[1:] = (doc[1:] != doc[:-1]) | (para[1:] != para[:-1]) | (sent[1:] != sent[:-1])
        return np.cumsum(new_s)[self.words]

    def _text(self) -> tuple:
        """The tokens' text for the KWIC: (an Arrow array of 2n strings: token i's text at i and at
        n + i the same preceded by one space where the text had white space before it, as the clean
        text joins them; each token's length in characters)."""
        if self._kwic is None:
            import pyarrow as pa
            import pyarrow.compute as pc

            tokens, n = self.tokens, self.n
            texts = tokens.strings("text").cast(pa.large_string())
            text = texts.take(pa.array(tokens["text"], mask=tokens["text"] < 0))
            tlen = np.append(pc.utf8_length(texts).to_numpy(zero_copy_only=False).astype(np.int64), 0)[tokens["text"]]
            idx = tokens["idx"].astype(np.int64)
            # token i as joined after token i - 1: preceded by one space where the text had white space
            gap = np.zeros(n, dtype=bool)
            gap[1:] = idx[1:] > idx[:-1] + tlen[:-1]
            space, empty = pa.scalar(" ", pa.large_string()), pa.scalar("", pa.large_string())
            spaced = pc.if_else(pa.array(gap), pc.binary_join_element_wise(space, text, empty), text)
            self._kwic = pa.concat_arrays([text, spaced.combine_chunks() if isinstance(spaced, pa.ChunkedArray)
                                           else spaced]), tlen
        return self._kwic

    def join(self, a: np.ndarray, b: np.ndarray):
        """Tokens a..b-1 of each pair as in the clean text (a space only where the text had one
        between two of them), as an Arrow string array: the strings are joined in Arrow, never
        made one by one in Python."""
        import pyarrow as pa
        import pyarrow.compute as pc

        values, _ = self._text()
        m = np.maximum(b - a, 0)
        offsets = np.zeros(len(m) + 1, dtype=np.int64)
        np.cumsum(m, out=offsets[1:])
        place = np.arange(offsets[-1]) - np.repeat(offsets[:-1], m)  # a token's place in its run
        rows = np.repeat(a, m) + place + np.where(place > 0, self.n, 0)  # the first without its space
        lists = pa.LargeListArray.from_arrays(pa.array(offsets), values.take(pa.array(rows)))
        return pc.binary_join(lists, pa.scalar("", pa.large_string()))

    def match(self, terms: list[_Term], window: int, unspaced: bool, context: bool = True) -> dict[str, np.ndarray | list]:
        """The counted matches of ``terms``: column (``MATCH_COLUMNS``; without ``end_idx``, ``left``,
        ``match``, ``right`` unless ``context``) -> values (a numpy array; the text columns an Arrow
        string array), theme by theme, each theme's by start."""
        tokens, words, mention_end = self.tokens, self.words, self.mention_end
        by_theme = _candidate_arrays(terms, self.codes, self.seg, unspaced, self.vocab)
        if not by_theme:
            return {}
        if any(t.rule is not None for t in terms):  # sentence ids only for the context rules
            by_theme = _context_rules(by_theme, terms, self.codes, self.vocab, self.seg, self.sentences(), unspaced)
        by_theme = _entity_rule(by_theme, terms, tokens, words, mention_end)
        if not by_theme:
            return {}
        term_text = np.array([t.text for t in terms], dtype=object)
        themes, tis, r0s, r1s = [], [], [], []
        for theme, (p, q, ti) in by_theme.items():
            kept = _resolve_arrays(p, q, ti, terms)
            a0, a1 = words[p[kept]], np.maximum(words[q[kept]], mention_end[words[p[kept]]])
            once = ~_restated(a0, a1, self.opens, self.closes, self.para_start)
            themes.append(np.full(int(once.sum()), theme, dtype=object))
            tis.append(ti[kept][once])
            r0s.append(a0[once])
            r1s.append(a1[once])
        r0, r1 = np.concatenate(r0s).astype(np.int64), np.concatenate(r1s).astype(np.int64)

        def decode(c):
            return np.append(np.asarray(tokens.values(c), dtype=object), np.nan)[tokens[c][r0]]
        cols = {c: decode(c) for c in ["doc_id", "lang"]}
        cols["role"] = decode("role") if "role" in tokens else np.full(len(r0), "body", dtype=object)
        cols.update({c: tokens[c][r0].astype(np.int64) for c in ["year", "para", "sent"]})
        out = {
            **{c: cols[c] for c in ["doc_id", "year", "lang", "para", "sent", "role"]},
            "start_idx": tokens["idx"][r0].astype(np.int64),
            "theme": np.concatenate(themes),
            "term": term_text[np.concatenate(tis)],
        }
        if not context:
            return out
        tlen = self._text()[1]
        lo = np.maximum(self.para_start[r0], r0 - window)
        hi = np.minimum(self.para_end[r0], r1 + 1 + window)
        out.update({"end_idx": tokens["idx"][r1].astype(np.int64) + tlen[r1], "left": self.join(lo, r0),
                    "match": self.join(r0, r1 + 1), "right": self.join(r1 + 1, hi)})
        return out


def match_themes(
    tokens: pd.DataFrame, codebook: list[Theme], window: int = _D["themes"]["kwic_window"], unspaced_languages=UNSPACED,
    context: bool = True,
) -> pd.DataFrame:
    """All counted matches of the codebook's terms in the token table (columns ``MATCH_COLUMNS``).

    ``window`` is the number of tokens of KWIC context on each side; languages in
    ``unspaced_languages`` are matched on concatenated characters (see the module docstring).

    Parameters
    ----------
    tokens : DataFrame or TokenCodes
        A token table (:mod:`textdrift.segment`: doc_id, year, lang, para, sent, idx, text, norm,
        is_punct, role, and ``entity`` when entities are marked), or the same as integer codes
        (:func:`textdrift.counting.read_tokens`; a DataFrame is coded first).
    codebook : list of Theme
    window : int
        Tokens of KWIC context on each side.
    unspaced_languages : sequence of str
        Languages matched on concatenated characters.
    context : bool
        False: without the columns of the match's text and context (``end_idx``, ``left``,
        ``match``, ``right``), which are then not computed; the other columns are the same.

    Returns
    -------
    DataFrame
        ``MATCH_COLUMNS``, ordered by year, lang, theme (codebook order), doc_id, para, start_idx.
    """
    return match_codebooks(tokens, [codebook], window, unspaced_languages, context)[0]


def match_codebooks(tokens: pd.DataFrame, codebooks: list[list[Theme]], window: int = _D["themes"]["kwic_window"],
                    unspaced_languages=UNSPACED, context: bool = True) -> list[pd.DataFrame]:
    """:func:`match_themes` of each codebook on the same tokens (e.g. the codebook and the entity
    list, :func:`textdrift.codebook.entity_codebook`), each language's tokens ordered and prepared once.

    Parameters
    ----------
    tokens : DataFrame or TokenCodes
    codebooks : list of list of Theme
    window : int
    unspaced_languages : sequence of str
    context : bool

    Returns
    -------
    list of DataFrame
        One per codebook, each what :func:`match_themes` gives.
    """
    names = MATCH_COLUMNS if context else [c for c in MATCH_COLUMNS if c not in _CONTEXT_COLUMNS]
    cols: list[dict[str, list]] = [{c: [] for c in names} for _ in codebooks]
    if not isinstance(tokens, TokenCodes):
        tokens = TokenCodes.from_frame(tokens[[c for c in TOKEN_COLUMNS if c in tokens.columns]])
    lang_codes = tokens["lang"]
    for code in np.unique(lang_codes[lang_codes >= 0]):  # the groups of groupby("lang", sort=True)
        lang = tokens.values("lang")[code]
        unspaced = lang in unspaced_languages
        terms = [_compile(codebook, lang, unspaced) for codebook in codebooks]
        if not any(terms):
            continue
        rows = np.flatnonzero(lang_codes == code)
        order = _token_order(TokenCodes({c: tokens[c][rows] for c in ["doc_id", "para", "idx"]}, {}))
        # in matching order, only the columns it reads (not lemma, is_stop, keep): one copy
        part = _Language(tokens.take(rows if order is None else rows[order], [c for c in _LANG_COLUMNS if c in tokens]))
        for k, book_terms in enumerate(terms):
            for c, values in (part.match(book_terms, window, unspaced, context) if book_terms else {}).items():
                cols[k][c].append(values)
        del part
    out = []
    for codebook, book_cols in zip(codebooks, cols):
        if not any(len(v) for v in book_cols["theme"]):
            out.append(_order_matches(pd.DataFrame([], columns=names), codebook))
        else:
            out.append(_order_matches(pd.DataFrame({c: _column(v) for c, v in book_cols.items()}), codebook))
    return out


#: pandas' dtype of a column of Python strings (``str``, Arrow-backed): the KWIC columns' dtype
_STR = pd.Series(["x"], dtype=object).infer_objects().dtype


def _column(parts: list):
    """One column of the matches from its parts (one per language): numpy arrays concatenated; Arrow
    string arrays (the KWIC text, never missing) as the ``str`` column pandas makes of the same strings."""
    import pyarrow as pa

    if isinstance(parts[0], pa.Array):
        return pd.array(pa.concat_arrays(parts), dtype=_STR)
    return np.concatenate(parts)


def _order_matches(matches: pd.DataFrame, codebook: list[Theme]) -> pd.DataFrame:
    """:func:`order_matches` in the codebook's theme order."""
    return order_matches(matches, [t.id for t in codebook])


def order_matches(matches: pd.DataFrame, theme_ids) -> pd.DataFrame:
    """Matches in table order (:data:`MATCH_ORDER`): year, lang, theme (in the order of
    ``theme_ids``, the codebook's), doc_id, para, start_idx; its integer columns as int64.

    Within one theme matches never overlap, so the key is unique: the order does not depend on
    the order the matches were found in (e.g. shard by shard, or some paragraphs matched again).

    Parameters
    ----------
    matches : DataFrame
        :data:`MATCH_COLUMNS`, or at least :data:`MATCH_ORDER`.
    theme_ids : sequence of str

    Returns
    -------
    DataFrame
    """
    rank = {t: i for i, t in enumerate(theme_ids)}
    keys = []  # each key column as sorted integer codes (missing last, as sort_values puts NaN)
    for c in MATCH_ORDER:
        if c == "theme":  # the theme's rank (a theme not in theme_ids, or missing, last): on its distinct values
            codes, uniques = pd.factorize(matches["theme"])
            ranks = np.array([rank.get(u, len(rank)) for u in uniques.tolist()] + [len(rank)], dtype=np.int64)
            keys.append(ranks[codes])  # (code -1, a missing theme, indexes the last)
            continue
        codes, uniques = pd.factorize(matches[c], sort=True)
        keys.append(np.where(codes < 0, len(uniques), codes))
    out = matches.take(np.lexsort(keys[::-1])) if len(matches) else matches  # stable, as sort_values(kind="stable")
    ints = ["year", "para", "sent", "start_idx", "end_idx"]
    return out.reset_index(drop=True).astype({c: "int64" for c in ints if c in out.columns})
