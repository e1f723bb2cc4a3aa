"""Rule `formulation_figures`: the chart of new formulations (textdrift.figures.run_formulation_figures)."""

from textdrift.figures import run_formulation_figures
from textdrift.job import finish

run_formulation_figures(snakemake.input, snakemake.output, snakemake.params, snakemake.log)
finish()
