"""Rule `export`: the document matrices for R and Python (textdrift.vectorize.run_export; the
per-language memo's settings from the configuration)."""

from textdrift.job import finish
from textdrift.vectorize import run_export

run_export(snakemake.input, snakemake.output, snakemake.params, snakemake.log, snakemake.config)
finish()
