"""Rule `findings`: findings.csv assembled from its two parts (textdrift.findings.run_findings)."""

from textdrift.findings import run_findings
from textdrift.job import finish

run_findings(snakemake.input, snakemake.output, snakemake.params, snakemake.log)
finish()
