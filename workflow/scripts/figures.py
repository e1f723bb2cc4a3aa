"""Rules `theme_figures`, `drift_figures`, `phrase_figures`: one group of charts as PNG + SVG (textdrift.figures)."""

from pathlib import Path

from textdrift.figures import run_figures
from textdrift.io import log_to_file

log_to_file(snakemake.log[0])
tables = {name: path for name, path in snakemake.input.items() if name != "schema"}
run_figures(**tables, schema=snakemake.input.get("schema"), out_dir=Path(snakemake.output[0]).parent,
            **dict(snakemake.params.items()))
