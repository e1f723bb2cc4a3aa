"""Rule `drift`: TF-IDF drift, similarity matrix, top terms, term shifts and split-half baseline (textdrift.drift)."""

from textdrift.drift import run_drift
from textdrift.io import log_to_file

log_to_file(snakemake.log[0])
outputs = {k: v for k, v in snakemake.output.items() if not k.startswith("grouped_")}
grouped = {k.removeprefix("grouped_"): v for k, v in snakemake.output.items() if k.startswith("grouped_")}
run_drift(snakemake.input.year, snakemake.input.para, outputs, **dict(snakemake.params.items()),
          documents=snakemake.input.documents, doc_paths=snakemake.input.doc, grouped=grouped)
