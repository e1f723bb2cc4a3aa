"""Rule `precision`: codebook precision from the coded KWIC rows (textdrift.validation)."""

from textdrift.io import log_to_file
from textdrift.validation import run_precision

log_to_file(snakemake.log[0])
i = snakemake.input
run_precision(i.coded[0] if i.coded else None, i.kwic, i.codebook, snakemake.output[0], snakemake.params.conf_level)
