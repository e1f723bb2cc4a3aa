"""Rule `precision`: the codebook's precision (textdrift.validation.run_precision)."""

from textdrift.job import finish
from textdrift.validation import run_precision

run_precision(snakemake.input, snakemake.output, snakemake.params, snakemake.log)
finish()
