"""Rule `crosslingual`: the two language versions of each bilingual document compared (textdrift.crosslingual.run_crosslingual),
then its chart (textdrift.figures.crosslingual_chart: drawn here, so that no analysis module imports figures)."""

from textdrift.crosslingual import run_crosslingual
from textdrift.figures import crosslingual_chart, save_figure, setup_fonts

themes, codebook, s = run_crosslingual(snakemake.input, snakemake.output, snakemake.params, snakemake.log,
                                       snakemake.config)
setup_fonts()
chart = crosslingual_chart(themes, codebook, s.langs, s.q_threshold, s.conf_level, s.min_tokens, s.chart_docs)
save_figure(chart, snakemake.params.figure_stem, dpi=s.dpi)
