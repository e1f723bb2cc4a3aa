"""Rule `phrases`: year-over-year phrase changes (textdrift.phrases.run_phrases)."""

from textdrift.phrases import run_phrases

run_phrases(snakemake.input, snakemake.output, snakemake.params, snakemake.log)
