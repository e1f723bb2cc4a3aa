"""Rule `findings_themes`: the findings that read the codebook (textdrift.findings.run_findings_themes)."""

from textdrift.findings import run_findings_themes
from textdrift.job import finish

run_findings_themes(snakemake.input, snakemake.output, snakemake.params, snakemake.log)
finish()
