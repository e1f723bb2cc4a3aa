"""Provenance: which code made a result, and rules that rerun when their code changes.

Two jobs, both small and standard-library only (the workflow imports this module when it starts):

* **Library code as a declared input of each rule.** Snakemake tracks a rule's script, not the
  library modules the script calls, so after an update of ``src/textdrift`` a plain ``make run``
  would keep every table the old code made. :func:`code_hash` follows the imports of a rule's
  script through the library (every ``import textdrift.x`` / ``from textdrift.x import ...`` /
  ``from textdrift import x`` / relative import, function-local ones included, transitively) and
  hashes the source of every module it reaches; the workflow gives that hash to each rule as the
  param ``code`` (``workflow/rules/provenance.smk``), so Snakemake's own ``params`` rerun trigger
  reruns exactly the rules whose code changed, and the ``mtime`` trigger their downstream rules.
  A module no rule reaches (the notebooks' API, say) reruns nothing.
* **Provenance of the results.** :func:`write_provenance` writes ``results/provenance.json``:
  the package version, the git commit and whether the working tree had uncommitted changes (read
  when the file is written; outside git: ``null``, the code hashes still identify the code), the
  codebook version, a hash of the configuration, and for every table its SHA-256, the rule that
  made it and that rule's code hash. ``results/README.md`` and the explorer state the same.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["code_hash", "code_hash_all", "config_hash", "describe", "git_state", "library_modules", "module_closure", "run_provenance", "settings", "table_key",
           "write_provenance"]

PACKAGE = "textdrift"


def _package_dir() -> Path:
    """The directory of the ``textdrift`` package that is imported (``src/textdrift`` of the
    checkout, or wherever the caller's ``PYTHONPATH`` finds it)."""
    return Path(__file__).resolve().parent


def library_modules(package_dir: str | Path | None = None) -> dict[str, Path]:
    """Every module of the package: ``{"textdrift.themes": path, ...}`` (``textdrift`` for
    ``__init__.py``).

    Parameters
    ----------
    package_dir : str or Path, optional
        The package's directory (default: the imported package's).

    Returns
    -------
    dict of str to Path
    """
    root = Path(package_dir) if package_dir else _package_dir()
    out = {}
    for path in sorted(root.glob("*.py")):
        out[PACKAGE if path.stem == "__init__" else f"{PACKAGE}.{path.stem}"] = path
    return out


#: the fields of a node that hold statements (bodies of modules, functions, classes, compound
#: statements, ``except`` handlers and ``match`` cases): an import is a statement, so it is in one
_BODIES = ("body", "orelse", "finalbody", "handlers", "cases")


def _statements(tree: ast.AST):
    """Every statement of a parsed file, nested ones included: the nodes of ``ast.walk`` that can
    be an import, without visiting the expressions (nine in ten nodes; the walk over them was most
    of the time Snakemake takes to hash the rules' code at every start)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        for field in _BODIES:
            children = getattr(node, field, None)
            if isinstance(children, list):
                todo.extend(children)


def _records(tree: ast.AST) -> list:
    """The import statements of a parsed file, as ``[module, level, names]``: ``module`` is ``None``
    for ``import a.b, c`` (``names``: the modules), else the ``from`` part (``""`` for ``from .
    import x``), ``level`` its leading dots, ``names`` what is imported from it."""
    out = []
    for node in _statements(tree):
        if isinstance(node, ast.Import):
            out.append([None, 0, [a.name for a in node.names]])
        elif isinstance(node, ast.ImportFrom):
            out.append([node.module or "", node.level, [a.name for a in node.names]])
    return out


def _imported(records: list, this: str, modules: dict[str, Path]) -> set[str]:
    """The package's modules that one file imports anywhere in it (function-local too), from its
    :func:`_records`.

    ``this``: the importing module's name (for relative imports; ``""`` for a script outside the
    package)."""
    found = set()
    for module, level, aliases in records:
        if module is None:
            names = aliases
        else:
            base = module
            if level:  # relative: from . import x, from .x import y
                parent = this.rsplit(".", level)[0] if this else PACKAGE
                base = f"{parent}.{base}" if base else parent
            # `from textdrift import stats` imports the module textdrift.stats
            names = [base] + [f"{base}.{a}" for a in aliases]
        for name in names:
            while name:
                if name in modules:
                    found.add(name)
                    break
                name = name.rpartition(".")[0]
    return found


def _valid_records(records) -> bool:
    return isinstance(records, list) and all(
        isinstance(r, list) and len(r) == 3 and (r[0] is None or isinstance(r[0], str)) and isinstance(r[1], int)
        and isinstance(r[2], list) and all(isinstance(a, str) for a in r[2]) for r in records)


def _module_records(package_dir: Path, sources: dict[str, bytes]) -> dict[str, list]:
    """Each module's :func:`_records`, kept between starts in the package's ``__pycache__``
    (``imports-<python>.json``, keyed by the SHA-256 of each module's source, as Python keeps its
    bytecode there): parsing the 1.3 MB of the package's sources was about a third of a second of
    every Snakemake start. A missing, unreadable or malformed file or entry is parsed again; a
    directory that cannot be written is only not kept."""
    path = package_dir / "__pycache__" / f"imports-{sys.implementation.cache_tag}.json"
    try:
        kept = json.loads(path.read_bytes())
    except (OSError, ValueError):
        kept = {}
    if not isinstance(kept, dict):
        kept = {}
    records, fresh = {}, {}
    for name, src in sources.items():
        key = hashlib.sha256(src).hexdigest()
        found = kept.get(key)
        if not _valid_records(found):
            found = _records(ast.parse(src))
        records[name] = fresh[key] = found
    if fresh != kept:
        try:
            path.parent.mkdir(exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".imports-")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(fresh, fh)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except OSError:
            pass
    return records


@functools.lru_cache(maxsize=8)
def _graph(package_dir: Path, stamp: tuple) -> tuple[dict[str, frozenset], dict[str, bytes]]:
    """The package's import graph and its modules' sources, read once per start (``stamp``: the
    files' sizes and times, so an edited file is read again) and parsed only when changed
    (:func:`_module_records`)."""
    modules = library_modules(package_dir)
    sources = {name: path.read_bytes() for name, path in modules.items()}
    records = _module_records(package_dir, sources)
    edges = {name: frozenset(_imported(records[name], name, modules)) for name in sources}
    return edges, sources


def _package(package_dir: str | Path | None) -> tuple[dict[str, frozenset], dict[str, bytes], dict[str, Path]]:
    root = (Path(package_dir) if package_dir else _package_dir()).resolve()
    modules = library_modules(root)
    stamp = tuple((name, p.stat().st_mtime_ns, p.stat().st_size) for name, p in modules.items())
    edges, sources = _graph(root, stamp)
    return edges, sources, modules


def module_closure(script: str | Path, package_dir: str | Path | None = None) -> list[str]:
    """The package's modules a script runs: those it imports, and those they import, transitively.

    Importing ``textdrift.x`` also runs ``textdrift/__init__.py``, which is included.

    Parameters
    ----------
    script : str or Path
        A Python file (a rule's script, or a module of the package).
    package_dir : str or Path, optional
        The package's directory (default: the imported package's).

    Returns
    -------
    list of str
        Module names, sorted.
    """
    edges, _, modules = _package(package_dir)
    todo = list(_imported(_records(ast.parse(Path(script).read_bytes())), "", modules))
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(edges[name] - seen)
    if seen:
        seen.add(PACKAGE)
    return sorted(seen)


def code_hash(script: str | Path, package_dir: str | Path | None = None) -> str:
    """The SHA-256 (first 16 hex digits) of the source of every library module a script runs.

    Any change to one of those files (a comment too: the hash is of the bytes, so that what is
    reported is exactly what ran) changes the hash; a change to any other file does not. The
    script itself is not included: Snakemake tracks it already (its ``code`` rerun trigger).

    Parameters
    ----------
    script : str or Path
    package_dir : str or Path, optional

    Returns
    -------
    str
    """
    return _digest(module_closure(script, package_dir), _package(package_dir)[1])


def _digest(names, sources: dict[str, bytes]) -> str:
    """SHA-256 (first 16 hex digits) of the named modules' sources, in the order given."""
    h = hashlib.sha256()
    for name in names:
        h.update(name.encode("utf-8") + b"\0" + sources[name] + b"\0")
    return h.hexdigest()[:16]


def settings(params) -> dict:
    """A rule's params as keyword arguments of the library function it calls: every named param
    but ``code`` (the rule's code hash, which the workflow adds to every rule).

    Parameters
    ----------
    params : Snakemake's named list of params (anything with ``items()``)

    Returns
    -------
    dict
    """
    return {k: v for k, v in params.items() if k != "code"}


def config_hash(config: dict) -> str:
    """The SHA-256 (first 12 hex digits) of the configuration as canonical JSON (keys sorted):
    two runs with the same settings, defaults included, have the same hash.

    Parameters
    ----------
    config : dict

    Returns
    -------
    str
    """
    text = json.dumps(config, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def git_state(where: str | Path = ".") -> dict:
    """The git commit of ``where`` and the files with uncommitted changes (untracked files that
    git does not ignore included).

    Parameters
    ----------
    where : str or Path
        A directory in the working tree.

    Returns
    -------
    dict
        ``{"commit": str or None, "dirty": bool or None, "changed_files": [...]}``; ``None`` when
        ``where`` is not in a git working tree or git is not installed.
    """
    def git(*args):
        return subprocess.run(["git", "-C", str(where), *args], capture_output=True, text=True, check=True,
                              timeout=30).stdout

    try:
        commit = git("rev-parse", "HEAD").strip()
        changed = [line[3:] for line in git("status", "--porcelain", "--untracked-files=normal").splitlines() if line]
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None, "changed_files": []}
    return {"commit": commit, "dirty": bool(changed), "changed_files": changed}


def table_key(path: str | Path) -> str:
    """A table's name in provenance.json: its path under ``tables/`` (``by_genre/theme_changes.csv``),
    the same for a local path, a storage provider's query (``s3://bucket/prefix/results/tables/...``)
    and its local cache.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    str
    """
    parts = Path(str(path)).parts
    return "/".join(parts[len(parts) - 1 - parts[::-1].index("tables") + 1:]) if "tables" in parts else Path(path).name


def write_provenance(out_path: str | Path, tables: dict[str, dict], config: dict, codebook_path: str | Path | None,
                     where: str | Path = ".", files=None) -> dict:
    """Write ``provenance.json``: what made the results (see the module docstring).

    Parameters
    ----------
    out_path : str or Path
    tables : dict
        ``{table: {"rule": name, "code": code hash}}`` of every table, by its path (or its path
        under ``tables/``, :func:`table_key`).
    config : dict
        The configuration (its hash is recorded).
    codebook_path : str or Path, optional
        The codebook (its version, :func:`textdrift.codebook.codebook_hash`).
    where : str or Path
        The project directory (for :func:`git_state`).
    files : list, optional
        The tables as this job reads them (with a storage provider, the local copies), matched to
        ``tables`` by :func:`table_key`; default: the paths of ``tables``.

    Returns
    -------
    dict
        What was written.
    """
    from textdrift import __version__
    from textdrift.codebook import codebook_hash
    from textdrift.io import file_sha256

    local = {table_key(f): f for f in files or []}  # the files as this job sees them
    state = git_state(where)
    record = {
        "textdrift_version": __version__,
        "commit": state["commit"],
        "dirty": state["dirty"],
        "changed_files": state["changed_files"],
        "library_code": code_hash_all(),
        "codebook_version": codebook_hash(codebook_path) if codebook_path else None,
        "config_hash": config_hash(config),
        "tables": {
            # keyed by the path under tables/ only: with a storage provider the local path is a cache's
            table_key(name): {"sha256": file_sha256(local.get(table_key(name), name)), "rule": info["rule"],
                              "code": info["code"]}
            for name, info in sorted(tables.items(), key=lambda kv: table_key(kv[0]))
        },
    }
    Path(out_path).write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return record


def code_hash_all(package_dir: str | Path | None = None) -> str:
    """The SHA-256 (first 16 hex digits) of every module of the package: the code as a whole,
    where git cannot name it.

    Parameters
    ----------
    package_dir : str or Path, optional

    Returns
    -------
    str
    """
    root = (Path(package_dir) if package_dir else _package_dir()).resolve()
    # the sources only (the import graph, which needs every module parsed, is not asked for here)
    sources = {name: path.read_bytes() for name, path in library_modules(root).items()}
    return _digest(sources, sources)  # every module, in library_modules' order


def describe(record: dict) -> str:
    """One line for a reader: version, commit (or the code hash), a dirty tree, codebook, config.

    Parameters
    ----------
    record : dict
        :func:`write_provenance`'s record (``results/provenance.json``).

    Returns
    -------
    str
    """
    if record.get("commit"):
        code = f"commit {record['commit'][:12]}"
        if record.get("dirty"):
            n = len(record.get("changed_files") or [])
            code += f" with uncommitted changes ({n} file{'s' if n != 1 else ''})"
    else:
        code = f"library code {record['library_code']} (not a git checkout)"
    return (f"textdrift {record['textdrift_version']}, {code}; codebook {record.get('codebook_version')}, "
            f"configuration {record['config_hash']}")


def run_provenance(input, output, params, log) -> None:
    """Rule ``provenance``: ``results/provenance.json``.

    Parameters
    ----------
    input, output, params, log
        Snakemake's: ``input.tables``, ``input.codebook``; ``params.tables`` (``{path: {"rule",
        "code"}}``) and ``params.config``; ``output[0]``.
    """
    from textdrift.io import log_to_file

    logger = log_to_file(log[0] if log else None)
    record = write_provenance(output[0], dict(params.tables), dict(params.config), input.codebook,
                              files=list(input.tables))
    logger.info("%s", describe(record))
