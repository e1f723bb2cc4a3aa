"""Rule `summary`: results/README.md with the tables, the figures and the findings (textdrift.report)."""

from textdrift.io import log_to_file
from textdrift.report import write_results_readme

log_to_file(snakemake.log[0])
i, p = snakemake.input, snakemake.params
write_results_readme(snakemake.output[0], i.tables, i.figures, i.codebook, low_data_tokens=p.low_data_tokens,
                     top_themes=p.top_themes, top_phrases=p.top_phrases)
