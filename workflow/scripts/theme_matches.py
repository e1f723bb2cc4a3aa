"""Rule `theme_matches`: theme and entity matches of one shard, with the per-theme memo
(textdrift.matchmemo.run_theme_matches; the memo's settings from the configuration)."""

from textdrift.job import finish
from textdrift.matchmemo import run_theme_matches

run_theme_matches(snakemake.input, snakemake.output, snakemake.params, snakemake.log, snakemake.config)
finish()
