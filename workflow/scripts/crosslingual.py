"""Rule `crosslingual`: the two language versions of each bilingual document compared (textdrift.crosslingual.run_crosslingual),
then its chart (textdrift.figures.crosslingual_chart: drawn here, so that no analysis module imports figures); the chart
is copied from the rule's ``memo_dir`` when what it draws (the table, the themes' ids and labels, its settings, the
code) is that of the chart kept there (textdrift.memo.kept_chart: a codebook edit that changes no count), without
importing matplotlib (textdrift.figures, about 0.7 s of the job); else it is drawn (textdrift.figures.save_memoized)."""

from textdrift.codebook import codebook_frame
from textdrift.crosslingual import run_crosslingual
from textdrift.job import finish
from textdrift.memo import chart_key, kept_chart

themes, codebook, s = run_crosslingual(snakemake.input, snakemake.output, snakemake.params, snakemake.log,
                                       snakemake.config)
draw_args = (themes, codebook, s.langs, s.q_threshold, s.conf_level, s.min_tokens, s.chart_docs)
params = dict(snakemake.params.items())
code, memo_dir = params.get("code"), params.get("memo_dir")
key = (chart_key([themes, codebook_frame(codebook), *draw_args[2:]], code, s.dpi) if code and memo_dir else None)
stem = snakemake.params.figure_stem

if kept_chart(stem, key, memo_dir) is None:
    from textdrift.figures import crosslingual_chart, save_memoized, setup_fonts

    def draw():
        setup_fonts()
        return crosslingual_chart(*draw_args)

    save_memoized(draw, stem, s.dpi, key, memo_dir)
finish()
