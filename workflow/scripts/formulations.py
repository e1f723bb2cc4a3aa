"""Rule `formulations`: new and vanished formulations (textdrift.formulations.run_formulations; the
per-language memo's settings from the configuration)."""

from textdrift.formulations import run_formulations
from textdrift.job import finish

run_formulations(snakemake.input, snakemake.output, snakemake.params, snakemake.log, snakemake.config)
finish()
