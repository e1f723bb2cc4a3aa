"""environment.yml (conda) and uv.lock must describe the same environment."""

import importlib.util
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("export_environment", ROOT / "tools" / "export_environment.py")
export_environment = importlib.util.module_from_spec(spec)
spec.loader.exec_module(export_environment)


def _env_pins() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    pins = {}
    for line in pip:
        name, sep, version = line.partition("==")
        assert sep, f"environment.yml: {line!r} is not pinned with =="
        pins[name.strip().lower()] = version.strip()
    return pins


def test_environment_yml_matches_lock():
    locked = export_environment.locked_packages(ROOT / "uv.lock")
    pins = _env_pins()
    only_lock = sorted(set(locked) - set(pins))
    only_env = sorted(set(pins) - set(locked))
    differ = sorted(n for n in set(locked) & set(pins) if locked[n] != pins[n])
    assert not only_lock, f"in uv.lock, missing from environment.yml: {only_lock} (run `make environment.yml`)"
    assert not only_env, f"in environment.yml, not in uv.lock: {only_env}"
    assert not differ, "versions differ: " + ", ".join(f"{n} lock={locked[n]} env={pins[n]}" for n in differ)


def test_direct_dependencies_pinned_to_lock():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    locked = export_environment.locked_packages(ROOT / "uv.lock")
    deps = project["project"]["dependencies"] + project["dependency-groups"]["dev"]
    for dep in deps:
        name, _, version = dep.partition("==")
        name = name.split("[")[0]  # moto[server]: the package, without its extras
        assert locked.get(name.lower()) == version, f"pyproject {dep!r} != uv.lock {locked.get(name.lower())}"


def test_environment_python_matches_project():
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    py = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))
    assert py == "python=3.11"


# --- the slim per-rule environments (workflow/envs/) ---

import ast
import functools
import re
import sys
from importlib.metadata import packages_distributions

LIBRARY = ROOT / "src" / "textdrift"


def test_generated_environments_up_to_date():
    for path, text in export_environment.rendered(ROOT / "uv.lock").items():
        assert path.exists(), f"{path.relative_to(ROOT)} missing (run `make environment.yml`)"
        assert path.read_text(encoding="utf-8") == text, f"{path.relative_to(ROOT)} is out of date: make environment.yml"


@functools.cache
def _closure(env: str) -> frozenset[str]:
    """The locked packages of environment ``env`` (uv.lock read once per environment, not per rule)."""
    return frozenset(export_environment.closure(export_environment.ENVS[env], ROOT / "uv.lock"))


@functools.cache
def _distributions() -> dict[str, list[str]]:
    """importlib's module -> distributions map, read once (it scans every installed package)."""
    return packages_distributions()


@functools.cache
def _imports(path: Path) -> set[str]:
    """Every module an import statement of the file names, function-local imports included."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level:  # relative: from . import x / from .x import y
            names |= {f"textdrift.{node.module or a.name}" for a in node.names}
    return names


def _third_party(script: Path) -> set[str]:
    """Distributions the script's code can import: its imports and, transitively, the library's."""
    todo, seen, top = [script], set(), set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in _imports(path):
            head = name.split(".")[0]
            if head == "textdrift":
                module = LIBRARY.joinpath(*name.split(".")[1:]).with_suffix(".py")
                if module.exists():
                    todo.append(module)
            elif head not in sys.stdlib_module_names and head != "snakemake":
                top.add(head)
    dists = _distributions()
    missing = sorted(t for t in top if t not in dists)
    assert not missing, f"{script.name}: imports not installed: {missing}"
    return {re.sub(r"[-_.]+", "-", d).lower() for t in top for d in dists[t]}


def _rule_envs() -> list[tuple[str, str, str]]:
    """(rule, script, env) of every rule with a script: directive."""
    found = []
    for smk in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        for block in re.split(r"^rule ", smk.read_text(encoding="utf-8"), flags=re.M)[1:]:
            rule = block.split(":", 1)[0]
            script = re.search(r'script:\s*"\.\./scripts/([\w.]+)"', block)
            conda = re.search(r'conda:\s*\n?\s*(?:env\()?"?([\w./{}]+?)"?\)?\s*$', block, flags=re.M)
            if script:
                assert conda, f"rule {rule} ({smk.name}) declares no conda: environment"
                found.append((rule, script.group(1), Path(conda.group(1)).stem))
    return found


def test_every_rule_environment_has_what_its_code_imports():
    rules = _rule_envs()
    assert rules
    for rule, script, env in rules:
        assert env in export_environment.ENVS, f"rule {rule}: unknown environment {env!r}"
        have = _closure(env)
        need = _third_party(ROOT / "workflow" / "scripts" / script)
        assert need <= have, f"rule {rule} ({script}) runs in envs/{env}.yml, which lacks {sorted(need - have)}"


def test_slim_environments_are_slim():
    """No slim environment carries JupyterLab, Snakemake or the test tools."""
    for env, names in export_environment.ENVS.items():
        pins = export_environment.closure(names, ROOT / "uv.lock")
        for heavy in ("jupyterlab", "snakemake", "pytest", "ipykernel"):
            assert heavy not in pins, f"envs/{env}.yml pulls in {heavy}"
