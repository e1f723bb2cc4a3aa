"""Rule `vectorize`: the shards' document matrices merged into year-document and document matrices (textdrift.vectorize)."""

from textdrift.io import log_to_file
from textdrift.vectorize import merge_shard_matrices

log_to_file(snakemake.log[0])
o, langs = snakemake.output, snakemake.params.languages
merge_shard_matrices(snakemake.input.doc, dict(zip(langs, o.year)), dict(zip(langs, o.doc)))
