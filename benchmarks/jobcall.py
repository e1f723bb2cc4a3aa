"""What the one-job timers (``time_shard_jobs.py``, ``time_clean_segment.py``) share: the rule's
named lists as Snakemake gives them to a script, and the timed (or profiled) call of the rule's
function."""

import resource
import sys
import time


class Named(list):
    """What a rule script gets as ``snakemake.input`` / ``output`` / ``params``: a list with names."""

    def __init__(self, items=(), **named):
        super().__init__(items)
        self.__dict__.update(named)

    def get(self, key, default=None):
        return self.__dict__.get(key, default)

    def __getitem__(self, key):
        return self.__dict__[key] if isinstance(key, str) else list.__getitem__(self, key)


def call_job(run, named, log, label, started, profile_sort=("cumulative", 40)):
    """Call ``run(input, output, params, [log])`` (``named``: those three :class:`Named`); with
    ``--profile`` on the command line print a cProfile of the call (sorted by ``profile_sort``: key,
    rows). Then print the process's CPU seconds since ``started`` (``(process_time, time)`` taken
    before the library's imports), wall seconds and peak resident memory."""
    if "--profile" in sys.argv:
        import cProfile
        import pstats

        prof = cProfile.Profile(time.process_time)  # CPU, not wall: the machine may be shared
        prof.runcall(run, *named, [log])
        prof.dump_stats(f"{log}.prof")  # for pstats, sorted otherwise
        pstats.Stats(prof).sort_stats(profile_sort[0]).print_stats(profile_sort[1])
    else:
        run(*named, [log])
    t0, w0 = started
    print(f"{label}: {time.process_time() - t0:.2f} s CPU, {time.time() - w0:.2f} s wall, peak "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
