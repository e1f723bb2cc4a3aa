#!/usr/bin/env bash
# Snakemake cluster-generic submit command: run one job script as a detached
# "cluster job" on this machine, the way a batch system would:
#   * in a NEW process session (setsid), not a child of Snakemake's threads;
#   * with a CLEAN environment (env -i): no PYTHONPATH, no VIRTUAL_ENV, no
#     conda/venv activation, HOME and TMPDIR private to the job (so no jieba
#     cache, matplotlib cache or other state of the submitting host is reused);
#   * from a DIFFERENT working directory (a per-job spool directory); the job
#     script itself changes into the workflow directory, as on a cluster node
#     with a shared file system.
# Prints the external job id (the spool directory) for status.sh / cancel.sh.
# Spool location: $TEXTDRIFT_SPOOL (default: the system temp directory).
set -euo pipefail
jobscript="$1"
spool="${TEXTDRIFT_SPOOL:-${TMPDIR:-/tmp}}"
mkdir -p "$spool"
jobdir="$(mktemp -d "$spool/textdrift-job.XXXXXX")"
# Snakemake may delete its temporary job script once submitted: keep a copy.
cp "$jobscript" "$jobdir/job.sh"
mkdir -p "$jobdir/home" "$jobdir/tmp"
cd "$jobdir"
setsid env -i \
    PATH="/usr/local/bin:/usr/bin:/bin" \
    HOME="$jobdir/home" \
    TMPDIR="$jobdir/tmp" \
    LANG="C.UTF-8" \
    MPLBACKEND="Agg" \
    sh -c 'echo $$ > pid; sh job.sh > job.out 2> job.err < /dev/null; echo $? > rc' \
    > /dev/null 2>&1 < /dev/null &
echo "$jobdir"
