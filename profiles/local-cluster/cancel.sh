#!/usr/bin/env bash
# Snakemake cluster-generic cancel command: kill the process groups of the
# given jobs (arguments: spool directories printed by submit.sh).
for jobdir in "$@"; do
    if [[ -f "$jobdir/pid" ]]; then
        kill -TERM -- "-$(cat "$jobdir/pid")" 2>/dev/null || true
    fi
done
