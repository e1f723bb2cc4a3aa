"""Rule `findings_vocabulary`: the drift and phrase findings (textdrift.findings.run_findings_vocabulary)."""

from textdrift.findings import run_findings_vocabulary

run_findings_vocabulary(snakemake.input, snakemake.output, snakemake.params, snakemake.log)
