"""Rule `drift`: TF-IDF drift between years (textdrift.drift.run_drift)."""

from textdrift.drift import run_drift

run_drift(snakemake.input, snakemake.output, snakemake.params, snakemake.log)
