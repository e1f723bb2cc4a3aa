"""Rule `drift`: TF-IDF drift, similarity matrix, top terms, term shifts and split-half baseline (textdrift.drift)."""

from textdrift.drift import run_drift
from textdrift.io import log_to_file

log_to_file(snakemake.log[0])
run_drift(snakemake.input.year, snakemake.input.tokens, dict(snakemake.output.items()), **dict(snakemake.params.items()))
