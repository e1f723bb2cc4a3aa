"""Rule `crosslingual`: the two language versions of each bilingual document compared (textdrift.crosslingual)."""

from textdrift.crosslingual import run_crosslingual
from textdrift.io import log_to_file

log_to_file(snakemake.log[0])
i, o, p = snakemake.input, snakemake.output, snakemake.params
run_crosslingual(
    i.matches, i.paras, i.index, i.frequencies, i.codebook, o.themes, o.alignment, o.codebook_check, o.trends, p.figure_stem,
    langs=p.langs, paragraphs=p.paragraphs, prior=p.prior, alpha_0=p.alpha_0, z_threshold=p.z_threshold,
    min_tokens=p.min_tokens, min_years=p.min_years, exact_max_n=p.exact_max_n, alignment=p.alignment,
    conf_level=p.conf_level, unspaced_languages=p.unspaced_languages, schema_path=i.schema, dpi=p.dpi,
    chart_docs=p.chart_docs, pairs_path=o.pairs,
)
