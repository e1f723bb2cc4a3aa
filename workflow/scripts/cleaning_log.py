"""Rule `cleaning_log`: gather the shards' cleaning logs and clean-text indexes (textdrift.cleanio.run_cleaning_log)."""

from textdrift.cleanio import run_cleaning_log
from textdrift.job import finish

run_cleaning_log(snakemake.input, snakemake.output, snakemake.params, snakemake.log)
finish()
