"""Rule `count`: one token shard's count matrices and the explorer's partial term index, the shard read once (textdrift.explorer.run_shard)."""

from textdrift.explorer import run_shard
from textdrift.job import finish

run_shard(snakemake.input, snakemake.output, snakemake.params, snakemake.log)
finish()
