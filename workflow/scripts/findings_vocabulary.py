"""Rule `findings_vocabulary`: the drift and phrase findings (textdrift.findings.run_findings_vocabulary;
the per-language memo's settings from the configuration)."""

from textdrift.findings import run_findings_vocabulary
from textdrift.job import finish

run_findings_vocabulary(snakemake.input, snakemake.output, snakemake.params, snakemake.log, snakemake.config)
finish()
