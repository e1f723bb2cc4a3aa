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
        assert locked.get(name.lower()) == version, f"pyproject {dep!r} != uv.lock {locked.get(name.lower())}"


def test_environment_python_matches_project():
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    py = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))
    assert py == "python=3.11"
