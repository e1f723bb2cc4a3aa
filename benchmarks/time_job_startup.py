"""Time a Snakemake job's fixed cost: a script kept by ``--skip-script-cleanup`` rerun in this process.

    PYTHONPATH=SRC /usr/bin/time -f "%U %S" python benchmarks/time_job_startup.py SCRIPT MODE [PROF] [exit]

SCRIPT: ``.snakemake/scripts/tmp*.<rule>.py`` of a working copy (run it from that copy, with the
environment Snakemake gives a job: ``/proc/<pid>/environ`` of a running job). MODE ``start``: the
Snakemake preamble (its imports, the job object unpickled) and the script's imports only; ``full``:
the whole job; ``prof``: the whole job under ``cProfile.Profile(time.process_time)``, written to
PROF. Prints ``MARKS t0 t1 t2 t3`` to stderr, process CPU seconds at the start of this file (Python's
start), after the preamble, after the script's imports, at the end; user + system time minus ``t3``
is the interpreter's teardown. ``exit`` ends the process as ``textdrift.job.finish`` does (for a
script of a commit whose scripts do not call it). ``docs/performance.md`` (2026-12-07 late night H1).
"""

import ast
import sys
import time

t0 = time.process_time()
script, mode = sys.argv[1], sys.argv[2]
text = open(script, encoding="utf-8").read()
pre, _, body = text.partition("######## snakemake preamble end #########\n")
g = {"__name__": "__main__", "__file__": script}
exec(compile(pre, script, "exec"), g)
t1 = time.process_time()
tree = ast.parse(body)
is_import = (ast.Import, ast.ImportFrom)
exec(compile(ast.Module([n for n in tree.body if isinstance(n, is_import)], []), script, "exec"), g)
t2 = time.process_time()
rest = compile(ast.Module([n for n in tree.body if not isinstance(n, is_import)], []), script, "exec")
if mode == "full":
    exec(rest, g)
elif mode == "prof":
    import cProfile

    profile = cProfile.Profile(time.process_time)
    profile.enable()
    exec(rest, g)
    profile.disable()
    profile.dump_stats(sys.argv[3])
t3 = time.process_time()
print(f"MARKS {t0:.3f} {t1:.3f} {t2:.3f} {t3:.3f}", file=sys.stderr)
if sys.argv[-1] == "exit":
    import logging
    import os

    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
