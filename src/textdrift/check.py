"""``make check``: the user's own inputs validated, every problem listed, nothing run; the checks
are those of the config, entities, codebook and manifest modules, all run here before any job.

``python -m textdrift.check --config config/config.yaml`` reads the configuration (a key given
twice is an error), validates it against ``workflow/schemas/config.schema.yaml``, then the entity
list, the theme codebook and the manifest (with its raw files), and ``group_by``: the same checks
the workflow runs before any job, but all of them, each problem on its own line. Exit status 1
when anything is wrong. ``make run`` runs it first.

``--unlock-stale``: after a run killed outright (``kill -9``, a lost terminal) Snakemake's lock
stays in ``.snakemake/locks``; when no Snakemake process is running in this directory (Linux:
``/proc``), remove it (``snakemake --unlock``) and say so; with a run still going, leave it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

__all__ = ["check_inputs", "main", "snakemake_running", "unlock_stale"]

ROOT = Path(__file__).resolve().parents[2]


def check_inputs(config_path: str | Path | list) -> tuple[list[str], list[str]]:
    """Check the configuration and the inputs it names, collecting every problem.

    Parameters
    ----------
    config_path : str or Path, or a list of them
        The configuration file (``config/config.yaml``), or several, merged in order as Snakemake
        merges ``configfile:`` and ``--configfile`` (a later file's keys replace an earlier one's,
        block by block).

    Returns
    -------
    problems : list of str
        One message per problem (empty when all is valid); a configuration that fails its schema
        stops the checks there.
    notes : list of str
        What was read (counts, years, the codebook's version) and the manifest's warnings.
    """
    from textdrift.config import config_errors, load_yaml, with_defaults
    from textdrift.entities import load_entities
    from textdrift.manifest import ManifestError, check_group_by, load_manifest
    from textdrift.codebook import codebook_hash, load_codebook

    schemas = ROOT / "workflow" / "schemas"
    import yaml

    # what a bad input raises: a missing file, a key given twice or an invalid codebook, entity list or
    # manifest (ValueError subclasses naming file and field), a YAML syntax error (with its line)
    errors = (OSError, ValueError, yaml.YAMLError)
    from textdrift.config import merge

    config = {}
    for path in config_path if isinstance(config_path, (list, tuple)) else [config_path]:
        try:
            config = merge(config, load_yaml(path) or {})
        except yaml.YAMLError as err:
            return [f"{path}: {err}"], []
        except errors as err:
            return [str(err)], []
    problems = config_errors(config, load_yaml(schemas / "config.schema.yaml"))
    if problems:
        return problems, []  # the rest reads paths from a valid configuration
    config = with_defaults(config, schemas / "config.schema.yaml")
    notes, entities = [], []
    try:
        entities = load_entities(config["entities"], schemas / "entities.schema.yaml")
        notes.append(f"entity list {config['entities']}: {len(entities)} entities")
    except errors as err:
        problems.append(str(err))
    try:
        codebook = load_codebook(config["themes"]["codebook"], schemas / "themes.schema.yaml", entities)
        notes.append(f"codebook {config['themes']['codebook']}: {len(codebook)} themes "
                     f"(version {codebook_hash(config['themes']['codebook'])})")
    except errors as err:
        problems.append(str(err))
    warnings: list[str] = []
    try:
        manifest = load_manifest(config["manifest"], raw_dir=config["raw_dir"],
                                 years=(config["years"]["min"], config["years"]["max"]),
                                 schema=schemas / "manifest.schema.yaml", warn=warnings.append)
        if len(manifest):
            notes.append(f"manifest {config['manifest']}: {len(manifest)} documents, years "
                         f"{manifest['year'].min()}-{manifest['year'].max()}")
        else:
            problems.append(f"{config['manifest']}: no documents yet: put the files in {config['raw_dir']}/ and "
                            "give each a row (doc_id, date, title, file; docs/corpus.md)")
        check_group_by(config["group_by"], manifest.columns)
    except ManifestError as err:
        problems += err.problems  # one per row and field: the count says how many there are
    except errors as err:
        problems.append(str(err))
    notes += [f"warning: {w}" for w in warnings]
    for key in ("zh_user_dict", "zh_stopwords", "en_stopwords_extra"):
        path = config["segment"].get(key)
        if path and not Path(path).is_file():
            problems.append(f"config: field 'segment.{key}': {path} does not exist")
    return problems, notes


def snakemake_running(directory: Path) -> bool:
    """Whether a Snakemake process runs with ``directory`` as its working directory.

    Read from Linux's ``/proc``; elsewhere assume yes, so a lock is never removed under a live run.

    Parameters
    ----------
    directory : Path
        The workflow's directory.

    Returns
    -------
    bool
    """
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    me, target = os.getpid(), directory.resolve()
    for p in proc.iterdir():
        if not p.name.isdigit() or int(p.name) == me:
            continue
        try:
            args = (p / "cmdline").read_bytes().split(b"\0")
            if any(b"snakemake" in a for a in args[:2]) and Path(os.readlink(p / "cwd")).resolve() == target:
                return True
        except OSError:
            continue
    return False


def unlock_stale(directory: Path, snakemake: list[str]) -> bool:
    """Remove a lock left by a killed run (see the module docstring).

    Parameters
    ----------
    directory : Path
        The workflow's directory.
    snakemake : list of str
        The command that runs Snakemake (``--unlock`` is appended).

    Returns
    -------
    bool
        True when a lock was removed.
    """
    locks = directory / ".snakemake" / "locks"
    if not (locks.is_dir() and any(locks.iterdir())) or snakemake_running(directory):
        return False
    subprocess.run([*snakemake, "--unlock"], cwd=directory, check=True, capture_output=True)
    print("make run: a previous run was killed and left its lock; no run is active here, so the lock was "
          "removed (snakemake --unlock) and this run redoes what was unfinished (--rerun-incomplete).")
    return True


def main(argv: list[str] | None = None) -> int:
    """The command line: ``python -m textdrift.check [--config PATH] [--unlock-stale SNAKEMAKE]``.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 when the inputs are valid, 1 otherwise.
    """
    parser = argparse.ArgumentParser(prog="python -m textdrift.check", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", action="append",
                        help="a configuration file; given twice, the second is read after the first, as Snakemake's "
                             "--configfile (default: config/config.yaml)")
    parser.add_argument("--unlock-stale", metavar="SNAKEMAKE", help="the snakemake executable: remove a stale lock")
    args = parser.parse_args(argv)
    if args.unlock_stale:
        unlock_stale(Path.cwd(), [args.unlock_stale])
        return 0
    problems, notes = check_inputs(args.config or ["config/config.yaml"])
    if problems:
        print(f"make check: {len(problems)} problem(s) in the inputs (nothing was run):", file=sys.stderr)
        for p in problems:
            print("  " + str(p).replace("\n", "\n  "), file=sys.stderr)
        return 1
    print("make check: configuration and inputs are valid")
    for n in notes:
        print(f"  {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
