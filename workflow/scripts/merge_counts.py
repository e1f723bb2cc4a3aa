"""Rule `merge_counts`: merge the shards' count matrices (textdrift.vectorize.run_merge_counts; the
per-language memo's settings from the configuration)."""

from textdrift.job import finish
from textdrift.vectorize import run_merge_counts

run_merge_counts(snakemake.input, snakemake.output, snakemake.params, snakemake.log, snakemake.config)
finish()
