"""Time the per-shard rules ``clean`` and ``segment`` on one shard of a project, as their jobs run them.

    python benchmarks/time_clean_segment.py SRC PROJECT JOB SHARD OUT [--profile]

SRC: the ``src`` directory of the code to time (this tree's, or an older commit's extracted with
``git archive <commit> | tar -x -C DIR``); PROJECT: a working copy after ``make run`` (or at least
after the clean and segment jobs of SHARD: its ``config/``, manifest and, for ``segment``, its
``data/processed/clean/`` give the inputs); JOB: ``clean`` or ``segment``; SHARD: the shard number;
OUT: a directory for the job's outputs, to ``cmp`` against another SRC's. Builds the rule's
inputs, outputs and params as ``workflow/rules/clean.smk`` / ``segment.smk`` do (the project's
configuration with the schema's defaults, its manifest and shards) and calls the rule's function
(``textdrift.cleanio.run_clean``, ``textdrift.segment.run_segment`` with the project's per-text
memo, ``data/cache/segment``: delete it to time a cold job); prints CPU seconds of the
process (imports included, the interpreter's start not), wall seconds and peak resident memory;
``--profile`` prints a cProfile of the call instead (sorted by internal time).
"""

import os
import sys
import time

from jobcall import Named, call_job

args = [a for a in sys.argv[1:] if a != "--profile"]
src, project, job, shard, out = args[:5]
sys.path.insert(0, os.path.abspath(src))
out = os.path.abspath(out)
os.chdir(project)
t0, w0 = time.process_time(), time.time()
from textdrift.config import load_yaml, with_defaults  # noqa: E402
from textdrift.manifest import CLEAN_COLUMNS, auto_shards, load_manifest, shard_of  # noqa: E402


schema = "workflow/schemas/config.schema.yaml"
config = load_yaml("config/config.yaml")
config.update(with_defaults(config, schema))
manifest = load_manifest(config["manifest"], raw_dir=config["raw_dir"],
                         years=(config["years"]["min"], config["years"]["max"]),
                         schema="workflow/schemas/manifest.schema.yaml")
n = (auto_shards(sum(os.path.getsize(p) for p in manifest["path"]), os.cpu_count() or 1)
     if config["shards"] == "auto" else config["shards"])
manifest["shard"] = [shard_of(d, n) for d in manifest["doc_id"]]
manifest["path"] = [os.path.relpath(p) for p in manifest["path"]]
P = config["processed_dir"]
os.makedirs(out, exist_ok=True)
entities = [config["entities"], "workflow/schemas/entities.schema.yaml"] if config["entities"] else []
if job == "clean":
    from textdrift.cleanio import run_clean as run

    rows = manifest[manifest["shard"] == int(shard)]
    docs = rows[[c for c in manifest.columns if c in CLEAN_COLUMNS or c.startswith("title_")]].to_dict("records")
    i = Named(raw=[r["path"] for r in docs])
    o = Named(texts=f"{out}/shard-{shard}.parquet", index=f"{out}/index-{shard}.csv",
              cleaning_log=f"{out}/log-{shard}.csv", paragraphs=f"{out}/paragraphs-{shard}.csv")
    p = Named(docs=docs, clean={k: v for k, v in config["clean"].items() if k != "repeated_paragraphs"},
              languages=config["languages"], unspaced_languages=config["unspaced_languages"],
              texts_file=f"{P}/clean/shard-{shard}.parquet")
elif job == "segment":
    from functools import partial

    from textdrift.segment import run_segment

    run = partial(run_segment, config=config)  # with its per-text memo, as the rule runs it

    i = Named(texts=f"{P}/clean/shard-{shard}.parquet", index=f"{P}/clean/_shards/index-{shard}.csv",
              repeated_roles=f"{P}/clean/_shards/repeated-{shard}.csv", entities=entities)
    o = Named([f"{out}/tokens-{shard}.parquet"])
    p = Named(segment=config["segment"])
else:
    sys.exit(f"JOB must be clean or segment, not {job!r}")
call_job(run, (i, o, p), f"{out}/log-{job}.txt", job, (t0, w0), ("tottime", 45))
