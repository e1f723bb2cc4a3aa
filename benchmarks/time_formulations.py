"""Time the body of rule ``formulations`` (``textdrift.formulations.write_formulations``) on a processed corpus.

    python benchmarks/time_formulations.py SRC WORK [OUT] [--tokens DIR] [--memo DIR] [--profile FILE]

SRC: the ``src`` directory of the code to time (this tree's, or an older commit's extracted with
``git archive <commit> src workflow | tar -x -C DIR``: the configuration schema is read beside it);
WORK: a working copy after ``make run``; OUT: where ``new_formulations.csv`` goes (default
``/tmp/time_formulations/new_formulations.csv``; compare it with ``WORK/results/tables``).
``--tokens DIR``: the token shards of ``DIR`` instead of ``WORK``'s (e.g. a copy with one shard
changed: adding a document); ``--memo DIR``: the per-language memo in ``DIR`` (warm it with a first
call; copy it before each timed call, the job prunes it). The call is the rule's (the settings and
languages of ``WORK/config/config.yaml``). Prints wall and CPU seconds and the peak resident
memory of the process; ``--profile FILE`` writes a cProfile of the call (CPU-time timer).
"""

import cProfile
import glob
import logging
import resource
import sys
import time
from pathlib import Path

args = sys.argv[1:]
opts = {}
for name in ("--tokens", "--memo", "--profile"):
    if name in args:
        i = args.index(name)
        opts[name] = args[i + 1]
        del args[i:i + 2]
src, work = args[:2]
out = Path(args[2] if len(args) > 2 else "/tmp/time_formulations/new_formulations.csv")
out.parent.mkdir(parents=True, exist_ok=True)
sys.path.insert(0, src)
t0, c0 = time.time(), time.process_time()
from textdrift.config import load_yaml, with_defaults  # noqa: E402
from textdrift.formulations import FormulationSettings, write_formulations  # noqa: E402
from textdrift.langmemo import LanguageMemo  # noqa: E402

logging.basicConfig(level=logging.INFO, format="%(message)s")
cfg = with_defaults(load_yaml(f"{work}/config/config.yaml"))
shards = opts.get("--tokens") or f"{work}/{cfg['processed_dir']}/tokens"
tokens = sorted(glob.glob(f"{shards}/shard-*.parquet"), key=lambda p: int(Path(p).stem.split("-")[1]))
memo = LanguageMemo(opts["--memo"], "formulations") if "--memo" in opts else None


def call():
    return write_formulations(tokens, out, list(cfg["languages"]), FormulationSettings.from_config(cfg), memo)


if "--profile" in opts:
    pr = cProfile.Profile(time.process_time)
    df = pr.runcall(call)
    pr.dump_stats(opts["--profile"])
else:
    df = call()
print("rows", len(df), "wall %.2f s, cpu %.2f s, peak %.0f MB" % (
    time.time() - t0, time.process_time() - c0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
