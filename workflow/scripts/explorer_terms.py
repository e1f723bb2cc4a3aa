"""Rule `explorer_terms`: the explorer's term index and phrase view (textdrift.explorer.run_term_index;
the per-language memo's settings from the configuration)."""

from textdrift.explorer import run_term_index
from textdrift.job import finish

run_term_index(snakemake.input, snakemake.output, snakemake.params, snakemake.log, snakemake.config)
finish()
