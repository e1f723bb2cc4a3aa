"""Rule `repeated_paragraphs`: boilerplate across documents (textdrift.cleanio.run_repeated_paragraphs)."""

from textdrift.cleanio import run_repeated_paragraphs
from textdrift.job import finish

run_repeated_paragraphs(snakemake.input, snakemake.output, snakemake.params, snakemake.log)
finish()
