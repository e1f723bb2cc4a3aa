"""Rule `theme_matches`: theme and entity matches of one shard (textdrift.themes.run_theme_matches)."""

from textdrift.themes import run_theme_matches

run_theme_matches(snakemake.input, snakemake.output, snakemake.params, snakemake.log)
