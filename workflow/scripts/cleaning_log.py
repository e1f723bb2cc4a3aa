"""Rule `cleaning_log`: gather the shards' cleaning logs and clean-text indexes."""

from textdrift.io import concat_csv, log_to_file, write_csv

log_to_file(snakemake.log[0])
write_csv(concat_csv(snakemake.input.index, sort=["doc_id", "lang"]), snakemake.output.index)
write_csv(concat_csv(snakemake.input.log), snakemake.output.log)
