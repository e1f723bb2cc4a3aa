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

Across documents (the last section; ``clean.repeated_paragraphs``): a paragraph repeated
verbatim or nearly so (same letters once white space, punctuation, symbols, digits and case are
set aside: :func:`paragraph_letters`) in at least ``min_documents`` documents of its language and
in more than ``min_share`` of them is boilerplate (a licence footer, a publisher's notice) and
becomes ``paratext``, logged per document (step ``repeated_paragraphs``). Runs of such paragraphs
are judged together (a footer cut into short lines is paratext as a whole), and a run of short
paragraphs only (``min_chars`` letters; "同志们!") keeps its roles, logged as ``kept``. Titles
never change. The detectors above see one document; this step needs the corpus, so the rule
``repeated_paragraphs`` (a checkpoint) runs it on the keys the ``clean`` jobs write
(:func:`paragraph_keys`), and ``segment`` (each job the rows of its shard, so that a document
added to one shard reruns no other shard's segmentation unless their roles change) and
``cleaning_log`` apply the result (:func:`with_repeated_roles`).

Why one module of about 600 lines: both parts decide the same thing, a paragraph's role, and
share the role codes of the clean index; a third of it is docstrings.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from difflib import SequenceMatcher

from textdrift import rxcheck as _rxcheck
from textdrift.config import defaults

__all__ = ["CODE_ROLES", "KEY_COLUMNS", "MARK_COLUMNS", "REPEATED_COLUMNS", "ROLES", "ROLE_CODES",
           "apply_repeated_roles", "assign_roles", "decode_roles", "encode_roles", "find_repeated",
           "paragraph_keys", "paragraph_letters", "read_marks", "repeated_roles", "with_repeated_roles"]

ROLES = ("title", "heading", "body", "paratext")
#: one letter per role: the clean index stores a text's roles as a string of these, one per line
ROLE_CODES = {"title": "t", "heading": "h", "body": "b", "paratext": "p"}
CODE_ROLES = {v: k for k, v in ROLE_CODES.items()}

_SENTENCE_END = re.compile(r"[.!?;:。！？；：…][\"'”’)\]）】》」』]*$")
_FULL_STOP = re.compile(r"[.!?。！？][\"'”’)\]）】》」』]*$")
_FIRST_SENTENCE = re.compile(r"^(.+?[.!?。！？;；])(?=\s|[\u4e00-\u9fff]|$)")
_WORD_CHARS = re.compile(r"[\W_]+", re.UNICODE)  # what is not a letter, digit or Han character
_ASCII_NONWORD = bytes(b for b in range(128) if not chr(b).isalnum())
_PAREN = re.compile(r"^\((?![\d一二三四五六七八九十]{1,3}\)).*\)$")
_LEAD_WORD = re.compile(r"^[\"'“‘(]*(.*?)[\"'”’),]*$")
_NOT_LETTERS = re.compile(r"[\W\d_]+")  # runs of characters that are never letters (str.isalpha)
_ASCII_NONLETTERS = bytes(b for b in range(128) if not chr(b).isalpha())


@functools.lru_cache(maxsize=1)
def _structure_defaults() -> dict:
    """The schema's defaults of ``clean.structure`` (read once; never changed)."""
    return defaults()["clean"]["structure"]


def _key(text: str) -> str:
    """Lower-cased letters, digits and Han characters only (for fuzzy title comparison)."""
    text = text.lower()
    if text.isascii():  # what \w matches in ASCII, less _: a-z and 0-9 once lower-cased; one pass
        return text.encode("ascii").translate(None, _ASCII_NONWORD).decode("ascii")
    return _WORD_CHARS.sub("", text)


def _is_title(para: str, titles: list[str], cfg: dict) -> bool:
    """Whether ``para`` is one of ``titles``, given as their :func:`_key`."""
    if not titles:
        return False
    p = _key(para)
    for t in titles:
        if not t or not p:
            continue
        # ratio() <= quick_ratio() <= real_quick_ratio() (difflib): the cheap upper bounds decide
        # first, so a long paragraph is not aligned character by character against a short title;
        # real_quick_ratio (difflib's formula) needs only the lengths, not the matcher
        threshold = cfg["title_similarity"]
        if 2.0 * min(len(p), len(t)) / (len(p) + len(t)) >= threshold:
            sm = SequenceMatcher(None, p, t, autojunk=False)
            if sm.quick_ratio() >= threshold and sm.ratio() >= threshold:
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
    cfg = {**_structure_defaults(), **(cfg or {})}
    stop_words = frozenset(w.lower() for w in cfg["function_words"])
    marker = re.compile(cfg["marker"])
    paratext = [(p["name"], re.compile(p["pattern"])) for p in cfg["paratext"]]
    titles = [_key(t) for t in titles if t and str(t).strip()]
    out_paras, roles = [], []

    def add(text: str, role: str, detector: str) -> None:
        if role != "body":
            log("structure", role, f"paragraph {len(out_paras)}: {detector}: {text}", len(text), len(text))
        out_paras.append(text)
        roles.append(role)

    # each paratext pattern is tried only on the paragraphs that contain a literal every match
    # contains (textdrift.rxcheck: one scan of the text; the same paragraphs match)
    view = _rxcheck.Text(paras)
    maybe = [_rxcheck.candidates(_rxcheck.prefilter(p["pattern"]), view) for p in cfg["paratext"]]
    for i, para in enumerate(paras):
        m = marker.match(para)
        rest = para[m.end():] if m else para
        hit = next(((name, found) for (name, rx), can in zip(paratext, maybe)
                    if i in can and (found := rx.search(para))), None)
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


# --- boilerplate across documents: repeated paragraphs ------------------------------------------
#
# The cleaner sees one document at a time; a paragraph repeated in most documents of a corpus (a
# licence footer, a publisher's notice) only shows across documents. The rule ``clean`` writes
# the key of every paragraph of its shard (:func:`paragraph_keys`), the corpus-wide rule
# ``repeated_paragraphs`` finds the repeated ones (:func:`find_repeated`) and decides, document by
# document, which become paratext (:func:`repeated_roles`); ``segment`` (the rows of its shard,
# :func:`textdrift.cleanio.shard_roles`) and ``cleaning_log`` apply those roles
# (:func:`with_repeated_roles`). Settings: ``clean.repeated_paragraphs``.

#: Columns of the paragraph keys the rule ``clean`` writes per shard (:func:`paragraph_keys`).
KEY_COLUMNS = ["doc_id", "lang", "para", "role", "chars", "letters", "key"]
#: Columns of ``data/processed/clean/repeated_paragraphs.csv`` (:func:`find_repeated`).
REPEATED_COLUMNS = ["lang", "key", "documents", "of_documents", "share", "letters", "paratext", "text", "doc_ids"]
#: Columns of the per-paragraph decisions (:func:`repeated_roles`).
MARK_COLUMNS = ["doc_id", "lang", "para", "role", "action", "chars", "key", "reason"]


def paragraph_letters(text: str) -> str:
    """The letters of a paragraph, as repeated paragraphs are compared: Unicode NFKC, case folded,
    every character that is not a letter (Unicode category L*: Latin, Han, ...; ``str.isalpha``,
    which is exactly that category) dropped, so white space, punctuation, symbols and digits
    (``2023``, ``①``) do not tell two copies apart; Chinese numerals (一, 二) are letters and stay.

    Parameters
    ----------
    text : str

    Returns
    -------
    str
    """
    import unicodedata

    text = unicodedata.normalize("NFKC", text).casefold()
    if text.isascii():  # the ASCII letters are a-z once case folded: one pass over the bytes
        return text.encode("ascii").translate(None, _ASCII_NONLETTERS).decode("ascii")
    # the characters \w matches, not \d or _, are the letters and the numerals that are not
    # decimal digits (①, Ⅳ: categories No, Nl); those are dropped one by one, when there are any
    letters = _NOT_LETTERS.sub("", text)
    return letters if not letters or letters.isalpha() else "".join(filter(str.isalpha, letters))


def paragraph_keys(texts: dict, roles: dict):
    """The key of every paragraph of some clean texts: its :func:`paragraph_letters` hashed
    (SHA-1, first 16 hex digits; ``""`` for a paragraph without letters), with its role, length
    and number of letters.

    Parameters
    ----------
    texts : dict
        ``(doc_id, lang) -> paragraphs`` (:func:`textdrift.io.read_texts`).
    roles : dict
        ``(doc_id, lang) -> roles`` of the same paragraphs (missing: every paragraph ``body``).

    Returns
    -------
    DataFrame
        :data:`KEY_COLUMNS`, in text order.
    """
    import hashlib

    import pandas as pd

    rows = []
    for (doc_id, lang), paras in texts.items():
        rs = roles.get((doc_id, lang)) or ["body"] * len(paras)
        for i, (p, r) in enumerate(zip(paras, rs)):
            letters = paragraph_letters(p)
            key = hashlib.sha1(letters.encode("utf-8")).hexdigest()[:16] if letters else ""
            rows.append((doc_id, lang, i, r, len(p), len(letters), key))
    return pd.DataFrame(rows, columns=KEY_COLUMNS)


def find_repeated(keys, settings: dict):
    """The paragraphs repeated across documents: a key found in at least ``min_documents``
    documents of its language and in more than ``min_share`` of the documents with text in that
    language (a document counts once however often it repeats the paragraph; titles are left
    out). Nothing when ``enabled`` is false.

    Parameters
    ----------
    keys : DataFrame
        :func:`paragraph_keys` of the whole corpus.
    settings : dict
        ``clean.repeated_paragraphs`` (``enabled``, ``min_documents``, ``min_share``).

    Returns
    -------
    DataFrame
        :data:`REPEATED_COLUMNS` without ``paratext`` and ``text`` (:func:`repeated_roles`
        and the caller fill them in), by language and then by number of documents (most first).
    """
    import pandas as pd

    cols = [c for c in REPEATED_COLUMNS if c not in ("paratext", "text")]
    if not settings.get("enabled", True) or not len(keys):
        return pd.DataFrame(columns=cols)
    of = keys.groupby("lang")["doc_id"].nunique()
    k = keys[(keys["key"] != "") & (keys["role"] != "title")].drop_duplicates(["lang", "key", "doc_id"])
    out = k.groupby(["lang", "key"], sort=True).agg(documents=("doc_id", "size"), letters=("letters", "max"))
    out = out.reset_index()
    out["of_documents"] = out["lang"].map(of).astype(int)
    out["share"] = (out["documents"] / out["of_documents"]).round(4)
    hit = (out["documents"] >= settings["min_documents"]) & (out["documents"] > settings["min_share"] * out["of_documents"])
    out = out[hit]
    # the documents' list only for the keys found repeated (a Python join per key: nearly every key
    # of a corpus is in one document, and joining them all was most of the job's time)
    pair = pd.MultiIndex.from_frame(k[["lang", "key"]])
    chosen = k[pair.isin(pd.MultiIndex.from_frame(out[["lang", "key"]]))]
    doc_ids = chosen.groupby(["lang", "key"], sort=True)["doc_id"].agg(lambda s: ";".join(sorted(s)))
    out = out.join(doc_ids.rename("doc_ids"), on=["lang", "key"])
    out = out.sort_values(["lang", "documents", "key"], ascending=[True, False, True], kind="stable")
    return out[cols].reset_index(drop=True)


def repeated_roles(keys, repeated, settings: dict):
    """Document by document, which paragraphs become paratext: the paragraphs whose key is
    repeated (:func:`find_repeated`) form runs of consecutive paragraphs (a paragraph without
    letters between two of them, or after the last one at the end of the document, joins the run;
    titles break it); a run with at least one
    paragraph of ``min_chars`` letters or more is paratext as a whole (a footer cut into short
    lines); a run of short paragraphs only (a formula of address, "同志们!") keeps its roles,
    logged as ``kept``.

    Parameters
    ----------
    keys : DataFrame
        :func:`paragraph_keys` (of the corpus or of some of its documents).
    repeated : DataFrame
        :func:`find_repeated`.
    settings : dict
        ``clean.repeated_paragraphs`` (``min_chars``).

    Returns
    -------
    DataFrame
        :data:`MARK_COLUMNS`: one row per repeated paragraph of each document and per letterless
        line inside a paratext run; ``action`` ``paratext`` or ``kept``, ``role`` the role before.
    """
    import pandas as pd

    rows = []
    if not len(repeated) or not len(keys):
        return pd.DataFrame(rows, columns=MARK_COLUMNS)
    wanted = set(zip(repeated["lang"], repeated["key"]))
    member = [(lang, k) in wanted for lang, k in zip(keys["lang"], keys["key"])]
    keys = keys.assign(member_=member)
    for (doc_id, lang), d in keys.groupby(["doc_id", "lang"], sort=False):
        if not d["member_"].any():
            continue
        d = d.sort_values("para", kind="stable")
        run: list = []

        def close(run=run, end=False):
            # letterless lines after the run belong to it only when they close the document
            while run and not end and not run[-1].member_:
                run.pop()
            if run:
                long = any(r.member_ and r.letters >= settings["min_chars"] for r in run)
                for r in run:
                    if r.member_ or long:
                        why = ("repeated" if r.member_ else "no letters, inside a repeated run") + (
                            "" if long else f"; its run has no paragraph of {settings['min_chars']} letters")
                        rows.append((doc_id, lang, int(r.para), r.role, "paratext" if long else "kept",
                                     int(r.chars), r.key, why))
            run.clear()

        for r in d.itertuples(index=False):
            if r.role != "title" and (r.member_ or (r.key == "" and run)):
                run.append(r)
            else:
                close()
        close(end=True)
    return pd.DataFrame(rows, columns=MARK_COLUMNS)


def read_marks(path):
    """``repeated_roles.csv`` or a shard's part of it, as written by
    :func:`textdrift.cleanio.run_repeated_paragraphs` (:data:`MARK_COLUMNS`).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    DataFrame
    """
    import pandas as pd

    from textdrift.io import concat_csv

    marks = concat_csv([path])
    return marks.astype({"para": int, "chars": int}) if len(marks) else pd.DataFrame(columns=MARK_COLUMNS)


def apply_repeated_roles(index, roles_path):
    """A shard's clean index with the paragraphs the corpus-wide step made paratext
    (:func:`textdrift.cleanio.run_repeated_paragraphs`) marked so (rule ``segment``).

    Parameters
    ----------
    index : DataFrame
        The shard's clean index.
    roles_path : str or Path
        ``data/processed/clean/repeated_roles.csv``, or the rows of the shard
        (``data/processed/clean/_shards/repeated-{shard}.csv``, :func:`textdrift.cleanio.shard_roles`).

    Returns
    -------
    DataFrame
    """
    return with_repeated_roles(index, read_marks(roles_path))


def with_repeated_roles(index, marks):
    """The clean index (``roles``: one letter per paragraph, :func:`encode_roles`) with the
    paragraphs :func:`repeated_roles` makes paratext marked ``p``.

    Parameters
    ----------
    index : DataFrame
        Rows of the clean index (``doc_id, lang, paragraphs, roles``).
    marks : DataFrame
        :func:`repeated_roles` (rows of other documents are ignored).

    Returns
    -------
    DataFrame
        A copy of ``index``; unchanged when no paragraph of its texts is marked.
    """
    index = index.copy()
    if not len(marks) or not len(index):
        return index
    marks = marks[marks["action"] == "paratext"]
    paras = {}
    for doc_id, lang, para in zip(marks["doc_id"], marks["lang"], marks["para"]):
        paras.setdefault((str(doc_id), str(lang)), []).append(int(para))
    roles = index["roles"].astype(object).tolist()
    for i, (doc_id, lang, n) in enumerate(zip(index["doc_id"], index["lang"], index["paragraphs"])):
        hit = paras.get((str(doc_id), str(lang)))
        if hit:
            rs = decode_roles(roles[i], int(n))
            for p in hit:
                rs[p] = "paratext"
            roles[i] = encode_roles(rs)
    index["roles"] = roles
    return index
