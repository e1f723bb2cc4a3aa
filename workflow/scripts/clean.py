"""Rule `clean`: clean the documents of one shard (logic in textdrift.clean)."""

from textdrift.clean import clean_shard
from textdrift.io import log_to_file, write_csv

log_to_file(snakemake.log[0])
cfg = {**snakemake.params.clean, "languages": list(snakemake.params.languages),
       "unspaced_languages": list(snakemake.params.unspaced_languages)}
index, log = clean_shard(snakemake.params.docs, snakemake.params.clean_dir, cfg)
write_csv(log, snakemake.output.log)
write_csv(index, snakemake.output.index)
