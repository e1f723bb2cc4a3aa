"""Named entities: initiatives, organisations, agencies, forums, agreements and documents, in
every language, matched in the token table before anything is counted (:mod:`textdrift.segment`
marks each mention; :mod:`textdrift.matching` counts it as the one term ``@<id>``).

A name is not a theme (docs/methods.md, "What is counted"): "Global Development Initiative" says nothing about
development, 国家国际发展合作署 nothing about 合作. ``config/entities.yaml`` lists each entity
with an ``id``, a ``type``, a label per language (``label_en``, ``label_zh``) and its aliases
per language (``en: [Global Development Initiative, GDI]``, ``zh: [全球发展倡议]``);
:func:`load_entities` validates it against ``workflow/schemas/entities.schema.yaml``, checks
that ids are unique and that no alias belongs to two entities.

Matching (:func:`find_spans`, run by the segmenter on every text):

* **Spaced languages** (English): an alias is tokenized by the same spaCy tokenizer as the
  text and matches that sequence of tokens, compared case-insensitively, except that a token
  of two or more capital letters (an acronym: GDI, UN, WHO) matches only the same capitals, so
  the pronoun "who" is not the WHO. Punctuation inside an alias ("One Belt, One Road") is
  matched as written.
* **Unspaced languages** (Chinese): an alias matches the concatenated ``norm`` (Simplified) of
  consecutive tokens, aligned to token boundaries; the aliases are added to jieba's dictionary
  so that the segmenter keeps them whole.
* A match never crosses a sentence. At each position the **longest** alias wins ("GDI Digital
  Cooperation Forum" over "GDI"), and matches are taken left to right without overlap.
* A name followed by its own abbreviation in brackets ("Cyberspace Administration of China
  (CAC)") is one mention, brackets included.

What a match does to the token table: the span's first token (the *head*) gets ``norm``
``@<id>`` (e.g. ``@gdi``) and counts as one kept token, whatever alias was used; every token
of the span gets ``entity = <id>``; the other tokens of the span are not kept. So in drift
and phrase changes an entity is one term ("Global Development Initiative" and "GDI" are the
same ``@gdi``), the span's words never count toward a theme (unless the theme lists the entity
under ``entities:``, see :mod:`textdrift.codebook`), and an n-gram runs through an entity as
through one word (the tokens it absorbed are skipped, not treated as removed words).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from textdrift.config import enum_hint, load_yaml, schema_errors, unknown_keys
from textdrift.codebook import LABEL_KEY, LANG_KEY  # the codebook's language and label keys
from textdrift.counting import ENTITY_HEAD as HEAD  # the norm of a mention's head is HEAD + id

__all__ = ["DEFAULT_SCHEMA", "alias_prefixes", "alias_table", "en_key", "Entity", "EntityError", "find_spans",
           "load_entities", "parse_entities", "starters"]

DEFAULT_SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "entities.schema.yaml"


@dataclass(frozen=True)
class Entity:
    """One named entity: ``labels`` and ``aliases`` keyed by language code."""

    id: str
    type: str
    labels: dict[str, str]
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def norm(self) -> str:
        """The token ``norm`` that stands for every mention of the entity (``@id``)."""
        return HEAD + self.id


class EntityError(ValueError):
    """The entity list is invalid; the message lists every problem with its entity id and field."""


def parse_entities(data: dict, schema_path: str | Path | None = None, source: str = "entities") -> list[Entity]:
    """Validate an entity list already read into Python and build its entities.

    Parameters
    ----------
    data : dict
        The parsed ``entities.yaml``.
    schema_path : str or Path, optional
        The entity-list schema (default: ``workflow/schemas/entities.schema.yaml``).
    source : str
        Name of the list in error messages.

    Returns
    -------
    list of Entity

    Raises
    ------
    EntityError
        Listing every problem with its entity id and field.
    """
    problems = []
    for e in schema_errors(data, schema_path or DEFAULT_SCHEMA):
        path = list(e.absolute_path)
        where = "(top level)"
        if len(path) >= 2 and path[0] == "entities":
            raw = data["entities"][path[1]] if isinstance(data.get("entities"), list) else {}
            eid = raw.get("id") if isinstance(raw, dict) else None
            where = f"entity {eid!r} (entities[{path[1]}])" if eid else f"entities[{path[1]}]"
            if len(path) > 2:
                where += f", field {'.'.join(map(str, path[2:]))!r}"
        if e.validator == "additionalProperties" and isinstance(e.instance, dict):
            problems += [f"{where}, field {k!r}: {why}" for k, why in unknown_keys(e)]
            continue
        problems.append(f"{where}: {e.message}{enum_hint(e)}")
    if not problems:
        ids: dict[str, int] = {}
        owner: dict[tuple[str, str], str] = {}
        for i, raw in enumerate(data["entities"]):
            if raw["id"] in ids:
                problems.append(f"entity {raw['id']!r} (entities[{i}]): duplicate id of entities[{ids[raw['id']]}]")
            ids.setdefault(raw["id"], i)
            for lang, aliases in raw.items():
                for alias in aliases if LANG_KEY.match(lang) else []:
                    key = (lang, alias if lang == "zh" else alias.casefold())
                    if key in owner and owner[key] != raw["id"]:
                        problems.append(f"entity {raw['id']!r}, field {lang!r}: alias {alias!r} also belongs to "
                                        f"entity {owner[key]!r}")
                    owner.setdefault(key, raw["id"])
    if problems:
        raise EntityError(f"{source}: invalid entity list:\n  " + "\n  ".join(problems))
    out = []
    for raw in data["entities"]:
        labels = {m.group(1): v for k, v in raw.items() if (m := LABEL_KEY.match(k))}
        aliases = {k: tuple(v) for k, v in raw.items() if LANG_KEY.match(k)}
        out.append(Entity(raw["id"], raw["type"], labels, aliases))
    return out


def load_entities(path: str | Path | None, schema_path: str | Path | None = None) -> list[Entity]:
    """Read and validate ``config/entities.yaml``.

    Parameters
    ----------
    path : str, Path or None
        The entity list; None gives an empty list.
    schema_path : str or Path, optional
        The entity-list schema.

    Returns
    -------
    list of Entity
    """
    if not path:
        return []
    data = load_yaml(path)
    return parse_entities(data, schema_path, source=str(path))


def en_key(text: str) -> str:
    """Comparison key of an English token: acronyms (2+ capitals) as written, else lower-cased.

    Parameters
    ----------
    text : str
        A token.

    Returns
    -------
    str
    """
    return text if len(text) > 1 and text.isupper() else text.lower()


def alias_table(entities: list[Entity], lang: str, tokenize=None) -> dict:
    """The aliases of one language, each mapped to its entity.

    Parameters
    ----------
    entities : list of Entity
        From :func:`load_entities`.
    lang : str
        A language code.
    tokenize : callable, optional
        ``tokenize(alias)`` -> token strings, for a spaced language; None for an unspaced one.

    Returns
    -------
    dict
        ``{alias key: entity id}``: a tuple of token keys (:func:`en_key`) for a spaced language,
        the alias string for an unspaced one.
    """
    table = {}
    for e in entities:
        for alias in e.aliases.get(lang, ()):
            key = alias if tokenize is None else tuple(en_key(t) for t in tokenize(alias))
            if key:
                table[key] = e.id
    return table


def alias_prefixes(table: dict) -> set:
    """Every prefix of every alias key of ``table`` (token tuples, or character strings).

    Parameters
    ----------
    table : dict
        From :func:`alias_table`.

    Returns
    -------
    set
    """
    return {a[:k] for a in table for k in range(1, len(a) + 1)}


def find_spans(keys: list[str], sentence: np.ndarray, table: dict, unspaced: bool,
               candidates: np.ndarray | None = None, prefixes: set | None = None) -> list[tuple[int, int, str]]:
    """Leftmost-longest matches of ``table``'s aliases in the tokens of one text.

    Parameters
    ----------
    keys : list of str
        The text's token keys, in order.
    sentence : ndarray
        The sentence id of each token; a match stays within one sentence.
    table : dict
        From :func:`alias_table` (tuple keys for a spaced language, strings for unspaced).
    unspaced : bool
        Whether the language is written without spaces.
    candidates : ndarray, optional
        The positions where a match may start (sorted; default: every token whose key starts an
        alias), so that a long text costs one pass over its few candidates.
    prefixes : set, optional
        :func:`alias_prefixes` of ``table`` (computed here when not given; a caller matching many
        texts computes it once).

    Returns
    -------
    list of (int, int, str)
        ``(first token, last token, entity id)`` per match, in text order.
    """
    if not table or not keys:
        return []
    if prefixes is None:
        prefixes = alias_prefixes(table)

    def grow(acc, key):
        return acc + key if unspaced else acc + (key,)

    empty = "" if unspaced else ()
    if candidates is None:
        candidates = [i for i, k in enumerate(keys) if grow(empty, k) in prefixes]
    out, n, free = [], len(keys), 0  # free: first position not inside an accepted match
    for i in candidates:
        if i < free:
            continue
        acc, best, j = empty, None, i
        while j < n and sentence[j] == sentence[i]:
            acc = grow(acc, keys[j])
            if acc not in prefixes:
                break
            if acc in table:
                best = (j, table[acc])
            j += 1
        if best is not None:
            out.append((i, best[0], best[1]))
            free = best[0] + 1
    return _merge_parenthetical(out, keys, sentence)


def _merge_parenthetical(spans: list, keys: list, sentence: np.ndarray) -> list:
    """A name followed by its own abbreviation in brackets, "Cyberspace Administration of China
    (CAC)", is one mention (brackets included), not two."""
    out = []
    for span in spans:
        if out:
            i, j, e = out[-1]
            i2, j2, e2 = span
            if (e2 == e and i2 == j + 2 and keys[j + 1] == "(" and j2 + 1 < len(keys) and keys[j2 + 1] == ")"
                    and sentence[i] == sentence[j2 + 1]):
                out[-1] = (i, j2 + 1, e)
                continue
        out.append(span)
    return out


def starters(table: dict, unspaced: bool) -> set:
    """The token keys that can start a match of one of ``table``'s aliases.

    Parameters
    ----------
    table : dict
        From :func:`alias_table`.
    unspaced : bool
        Whether the language is written without spaces.

    Returns
    -------
    set
        An alias's first token (spaced) or any character prefix of an alias (unspaced).
    """
    return alias_prefixes(table) if unspaced else {a[0] for a in table}
