"""Rule `drift`: TF-IDF drift between years (textdrift.drift.run_drift; the per-language memo's
settings from the configuration)."""

from textdrift.drift import run_drift
from textdrift.job import finish

run_drift(snakemake.input, snakemake.output, snakemake.params, snakemake.log, snakemake.config)
finish()
