"""The end of a rule's job process: its outputs written, the process exits without Python's
interpreter teardown (:func:`finish`, the last line of every script in ``workflow/scripts/``).

Every Snakemake job is a new Python process. After its script returns, Python's shutdown frees
every module and object one by one (numpy, pandas, pyarrow, scipy and their C extensions): about
0.15 s of CPU per job, measured as the process's user + system time minus ``time.process_time()``
at the script's end (``docs/performance.md``, 2026-12-07 late night H1), for nothing a job keeps:
its outputs are already closed files. :func:`finish` flushes what Python would flush (the logging
handlers, that is the job's log file, and stdout/stderr) and ends the process with ``os._exit(0)``.
It runs only after the script's work returned: an exception still ends the job the usual way
(traceback, non-zero exit). Nothing in the library leaves a file open, a temporary directory or an
``atexit`` handler for shutdown to finish (files are written through ``with`` blocks and
``textdrift.io``'s atomic writes).
"""

from __future__ import annotations

import logging
import os
import sys


def finish() -> None:
    """End a rule's job process after its work: flush the logging handlers and stdout/stderr, then
    ``os._exit(0)`` (no interpreter teardown). Call it last, at the top level of a rule script."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
    os._exit(0)


__all__ = ["finish"]
