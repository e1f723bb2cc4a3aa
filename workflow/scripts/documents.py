"""Rule `documents`: the documents table (textdrift.manifest.run_documents)."""

from textdrift.job import finish
from textdrift.manifest import run_documents

run_documents(snakemake.input, snakemake.output, snakemake.params, snakemake.log)
finish()
