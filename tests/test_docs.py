"""The documentation stays true: the README is short and its links resolve, every configuration key
is in docs/configuration.md, every column of every result table is named in docs/methods.md (or,
for documents.csv, docs/corpus.md)."""

import re

import pandas as pd
import pytest

from conftest import FIXTURE, ROOT
from textdrift.config import load_yaml, with_defaults

DOCS = ROOT / "docs"


def _documented(text: str, langs=("zh", "en")) -> set[str]:
    """Every identifier inside a `code span` of the text, a `{lang}` placeholder (`count_{lang}`)
    read as each language."""
    spans = [s.replace("{lang}", lang) for s in re.findall(r"`([^`]+)`", text) for lang in langs]
    return {w for span in spans for w in re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", span)}


def test_readme_is_short_and_its_links_resolve():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.encode("utf-8")) <= 12_000
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme):
        assert (ROOT / target).exists(), target
    for doc in DOCS.glob("*.md"):
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", doc.read_text(encoding="utf-8")):
            assert (doc.parent / target).exists(), f"{doc.name}: {target}"


def test_every_config_key_is_documented():
    config = with_defaults(load_yaml(FIXTURE / "config/config.yaml"))  # the keys set and those with a default
    documented = _documented((DOCS / "configuration.md").read_text(encoding="utf-8"))
    opaque = {"en_lemma_overrides", "bead_priors", "tfidf"}  # their keys are values (words, bead types, sklearn args)

    def leaves(d, path=()):
        for k, v in d.items():
            if isinstance(v, dict) and k not in opaque:
                yield from leaves(v, (*path, k))  # a block is documented through its keys
            else:
                yield (*path, k)

    missing = [".".join(p) for p in leaves(config)
               if not any(".".join(p[i:]) in documented for i in range(len(p)))]
    assert not missing, f"not in docs/configuration.md: {missing}"


@pytest.mark.e2e
def test_every_table_column_is_documented(workflow_run):
    documented = _documented((DOCS / "methods.md").read_text(encoding="utf-8")
                             + (DOCS / "corpus.md").read_text(encoding="utf-8"))
    missing = {}
    for table in sorted((workflow_run["dir"] / "results/tables").glob("*.csv")):
        cols = [c for c in pd.read_csv(table, nrows=0).columns if c not in documented]
        if cols:
            missing[table.name] = cols
    assert not missing, f"columns not named in docs/methods.md: {missing}"
