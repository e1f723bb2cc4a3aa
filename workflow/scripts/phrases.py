"""Rule `phrases`: year-over-year phrase changes (textdrift.phrases.run_phrases; the per-language
memo's settings from the configuration)."""

from textdrift.job import finish
from textdrift.phrases import run_phrases

run_phrases(snakemake.input, snakemake.output, snakemake.params, snakemake.log, snakemake.config)
finish()
