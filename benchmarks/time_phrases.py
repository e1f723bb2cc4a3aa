"""Time the body of rule ``phrases`` (``textdrift.phrases.write_phrases``, every input) on a processed corpus.

    python benchmarks/time_phrases.py SRC WORK [OUT] [--profile FILE]

SRC: the ``src`` directory of the code to time (this tree's, or an older commit's extracted with
``git archive <commit> | tar -x -C DIR``); WORK: a working copy after ``make run`` (e.g. one kept by
``python benchmarks/bench.py --sizes 10 --no-reruns --keep``, or a copy made with
``bench.make_work`` and a corpus of ``textdrift.synth.make_corpus``); OUT: where
``phrase_changes.csv`` and ``phrase_steps.csv`` go (default ``/tmp/time_phrases``; compare them
with ``WORK/results/tables``). The call is the rule's: the year, document and paragraph matrices,
the token shards (phrases longer than ``ngram_max``), the codebook, the user dictionary and
``new_formulations.csv`` (protected formulations), the settings of ``WORK/config/config.yaml``.
Prints the rows written, wall and CPU seconds and the peak resident memory of the process;
``--profile FILE`` writes a cProfile of the call.
"""

import cProfile
import glob
import resource
import sys
import time
from pathlib import Path

args = sys.argv[1:]
profile = None
if "--profile" in args:
    i = args.index("--profile")
    profile = args[i + 1]
    del args[i:i + 2]
src, work = args[:2]
out = Path(args[2] if len(args) > 2 else "/tmp/time_phrases")
out.mkdir(parents=True, exist_ok=True)
sys.path.insert(0, src)
t0, c0 = time.time(), time.process_time()
from textdrift.config import load_yaml, with_defaults  # noqa: E402
from textdrift.phrases import PhraseSettings, write_phrases  # noqa: E402

cfg = with_defaults(load_yaml(f"{work}/config/config.yaml"))
ph = cfg["phrases"]
W = Path(work)
P, R = W / cfg["processed_dir"], W / cfg["results_dir"]
V = P / "vectors"
langs = [lang for lang in ["en", "zh"] if (V / f"year_{lang}.npz").exists()]
settings = PhraseSettings.of({k: ph[k] for k in ("ngram_max", "min_count", "alpha_0", "q_threshold", "min_documents",
                                                 "power", "max_length", "fold_share", "effect_prior", "conf_level")},
                             vectorize_ngram_max=cfg["vectorize"]["ngram_max"], count_roles=tuple(cfg["count_roles"]),
                             min_tokens=cfg["low_data_tokens"], unspaced_languages=tuple(cfg["unspaced_languages"]))


def call():
    return write_phrases({lang: V / f"year_{lang}.npz" for lang in langs}, out / "phrase_changes.csv", settings,
                         documents=R / "tables" / "documents.csv",
                         doc_matrices={lang: V / f"doc_{lang}.npz" for lang in langs},
                         para_matrices={lang: sorted(glob.glob(f"{V}/_findings/para_{lang}-*.npz")) for lang in langs},
                         tokens=sorted(glob.glob(f"{P}/tokens/shard-*.parquet"),
                                       key=lambda p: int(Path(p).stem.split("-")[1])),
                         codebook=W / cfg["themes"]["codebook"], user_dict=W / cfg["segment"]["zh_user_dict"],
                         formulations=R / "tables" / "new_formulations.csv", steps_csv=out / "phrase_steps.csv")


if profile:
    pr = cProfile.Profile()
    n = pr.runcall(call)
    pr.dump_stats(profile)
else:
    n = call()
print("rows", n, "wall %.2f s, cpu %.2f s, peak %.0f MB" % (
    time.time() - t0, time.process_time() - c0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
