"""Rule `crosslingual`: the two language versions of each bilingual document compared (textdrift.crosslingual.run_crosslingual)."""

from textdrift.crosslingual import run_crosslingual

run_crosslingual(snakemake.input, snakemake.output, snakemake.params, snakemake.log)
