"""Time the per-shard rules ``count`` (the counts and the explorer's partial term index) and
``theme_matches`` on one token shard, as their jobs run them.

    python benchmarks/time_shard_jobs.py SRC JOB SHARD OUT [--profile] [--memo DIR]

Run from a working copy after ``make run`` (its ``config/`` and ``workflow/schemas/`` give the
codebook, the entities and their schemas; the settings are the schema's defaults, what a project
that sets none of them uses). SRC: the ``src`` directory of the code to time (this tree's, or an
older commit's extracted with ``git archive <commit> | tar -x -C DIR``); JOB: ``count`` or
``theme_matches``; SHARD: a token shard
(``data/processed/tokens/shard-<n>.parquet``); OUT: a directory for the job's outputs, to ``cmp``
against another SRC's. Calls the rule's function (``textdrift.explorer.run_shard``,
``textdrift.matchmemo.run_theme_matches``; the second without its memo unless ``--memo DIR`` names one: an empty directory times a cold job, one kept from an earlier call a rerun) with the rule's inputs,
outputs and params; prints CPU seconds of the process (imports included, the interpreter's start
not), wall seconds and peak resident memory; for ``theme_matches``, the codebook and the entities
validated beforehand in another process, as the workflow does once before its jobs; ``--profile`` prints a cProfile of the call instead of
timing it alone.
"""

import os
import sys
import time

from jobcall import Named, call_job

args = [a for a in sys.argv[1:] if a != "--profile"]
memo = args[args.index("--memo") + 1] if "--memo" in args else None
src, job, shard, out = [a for k, a in enumerate(args) if a != "--memo" and (k == 0 or args[k - 1] != "--memo")][:4]
sys.path.insert(0, os.path.abspath(src))
if job == "theme_matches":
    # the workflow validates the codebook and the entities once, before any job, and its jobs skip it
    # (textdrift.config.VALIDATED_ENV): so here, in another process, before the timed one starts
    import subprocess

    code = ("import os; from textdrift.themes import CodebookFiles; from textdrift.config import VALIDATED_ENV; "
            "CodebookFiles('config/themes.yaml', 'workflow/schemas/themes.schema.yaml', 'config/entities.yaml', "
            "'workflow/schemas/entities.schema.yaml').load(); print(VALIDATED_ENV, os.environ.get(VALIDATED_ENV, ''))")
    # the variable's name from the library too (not imported here: this process's imports are timed)
    name, _, value = subprocess.check_output(
        [sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": os.path.abspath(src)}, text=True).strip().partition(" ")
    os.environ[name] = value
t0, w0 = time.process_time(), time.time()
from textdrift.config import defaults  # noqa: E402


D = defaults()
langs, variants = list(D["languages"]), ("roles", "entities")
os.makedirs(out, exist_ok=True)
if job == "count":
    from textdrift.explorer import PARTIAL_PARTS, run_shard as run

    i = Named([shard], tokens=shard)
    o = Named(doc=[f"{out}/doc_{x}.npz" for x in langs], para=[f"{out}/para_{x}.npz" for x in langs],
              check_doc=[f"{out}/doc_{v}_{x}.npz" for v in variants for x in langs],
              para_ngrams=[f"{out}/para_ngrams_{x}.npz" for x in langs], paras=f"{out}/paras.parquet",
              check_paras=[f"{out}/paras_{v}.parquet" for v in variants],
              **{part: f"{out}/{part}.parquet" for part in PARTIAL_PARTS})
    p = Named(languages=langs, ngram_max=D["vectorize"]["ngram_max"], count_roles=D["count_roles"],
              unspaced_languages=D["unspaced_languages"])
elif job == "theme_matches":
    from textdrift.matchmemo import run_theme_matches as run

    entities = ["config/entities.yaml", "workflow/schemas/entities.schema.yaml"]
    i = Named([shard], tokens=shard, codebook="config/themes.yaml", schema="workflow/schemas/themes.schema.yaml",
              entities=entities)
    o = Named(matches=f"{out}/matches.parquet", entities=f"{out}/entities.parquet",
              check_matches=[f"{out}/matches_{v}.parquet" for v in variants])
    p = Named(languages=langs, count_roles=D["count_roles"], kwic_window=D["themes"]["kwic_window"],
              unspaced_languages=D["unspaced_languages"])
    if memo is not None:  # the rule's script passes the configuration: the memo's settings
        from functools import partial

        run = partial(run, config={"processed_dir": out, "theme_matches": {"memo": True, "memo_dir": memo}})
else:
    sys.exit(f"JOB must be count or theme_matches, not {job!r}")
call_job(run, (i, o, p), f"{out}/log.txt", job, (t0, w0))
