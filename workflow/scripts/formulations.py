"""Rule `formulations`: new and vanished formulations (textdrift.formulations.run_formulations)."""

from textdrift.formulations import run_formulations

run_formulations(snakemake.input, snakemake.output, snakemake.params, snakemake.log)
