"""Rule `segment`: segment the clean texts of one shard into the token table (textdrift.segment.run_segment)."""

from textdrift.job import finish
from textdrift.segment import run_segment

run_segment(snakemake.input, snakemake.output, snakemake.params, snakemake.log, snakemake.config)
finish()
