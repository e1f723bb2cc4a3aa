"""Defaults are stated once, in workflow/schemas/config.schema.yaml: every key is required or has a
default there, a config of only the required keys gets them all, docs/configuration.md shows the same
defaults, and the library's keyword defaults are read from the schema, not written out again."""

import ast
import re

import pytest
import yaml

from conftest import FIXTURE, ROOT
from textdrift.config import SCHEMA, check_config, defaults, load_yaml, with_defaults

DOC = ROOT / "docs" / "configuration.md"


def _leaves(schema: dict, path=()):
    """(path, property schema, required?) of every key of the schema that is not a block of keys."""
    for key, sub in schema.get("properties", {}).items():
        here = (*path, key)
        if "properties" in sub:
            yield from _leaves(sub, here)
        else:
            yield here, sub, key in schema.get("required", ())


def _minimal(schema: dict) -> dict:
    """Only the required keys, with the values of the tests' project configuration."""
    def pick(sch, cfg):
        return {k: pick(sch["properties"][k], cfg[k]) if "properties" in sch["properties"][k] else cfg[k]
                for k in sch.get("required", ())}
    return pick(schema, load_yaml(FIXTURE / "config/config.yaml"))


def _get(d: dict, path):
    for key in path:
        d = d[key]
    return d


def test_every_key_is_required_or_has_a_default():
    schema, dflt = load_yaml(SCHEMA), defaults()
    for path, sub, required in _leaves(schema):
        has_default = True
        try:
            _get(dflt, path)
        except KeyError:
            has_default = False
        assert required != has_default, f"{'.'.join(path)}: required {required}, default {has_default}"
    assert set(schema["required"]) == {"manifest", "raw_dir", "processed_dir", "results_dir", "themes"}


def test_a_minimal_config_gets_every_default():
    """A config setting only the required keys is valid and gets every default; a key it sets wins,
    a block merges key by key, a list replaces the default list."""
    schema = load_yaml(SCHEMA)
    minimal = _minimal(schema)
    assert minimal == {k: load_yaml(FIXTURE / "config/config.yaml")[k]
                       for k in ("manifest", "raw_dir", "processed_dir", "results_dir")} | {
        "themes": {"codebook": "config/themes.yaml"}}
    check_config(minimal, SCHEMA)
    full = with_defaults(minimal)
    check_config(full, SCHEMA)  # every default is valid
    for path, _, required in _leaves(schema):
        value = _get(full, path)
        assert value == (_get(minimal, path) if required else _get(defaults(), path)), path
    assert full["crosslingual"]["alignment"]["bead_priors"]["1-1"] == 0.89  # a default that is a mapping
    over = with_defaults({**minimal, "clean": {"language": {"min_han_share": 0.1}}, "count_roles": ["title"],
                          "drift": {"seed": 7, "tfidf": {"norm": None}}})
    assert over["clean"]["language"] == {**defaults()["clean"]["language"], "min_han_share": 0.1}
    assert over["clean"]["boilerplate"] == defaults()["clean"]["boilerplate"]
    assert over["count_roles"] == ["title"]
    assert over["drift"] == {**defaults()["drift"], "seed": 7, "tfidf": {**defaults()["drift"]["tfidf"], "norm": None}}
    check_config(over, SCHEMA)


def test_the_shipped_configs_set_no_default():
    """config/config.yaml (and the tests' copy) states what a project chooses: no key repeats its default."""
    dflt = defaults()

    def same(cfg, d, path=()):
        for k, v in cfg.items():
            if isinstance(v, dict) and isinstance(d.get(k), dict):
                yield from same(v, d[k], (*path, k))
            elif k in d and d[k] == v:
                yield ".".join((*path, k))

    for path in (ROOT / "config/config.yaml", FIXTURE / "config/config.yaml"):
        cfg = load_yaml(path)
        check_config(cfg, SCHEMA)
        assert not list(same(cfg, dflt)), path


# --- docs/configuration.md ------------------------------------------------------------------------

# keys whose default the page describes in words instead of writing it out
IN_WORDS = {"clean.normalize.apostrophes", "clean.normalize.spaces", "clean.normalize.remove",
            "clean.titles.site_names", "clean.structure.lead_exclude_words", "clean.structure.function_words",
            "drift.tfidf", "crosslingual.alignment.bead_priors"}


def _doc_defaults() -> dict[str, str]:
    """{dotted key: the default as the page writes it} from every table of docs/configuration.md."""
    out, prefix = {}, ""
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            spans = re.findall(r"`([^`]+)`", line)
            prefix = f"{spans[0]}." if len(spans) == 1 else ""
            continue
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.split("|", 3)[1:]]  # key, default, meaning (which may hold a |)
        keys = re.findall(r"`([^`]+)`", cells[0])
        value = cells[1].replace("\\|", "|")
        parts = [p.strip() for p in value.split(", ")] if len(keys) > 1 else [value]
        assert len(parts) == len(keys), f"{line}: {len(keys)} keys, {len(parts)} defaults"
        for key, part in zip(keys, parts):
            out[prefix + key] = part.strip("`")
    return out


def _agrees(written: str, default) -> bool:
    if written == "required":
        return False
    m = re.fullmatch(r"(\d+) \D+", written)
    if m and isinstance(default, (list, dict)):
        return len(default) == int(m.group(1))
    if written == "regex":
        return isinstance(default, str)
    if isinstance(default, bool) or default is None or isinstance(default, (list, dict, str)):
        try:
            parsed = yaml.safe_load(written)
        except yaml.YAMLError:
            return False
        if isinstance(default, list) and isinstance(parsed, str):
            parsed = parsed.split(", ")
        return parsed == default
    try:
        return float(written) == float(default)
    except ValueError:
        return False


def test_the_docs_show_the_schemas_defaults():
    schema, dflt = load_yaml(SCHEMA), defaults()
    documented = _doc_defaults()
    wrong = []
    for key, written in documented.items():
        path = tuple(key.split("."))
        try:
            default = _get(dflt, path)
        except KeyError:  # no default: the key must be required, and the page must say so
            sub = schema
            for k in path[:-1]:
                sub = sub["properties"][k]
            assert path[-1] in sub["properties"], f"docs/configuration.md: {key} is not a config key"
            if written != "required" or path[-1] not in sub.get("required", ()):
                wrong.append(f"{key}: page says {written!r}, the schema has no default")
            continue
        if key in IN_WORDS:
            continue
        if not _agrees(written, default):
            wrong.append(f"{key}: page says {written!r}, the schema's default is {default!r}")
    assert not wrong, "docs/configuration.md disagrees with the schema:\n" + "\n".join(wrong)
    # every key of the schema is in a table (itself or the block it belongs to)
    missing = [".".join(p) for p, _, _ in _leaves(schema)
               if not any(".".join(p[:i]) in documented for i in range(1, len(p) + 1))]
    assert not missing, f"not in a table of docs/configuration.md: {missing}"


def test_a_wrong_default_in_the_docs_is_caught():
    assert _agrees("500", 500) and _agrees("`[zh, en]`".strip("`"), ["zh", "en"]) and _agrees("1e8", 1.0e8)
    assert _agrees("3G, 4G, 5G, 6G", ["3G", "4G", "5G", "6G"]) and _agrees("13 patterns", [0] * 13)
    assert not _agrees("400", 500) and not _agrees("[zh]", ["zh", "en"]) and not _agrees("false", True)
    assert not _agrees("12 patterns", [0] * 13) and not _agrees("required", 1) and not _agrees("auto", None)


# --- the library's keyword defaults ---------------------------------------------------------------

# keyword arguments named as a config setting; their defaults must come from the schema (`_D[...]`)
SETTINGS = {"min_tokens", "low_data_tokens", "z_threshold", "conf", "conf_level", "n_boot", "seed", "unit",
            "bootstrap_unit", "min_documents", "kwic_window", "window", "ngram_max", "vectorize_ngram_max",
            "min_count", "alpha_0", "q_threshold", "top_n", "rounds", "baseline_rounds", "min_paragraphs",
            "baseline_min_paragraphs", "min_years", "min_coverage", "max_length_factor", "dpi", "phrase_k", "k", "top_themes",
            "top_phrases", "top", "per_cell", "min_precision", "min_coded", "length_variance", "anchor_weight",
            "prior", "paragraphs", "max_terms", "phrase_contexts", "count_roles", "years", "min_chars",
            "max_space_share", "min_letter_run", "word_count", "lang_a", "lang_b"}
# literal defaults that are not a restated config default: they deliberately differ from the config's
# (library behaviour), or the argument only shares a setting's name
NOT_RESTATED = {("drift", "top_terms", "unit"), ("drift", "term_shifts", "unit"),
             ("themes", "theme_frequencies", "ci"), ("themes", "theme_table", "ci"), ("themes", "write_themes", "ci"),
             ("themes", "theme_changes", "min_tokens"), ("themes", "write_themes", "min_tokens"),
             ("phrases", "group_phrase_changes", "min_tokens"), ("phrases", "phrase_changes", "min_tokens"),
             ("phrases", "write_phrases", "min_tokens"), ("align", "align_paragraphs", "length_ratio"),
             ("synth", "make_corpus", "seed"), ("synth", "add_document", "seed"), ("synth", "make_corpus", "years"),
             ("synth", "calibration_corpus", "seed"), ("synth", "calibration_corpus", "years"),
             ("synth", "translated_pairs", "seed")}


@pytest.mark.parametrize("module", sorted(p.stem for p in (ROOT / "src/textdrift").glob("*.py")))
def test_keyword_defaults_of_config_settings_come_from_the_schema(module):
    tree = ast.parse((ROOT / "src/textdrift" / f"{module}.py").read_text(encoding="utf-8"))
    literal = []
    for fn in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
        a = fn.args
        pos = a.posonlyargs + a.args
        pairs = [*zip(pos[len(pos) - len(a.defaults):], a.defaults), *zip(a.kwonlyargs, a.kw_defaults)]
        for arg, value in pairs:
            if (arg.arg in SETTINGS or arg.arg == "ci" or arg.arg == "length_ratio") and value is not None:
                try:
                    is_literal = ast.literal_eval(value) is not None  # a value written out, not read
                except ValueError:
                    is_literal = False
                if is_literal and (module, fn.name, arg.arg) not in NOT_RESTATED:
                    literal.append(f"{fn.name}({arg.arg}={ast.unparse(value)})")
    assert not literal, f"textdrift.{module}: write the schema's default (e.g. _D[...]), not a copy: {literal}"


def test_changing_a_schema_default_changes_the_library(tmp_path):
    """The keyword defaults are read from the schema at import: a default edited there is the library's
    (rules and notebook API alike)."""
    import os
    import shutil
    import subprocess
    import sys

    schema = SCHEMA.read_text(encoding="utf-8")
    old = "q_threshold: {type: number, exclusiveMinimum: 0, maximum: 1, default: 0.05}"  # crosslingual's
    assert schema.count(old) == 1
    shutil.copytree(ROOT / "src/textdrift", tmp_path / "src/textdrift", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "workflow/schemas").mkdir(parents=True)
    (tmp_path / "workflow/schemas/config.schema.yaml").write_text(schema.replace(old, old.replace("0.05", "0.25")),
                                                                 encoding="utf-8")
    code = ("import inspect, textdrift.crosslingual as x, textdrift.figures as f, textdrift.config as c;"
            "print(inspect.signature(x.compare_themes).parameters['q_threshold'].default,"
            " inspect.signature(f.crosslingual_chart).parameters['q_threshold'].default,"
            " c.with_defaults({})['crosslingual']['q_threshold'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(tmp_path / "src")}).stdout
    assert out.split() == ["0.25", "0.25", "0.25"]


def test_settings_objects_hold_the_schema_defaults_a_config_or_a_rule_params():
    """The analyses' settings objects (textdrift.config.Settings): the schema's defaults, a
    configuration's values (a key it lacks from the schema) or a rule's params."""
    from types import SimpleNamespace

    from textdrift.findings import FindingsSettings
    from textdrift.themes import ThemesSettings

    d = defaults()
    s = ThemesSettings()
    assert s.conf_level == d["themes"]["conf_level"] and s.unspaced_languages == tuple(d["unspaced_languages"])
    c = ThemesSettings.from_config({"themes": {"n_boot": 7}})
    assert c.n_boot == 7 and c.seed == d["themes"]["seed"]
    p = ThemesSettings.from_params(SimpleNamespace(n_boot=9, languages=["en"], count_roles=["body", "title"]))
    assert p.n_boot == 9 and p.ci == d["themes"]["ci"] and p.count_roles == ("body", "title")
    assert p.replace(seed=1).seed == 1 and p.seed == d["themes"]["seed"]
    f = FindingsSettings.from_config({"phrases": {"min_count": 4}, "low_data_tokens": 10})
    assert f.phrase_settings["min_count"] == 4 and f.phrase_settings["min_tokens"] == 10 == f.low_data_tokens
    assert f.tfidf == d["drift"]["tfidf"] and f.themes().conf_level == f.conf_level
    with pytest.raises(Exception):  # frozen: settings travel unchanged
        s.n_boot = 1
