"""Rule `figures`: every chart as PNG + SVG next to the declared outputs (textdrift.figures)."""

from pathlib import Path

from textdrift.figures import run_figures
from textdrift.io import log_to_file

log_to_file(snakemake.log[0])
i, o, p = snakemake.input, snakemake.output, snakemake.params
run_figures(i.frequencies, i.drift, i.baseline, i.similarity, i.phrases, i.codebook, Path(o.theme_trends).parent,
            p.languages, low_data_tokens=p.low_data_tokens, phrase_k=p.phrase_k, z_threshold=p.z_threshold, dpi=p.dpi,
            schema=i.schema, phrase_steps_max=p.phrase_steps)
