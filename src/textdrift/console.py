"""What ``make run`` shows: progress in a few lines, then the warnings a user must see.

``python -m textdrift.console run -- SNAKEMAKE ARGS...`` runs Snakemake, passes its output
through :func:`filter_lines` (job blocks, timestamps and scheduler chatter dropped; progress
kept, at most one line per tenth of the jobs, or one line rewritten in place on a terminal;
every other line, errors and Snakemake's own warnings among them, shown as it comes) and exits
with Snakemake's status. The complete output stays in ``.snakemake/log/`` as always.

After a run (successful or not), :func:`warnings_summary` lists the warnings the jobs wrote to
their logs (``logs/**/*.log``: text in an undeclared language, codebook terms never matched,
files skipped, ...), one line each, shortened, with the log file to read for the rest: the logs of
the jobs whose outputs exist (Snakemake's metadata names them, :func:`current_logs`) and those
written during the run, not those of shards or rules that are gone.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["current_logs", "filter_lines", "main", "warnings_summary"]

_NOISE = re.compile(
    r"^(\[\w{3} \w{3} +\d+ [\d:]+ \d{4}\]|Select jobs to execute\.\.\.|Execute \d+ jobs?\.\.\.|"
    r"Finished jobid: \d+ .*|Assuming unrestricted shared filesystem usage\.|Using shell: .*|"
    r"Provided cores: \d+|Rules claiming more threads will be scaled down\.|Conda environments: ignored|"
    r"Building DAG of jobs\.\.\.|"
    # the report written after the run (--report-after-run): a line per script and per file added
    r"Loading script code for rule \w+|Adding .+ \([\d.]+ (?:bytes|[KMGT]B)\)\.|Creating report\.\.\.)$")
_PROGRESS = re.compile(r"^(\d+) of (\d+) steps \((\d+)%\) done$")
_WARNING = re.compile(r"^\S+ [\d:,]+ WARNING (.*)$")


def filter_lines(lines, write, tty: bool = False) -> None:
    """Pass Snakemake's output lines to ``write``, keeping what a user reads.

    Parameters
    ----------
    lines : iterable of str
        Snakemake's output, line by line (with or without newlines).
    write : callable
        Called with each piece of text to show.
    tty : bool
        On a terminal the progress is one line rewritten in place; otherwise a progress line is
        shown at each tenth of the jobs (and the last).
    """
    shown = -1
    pending = False  # a progress line without its newline yet (terminal)
    for raw in lines:
        line = raw.rstrip("\n")
        if not line.strip() or _NOISE.match(line):
            continue
        m = _PROGRESS.match(line)
        if m:
            done, total, pct = (int(g) for g in m.groups())
            if tty:
                write(f"\r{line}")
                pending = True
                if done == total:
                    write("\n")
                    pending = False
            elif pct // 10 > shown or done == total:
                shown = pct // 10
                write(line + "\n")
            continue
        if pending:
            write("\n")
            pending = False
        write(line + "\n")
    if pending:
        write("\n")


def current_logs(metadata_dir: str | Path = ".snakemake/metadata") -> set[Path] | None:
    """The log files of the jobs whose outputs exist now, from Snakemake's metadata records.

    Snakemake keeps a record for each output it made (``.snakemake/metadata/<base64 of the
    path>``, a long name split into folders), naming the log files of the job that made it. A log
    that no existing output's record names is stale: a shard or rule that is gone, a job from an
    earlier version of the workflow.

    Parameters
    ----------
    metadata_dir : str or Path
        Snakemake's metadata folder, relative to the working directory the workflow ran in.

    Returns
    -------
    set of Path or None
        Resolved paths; None when there are no records (the caller then reads every log).
    """
    import base64
    import json

    root = Path(metadata_dir)
    if not root.is_dir():
        return None
    found: set[Path] = set()
    for rec in root.rglob("*"):
        if not rec.is_file():
            continue
        name = "".join(rec.relative_to(root).parts)
        try:
            output = base64.urlsafe_b64decode(name + "=" * (-len(name) % 4)).decode("utf-8")
            logs = json.loads(rec.read_text(encoding="utf-8")).get("log") or []
        except (ValueError, OSError):  # not a record (binascii.Error and JSON errors are ValueErrors)
            continue
        if Path(output).exists():
            found.update(Path(p).resolve() for p in logs)
    return found or None


def warnings_summary(logs_dir: str | Path = "logs", width: int = 200, metadata_dir: str | Path | None = None,
                     since_ns: int | None = None) -> list[str]:
    """The warnings in the jobs' current logs, one line each (repeated messages once).

    Parameters
    ----------
    logs_dir : str or Path
        The workflow's log directory.
    width : int
        A longer message is cut there and ends with "..." and where to read it whole.
    metadata_dir : str or Path, optional
        Snakemake's metadata folder: when given, only the logs of jobs whose outputs exist are read
        (:func:`current_logs`), and those written since ``since_ns``.
    since_ns : int, optional
        The run's start (``time.time_ns()``): logs written since are read in any case (a failed
        job leaves its log but no output).

    Returns
    -------
    list of str
        ``"<message> (<log file>)"``, in the order of the log files' names.
    """
    keep = current_logs(metadata_dir) if metadata_dir is not None else None
    out, seen = [], set()
    for log in sorted(Path(logs_dir).rglob("*.log")):
        try:
            if keep is not None and log.resolve() not in keep and (
                    since_ns is None or log.stat().st_mtime_ns < since_ns):
                continue
            text = log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            m = _WARNING.match(line)
            if not m or m.group(1) in seen:
                continue
            seen.add(m.group(1))
            msg = m.group(1) if len(m.group(1)) <= width else m.group(1)[: width - 3].rstrip() + "..."
            out.append(f"{msg} ({log})")
    return out


def main(argv: list[str] | None = None) -> int:
    """The command line: ``python -m textdrift.console run [--logs DIR] -- SNAKEMAKE ARGS...``
    or ``python -m textdrift.console warnings [--logs DIR]``.

    Parameters
    ----------
    argv : list of str, optional

    Returns
    -------
    int
        Snakemake's exit status (``run``), or 0.
    """
    import argparse

    parser = argparse.ArgumentParser(prog="python -m textdrift.console", description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["run", "warnings"])
    parser.add_argument("--logs", default="logs")
    parser.add_argument("--metadata", default=".snakemake/metadata",
                        help="Snakemake's metadata folder: only the logs of jobs whose outputs exist are read")
    argv = list(sys.argv[1:] if argv is None else argv)
    cut = argv.index("--") if "--" in argv else len(argv)
    args, command = parser.parse_args(argv[:cut]), argv[cut + 1:]
    status, started = 0, None
    if args.mode == "run":
        if not command:
            parser.error("run needs the Snakemake command after --")
        print(" ".join(command), flush=True)
        started = time.time_ns()
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
                                errors="replace")

        def write(text):
            sys.stdout.write(text)
            sys.stdout.flush()

        filter_lines(proc.stdout, write, tty=sys.stdout.isatty())
        status = proc.wait()
    found = warnings_summary(args.logs, metadata_dir=args.metadata, since_ns=started)
    if found:
        print(f"\n{len(found)} warning(s) from the jobs (the whole message in the log named):")
        for w in found:
            print(f"  - {w}")
    return status


if __name__ == "__main__":
    sys.exit(main())
