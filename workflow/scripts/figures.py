"""Rule `figures`: the charts of theme_figures, drift_figures and phrase_figures (textdrift.figures.run_figures)."""

from textdrift.figures import run_figures
from textdrift.job import finish

run_figures(snakemake.input, snakemake.output, snakemake.params, snakemake.log)
finish()
