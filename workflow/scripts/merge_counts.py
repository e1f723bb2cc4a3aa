"""Rule `merge_counts`: merge the shards' count matrices (textdrift.vectorize.run_merge_counts)."""

from textdrift.vectorize import run_merge_counts

run_merge_counts(snakemake.input, snakemake.output, snakemake.params, snakemake.log)
