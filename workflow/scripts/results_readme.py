"""Rule `results_readme`: results/README.md (textdrift.report.run_results_readme)."""

from textdrift.job import finish
from textdrift.report import run_results_readme

run_results_readme(snakemake.input, snakemake.output, snakemake.params, snakemake.log)
finish()
