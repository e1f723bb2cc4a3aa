"""The `theme_matches` rule with a per-theme memo: after a codebook edit, each shard rematches only
the themes the edit changed.

What a theme's matches depend on
--------------------------------
A shard's `theme_matches` job writes four tables (:func:`shard_outputs`): the theme matches with
their KWIC context (:func:`textdrift.matching.match_themes` on the ``base`` tokens), the entity
mentions (the same on the entity list as a codebook, :func:`textdrift.codebook.entity_codebook`)
and, for each of the findings checks' variants (``roles``, ``entities``;
:data:`textdrift.counting.CHECK_VARIANTS`), the theme matches without context
(:func:`textdrift.themes.match_partials`, which rematches only the paragraphs a variant changes).
Read from :mod:`textdrift.matching`, what is separable:

* **Theme by theme.** A theme's candidates, its context rules (``exclude``, ``near``: per term),
  the entity rule (per match) and the overlap resolution (greedy, *within one theme*; different
  themes are resolved independently) read only that theme's terms, rules and entity members; a
  term's tie-break rank is its position in its own theme's list. So a theme's rows are the same
  whichever other themes are matched with it (tested: every theme alone against the whole codebook).
  The variants' rows of a theme are its ``base`` rows outside the paragraphs the variant changes
  plus that theme's matches in those paragraphs: per theme too.
* **Across themes** only the row order: :func:`textdrift.matching.order_matches` sorts on
  (year, lang, theme in codebook order, doc_id, para, start_idx), a unique key (matches of one
  theme never overlap), so the table does not depend on the order its rows were found in. It is
  redone on the whole table every time.
* **The entity mentions** do not depend on the codebook's themes at all (only on the entity list,
  through its ids and head tokens ``@id``): after a codebook edit they come whole from the memo.

The memo
--------
An entry is one theme's rows in one language of one of the three theme tables (``base`` with
KWIC, ``roles``, ``entities``; without the ``theme`` column, so a renamed theme is found again):
languages are matched separately too, so editing a theme's English terms rematches its English
rows only. Or it is the entity mentions' whole Parquet file. Its key (:class:`MemoKeys`) is the
BLAKE2b digest of a canonical JSON of everything those rows depend on: the token shard's content
(SHA-256 of the file), the language, the theme's terms in it in order and their context rules,
its entity members (in order), of these only those that can match in the shard
(:meth:`textdrift.matching.Vocabulary.may_match` on the shard's norms and lower-cased lemmas: a
term with no candidate changes no row, so adding or removing one, e.g. a term of a document not
in this shard, rematches nothing here; tested against the matcher), the languages analysed, ``unspaced_languages``, ``count_roles``, ``kwic_window`` (the ``base`` rows
only: the variants have no context), the table, and the code: every module of the package
(:func:`textdrift.provenance.library_modules`, their bytes) and the versions of Python and the
numerical packages (:func:`textdrift.memo.code_digest`). The entries are kept by
:class:`textdrift.memo.EntryStore` (checksummed, written atomically, pruned after each job). A (theme, language) whose entry is missing is
matched (all such themes of a language in one call, on that language's tokens), its rows stored; the tables are then assembled from the entries
and ordered (:func:`textdrift.matching.order_matches`), with the same dtypes as a full match, so
the files are byte-identical to a job without the memo (tested on tiny fixtures after every kind
of codebook edit, and with ``cmp`` on a 50 MB corpus). When every theme misses (a cold run, a
new shard) the job matches the whole codebook as without the memo and stores the entries. The
job's files are kept too, as one entry (:meth:`MemoKeys.files`: every entry's key, the themes' ids in
order, the entity mentions' key): when no entry changed (a codebook edit whose added terms have no
candidate in the shard, a touched codebook) they are copied from it, nothing read or assembled.

The store (:class:`MatchMemo`) is a directory per shard under ``theme_matches.memo_dir`` (default
``<processed_dir>/../cache/theme_matches``, i.e. ``data/cache/theme_matches/shard-<n>/``), outside
Snakemake's outputs (so it never triggers a rerun and is never required). Entries are written
atomically (temporary file + rename) as a header, a BLAKE2b digest of the key and the payload,
and the payload (an lz4-compressed Arrow IPC stream, or the Parquet bytes); a read checks the
header and the digest, so an unreadable, truncated or altered entry is a miss that is logged
(warning) and recomputed, never a crash or a wrong row. After the job the shard's entries it did
not use are removed, so the store holds about one codebook's worth per shard. A directory that
cannot be created or written (a cluster node without the project's file system, object storage)
only makes misses. ``theme_matches.memo: false`` turns it off. The settings are read from the
configuration, not passed as rule params: turning the memo off or moving it changes no output
and must not rerun the jobs.

Why one module of about 630 lines, a third of them docstrings: the key, the store and the
assembly of the tables must agree with each other and with a full match byte for byte, and are
tested together (tests/test_matchmemo.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from textdrift.codebook import Theme, entity_codebook
from textdrift.config import Settings, setting
from textdrift.counting import CHECK_VARIANTS, ENTITY_HEAD, TokenCodes, read_tokens
from textdrift.counting import TOKEN_COLUMNS as ALL_COLUMNS
from textdrift.io import atomic_write_bytes, file_sha256
from textdrift.matching import MATCH_COLUMNS, Vocabulary, match_codebooks, match_themes, order_matches
from textdrift.memo import EntryStore, MemoLocation, code_digest
from textdrift.themes import MATCH_KEY, CodebookFiles, ThemesSettings, match_partials

__all__ = ["MAGIC", "MatchMemo", "MemoKeys", "MemoSettings", "code_digest", "memo_for",
           "run_theme_matches", "shard_outputs"]

log = _log = logging.getLogger("textdrift.matchmemo")

#: the first bytes of every entry (the layout's version: a new layout makes every old entry a miss)
MAGIC = b"textdrift theme_matches memo 1\n"
#: the theme tables, each memoised per theme: "base" (matches with KWIC), then the checks' variants
PARTS = ("base", *CHECK_VARIANTS)
_ENTITIES = "entity_mentions"  # the entity mentions' entry (a whole Parquet file)
_FILES = "files"  # the entry of the shard's files as a whole (the outputs' bytes, :func:`_pack`)
_FILE_NAMES = (_ENTITIES, "matches", *CHECK_VARIANTS)
_STR, _INT = pa.large_string(), pa.int64()
#: an entry's columns (a table's without ``theme``), types as the tables are written
_SCHEMAS = {
    "base": pa.schema([(c, _INT if c in ("year", "para", "sent", "start_idx", "end_idx") else _STR)
                       for c in MATCH_COLUMNS if c != "theme"]),
    "variant": pa.schema([(c, _INT if c in ("year", "para", "start_idx") else _STR) for c in MATCH_KEY if c != "theme"]),
}


@dataclass(frozen=True)
class MemoSettings(MemoLocation, Settings):
    """The memo's settings (the ``theme_matches`` block of the configuration; defaults from the
    schema: ``MemoSettings.from_config(config)``).

    Attributes
    ----------
    memo : bool
        Whether the `theme_matches` jobs use the memo.
    memo_dir : str or None
        Its directory; None: ``cache/theme_matches`` beside ``processed_dir``.
    """

    memo: bool = setting("theme_matches", "memo")
    memo_dir: str | None = setting("theme_matches", "memo_dir")
    NAME = "theme_matches"


class MemoKeys:
    """The keys of one shard's entries: the digest of a canonical JSON of what the rows depend on
    (see the module docstring).

    Parameters
    ----------
    token_path : str or Path
        The token shard (its content is part of every key).
    languages : sequence of str
        The languages analysed.
    settings : ThemesSettings
        ``kwic_window``, ``unspaced_languages``, ``count_roles``.
    code : str, optional
        :func:`code_digest` (computed when not given).
    """

    def __init__(self, token_path, languages, settings: ThemesSettings, code: str | None = None):
        self.window = int(settings.kwic_window)
        self.path, self.unspaced, self._vocabulary = token_path, set(settings.unspaced_languages), None
        self._contents: dict = {}  # (id of a theme, language) -> (the theme, what its keys hold)
        self.common = {
            "code": code or code_digest(),
            "shard": file_sha256(token_path),
            "languages": sorted(languages),
            "unspaced_languages": sorted(settings.unspaced_languages),
            "count_roles": None if settings.count_roles is None else sorted(settings.count_roles),
        }

    def _key(self, what: dict) -> str:
        text = json.dumps({**self.common, **what}, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.blake2b(text.encode("utf-8"), digest_size=20).hexdigest()

    def theme(self, theme: Theme, part: str, lang: str) -> str:
        """The key of one theme's rows in one language of one table (``part``: one of
        :data:`PARTS`): its terms in that language in order, their rules, its entity members (not
        its id, labels or other languages).

        Parameters
        ----------
        theme : Theme
        part : str
        lang : str

        Returns
        -------
        str
        """
        # the same for the four tables and for looking up and storing: found once (a theme is
        # kept with its content, so that the `id` of an object no longer alive is never reused)
        kept = self._contents.get((id(theme), lang))
        if kept is None or kept[0] is not theme:
            words, unspaced = self.vocabulary(), lang in self.unspaced
            terms = [t for t in theme.terms.get(lang, ()) if words.may_match(t, unspaced)]
            rules = {term: [list(r.exclude), list(r.near), r.window] for term, r in theme.rules.get(lang, {}).items()
                     if term in terms}
            kept = theme, {"lang": lang, "terms": terms, "rules": rules,
                           "entities": [e for e in theme.entities if words.may_match(ENTITY_HEAD + e, unspaced)]}
            self._contents[(id(theme), lang)] = kept
        return self._key({"part": part, "kwic_window": self.window if part == "base" else None, "theme": kept[1]})

    def vocabulary(self) -> Vocabulary:
        """The shard's words (:class:`textdrift.matching.Vocabulary`): its norms and lower-cased
        lemmas in every language, read once (only these two columns, as their distinct values)."""
        if self._vocabulary is None:
            import pyarrow.compute as pc
            import pyarrow.parquet as pq

            table = pq.read_table(self.path, columns=["norm", "lemma"], read_dictionary=["norm", "lemma"])
            words = [pc.unique(pa.chunked_array([c.dictionary for c in table[name].chunks], pa.string()))
                     for name in ("norm", "lemma")]
            self._vocabulary = Vocabulary([w for w in words[0].to_pylist() + pc.utf8_lower(words[1]).to_pylist()
                                           if w is not None])
        return self._vocabulary

    def entries(self, job: _Job) -> list[str]:
        """The keys of every entry of ``job``'s tables (each table's (theme, language)s in order).

        Parameters
        ----------
        job : _Job

        Returns
        -------
        list of str
        """
        return [self.theme(job.codebook[j], part, lang) for part in PARTS for j, lang in job.cells]

    def files(self, job: _Job, entities_key: str) -> str:
        """The key of the shard's files as a whole: every entry's key in order, the themes' ids in
        codebook order (the ``theme`` column and the rows' order) and the entity mentions' key.

        Parameters
        ----------
        job : _Job
        entities_key : str
            :meth:`entities`.

        Returns
        -------
        str
        """
        return self._key({"part": _FILES, "entries": self.entries(job), "ids": job.ids, "entities": entities_key})

    def entities(self, entities) -> str:
        """The key of the entity mentions: each entity's id and head token, in order.

        Parameters
        ----------
        entities : list of Entity

        Returns
        -------
        str
        """
        return self._key({"part": _ENTITIES, "kwic_window": self.window,
                          "entities": [[e.id, e.norm] for e in entities]})


class MatchMemo(EntryStore):
    """One shard's directory of entries (:class:`textdrift.memo.EntryStore`): :meth:`get` and
    :meth:`put` by key, :meth:`prune` after the job.

    Parameters
    ----------
    directory : str or Path
        The shard's directory (created when missing).
    """

    def __init__(self, directory: str | Path):
        super().__init__(directory, "theme_matches", MAGIC, "matching every theme")


def memo_for(config: dict | None, token_path: str | Path) -> MatchMemo | None:
    """The memo of a token shard under a configuration (None when the memo is off).

    Parameters
    ----------
    config : dict or None
        The workflow's configuration (the ``theme_matches`` block and ``processed_dir``); None: no memo.
    token_path : str or Path
        The token shard: its file name (``shard-<n>``) names the shard's directory.

    Returns
    -------
    MatchMemo or None
    """
    if config is None:
        return None
    where = MemoSettings.from_config(config).directory(config.get("processed_dir"))
    return None if where is None else MatchMemo(where / Path(token_path).name.split(".")[0])


class _Tokens:
    """The shard's tokens, read once and only when some theme must be matched."""

    def __init__(self, path, languages, settings: ThemesSettings):
        self.path, self.languages, self.settings = path, languages, settings
        self._all = self._base = None
        self._lang: dict[str, TokenCodes] = {}

    def all(self) -> TokenCodes:
        if self._all is None:
            self._all = read_tokens(self.path, ALL_COLUMNS)
        return self._all

    def lang(self, lang: str) -> TokenCodes:
        """The rows of one language (taken once: the base table and each variant read them)."""
        if lang not in self._lang:
            tokens = self.all()
            inside = tokens.isin("lang", [lang])
            self._lang[lang] = tokens if inside.all() else tokens.take(inside)
        return self._lang[lang]

    def base(self) -> TokenCodes:
        if self._base is None:  # as textdrift.themes.match_shard: the languages analysed, the base variant
            tokens = self.all()
            inside = tokens.isin("lang", self.languages)
            tokens = tokens if inside.all() else tokens.take(inside)
            self._base = tokens.variant("base", self.settings.count_roles)
        return self._base


def _parquet(df: pd.DataFrame) -> bytes:
    """The bytes :func:`textdrift.io.write_parquet` writes for ``df``."""
    import pyarrow.parquet as pq

    buf = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), buf)
    return buf.getvalue().to_pybytes()


def _to_entry(table: pa.Table) -> bytes:
    """A theme's rows as an lz4-compressed Arrow IPC stream."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=pa.ipc.IpcWriteOptions(compression="lz4")) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _from_entry(payload: bytes, schema: pa.Schema) -> pa.Table | None:
    """The rows of an entry, or None when they are not a table of ``schema``."""
    try:
        table = pa.ipc.open_stream(payload).read_all()
    except (pa.ArrowException, OSError, ValueError) as e:
        log.warning("theme_matches memo: an entry does not decode (%s): recomputed", e)
        return None
    return table if table.schema.equals(schema) else None


def _split(df: pd.DataFrame, cells: list[tuple[str, str]], schema: pa.Schema) -> list[pa.Table]:
    """``df``'s rows of each (theme id, language) of ``cells`` (in ``df``'s order), as tables of
    ``schema`` (no ``theme``)."""
    table = pa.Table.from_pandas(df[[c for c in schema.names]], schema=schema, preserve_index=False)
    table = table.replace_schema_metadata(None)
    themes, theme_ids = pd.factorize(df["theme"])
    langs, lang_ids = pd.factorize(df["lang"])
    cell = np.full((len(theme_ids) + 1, len(lang_ids) + 1), -1, dtype=np.int64)  # (the last: a missing value)
    where = ({t: i for i, t in enumerate(theme_ids)}, {x: i for i, x in enumerate(lang_ids)})
    for k, (theme, lang) in enumerate(cells):
        if theme in where[0] and lang in where[1]:
            cell[where[0][theme], where[1][lang]] = k
    codes = cell[themes, langs]  # each row's position in cells, -1 for none
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(cells) + 1))
    table = table.take(pa.array(order))
    return [table.slice(bounds[j], bounds[j + 1] - bounds[j]) for j in range(len(cells))]


def _pack(files: dict[str, bytes]) -> bytes:
    """The rule's files as one entry: each file's length (8 bytes) and bytes, in :data:`_FILE_NAMES` order."""
    return b"".join(len(files[name]).to_bytes(8, "little") + files[name] for name in _FILE_NAMES)


def _unpack(payload: bytes | None) -> dict[str, bytes] | None:
    """:func:`_pack`'s files (None for None or a payload of another layout)."""
    if payload is None:
        return None
    files, at = {}, 0
    for name in _FILE_NAMES:
        size = int.from_bytes(payload[at:at + 8], "little")
        if at + 8 + size > len(payload):
            return None
        files[name], at = payload[at + 8:at + 8 + size], at + 8 + size
    return files if at == len(payload) else None


def _assemble(parts: list[pa.Table], ranks: list[int], ids: list[str]) -> pd.DataFrame | None:
    """The themes' rows as one DataFrame in table order (:func:`textdrift.matching.order_matches`),
    or None when a string column is missing in every row (a full match would not type it as text:
    the caller matches instead).

    ``parts``: the entries, ``ranks``: the codebook position of each one's theme. Each entry holds
    one theme's rows in one language in table order (stored from an ordered table), that is by
    (year, doc_id, para, start_idx); so the table's order, by (year, lang, theme in codebook order,
    doc_id, para, start_idx), is the entries' rows sorted by year, lang (missing last, as
    ``order_matches`` puts them), the theme's rank and the row's place in its entry: a sort of
    integers, not of the strings again."""
    import pyarrow.compute as pc

    table = pa.concat_tables(parts)
    if any(pa.types.is_large_string(f.type) and len(table) and table[f.name].null_count == len(table)
           for f in table.schema):
        return None
    n = np.array([len(p) for p in parts], dtype=np.int64)
    rank = np.repeat(np.asarray(ranks, dtype=np.int64), n)
    theme = pa.array(ids, type=_STR).take(pa.array(rank))
    names = MATCH_COLUMNS if "term" in table.column_names else MATCH_KEY
    table = table.add_column(names.index("theme"), "theme", theme).combine_chunks()
    if len(table):
        place = np.arange(len(table)) - np.repeat(np.cumsum(n) - n, n)
        lang = pc.dictionary_encode(table["lang"]).combine_chunks()
        order = pc.sort_indices(lang.dictionary).to_numpy()
        recode = np.empty(len(order) + 1, dtype=np.int64)
        recode[order] = np.arange(len(order))
        recode[-1] = len(order)  # missing last
        lang_rank = recode[lang.indices.fill_null(-1).to_numpy(zero_copy_only=False)]
        year = table["year"].to_numpy()
        table = table.take(pa.array(np.lexsort((place, rank, lang_rank, year)))).combine_chunks()
    return table.to_pandas()


def _empty_base(ids: list[str]) -> pd.DataFrame:
    """The theme matches of a shard with none (as :func:`textdrift.matching.match_themes` makes them)."""
    return order_matches(pd.DataFrame([], columns=MATCH_COLUMNS), ids)


class _Job:
    """One shard's theme tables from the memo and the matcher (:func:`shard_outputs`), entry by
    entry: one per (theme, language) and table."""

    def __init__(self, tokens: _Tokens, codebook: list[Theme], memo: MatchMemo | None, keys: MemoKeys | None):
        self.tokens, self.codebook, self.memo, self.keys = tokens, codebook, memo, keys
        self.ids = [t.id for t in codebook]
        #: (theme position, language) of every entry
        self.cells = [(j, lang) for j in range(len(codebook)) for lang in sorted(set(tokens.languages))]
        self.missed: dict[str, list[str]] = {}

    def lookup(self, part: str) -> list[pa.Table | None]:
        if self.memo is None:
            return [None] * len(self.cells)
        schema = _SCHEMAS["base" if part == "base" else "variant"]
        out = []
        for j, lang in self.cells:
            key = self.keys.theme(self.codebook[j], part, lang)
            payload = self.memo.get(key)
            table = None if payload is None else _from_entry(payload, schema)
            if payload is not None and table is None:
                self.memo.discard(key)
            out.append(table)
        self.missed[part] = [f"{self.ids[j]} ({lang})" for (j, lang), tb in zip(self.cells, out) if tb is None]
        return out

    def lookup_all(self) -> None:
        """Every table's entries (None where missing)."""
        self.found = {part: self.lookup(part) for part in PARTS}

    def store(self, part: str, df: pd.DataFrame, cells: list[int], found: list) -> None:
        """Put the rows of the entries ``cells`` (positions in :attr:`cells`, matched together into
        ``df``) into ``found`` and the memo."""
        schema = _SCHEMAS["base" if part == "base" else "variant"]
        pairs = [(self.ids[self.cells[k][0]], self.cells[k][1]) for k in cells]
        for k, table in zip(cells, _split(df, pairs, schema)):
            found[k] = table
            if self.memo is not None:
                j, lang = self.cells[k]
                self.memo.put(self.keys.theme(self.codebook[j], part, lang), _to_entry(table))

    def by_lang(self, found: list) -> dict[str, list[int]]:
        """The missing entries, by language (positions in :attr:`cells`)."""
        out: dict[str, list[int]] = {}
        for k, ((_, lang), tb) in enumerate(zip(self.cells, found)):
            if tb is None:
                out.setdefault(lang, []).append(k)
        return out

    def themes(self, cells: list[int]) -> list[Theme]:
        return [self.codebook[self.cells[k][0]] for k in cells]

    def assemble(self, found: list) -> pd.DataFrame | None:
        return _assemble(found, [j for j, _ in self.cells], self.ids)

    def full(self, part: str) -> bool:
        """Whether table ``part`` is matched whole (no entry stored, or an empty codebook)."""
        return not self.cells or all(t is None for t in self.found[part])

    def base(self, settings: ThemesSettings, whole: pd.DataFrame | None = None) -> pd.DataFrame:
        """The theme matches with KWIC (:func:`textdrift.matching.match_themes` on the base tokens);
        ``whole``: that match, when already made (:meth:`full`)."""
        s = settings
        found = self.found["base"]
        missing = self.by_lang(found)
        some = bool(missing) and sum(map(len, missing.values())) < len(self.cells)
        for lang, cells in missing.items() if some else ():  # only the missing (theme, language)s
            tokens = self.tokens.lang(lang).variant("base", s.count_roles)
            self.store("base", match_themes(tokens, self.themes(cells), s.kwic_window, s.unspaced_languages), cells,
                       found)
        rows = _assemble_or_none(self, found, some or not missing)
        if rows is None:  # nothing stored (cold, a new shard, no memo), or not typed as a full match: one full match
            df = whole if whole is not None else match_themes(self.tokens.base(), self.codebook, s.kwic_window,
                                                              s.unspaced_languages)
            if self.memo is not None and self.codebook and not some and missing:
                self.store("base", df, list(range(len(self.cells))), found)
            return df
        return rows if len(rows) else _empty_base(self.ids)

    def variant(self, name: str, base: pd.DataFrame, settings: ThemesSettings) -> pd.DataFrame:
        """A check variant's theme matches (:func:`textdrift.themes.match_partials` from ``base``)."""
        s = settings

        def match(tokens, themes, languages, base_rows):
            return match_partials(tokens, themes, languages, s.count_roles, s.unspaced_languages, [name],
                                  base=base_rows, with_paras=False)[1][name]

        found = self.found[name]
        missing = self.by_lang(found)
        some = bool(missing) and sum(map(len, missing.values())) < len(self.cells)
        for lang, cells in missing.items() if some else ():
            themes = self.themes(cells)
            rows = base[base["theme"].isin({t.id for t in themes}) & (base["lang"] == lang)]
            self.store(name, match(self.tokens.lang(lang), themes, [lang], rows), cells, found)
        rows = _assemble_or_none(self, found, some or not missing)
        if rows is None:
            # ``entities`` rematches paragraphs of the base variant only: given those tokens (kept for the
            # job), it selects no copy of them again
            tokens = self.tokens.base() if name == "entities" else self.tokens.all()
            df = match(tokens, self.codebook, self.tokens.languages, base)
            if self.memo is not None and self.codebook and not some and missing:
                self.store(name, df, list(range(len(self.cells))), found)
            return df
        if len(base):
            return rows
        # no base match: a full match's table is the empty base's rows plus the variant's own
        # (textdrift.themes._from_base), whose concatenation sets the dtypes
        empty = base[MATCH_KEY]
        return order_matches(pd.concat([empty, rows], ignore_index=True) if len(rows) else empty, self.ids)


def _assemble_or_none(job: _Job, found: list, stored: bool) -> pd.DataFrame | None:
    """The table from the entries when every one is there (``stored``), else None."""
    return job.assemble(found) if stored and job.cells else None


def shard_outputs(token_path, book: tuple, languages, settings: ThemesSettings | None = None,
                  memo: MatchMemo | None = None) -> dict[str, bytes]:
    """The files of the `theme_matches` rule for one token shard, as bytes: ``matches`` (theme
    matches with KWIC, :func:`textdrift.themes.match_shard`'s), ``entity_mentions``
    and one per check variant (:data:`textdrift.counting.CHECK_VARIANTS`,
    :func:`textdrift.themes.write_partial_matches`'), byte-identical to those functions' files;
    with a memo, each theme's rows are taken from it where stored (see the module docstring).

    Parameters
    ----------
    token_path : str or Path
        The token shard.
    book : (list of Theme, list of Entity)
        The codebook and the entities (:meth:`textdrift.themes.CodebookFiles.load`).
    languages : sequence of str
    settings : ThemesSettings, optional
        ``kwic_window``, ``unspaced_languages``, ``count_roles``.
    memo : MatchMemo, optional
        The shard's memo (:func:`memo_for`); None: everything is matched.

    Returns
    -------
    dict of str to bytes
        ``matches``, ``entity_mentions`` and each variant's name (``roles``, ``entities``) -> the
        Parquet file's bytes.
    """
    s = settings or ThemesSettings()
    codebook, entities = book
    tokens = _Tokens(token_path, languages, s)
    keys = MemoKeys(token_path, languages, s) if memo is not None else None
    job = _Job(tokens, codebook, memo, keys)
    out = {}
    key = keys.entities(entities) if memo is not None else None
    files_key = keys.files(job, key) if memo is not None and job.cells else None
    files = _unpack(memo.get(files_key)) if files_key is not None else None
    if files is not None:  # every entry the same as when these files were made: the files themselves
        memo.retain([key, *keys.entries(job)])
        log.info("theme_matches memo %s: every (theme, language) and the entity mentions as when the shard's files "
                 "were last made: the files copied from the memo", memo.dir)
        return files
    data = memo.get(key) if memo is not None else None
    entity_hit = data is not None
    job.lookup_all()
    whole = None
    if data is None:  # with the whole codebook too when every theme misses: each language prepared once
        books = [entity_codebook(entities, languages), *([codebook] if job.full("base") else [])]
        mentions, *rest = match_codebooks(tokens.base(), books, s.kwic_window, s.unspaced_languages)
        whole = rest[0] if rest else None
        data = _parquet(mentions)
        if memo is not None:
            memo.put(key, data)
    out["entity_mentions"] = data
    base = job.base(s, whole)
    out["matches"] = _parquet(base)
    for name in CHECK_VARIANTS:
        out[name] = _parquet(job.variant(name, base, s))
    if files_key is not None:
        memo.put(files_key, _pack(out))
    if memo is not None:
        matched = "; ".join(f"{part}: {len(job.missed[part])} of {len(job.cells)}"
                            + (f" ({', '.join(job.missed[part])})" if 0 < len(job.missed[part]) < len(job.cells) else "")
                            for part in PARTS)
        log.info("theme_matches memo %s: %d entries read, %d missed, %d unreadable, %d written; (theme, language)s "
                 "matched (the rest from the memo): %s; entity mentions %s", memo.dir, memo.hits, memo.misses, memo.bad,
                 memo.written, matched, "from the memo" if entity_hit else "matched")
    return out


def run_theme_matches(input, output, params, log, config: dict | None = None) -> None:
    """Rule ``theme_matches``: the codebook's and the entities' matches in one token shard and the
    findings checks' variants (:func:`shard_outputs`), with the per-theme memo of the
    configuration's ``theme_matches`` block.

    Parameters
    ----------
    input, output, params : Snakemake's named lists of the rule (``workflow/rules/themes.smk``)
        Attribute access by the names the rule gives; any object with those attributes works.
    log : list of str
        The job's log file (first item).
    config : dict, optional
        The workflow's configuration (``snakemake.config``): the memo's settings and
        ``processed_dir``; None: no memo.
    """
    from textdrift.io import log_to_file

    log_to_file(log[0])
    i, o, p = input, output, params
    entities = [*i.get("entities", [])] or [None, None]
    book = CodebookFiles(i.codebook, i.schema, entities[0], entities[1]).load()
    memo = memo_for(config, i.tokens)
    files = shard_outputs(i.tokens, book, p.languages, ThemesSettings.from_params(p), memo)
    paths = {"matches": o.matches, "entity_mentions": o.entities, **dict(zip(CHECK_VARIANTS, o.check_matches))}
    for name, path in paths.items():
        atomic_write_bytes(path, files[name])
    if memo is not None:
        _log.info("theme_matches memo %s: %d unused entries removed", memo.dir, memo.prune())
