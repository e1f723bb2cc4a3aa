"""Rule `explorer_shard`: one token shard's partial term index (textdrift.explorer.run_shard_partials)."""

from textdrift.explorer import run_shard_partials

run_shard_partials(snakemake.input, snakemake.output, snakemake.params, snakemake.log)
