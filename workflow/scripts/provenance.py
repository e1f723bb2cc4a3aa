"""Rule `provenance`: results/provenance.json, what made the results (textdrift.provenance.run_provenance)."""

from textdrift.job import finish
from textdrift.provenance import run_provenance

run_provenance(snakemake.input, snakemake.output, snakemake.params, snakemake.log)
finish()
