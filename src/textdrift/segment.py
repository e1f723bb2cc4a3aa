"""Segmentation: clean text -> one row per token, with paragraph/sentence positions.

The house: the cleaning stage (:mod:`textdrift.cleanio`) writes the clean texts and their index;
this module segments them (rule ``segment`` calls :func:`run_segment`; defaults of the
``segment:`` block in ``workflow/schemas/config.schema.yaml``) into the token table that
:mod:`textdrift.vectorize` and :mod:`textdrift.themes` read; :mod:`textdrift.segment_eval`
scores a segmenter against a hand-segmented test set. Over 500 lines: one concern, the
:class:`Segmenter` (English and Chinese tokenization sharing per-string caches), and this
docstring documents the method and the pitfalls it handles.

Method
------
English: ``spacy.blank("en")`` with a rule-based
sentencizer and the *lookup* lemmatizer (tables from ``spacy-lookups-data``, no network,
no model download). If ``segment.en_model`` names a trained pipeline (e.g.
``en_core_web_sm``) that is installed, it is used instead (its rule lemmatizer and parser
sentences; NER excluded); if it is named but not installed, we stop with the install
command rather than silently falling back. Paragraphs go through ``nlp.pipe`` in batches.
``norm`` is the lower-cased lemma. Lemmas do not depend on case: the lookup table is read with
the lower-cased token ("Countries" and "countries" -> country; a name is a named entity of
``config/entities.yaml``, not a lemma question). All-capital tokens outside an all-capitals
heading are acronyms: never lemmatized, never stop words (the table maps "ai" -> "have", from
"ain't"; "US" and "IT" would be the stop words "us" and "it"); they are only lower-cased
("AI" -> ai). ``en_lemma_overrides`` replaces lemmas the table gets wrong for policy text (data
-> "datum", agenda -> "agendum", developing/developed -> "develope", better/best -> "well",
goods -> "good", ...). A stop word is decided on the lemma ("used" -> use, kept as "use" is).
Tokens matching an ``en_drop`` pattern (ordinals, Roman numerals, list markers, month names)
are not kept. A bracket between two words splits them ("intelligence(AI" -> intelligence ( AI).
Hyphenated words stay one token ("cross-border", "e-commerce"), as in quanteda, so that a
phrase does not break at an intra-word hyphen (``en_split_hyphens: true`` restores spaCy's
split); ``en_special_cases`` (5G, ...) are never split (spaCy reads the G as a unit), and a
sentence-final "5G." loses its period (spaCy keeps digit + capital + "." as one token).
Stop words: spaCy's English list (matched lower-cased, as spaCy does) plus the optional
``config/en_stopwords_extra.txt``.

Chinese: jieba, HMM off, with the domain user dictionary and stop-word list in ``config/``, plus
the Chinese aliases of the named entities (so that a name stays one word). A number followed by
a unit of ``zh_date_units`` (2024 + 年, 11 + 月, 150 + 多) becomes one token, a date or count, not
kept; ``zh_drop`` patterns (dates, 第四届, numerals) and ``zh_drop_chars`` are not kept. A plus sign
glued to the word before it (互联网+, the "X+" action plans; NFKC has made ＋ a +) is part of that word:
one token ``互联网+``, kept, so that the term is counted and found whole (jieba cuts the + off, and a
token without letters is punctuation).

Named entities (:mod:`textdrift.entities`): after a text is tokenized, the entity aliases are
matched (longest first); a mention's first token gets ``norm`` ``@<id>`` and stays kept, every
token of it gets ``entity = <id>``, the others are not kept. ``role`` is the role of the token's
paragraph (:mod:`textdrift.structure`, from the clean index).
Sentences end after 。！？；!?; (the cleaner's NFKC turns the full-width ！？； into ASCII),
including any closing quotes/brackets that follow the terminator. ``norm`` is the word
after OpenCC Traditional->Simplified ("t2s") and NFKC lower-casing (so "AI" -> "ai").

Pitfalls handled
----------------
* jieba cache collisions: jieba's global tokenizer writes ``<tmp>/jieba.cache``, shared by all
  users and jobs. We use a private ``jieba.Tokenizer()`` whose cache lives in
  ``segment.cache_dir`` (default ``<tmp>/textdrift-jieba-<user>``), named after a hash of the
  dictionary's content, so users, jieba versions and parallel jobs never read each other's
  cache (jieba writes it atomically).
* HMM: jieba's HMM invents "new words" from character statistics; it is off by default
  (``hmm: false``) so the same text always gives the same tokens.
* User dictionary BOM/CRLF: jieba 0.42 strips them only when it opens the file itself; read
  through a text-mode file object (or by older jieba) they stay inside the terms, which
  then silently never match. We *refuse* such a file: ``ValueError``
  naming the file and line (fix with e.g. ``sed -i '1s/^\\xEF\\xBB\\xBF//; s/\\r$//'``).
  We do not strip silently, because the dictionary is a versioned input and a fix-up
  would hide that the file differs from what others read. A term with characters jieba
  never joins into a word (spaces, punctuation) is refused for the same reason.
* Entries losing to built-in frequencies: after ``load_userdict`` every term is forced with
  ``suggest_freq(term, tune=True)``, shortest first, so that a long term (网络空间命运共同体)
  is tuned after the shorter terms inside it (网络空间) and still wins; terms of equal length are
  tuned in dictionary-file order, never in set order (which varies with ``PYTHONHASHSEED`` and
  made 数字经济|犯罪 come out as 数字|经济犯罪 in some processes). ``suggest_freq`` only
  gives the least frequency that beats the term's own split, so in context a term can still
  lose to another dictionary word (数据 + 流通领域); give such a term an explicit frequency in
  the dictionary ("数据流通 500"). Losing to a *longer* word (宽带接入) is intended.
* Traditional text: jieba's dictionary is Simplified, so a paragraph is converted t2s first
  and the converted paragraph is segmented; t2s maps character to character, so token
  offsets carry over and ``text`` keeps the original characters. If a conversion ever
  changes the length, that paragraph is segmented unconverted (each token then converted
  for ``norm``). Taiwan vocabulary (软体, 资讯) is not rewritten: t2s converts characters,
  not words.
* Stop words are applied here as flags, never by jieba (``cut`` has no stop words), and
  ``enable_paddle()`` is never called (it pip-installs).

jieba and spaCy are loaded once per :class:`Segmenter` (lazily, per language); a shard job
builds one Segmenter and segments all its documents with it (:func:`run_segment`).

Speed (a shard has millions of tokens, tens of thousands of distinct ones): a token's
attributes (text, norm, lemma, is_stop, is_punct, keep) are computed once per distinct string
and stored once in the Segmenter (``_attrs``); per token, only its position and the number of
its attributes are recorded, and the string and flag columns are made by an Arrow ``take``.
English token attributes are read with ``Doc.to_array`` rather than one ``Token`` object per
token; OpenCC (a pure-Python implementation, slower than jieba itself) only runs on
paragraphs holding a character or phrase that t2s would change (:func:`_t2s_changes`); the
token table is converted to pandas once per shard.

Token table: ``TOKEN_COLUMNS`` / ``TOKEN_SCHEMA`` (in :mod:`textdrift.vectorize`). ``para`` is the 0-based paragraph number in the
clean text, ``sent`` a 0-based sentence number that runs through the whole document (so
``(doc_id, lang, sent)`` names a sentence), ``idx`` the character offset of the token in its
line (``line[idx:idx + len(text)] == text``). Whitespace tokens are dropped. ``is_punct``
means the token has no letter or digit (punctuation and symbols). ``keep`` = not stop, not
punct, not a pure number (unless ``keep_numbers``) and, for English, ``len(norm) >= min_len``;
single Chinese characters are kept unless they are stop words.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from textdrift.config import defaults
from textdrift.io import log_to_file, read_csv, read_texts, write_arrow
from textdrift.counting import TOKEN_COLUMNS, TOKEN_SCHEMA  # the token table's contract

__all__ = ["LANGUAGES", "Segmenter", "empty_tokens",
           "run_segment", "segment_shard", "write_tokens"]


LANGUAGES = ("zh", "en")

_NUMBER = re.compile(r"^[+\-]?\d[\d.,:/%\-]*$")
#: a Chinese token made only of plus signs: joined to the word it is glued to ("互联网+")
_PLUS = re.compile(r"[+\uff0b]+")
# Characters jieba can join into one word (its re_han_default); anything else splits.
_JIEBA_WORD = re.compile(r"^[\u4E00-\u9FD5a-zA-Z0-9+#&._%\-]+$")
# Punctuation that still belongs to the sentence it follows (closing quotes/brackets).
_CLOSERS = set("”’」』）)]】》〉")
_ZH_NUMERAL = re.compile(r"[零〇一二三四五六七八九十百千万亿两]+")


def _is_punct(text: str) -> bool:
    return not any(ch.isalnum() for ch in text)


def _read_wordlist(path: Path) -> set[str]:
    """One word per line; blank lines and lines starting with '#' are ignored."""
    with open(path, encoding="utf-8") as f:
        return {w.strip() for w in f if w.strip() and not w.startswith("#")}


def _check_user_dict(path: Path) -> list[str]:
    """Return the terms of a jieba user dictionary; refuse BOM, CR, or unjoinable terms."""
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raise ValueError(f"{path}, line 1: starts with a UTF-8 BOM; save the file as UTF-8 without BOM")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise ValueError(f"{path}, line {line}: not valid UTF-8") from e
    terms = []
    for lineno, line in enumerate(text.split("\n"), 1):
        if "\r" in line:
            raise ValueError(f"{path}, line {lineno}: CR/CRLF line ending; use LF (Unix) line endings")
        if not line.strip():
            continue
        parts = line.split()
        # jieba format: "word", "word freq", "word freq tag"
        if not (parts[1:2] == [] or parts[1].isdigit()) or len(parts) > 3:
            raise ValueError(f"{path}, line {lineno}: expected 'word [freq [tag]]', got {line!r}")
        if not _JIEBA_WORD.match(parts[0]):
            raise ValueError(
                f"{path}, line {lineno}: {parts[0]!r} contains characters jieba never joins "
                "into one word (spaces or punctuation)"
            )
        terms.append(parts[0])
    return terms


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return f"uid{os.getuid()}"


def _table(cols: dict[str, list]) -> pa.Table:
    return pa.Table.from_pydict(cols, schema=TOKEN_SCHEMA)


def empty_tokens() -> pd.DataFrame:
    """An empty token table with the columns and dtypes of every other one.

    Returns
    -------
    pandas.DataFrame
        No rows, :data:`TOKEN_COLUMNS`.
    """
    return _table({c: [] for c in TOKEN_COLUMNS}).to_pandas()


def _t2s_changes(cc):
    """A test ``text -> bool`` that is False only for text OpenCC ``cc`` returns unchanged.

    OpenCC replaces a substring only where it equals a key of one of its dictionaries, and a
    key whose (first) value is the key itself changes nothing; so text that contains no
    *changing* key is returned as it is. The test looks for the changing single-character
    keys (one set look-up per character, in C) and the changing phrase keys none of whose
    characters is such a key (one regex search). It reads the dictionaries of
    opencc-python-reimplemented (``_dict_chain_data``: groups of ``(max_len, min_len,
    {key: value})``); for any other structure it returns None (then convert everything).
    """
    try:
        dicts = [d for group in cc._dict_chain_data for d in group]
        mappings = [d[2] for d in dicts]
        if not all(isinstance(m, dict) for m in mappings):
            return None
    except (AttributeError, TypeError, IndexError):
        return None
    changing = [k for m in mappings for k, v in m.items() if v.split(" ")[0] != k]
    chars = frozenset(k for k in changing if len(k) == 1)
    phrases = sorted({k for k in changing if len(k) > 1 and chars.isdisjoint(k)})
    phrase = re.compile("|".join(map(re.escape, phrases))) if phrases else None

    def changes(text: str) -> bool:
        return not chars.isdisjoint(text) or (phrase is not None and phrase.search(text) is not None)

    return changes


class Segmenter:
    """Tokenizes documents; holds jieba/spaCy so that they load once for many documents.

    Parameters
    ----------
    cfg : dict, optional
        The ``segment:`` block; missing keys take the schema's defaults, unknown keys are an error.
    base_dir : str or path-like
        Directory the config's file names (dictionary, stop words) are relative to.
    entities : list of textdrift.entities.Entity, optional
        Named entities to mark in the token table.
    """

    def __init__(self, cfg: dict | None = None, base_dir: str | os.PathLike = ".", entities: list | None = None):
        cfg, known = dict(cfg or {}), defaults()["segment"]
        unknown = set(cfg) - set(known)
        if unknown:
            raise ValueError(f"unknown segment option(s): {sorted(unknown)}; known: {sorted(known)}")
        self.cfg = {**known, **cfg}
        self.base_dir = Path(base_dir)
        self.entities = list(entities or [])  # textdrift.entities.Entity
        self._aliases: dict[str, tuple] = {}  # lang -> (alias table, its prefixes, its starting keys)
        self._en_drop = [re.compile(d["pattern"]) for d in self.cfg["en_drop"] or []]
        self._zh_drop = [re.compile(d["pattern"]) for d in self.cfg["zh_drop"] or []]
        self._zh_units = frozenset(self.cfg["zh_date_units"] or [])
        self._zh_drop_chars = frozenset(self.cfg["zh_drop_chars"] or [])
        self._en = None  # (nlp, lookup table or None, stop words)
        self._zh = None  # (jieba.Tokenizer, OpenCC or None, stop words)
        self._t2s_changes = None  # text -> whether OpenCC could change it (None: always convert)
        # Per-distinct-string results, so that work per token is a dict look-up (a corpus has
        # millions of tokens but tens of thousands of distinct strings). They depend only on
        # the string and this Segmenter's configuration, which is fixed at construction.
        self._attrs: list[tuple] = []  # distinct (text, norm, lemma, is_stop, is_punct, keep)
        self._attr_ids: dict[tuple, int] = {}  # their positions in _attrs
        self._en_memo: dict = {}  # (orth id, heading) -> attribute number
        self._zh_memo: dict = {}  # jieba word -> (is space, ends/stays in sentence, attribute number, is number)
        self._zh_unit_memo: dict = {}  # number + unit (2024年) -> attribute number (not kept)
        self._punct: dict[str, bool] = {}
        self._number: dict[str, bool] = {}

    def _path(self, p) -> Path:
        return self.base_dir / p

    def _attr_id(self, text: str, norm: str, lemma: str, is_stop: bool, keep: bool) -> int:
        """Number of a token's attributes in ``_attrs`` (added when new); ``keep`` is the
        language's rule, completed here by :meth:`_flags`."""
        values = (text, norm, lemma, is_stop, *self._flags(text, norm, keep))
        i = self._attr_ids.get(values)
        if i is None:
            i = self._attr_ids[values] = len(self._attrs)
            self._attrs.append(values)
        return i

    def _flags(self, text: str, norm: str, keep: bool) -> tuple[bool, bool]:
        """(is_punct, keep) of a token: ``keep`` (the language's rule) and not punctuation and,
        unless ``keep_numbers``, not a pure number."""
        is_punct = self._punct.get(text)
        if is_punct is None:
            is_punct = self._punct[text] = _is_punct(text)
        number = self._number.get(norm)
        if number is None:
            number = self._number[norm] = bool(_NUMBER.match(norm))
        return is_punct, keep and not is_punct and (self.cfg["keep_numbers"] or not number)

    # ---- English -----------------------------------------------------------------
    def _load_en(self):
        import spacy
        from spacy.lang.char_classes import ALPHA, HYPHENS
        from spacy.symbols import ORTH
        from spacy.util import compile_infix_regex, compile_suffix_regex

        name = self.cfg["en_model"]
        table = None
        if name:
            if not (spacy.util.is_package(name) or Path(name).exists()):
                raise RuntimeError(
                    f"segment.en_model is {name!r}, but that spaCy pipeline is not installed. "
                    f"Install it with `python -m spacy download {name}` (into this environment), "
                    "or set en_model: null to use spacy.blank('en') with the lookup lemmatizer."
                )
            nlp = spacy.load(name, exclude=["ner"])
            if not nlp.has_pipe("parser") and not nlp.has_pipe("senter"):
                nlp.add_pipe("sentencizer")
        else:
            nlp = spacy.blank("en")
            nlp.add_pipe("sentencizer")
            nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
            nlp.initialize()
            table = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
        hyphen_infix = r"(?<=[{a}0-9])(?:{h})(?=[{a}])".format(a=ALPHA, h=HYPHENS)
        # a bracket glued between two words ("intelligence(AI", "(AI)and") splits them
        infixes = list(nlp.Defaults.infixes) + [r"(?<=[\w.])[\(\)\[\]\{\}](?=\w)", r"(?<=\w)[\(\)\[\]\{\}]"]
        nlp.tokenizer.infix_finditer = compile_infix_regex(
            [p for p in infixes if self.cfg["en_split_hyphens"] or p != hyphen_infix]).finditer
        for case in self.cfg["en_special_cases"] or []:
            nlp.tokenizer.add_special_case(case, [{ORTH: case}])
        # spaCy leaves a final period on digit + capital ("5G." is one token); split it off.
        suffixes = list(nlp.Defaults.suffixes) + [r"(?<=[0-9][A-Z])\."]
        nlp.tokenizer.suffix_search = compile_suffix_regex(suffixes).search
        stops = set(nlp.Defaults.stop_words)
        extra = self.cfg["en_stopwords_extra"]
        if extra and self._path(extra).is_file():
            stops |= {w.lower() for w in _read_wordlist(self._path(extra))}
        self._en = (nlp, table, stops)

    def _segment_en(self, paragraphs) -> dict[str, list]:
        if self._en is None:
            self._load_en()
        from spacy.attrs import IDX, IS_SPACE, LEMMA, ORTH

        nlp, table, stops = self._en
        overrides = self.cfg["en_lemma_overrides"] or {}
        min_len = self.cfg["min_len"]
        strings = nlp.vocab.strings
        # Lookup mode: a token's lemma, norm, stop and keep depend only on its text and whether its
        # paragraph is an all-capitals heading, so they are computed once per distinct (text,
        # heading) and the lemmatizer pipe is not run (it would set
        # lemma_ = table.get(text, text), exactly what ``_en_attrs`` uses). A trained pipeline's
        # lemmas depend on context: computed per token.
        lookup = table is not None
        memo = self._en_memo
        disable = ["lemmatizer"] if lookup and "lemmatizer" in nlp.pipe_names else []
        # Token attributes straight from the Doc's arrays (no Token object per token).
        attrs = [ORTH, IDX, IS_SPACE] + ([] if lookup else [LEMMA])
        para_col, sent_col, idx_col, attr_col = [], [], [], []
        sent = 0
        for para, doc in enumerate(nlp.pipe(paragraphs, batch_size=self.cfg["batch_size"], disable=disable)):
            heading = doc.text.isupper()
            columns = doc.to_array(attrs).T.tolist() if len(doc) else [[]] * len(attrs)
            orths, idxs, spaces = columns[:3]
            for span in doc.sents:  # spaCy's sentences (a sentence number counts only non-space tokens)
                in_sent = False
                for i in range(span.start, span.end):
                    if spaces[i]:
                        continue
                    in_sent = True
                    if lookup:
                        key = (orths[i], heading)
                        a = memo.get(key)
                        if a is None:
                            text = strings[orths[i]]
                            a = memo[key] = self._attr_id(text, *self._en_attrs(text, heading, None, table,
                                                                                stops, overrides, min_len))
                    else:
                        text = strings[orths[i]]
                        a = self._attr_id(text, *self._en_attrs(text, heading, strings[columns[3][i]],
                                                                table, stops, overrides, min_len))
                    para_col.append(para)
                    sent_col.append(sent)
                    idx_col.append(idxs[i])
                    attr_col.append(a)
                sent += in_sent
        return {"para": para_col, "sent": sent_col, "idx": idx_col, "attr": attr_col}

    def _en_attrs(self, text, heading, lemma_, table, stops, overrides, min_len):
        """(norm, lemma, is_stop, keep) of an English token; ``lemma_`` is spaCy's (None: the lookup table's).

        The lemma does not depend on case: the lookup table is read with the lower-cased token
        ("Countries" and "countries" -> country), except for acronyms (two or more capitals
        outside an all-capitals heading: AI, UN, ICT), which keep their identity (lemma = the
        token, norm lower-cased) and are never stop words. A stop word is decided on the
        lemma ("used" -> use, kept like "use"). Tokens matching ``en_drop`` (ordinals,
        Roman numerals, list markers, months) are not kept."""
        lower = text.lower()
        acronym = len(text) > 1 and text.isupper() and not heading
        if acronym:
            lemma = text
        elif lower in overrides:
            lemma = overrides[lower]
        elif table is not None:
            lemma = table.get(lower, lower)
        else:
            lemma = (lemma_ or text).lower() if lemma_ != "-PRON-" else lower
        norm = lemma.lower()
        is_stop = norm in stops and not acronym
        dropped = any(rx.fullmatch(text) for rx in self._en_drop)
        keep = not is_stop and not dropped and len(norm) >= min_len
        return norm, lemma, is_stop, keep

    # ---- Chinese -----------------------------------------------------------------
    def _load_zh(self):
        import jieba

        tk = jieba.Tokenizer()
        dict_file = Path(jieba.__file__).with_name("dict.txt")
        digest = hashlib.sha256(dict_file.read_bytes()).hexdigest()[:16]
        cache_dir = Path(self.cfg["cache_dir"] or Path(tempfile.gettempdir()) / f"textdrift-jieba-{_user()}")
        cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        tk.tmp_dir = str(cache_dir)
        tk.cache_file = f"jieba.{digest}.cache"
        terms = []
        if self.cfg["zh_user_dict"]:
            path = self._path(self.cfg["zh_user_dict"])
            terms = _check_user_dict(path)
            tk.load_userdict(str(path))
        else:
            tk.initialize()
        # the entities' Chinese aliases are words too (so that jieba keeps a name whole)
        names = [a for e in self.entities for a in e.aliases.get("zh", ()) if _JIEBA_WORD.match(a)]
        for name in names:
            tk.add_word(name)
        # shortest first; equal lengths in file order (a set's order changes with the hash seed,
        # and the tuned frequencies depend on the order: tokens would differ between runs)
        for term in sorted(dict.fromkeys(terms + names), key=len):
            tk.suggest_freq(term, tune=True)
        for split in self.cfg["zh_force_split"] or []:
            tk.suggest_freq(tuple(split.split()), tune=True)
        cc = None
        if self.cfg["traditional_to_simplified"]:
            from opencc import OpenCC

            cc = OpenCC("t2s")
            self._t2s_changes = _t2s_changes(cc)
        stops = _read_wordlist(self._path(self.cfg["zh_stopwords"])) if self.cfg["zh_stopwords"] else set()
        self._zh = (tk, cc, stops)

    def _to_simplified(self, text: str) -> str:
        """OpenCC t2s of ``text``; ``text`` itself when no t2s mapping applies to it."""
        cc = self._zh[1]
        if self._t2s_changes is not None and not self._t2s_changes(text):
            return text
        return cc.convert(text)

    def _zh_attr_id(self, text: str, simplified: str, date: bool = False) -> int:
        """Attribute number of a Chinese token ``text`` whose t2s form is ``simplified``.

        Not kept: stop words, ``zh_drop_chars``, ``zh_drop`` patterns (dates, counts,
        ordinals, numerals) and a ``date`` (a number joined with its ``zh_date_units`` unit)."""
        norm = unicodedata.normalize("NFKC", simplified).lower()
        is_stop = norm in self._zh[2]
        dropped = date or norm in self._zh_drop_chars or any(rx.fullmatch(norm) for rx in self._zh_drop)
        return self._attr_id(text, norm, norm, is_stop, not is_stop and not dropped)

    def _zh_word(self, word: str) -> tuple[bool, bool, bool, int, bool]:
        """(is space, ends a sentence, stays in the sentence that ends, attribute number, is a
        number) of a jieba word that is its own text and t2s form."""
        enders = self.cfg["zh_sentence_end"]
        number = bool(_NUMBER.match(word) or _ZH_NUMERAL.fullmatch(word))
        return (word.isspace(), word in enders, word in enders or word in _CLOSERS, self._zh_attr_id(word, word),
                number)

    def _segment_zh(self, paragraphs) -> dict[str, list]:
        if self._zh is None:
            self._load_zh()
        tk, cc, _ = self._zh
        hmm = self.cfg["hmm"]
        memo = self._zh_memo  # word -> _zh_word(word)
        units = self._zh_units
        para_col, sent_col, idx_col, attr_col = [], [], [], []
        sent = 0
        for para, original in enumerate(paragraphs):
            prev_number, prev_end = False, -1
            converted = self._to_simplified(original) if cc else original
            same_length = len(converted) == len(original)
            source = converted if same_length else original
            # The usual case: jieba's words are the text's words and need no conversion.
            plain = source is original and (same_length or cc is None)
            idx, in_sent, after_end = 0, False, False
            for word in tk.cut(source, HMM=hmm):
                start, idx = idx, idx + len(word)
                w = memo.get(word)
                if w is None:
                    w = memo[word] = self._zh_word(word)
                space, ends, stays, attr, number = w
                if space:
                    continue
                if prev_number and prev_end == start and word in units:
                    # number + unit (2024 + 年, 150 + 多): one token, a date or count, not kept
                    s0 = idx_col[-1]
                    text = original[s0:idx]
                    attr = self._zh_unit_memo.get(text) if plain else None
                    if attr is None:
                        simplified = source[s0:idx] if same_length else self._to_simplified(text)
                        attr = self._zh_attr_id(text, simplified, True)
                        if plain:
                            self._zh_unit_memo[text] = attr
                    attr_col[-1] = attr
                    prev_number, prev_end = False, idx
                    continue
                if para_col and para_col[-1] == para and prev_end == start and _PLUS.fullmatch(word) \
                        and not source[idx:idx + 1].isdigit():
                    # a plus glued to the word before ("互联网+", the "X+" action plans) is part of that
                    # term: one token, kept as the word is (jieba and the punctuation rule would cut it off);
                    # not a sign before a number (增长+5%)
                    s0 = idx_col[-1]
                    text = original[s0:idx]
                    simplified = source[s0:idx] if same_length else self._to_simplified(text)
                    attr_col[-1] = self._zh_attr_id(text, simplified)
                    prev_number, prev_end = False, idx
                    continue
                if not plain:  # text from the original characters, norm from the t2s form
                    simplified = word if same_length else self._to_simplified(word)
                    attr = self._zh_attr_id(original[start:idx], simplified)
                prev_number, prev_end = number, idx
                if after_end and not stays:
                    sent, after_end = sent + 1, False
                in_sent = True
                after_end = after_end or ends
                para_col.append(para)
                sent_col.append(sent)
                idx_col.append(start)
                attr_col.append(attr)
            assert idx == len(source), "jieba lost characters"
            sent += in_sent
        return {"para": para_col, "sent": sent_col, "idx": idx_col, "attr": attr_col}

    # ---- entities ------------------------------------------------------------------
    def _alias_table(self, lang: str) -> tuple[dict, set, set]:
        """(alias table, its prefixes, the keys a match can start with) of ``lang``, built once."""
        if lang not in self._aliases:
            from textdrift.entities import alias_prefixes, alias_table, starters

            tokenize = None
            if lang == "en":
                nlp = self._en[0]
                tokenize = lambda alias: [t.text for t in nlp.tokenizer(alias) if not t.is_space]  # noqa: E731
            table = alias_table(self.entities, lang, tokenize)
            self._aliases[lang] = (table, alias_prefixes(table), starters(table, lang != "en"))
        return self._aliases[lang]

    def _entity_spans(self, lang: str, rows: list[tuple], inverse: np.ndarray, sent: list[int]) -> list:
        """Entity matches (first token, last token, id) of one text (:func:`textdrift.entities.find_spans`)."""
        from textdrift.entities import en_key, find_spans

        table, prefixes, first = self._alias_table(lang)
        if not table:
            return []
        keys_distinct = [en_key(r[0]) if lang == "en" else r[1] for r in rows]
        can_start = np.array([k in first for k in keys_distinct], dtype=bool)
        candidates = np.flatnonzero(can_start[inverse])
        if not len(candidates):
            return []
        keys = [keys_distinct[i] for i in inverse.tolist()]
        return find_spans(keys, np.asarray(sent), table, lang != "en", candidates.tolist(), prefixes)

    # ---- public --------------------------------------------------------------------
    def document_table(self, doc_id: str, year: int, lang: str, paragraphs: list[str],
                       roles: list[str] | None = None) -> pa.Table:
        """:meth:`segment_document` as an Arrow table (``TOKEN_SCHEMA``); ``roles``: the role of
        each paragraph (default: all ``body``).

        Parameters
        ----------
        doc_id : str
        year : int
        lang : {"zh", "en"}
        paragraphs : list of str
        roles : list of str, optional

        Returns
        -------
        pyarrow.Table
            One row per token.
        """
        if lang == "zh":
            cols = self._segment_zh(paragraphs)
        elif lang == "en":
            cols = self._segment_en(paragraphs)
        else:
            raise ValueError(f"{doc_id}: cannot segment language {lang!r}; supported: {LANGUAGES}")
        if roles is not None and len(roles) != len(paragraphs):
            raise ValueError(f"{doc_id} [{lang}]: {len(roles)} roles for {len(paragraphs)} paragraphs")
        # the attribute columns: the document's distinct attributes, taken for each token
        distinct, inverse = np.unique(np.asarray(cols.pop("attr"), dtype=np.int64), return_inverse=True)
        rows = [self._attrs[i] for i in distinct.tolist()]
        positions = pa.array(inverse.astype(np.int64))
        names = ("text", "norm", "lemma", "is_stop", "is_punct", "keep")
        for name, values in zip(names, zip(*rows) if rows else [()] * len(names)):
            cols[name] = pa.array(values, TOKEN_SCHEMA.field(name).type).take(positions)
        n = len(positions)
        para_roles = np.asarray(roles if roles is not None else ["body"] * len(paragraphs), dtype=object)
        cols["role"] = pa.array(para_roles[np.asarray(cols["para"], dtype=np.int64)] if n else [], pa.string())
        entity = [None] * n
        spans = self._entity_spans(lang, rows, inverse, cols["sent"]) if self.entities and n else []
        if spans:  # head: norm @id, kept; the rest of the span: not kept; every token: entity = id
            from textdrift.counting import ENTITY_HEAD

            norm, keep, stop = (cols[c].to_pylist() for c in ("norm", "keep", "is_stop"))
            for first, last, eid in spans:
                norm[first], keep[first], stop[first] = ENTITY_HEAD + eid, True, False
                for k in range(first, last + 1):
                    entity[k] = eid
                    if k > first:
                        keep[k] = False
            cols["norm"], cols["keep"], cols["is_stop"] = pa.array(norm, pa.string()), pa.array(keep), pa.array(stop)
        cols["entity"] = pa.array(entity, pa.string())
        cols["doc_id"] = pa.repeat(pa.scalar(str(doc_id), pa.string()), n)
        cols["year"] = pa.repeat(pa.scalar(int(year), pa.int32()), n)
        cols["lang"] = pa.repeat(pa.scalar(lang, pa.string()), n)
        return _table(cols)

    def segment_document(self, doc_id: str, year: int, lang: str, paragraphs: list[str],
                         roles: list[str] | None = None) -> pd.DataFrame:
        """Token table (``TOKEN_COLUMNS``) of one document-language; paragraphs = those of its clean text.

        Parameters
        ----------
        doc_id, year, lang, paragraphs, roles
            As in :meth:`document_table`.

        Returns
        -------
        DataFrame
            One row per token.
        """
        return self.document_table(doc_id, year, lang, paragraphs, roles).to_pandas()


def segment_shard(docs: list[dict], base_dir: str | os.PathLike, cfg: dict | None,
                  entities: list | None = None) -> pd.DataFrame:
    """Segment many documents with one :class:`Segmenter` into one token table.

    Parameters
    ----------
    docs : list of dict
        ``doc_id``, ``year``, ``lang``, ``paragraphs`` (the clean text, :func:`textdrift.io.read_texts`)
        and optional ``roles`` (the clean index's role string, :func:`textdrift.structure.decode_roles`).
    base_dir : str or path-like
        Directory the config's file names (dictionary, stop words) are relative to.
    cfg : dict or None
        The ``segment:`` block; missing keys take the schema's defaults.
    entities : list of textdrift.entities.Entity, optional
        Named entities matched in the tokens.

    Returns
    -------
    pandas.DataFrame
        The token table (:data:`TOKEN_COLUMNS`).
    """
    from textdrift.structure import decode_roles

    seg = Segmenter(cfg, base_dir, entities)
    tables = []
    for d in docs:
        paras = d["paragraphs"]
        roles = decode_roles(d.get("roles"), len(paras))
        tables.append(seg.document_table(d["doc_id"], d["year"], d["lang"], paras, roles))
    # one conversion to pandas for the shard (the same frame as concatenating per-document frames)
    return pa.concat_tables(tables).to_pandas() if tables else empty_tokens()


def write_tokens(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write a token table to Parquet with :data:`TOKEN_SCHEMA`, atomically (temp file + rename).

    Parameters
    ----------
    df : pandas.DataFrame
        A token table.
    path : str or path-like
        The Parquet file.
    """
    table = pa.Table.from_pandas(df[TOKEN_COLUMNS], schema=TOKEN_SCHEMA, preserve_index=False)
    write_arrow(table, path)


def run_segment(input, output, params, log) -> None:
    """Rule ``segment``: the clean texts of one shard -> its token table.

    Parameters
    ----------
    input : Snakemake input
        ``texts`` (the shard's clean texts, :func:`textdrift.io.read_texts`), ``index`` (their index),
        optionally ``repeated_roles`` (the shard's paragraphs that the corpus-wide repeated-paragraph
        rule makes paratext, :func:`textdrift.cleanio.shard_roles`), ``entities`` (the entity list
        and its schema, or empty) and the files named by ``params.segment`` (user dictionary, stop words).
    output : Snakemake output
        The token table (Parquet, :data:`TOKEN_SCHEMA`).
    params : Snakemake params
        ``segment``: the config block.
    log : Snakemake log
        The job's log file.
    """
    from textdrift.entities import load_entities

    logger = log_to_file(log[0])
    index = read_csv(input.index, dtype={"doc_id": str, "lang": str, "file": str, "roles": str})
    if input.get("repeated_roles"):  # boilerplate across documents (textdrift.cleanio.shard_roles)
        from textdrift.structure import apply_repeated_roles

        index = apply_repeated_roles(index, input.repeated_roles)
    texts = read_texts(input.texts)
    docs = [{"doc_id": r.doc_id, "year": int(r.year), "lang": r.lang, "paragraphs": texts[(r.doc_id, r.lang)],
             "roles": r.roles} for r in index.itertuples()]
    entities = load_entities(*input.entities) if input.get("entities") else []
    tokens = segment_shard(docs, base_dir=Path.cwd(), cfg=params.segment, entities=entities)
    logger.info("segmented %d texts into %d tokens (%d entity mentions)", len(docs), len(tokens),
                int(tokens["norm"].str.startswith("@").sum()))
    write_tokens(tokens, output[0])
