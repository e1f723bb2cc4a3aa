"""The theme codebook: its themes, validation, version hash and the entity codebook.

``config/themes.yaml`` lists themes; each has an ``id`` (snake_case), labels ``label_<lang>``
(``label_en`` required) and, per language, a list of terms under the language code (``en``,
``zh``, ...): plain strings, or ``{term, exclude, near, window}`` mappings with context rules
(:class:`Rule`); optionally ``entities`` (named entities that count for the theme), translation
``pairs`` and ``unpaired`` terms with the reason. :func:`load_codebook` validates it against
``workflow/schemas/themes.schema.yaml`` (JSON Schema) plus the checks a schema cannot express
(unique ids, lower-case terms, each term listed once, a ``near`` with a ``window``, pairs that
name the theme's own terms, entities that exist); every error names the theme id and the field
(:class:`CodebookError`). :func:`parse_codebook` does the same for a codebook already in Python
(a notebook edit).

:func:`codebook_hash` is the codebook's version (the ``codebook`` column of the theme tables and
of the precision table, the name of the validation samples). :func:`entity_codebook` turns the
named-entity list into a codebook so that mentions are counted like theme matches.

How the terms are matched and counted: :mod:`textdrift.themes`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from textdrift.config import enum_hint, load_yaml, schema_errors, unknown_keys

__all__ = ["CodebookError", "codebook_frame", "DEFAULT_SCHEMA", "LABEL_KEY", "LANG_KEY", "Rule", "Theme", "check_members",
           "codebook_hash", "entity_codebook", "load_codebook", "parse_codebook"]

DEFAULT_SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "themes.schema.yaml"
LANG_KEY = re.compile(r"^(?!id$)[a-z]{2,3}$")
LABEL_KEY = re.compile(r"^label_([a-z]{2,3})$")


@dataclass(frozen=True)
class Theme:
    """One codebook theme: ``labels`` and ``terms`` are keyed by language code."""

    id: str
    labels: dict[str, str]
    terms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: ids of named entities (config/entities.yaml) whose mentions count for this theme on purpose
    entities: tuple[str, ...] = ()
    #: context rules, {lang: {term: Rule}} (a term absent here has none)
    rules: dict[str, dict[str, "Rule"]] = field(default_factory=dict)
    #: translation pairs: ({lang: (terms ...)}, note) per pair
    pairs: tuple[tuple[dict[str, tuple[str, ...]], str], ...] = ()
    #: terms in no pair: (lang, term, why)
    unpaired: tuple[tuple[str, str, str], ...] = ()

    def label(self, lang: str) -> str:
        """The label in ``lang``, else the English label."""
        return self.labels.get(lang, self.labels["en"])


@dataclass(frozen=True)
class Rule:
    """A term's context rules (codebook ``{term, exclude, near, window}``): the match is dropped
    when it lies inside an occurrence of an ``exclude`` phrase, or when ``near`` is given and none
    of its words occurs within ``window`` words on either side in the same sentence."""

    exclude: tuple[str, ...] = ()
    near: tuple[str, ...] = ()
    window: int = 0


class CodebookError(ValueError):
    """The codebook is invalid; the message lists every problem with its theme id and field."""


def _theme_ref(data, i) -> str:
    themes = data.get("themes") if isinstance(data, dict) else None
    tid = themes[i].get("id") if isinstance(themes, list) and isinstance(themes[i], dict) else None
    return f"theme {tid!r} (themes[{i}])" if tid else f"theme themes[{i}]"


def _error_message(error, data) -> str:
    if error.validator == "oneOf" and error.context:
        # a term is a string or a {term, exclude, near, window} mapping: report the branch it meant
        branch = 0 if isinstance(error.instance, str) else 1
        subs = [e for e in error.context if e.relative_schema_path and e.relative_schema_path[0] == branch]
        if subs:
            return _error_message(subs[0], data)
    path = list(error.absolute_path)
    if path == ["themes"] and error.validator == "minItems":
        return "field themes: no theme yet: write at least one (the commented example at the top shows how)"
    if len(path) < 2 or path[0] != "themes":
        return f"field {'.'.join(map(str, path)) or '(top level)'}: {error.message}"
    where = _theme_ref(data, path[1])
    if len(path) > 2:
        fld = str(path[2]) + "".join(f"[{p}]" for p in path[3:])
    elif error.validator == "required":
        fld = ", ".join(k for k in error.validator_value if k not in error.instance)
    elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
        return "\n  ".join(f"{where}, field {k!r}: {why}" for k, why in unknown_keys(error))
    else:
        fld = "(theme)"
    hint = ""
    if error.validator == "pattern" and len(path) > 2 and path[2] != "id":
        hint = " (a term is lower-case words separated by single spaces)"
    elif error.validator == "pattern":
        hint = " (an id is snake_case: a-z, 0-9, single underscores)"
    return f"{where}, field {fld!r}: {error.message}{hint}{enum_hint(error)}"


def parse_codebook(data: dict, schema_path: str | Path | None = None, source: str = "codebook") -> list[Theme]:
    """Validate a codebook already read into Python (e.g. edited in a notebook) and build its themes.

    Parameters
    ----------
    data : dict
        The codebook as read from YAML (``{"themes": [...]}``).
    schema_path : str or Path, optional
        The JSON Schema (default ``workflow/schemas/themes.schema.yaml``).
    source : str
        The codebook's name in error messages.

    Returns
    -------
    list of Theme
        In codebook order.

    Raises
    ------
    CodebookError
        Listing every problem, each with its theme id and field.
    """
    problems = [_error_message(e, data) for e in schema_errors(data, schema_path or DEFAULT_SCHEMA)]
    if not problems:
        seen: dict[str, int] = {}
        for i, raw in enumerate(data["themes"]):
            if raw["id"] in seen:
                problems.append(f"{_theme_ref(data, i)}, field 'id': duplicate of themes[{seen[raw['id']]}]")
            seen.setdefault(raw["id"], i)
            problems += _term_problems(raw, _theme_ref(data, i))
    if problems:
        raise CodebookError(f"{source}: invalid theme codebook:\n  " + "\n  ".join(problems))
    themes = []
    for raw in data["themes"]:
        labels = {m.group(1): v for k, v in raw.items() if (m := LABEL_KEY.match(k))}
        terms = {k: tuple(_term_text(t) for t in v) for k, v in raw.items() if LANG_KEY.match(k)}
        rules = {k: {t["term"]: Rule(tuple(t.get("exclude", ())), tuple(t.get("near", ())), int(t.get("window", 0)))
                     for t in v if isinstance(t, dict) and (t.get("exclude") or t.get("near"))}
                 for k, v in raw.items() if LANG_KEY.match(k)}
        pairs = tuple(({k: tuple(v) for k, v in pair.items() if k != "note"}, pair.get("note", ""))
                      for pair in raw.get("pairs", ()))
        unpaired = tuple((u["lang"], u["term"], u["why"]) for u in raw.get("unpaired", ()))
        themes.append(Theme(raw["id"], labels, terms, tuple(raw.get("entities", ())),
                            {k: v for k, v in rules.items() if v}, pairs, unpaired))
    return themes


def _term_text(item) -> str:
    """A codebook list item's term: the string itself or the ``term`` of a rule mapping."""
    return item["term"] if isinstance(item, dict) else item


def _term_problems(raw: dict, where: str) -> list[str]:
    """Checks beyond the schema on one theme: lower-case terms, duplicate terms, near without
    window, and pairs / unpaired that name the theme's own terms (each term once, all terms placed
    when the theme declares pairs)."""
    problems = []
    langs = {k: [_term_text(t) for t in v] for k, v in raw.items() if LANG_KEY.match(k)}
    for lang, items in ((k, v) for k, v in raw.items() if LANG_KEY.match(k)):
        for j, item in enumerate(items):
            words = [_term_text(item), *(item.get("exclude", ()) if isinstance(item, dict) else ())]
            for term in words:
                if term != term.lower():
                    problems.append(f"{where}, field '{lang}[{j}]': {term!r} is not lower-case "
                                    f"(token norms are lower-cased: write {term.lower()!r})")
            if isinstance(item, dict) and item.get("near") and not item.get("window"):
                problems.append(f"{where}, field '{lang}[{j}]': near needs a window (words on each side)")
        for term in sorted({t for t in langs[lang] if langs[lang].count(t) > 1}):
            problems.append(f"{where}, field '{lang}': {term!r} is listed twice")
    placed: dict[tuple[str, str], str] = {}
    for j, pair in enumerate(raw.get("pairs", ())):
        for lang, terms in ((k, v) for k, v in pair.items() if k != "note"):
            for term in terms:
                if term not in langs.get(lang, ()):
                    problems.append(f"{where}, field 'pairs[{j}].{lang}': {term!r} is not one of the theme's "
                                    f"{lang} terms (write it exactly as in the list)")
                elif (lang, term) in placed:
                    problems.append(f"{where}, field 'pairs[{j}].{lang}': {term!r} is already in {placed[(lang, term)]}")
                placed.setdefault((lang, term), f"pairs[{j}]")
    for j, u in enumerate(raw.get("unpaired", ())):
        if u["term"] not in langs.get(u["lang"], ()):
            problems.append(f"{where}, field 'unpaired[{j}]': {u['term']!r} is not one of the theme's {u['lang']} terms")
        elif (u["lang"], u["term"]) in placed:
            problems.append(f"{where}, field 'unpaired[{j}]': {u['term']!r} is already in {placed[(u['lang'], u['term'])]}")
        placed.setdefault((u["lang"], u["term"]), f"unpaired[{j}]")
    if raw.get("pairs"):
        missing = [f"{t} [{lang}]" for lang, terms in langs.items() for t in terms if (lang, t) not in placed]
        if missing:
            problems.append(f"{where}, field 'pairs': a theme with pairs places every term in a pair or under "
                            f"unpaired (with why); not placed: {', '.join(missing)}")
    return problems


def load_codebook(path: str | Path, schema_path: str | Path | None = None, entities=None) -> list[Theme]:
    """Read and validate a YAML codebook.

    Parameters
    ----------
    path : str or Path
        The codebook (``config/themes.yaml``).
    schema_path : str or Path, optional
        The JSON Schema (default ``workflow/schemas/themes.schema.yaml``).
    entities : list of Entity, optional
        The entity list (:func:`textdrift.entities.load_entities`): when given, every entity a theme
        lists must be in it (:func:`check_members`).

    Returns
    -------
    list of Theme

    Raises
    ------
    CodebookError
    """
    data = load_yaml(path)
    codebook = parse_codebook(data, schema_path, source=str(path))
    if entities is not None:
        check_members(codebook, entities, source=str(path))
    return codebook


def codebook_hash(path: str | Path) -> str:
    """The codebook's version: the first 12 hex digits of the SHA-256 of its content as canonical JSON.

    Canonical: keys sorted, UTF-8, compact separators, without the explanatory text (``description``,
    ``why``, ``note``), so that editing a comment, an explanation or the layout does not make a new
    version, and any change to a term, rule, pair, label or theme does. It is the ``codebook`` column
    of theme_frequencies.csv, theme_changes.csv and codebook_precision.csv, and names the validation
    samples.

    Parameters
    ----------
    path : str or Path
        The codebook.

    Returns
    -------
    str
    """
    import hashlib
    import json

    def instrument(x):  # the text that explains (description, why, note) is not the instrument
        if isinstance(x, dict):
            return {k: instrument(v) for k, v in x.items() if k not in ("description", "why", "note")}
        return [instrument(v) for v in x] if isinstance(x, list) else x

    text = json.dumps(instrument(load_yaml(path)), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def codebook_frame(codebook):
    """Codebook as a DataFrame ``id, label_en, label_zh, ...`` in codebook order.

    Accepts the themes of :func:`textdrift.codebook.load_codebook` (objects with ``id`` and a
    ``labels`` dict), a list of dicts, or a DataFrame with an ``id`` column.

    Parameters
    ----------
    codebook : list of Theme, list of dict or DataFrame

    Returns
    -------
    DataFrame
    """
    import pandas as pd

    if isinstance(codebook, pd.DataFrame):
        return codebook.reset_index(drop=True)
    rows = []
    for t in codebook:
        if isinstance(t, Mapping):
            rows.append({k: v for k, v in t.items() if k == "id" or k.startswith("label_")})
        else:
            rows.append({"id": t.id, **{f"label_{k}": v for k, v in t.labels.items()}})
    return pd.DataFrame(rows)


def check_members(codebook: list[Theme], entities, source: str = "codebook") -> None:
    """Check that every entity id listed under a theme's ``entities`` is in the entity list.

    Parameters
    ----------
    codebook : list of Theme
    entities : list of Entity
    source : str
        The codebook's name in the error message.

    Raises
    ------
    CodebookError
    """
    known = {e.id for e in entities}
    problems = [f"theme {t.id!r}, field 'entities': {e!r} is not an entity of the entity list"
                + (f" (known: {', '.join(sorted(known))})" if len(known) <= 60 else "")
                for t in codebook for e in t.entities if e not in known]
    if problems:
        raise CodebookError(f"{source}: invalid theme codebook:\n  " + "\n  ".join(problems))


def entity_codebook(entities, languages) -> list[Theme]:
    """The entities as a codebook, so that their mentions are counted and put in context like theme matches.

    One "theme" per entity, whose one term in every language is its ``@id`` head token.

    Parameters
    ----------
    entities : list of Entity
    languages : sequence of str

    Returns
    -------
    list of Theme
    """
    return [Theme(e.id, dict(e.labels) or {"en": e.id}, {lang: (e.norm,) for lang in languages}) for e in entities]
