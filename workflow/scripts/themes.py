"""Rule `themes`: theme frequencies and changes (textdrift.themes.run_themes)."""

from textdrift.job import finish
from textdrift.themes import run_themes

run_themes(snakemake.input, snakemake.output, snakemake.params, snakemake.log)
finish()
