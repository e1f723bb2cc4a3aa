"""Rule `removed_vocabulary`: the texts of the tokens not kept, per language (textdrift.phrases.run_removed_vocabulary)."""

from textdrift.job import finish
from textdrift.phrases import run_removed_vocabulary

run_removed_vocabulary(snakemake.input, snakemake.output, snakemake.params, snakemake.log)
finish()
