"""Rule `explorer`: results/explorer.html, the offline explorer (textdrift.explorer.run_explorer)."""

from textdrift.explorer import run_explorer
from textdrift.job import finish

run_explorer(snakemake.input, snakemake.output, snakemake.params, snakemake.log)
finish()
