"""Configuration: its defaults and the checks run before any job (``workflow/rules/common.smk``);
shared by every step; :mod:`textdrift.check` runs the same checks for ``make check``.

Defaults are stated once, as ``default:`` entries of ``workflow/schemas/config.schema.yaml``
(:data:`SCHEMA`): :func:`with_defaults` fills them into a configuration, key by key (nested
blocks merge, a list or a value replaces the default). The rules (``common.smk``), the library
(:mod:`textdrift.clean`, :mod:`textdrift.segment`, :mod:`textdrift.structure`, which take a
partial block) and the notebook API (:class:`textdrift.notebook.Project`) all read them from
there; :data:`UNSPACED_LANGUAGES` is the schema's default of ``unspaced_languages``. A library
keyword argument that is a setting takes its default from there too: each module reads
``_D = defaults()`` once at import (the schema is parsed once per process, ~5 ms with libyaml,
then cached) and writes e.g. ``min_tokens: int = _D["low_data_tokens"]``, so a default changed in
the schema changes in the rules and the notebook API alike (``tests/test_config.py``). Only
``manifest``, ``raw_dir``, ``processed_dir``, ``results_dir`` and ``themes.codebook`` are required.

:func:`check_config` validates the merged configuration (``config/config.yaml`` plus any
``--configfile``/``--config``) against ``workflow/schemas/config.schema.yaml`` and reports
*every* problem on one line each, as ``config: field 'clean.on_empty': 'skp' is not one of
['error', 'skip']``, with a suggestion for a misspelt key. (``snakemake.utils.validate``
stops at the first problem and prints the whole schema and config block with it.)
:func:`schema_errors` is the schema validation the codebook and the entity list share.

This module is about 500 lines: the checks with their messages, the defaults, the settings
objects of the analyses and the language names are what every other module needs.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import functools
import sys
from dataclasses import field, fields
from pathlib import Path

import yaml


def import_jsonschema():
    """``jsonschema``, imported without its optional ``rfc3987_syntax`` format checker.

    With ``rfc3987-syntax`` installed (Jupyter pulls it in through ``jsonschema[format-nongpl]``),
    ``import jsonschema`` builds its IRI grammars with lark: ~0.8 s at every Snakemake start and
    in every job that validates a file. Our schemas use no ``format`` keyword, so the module is
    hidden while jsonschema is first imported (only the "iri"/"iri-reference" format checks are
    lost, and only when jsonschema was not imported before).
    """
    if "jsonschema" not in sys.modules and "rfc3987_syntax" not in sys.modules:
        sys.modules["rfc3987_syntax"] = None  # makes `import rfc3987_syntax` raise ImportError
        try:
            import jsonschema
        finally:
            del sys.modules["rfc3987_syntax"]
    import jsonschema

    return jsonschema


#: Display names of language codes (charts, the results README); an unknown code is shown as it is.
LANG_NAMES = {"zh": "Chinese", "en": "English", "ja": "Japanese", "ko": "Korean", "fr": "French",
              "de": "German", "es": "Spanish", "ru": "Russian", "ar": "Arabic", "pt": "Portuguese"}


def lang_name(lang: str) -> str:
    """Display name of a language code, e.g. "English (en)"; an unknown code as it is.

    Parameters
    ----------
    lang : str

    Returns
    -------
    str
    """
    return f"{LANG_NAMES[lang]} ({lang})" if lang in LANG_NAMES else lang


#: The environment variable that carries, to the jobs a workflow starts, the digests of the files it
#: has validated (:func:`schema_errors`).
VALIDATED_ENV = "TEXTDRIFT_VALIDATED"


def schema_errors(data, schema_path: str | Path) -> list:
    """The JSON Schema (draft 2020-12) errors of ``data``, sorted by their path in it.

    A file the workflow has validated is not validated again in each of its jobs: validating the
    codebook and the entity list with ``jsonschema`` costs about half a second of every job that
    reads them. Data found valid is remembered by a digest (SHA-256 of the schema file's bytes and
    of the data as canonical JSON) in the environment variable :data:`VALIDATED_ENV`, which the
    jobs Snakemake starts inherit (locally, and on a cluster, where each job's Snakemake validates
    again before it runs the job's script). A job that reads exactly the data validated, against
    exactly the same schema, skips validating; any other data (an edited file, a notebook's own
    codebook) is validated.

    Parameters
    ----------
    data : object
        The parsed file.
    schema_path : str or Path
        The schema.

    Returns
    -------
    list of jsonschema.ValidationError
        Empty when ``data`` is valid.
    """
    import hashlib
    import json
    import os

    try:
        canon = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    except TypeError:  # keys of mixed types (not valid anyway): no digest, validated below
        canon = None
    digest = canon and hashlib.sha256(Path(schema_path).read_bytes() + b"\0" + canon.encode("utf-8")).hexdigest()[:32]
    done = os.environ.get(VALIDATED_ENV, "").split()
    if digest and digest in done:
        return []
    validator = import_jsonschema().Draft202012Validator(load_yaml(schema_path))
    errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if digest and not errors:
        os.environ[VALIDATED_ENV] = " ".join([*done, digest])
    return errors


__all__ = ["SCHEMA", "UNSPACED_LANGUAGES", "Settings", "setting", "cache_dir", "ConfigError", "DuplicateKeyError", "check_config", "config_errors",
           "defaults", "did_you_mean", "enum_hint", "import_jsonschema", "load_yaml", "schema_errors", "VALIDATED_ENV", "LANG_NAMES", "lang_name", "merge", "unknown_keys", "with_defaults"]

#: The configuration schema, with the ``default:`` of every key that has one.
SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """The configuration is invalid; the message lists every problem with its field."""


class DuplicateKeyError(ConfigError):
    """A YAML file sets one key twice in the same mapping (YAML would keep the last silently)."""


class _StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """``yaml.SafeLoader`` (libyaml's C parser where PyYAML has it: about 10x faster, which every
    Snakemake start and job pays for the config, codebook and schemas) that refuses a key given
    twice in one mapping."""


def _mapping(loader: _StrictLoader, node, deep: bool = False):
    seen: dict = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in seen:
            raise DuplicateKeyError(f"{loader.source}: line {line}: key {key!r} is given twice in the same block "
                                    f"(first on line {seen[key]}); YAML would silently keep only the last one")
        seen[key] = line
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load_yaml(path: str | Path):
    """Read a YAML file the pipeline reads (config, codebook, entity list, schemas), strictly.

    ``yaml.safe_load`` semantics, except that a key given twice in one mapping is an error.

    Parameters
    ----------
    path : str or Path
        The file (UTF-8).

    Returns
    -------
    object
        The parsed document (a dict for every file the pipeline reads).

    Raises
    ------
    DuplicateKeyError
        Naming the file, the line and the key.
    """
    text = Path(path).read_text(encoding="utf-8")
    loader = _StrictLoader(text)
    loader.source = str(path)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def unknown_keys(error, examples=("label_en", "label_zh", "en", "zh")) -> list[tuple[str, str]]:
    """The keys a JSON-Schema ``additionalProperties`` error is about, each with a suggestion.

    Candidates: the schema's properties and, where it has patternProperties, the ``examples``
    that match them (label_en, zh, ...).

    Parameters
    ----------
    error : jsonschema.ValidationError
        An ``additionalProperties`` error.
    examples : tuple of str
        Keys offered where the schema allows keys by pattern.

    Returns
    -------
    list of (str, str)
        ``(key, "unknown key; did you mean 'x'?")`` for each key the schema does not allow.
    """
    import re

    props = list(error.schema.get("properties", {}))
    patterns = list(error.schema.get("patternProperties", {}))
    known = props + [x for x in examples if any(re.search(pat, x) for pat in patterns)]
    return [(k, "unknown key" + did_you_mean(k, known)) for k in error.instance
            if k not in props and not any(re.search(pat, str(k)) for pat in patterns)]


def did_you_mean(key: str, known, prefix: str = "") -> str:
    """A suggestion for a mistyped key: the closest of ``known``, or the list of known keys.

    Parameters
    ----------
    key : str
        The unknown key.
    known : iterable of str
        The keys allowed there.
    prefix : str
        Put before the suggested key (a dotted path).

    Returns
    -------
    str
        ``"; did you mean '<prefix>x'?"``, or the known keys when none is close.
    """
    close = difflib.get_close_matches(str(key), list(known), n=1)
    return f"; did you mean '{prefix}{close[0]}'?" if close else f"; known keys: {', '.join(known)}"


def enum_hint(error) -> str:
    """For a JSON-Schema ``enum`` error (a value outside a fixed list): ``"; did you mean 'x'?"``
    when one allowed value is close (``reprot`` -> ``report``), else ``""`` (the message already
    lists the allowed values).

    Parameters
    ----------
    error : jsonschema.ValidationError

    Returns
    -------
    str
    """
    if error.validator != "enum" or not isinstance(error.instance, str):
        return ""
    allowed = [str(v) for v in error.validator_value if isinstance(v, str)]
    close = difflib.get_close_matches(error.instance, allowed, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _short(value, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def config_errors(config: dict, schema: dict) -> list[str]:
    """Every schema violation of a configuration, each naming the field as a dotted path.

    Parameters
    ----------
    config : dict
        The configuration as read.
    schema : dict
        The configuration schema.

    Returns
    -------
    list of str
        One message per problem; empty when the configuration is valid.
    """
    validator = import_jsonschema().Draft202012Validator(schema)
    problems = []
    for err in sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path))):
        path = ".".join(str(p) for p in err.absolute_path)
        prefix = f"{path}." if path else ""
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            known = sorted(err.schema.get("properties", {}))
            for key in (k for k in err.instance if k not in known):
                problems.append(f"config: field '{prefix}{key}': unknown key{did_you_mean(key, known, prefix)}")
        elif err.validator == "required" and isinstance(err.instance, dict):
            for key in (k for k in err.validator_value if k not in err.instance):
                problems.append(f"config: field '{prefix}{key}': required but missing")
        else:
            message = err.message
            if err.validator in ("type", "enum", "minimum", "maximum", "exclusiveMinimum",
                                 "exclusiveMaximum", "minItems", "uniqueItems", "pattern", "minLength"):
                message = message.replace(repr(err.instance), _short(err.instance), 1)
            elif err.validator in ("oneOf", "anyOf"):
                message = f"{_short(err.instance)} is not valid here"
            problems.append(f"config: field '{path or '(top level)'}': {message}{enum_hint(err)}")
    return problems


def check_config(config: dict, schema_path: str | Path) -> None:
    """Raise :class:`ConfigError` listing every schema violation of ``config``.

    Parameters
    ----------
    config : dict
        The configuration as read.
    schema_path : str or Path
        The configuration schema.

    Raises
    ------
    ConfigError
        When :func:`config_errors` finds any problem.
    """
    schema = load_yaml(schema_path)
    problems = config_errors(config, schema)
    if problems:
        raise ConfigError(
            "invalid configuration (config/config.yaml and any --configfile/--config; every key is "
            "documented in docs/configuration.md):\n  " + "\n  ".join(problems)
        )


def cache_dir(processed_dir: str | Path) -> Path:
    """Where the workflow keeps its memos outside Snakemake's outputs (the theme matches' per-theme
    entries, the charts' last drawings): ``cache`` beside ``processed_dir`` (``data/cache``).

    Parameters
    ----------
    processed_dir : str or Path
        The configuration's ``processed_dir``.

    Returns
    -------
    Path
    """
    return Path(processed_dir).parent / "cache"


def merge(base: dict, over: dict) -> dict:
    """``over`` merged into a deep copy of ``base``.

    Parameters
    ----------
    base, over : dict
        Nested dicts are merged key by key; any other value of ``over`` (a list, a number,
        ``None``) replaces that of ``base``.

    Returns
    -------
    dict
        A new dict; neither argument is changed.
    """
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _defaults_of(schema: dict) -> dict:
    """The ``default:`` entries of an object schema's properties, as a nested dict (a block
    without a default of its own collects the defaults of its keys)."""
    out = {}
    for key, sub in schema.get("properties", {}).items():
        inner = _defaults_of(sub)
        if "default" in sub:
            out[key] = merge(sub["default"], inner) if isinstance(sub["default"], dict) else sub["default"]
        elif inner:
            out[key] = inner
    return out


@functools.lru_cache(maxsize=4)
def _schema_defaults(schema_path: str) -> dict:
    return _defaults_of(load_yaml(schema_path))


def defaults(schema_path: str | Path = SCHEMA) -> dict:
    """Every default of the configuration schema.

    Parameters
    ----------
    schema_path : str or Path
        The configuration schema (default: :data:`SCHEMA`).

    Returns
    -------
    dict
        A fresh nested dict of the ``default:`` entries (``{"clean": {...}, "segment": {...},
        "unspaced_languages": [...], ...}``); the caller may change it.
    """
    return copy.deepcopy(_schema_defaults(str(schema_path)))


def with_defaults(config: dict, schema_path: str | Path = SCHEMA) -> dict:
    """``config`` with every key it does not set taken from the schema's defaults.

    Parameters
    ----------
    config : dict
        A configuration (as read from ``config/config.yaml`` and any ``--configfile``).
    schema_path : str or Path
        The configuration schema (default: :data:`SCHEMA`).

    Returns
    -------
    dict
        A new dict: :func:`merge` of :func:`defaults` and ``config``.
    """
    return merge(defaults(schema_path), config)


#: Languages written without spaces between words (the schema's default of ``unspaced_languages``).
UNSPACED_LANGUAGES: tuple[str, ...] = tuple(defaults()["unspaced_languages"])


def setting(*path: str, convert=None):
    """A field of a settings dataclass (:class:`Settings`) whose value is the configuration key
    ``path`` (e.g. ``setting("crosslingual", "q_threshold")``), its default the schema's.

    Parameters
    ----------
    *path : str
        The key's path in the configuration.
    convert : callable, optional
        Applied to the value (e.g. ``tuple`` for a list of languages).

    Returns
    -------
    dataclasses.Field
    """
    def default():
        value = copy.deepcopy(_at(_schema_defaults(str(SCHEMA)), path))
        return convert(value) if convert is not None and value is not None else value

    return field(default_factory=default, metadata={"config": path, "convert": convert})


def _at(config: dict, path: tuple[str, ...]):
    for key in path:
        config = config[key]
    return config


class Settings:
    """What an analysis's settings dataclass inherits: a frozen dataclass whose fields are
    :func:`setting` s (configuration keys, defaults from the schema) or plain fields with a default.

    ``Cls()`` holds the schema's defaults; ``Cls.from_config(config)`` the values of a (validated)
    configuration, a key it lacks taken from the schema; ``Cls.from_params(params)`` the values
    of a rule's ``params`` (attributes named as the fields; a field the rule does not pass keeps its
    default); ``s.replace(name=value)`` a copy with some values changed.
    """

    @classmethod
    def from_config(cls, config: dict, **overrides):
        """The settings of ``config`` (with the schema's defaults where it lacks a key).

        Parameters
        ----------
        config : dict
        **overrides
            Values that replace the configuration's.

        Returns
        -------
        Settings
        """
        merged = with_defaults(config)
        values = {}
        for f in fields(cls):
            path = f.metadata.get("config")
            if path is not None and f.name not in overrides:
                value = copy.deepcopy(_at(merged, path))
                convert = f.metadata.get("convert")
                values[f.name] = convert(value) if convert is not None and value is not None else value
        return cls(**values, **overrides)

    @classmethod
    def from_params(cls, params, **overrides):
        """The settings a rule passes as ``params`` (Snakemake's named list, or any object with
        attributes named as the fields).

        Parameters
        ----------
        params : object
        **overrides
            Values that replace the params'.

        Returns
        -------
        Settings
        """
        values = {}
        for f in fields(cls):
            if f.name in overrides:
                continue
            try:
                value = getattr(params, f.name)
            except (AttributeError, KeyError):
                continue
            convert = f.metadata.get("convert")
            values[f.name] = convert(value) if convert is not None and value is not None else value
        return cls(**values, **overrides)

    def replace(self, **changes):
        """A copy with ``changes``.

        Parameters
        ----------
        **changes

        Returns
        -------
        Settings
        """
        return dataclasses.replace(self, **changes)
