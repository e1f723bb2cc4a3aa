"""Write the conda environments from uv.lock, the single source of pinned versions.

    make environment.yml        # after changing pyproject.toml and running `uv lock`

Two kinds of file, both generated here and never edited by hand:

- ``environment.yml``: the whole locked environment (runtime and dev groups), for conda users who
  want what ``make run`` uses (``conda env create -f environment.yml``).
- ``workflow/envs/<name>.yml``: one slim environment per kind of rule (the ``conda:`` directive of
  each rule names one), for ``snakemake --sdm conda`` on a cluster: only the packages that rule's
  code imports, with everything they depend on, at the versions of uv.lock.

conda creates Python and pip; every package is then installed by pip at the exact version of
uv.lock, so every route gives the same versions. tests/test_environment.py fails when a file is
out of date with the lock, or when the code a rule runs imports a package its environment lacks
(a static scan of every import of the library, function-local ones included).
"""

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV_DIR = ROOT / "workflow" / "envs"
PYTHON = "3.11"

# The packages each slim environment asks for (their dependencies follow from the lock). What the
# code imports is checked by the tests; what it loads without an import statement is listed here:
# spacy-lookups-data (spaCy's lemma tables, found through an entry point).
ENVS = {
    "clean": ["pandas", "pyarrow", "numpy", "pyyaml", "jsonschema", "beautifulsoup4", "pdfminer-six", "python-docx",
              "wordsegment", "jieba", "opencc-python-reimplemented"],
    "segment": [
        "pandas", "pyarrow", "numpy", "scipy", "pyyaml", "jsonschema",
        "spacy", "spacy-lookups-data", "jieba", "opencc-python-reimplemented",
        # reached through vectorize -> themes -> stats (the import cycle issue 26 removes)
        "statsmodels",
    ],
    # counting, statistics, tables, charts and the explorer
    "analysis": [
        "pandas", "pyarrow", "numpy", "scipy", "scikit-learn", "statsmodels", "pyyaml", "jsonschema", "matplotlib",
        "mplfonts",
    ],
}
HEADER = "# Generated from uv.lock by tools/export_environment.py; do not edit by hand."


def _lock(lock_path: Path) -> list[dict]:
    return tomllib.loads(lock_path.read_text(encoding="utf-8"))["package"]


def locked_packages(lock_path: Path = ROOT / "uv.lock") -> dict[str, str]:
    """name -> version of every third-party package in uv.lock."""
    return {p["name"]: p["version"] for p in _lock(lock_path) if p.get("source", {}).get("registry")}


def _applies(marker: str | None) -> bool:
    """Whether a dependency's environment marker holds on Linux (conda's cluster nodes)."""
    if not marker:
        return True
    from packaging.markers import Marker

    return Marker(marker).evaluate({"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"})


def closure(names: list[str], lock_path: Path = ROOT / "uv.lock") -> dict[str, str]:
    """name -> version of ``names`` and everything they depend on (Linux markers), from the lock."""
    packages = {p["name"]: p for p in _lock(lock_path)}
    seen: dict[str, str] = {}
    todo = [n.lower() for n in names]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        if name not in packages:
            raise KeyError(f"{name} is not in uv.lock")
        seen[name] = packages[name]["version"]
        todo += [d["name"] for d in packages[name].get("dependencies", []) if _applies(d.get("marker"))]
    return seen


def render(packages: dict[str, str], name: str = "textdrift", usage: str | None = None) -> str:
    usage = usage or (
        "# conda env create -f environment.yml && conda activate textdrift && pip install -e . --no-deps"
    )
    lines = [HEADER, usage, f"name: {name}", "channels:", "  - conda-forge", "dependencies:",
             f"  - python={PYTHON}", "  - pip", "  - pip:"]
    lines += [f"      - {n}=={v}" for n, v in sorted(packages.items())]
    return "\n".join(lines) + "\n"


def rendered(lock_path: Path = ROOT / "uv.lock") -> dict[Path, str]:
    """Every generated file: path -> text."""
    files = {ROOT / "environment.yml": render(locked_packages(lock_path))}
    for env, names in ENVS.items():
        usage = f"# the rules of kind '{env}' (their conda: directive); snakemake --sdm conda creates it"
        files[ENV_DIR / f"{env}.yml"] = render(closure(names, lock_path), f"textdrift-{env}", usage)
    return files


if __name__ == "__main__":
    ENV_DIR.mkdir(parents=True, exist_ok=True)
    for path, text in rendered().items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    sys.exit(0)
