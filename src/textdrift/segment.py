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
  cache (jieba writes it atomically). spaCy's English lemma table is kept there too, as a
  marshal file named after the versions of spaCy and spacy-lookups-data (:func:`_lemma_lookup`).
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

Per-text memo (:class:`TextMemo`, the ``segment_memo`` block of the configuration): a shard job keeps
each text's tokens (positions, attributes, entity mentions) in ``cache/segment/shard-<n>/``, keyed by
the text's language and paragraphs and by everything else its tokens depend on (the ``segment``
settings, the bytes of the dictionary, stop-word and entity files, the versions of jieba, spaCy,
spacy-lookups-data and OpenCC, the package's code: :func:`memo_salt`). A text's tokens do not depend
on the other texts of the shard, nor on its paragraphs' roles (added when the table is made), so
adding a document to a shard segments only its texts and takes the others from the memo; a model is
loaded only when a text of its language misses. The token table is byte-identical either way
(``tests/test_segment_memo.py``); a trained ``en_model`` that is not an installed package (a path)
turns the memo off, as its version cannot be read.

Speed (a shard has millions of tokens, tens of thousands of distinct ones): a token's
attributes (text, norm, lemma, is_stop, is_punct, keep) are computed once per distinct string
and stored once in the Segmenter (``_attrs``); per token, only its position and the number of
its attributes are recorded, and the string and flag columns are made by an Arrow ``take``.
English token attributes are read with ``Doc.to_array`` rather than one ``Token`` object per
token; OpenCC (a pure-Python implementation, slower than jieba itself) only runs on
paragraphs holding a character or phrase that t2s would change (:func:`_t2s_changes`), and
converts each distinct piece between its separators once (:meth:`Segmenter._to_simplified`);
jieba cuts each distinct block of its own split once (:meth:`Segmenter._zh_cut`: a clause repeated
across documents, a heading, a formula is cut once per shard), kept as its words' numbers in the
word table; the entity keys are kept per attribute number; the distinct attribute numbers are
found by flags, not by sorting (:func:`_dense_unique`); the token table is converted to pandas
once per shard.

Token table: ``TOKEN_COLUMNS`` / ``TOKEN_SCHEMA`` (in :mod:`textdrift.vectorize`). ``para`` is the 0-based paragraph number in the
clean text, ``sent`` a 0-based sentence number that runs through the whole document (so
``(doc_id, lang, sent)`` names a sentence), ``idx`` the character offset of the token in its
line (``line[idx:idx + len(text)] == text``). Whitespace tokens are dropped. ``is_punct``
means the token has no letter or digit (punctuation and symbols). ``keep`` = not stop, not
punct, not a pure number (unless ``keep_numbers``) and, for English, ``len(norm) >= min_len``;
single Chinese characters are kept unless they are stop words.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import os
import pickle
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from textdrift.config import Settings, defaults, setting
from textdrift.io import log_to_file, read_csv, read_texts, write_arrow
from textdrift.memo import EntryStore, MemoLocation, code_digest
from textdrift.counting import TOKEN_COLUMNS, TOKEN_SCHEMA  # the token table's contract

__all__ = ["LANGUAGES", "Segmenter", "SegmentMemoSettings", "TextMemo", "empty_tokens", "memo_salt",
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
#: The columns of the Chinese word table (:meth:`Segmenter._zh_word`): a jieba word is white space,
#: ends a sentence, stays in the sentence that ends (an ender or a closing quote/bracket), is a
#: number, is a ``zh_date_units`` unit, is plus signs only; its attribute number; its length.
_ZH_FIELDS = ("space", "ends", "stays", "number", "unit", "plus", "attr", "length")
_ZH_SPACE, _ZH_ENDS, _ZH_STAYS, _ZH_NUMBER, _ZH_UNIT, _ZH_PLUS, _ZH_ATTR, _ZH_LENGTH = range(len(_ZH_FIELDS))


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


def _read_jieba_cache(tk, path: Path) -> None:
    """Load jieba's prefix dictionary (``FREQ``, ``total``) from its cache file as
    ``Tokenizer.initialize`` does for the default dictionary, but unmarshalled from the file's
    bytes (``marshal.loads``): jieba's ``marshal.load`` on the open file takes four times as long
    (about 1 s of every segment job). When the file is missing or unreadable nothing happens:
    jieba's ``initialize``, which every cut calls, then builds the dictionary and writes the cache.
    """
    import marshal

    try:
        freq, total = marshal.loads(path.read_bytes())
    except Exception:  # noqa: BLE001 - as jieba: any failure to read the cache means no cache
        return
    tk.FREQ, tk.total, tk.initialized = freq, total, True


def _import_spacy():
    """``import spacy`` without its command-line interface: spaCy's ``__init__`` imports
    ``spacy.cli.info`` (for ``spacy.info``), which imports every ``spacy`` command and typer, rich,
    httpx and weasel with them (about 0.4 s of CPU of each ``segment`` job that loads spaCy, for
    nothing the tokenizer uses; no command registers a component, tokenizer or table). While spaCy is
    imported, ``spacy.cli`` and ``spacy.cli.info`` are placeholders in ``sys.modules`` (its
    ``info`` imports the real one when called); they are removed afterwards, so a later
    ``import spacy.cli`` imports the real package.

    Returns
    -------
    module
        ``spacy``.
    """
    import sys

    if "spacy" not in sys.modules:
        import types

        def info(*args, **kwargs):  # spacy.info: the command's function, imported when called
            from spacy.cli.info import info as command

            return command(*args, **kwargs)

        cli, cli_info = types.ModuleType("spacy.cli"), types.ModuleType("spacy.cli.info")
        cli.__path__, cli_info.info = [], info  # a package holding the module with info
        placeholders = {"spacy.cli": cli, "spacy.cli.info": cli_info}
        sys.modules.update(placeholders)
        try:
            import spacy
        finally:
            for name, module in placeholders.items():
                if sys.modules.get(name) is module:
                    del sys.modules[name]
        if getattr(spacy, "cli", None) is cli:
            del spacy.cli
    import spacy

    return spacy


class _Lemmas(dict):
    """A lookup table of spaCy as a plain dict, keyed as spaCy's ``Table`` is (a string's hash,
    ``spacy.strings.get_string_id``): ``get(text, default)`` is ``Table.get``."""

    def __init__(self, data: dict, string_id):
        super().__init__(data)
        self._string_id = string_id

    def get(self, key, default=None):
        return dict.get(self, self._string_id(key), default)


def _lemma_lookup(cache_dir: Path) -> _Lemmas:
    """The English ``lemma_lookup`` table of ``spacy-lookups-data``, as spaCy's lookup lemmatizer
    loads it (``Lemmatizer.initialize``: ``spacy.lookups.load_lookups("en", ["lemma_lookup"])``),
    kept in ``cache_dir`` as a marshal file named after the versions of spaCy and
    spacy-lookups-data (written atomically when missing or unreadable, as jieba's cache is).

    Reading the package's compressed JSON into a ``Table`` took about 0.13 s of every segment job;
    the marshal file about 0.01 s.

    Parameters
    ----------
    cache_dir : Path
        ``segment.cache_dir``.

    Returns
    -------
    _Lemmas
        ``{string hash: lemma}``, read with ``get(text, default)``.
    """
    import marshal
    from importlib.metadata import PackageNotFoundError, version

    from spacy.strings import get_string_id

    try:
        versions = f"{version('spacy')}.{version('spacy-lookups-data')}"
    except PackageNotFoundError as e:
        raise RuntimeError(f"{e.name} is not installed: the English lookup lemmatizer reads its tables "
                           "(pyproject.toml pins it; `make env` installs it)") from e
    path = cache_dir / f"spacy-lemma-lookup-en.{versions}.marshal"
    try:
        data = marshal.loads(path.read_bytes())
    except Exception:  # noqa: BLE001 - as jieba's cache: any failure to read it means no cache
        from spacy.lookups import load_lookups

        data = dict(load_lookups("en", ["lemma_lookup"]).get_table("lemma_lookup").items())
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_bytes(marshal.dumps(data))
            os.replace(tmp, path)
        except OSError:  # a read-only cache directory: the table is still used
            tmp.unlink(missing_ok=True)
    return _Lemmas(data, get_string_id)


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


def _sentence_starts(para: np.ndarray, sizes: np.ndarray, punct: np.ndarray, pchar: np.ndarray) -> np.ndarray:
    """Sentence starts of spaCy's ``sentencizer`` (``Sentencizer.predict``), for the tokens of
    many paragraphs at once.

    The sentencizer starts a paragraph's first token and, after a token in its ``punct_chars``
    (``pchar``) has been seen, the next token that is neither punctuation (``is_punct``) nor in
    ``punct_chars``; that token also resets what has been seen. So a token that is neither starts
    a sentence exactly when a ``punct_chars`` token stands between it and the previous such
    token of its paragraph (or the paragraph's start).

    Parameters
    ----------
    para : ndarray
        The paragraph of each token (non-decreasing).
    sizes : ndarray
        The number of tokens of each paragraph.
    punct, pchar : ndarray of bool
        Each token's ``is_punct`` and whether its text is in ``punct_chars``.

    Returns
    -------
    ndarray of bool
        Whether each token starts a sentence.
    """
    first = np.cumsum(sizes) - sizes
    seen = np.cumsum(pchar)  # punct_chars tokens up to and including each token
    before = np.concatenate(([0], seen))[first]  # ... before each paragraph
    word = np.flatnonzero(~punct & ~pchar)
    at = seen[word]
    same = np.zeros(len(word), dtype=bool)
    same[1:] = para[word[1:]] == para[word[:-1]]
    previous = np.where(same, np.concatenate(([0], at[:-1])), before[para[word]])
    starts = np.zeros(len(para), dtype=bool)
    starts[word[at > previous]] = True
    starts[first[sizes > 0]] = True
    return starts


def _dense_unique(values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` of numbers in ``range(size)``, by marking them
    in an array of ``size`` flags and numbering the marked ones instead of sorting ``values``.

    The attribute numbers of a shard's tokens are positions in ``Segmenter._attrs`` (millions of
    tokens, tens of thousands of attributes): sorting them took about 0.17 s of a 10 MB shard's job,
    marking them 0.008. Also used per text, and for an English text's (text, heading) pairs
    numbered ``2 * code + heading``. When ``size`` is over eight times the number of values (a short
    text in a shard of many attributes) the arrays of ``size`` would cost more than the sort (they
    break even at about ten), and ``np.unique`` is used.

    Parameters
    ----------
    values : ndarray of int
        Numbers, each in ``range(size)``.
    size : int
        An upper bound of ``values`` (exclusive).

    Returns
    -------
    distinct : ndarray of int
        The distinct numbers, ascending.
    inverse : ndarray of int
        The position of each value in ``distinct``.
    """
    if size > 8 * len(values):
        return np.unique(values, return_inverse=True)
    present = np.zeros(size, dtype=bool)
    present[values] = True
    distinct = np.flatnonzero(present)
    rank = np.zeros(size, dtype=np.intp)
    rank[distinct] = np.arange(len(distinct))
    return distinct, rank[values]


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
        self._entity_keys: dict[str, dict] = {}  # lang -> {attribute number: (its alias key, can start a match)}
        self._en_drop = [re.compile(d["pattern"]) for d in self.cfg["en_drop"] or []]
        self._zh_drop = [re.compile(d["pattern"]) for d in self.cfg["zh_drop"] or []]
        self._zh_units = frozenset(self.cfg["zh_date_units"] or [])
        self._zh_drop_chars = frozenset(self.cfg["zh_drop_chars"] or [])
        self._en = None  # (nlp, lookup table or None, stop words)
        self._zh = None  # (jieba.Tokenizer, OpenCC or None, stop words)
        self._t2s_changes = None  # text -> whether OpenCC could change it (None: always convert)
        self._t2s_memo: dict = {}  # a piece of text between OpenCC's separators -> its t2s form
        # Per-distinct-string results, so that work per token is a dict look-up (a corpus has
        # millions of tokens but tens of thousands of distinct strings). They depend only on
        # the string and this Segmenter's configuration, which is fixed at construction.
        self._attrs: list[tuple] = []  # distinct (text, norm, lemma, is_stop, is_punct, keep)
        self._attr_ids: dict[tuple, int] = {}  # their positions in _attrs
        self._en_memo: dict = {}  # (orth id, heading) -> attribute number
        self._en_punct_chars: frozenset = frozenset()  # the sentencizer's punct_chars (lookup mode)
        self._en_pchar_memo: dict = {}  # orth id -> whether its text is one of them
        self._zh_memo: dict = {}  # jieba word -> its number (its row of the word table)
        self._zh_rows: list[tuple] = []  # the word table's rows (_ZH_FIELDS), one per number
        self._zh_words = np.zeros((0, len(_ZH_FIELDS)), dtype=np.int64)  # the word table (its first rows)
        self._zh_unit_memo: dict = {}  # number + unit (2024年) -> attribute number (not kept)
        self._zh_pair_memo: dict = {}  # (text, jieba word) of a text not its own t2s form -> attribute number
        self._zh_blocks: dict = {}  # a block of jieba's cut (:meth:`_zh_cut`) -> its words' numbers
        self._punct: dict[str, bool] = {}
        self._number: dict[str, bool] = {}

    def _path(self, p) -> Path:
        return self.base_dir / p

    def _cache_dir(self) -> Path:
        """``segment.cache_dir`` (default ``<tmp>/textdrift-jieba-<user>``), created private: jieba's
        dictionary cache and spaCy's lemma table (:func:`_lemma_lookup`)."""
        cache_dir = Path(self.cfg["cache_dir"] or Path(tempfile.gettempdir()) / f"textdrift-jieba-{_user()}")
        cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        return cache_dir

    def _attr_id(self, text: str, norm: str, lemma: str, is_stop: bool, keep: bool) -> int:
        """Number of a token's attributes in ``_attrs`` (added when new); ``keep`` is the
        language's rule, completed here by :meth:`_flags`."""
        return self._row_id((text, norm, lemma, is_stop, *self._flags(text, norm, keep)))

    def _row_id(self, values: tuple) -> int:
        """Number of the attributes ``values`` (text, norm, lemma, is_stop, is_punct, keep) in
        ``_attrs``, added when new."""
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
        spacy = _import_spacy()
        from spacy.lang.char_classes import ALPHA, HYPHENS
        from spacy.symbols import ORTH
        from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex

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
            language = nlp.Defaults
        else:
            from spacy.lang.en import English
            from spacy.pipeline import Sentencizer

            # only the tokenizer runs (:meth:`_segment_en`): the lookup lemmatizer's table is read
            # by :func:`_lemma_lookup`, the sentencizer's rule applied by :func:`_sentence_starts`
            # to what its default configuration ends a sentence at
            language = English.Defaults
            table = _lemma_lookup(self._cache_dir())
            self._en_punct_chars = frozenset(Sentencizer.default_punct_chars)
        hyphen_infix = r"(?<=[{a}0-9])(?:{h})(?=[{a}])".format(a=ALPHA, h=HYPHENS)
        # a bracket glued between two words ("intelligence(AI", "(AI)and") splits them
        infixes = list(language.infixes) + [r"(?<=[\w.])[\(\)\[\]\{\}](?=\w)", r"(?<=\w)[\(\)\[\]\{\}]"]
        infix_finditer = compile_infix_regex(
            [p for p in infixes if self.cfg["en_split_hyphens"] or p != hyphen_infix]).finditer
        # spaCy leaves a final period on digit + capital ("5G." is one token); split it off.
        suffixes = list(language.suffixes) + [r"(?<=[0-9][A-Z])\."]
        suffix_search = compile_suffix_regex(suffixes).search
        if name:  # a trained pipeline's tokenizer, its affixes replaced
            nlp.tokenizer.infix_finditer, nlp.tokenizer.suffix_search = infix_finditer, suffix_search
        else:
            # spacy.blank("en") with these affixes: English with spaCy's tokenizer for it (its
            # ``tokenizer_factory``) given them, so that the special cases are loaded and the affixes
            # compiled once (blank's own tokenizer, then replaced, cost about 0.1 s; setting an affix
            # reloads every special case)
            from spacy.tokenizer import Tokenizer

            def tokenizer(nlp):
                return Tokenizer(nlp.vocab, rules=language.tokenizer_exceptions,
                                 prefix_search=compile_prefix_regex(language.prefixes).search,
                                 suffix_search=suffix_search, infix_finditer=infix_finditer,
                                 token_match=language.token_match, url_match=language.url_match)

            nlp = English(create_tokenizer=tokenizer)
        for case in self.cfg["en_special_cases"] or []:
            nlp.tokenizer.add_special_case(case, [{ORTH: case}])
        stops = set(language.stop_words)
        extra = self.cfg["en_stopwords_extra"]
        if extra and self._path(extra).is_file():
            stops |= {w.lower() for w in _read_wordlist(self._path(extra))}
        self._en = (nlp, table, stops)

    def _segment_en(self, paragraphs: list[str]) -> dict[str, np.ndarray]:
        """Columns ``para``, ``sent``, ``idx``, ``attr`` of the non-space tokens of an English text.

        With the lookup lemmatizer (``en_model: null``) only spaCy's tokenizer runs: a token's
        attributes depend on its text and on whether its paragraph is an all-capitals heading,
        so they are looked up once per distinct (text, heading) (:meth:`_en_attr_ids`), and the
        sentences are those of spaCy's ``sentencizer``, computed on the token arrays
        (:func:`_sentence_starts`) rather than by the pipe, which makes a Python ``Token`` per
        token (as does ``Doc.text``: the paragraph is the doc's text, spaCy's tokenization being
        non-destructive). A trained pipeline's lemmas and sentences depend on context:
        :meth:`_segment_en_model`.
        """
        if self._en is None:
            self._load_en()
        nlp, table, _ = self._en
        if table is None:
            return self._segment_en_model(paragraphs)
        from spacy.attrs import IDX, IS_PUNCT, IS_SPACE, ORTH

        docs = nlp.tokenizer.pipe(paragraphs, batch_size=self.cfg["batch_size"])
        arrays = [doc.to_array([ORTH, IDX, IS_SPACE, IS_PUNCT]) for doc in docs]
        sizes = np.fromiter((len(a) for a in arrays), np.int64, len(arrays))
        if not sizes.sum():
            return {k: np.zeros(0, np.int64) for k in ("para", "sent", "idx", "attr")}
        a = np.concatenate([x.reshape(-1, 4) for x in arrays])
        orth, space, punct = a[:, 0], a[:, 2].astype(bool), a[:, 3].astype(bool)
        para = np.repeat(np.arange(len(sizes)), sizes)
        distinct, inverse = np.unique(orth, return_inverse=True)
        distinct = distinct.tolist()
        # a token is a sentencizer punctuation character (its ``punct_chars``), by its distinct text
        strings, pchars, memo = nlp.vocab.strings, self._en_punct_chars, self._en_pchar_memo
        for o in distinct:
            if o not in memo:
                memo[o] = strings[o] in pchars
        pchar = np.array([memo[o] for o in distinct], dtype=bool)[inverse]
        sid = np.cumsum(_sentence_starts(para, sizes, punct, pchar))
        kept = np.flatnonzero(~space)
        s = sid[kept]  # sentences without a non-space token get no number
        new = np.ones(len(kept), dtype=bool)
        new[1:] = s[1:] != s[:-1]
        heading = np.fromiter((p.isupper() for p in paragraphs), bool, len(sizes))
        attr = self._en_attr_ids(distinct, inverse[kept], heading[para[kept]])
        return {"para": para[kept], "sent": np.cumsum(new) - 1, "idx": a[kept, 1].astype(np.int64), "attr": attr}

    def _en_attr_ids(self, distinct: list[int], codes: np.ndarray, heading: np.ndarray) -> np.ndarray:
        """Attribute numbers of English tokens (lookup lemmatizer): token ``k`` has the text
        ``distinct[codes[k]]`` (an orth id) and is in an all-capitals heading when ``heading[k]``;
        computed once per distinct (text, heading) (:meth:`_en_attrs`)."""
        nlp, table, stops = self._en
        overrides = self.cfg["en_lemma_overrides"] or {}
        memo, strings = self._en_memo, nlp.vocab.strings
        pairs, inverse = _dense_unique(codes.astype(np.int64) * 2 + heading, 2 * len(distinct))
        ids = []
        for pair in pairs.tolist():
            key = (distinct[pair >> 1], bool(pair & 1))
            a = memo.get(key)
            if a is None:
                text = strings[key[0]]
                a = memo[key] = self._attr_id(text, *self._en_attrs(text, key[1], None, table, stops, overrides,
                                                                    self.cfg["min_len"]))
            ids.append(a)
        return np.asarray(ids, dtype=np.int64)[inverse]

    def _segment_en_model(self, paragraphs: list[str]) -> dict[str, list]:
        """:meth:`_segment_en` with a trained pipeline (``en_model``): its lemmas (per token) and
        sentences (its parser or senter, or the sentencizer)."""
        from spacy.attrs import IDX, IS_SPACE, LEMMA, ORTH

        nlp, table, stops = self._en
        overrides = self.cfg["en_lemma_overrides"] or {}
        min_len = self.cfg["min_len"]
        strings = nlp.vocab.strings
        attrs = [ORTH, IDX, IS_SPACE, LEMMA]
        para_col, sent_col, idx_col, attr_col = [], [], [], []
        sent = 0
        for para, doc in enumerate(nlp.pipe(paragraphs, batch_size=self.cfg["batch_size"])):
            heading = paragraphs[para].isupper()
            columns = doc.to_array(attrs).T.tolist() if len(doc) else [[]] * len(attrs)
            orths, idxs, spaces, lemmas = columns
            for span in doc.sents:  # spaCy's sentences (a sentence number counts only non-space tokens)
                in_sent = False
                for i in range(span.start, span.end):
                    if spaces[i]:
                        continue
                    in_sent = True
                    text = strings[orths[i]]
                    a = self._attr_id(text, *self._en_attrs(text, heading, strings[lemmas[i]],
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
        cache_dir = self._cache_dir()
        tk.tmp_dir = str(cache_dir)
        tk.cache_file = f"jieba.{digest}.cache"
        _read_jieba_cache(tk, cache_dir / tk.cache_file)
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
        self._zh_split = jieba.re_han_default.split  # jieba's blocks (:meth:`_zh_cut`)

    def _to_simplified(self, text: str) -> str:
        """OpenCC t2s of ``text``; ``text`` itself when no t2s mapping applies to it.

        OpenCC's ``convert`` splits the text at its separators (``split_chars_re``: white space and
        punctuation, never part of a dictionary key), converts each piece on its own (``_convert``)
        and keeps the separators; so each distinct piece is converted once per Segmenter (and a
        piece no mapping changes is its own conversion, :func:`_t2s_changes`): the same text as
        ``convert``. An OpenCC without those attributes converts the whole text.
        """
        cc, changes = self._zh[1], self._t2s_changes
        if changes is not None and not changes(text):
            return text
        split, convert = getattr(cc, "split_chars_re", None), getattr(cc, "_convert", None)
        chain = getattr(cc, "_dict_chain_data", None)
        if split is None or convert is None or chain is None or changes is None:
            return cc.convert(text)
        memo, parts = self._t2s_memo, split.split(text)
        for i in range(0, len(parts), 2):  # the pieces between the separators
            piece = parts[i]
            if piece:
                out = memo.get(piece)
                if out is None:
                    out = memo[piece] = convert(piece, chain) if changes(piece) else piece
                parts[i] = out
        return "".join(parts)

    def _zh_attr_id(self, text: str, simplified: str, date: bool = False) -> int:
        """Attribute number of a Chinese token ``text`` whose t2s form is ``simplified``.

        Not kept: stop words, ``zh_drop_chars``, ``zh_drop`` patterns (dates, counts,
        ordinals, numerals) and a ``date`` (a number joined with its ``zh_date_units`` unit)."""
        norm = unicodedata.normalize("NFKC", simplified).lower()
        is_stop = norm in self._zh[2]
        dropped = date or norm in self._zh_drop_chars or any(rx.fullmatch(norm) for rx in self._zh_drop)
        return self._attr_id(text, norm, norm, is_stop, not is_stop and not dropped)

    def _zh_word(self, word: str) -> tuple[int, ...]:
        """The row of the word table (:data:`_ZH_FIELDS`) of a jieba word that is its own text and
        t2s form."""
        enders = self.cfg["zh_sentence_end"]
        number = bool(_NUMBER.match(word) or _ZH_NUMERAL.fullmatch(word))
        return (word.isspace(), word in enders, word in enders or word in _CLOSERS, number, word in self._zh_units,
                _PLUS.fullmatch(word) is not None, self._zh_attr_id(word, word), len(word))

    def _zh_numbers(self, words: list[str]) -> list[int]:
        """The numbers of ``words`` in the word table (:data:`_ZH_FIELDS`, one row per distinct word
        seen by this Segmenter, added when new)."""
        memo, rows = self._zh_memo, self._zh_rows
        numbers = []
        for w in words:
            i = memo.get(w)
            if i is None:
                i = memo[w] = len(rows)
                rows.append(self._zh_word(w))
            numbers.append(i)
        return numbers

    def _zh_word_rows(self, numbers: list[int]) -> np.ndarray:
        """The rows of the word table (:data:`_ZH_FIELDS`) of the words numbered ``numbers``."""
        if len(self._zh_words) < len(self._zh_rows):
            new = np.array(self._zh_rows[len(self._zh_words):], dtype=np.int64).reshape(-1, len(_ZH_FIELDS))
            self._zh_words = np.concatenate([self._zh_words, new])
        return self._zh_words[np.array(numbers, dtype=np.int64)]

    def _zh_cut(self, text: str, words: list[int]) -> None:
        """Append the numbers (:meth:`_zh_numbers`) of jieba's words of ``text`` (``Tokenizer.lcut(text,
        HMM=hmm)``) to ``words``, each of its blocks cut once per Segmenter.

        jieba's ``cut`` (not ``cut_all``) splits the text with its ``re_han_default`` into blocks
        (runs of the characters it can join into a word, and the runs between them) and cuts each
        block on its own: a block's words depend only on the block and the dictionary, which is
        fixed once loaded. So the words of a text are the words of its blocks, each block cut by
        jieba itself (``lcut`` of the block, which is then its only block) and kept per distinct
        block: the same words as cutting the text, with repeated clauses cut once. A block is kept
        with its words' numbers, so that a word is looked up once per distinct block, not per token.
        """
        memo, split = self._zh_blocks, self._zh_split
        for block in split(text):
            if block:
                cut = memo.get(block)
                if cut is None:
                    cut = memo[block] = self._zh_numbers(self._zh[0].lcut(block, HMM=self.cfg["hmm"]))
                words += cut

    def _segment_zh(self, paragraphs: list[str]) -> dict[str, np.ndarray]:
        """Columns ``para``, ``sent``, ``idx``, ``attr`` of the tokens of a Chinese text.

        jieba cuts each paragraph (its t2s form when that has the same length); the words'
        flags and attributes come from the word table (:meth:`_zh_word_rows`), computed once per
        distinct word, and the rest runs on arrays for the whole text: white space is dropped;
        a ``zh_date_units`` unit right after a number (2024 + 年) and plus signs glued to the word
        before them (互联网 + "+", not a sign before a digit) join the token before them, one
        by one in text order (the few candidates); sentences end after a ``zh_sentence_end``
        character, with the closing quotes and brackets that follow it (:func:`_sentence_starts`).
        A paragraph that is not its own t2s form takes its tokens' text from the original
        characters and their norm from the t2s form.
        """
        if self._zh is None:
            self._load_zh()
        cc = self._zh[1]
        words, counts, texts = [], [], []
        for original in paragraphs:
            converted = self._to_simplified(original) if cc else original
            same_length = len(converted) == len(original)
            source = converted if same_length else original
            # The usual case: jieba's words are the text's words and their own t2s forms.
            plain = same_length and converted == original
            n = len(words)
            self._zh_cut(source, words)
            counts.append(len(words) - n)
            texts.append((original, source, same_length, plain))
        rows = self._zh_word_rows(words)
        lengths = rows[:, _ZH_LENGTH]
        para = np.repeat(np.arange(len(counts)), counts)
        offset = np.cumsum([0] + [len(t[1]) for t in texts])  # of each paragraph in the text's words
        cut = np.cumsum(lengths)
        assert np.array_equal(np.concatenate(([0], cut))[np.cumsum(counts, dtype=np.int64)], offset[1:]), \
            "jieba lost characters"
        end = cut - offset[para]
        start = end - lengths
        kept = np.flatnonzero(rows[:, _ZH_SPACE] == 0)
        rows, para, start, end = rows[kept], para[kept], start[kept], end[kept]
        attr = rows[:, _ZH_ATTR].copy()
        odd = [i for i, t in enumerate(texts) if not t[3]]
        for k in np.flatnonzero(np.isin(para, odd)).tolist() if odd else []:
            # text from the original characters, norm from the t2s form
            original, source, same_length, _ = texts[para[k]]
            pair = (original[start[k]:end[k]], source[start[k]:end[k]])
            a = self._zh_pair_memo.get(pair)
            if a is None:
                a = self._zh_pair_memo[pair] = self._zh_attr_id(pair[0], pair[1] if same_length
                                                                else self._to_simplified(pair[1]))
            attr[k] = a
        # tokens that join the token before them: candidates by the flags, decided in text order
        # (a number whose unit joined it takes no second unit)
        adjacent = np.zeros(len(para), dtype=bool)
        adjacent[1:] = (para[1:] == para[:-1]) & (start[1:] == end[:-1])
        after_number = np.zeros(len(para), dtype=bool)
        after_number[1:] = rows[:-1, _ZH_NUMBER] == 1
        candidates = adjacent & (((rows[:, _ZH_UNIT] == 1) & after_number) | (rows[:, _ZH_PLUS] == 1))
        merged = np.zeros(len(para), dtype=bool)
        head: dict[int, int] = {}  # a joined token -> the token it joined
        for k in np.flatnonzero(candidates).tolist():
            original, source, same_length, plain = texts[para[k]]
            e = int(end[k])
            if rows[k, _ZH_UNIT] and rows[k - 1, _ZH_NUMBER] and not merged[k - 1]:
                date = True  # number + unit (2024 + 年, 150 + 多): one token, a date or count, not kept
            elif rows[k, _ZH_PLUS] and not source[e:e + 1].isdigit():
                # a plus glued to the word before ("互联网+", the "X+" action plans) is part of that
                # term: one token, kept as the word is (jieba and the punctuation rule would cut it off);
                # not a sign before a number (增长+5%)
                date = False
            else:
                continue
            h = head[k] = head.get(k - 1, k - 1)
            merged[k] = True
            s0 = int(start[h])
            text = original[s0:e]
            a = self._zh_unit_memo.get(text) if date and plain else None
            if a is None:
                a = self._zh_attr_id(text, source[s0:e] if same_length else self._to_simplified(text), date)
                if date and plain:
                    self._zh_unit_memo[text] = a
            attr[h] = a
        kept = np.flatnonzero(~merged)
        para, rows = para[kept], rows[kept]
        ends = rows[:, _ZH_ENDS] == 1
        starts = _sentence_starts(para, np.bincount(para, minlength=len(counts)), (rows[:, _ZH_STAYS] == 1) & ~ends,
                                  ends)
        return {"para": para, "sent": np.cumsum(starts) - 1, "idx": start[kept], "attr": attr[kept]}

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

    def _entity_spans(self, lang: str, distinct: list[int], inverse: np.ndarray, sent: np.ndarray) -> list:
        """Entity matches (first token, last token, id) of one text (:func:`textdrift.entities.find_spans`);
        token ``k`` has the attribute number ``distinct[inverse[k]]``. A token's key (:func:`en_key`
        of its text, or its norm) and whether a match can start at it are kept per attribute number."""
        from textdrift.entities import en_key, find_spans

        table, prefixes, first = self._alias_table(lang)
        if not table:
            return []
        memo = self._entity_keys.setdefault(lang, {})
        for a in distinct:
            if a not in memo:
                key = en_key(self._attrs[a][0]) if lang == "en" else self._attrs[a][1]
                memo[a] = (key, key in first)
        known = [memo[a] for a in distinct]
        can_start = np.fromiter((k[1] for k in known), bool, len(known))
        candidates = np.flatnonzero(can_start[inverse])
        if not len(candidates):
            return []
        keys = np.asarray([k[0] for k in known], dtype=object)[inverse].tolist()
        # the sentence numbers as Python ints: find_spans compares them one by one
        return find_spans(keys, sent.tolist(), table, lang != "en", candidates.tolist(), prefixes)

    def _entity_attrs(self, attr: np.ndarray, spans: list) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """The attribute numbers of a text's tokens with its entity mentions applied, and its
        ``entity`` column (a number per token, -1 for none, and the ids they number): a mention's first token gets ``norm`` ``@<id>``, is kept and not a stop
        word, the rest of the mention is not kept, every token of it has ``entity`` = the id
        (mentions applied in order)."""
        from textdrift.counting import ENTITY_HEAD

        attr = attr.copy()
        codes = np.full(len(attr), -1, dtype=np.int64)
        ids: dict[str, int] = {}
        changes: dict[int, dict] = {}  # token -> the attributes a mention sets
        for first, last, eid in spans:
            changes.setdefault(first, {}).update(norm=ENTITY_HEAD + eid, keep=True, is_stop=False)
            for k in range(first + 1, last + 1):
                changes.setdefault(k, {})["keep"] = False
            codes[first:last + 1] = ids.setdefault(eid, len(ids))
        for k, change in changes.items():
            text, norm, lemma, is_stop, is_punct, keep = self._attrs[attr[k]]
            attr[k] = self._row_id((text, change.get("norm", norm), lemma, change.get("is_stop", is_stop), is_punct,
                                    change.get("keep", keep)))
        return attr, codes, list(ids)

    def _document_columns(self, doc_id: str, lang: str, paragraphs: list[str], roles: list[str] | None) -> dict:
        """The token columns of one text as arrays: ``para``, ``sent``, ``idx``, ``attr`` (the
        attribute numbers, entity mentions applied), ``entity`` (the number of each token's entity
        in ``entities``, -1 for none) and ``entities`` (their ids)."""
        if lang == "zh":
            cols = self._segment_zh(paragraphs)
        elif lang == "en":
            cols = self._segment_en(paragraphs)
        else:
            raise ValueError(f"{doc_id}: cannot segment language {lang!r}; supported: {LANGUAGES}")
        if roles is not None and len(roles) != len(paragraphs):
            raise ValueError(f"{doc_id} [{lang}]: {len(roles)} roles for {len(paragraphs)} paragraphs")
        cols = {k: np.asarray(v, dtype=np.int64) for k, v in cols.items()}
        cols["entity"], cols["entities"] = np.full(len(cols["attr"]), -1, dtype=np.int64), []
        if self.entities and len(cols["attr"]):
            distinct, inverse = _dense_unique(cols["attr"], len(self._attrs))
            spans = self._entity_spans(lang, distinct.tolist(), inverse, cols["sent"])
            if spans:
                cols["attr"], cols["entity"], cols["entities"] = self._entity_attrs(cols["attr"], spans)
        return cols

    def _token_table(self, texts: list[tuple]) -> pa.Table:
        """One Arrow table (``TOKEN_SCHEMA``) of the tokens of many texts, each given as
        ``(doc_id, year, lang, roles of its paragraphs, its columns)`` (:meth:`_document_columns`):
        the numeric columns concatenated, each string column taken from its distinct values."""
        def cat(name):
            return np.concatenate([t[4][name] for t in texts]) if texts else np.zeros(0, np.int64)

        sizes = np.array([len(t[4]["attr"]) for t in texts], dtype=np.int64)
        text_of = np.repeat(np.arange(len(texts)), sizes)
        cols = {name: cat(name) for name in ("para", "sent", "idx")}
        # the attribute columns: the distinct attributes, taken for each token
        distinct, inverse = _dense_unique(cat("attr"), len(self._attrs))
        rows = [self._attrs[i] for i in distinct.tolist()]
        positions = pa.array(inverse.astype(np.int64))
        names = ("text", "norm", "lemma", "is_stop", "is_punct", "keep")
        for name, values in zip(names, zip(*rows) if rows else [()] * len(names)):
            cols[name] = pa.array(values, TOKEN_SCHEMA.field(name).type).take(positions)
        # a paragraph's role; the entity; the text's doc_id, year and language
        first_para = np.cumsum([0] + [len(t[3]) for t in texts])[:-1]
        roles = pa.array([r for t in texts for r in t[3]], pa.string())
        cols["role"] = roles.take(pa.array(cols["para"] + first_para[text_of]))
        first_entity = np.cumsum([0] + [len(t[4]["entities"]) for t in texts])[:-1]
        entity = cat("entity")
        entity = np.where(entity < 0, -1, entity + first_entity[text_of])
        ids = pa.array([e for t in texts for e in t[4]["entities"]], pa.string())
        cols["entity"] = ids.take(pa.array(entity, mask=entity < 0))
        cols["doc_id"] = pa.array([str(t[0]) for t in texts], pa.string()).take(pa.array(text_of))
        cols["year"] = pa.array(np.repeat(np.array([int(t[1]) for t in texts], dtype=np.int32), sizes), pa.int32())
        cols["lang"] = pa.array([t[2] for t in texts], pa.string()).take(pa.array(text_of))
        return _table(cols)

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
        cols = self._document_columns(doc_id, lang, paragraphs, roles)
        roles = roles if roles is not None else ["body"] * len(paragraphs)
        return self._token_table([(doc_id, year, lang, roles, cols)])

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


@dataclass(frozen=True)
class SegmentMemoSettings(MemoLocation, Settings):
    """The per-text memo's settings (the ``segment_memo`` block of the configuration; defaults from
    the schema: ``SegmentMemoSettings.from_config(config)``).

    Attributes
    ----------
    memo : bool
        Whether the `segment` jobs use the memo.
    memo_dir : str or None
        Its directory; None: ``cache/segment`` beside ``processed_dir``.
    """

    memo: bool = setting("segment_memo", "memo")
    memo_dir: str | None = setting("segment_memo", "memo_dir")
    NAME = "segment"


#: the first bytes of an entry (the layout's version)
_MEMO_MAGIC = b"textdrift-segment-memo-1\n"
#: the distributions whose versions are part of :func:`memo_salt` (the segmenters and their data)
_SEGMENTERS = ("jieba", "spacy", "spacy-lookups-data", "opencc-python-reimplemented")


def memo_salt(cfg: dict, files: list) -> str | None:
    """What a text's tokens depend on besides its language and paragraphs: the ``segment`` settings
    (``cache_dir`` aside: where jieba's cache lives changes no token), the bytes of ``files``, the
    versions of the segmenters and of a trained ``en_model``, and :func:`textdrift.memo.code_digest`.

    Parameters
    ----------
    cfg : dict
        The ``segment`` block, complete (:attr:`Segmenter.cfg`).
    files : list of path-like
        Every file the segmenter reads: the user dictionary, the stop-word lists, the entity list
        and its schema (a missing one is hashed as missing).

    Returns
    -------
    str or None
        Hex digest; None when ``en_model`` names no installed package (a path: its version cannot
        be read, so the memo is not used).
    """
    from importlib import metadata

    h = hashlib.sha256(code_digest().encode())
    h.update(json.dumps({k: v for k, v in cfg.items() if k != "cache_dir"}, sort_keys=True,
                        ensure_ascii=False).encode("utf-8"))
    for package in (*_SEGMENTERS, *([cfg["en_model"]] if cfg.get("en_model") else [])):
        try:
            version = metadata.version(package)
        except metadata.PackageNotFoundError:
            if package == cfg.get("en_model"):
                return None
            version = None
        h.update(f"\0{package}={version}".encode())
    for path in files:
        try:
            data = Path(path).read_bytes()
        except OSError:
            data = None
        h.update(b"\0missing" if data is None else len(data).to_bytes(8, "little") + data)
    return h.hexdigest()


def _narrow(values: np.ndarray) -> np.ndarray:
    """``values`` (integers) in the smallest integer type that holds them (an entry's size)."""
    if not len(values):
        return values.astype(np.int8)
    return values.astype(np.result_type(np.min_scalar_type(int(values.min())), np.min_scalar_type(int(values.max()))))


class TextMemo(EntryStore):
    """One shard's per-text entries (:class:`textdrift.memo.EntryStore`): a text's columns
    (:meth:`Segmenter._document_columns`) under a key of its language, its paragraphs and ``salt``
    (:func:`memo_salt`). An entry holds the text's distinct attribute rows (text, norm, lemma,
    is_stop, is_punct, keep) and, per token, the number of its row, so that a hit is renumbered into
    the shard's Segmenter (``_row_id``); pickled (zlib level 1 cost 0.66 s of a 10 MB shard's job
    for a quarter of the 22 MB: not used).

    Parameters
    ----------
    directory : str or Path
        The shard's directory (``<memo_dir>/shard-<n>``).
    salt : str
        :func:`memo_salt`.
    """

    _COLUMNS = ("para", "sent", "idx", "entity")

    def __init__(self, directory, salt: str):
        super().__init__(directory, "segment", _MEMO_MAGIC, "every text is segmented")
        self.salt = salt

    def key(self, lang: str, paragraphs: list[str]) -> str:
        """The key of a text.

        Parameters
        ----------
        lang : str
        paragraphs : list of str

        Returns
        -------
        str
        """
        h = hashlib.blake2b(f"{self.salt}\0{lang}\0{len(paragraphs)}".encode(), digest_size=20)
        for para in paragraphs:
            data = para.encode("utf-8")
            h.update(len(data).to_bytes(8, "little"))
            h.update(data)
        return h.hexdigest()

    def columns(self, seg: "Segmenter", key: str) -> dict | None:
        """The columns stored under ``key``, their attributes numbered in ``seg``; None on a miss.

        Parameters
        ----------
        seg : Segmenter
        key : str

        Returns
        -------
        dict or None
        """
        payload = self.get(key)
        if payload is None:
            return None
        entry = pickle.loads(payload)
        cols = {name: entry[name].astype(np.int64) for name in self._COLUMNS}
        rows = np.array([seg._row_id(tuple(values)) for values in entry["rows"]], dtype=np.int64)
        cols["attr"] = rows[entry["attr"]] if len(rows) else np.zeros(0, np.int64)
        cols["entities"] = list(entry["entities"])
        return cols

    def keep(self, seg: "Segmenter", key: str, cols: dict) -> None:
        """Store a text's columns under ``key``.

        Parameters
        ----------
        seg : Segmenter
            The Segmenter whose attribute numbers ``cols`` holds.
        key : str
        cols : dict
            :meth:`Segmenter._document_columns`.
        """
        distinct, inverse = _dense_unique(cols["attr"], len(seg._attrs))
        entry = {name: _narrow(cols[name]) for name in self._COLUMNS}
        entry["attr"] = _narrow(inverse)
        entry["rows"] = [seg._attrs[i] for i in distinct.tolist()]
        entry["entities"] = list(cols["entities"])
        self.put(key, pickle.dumps(entry, protocol=5))


def text_memo(config: dict | None, token_path, seg: "Segmenter", files: list) -> TextMemo | None:
    """The memo of the shard whose token table is ``token_path``, or None (no configuration, the memo
    off, or no salt: :func:`memo_salt`).

    Parameters
    ----------
    config : dict or None
        The workflow's configuration (the ``segment_memo`` block and ``processed_dir``).
    token_path : str or Path
        The token shard (``shard-<n>.parquet``): its name names the shard's directory.
    seg : Segmenter
        The job's Segmenter (its complete settings).
    files : list of path-like
        The files the segmenter reads (:func:`memo_salt`).

    Returns
    -------
    TextMemo or None
    """
    if config is None:
        return None
    where = SegmentMemoSettings.from_config(config).directory(config.get("processed_dir"))
    salt = memo_salt(seg.cfg, files) if where is not None else None
    return None if salt is None else TextMemo(where / Path(token_path).name.split(".")[0], salt)


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
    return _shard_table(docs, Segmenter(cfg, base_dir, entities)).to_pandas() if docs else empty_tokens()


def _shard_table(docs: list[dict], seg: Segmenter, memo: TextMemo | None = None) -> pa.Table:
    """:func:`segment_shard` as one Arrow table (``TOKEN_SCHEMA``), with ``seg``; each text's columns
    from ``memo`` when it holds them (stored there when not)."""
    from textdrift.structure import decode_roles

    texts = []
    for d in docs:
        paras = d["paragraphs"]
        roles = decode_roles(d.get("roles"), len(paras))
        key = memo.key(d["lang"], paras) if memo is not None else None
        cols = memo.columns(seg, key) if memo is not None else None
        if cols is None:
            cols = seg._document_columns(d["doc_id"], d["lang"], paras, roles)
            if memo is not None:
                memo.keep(seg, key, cols)
        texts.append((d["doc_id"], d["year"], d["lang"], roles, cols))
    return seg._token_table(texts)


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


def _write_token_table(table: pa.Table, path: str | os.PathLike) -> None:
    """Write a token table (``TOKEN_SCHEMA``) as :func:`write_tokens` writes it once converted to
    pandas (the same file, without the round trip: with the schema metadata ``from_pandas`` adds)."""
    meta = pa.Table.from_pandas(empty_tokens(), schema=TOKEN_SCHEMA, preserve_index=False).schema.metadata
    write_arrow(table.replace_schema_metadata(meta), path)


@contextlib.contextmanager
def _few_collections(allocations: int = 50_000):
    """Run the block with Python's cyclic garbage collector started after ``allocations`` new
    container objects instead of the default 700 (``gc.set_threshold``; restored after).

    jieba's cut makes a dict, lists and tuples per block and per position, none of them in a
    reference cycle, and the collector walked the young objects every 700 of them: about 0.4 s of
    CPU of a 10 MB shard's job (5 %), for no memory (peak RSS unchanged). The tokens do not depend on
    when the collector runs.

    Parameters
    ----------
    allocations : int
        The first generation's threshold.
    """
    import gc

    before = gc.get_threshold()
    gc.set_threshold(max(allocations, before[0]), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def run_segment(input, output, params, log, config: dict | None = None) -> None:
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
    config : dict, optional
        The workflow's configuration: the ``segment_memo`` block and ``processed_dir``
        (:func:`text_memo`); None: no memo.
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
    from textdrift.counting import ENTITY_HEAD

    seg = Segmenter(params.segment, Path.cwd(), entities)
    files = [seg._path(seg.cfg[k]) for k in ("zh_user_dict", "zh_stopwords", "en_stopwords_extra") if seg.cfg[k]]
    memo = text_memo(config, output[0], seg, [*files, *(input.get("entities") or [])])
    with _few_collections():
        tokens = _shard_table(docs, seg, memo)
    logger.info("segmented %d texts into %d tokens (%d entity mentions)", len(docs), tokens.num_rows,
                pc.sum(pc.starts_with(tokens["norm"], ENTITY_HEAD)).as_py() or 0)
    _write_token_table(tokens, output[0])
    if memo is not None:
        memo.prune()
        logger.info("%s", memo.summary())
