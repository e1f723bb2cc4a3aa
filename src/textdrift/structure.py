"""Document structure (step 8 of :mod:`textdrift.clean`): the role of every paragraph of a clean text (``title``, ``heading``,
``body`` or ``paratext``), decided by configurable detectors.

The analyses count ``body`` paragraphs by default (``count_roles`` in the config), so that a
document's title, its section headings and the lines a republisher or editor added ("full
text follows", "Here are the highlights ...", bylines, datelines, list labels) are kept in the
clean text and the token table but do not count as what the author wrote. Every decision
other than ``body``, and every heading or lead sentence kept as ``body`` because it is a
statement (``statement_heading``, ``statement_lead``), is written to the cleaning log (step ``structure``) with the detector that
made it and the paragraph's text, so it can be checked and overridden.

Detectors, in order of precedence (the first that fires decides; ``cfg`` = the ``structure``
block of the cleaning config; defaults: ``clean.structure`` in ``workflow/schemas/config.schema.yaml``):

1. ``paratext``: a named regular expression of ``paratext`` is *found* in the paragraph
   (``re.search``; when a colon follows the match and at least ``lead_in_min_chars`` characters
   follow the colon, only the lead-in up to the colon is paratext and the rest is split off as
   ``body``, logged as ``split_paratext``), or the paragraph is a list label alone ("IV.", "(3)", "一、"), or it is one
   parenthetical remark as a whole ("(Signed by China, Laos ...)", ``parenthetical: true``).
2. ``title``: the paragraph is the document's title, given in the manifest (``title``, and
   ``title_<lang>`` such as ``title_zh`` for a title in another language), compared
   fuzzily: both lower-cased and reduced to letters, digits and Han characters, then
   ``difflib.SequenceMatcher`` ratio >= ``title_similarity``, or the title contained in a
   paragraph at most ``title_max_extra`` times its length. Failing that, the *first*
   paragraph of a text is the title when it looks like a heading (below) and
   ``first_line_title`` is true (a Chinese version's title, absent from an English manifest).
3. ``heading``: a paragraph that does not end like a sentence (no final ``. ! ? ; : 。！？；：…``
   before closing quotes/brackets) and is short: at most ``heading_max_words`` words
   (spaced languages) or ``heading_max_chars`` characters (unspaced languages), whether or
   not it starts with a list ``marker`` ("1.", "(1)", "IV.", "(一)", "一、").
   With ``clause_headings: true`` (default false), a heading of two or more clauses (split at
   ``, ; ，；``, each of at least ``statement_min_words`` words or ``statement_min_chars``
   characters) states priorities ("四、加快构建新发展格局,着力推动高质量发展") and is ``body``,
   logged as ``statement_heading``. It is off by default because translations do not keep the
   clauses: "(一)加强普惠合作,助力数字经济可持续发展" is "1. Strengthening Inclusive Cooperation for
   Sustainable Development of Digital Economy", one clause, so the two versions of a bilingual
   document would count differently.
4. ``glued heading`` (split, logged as ``split_heading``): a paragraph that starts with a list
   marker and carries its heading in front of its first sentence is split in two, the heading
   becoming its own ``heading`` paragraph:

   * ``capital_break`` (tried first; below);
   * ``lead_sentence``: the marker's first sentence is short (at most ``lead_max_words`` words
     or ``lead_max_chars`` characters) and holds none of ``lead_exclude_words`` (finite verbs
     and pronouns of a statement: "is", "we", ...), and text follows: "1. Expanding
     broadband access, raising broadband quality. Build ..." -> "1. Expanding broadband
     access, raising broadband quality." + "Build ...";
   * a lead sentence that is a *statement* (``statement_headings: body``, the default) is not split
     off: it ends with a full stop (``. ! ? 。！？``, not ``;`` or ``:``) and has at least
     ``statement_min_words`` words or ``statement_min_chars`` characters, so it states a
     priority of the text ("1.扩大宽带接入,提高宽带质量。", "3. Stimulate e-commerce
     cooperation.") rather than labelling a section: the paragraph stays whole and is ``body``,
     logged as ``statement_lead`` with the lead and its length. Short label headings ("II.
     Digital economy", "一、总体要求") have no full stop or are shorter, and stay headings;
     ``statement_headings: heading`` splits every lead sentence off as a heading (the earlier rule);
   * ``capital_break`` (spaced languages, headings that lost their line break): within the
     first ``heading_max_words`` words and before any punctuation, the first word that starts
     with a capital where the word before it is lower-case and not one of ``function_words``,
     or where the capitalised word is a function word itself ("... digital economy China actively ...",
     "(3) World Internet Conference Every year ..."). "the World" (a stop word before a
     name) never breaks.

A paragraph none of them claims is ``body``. Detectors see the paragraph as cleaned (after
NFKC, so full-width brackets are ASCII). All patterns are Python regular expressions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from difflib import SequenceMatcher

from textdrift.config import defaults

__all__ = ["CODE_ROLES", "ROLES", "ROLE_CODES", "assign_roles", "decode_roles", "encode_roles"]

ROLES = ("title", "heading", "body", "paratext")
#: one letter per role: the clean index stores a text's roles as a string of these, one per line
ROLE_CODES = {"title": "t", "heading": "h", "body": "b", "paratext": "p"}
CODE_ROLES = {v: k for k, v in ROLE_CODES.items()}

_SENTENCE_END = re.compile(r"[.!?;:。！？；：…][\"'”’)\]）】》」』]*$")
_FULL_STOP = re.compile(r"[.!?。！？][\"'”’)\]）】》」』]*$")
_FIRST_SENTENCE = re.compile(r"^(.+?[.!?。！？;；])(?=\s|[\u4e00-\u9fff]|$)")
_WORD_CHARS = re.compile(r"[^\w]|_", re.UNICODE)
_PAREN = re.compile(r"^\((?![\d一二三四五六七八九十]{1,3}\)).*\)$")
_LEAD_WORD = re.compile(r"^[\"'“‘(]*(.*?)[\"'”’),]*$")


def _key(text: str) -> str:
    """Lower-cased letters, digits and Han characters only (for fuzzy title comparison)."""
    return _WORD_CHARS.sub("", text.lower())


def _is_title(para: str, titles: list[str], cfg: dict) -> bool:
    p = _key(para)
    for title in titles:
        t = _key(title)
        if not t or not p:
            continue
        # ratio() <= quick_ratio() <= real_quick_ratio() (difflib): the cheap upper bounds decide
        # first, so a long paragraph is not aligned character by character against a short title
        sm = SequenceMatcher(None, p, t, autojunk=False)
        threshold = cfg["title_similarity"]
        if sm.real_quick_ratio() >= threshold and sm.quick_ratio() >= threshold and sm.ratio() >= threshold:
            return True
        if t in p and len(p) <= cfg["title_max_extra"] * len(t):
            return True
    return False


def _length(text: str, unspaced: bool) -> int:
    return len(re.sub(r"\s", "", text)) if unspaced else len(text.split())


def _heading_like(para: str, unspaced: bool, cfg: dict) -> bool:
    limit = cfg["heading_max_chars"] if unspaced else cfg["heading_max_words"]
    return not _SENTENCE_END.search(para) and 0 < _length(para, unspaced) <= limit


def _lead_split(body: str, unspaced: bool, cfg: dict) -> int | None:
    """End of a short heading sentence at the start of ``body`` (after the marker), or None."""
    m = _FIRST_SENTENCE.match(body)
    if not m or not body[m.end():].strip():
        return None
    lead = m.group(1)
    limit = cfg["lead_max_chars"] if unspaced else cfg["lead_max_words"]
    if _length(lead, unspaced) > limit:
        return None
    exclude = {w.lower() for w in cfg["lead_exclude_words"]}
    if not unspaced and any(_LEAD_WORD.match(w).group(1).lower() in exclude for w in lead.split()):
        return None
    return m.end()


def _statement(lead: str, unspaced: bool, cfg: dict) -> bool:
    """Whether a list item's lead sentence (after its marker) is a statement: it ends with a full
    stop (. ! ? 。！？, not ; or :) and has at least ``statement_min_words`` words or
    ``statement_min_chars`` characters."""
    limit = cfg["statement_min_chars"] if unspaced else cfg["statement_min_words"]
    return bool(_FULL_STOP.search(lead.strip())) and _length(lead, unspaced) >= limit


def _clauses_statement(para: str, marker: re.Pattern, unspaced: bool, cfg: dict) -> bool:
    """Whether a heading-like line (no final punctuation) is a statement of two or more clauses:
    after its list marker, split at ``, ; ，；`` (not the enumeration comma 、), at least two parts,
    each of at least ``statement_min_words`` words or ``statement_min_chars`` characters
    ("四、加快构建新发展格局,着力推动高质量发展"; not "Science, Technology and Innovation")."""
    m = marker.match(para)
    parts = [p for p in re.split(r"[,;，；]", para[m.end():] if m else para)]
    limit = cfg["statement_min_chars"] if unspaced else cfg["statement_min_words"]
    return len(parts) >= 2 and all(_length(p, unspaced) >= limit for p in parts)


def _capital_split(body: str, stop_words: frozenset[str], cfg: dict) -> int | None:
    """Offset in ``body`` where a heading without punctuation runs into its first sentence."""
    words = [(m.start(), m.group()) for m in re.finditer(r"\S+", body)]
    for i in range(1, min(len(words), cfg["heading_max_words"] + 1)):
        prev, word = words[i - 1][1], words[i][1]
        if not prev[-1].isalnum():  # punctuation before: the heading would end there; give up
            return None
        if not word[0].isupper():
            continue
        if word.lower() in stop_words or (prev[0].islower() and prev.lower() not in stop_words):
            return words[i][0] if i < len(words) - 1 else None
    return None


def assign_roles(paras: list[str], lang: str, titles: list[str], cfg: dict,
                 log: Callable[[str, str, str, int, int], None], unspaced: bool = False) -> tuple[list[str], list[str]]:
    """(paragraphs, roles) of one text: glued headings split off, every paragraph given a role.

    Parameters
    ----------
    paras : list of str
        The text's clean paragraphs.
    lang : str
        Its language.
    titles : list of str
        The document's titles from the manifest (any language).
    cfg : dict
        The ``clean.structure`` block; missing keys take the schema's defaults.
    log : callable
        ``log(step, action, detail, chars_before, chars_after)`` receives every decision other
        than ``body``.
    unspaced : bool
        The language is written without spaces (lengths in characters, no ``capital_break``).

    Returns
    -------
    paragraphs : list of str
        The paragraphs, glued headings split off.
    roles : list of str
        The role of each (:data:`ROLES`).
    """
    cfg = {**defaults()["clean"]["structure"], **(cfg or {})}
    stop_words = frozenset(w.lower() for w in cfg["function_words"])
    marker = re.compile(cfg["marker"])
    paratext = [(p["name"], re.compile(p["pattern"])) for p in cfg["paratext"]]
    titles = [t for t in titles if t and str(t).strip()]
    out_paras, roles = [], []

    def add(text: str, role: str, detector: str) -> None:
        if role != "body":
            log("structure", role, f"paragraph {len(out_paras)}: {detector}: {text}", len(text), len(text))
        out_paras.append(text)
        roles.append(role)

    for i, para in enumerate(paras):
        m = marker.match(para)
        rest = para[m.end():] if m else para
        hit = next(((name, found) for name, rx in paratext if (found := rx.search(para))), None)
        colon = para.find(":", hit[1].end()) if hit else -1
        if hit and colon >= 0 and len(para[colon + 1:].strip()) >= cfg["lead_in_min_chars"]:
            # a lead-in ("Here are the highlights of ...:") followed by the document's own text
            lead, body = para[: colon + 1].strip(), para[colon + 1:].strip()
            log("structure", "split_paratext", f"paragraph {len(out_paras)}: {hit[0]}: {lead!r} | {body[:60]!r}...",
                len(para), len(lead) + len(body))
            add(lead, "paratext", hit[0])
            add(body, "body", "")
        elif hit:
            add(para, "paratext", hit[0])
        elif m and not rest.strip():
            add(para, "paratext", "list_label")
        elif cfg["parenthetical"] and _PAREN.match(para):
            add(para, "paratext", "parenthetical")
        elif _is_title(para, titles, cfg):
            add(para, "title", "manifest_title")
        elif i == 0 and cfg["first_line_title"] and _heading_like(para, unspaced, cfg):
            add(para, "title", "first_line")
        elif _heading_like(para, unspaced, cfg):
            if cfg["clause_headings"] and _clauses_statement(para, marker, unspaced, cfg):
                # a heading of two or more clauses states priorities ("四、加快构建新发展格局,着力推动高质量
                # 发展"): the text's own content, counted as body
                log("structure", "statement_heading", f"paragraph {len(out_paras)}: "
                    f"{'numbered_heading' if m else 'short_line'} kept as body (clauses of at least "
                    f"{cfg['statement_min_chars'] if unspaced else cfg['statement_min_words']} "
                    f"{'characters' if unspaced else 'words'}): {para}", len(para), len(para))
                add(para, "body", "")
                continue
            add(para, "heading", "numbered_heading" if m else "short_line")
        elif m:
            cut, detector = None, "capital_break"
            if cfg["capital_break"] and not unspaced:
                cut = _capital_split(rest, stop_words, cfg)
            if cut is None:
                cut, detector = _lead_split(rest, unspaced, cfg), "lead_sentence"
            if cut is None:
                add(para, "body", "")
                continue
            if detector == "lead_sentence" and cfg["statement_headings"] == "body" and _statement(rest[:cut], unspaced, cfg):
                # a numbered lead sentence that states something ("1.扩大宽带接入,提高宽带质量。") is the
                # text's own content: the paragraph stays whole, counted as body
                log("structure", "statement_lead", f"paragraph {len(out_paras)}: lead_sentence kept in its paragraph "
                    f"as body (a full sentence, {_length(rest[:cut], unspaced)} {'characters' if unspaced else 'words'}): "
                    f"{para[: m.end() + cut].strip()!r}", len(para), len(para))
                add(para, "body", "")
                continue
            heading, body = para[: m.end() + cut].strip(), rest[cut:].strip()
            log("structure", "split_heading", f"paragraph {len(out_paras)}: {detector}: {heading!r} | {body[:60]!r}...",
                len(para), len(heading) + len(body))
            add(heading, "heading", detector)
            add(body, "body", "")
        else:
            add(para, "body", "")
    return out_paras, roles


def encode_roles(roles: list[str]) -> str:
    """Roles as one letter per paragraph, as stored in the clean index.

    Parameters
    ----------
    roles : list of str
        One of :data:`ROLES` per paragraph.

    Returns
    -------
    str
        One letter of :data:`ROLE_CODES` per paragraph.
    """
    return "".join(ROLE_CODES[r] for r in roles)


def decode_roles(codes: str, n: int) -> list[str]:
    """The roles of a text from the clean index's ``roles`` string.

    Parameters
    ----------
    codes : str or None
        :func:`encode_roles` of the text (empty, None or NaN: every paragraph ``body``).
    n : int
        Number of paragraphs of the text.

    Returns
    -------
    list of str
        ``n`` roles.
    """
    codes = "" if codes is None or codes != codes else str(codes)  # NaN from an old index
    if not codes:
        return ["body"] * n
    if len(codes) != n:
        raise ValueError(f"roles {codes!r} do not match the text's {n} paragraphs; rerun the clean rule")
    return [CODE_ROLES[c] for c in codes]
