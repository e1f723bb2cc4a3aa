"""Rule `count`: count the n-grams of one token shard (textdrift.vectorize.run_count)."""

from textdrift.job import finish
from textdrift.vectorize import run_count

run_count(snakemake.input, snakemake.output, snakemake.params, snakemake.log)
finish()
