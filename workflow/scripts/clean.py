"""Rule `clean`: clean the documents of one shard (textdrift.cleanio.run_clean)."""

from textdrift.cleanio import run_clean

run_clean(snakemake.input, snakemake.output, snakemake.params, snakemake.log)
