"""Rule `drift`: TF-IDF drift, similarity matrix, top terms, term shifts and split-half baseline (textdrift.drift)."""

from textdrift.drift import run_drift
from textdrift.io import log_to_file

log_to_file(snakemake.log[0])
outputs = dict(snakemake.output.items())
run_drift(snakemake.input.year, snakemake.input.para, outputs, **dict(snakemake.params.items()),
          documents=snakemake.input.documents)
