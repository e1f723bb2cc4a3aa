"""Rule `themes`: theme frequencies, KWIC and unmatched codebook terms (textdrift.themes)."""

from textdrift.io import log_to_file
from textdrift.themes import run_themes

log_to_file(snakemake.log[0])
i, o, p = snakemake.input, snakemake.output, snakemake.params
run_themes(
    i.tokens, i.codebook, o.frequencies, o.kwic, o.unmatched, p.languages, schema_path=i.schema,
    kwic_window=p.kwic_window, ci=p.ci, conf_level=p.conf_level, n_boot=p.n_boot, seed=p.seed,
    unspaced_languages=p.unspaced_languages,
)
