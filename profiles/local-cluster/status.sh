#!/usr/bin/env bash
# Snakemake cluster-generic status command: running | success | failed for a
# job submitted by submit.sh (argument: its spool directory).
jobdir="$1"
if [[ -f "$jobdir/rc" ]]; then
    if [[ "$(cat "$jobdir/rc")" == "0" ]]; then echo success; else echo failed; fi
elif [[ -f "$jobdir/pid" ]] && ! kill -0 "$(cat "$jobdir/pid")" 2>/dev/null; then
    echo failed   # the job process is gone without writing its exit code (killed)
else
    echo running
fi
