"""Rule `explorer_shard`: one token shard's partial term index (textdrift.explorer.run_shard_partials)."""

from textdrift.explorer import run_shard_partials
from textdrift.job import finish

run_shard_partials(snakemake.input, snakemake.output, snakemake.params, snakemake.log)
finish()
