"""Charts (textdrift.figures): every chart renders on invented tables with Chinese labels, without a
missing-glyph warning, is not blank, marks low-data years, and keeps each theme's colour everywhere."""

import warnings
from pathlib import Path

import matplotlib
import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
import yaml

from textdrift import figures as F
from textdrift.io import write_csv

matplotlib.use("Agg")

CODEBOOK = [
    {"id": "digital_economy", "label_en": "Digital economy", "label_zh": "数字经济"},
    {"id": "data_security", "label_en": "Data security", "label_zh": "数据安全"},
    {"id": "shared_future", "label_en": "Community with a shared future", "label_zh": "命运共同体"},
]
YEARS = {"zh": [2017, 2022, 2024], "en": [2017, 2022, 2023, 2024]}
TOKENS = {("zh", 2017): 733, ("zh", 2022): 67, ("zh", 2024): 600,
          ("en", 2017): 894, ("en", 2022): 1230, ("en", 2023): 700, ("en", 2024): 558}


# ---- invented tables with exactly the contract's columns -------------------------------------


def make_frequencies(themes=("digital_economy", "data_security", "shared_future")):
    rows = []
    for lang, years in YEARS.items():
        for year in years:
            for i, theme in enumerate(themes):
                n = TOKENS[(lang, year)]
                count = (i + 1) * (year - 2015) % 7
                rate = count / n * 10_000
                rows.append({"year": year, "lang": lang, "theme": theme, "count": count, "tokens": n,
                             "per_10k": rate, "ci_low": rate * 0.5, "ci_high": rate * 1.6 + 30})
    return pd.DataFrame(rows)


def make_drift():
    rows = []
    for lang, years in YEARS.items():
        for a, b in zip(years, years[1:]):
            low = min(TOKENS[(lang, a)], TOKENS[(lang, b)]) < 500
            rows.append({"lang": lang, "year_from": a, "year_to": b, "gap": b - a, "cosine_distance": 0.3 + 0.1 * (b - a) / 5,
                         "jsd": 0.4, "tokens_from": TOKENS[(lang, a)], "tokens_to": TOKENS[(lang, b)], "low_data": low,
                         "baseline_cosine_from": np.nan if (lang, a) == ("zh", 2022) else 0.45,
                         "baseline_cosine_to": np.nan if (lang, b) == ("zh", 2022) else 0.4,
                         "baseline_jsd_from": 0.5, "baseline_jsd_to": 0.5, "note": "low data" if low else ""})
    return pd.DataFrame(rows)


def make_baseline():
    rows = []
    for (lang, year), n in TOKENS.items():
        none = (lang, year) == ("zh", 2022)
        vals = dict(cosine_mean=0.45, cosine_p05=0.4, cosine_p95=0.5, jsd_mean=0.5, jsd_p05=0.45, jsd_p95=0.55)
        rows.append({"lang": lang, "year": year, "paragraphs": 1 if none else 18, "tokens": n, "rounds": 0 if none else 200,
                     **{k: (np.nan if none else v) for k, v in vals.items()}})
    return pd.DataFrame(rows)


def make_similarity():
    rows = []
    for lang, years in YEARS.items():
        for a in years:
            for b in years:
                sim = 1.0 if a == b else 0.9 - 0.05 * abs(a - b)
                rows.append({"lang": lang, "year_a": a, "year_b": b, "cosine_similarity": sim, "jsd": 1 - sim})
    return pd.DataFrame(rows)


def make_phrases():
    zh = [("数字 经济", 2, 0, 9, 3.1, "new"), ("全球 发展 倡议", 3, 1, 7, 2.5, "rising"), ("合作", 1, 5, 6, 0.4, "stable"),
          ("一带一路", 1, 8, 1, -2.2, "falling"), ("电子商务", 1, 6, 0, -2.6, "gone")]
    en = [("digital economy", 2, 1, 12, 2.9, "rising"), ("global south", 2, 0, 6, 2.1, "new"),
          ("internet", 1, 9, 2, -2.0, "falling"), ("cooperation", 1, 20, 18, -0.3, "stable")]
    rows = []
    for lang, data in (("zh", zh), ("en", en)):
        years = YEARS[lang]
        for a, b in zip(years, years[1:]):
            for phrase, n, cf, ct, z, status in data:
                rows.append({"lang": lang, "year_from": a, "year_to": b, "phrase": phrase, "n": n, "count_from": cf,
                             "count_to": ct, "total_from": TOKENS[(lang, a)], "total_to": TOKENS[(lang, b)],
                             "alpha_w": 1.0, "alpha_0": 700.0, "log_odds": z / 3, "z": z, "status": status,
                             "display": phrase.replace(" ", "") if lang == "zh" else phrase})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module", autouse=True)
def fonts():
    F.setup_fonts()


def render(fig, tmp_path, name):
    """Save with every warning an error (a missing glyph warns at draw time); return the PNG pixels."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        png, svg = F.save_figure(fig, tmp_path / name, dpi=80)
    assert svg.stat().st_size > 1000
    return mpimg.imread(png)


def assert_not_blank(img):
    rgb = img[..., :3]
    assert rgb.var() > 0
    non_white = (rgb < 0.95).any(axis=-1).mean()
    assert non_white > 0.02, f"only {non_white:.3%} of the pixels are not white"


CHARTS = {
    "theme_trends": lambda: F.theme_trends(make_frequencies(), CODEBOOK),
    "theme_heatmap": lambda: F.theme_heatmap(make_frequencies(), CODEBOOK),
    "drift": lambda: F.drift_chart(make_drift(), make_baseline()),
    "similarity": lambda: F.similarity_matrix(make_similarity(), make_baseline()),
    "phrase_bars_zh": lambda: F.phrase_bars(make_phrases(), "zh", 2017, 2022, k=3),
    "phrase_steps_zh": lambda: F.phrase_steps(make_phrases(), "zh", k=3),
    "phrase_steps_en": lambda: F.phrase_steps(make_phrases(), "en", k=3),
}


@pytest.mark.parametrize("name", CHARTS)
def test_every_chart_renders_without_missing_glyphs_and_is_not_blank(name, tmp_path):
    assert_not_blank(render(CHARTS[name](), tmp_path, name))


def test_missing_glyph_detection_works(tmp_path):
    """Guard for the test above: without the CJK fallback the same check must fail."""
    with matplotlib.rc_context({"font.family": ["DejaVu Sans"]}):
        fig = F.phrase_bars(make_phrases(), "zh", 2017, 2022, k=3)
        with pytest.raises(UserWarning, match="Glyph .* missing from font"):
            render(fig, tmp_path, "no_cjk")


def test_setup_fonts_registers_the_shipped_cjk_font():
    assert F.cjk_font_path().name == "NotoSansCJKsc-Regular.otf"
    assert F.setup_fonts() == "Noto Sans CJK SC"
    assert list(matplotlib.rcParams["font.family"]) == ["DejaVu Sans", "Noto Sans CJK SC"]
    assert matplotlib.rcParams["axes.unicode_minus"] is False


def test_setup_fonts_names_a_missing_font_file(tmp_path):
    with pytest.raises(F.FontNotFoundError, match="nope.otf"):
        F.setup_fonts(tmp_path / "nope.otf")


# ---- theme colours ---------------------------------------------------------------------------


def test_theme_styles_follow_codebook_order_and_stay_distinct_for_many_themes():
    styles = F.theme_styles(CODEBOOK)
    assert [s.color for s in styles.values()] == F.PALETTE[:3]
    assert styles["digital_economy"].label == "Digital economy 数字经济"
    many = F.theme_styles([{"id": f"t{i}", "label_en": f"T{i}"} for i in range(20)])
    pairs = {(s.color, s.marker) for s in many.values()}
    assert len(pairs) == 20
    # the first 15 themes have 15 colours (past 16 themes too); the 16th reuses colour 0 with the second marker
    assert len({many[f"t{i}"].color for i in range(15)}) == 15 == len(F.THEME_PALETTE)
    assert (many["t15"].color, many["t15"].marker) == (F.THEME_PALETTE[0], F.MARKERS[1])


def _panel_colors(ax):
    """Colours that are visible in a panel: lines, marker edges (error-bar caps), error-bar segments."""
    colors = set()
    for line in ax.get_lines():
        if len(line.get_xdata()):
            if line.get_linestyle() not in ("None", "none", ""):
                colors.add(matplotlib.colors.to_hex(line.get_color()))
            if line.get_marker() not in ("None", "none", "", None):
                colors.add(matplotlib.colors.to_hex(line.get_markeredgecolor()))
    for coll in ax.collections:
        colors |= {matplotlib.colors.to_hex(c) for c in coll.get_edgecolor()}
    return colors


def test_theme_colour_is_the_same_in_every_chart_and_independent_of_the_data():
    styles = F.theme_styles(CODEBOOK)
    # the data lack the first theme and come in another order: colours still follow the codebook
    freq = make_frequencies(themes=("shared_future", "data_security")).iloc[::-1]
    trends = F.theme_trends(freq, CODEBOOK)
    lang_colors = {c.lower() for c in F.TREND_LANG_COLORS[:2]}
    for ax, theme in zip(trends.axes, styles):
        colors = _panel_colors(ax)
        if theme == "digital_economy":
            assert colors == set()  # no data: empty panel
        else:
            assert colors == lang_colors  # one theme a panel: the colours tell the languages apart
    heat = F.theme_heatmap(freq, CODEBOOK)
    key = heat.axes[0]
    key_colors = [matplotlib.colors.to_hex(line.get_color()) for line in key.get_lines()]
    assert key_colors == [s.color.lower() for s in styles.values()]
    assert [t.get_text() for t in key.get_yticklabels()] == [s.label for s in styles.values()]
    matplotlib.pyplot.close("all")


def test_codebook_objects_from_load_codebook_are_accepted():
    from textdrift.codebook import Theme

    themes = [Theme("digital_economy", {"en": "Digital economy", "zh": "数字经济"})]
    assert F.theme_styles(themes)["digital_economy"].label == "Digital economy 数字经济"


# ---- low data, steps, phrases ---------------------------------------------------------------


def test_theme_trends_draws_low_data_points_hollow_and_names_them():
    fig = F.theme_trends(make_frequencies(), CODEBOOK, low_data_tokens=500)
    ax = fig.axes[0]
    hollow = [line for line in ax.get_lines() if line.get_markerfacecolor() == "white" and len(line.get_xdata())]
    # only zh 2022 (67 tokens) is below 500; its x is offset to the left of the year
    assert len(hollow) == 1 and np.allclose(hollow[0].get_xdata(), [2022 - 0.12])
    legend_texts = [" ".join(t.get_text().split()) for t in fig.legends[0].get_texts()]
    assert any("Chinese 2022 (67 tokens)" in t for t in legend_texts)
    assert not any("2024 (600" in t for t in legend_texts)
    assert ax.get_xlim() == (2016.4, 2024.6)  # real-year axis: the 2017-2022 gap is visible
    matplotlib.pyplot.close(fig)


def test_heatmap_and_similarity_label_low_data_years():
    heat = F.theme_heatmap(make_frequencies(), CODEBOOK)
    zh_labels = [t.get_text() for t in heat.axes[1].get_xticklabels()]
    assert zh_labels == ["2017\n733 tok.", "2022\n67 tok.\nlow data", "2024\n600 tok."]
    cells = [t.get_text() for t in heat.axes[1].texts if not t.get_text().startswith("no text")]
    assert len(cells) == 3 * 3
    # the missing years are marked between their neighbours
    assert [t.get_text() for t in heat.axes[1].texts if t.get_text().startswith("no text")] == [
        "no text\n2018–2021", "no text\n2023"]
    sim = F.similarity_matrix(make_similarity(), make_baseline())
    assert [t.get_text() for t in sim.axes[0].get_xticklabels()][1] == "2022\n(67 tok.)\nlow data"
    assert "0.65" in [t.get_text() for t in sim.axes[0].texts]  # 0.9 - 0.05 * |2017 - 2022|
    matplotlib.pyplot.close("all")


def test_heatmap_stacks_the_languages_when_there_are_many_years():
    first_theme = F.theme_styles(CODEBOOK)["digital_economy"].label
    freq = make_frequencies()
    wide = F.theme_heatmap(freq, CODEBOOK)  # 3 + 4 year columns: side by side
    many = pd.concat([freq.assign(year=freq["year"] + 10 * k) for k in range(3)], ignore_index=True)
    tall = F.theme_heatmap(many, CODEBOOK)  # 9 + 12 year columns: one language above the other
    for fig, side_by_side in ((wide, True), (tall, False)):
        fig.draw_without_rendering()
        panels = [ax for ax in fig.axes if ax.get_title() in ("Chinese (zh)", "English (en)")]
        (zh,), (en,) = ([ax.get_position() for ax in panels if ax.get_title().endswith(f"({x})")] for x in ("zh", "en"))
        assert (en.x0 > zh.x1) == side_by_side and (en.y1 < zh.y0) != side_by_side
    keys = [ax for ax in tall.axes if [t.get_text() for t in ax.get_yticklabels()][:1] == [first_theme]]
    assert len(keys) == 2  # a theme key per row
    assert tall.get_size_inches()[0] < wide.get_size_inches()[0] * 3
    matplotlib.pyplot.close("all")


def test_drift_chart_labels_steps_with_their_gap_and_low_data():
    fig = F.drift_chart(make_drift(), make_baseline())
    zh_ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert zh_ticks == ["2017→2022 (5 y)\nlow data", "2022→2024 (2 y)\nlow data"]
    en_ticks = [t.get_text() for t in fig.axes[1].get_xticklabels()]
    assert en_ticks == ["2017→2022 (5 y)", "2022→2023 (1 y)", "2023→2024 (1 y)"]
    # zh 2022 has no baseline: said in the panel instead of a marker
    assert sum(t.get_text() == "no\nbaseline" for t in fig.axes[0].texts) == 2
    matplotlib.pyplot.close(fig)


def test_drift_chart_with_a_single_year_language():
    drift = make_drift()
    fig = F.drift_chart(drift[drift["lang"] == "en"], make_baseline(), langs=["zh", "en"])
    assert any("no step" in t.get_text() for t in fig.axes[0].texts)
    matplotlib.pyplot.close(fig)


def test_phrase_bars_show_top_k_each_side_in_chinese_characters():
    fig = F.phrase_bars(make_phrases(), "zh", 2017, 2022, k=2)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    # top 2 positive z (3.1, 2.5), then the 2 negative z with the most negative at the bottom
    assert labels == ["数字经济", "全球发展倡议", "一带一路", "电子商务"]
    bars = sorted(ax.patches, key=lambda p: p.get_y())  # top to bottom (drawn one call per hatch)
    widths = [p.get_width() for p in bars]
    assert widths == [3.1, 2.5, -2.2, -2.6]
    assert [p.get_hatch() for p in bars] == ["///", None, None, "///"]  # new and gone are hatched
    # significance is the status (Benjamini-Hochberg q), not a fixed |z|: no threshold lines
    assert [line for line in ax.get_lines() if line.get_linestyle() == "--"] == []
    assert "low data: 2022" in ax.get_title()
    matplotlib.pyplot.close(fig)


def test_insufficient_step_draws_no_bars_and_says_why():
    ph = make_phrases()
    step = ph[(ph["lang"] == "zh") & (ph["year_from"] == 2017)].assign(status="insufficient", q=0.5)
    fig = F.phrase_bars(step, "zh", 2017, 2022, k=2)
    ax = fig.axes[0]
    assert len(ax.patches) == 0 and any("insufficient data" in t.get_text() for t in ax.texts)
    matplotlib.pyplot.close(fig)
    # with q-values, each bar end reads counts and q
    fig = F.phrase_bars(ph.assign(q=0.0123), "zh", 2017, 2022, k=2)
    assert all(t.get_text().endswith(", q=0.012") for t in fig.axes[0].texts)
    matplotlib.pyplot.close(fig)


def _exploratory_step():
    """One zh step in which no phrase reaches q <= 0.05: effect columns as phrase_changes.csv has them."""
    from textdrift.phrases import effect_rank, effect_size

    step = make_phrases()
    step = step[(step["lang"] == "zh") & (step["year_from"] == 2017)].assign(q=0.9, status="stable")
    eff, low, high = effect_size(step["count_from"], step["count_to"], step["total_from"], step["total_to"])
    step = step.assign(effect=eff, effect_low=low, effect_high=high)
    return step.assign(effect_rank=effect_rank(step["effect"], step["count_from"] + step["count_to"]))


def test_exploratory_step_ranks_by_effect_with_its_interval():
    step = _exploratory_step()
    fig = F.phrase_bars(step, "zh", 2017, 2022, k=2)
    ax = fig.axes[0]
    assert "exploratory: no phrase reaches q ≤ 0.05; ranked by effect" in ax.get_title()
    assert ax.get_title().count("exploratory") == 1 and "log rate ratio" in ax.get_xlabel()
    # the top 2 on each side by effect_rank, bars = effect, the strongest fall at the bottom
    up = step[step["effect"] > 0].nsmallest(2, "effect_rank")
    down = step[step["effect"] < 0].nsmallest(2, "effect_rank").iloc[::-1]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [*up["display"], *down["display"]]
    bars = sorted(ax.patches, key=lambda p: p.get_y())  # top to bottom (drawn one call per hatch)
    assert [p.get_width() for p in bars] == pytest.approx([*up["effect"], *down["effect"]])
    # one interval (error bar) per phrase, drawn in one call
    assert len(ax.collections) == 1 and len(ax.collections[0].get_segments()) == 4
    assert not any("q=" in t.get_text() for t in ax.texts)  # counts only: q decides nothing here
    matplotlib.pyplot.close(fig)
    # the step table's ranking wins over the phrases' q: a "test" step is drawn by z
    steps = pd.DataFrame({"lang": ["zh"], "year_from": [2017], "year_to": [2022], "ranking": ["test"]})
    fig = F.phrase_bars(step, "zh", 2017, 2022, k=2, steps=steps)
    assert "exploratory" not in fig.axes[0].get_title()
    assert [p.get_width() for p in fig.axes[0].patches] == [3.1, 2.5, -2.2, -2.6]
    matplotlib.pyplot.close(fig)


def test_exploratory_labels_stay_inside_the_panel(tmp_path):
    step = _exploratory_step()
    other = make_phrases()
    fig = F.phrase_steps(pd.concat([step, other[(other["lang"] == "zh") & (other["year_from"] != 2017)]
                                    .assign(q=0.01)], ignore_index=True), "zh", k=3)
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    box = ax.get_window_extent(renderer)
    ticks = [t.get_window_extent(renderer) for t in ax.get_yticklabels()]
    for t in ax.texts:
        b = t.get_window_extent(renderer)
        assert box.x0 <= b.x0 and b.x1 <= box.x1, t.get_text()
        assert not any(b.overlaps(tb) for tb in ticks), t.get_text()
    assert sum("exploratory:" in a.get_title() for a in fig.axes) == 1
    assert_not_blank(render(fig, tmp_path, "explore"))  # and no missing glyph


def test_phrase_bars_accept_named_groups():
    """Notebook comparisons of document sets label the step with group names, not years."""
    ph = make_phrases()
    step = ph[(ph["lang"] == "zh") & (ph["year_from"] == 2017)].assign(year_from="白皮书", year_to="non-paper")
    fig = F.phrase_bars(step, "zh", "白皮书", "non-paper", k=2)
    assert fig.axes[0].get_title().startswith("白皮书→non-paper")
    matplotlib.pyplot.close(fig)


def test_phrase_steps_one_panel_per_step_and_empty_language():
    fig = F.phrase_steps(make_phrases(), "en", k=3)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title().split("\n")[0] for ax in visible] == ["2017→2022 (5 y)", "2022→2023 (1 y)", "2023→2024 (1 y)"]
    matplotlib.pyplot.close(fig)
    empty = F.phrase_steps(make_phrases(), "fr")
    assert any("no step" in t.get_text() for t in empty.axes[0].texts)
    matplotlib.pyplot.close(empty)


def test_long_series_keep_a_readable_size_and_labels():
    """25 years: the drift chart stacks its languages at a bounded width; trend panels label at most 10 years."""
    years = list(range(2000, 2025))
    drift = pd.DataFrame([{"lang": lang, "year_from": a, "year_to": a + 1, "gap": 1, "cosine_distance": 0.2, "jsd": 0.3,
                           "tokens_from": 900, "tokens_to": 900, "low_data": False} for lang in ("zh", "en") for a in years[:-1]])
    short = F.drift_chart(make_drift(), make_baseline())
    long = F.drift_chart(drift, drift.iloc[:0].assign(year=[]))
    assert short.get_size_inches()[0] == pytest.approx(max(7.0, 2.1 * (2 + 0.6 + 3 + 0.6) + 1.5))  # as before
    assert long.get_size_inches()[0] < 20 and len(long.axes) == 4
    long.draw_without_rendering()
    renderer = long.canvas.get_renderer()
    for ax in long.axes:
        boxes = [t.get_window_extent(renderer) for t in ax.get_xticklabels()]
        assert len(boxes) == 24 and not any(a.overlaps(b) for a, b in zip(boxes, boxes[1:]))
    freq = pd.DataFrame([{"year": y, "lang": "en", "theme": "digital_economy", "count": 3, "tokens": 900,
                          "per_10k": 33.0, "ci_low": 10.0, "ci_high": 90.0} for y in years])
    trends = F.theme_trends(freq, CODEBOOK)
    assert [int(t) for t in trends.axes[0].get_xticks()] == years[::3]
    matplotlib.pyplot.close("all")


def test_phrase_count_label_never_prints_q_as_zero():
    from textdrift.figures import _count_label

    row = {"count_from": 0, "count_to": 26}
    assert _count_label({**row, "q": 0.0054672}) == "0→26, q=0.0055"
    assert _count_label({**row, "q": 0.04}) == "0→26, q=0.04"
    assert _count_label({**row, "q": 2.9e-05}) == "0→26, q<0.001"
    assert _count_label({**row, "q": 0.0}) == "0→26, q<0.001"
    assert _count_label({**row, "q": 0.01}, with_q=False) == _count_label({**row, "q": np.nan}) == "0→26"


def test_phrase_count_labels_stay_inside_the_panel():
    """Long bars with large counts: every "before→after" label lies inside its axes, clear of the phrase labels."""
    rows = [("proposal international cooperation", 3, 190, 324, 2.3, "rising"),
            ("development initiative", 2, 1496, 1325, -4.2, "falling"), ("hold", 1, 1420, 1201, -3.9, "falling"),
            ("数字 丝绸之路 合作", 3, 1291, 1087, -4.0, "falling")]
    phr = pd.DataFrame([{"lang": "en", "year_from": 2019, "year_to": 2020, "phrase": p, "n": n, "count_from": a,
                         "count_to": b, "total_from": 73834, "total_to": 87400, "alpha_w": 1.0, "alpha_0": 7e4,
                         "log_odds": z / 3, "z": z, "q": 0.0012, "status": st, "display": p}
                        for p, n, a, b, z, st in rows])
    fig = F.phrase_steps(phr, "en", k=15)
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    ax = next(a for a in fig.axes if a.get_visible() and a.texts)
    box = ax.get_window_extent(renderer)
    ticks = [t.get_window_extent(renderer) for t in ax.get_yticklabels()]
    for t in ax.texts:
        b = t.get_window_extent(renderer)
        assert box.x0 <= b.x0 and b.x1 <= box.x1, t.get_text()
        assert not any(b.overlaps(tb) for tb in ticks), t.get_text()
    matplotlib.pyplot.close(fig)


def test_phrase_steps_draws_every_step_wrapped_into_rows():
    fig = F.phrase_steps(make_phrases(), "en", k=3, max_cols=2)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title().split("\n")[0] for ax in visible] == ["2017→2022 (5 y)", "2022→2023 (1 y)",
                                                                 "2023→2024 (1 y)"]
    assert fig.axes[0].get_gridspec().nrows == 2 and "each of the 3 steps" in fig._suptitle.get_text()
    matplotlib.pyplot.close(fig)


def test_save_figure_is_reproducible(tmp_path):
    a = F.save_figure(F.similarity_matrix(make_similarity()), tmp_path / "a", dpi=60)
    b = F.save_figure(F.similarity_matrix(make_similarity()), tmp_path / "b", dpi=60)
    for pa, pb in zip(a, b):
        assert pa.read_bytes() == pb.read_bytes()


def test_png_bytes_decode_to_the_same_pixels_and_dpi():
    """save_figure's own PNG writer (up filter, zlib level 3, rows in blocks): Pillow decodes it to
    the very array, with its dpi, for images of less than one block, exactly blocks, and a part block;
    the stream fed in blocks is the bytes of the whole filtered image compressed at once."""
    import io
    import zlib

    from PIL import Image

    rng = np.random.default_rng(0)
    for height in (1, 37, 2 * F._PNG_ROWS, 2 * F._PNG_ROWS + 3):
        rgba = rng.integers(0, 256, size=(height, 53, 4), dtype=np.uint8)  # row differences wrap modulo 256
        rgba[5:20] = 255  # and flat areas, as in a chart
        with Image.open(io.BytesIO(F._png_bytes(rgba, 200))) as im:
            assert im.mode == "RGBA" and np.array_equal(np.asarray(im), rgba), height
            assert [round(v) for v in im.info["dpi"]] == [200, 200]
        flat = rgba.reshape(height, -1)
        raw = np.concatenate([np.full((height, 1), 2, np.uint8),
                              np.vstack([flat[:1], flat[1:] - flat[:-1]])], axis=1)  # "up", modulo 256
        assert zlib.compress(raw.tobytes(), 3) in F._png_bytes(rgba, 200)


def _canonical_clip_ids(svg: bytes) -> bytes:
    """Clip-path ids are hashes of the clip rectangle at full precision, which moves in its last bit with
    the heap layout (the constrained layout's solver orders its variables by address); numbered by
    first use instead."""
    import re

    ids: dict = {}
    return re.sub(rb"\bp[0-9a-f]{10}\b", lambda m: ids.setdefault(m.group(0), b"clip%d" % len(ids)), svg)


def test_save_figure_memo_changes_no_pixel_and_no_svg_byte(tmp_path, monkeypatch):
    """Laying out each text once per renderer (_text_layout_memo, with its glyph loops), the font files
    read from memory (_fonts_read_from_memory), pinning empty axis labels, adding bars without
    extending the data limits and pausing the garbage collector draw the same PNG pixels and the same
    SVG as matplotlib as it is, on charts with Chinese labels, rotated and multi-line texts, bars; the
    patches are gone afterwards."""
    import io
    from contextlib import nullcontext

    from matplotlib import font_manager

    from matplotlib import text as mtext
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import fontManager
    from matplotlib.ft2font import FT2Font
    from matplotlib.textpath import TextToPath

    layout, shape, set_size = mtext.Text._get_layout, FT2Font._layout, FT2Font.set_size
    glyphs, agg_glyphs = TextToPath.get_glyphs_with_font, RendererAgg._draw_text_glyphs_and_boxes
    get_font = font_manager._get_font

    new = pd.DataFrame([{"lang": "zh", "year": year, "status": "new", "rank": r, "formulation": f"新的提法{r}",
                         "count": 3 + r, "paragraphs": 2 + r, "documents": 1, "nested_in": ""}
                        for year in (2020, 2021, 2022) for r in (1, 2)])

    def charts():
        return [F.phrase_steps(make_phrases(), "zh", k=4, max_cols=2),
                F.theme_heatmap(make_frequencies(), CODEBOOK), F.similarity_matrix(make_similarity()),
                F.new_formulations_chart(new, "zh", k=2)]

    fast = [F.save_figure(fig, tmp_path / f"fast{i}", dpi=70) for i, fig in enumerate(charts())]
    assert mtext.Text._get_layout is layout and "_find_fonts_by_props" not in vars(fontManager)
    assert FT2Font._layout is shape and FT2Font.set_size is set_size
    assert TextToPath.get_glyphs_with_font is glyphs and RendererAgg._draw_text_glyphs_and_boxes is agg_glyphs
    assert font_manager._get_font is get_font and font_manager.ft2font is F.matplotlib.ft2font
    # the fast drawing's fonts were read from memory
    assert F._FONTS_IN_MEMORY and all(isinstance(font.fname, io.BytesIO) for font in F._FONTS_IN_MEMORY.values())
    monkeypatch.setattr(F, "_MPL_MEMO_VERSION", "none")  # the memo off: matplotlib as it is
    monkeypatch.setattr(F, "_pin_empty_axis_labels", lambda fig: None)
    monkeypatch.setattr(F, "_bars_without_data_limits", lambda ax: nullcontext())
    monkeypatch.setattr(F, "_cyclic_gc_paused", nullcontext)
    plain = [F.save_figure(fig, tmp_path / f"plain{i}", dpi=70) for i, fig in enumerate(charts())]
    for (png_a, svg_a), (png_b, svg_b) in zip(fast, plain):
        assert np.array_equal(mpimg.imread(png_a), mpimg.imread(png_b)), png_a.name
        assert _canonical_clip_ids(svg_a.read_bytes()) == _canonical_clip_ids(svg_b.read_bytes()), svg_a.name


def test_run_figures_writes_every_declared_output(tmp_path):
    tables = {"frequencies": make_frequencies(), "drift": make_drift(), "baseline": make_baseline(),
              "similarity": make_similarity(), "phrases": make_phrases()}
    paths = {}
    for name, df in tables.items():
        paths[name] = tmp_path / f"{name}.csv"
        write_csv(df, paths[name])
    codebook = tmp_path / "themes.yaml"
    codebook.write_text(yaml.safe_dump({"themes": [{**t, "en": [t["id"].replace("_", " ")], "zh": [t["label_zh"]]}
                                                   for t in CODEBOOK]}, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "figures"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        written = F.write_figures({**paths, "codebook": codebook}, out, {"languages": ["zh", "en"], "dpi": 60})
    expected = {f"{stem}.{ext}" for stem in F.figure_stems(out, ["zh", "en"]).values() for ext in ("png", "svg")}
    assert {str(p) for p in written} == expected
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{n}.{e}" for n in ["theme_trends", "theme_heatmap", "drift", "similarity", "phrases_zh", "phrases_en"]
        for e in ("png", "svg"))
    # one group (one rule) needs and reads only its own tables
    only = F.write_figures({k: paths[k] for k in ("drift", "baseline", "similarity")}, tmp_path / "drift_only",
                           F.FigureSettings(languages=("zh", "en"), dpi=40), groups=["drift"])
    assert sorted(p.name for p in only) == ["drift.png", "drift.svg", "similarity.png", "similarity.svg"]
    with pytest.raises(ValueError, match=r"need \['codebook', 'frequencies'\]"):
        F.write_figures({}, tmp_path, {"languages": ["en"]}, groups=["themes"])


def test_similarity_matrix_many_years_stays_readable():
    """30 years: the panel keeps a bounded size and drops the cell numbers (they are in the CSV);
    20 years with one missing: numbers in the cells, the colour scale follows the data, the gap is marked."""
    years = range(2000, 2030)
    sim = pd.DataFrame([{"lang": "en", "year_a": a, "year_b": b, "cosine_similarity": 1.0 if a == b else 0.5,
                         "jsd": 0.0 if a == b else 0.3} for a in years for b in years])
    fig = F.similarity_matrix(sim)
    assert fig.get_size_inches()[0] < 16 and not fig.axes[0].texts
    matplotlib.pyplot.close(fig)
    years = [y for y in range(2000, 2021) if y != 2007]
    sim = pd.DataFrame([{"lang": "en", "year_a": a, "year_b": b, "cosine_similarity": 1.0 if a == b else 0.8,
                         "jsd": 0.0 if a == b else 0.1} for a in years for b in years])
    fig = F.similarity_matrix(sim)
    ax = fig.axes[0]
    assert len(ax.texts) == 20 * 20 and ax.images[0].norm.vmin == pytest.approx(0.8)
    assert "no text in 2007" in fig._suptitle.get_text() and len(ax.lines) == 4  # two rules per axis
    matplotlib.pyplot.close(fig)


def test_a_low_data_rate_far_above_the_measured_years_does_not_set_the_scale():
    freq = make_frequencies()
    spike = (freq["lang"] == "zh") & (freq["year"] == 2022) & (freq["theme"] == "digital_economy")
    freq.loc[spike, ["count", "per_10k", "ci_low", "ci_high"]] = [7, 7 / 67 * 10_000, 400.0, 2500.0]  # 1044.8
    fig = F.theme_trends(freq, CODEBOOK, low_data_tokens=500)
    ax = fig.axes[0]
    measured = freq[~spike & (freq["theme"] == "digital_economy") & (freq["tokens"] >= 500)]
    top = max(measured["per_10k"].max(), measured["ci_high"].max()) * 1.12
    assert ax.get_ylim()[1] == pytest.approx(top) and top < 1044
    triangles = [line for line in ax.get_lines() if line.get_marker() == "^"]
    assert len(triangles) == 1 and triangles[0].get_ydata()[0] == pytest.approx(top)
    assert [t.get_text() for t in ax.texts] == ["1045"]  # its value, written under the triangle
    matplotlib.pyplot.close(fig)


def test_theme_trends_languages_differ_by_colour_and_marker_and_the_legend_names_them():
    fig = F.theme_trends(make_frequencies(), CODEBOOK, langs=["zh", "en"])
    ax = fig.axes[0]
    points = [ln for ln in ax.get_lines() if ln.get_linestyle() == "None" and len(ln.get_xdata())
              and ln.get_marker() not in ("_", "|")]  # the points, not the interval caps
    by_lang = {}
    for ln in points:
        x = float(ln.get_xdata()[0])
        by_lang.setdefault("zh" if x % 1 > 0.5 else "en", set()).add(
            (matplotlib.colors.to_hex(ln.get_color()), ln.get_marker()))
    (zh,), (en,) = by_lang["zh"], by_lang["en"]
    assert zh[0] != en[0] and zh[1] != en[1]  # colour AND marker differ
    handles = {h.get_label(): (matplotlib.colors.to_hex(h.get_color()), h.get_marker())
               for h in fig.legends[0].legend_handles}
    assert handles["Chinese (zh)"] == zh and handles["English (en)"] == en
    matplotlib.pyplot.close(fig)


def test_theme_trends_does_not_draw_a_trend_line_across_a_change_of_genre():
    freq = make_frequencies()
    # English: 2017 proposal, 2022 a non-paper, 2023 and 2024 statements; Chinese has no tokens column: every year
    docs = pd.DataFrame({"doc_id": ["a", "b", "c", "d"], "year": [2017, 2022, 2023, 2024],
                         "genre": ["proposal", "non_paper", "statement", "statement"],
                         "tokens_en": [800, 700, 600, 600], "tokens_zh": [600, 67, 0, 600]})
    assert F.year_genres(docs, "en") == {2017: "proposal", 2022: "non paper", 2023: "statement", 2024: "statement"}
    fig = F.theme_trends(freq, CODEBOOK, langs=["zh", "en"], documents=docs)
    ax = fig.axes[0]
    segments = [ln for ln in ax.get_lines() if len(ln.get_xdata()) == 2 and ln.get_linestyle() != "None"]
    dotted = [tuple(np.round(ln.get_xdata()).astype(int)) for ln in segments
              if matplotlib.colors.to_hex(ln.get_color()) == F.GENRE_BREAK_COLOR]
    solid = [tuple(np.round(ln.get_xdata()).astype(int)) for ln in segments
             if matplotlib.colors.to_hex(ln.get_color()) != F.GENRE_BREAK_COLOR]
    # English: 2017 -> 2022 spans missing years (no line at all), 2022 -> 2023 changes genre (dotted),
    # 2023 -> 2024 is one genre (the trend line)
    assert (2017, 2022) not in dotted + solid and (2022, 2023) in dotted and solid == [(2023, 2024)]
    labels = [" ".join(t.get_text().split()) for t in fig.legends[0].get_texts()]
    assert "genre changes between the two years: not a trend line" in labels
    assert fig.legends[0].get_title().get_text().startswith("Genres: 2017 proposal")
    matplotlib.pyplot.close(fig)


def _same_drawing(a, b) -> bool:
    """The same PNG pixels and the same SVG (clip-path ids numbered by first use)."""
    return (np.array_equal(mpimg.imread(a.with_suffix(".png")), mpimg.imread(b.with_suffix(".png")))
            and _canonical_clip_ids(a.with_suffix(".svg").read_bytes())
            == _canonical_clip_ids(b.with_suffix(".svg").read_bytes()))


def test_a_language_whose_rows_did_not_change_keeps_its_phrase_chart(tmp_path, monkeypatch):
    """With a memo directory and the code's identity (the rule's params), a language's phrase chart is
    copied from its last drawing when its rows of both phrase tables, the settings and the code are
    unchanged, and drawn again when any of them changes; the files are those a fresh drawing writes."""
    phrases = make_phrases()
    steps = phrases[["lang", "year_from", "year_to"]].drop_duplicates().assign(ranking="test")
    paths = {"phrases": tmp_path / "phrase_changes.csv", "phrase_steps": tmp_path / "phrase_steps.csv"}
    write_csv(phrases, paths["phrases"])
    write_csv(steps, paths["phrase_steps"])
    memo = tmp_path / "memo"
    settings = {"languages": ["zh", "en"], "dpi": 40, "phrase_k": 3, "memo_dir": str(memo), "code": "abc"}
    first = F.write_figures(paths, tmp_path / "first", settings, groups=["phrases"])
    assert sorted(p.name for p in memo.iterdir()) == sorted(
        f"phrases_{lang}.{ext}" for lang in ("zh", "en") for ext in ("png", "svg", "key"))
    drawn = []
    real = F.save_figure
    monkeypatch.setattr(F, "save_figure", lambda fig, stem, dpi: drawn.append(Path(stem).name) or real(fig, stem, dpi))
    again = F.write_figures(paths, tmp_path / "again", settings, groups=["phrases"])
    assert drawn == [] and [p.read_bytes() for p in again] == [p.read_bytes() for p in first]
    # an English row changes (a document added in English): only the English chart is drawn again
    phrases.loc[phrases.index[-1], "count_to"] += 1
    write_csv(phrases, paths["phrases"])
    third = F.write_figures(paths, tmp_path / "third", settings, groups=["phrases"])
    assert drawn == ["phrases_en"]
    # ... and what is written, copied or drawn, is what a drawing without the memo writes
    plain = F.write_figures(paths, tmp_path / "plain", {**settings, "memo_dir": None}, groups=["phrases"])
    assert drawn == ["phrases_en", "phrases_zh", "phrases_en"]
    assert all(_same_drawing(a, b) for a, b in zip(third, plain))
    # a setting, the code or a Chinese step's ranking: drawn again
    F.write_figures(paths, tmp_path / "k", {**settings, "phrase_k": 2}, groups=["phrases"])
    F.write_figures(paths, tmp_path / "code", {**settings, "phrase_k": 2, "code": "abd"}, groups=["phrases"])
    assert drawn[3:] == ["phrases_zh", "phrases_en"] * 2
    write_csv(steps.assign(ranking=np.where(steps["lang"] == "zh", "exploratory", "test")), paths["phrase_steps"])
    F.write_figures(paths, tmp_path / "ranking", {**settings, "phrase_k": 2, "code": "abd"}, groups=["phrases"])
    assert drawn[7:] == ["phrases_zh"]
    # without the code's identity nothing is kept or copied
    F.write_figures(paths, tmp_path / "nocode", {**settings, "code": None}, groups=["phrases"])
    assert drawn[8:] == ["phrases_zh", "phrases_en"]


def test_chart_key_sees_every_value_and_type():
    rows = make_phrases()
    key = F.chart_key(("x", rows, 3), "code", 200)
    assert key == F.chart_key(("x", rows.copy(), 3), "code", 200)
    changed = rows.copy()
    changed.loc[0, "z"] = np.nextafter(changed.loc[0, "z"], 10)  # the last bit of one number
    other = {F.chart_key(("x", changed, 3), "code", 200), F.chart_key(("x", rows, 4), "code", 200),
             F.chart_key(("x", rows, 3), "code", 100), F.chart_key(("x", rows, 3), "cod", 200),
             F.chart_key(("x", rows.astype({"n": float}), 3), "code", 200),
             F.chart_key(("x", rows.rename(columns={"z": "t"}), 3), "code", 200),
             F.chart_key(("x", rows.iloc[:-1], 3), "code", 200), F.chart_key(("x", None, 3), "code", 200)}
    assert key not in other and len(other) == 8


def test_kept_chart_copied_without_matplotlib(tmp_path):
    """The cross-language chart job copies a kept chart without importing matplotlib: the key, the
    codebook's frame and the copy come from modules that do not import it (``textdrift.memo``,
    ``textdrift.codebook``); a kept chart of another key is not copied."""
    import os
    import subprocess
    import sys

    from textdrift.codebook import codebook_frame
    from textdrift.memo import kept_chart

    memo, out = tmp_path / "memo", tmp_path / "out"
    memo.mkdir()
    out.mkdir()
    stem = out / "chart"
    assert kept_chart(stem, "k1", memo) is None and kept_chart(stem, "k1", None) is None
    for ext, data in (("png", b"png bytes"), ("svg", b"svg bytes"), ("key", b"k1")):
        (memo / f"chart.{ext}").write_bytes(data)
    assert kept_chart(stem, "k2", memo) is None and not (out / "chart.png").exists()
    assert kept_chart(stem, "k1", memo) == [out / "chart.png", out / "chart.svg"]
    assert (out / "chart.png").read_bytes() == b"png bytes" and (out / "chart.svg").read_bytes() == b"svg bytes"
    assert codebook_frame([{"id": "a", "label_en": "A", "en": ["x"]}]).columns.tolist() == ["id", "label_en"]
    root = Path(__file__).resolve().parents[1]
    script = (root / "workflow" / "scripts" / "crosslingual.py").read_text(encoding="utf-8")
    imports = "\n".join(line for line in script.splitlines() if line.startswith(("from textdrift", "import textdrift")))
    probe = imports + "\nimport sys\nprint('matplotlib' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root / "src"), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env)
    assert run.stdout.strip() == "False"


def test_formulation_chart_kept_per_language(tmp_path, monkeypatch):
    """The formulation chart job copies a language's chart when its rows are unchanged."""
    from types import SimpleNamespace

    rows = [{"lang": lang, "year": year, "status": "new", "rank": 1, "formulation": f"{lang}{year}", "count": 3,
             "paragraphs": 2, "documents": 1, "nested_in": ""} for lang in ("zh", "en") for year in (2020, 2021)]
    table = tmp_path / "new_formulations.csv"
    write_csv(pd.DataFrame(rows), table)
    out = tmp_path / "out"
    out.mkdir()
    params = SimpleNamespace(languages=["zh", "en"], k=3, top_n=50, window=None, dpi=40)
    params.items = lambda: {**vars(params), "code": "abc", "memo_dir": str(tmp_path / "memo")}.items()
    output = SimpleNamespace(png=[str(out / f"new_formulations_{lang}.png") for lang in ("zh", "en")])
    run = lambda: F.run_formulation_figures(SimpleNamespace(formulations=str(table)), output, params,  # noqa: E731
                                            [str(tmp_path / "log")])
    run()
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    drawn = []
    real = F.save_figure
    monkeypatch.setattr(F, "save_figure", lambda fig, stem, dpi: drawn.append(Path(stem).name) or real(fig, stem, dpi))
    rows[-1]["count"] = 4  # an English row
    write_csv(pd.DataFrame(rows), table)
    run()
    assert drawn == ["new_formulations_en"]
    assert (out / "new_formulations_zh.svg").read_bytes() == first["new_formulations_zh.svg"]
    assert "copied, not drawn again" in (tmp_path / "log").read_text(encoding="utf-8")


def test_theme_charts_kept_when_a_codebook_edit_changes_no_number(tmp_path, monkeypatch):
    """A codebook edit rewrites the theme tables with the codebook's new hash (column ``codebook``);
    a term that matches nothing changes no number, so both theme charts are copied. Each chart's key
    covers the columns it reads: an interval or a precision changes the trends' key only (the heat
    map shows neither), a label both."""
    freq = make_frequencies().assign(codebook="aaaa")
    prec = pd.DataFrame([{"theme": t["id"], "lang": lang, "n_coded": 10, "relevant": 9, "precision": 0.9,
                          "codebook": "aaaa"} for t in CODEBOOK for lang in ("zh", "en")])
    paths = {"frequencies": tmp_path / "theme_frequencies.csv", "precision": tmp_path / "codebook_precision.csv",
             "codebook": tmp_path / "themes.yaml"}
    book = [{**t, "en": [t["id"].replace("_", " ")], "zh": [t["label_zh"]]} for t in CODEBOOK]
    settings = {"languages": ["zh", "en"], "dpi": 40, "memo_dir": str(tmp_path / "memo"), "code": "abc"}

    def write(freq, prec, book):
        write_csv(freq, paths["frequencies"])
        write_csv(prec, paths["precision"])
        paths["codebook"].write_text(yaml.safe_dump({"themes": book}, allow_unicode=True), encoding="utf-8")

    def keys(freq, prec, book):
        write(freq, prec, book)
        charts = F.draw_figures(paths, settings, ["themes"])
        return [F.chart_key(charts[name].data, "abc", 40) for name in ("theme_trends", "theme_heatmap")]

    write(freq, prec, book)
    first = F.write_figures(paths, tmp_path / "first", settings, groups=["themes"])
    drawn = []
    real = F.save_figure
    monkeypatch.setattr(F, "save_figure", lambda fig, stem, dpi: drawn.append(Path(stem).name) or real(fig, stem, dpi))
    edited = [{**book[0], "en": [*book[0]["en"], "a term found nowhere"]}, *book[1:]]
    write(freq.assign(codebook="bbbb"), prec.assign(codebook="bbbb"), edited)
    again = F.write_figures(paths, tmp_path / "again", settings, groups=["themes"])
    assert drawn == [] and [p.read_bytes() for p in again] == [p.read_bytes() for p in first]
    trends, heat = keys(freq, prec, book)
    for changed in (keys(freq.assign(ci_high=freq["ci_high"] + 1), prec, book),
                    keys(freq, prec.assign(precision=0.8), book)):
        assert changed[0] != trends and changed[1] == heat
    relabelled = [book[0], {**book[1], "label_en": "Data protection"}, book[2]]
    assert set(keys(freq, prec, relabelled)).isdisjoint({trends, heat})
    assert keys(freq.assign(per_10k=freq["per_10k"] * 2), prec, book)[1] != heat
