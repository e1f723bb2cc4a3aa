"""Time the body of rule ``phrases`` (``textdrift.phrases.write_phrases``) on a processed corpus.

    python benchmarks/time_phrases.py SRC WORK new|old

SRC: the ``src`` directory of the code to time (this tree's, or an older commit's extracted with
``git archive <commit> | tar -x -C DIR``); WORK: a working copy after ``make run`` (e.g. one kept by
``python benchmarks/bench.py --sizes 10 --no-reruns --keep``); ``old``: the call before issue 25
(no paragraph matrices, no step table). Prints the rows written, wall and CPU seconds and the
peak resident memory of the process.
"""

import glob
import resource
import sys
import time

src, work, kind = sys.argv[1:4]
sys.path.insert(0, src)
t0, c0 = time.time(), time.process_time()
from textdrift.phrases import write_phrases  # noqa: E402

langs = ["en", "zh"]
V = f"{work}/data/processed/vectors"
kw = dict(documents=f"{work}/results/tables/documents.csv", min_tokens=500,
          doc_matrices={lang: f"{V}/doc_{lang}.npz" for lang in langs})
if kind == "new":
    kw.update(para_matrices={lang: sorted(glob.glob(f"{V}/_findings/para_{lang}-*.npz")) for lang in langs},
              steps_csv=f"/tmp/phrase_steps_{kind}.csv")
n = write_phrases({lang: f"{V}/year_{lang}.npz" for lang in langs}, f"/tmp/phrase_changes_{kind}.csv", **kw)
print(kind, "rows", n, "wall %.2f s, cpu %.2f s, peak %.0f MB" % (
    time.time() - t0, time.process_time() - c0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
