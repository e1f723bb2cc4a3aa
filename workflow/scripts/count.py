"""Rule `count`: per-document n-gram and per-paragraph unigram matrices of one token shard (textdrift.vectorize)."""

from textdrift.io import log_to_file
from textdrift.vectorize import write_shard_matrices

log_to_file(snakemake.log[0])
o, langs = snakemake.output, snakemake.params.languages
write_shard_matrices(snakemake.input[0], dict(zip(langs, o.doc)), dict(zip(langs, o.para)), snakemake.params.ngram_max,
                     snakemake.params.count_roles)
