"""Rule `vectorize`: year-document and document count matrices per language (textdrift.vectorize)."""

from textdrift.io import log_to_file
from textdrift.vectorize import write_matrices

log_to_file(snakemake.log[0])
write_matrices(snakemake.input, snakemake.params.out_dir, snakemake.params.languages, snakemake.params.ngram_max)
