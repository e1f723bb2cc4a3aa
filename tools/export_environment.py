"""Write environment.yml (for conda users) from uv.lock, the single source of pinned versions.

    make environment.yml        # after changing pyproject.toml and running `uv lock`

conda creates Python and pip; every package is then installed by pip at the exact
version of uv.lock (runtime and dev groups), so both routes give the same
environment. tests/test_environment.py fails when the two disagree.
"""

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def locked_packages(lock_path: Path = ROOT / "uv.lock") -> dict[str, str]:
    """name -> version of every third-party package in uv.lock."""
    lock = tomllib.loads(lock_path.read_text(encoding="utf-8"))
    return {
        p["name"]: p["version"]
        for p in lock["package"]
        if p.get("source", {}).get("registry")
    }


def render(packages: dict[str, str], python: str = "3.11") -> str:
    lines = [
        "# Generated from uv.lock by tools/export_environment.py; do not edit by hand.",
        "# conda env create -f environment.yml && conda activate textdrift && pip install -e . --no-deps",
        "name: textdrift",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        f"  - python={python}",
        "  - pip",
        "  - pip:",
    ]
    lines += [f"      - {name}=={version}" for name, version in sorted(packages.items())]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "environment.yml"
    out.write_text(render(locked_packages()), encoding="utf-8")
