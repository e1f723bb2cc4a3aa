"""Rule `clean`: clean the documents of one shard (textdrift.cleanio.run_clean)."""

from textdrift.cleanio import run_clean
from textdrift.job import finish

run_clean(snakemake.input, snakemake.output, snakemake.params, snakemake.log)
finish()
