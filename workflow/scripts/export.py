"""Rule `export`: count matrices with document variables for R and Python (textdrift.vectorize)."""

from textdrift.io import log_to_file
from textdrift.vectorize import export_matrices

log_to_file(snakemake.log[0])
i, o, langs = snakemake.input, snakemake.output, snakemake.params.languages
kinds = ["mtx", "features", "docvars", "parquet"]
export_matrices(dict(zip(langs, i.doc)), i.documents, {lang: {k: o[f"{k}_{lang}"] for k in kinds} for lang in langs})
