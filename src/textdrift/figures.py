"""Charts of the result tables: one function per chart, each taking DataFrames and returning a Figure;
every step's chart lives here (rule ``figures``), :mod:`textdrift.report` links them.

Charts (``results/figures/<name>.png`` for reading, ``.svg`` for print):

* :func:`theme_trends` (``theme_trends``): small multiples, one panel per codebook theme, the
  theme's rate per 10,000 tokens by year with its 95% interval, one line per language (the
  languages differ by colour, marker and line style; a change of genre between two years is a
  grey dotted line, not the trend line).
* :func:`theme_heatmap` (``theme_heatmap``): year x theme rate per 10,000 tokens, one panel per
  language, the value written in each cell, one colour scale for all panels.
* :func:`drift_chart` (``drift``): cosine distance and Jensen-Shannon divergence between
  consecutive available years, with the split-half baseline of both years beside each bar.
* :func:`similarity_matrix` (``similarity``): year x year cosine similarity of the TF-IDF
  vectors, one panel per language.
* :func:`phrase_bars` (one step) and :func:`phrase_steps` (``phrases_{lang}``, one panel per
  step): diverging bars of the log-odds z of the top-k rising and top-k falling phrases; in a step
  whose ``ranking`` is ``exploratory`` (no phrase reaches q <= ``phrases.q_threshold``:
  :func:`step_ranking`) the top-k on each side by ``effect_rank``, bars = ``effect`` (a log rate
  ratio) with its interval (``effect_low``, ``effect_high``), the panel labelled exploratory.
* :func:`crosslingual_chart` (``crosslingual_themes``, drawn by the `crosslingual` rule):
  dumbbells, per theme its matches in the aligned paragraph pairs of each language version of a
  bilingual document, with the count ratio and its exact interval; not comparable documents say so.

Conventions shared by all charts
--------------------------------
* **Fonts.** :func:`setup_fonts` registers the CJK font shipped by ``mplfonts``
  (Noto Sans CJK SC) and sets ``font.family`` to ``["DejaVu Sans", "Noto Sans CJK SC"]``;
  matplotlib (>= 3.6) falls back glyph by glyph, so Latin text keeps DejaVu Sans and Chinese
  labels render in Noto. ``axes.unicode_minus`` is off (some CJK fonts lack U+2212).
* **Theme colours.** :func:`theme_styles` maps each theme to a colour of :data:`THEME_PALETTE`
  (Paul Tol's colour-blind-safe "muted" scheme, 9 colours, then 6 of his "vibrant" and "light"
  colours that differ from those: 15) and a marker, by **codebook order**: theme i gets colour
  ``i mod 15`` and marker ``i div 15`` (circle, square, diamond, triangle), so the first 15 themes
  have 15 colours, and up to 60 themes have distinct (colour, marker) pairs; a theme keeps its
  colour and marker in every chart, whatever themes a table happens to contain (Tol 2021,
  https://personal.sron.nl/~pault/). The
  exception is :func:`theme_trends`, one theme per panel, where colour and marker tell the
  languages apart.
* **Low data.** A (language, year) with fewer than ``low_data_tokens`` kept tokens (default
  500, the top-level ``low_data_tokens``) is drawn with hollow markers / hatching and
  named with its token count; in the drift chart the table's own ``low_data`` flag is used.
* **Years** are placed on a real-year axis or labelled with the gap ("2017→2022 (5 y)"), so a
  five-year step never looks like a one-year step. A **missing year** (a calendar year between
  the first and the last with no text, :func:`missing_years`) breaks every line (no line is
  drawn across it) and is marked: a grey band in the trend panels, a dashed rule labelled with
  the missing years in the heat maps.
* **Any number of years and themes.** Every step and every theme is drawn (wrapped into more
  rows, never dropped); every panel keeps its y-axis labels, and the bottom panel of every column
  its year labels.
* :func:`save_figure` writes PNG (``dpi``, default 200) and SVG atomically; the SVG carries no
  date and fixed element ids (``svg.hashsalt``), so reruns give identical files. One exception
  to "identical" across code versions: a clip path's id hashes its rectangle at full precision,
  and matplotlib's constrained layout (kiwisolver orders its variables by memory address) can
  move that rectangle in its last bit when unrelated code allocates differently; the printed
  coordinates and the pixels do not change.
* **Kept charts.** Every chart of the chart rules is kept by its rule in ``data/cache/figures/``
  (beside ``processed_dir``, as the theme matches' memo) with a key of what it is drawn from
  (:func:`chart_key`: the rows and columns it reads, the settings, the code's hash, the drawing
  packages' versions), and the kept files (the same bytes a new drawing writes) are copied when the
  key is the same (:func:`save_memoized`): a per-language chart (``phrases_{lang}``,
  ``new_formulations_{lang}``) when only another language's rows changed; a theme chart when a
  codebook edit changed no number it reads (the tables' ``codebook`` hash column is not read).

References: Tol, P. (2021), *Colour schemes*, SRON/EPS/TN/09-002; Monroe, Colaresi & Quinn
(2008) for the z of the phrase chart; Kilgarriff (2001) for the split-half baseline.

Why one module of over 1,000 lines (a third of them docstrings): every chart follows the conventions above through the same
helpers (fonts, theme styles, low-data notes, year labels, deterministic files); split by chart,
each part would import most of the rest, and a convention would no longer be stated in one place.
"""

from __future__ import annotations

import importlib.util
import io
import textwrap
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: the figures are files, never windows

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import colors as mcolors  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.font_manager import FontProperties, fontManager  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch, Rectangle  # noqa: E402

from textdrift.io import atomic_write_bytes, read_csv  # noqa: E402
from textdrift.config import LANG_NAMES, defaults, lang_name  # noqa: E402
from textdrift.codebook import codebook_frame  # noqa: E402,F401  (here for its users before it moved)
from textdrift.memo import chart_key, keep_chart, kept_chart  # noqa: E402,F401  (chart_key: likewise)

_D = defaults()  # the configuration schema's defaults: every keyword default below that is a config setting

__all__ = ["ANNOTATE_MAX_YEARS", "BASELINE_COLOR", "CHART_GROUPS", "CJK_FONT_FILE", "FIGURES", "HALVES_COLOR",
           "HEAT_CMAP", "LANG_COLORS", "THEME_PALETTE", "missing_years", "draw_figures", "FigureSettings", "LANG_LINESTYLES", "LANG_NAMES", "LATIN_FAMILY", "MARKERS",
           "METRIC_COLORS", "PALETTE", "STATUS_COLORS", "STATUS_HATCH", "cjk_font_path", "codebook_frame",
           "crosslingual_chart", "drift_chart", "figure_stems", "FontNotFoundError", "lang_name", "phrase_bars",
           "step_ranking",
           "phrase_steps", "write_figures", "save_figure", "setup_fonts", "similarity_matrix", "theme_heatmap",
           "theme_styles", "theme_trends", "ThemeStyle", "run_figures", "GENRE_BREAK_COLOR", "TREND_LANG_COLORS",
           "TREND_LANG_MARKERS", "year_genres"]

CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"
LATIN_FAMILY = "DejaVu Sans"
# Paul Tol's "muted" qualitative scheme (colour-blind safe), in his order.
PALETTE = ["#CC6677", "#332288", "#DDCC77", "#117733", "#88CCEE", "#882255", "#44AA99", "#999933", "#AA4499"]
# then Tol's "vibrant" orange, blue, magenta, his "light" pear and pink, and a dark grey: colours
# that none of the muted ones resembles (his similar pairs, e.g. light mint / muted teal, left out)
THEME_PALETTE = [*PALETTE, "#EE7733", "#0077BB", "#EE3377", "#BBCC33", "#FFAABB", "#555555"]
MARKERS = ["o", "s", "D", "^"]
LANG_LINESTYLES = ["-", "--", ":", "-."]
# Paul Tol's "bright" blue and red for rising/falling, his pale grey for not significant.
STATUS_COLORS = {"rising": "#4477AA", "new": "#4477AA", "falling": "#EE6677", "gone": "#EE6677",
                 "stable": "#BBBBBB"}
STATUS_HATCH = {"new": "///", "gone": "///"}
METRIC_COLORS = {"cosine": "#4477AA", "jsd": "#228833"}
BASELINE_COLOR = "#555555"
HALVES_COLOR = "#111111"
ANNOTATE_MAX_YEARS = 24  # similarity matrix: numbers in the cells up to this many years (cells >= 0.37 in)
HEAT_CMAP = "viridis"
_MPL_MEMO_VERSION = "3.11.2"  # the matplotlib whose text internals _text_layout_memo was checked against


class FontNotFoundError(RuntimeError):
    """The CJK font shipped by mplfonts is not installed."""


@dataclass(frozen=True)
class ThemeStyle:
    """How one theme is drawn in every chart."""

    color: str
    marker: str
    label_en: str
    label_other: str = ""  # labels in the other languages of the codebook, space-separated

    @property
    def label(self) -> str:
        """English label followed by the other labels ("Digital economy 数字经济")."""
        return f"{self.label_en} {self.label_other}".strip()


# ---- set-up -----------------------------------------------------------------------------------


def cjk_font_path() -> Path:
    """Path of the Noto Sans CJK SC font file shipped by the ``mplfonts`` package (not imported)."""
    spec = importlib.util.find_spec("mplfonts")
    dirs = list(spec.submodule_search_locations or []) if spec else []
    for d in dirs:
        path = Path(d) / "fonts" / CJK_FONT_FILE
        if path.is_file():
            return path
    raise FontNotFoundError(
        f"CJK font {CJK_FONT_FILE} not found (looked in the mplfonts package: {dirs or 'not installed'}); "
        "install the project environment (mplfonts is a pinned dependency) so Chinese labels can render"
    )


def setup_fonts(font_path: str | Path | None = None) -> str:
    """Register the CJK font and make it the per-glyph fallback of DejaVu Sans; return its family name.

    Parameters
    ----------
    font_path : str or Path, optional
        Default: :func:`cjk_font_path`.

    Returns
    -------
    str

    Raises
    ------
    FontNotFoundError
        When the font file does not exist.
    """
    path = Path(font_path) if font_path else cjk_font_path()
    if not path.is_file():
        raise FontNotFoundError(f"CJK font file not found: {path}")
    fontManager.addfont(str(path))
    family = FontProperties(fname=str(path)).get_name()
    matplotlib.rcParams["font.family"] = [LATIN_FAMILY, family]
    matplotlib.rcParams["axes.unicode_minus"] = False
    return family


def _font_key(prop) -> tuple:
    """What a FontProperties' lookups depend on (the fields of its ``__hash__``, as a tuple)."""
    return (tuple(prop.get_family()), prop.get_slant(), prop.get_variant(), prop.get_weight(),
            prop.get_stretch(), prop.get_size(), prop.get_file(), prop.get_math_fontfamily())


@contextmanager
def _text_layout_memo():
    """While drawing one figure, lay out each distinct text once per renderer and find each font once.

    matplotlib lays out a text (:meth:`matplotlib.text.Text._get_layout`: look up its fonts, read the
    font's OS/2 and head tables, measure every line) each time its extent is asked for: the
    constrained layout asks twice for every tick label, the placing of the axis labels asks for all
    of an axis's tick labels again, and the draw asks once more, about six times per text in a phrase
    chart. The layout depends only on the text's string, font, rotation, alignment, line spacing, the
    figure's dpi and the renderer, not on its position, so it is kept per those (and per renderer,
    for the renderers this figure's draws make) and the same tuple is returned: the same numbers, so
    the same pixels and the same SVG. The fonts matching a FontProperties
    (``FontManager._find_fonts_by_props``, a search through rcParams and two cached look-ups per
    family, called for every text drawn or measured) are kept per its fields the same way. And the
    glyphs of a string (``FT2Font._layout``: libraqm's shaping, with the CJK fallback font, the
    largest part of drawing a text besides rasterising it) are found once per font object, its size
    and dpi (as last set by ``set_size``, which every caller does before laying out), the string and
    the load flags, features and language: the draw of the PNG and the SVG lay out every text again
    although a phrase chart's 1,700 texts hold some 700 distinct (string, size) pairs (the bar ends'
    counts, the tick values, a phrase in several steps). The items returned are matplotlib's own;
    its callers load each glyph from them (the SVG) or render it at the item's position (the PNG),
    so nothing else changes. Two of matplotlib's per-glyph loops are replaced, for the same
    duration, by copies that do the same with less: the SVG's text as paths
    (``TextToPath.get_glyphs_with_font``) loads a glyph's outline only when the glyph is first
    defined in the file (matplotlib loads every glyph of every string and reads the outline of new
    ones only), and the PNG's text (``RendererAgg._draw_text_glyphs_and_boxes``) computes a text's
    rotation matrix once instead of once per glyph, by the same expression, and sets a glyph's font
    size only when it differs from the previous glyph's (a DejaVu glyph rendered right after its size
    was set took about twice as long: 37 against 17 µs). All memos live for one
    figure; on a matplotlib other than the pinned one (pyproject.toml), whose internals may differ,
    nothing is changed.
    """
    if matplotlib.__version__ != _MPL_MEMO_VERSION:
        yield
        return
    from matplotlib import text as mtext

    layout = mtext.Text._get_layout
    find = fontManager._find_fonts_by_props  # bound method; an instance attribute shadows it
    layouts: dict = {}
    fonts: dict = {}
    renderers: list = []  # keeps each renderer alive while its id is a key

    def cached_layout(self, renderer):
        key = (id(renderer), self._get_wrapped_text(), _font_key(self._fontproperties), self.get_usetex(),
               self.get_parse_math(), self._linespacing, self._get_multialignment(), self.get_rotation(),
               self._horizontalalignment, self._verticalalignment, self.get_rotation_mode(),
               self.get_figure(root=True).dpi)
        hit = layouts.get(key)
        if hit is None:
            hit = layouts[key] = layout(self, renderer)
            renderers.append(renderer)
        return hit

    def cached_find(prop, *args, **kwargs):
        if not isinstance(prop, FontProperties):
            return find(prop, *args, **kwargs)
        key = (_font_key(prop), args, tuple(sorted(kwargs.items())))
        hit = fonts.get(key)
        if hit is None:
            hit = fonts[key] = find(prop, *args, **kwargs)
        return list(hit)

    from matplotlib.ft2font import FT2Font

    set_size, shape = FT2Font.set_size, FT2Font._layout
    sizes: dict = {}  # id(font) -> (font, the size and dpi last set)
    shaped: dict = {}

    def tracked_set_size(self, ptsize, dpi):
        sizes[id(self)] = (self, ptsize, dpi)
        return set_size(self, ptsize, dpi)

    def cached_shape(self, text, flags, features=None, language=None):
        size = sizes.get(id(self))
        if size is None or size[0] is not self:  # a size set before this figure: not known here
            return shape(self, text, flags, features=features, language=language)
        key = (id(self), size[1], size[2], text, flags, features, language)
        hit = shaped.get(key)
        if hit is None:
            hit = shaped[key] = shape(self, text, flags, features=features, language=language)
        return hit

    from matplotlib.ft2font import LoadFlags
    from matplotlib.textpath import TextToPath

    glyphs_with_font = TextToPath.get_glyphs_with_font
    reprs: dict = {}  # (id(font), glyph index) -> (font, the glyph's id in the SVG)

    def glyphs_loaded_once(self, font, s, glyph_map=None, return_new_glyphs_only=False, *, features=None,
                           language=None):
        # TextToPath.get_glyphs_with_font of matplotlib 3.11.2 (the SVG's text as paths), which loads
        # every glyph of the string (_text_helpers.layout) although it reads the outline only of a
        # glyph not yet defined in the file: here a glyph is loaded only then. The same items (libraqm's
        # layout at the same size), the same ids, the same outlines, in the same order.
        if glyph_map is None:
            glyph_map = OrderedDict()
        glyph_map_new = OrderedDict() if return_new_glyphs_only else glyph_map
        xpositions, ypositions, glyph_reprs = [], [], []
        for item in font._layout(s, LoadFlags.NO_HINTING, features=features, language=language):
            known = reprs.get((id(item.ft_object), item.glyph_index))
            if known is None or known[0] is not item.ft_object:
                known = reprs[id(item.ft_object), item.glyph_index] = (
                    item.ft_object, self._get_glyph_repr(item.ft_object, item.glyph_index))
            glyph_repr = known[1]
            glyph_reprs.append(glyph_repr)
            xpositions.append(item.x)
            ypositions.append(item.y)
            if glyph_repr not in glyph_map:
                item.ft_object.load_glyph(item.glyph_index, flags=LoadFlags.NO_HINTING)
                glyph_map_new[glyph_repr] = item.ft_object.get_path()
        return list(zip(glyph_reprs, xpositions, ypositions, [1.0] * len(xpositions))), glyph_map_new, []

    import math

    from matplotlib.backends.backend_agg import RendererAgg, get_hinting_flag
    from matplotlib.ft2font import RenderMode

    glyphs_and_boxes = RendererAgg._draw_text_glyphs_and_boxes

    def glyphs_one_matrix(self, gc, x, y, angle, glyphs, boxes):
        # RendererAgg._draw_text_glyphs_and_boxes of matplotlib 3.11.2 (the PNG's text), which
        # computes the same rotation matrix with numpy for every glyph of a text: here once per
        # (slant, extend) of the text, by the same expression, so the same integers reach FreeType.
        # It also sets the font size before every glyph, and a DejaVu glyph rendered right after a
        # size was set takes about twice as long (FreeType's hinting set up again): here the size is
        # set when the font or the size differs from the previous glyph's. Nothing between two glyphs
        # changes a font's size (_set_transform, which every glyph calls, sets only the transform),
        # so each glyph is loaded at the same size with the same transform: the same bitmap. Each
        # glyph is placed and rendered as there; the boxes (mathtext, TeX) by the original.
        cos = math.cos(math.radians(angle))
        sin = math.sin(math.radians(angle))
        load_flags = get_hinting_flag()
        antialiased = gc.get_antialiased()
        mode = RenderMode.NORMAL if antialiased else RenderMode.MONO
        height = self.height
        matrices: dict = {}
        sized = None  # the (font, size) last set in this loop
        for font, size, glyph_index, slant, extend, dx, dy in glyphs:  # dy is upwards
            if sized is None or sized[0] is not font or sized[1] != size:
                font.set_size(size, self.dpi)
                sized = (font, size)
            matrix = matrices.get((slant, extend))
            if matrix is None:
                matrix = matrices[slant, extend] = (
                    0x10000 * np.array([[cos, -sin], [sin, cos]]) @ [[extend, extend * slant], [0, 1]]
                ).round().astype(int)
            font._set_transform(matrix, [round(0x40 * (x + dx * cos - dy * sin)),
                                         round(0x40 * (height - y + dx * sin + dy * cos))])
            bitmap = font._render_glyph(glyph_index, load_flags, mode)
            buffer = bitmap.buffer
            if not antialiased:
                buffer *= 0xff
            self._renderer.draw_text_image(buffer, bitmap.left, int(height) - bitmap.top + buffer.shape[0], 0, gc)
        glyphs_and_boxes(self, gc, x, y, angle, (), boxes)

    mtext.Text._get_layout = cached_layout
    fontManager._find_fonts_by_props = cached_find
    FT2Font.set_size, FT2Font._layout = tracked_set_size, cached_shape
    TextToPath.get_glyphs_with_font = glyphs_loaded_once
    RendererAgg._draw_text_glyphs_and_boxes = glyphs_one_matrix
    try:
        yield
    finally:
        mtext.Text._get_layout = layout
        del fontManager._find_fonts_by_props
        FT2Font.set_size, FT2Font._layout = set_size, shape
        TextToPath.get_glyphs_with_font = glyphs_with_font
        RendererAgg._draw_text_glyphs_and_boxes = glyphs_and_boxes


_FONTS_IN_MEMORY: dict = {}  # matplotlib's font look-up's arguments -> its FT2Font, read from memory


@contextmanager
def _fonts_read_from_memory():
    """While a figure is saved, give FreeType each font file's bytes from memory, not from the file.

    matplotlib opens a font (``ft2font.FT2Font``) on a Python file object, and FreeType reads
    whatever it needs of the font through that object: a ``seek`` and a ``read`` (two system calls)
    for each table a glyph touches, every time a glyph is loaded (its outline, its metrics): a fifth
    of ``phrase_figures``' samples under py-spy at 50 MB (docs/performance.md). Given an
    :class:`io.BytesIO` of the same file, FreeType reads the same bytes at the same offsets, at half
    the cost of a glyph's loading. The fonts are found as matplotlib finds them
    (``font_manager.get_font``: the same files, fallbacks and settings, its own code run with the
    file opened in memory) and kept for the process, as matplotlib keeps its own (an
    ``lru_cache``); each draw sets a font's size and transform before using it, so what is drawn
    does not depend on which of the two a text got. On a matplotlib other than the pinned one
    (``_MPL_MEMO_VERSION``), nothing is changed.
    """
    if matplotlib.__version__ != _MPL_MEMO_VERSION:
        yield
        return
    from types import SimpleNamespace

    from matplotlib import font_manager, ft2font

    get_font = font_manager._get_font
    open_fonts = get_font.__wrapped__  # matplotlib's function under its lru_cache

    def in_memory(path, *args, **kwargs):
        return ft2font.FT2Font(io.BytesIO(Path(path).read_bytes()), *args, **kwargs)

    def get_font_in_memory(font_filepaths, **kwargs):
        key = (font_filepaths, tuple(sorted(kwargs.items())))
        font = _FONTS_IN_MEMORY.get(key)
        if font is None:
            font_manager.ft2font = SimpleNamespace(FT2Font=in_memory)  # what open_fonts calls
            try:
                font = _FONTS_IN_MEMORY[key] = open_fonts(font_filepaths, **kwargs)
            finally:
                font_manager.ft2font = ft2font
        return font

    font_manager._get_font = get_font_in_memory
    try:
        yield
    finally:
        font_manager._get_font = get_font


@contextmanager
def _cyclic_gc_paused():
    """Python's cyclic garbage collector off while one chart is built and saved, on again afterwards.

    A chart allocates some hundred thousand container objects (artists, their transforms, paths and
    property dicts, most of them alive until the figure is closed), and every 700 allocations start a
    collection of the young objects, each tenth of those an older generation's: in a phrase chart the
    collector ran through the figure's own live objects again and again, about 8% of the chart's
    CPU. Nothing is freed by those passes that matters while the chart is drawn; what the closed
    figure leaves (its reference cycles) is collected once, by the first collection after this. The
    collector decides nothing that is drawn, so no pixel and no SVG byte changes. Nested uses leave
    it as the outermost found it.
    """
    import gc

    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


@contextmanager
def _bars_without_data_limits(ax):
    """While bars are added to ``ax``, leave its data limits (``ax.dataLim``) as they are.

    Adding a patch extends the axes' data limits by the patch's outline, walked segment by segment
    (``_AxesBase._update_patch_limits``: Bezier extrema, a transform per patch; about a twentieth of a
    phrase chart's CPU, 720 bars). The data limits are read only to scale an axis automatically (and by
    log scales and ``adjustable="datalim"``); the callers set both axes' limits themselves afterwards
    (``set_xlim``, ``set_ylim``, which turn automatic scaling off), on linear scales, so nothing drawn
    depends on them. Only for such axes.
    """
    ax._update_patch_limits = lambda patch: None  # an instance attribute shadows the method
    try:
        yield
    finally:
        del ax._update_patch_limits


_PNG_ROWS = 64  # rows filtered and compressed at a time by _png_bytes (a few MB: the block stays in the CPU cache)


def _png_bytes(rgba, dpi: float) -> bytes:
    """An RGBA image as PNG bytes: 8 bits per channel, each row "up"-filtered, zlib level 3, the dpi in pHYs.

    The PNG standard (ISO/IEC 15948, W3C 2003): signature, IHDR, pHYs (pixels per metre, rounded
    as Pillow rounds them), one IDAT, IEND. Decoded, the same pixels as savefig's PNG (through
    Pillow); the bytes differ. Pillow tries all five row filters on every row and keeps the
    best (its adaptive filtering, the larger part of its time); the "up" filter (each byte minus the
    byte above it) compresses the charts' flat colour areas as well: at level 3 the file is
    within 1% of Pillow's at the same level, encoded in under half the time (a phrase chart of 25
    years: 53 million pixels, 1.26 -> 0.48 s). The rows are filtered and fed to one zlib stream
    :data:`_PNG_ROWS` at a time (the same bytes as compressing the whole at once), so no filtered
    copy of the whole image (200 MB for a phrase chart) is made.

    Parameters
    ----------
    rgba : array of uint8, shape (height, width, 4)
    dpi : float

    Returns
    -------
    bytes
    """
    import struct
    import zlib

    img = np.asarray(rgba, dtype=np.uint8)
    height, width = img.shape[:2]
    flat = img.reshape(height, width * 4)
    block = np.empty((min(_PNG_ROWS, height), width * 4 + 1), dtype=np.uint8)
    block[:, 0] = 2  # filter type 2, "up"; the first row's "above" is zero
    deflate = zlib.compressobj(3)
    parts = []
    for top in range(0, height, _PNG_ROWS):
        rows = block[:min(_PNG_ROWS, height - top)]
        if top == 0:
            rows[0, 1:] = flat[0]
            np.subtract(flat[1:len(rows)], flat[:len(rows) - 1], out=rows[1:, 1:])  # modulo 256, as defined
        else:
            np.subtract(flat[top:top + len(rows)], flat[top - 1:top + len(rows) - 1], out=rows[:, 1:])
        parts.append(deflate.compress(rows.data))
    parts.append(deflate.flush())

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ppm = int(dpi / 0.0254 + 0.5)
    return b"".join([b"\x89PNG\r\n\x1a\n",
                     chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)),
                     chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1)),
                     chunk(b"IDAT", b"".join(parts)), chunk(b"IEND", b"")])


def _pin_empty_axis_labels(fig: Figure) -> None:
    """Give every empty axis label a fixed place (``set_label_coords``) instead of matplotlib's
    automatic one, which measures all the axis's tick labels (and those of the axes sharing it) to
    place the label, at each layout pass and each draw. An empty label draws nothing and takes no
    room in the layout (a zero-size box, left out), so where it sits changes no pixel: in a phrase
    chart the 24 panels' y axes (30 phrase labels each) have no label."""
    for ax in fig.axes:
        if not ax.xaxis.label.get_text():
            ax.xaxis.set_label_coords(0.5, 0.0)
        if not ax.yaxis.label.get_text():
            ax.yaxis.set_label_coords(0.0, 0.5)


def save_figure(fig: Figure, stem: str | Path, dpi: int = _D["figures"]["dpi"]) -> list[Path]:
    """Write ``{stem}.png`` (``dpi``) and ``{stem}.svg`` atomically, without timestamps; close the figure.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    stem : str or Path
    dpi : int

    Returns
    -------
    list of Path
        The PNG and the SVG.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    stem = Path(stem)
    paths = []
    # The PNG in one draw at its dpi that also solves the (constrained) layout, which is then frozen:
    # savefig would solve it in a layout-only draw of its own before each format's real draw (three
    # draws of every text instead of two). What savefig's PNG writer does after its draw (the canvas's
    # RGBA buffer into a PNG) is done here on the same buffer (_png_bytes): the same pixels. Positions are in
    # figure coordinates, so the SVG gets the PNG's layout. Each text is laid out once per renderer
    # (_text_layout_memo).
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    _pin_empty_axis_labels(fig)
    screen_dpi = fig.dpi
    with _cyclic_gc_paused(), _fonts_read_from_memory(), _text_layout_memo():
        fig.dpi = dpi
        try:
            canvas.draw()
            png = _png_bytes(canvas.buffer_rgba(), dpi)
        finally:
            fig.dpi = screen_dpi
        fig.set_layout_engine(None)
        path = stem.with_name(f"{stem.name}.png")
        atomic_write_bytes(path, png)
        paths.append(path)
        with matplotlib.rc_context({"svg.hashsalt": "textdrift"}):
            # written as text, encoded once: given a binary file, matplotlib wraps it in a codecs
            # writer that encodes each of its some 300,000 writes (a phrase chart) one by one
            svg = io.StringIO()
            fig.savefig(svg, format="svg", dpi=dpi, metadata={"Date": None, "Creator": None})
            path = stem.with_name(f"{stem.name}.svg")
            atomic_write_bytes(path, svg.getvalue().encode("utf-8"))
            paths.append(path)
    plt.close(fig)
    return paths


# ---- the charts drawn last, kept ---------------------------------------------------------------


def save_memoized(draw, stem: str | Path, dpi: int, key: str | None, memo_dir: str | Path | None) -> list[Path]:
    """:func:`save_figure` of ``draw()``, unless the chart drawn last from the same ``key`` is kept in
    ``memo_dir``: then its PNG and SVG are copied (the same bytes as a new drawing: a chart's
    drawing depends only on what the key hashes, :func:`chart_key`).

    A chart job draws every language's chart from whole-corpus tables, and adding a document in one
    language rewrites those tables while the other language's rows stay the same; that language's
    chart is then copied, not drawn again (the larger part of the phrase and formulation chart jobs'
    time in that case). A codebook edit rewrites the theme tables with the codebook's new hash; when
    it changes no number, the theme charts (keyed by the columns they read) are copied. The kept files are written after each drawing: ``{memo_dir}/{name}.png``,
    ``.svg``, then ``.key`` (removed first, so that a key never names the files of another
    drawing). Without ``key`` or ``memo_dir`` the chart is drawn.

    Parameters
    ----------
    draw : callable
        Returns the chart's Figure.
    stem : str or Path
        As in :func:`save_figure`.
    dpi : int
    key : str or None
        :func:`chart_key` of what ``draw`` draws.
    memo_dir : str or Path or None
        Where the last drawing of each chart is kept (the rules: ``data/cache/figures``).

    Returns
    -------
    list of Path
        The PNG and the SVG.
    """
    stem = Path(stem)
    if key is None or memo_dir is None:
        with _cyclic_gc_paused():  # the figure built and saved without the collector's passes
            return save_figure(draw(), stem, dpi)
    copied = kept_chart(stem, key, memo_dir)
    if copied is not None:
        return copied
    with _cyclic_gc_paused():
        paths = save_figure(draw(), stem, dpi)
    keep_chart(paths, key, memo_dir)
    return paths


# ---- shared helpers ---------------------------------------------------------------------------


def theme_styles(codebook) -> dict[str, ThemeStyle]:
    """Theme id -> colour, marker and label, fixed by codebook order (see the module docstring).

    Parameters
    ----------
    codebook : list of Theme, list of dict or DataFrame

    Returns
    -------
    dict of str to ThemeStyle
    """
    cb = codebook_frame(codebook)
    styles = {}
    for i, row in enumerate(cb.to_dict("records")):
        other = [v for k, v in row.items() if k.startswith("label_") and k != "label_en" and isinstance(v, str) and v]
        styles[row["id"]] = ThemeStyle(THEME_PALETTE[i % len(THEME_PALETTE)],
                                       MARKERS[(i // len(THEME_PALETTE)) % len(MARKERS)],
                                       row.get("label_en") or row["id"], " ".join(other))
    return styles


def _langs(df: pd.DataFrame, langs: Sequence[str] | None) -> list[str]:
    """Languages to draw: ``langs`` (in that order) if given, else those of the table in order of appearance."""
    present = list(dict.fromkeys(df["lang"])) if len(df) else []
    return list(langs) if langs is not None else present


def _step_label(year_from, year_to) -> str:
    """"2017→2022 (5 y)" for years; "a→b" for named groups (notebook comparisons)."""
    try:
        a, b = int(year_from), int(year_to)
    except (TypeError, ValueError):
        return f"{year_from}→{year_to}"
    return f"{a}→{b} ({b - a} y)"


def missing_years(years: Iterable) -> list[int]:
    """The calendar years between the first and the last of ``years`` that are not among them.

    Parameters
    ----------
    years : iterable of int

    Returns
    -------
    list of int
        Sorted; empty for fewer than two years or named groups (non-integer labels).
    """
    try:
        have = sorted({int(y) for y in years})
    except (TypeError, ValueError):
        return []
    return [y for y in range(have[0], have[-1] + 1) if y not in set(have)] if len(have) > 1 else []


def _gap_label(gap: Sequence[int]) -> str:
    """"2017" or "2018–2021": a run of missing years."""
    return str(gap[0]) if len(gap) == 1 else f"{gap[0]}–{gap[-1]}"


def _runs(years: Sequence[int]) -> list[list[int]]:
    """Runs of consecutive years: [2018, 2019, 2021] -> [[2018, 2019], [2021]]."""
    runs: list[list[int]] = []
    for y in years:
        if runs and y == runs[-1][-1] + 1:
            runs[-1].append(y)
        else:
            runs.append([y])
    return runs


def _mark_gaps(ax, years: Sequence, axis: str = "x", label: bool = True) -> None:
    """A dashed grey rule between two adjacent cells of a year grid (cells at 0, 1, ...) whose years
    are not consecutive, labelled with the missing years under the grid (``axis`` "x": columns,
    "y": rows)."""
    for c in range(1, len(years)):
        try:
            a, b = int(years[c - 1]), int(years[c])
        except (TypeError, ValueError):
            return
        if b - a <= 1:
            continue
        line = ax.axvline if axis == "x" else ax.axhline
        line(c - 0.5, color="#d0d0d0", linewidth=3.2)
        line(c - 0.5, color="#444444", linewidth=1.0, linestyle=(0, (3, 2)))
        if label and axis == "x":
            ax.annotate(f"no text\n{_gap_label(list(range(a + 1, b)))}", (c - 0.5, 0.0),
                        xycoords=("data", "axes fraction"), xytext=(0, -3), textcoords="offset points", ha="center",
                        va="top", fontsize=7.5, color="#333333", annotation_clip=False)


def _label_bottom_panels(axes) -> None:
    """Year labels on the lowest visible panel of every column of a shared-x grid (a hidden panel
    below would otherwise leave the one above it without labels)."""
    grid = np.asarray(axes)
    for col in range(grid.shape[1]):
        shown = [ax for ax in grid[:, col] if ax.get_visible()]
        if shown:
            shown[-1].tick_params(axis="x", labelbottom=True)


def _text_color(rgba) -> str:
    """Black or white, whichever contrasts more with a cell colour (WCAG relative luminance)."""
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in mcolors.to_rgb(rgba))
    return "black" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.179 else "white"


def _cell_colors(values: np.ndarray, cmap, norm) -> np.ndarray:
    """The RGBA colour of every finite cell of a grid (NaN elsewhere), ``cmap(norm(v))`` for all cells
    in one call: the same colour map entries as one call per cell (each value is normalised and
    looked up on its own), without a colour-map call per cell of a heat map."""
    out = np.full((*values.shape, 4), np.nan)
    ok = np.isfinite(values)
    if ok.any():
        out[ok] = cmap(norm(values[ok]))
    return out


def _lang_tokens(freq: pd.DataFrame) -> pd.Series:
    """Kept tokens per (lang, year) from the theme table (one value per pair)."""
    return freq.groupby(["lang", "year"])["tokens"].max()


def _low_data_note(tokens: pd.Series, low_data_tokens: int) -> str:
    low = tokens[tokens < low_data_tokens]
    items = [f"{LANG_NAMES.get(lang, lang)} {year} ({int(n)} tokens)" for (lang, year), n in low.items()]
    return ", ".join(items)


def _no_data(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=10, color="#555555", wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])


# ---- theme trends -----------------------------------------------------------------------------


TREND_LANG_COLORS = ("#CC3311", "#0077BB", "#009988", "#EE7733")  # Paul Tol's "vibrant": one per language
TREND_LANG_MARKERS = ("o", "s", "D", "^")
GENRE_BREAK_COLOR = "#888888"


def year_genres(documents: pd.DataFrame | None, lang: str) -> dict[int, str]:
    """The genres of each year's documents in one language.

    Parameters
    ----------
    documents : DataFrame or None
        ``documents.csv`` (``year``, ``genre`` and ``tokens_{lang}``; every document of the year
        when that column is missing; "unknown" for a missing genre).
    lang : str

    Returns
    -------
    dict of int to str
        {year: the genres of the documents with ``lang`` text that year, sorted, " + "-joined,
        underscores as spaces}; empty without documents.
    """
    if documents is None or documents.empty or "genre" not in documents:
        return {}
    d = documents
    col = f"tokens_{lang}"
    if col in d:
        d = d[pd.to_numeric(d[col], errors="coerce").fillna(0) > 0]
    g = d["genre"].where(d["genre"].notna() & (d["genre"].astype(str) != ""), "unknown").astype(str)
    return {int(y): " + ".join(sorted(set(v.str.replace("_", " ")))) for y, v in g.groupby(d["year"])}


def theme_trends(freq: pd.DataFrame, codebook, langs: Sequence[str] | None = None,
                 low_data_tokens: int = _D["low_data_tokens"], ncols: int = 4,
                 precision: pd.DataFrame | None = None, documents: pd.DataFrame | None = None) -> Figure:
    """Rate per 10,000 tokens of each theme by year, with 95% intervals: one panel per theme, one line per language.

    Each panel has its own y scale (themes differ tenfold in frequency); x is the real year, so
    gaps between available years are visible. The languages differ by colour, marker and line
    style (:data:`TREND_LANG_COLORS`, :data:`TREND_LANG_MARKERS`), named in the legend; the panel
    title names the theme. Points of a (language, year) with fewer than ``low_data_tokens`` tokens
    are hollow, and their intervals (very wide) are cut at the panel top: the y range is set by the
    point estimates and the intervals of the measured years; a low-data rate above it is a hollow
    triangle at the top with its value. Lines join measured years only: they break at a low-data
    year and at a year of the corpus that the language lacks. With ``documents``
    (``documents.csv``), a line is not drawn across a change of genre: two measured years whose
    documents (in that language) are of different genres (:func:`year_genres`) are joined by a
    thin grey dotted line instead, said in the legend, and the genres of each year are listed under
    the chart. With ``precision`` (``codebook_precision.csv``), each panel's title ends with the
    codebook's precision per language on the coded contexts ("precision en 1.00/10").

    Parameters
    ----------
    freq : DataFrame
        ``theme_frequencies.csv``.
    codebook : list of Theme, list of dict or DataFrame
    langs : sequence of str, optional
    low_data_tokens : int
    ncols : int
        Panels per row.
    precision : DataFrame, optional
    documents : DataFrame, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    styles = theme_styles(codebook)
    from textdrift.validation import precision_cells

    coded = precision_cells(precision)
    langs = _langs(freq, langs)
    themes = list(styles)
    tokens = _lang_tokens(freq)
    years = sorted(freq["year"].unique())
    genres = {lang: year_genres(documents, lang) for lang in langs}
    colors = {lang: TREND_LANG_COLORS[i % len(TREND_LANG_COLORS)] for i, lang in enumerate(langs)}
    markers = {lang: TREND_LANG_MARKERS[i % len(TREND_LANG_MARKERS)] for i, lang in enumerate(langs)}
    nrows = -(-len(themes) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.4 * ncols, 2.55 * nrows + 1.6), sharex=True,
                             layout="constrained", squeeze=False)
    offsets = np.linspace(-0.12, 0.12, len(langs)) if len(langs) > 1 else [0.0]
    any_break = False
    for ax, theme in zip(axes.flat, themes):
        st = styles[theme]
        top, lows = 0.0, []
        for li, lang in enumerate(langs):
            d = freq[(freq["theme"] == theme) & (freq["lang"] == lang)].sort_values("year")
            if d.empty:
                continue
            color, marker = colors[lang], markers[lang]
            x = d["year"].to_numpy() + offsets[li]
            low = d["tokens"].to_numpy() < low_data_tokens
            ls = LANG_LINESTYLES[li % len(LANG_LINESTYLES)]
            # a line joins two measured years only: it breaks at a low-data year and across a year
            # that the corpus has but this language lacks (a gap is not a measurement); across a
            # change of genre the two years are joined by a grey dotted line, not the trend line
            # (every calendar year of the span: a missing year of the corpus breaks the line too)
            line_years = list(range(int(d["year"].min()), int(d["year"].max()) + 1))
            line = d.set_index("year")["per_10k"].where(~pd.Series(low, index=d["year"])).reindex(line_years)
            for y_a, y_b in zip(line_years[:-1], line_years[1:]):
                v_a, v_b = line.get(y_a), line.get(y_b)
                if pd.isna(v_a) or pd.isna(v_b):
                    continue
                xs = [y_a + offsets[li], y_b + offsets[li]]
                if genres[lang] and genres[lang].get(int(y_a)) != genres[lang].get(int(y_b)):
                    any_break = True
                    ax.plot(xs, [v_a, v_b], color=GENRE_BREAK_COLOR, linestyle=(0, (1, 2)), linewidth=1.0)
                else:
                    ax.plot(xs, [v_a, v_b], color=color, linestyle=ls, linewidth=1.7)
            # the interval as it is: a bootstrap percentile interval need not be centred on (or even
            # contain) the estimate, so it is drawn from ci_low to ci_high, not as +/- errors
            mid = ((d["ci_low"] + d["ci_high"]) / 2).to_numpy()
            half = ((d["ci_high"] - d["ci_low"]) / 2).to_numpy()
            for mask, face, alpha in ((~low, color, 1.0), (low, "white", 0.35)):
                ax.errorbar(x[mask], mid[mask], yerr=half[mask], fmt="none", ecolor=color,
                            elinewidth=1.0, capsize=2, alpha=alpha)
                ax.plot(x[mask], d["per_10k"].to_numpy()[mask], color=color, linestyle="none", marker=marker,
                        markersize=5.5, markerfacecolor=face, markeredgecolor=color, markeredgewidth=1.4)
            if (~low).any():  # measured years set the scale; a low-data point above it is drawn at the top
                top = max(top, d.loc[~low, "per_10k"].max(), d.loc[~low, "ci_high"].max())
            lows.append((x[low], d["per_10k"].to_numpy()[low], color))
        if top == 0:  # only low-data points: they set the scale
            top = max([float(v.max()) for _, v, _ in lows if len(v)] + [0.0])
        ymax = top * 1.12 if top > 0 else 1.0
        over: dict[int, list] = {}  # low-data rates beyond the scale: a triangle at the top, the values once per year
        for xs, vs, color in lows:
            for xv, v in zip(xs, vs):
                if v > ymax:
                    ax.plot([xv], [ymax], marker="^", markersize=6, color=color, markerfacecolor="white",
                            clip_on=False, linestyle="none")
                    over.setdefault(int(round(xv)), []).append((xv, v))
        for pts in over.values():
            values = "/".join(dict.fromkeys(f"{v:.0f}" for _, v in pts))
            ax.annotate(values, (float(np.mean([xv for xv, _ in pts])), ymax), xytext=(0, -11),
                        textcoords="offset points", ha="center", fontsize=6.5, color="#555555")
        ax.set_ylim(0, ymax)
        prec = " · ".join(f"{lang} {coded[(theme, lang)][0]:.2f}/{coded[(theme, lang)][1]}" for lang in langs
                          if (theme, lang) in coded)
        ax.set_title(f"{textwrap.fill(st.label_en, 32)}\n{st.label_other}".strip()
                     + (f"\nprecision {prec}" if prec else ""), fontsize=9)
        ax.tick_params(labelsize=8)
        ax.grid(axis="y", color="#e6e6e6", linewidth=0.6)
        ax.set_axisbelow(True)
    for ax in axes.flat[len(themes):]:
        ax.set_visible(False)
    gaps = missing_years(years)
    for ax in axes.flat[:len(themes)]:  # a year with no text: a grey band, no line across it
        for y in gaps:
            ax.axvspan(y - 0.5, y + 0.5, color="#eeeeee", linewidth=0, zorder=0)
    _label_bottom_panels(axes)
    for ax in axes[:, 0]:
        ax.set_ylabel("per 10,000 tokens", fontsize=8)
    if years:
        axes.flat[0].set_xlim(min(years) - 0.6, max(years) + 0.6)
        span = list(range(int(min(years)), int(max(years)) + 1))  # calendar years: evenly spaced labels
        axes.flat[0].set_xticks(span[:: -(-len(span) // 10)])  # at most 10 labelled years per panel
        for ax in axes.flat:
            ax.tick_params(axis="x", labelrotation=45)
    handles = [Line2D([], [], color=colors[lang], linestyle=LANG_LINESTYLES[i % len(LANG_LINESTYLES)],
                      marker=markers[lang], markersize=6, label=lang_name(lang)) for i, lang in enumerate(langs)]
    handles.append(Line2D([], [], color="#333333", linewidth=1.0, marker="|", markersize=8,
                          label="95% interval"))
    if gaps:
        handles.append(Line2D([], [], color="#eeeeee", linewidth=8,
                              label=f"no text: {', '.join(_gap_label(r) for r in _runs(gaps))} (no line across)"))
    if any_break:
        handles.append(Line2D([], [], color=GENRE_BREAK_COLOR, linestyle=(0, (1, 2)), linewidth=1.0,
                              label="genre changes between the two years: not a trend line"))
    note = _low_data_note(tokens, low_data_tokens)
    if note:
        handles.append(Line2D([], [], linestyle="none", marker="o", markerfacecolor="white", markeredgecolor="#333333",
                              label=textwrap.fill(f"hollow = low data (< {low_data_tokens} tokens; faint interval, "
                                                  f"cut at the panel top): {note}", 80)))
    title = None
    if any(genres.values()):  # the genres of each year, as the legend's title (the layout makes room for it)
        by_year = []
        one = {g for lang in langs for g in genres[lang].values()}
        for y in years if len(one) > 1 else []:
            parts = {lang: genres[lang].get(int(y)) for lang in langs if genres[lang].get(int(y))}
            if len(set(parts.values())) == 1:
                by_year.append(f"{y} {next(iter(parts.values()))}")
            elif parts:
                by_year.append(f"{y} " + ", ".join(f"{g} ({lang})" for lang, g in parts.items()))
        title = textwrap.fill("Genres: " + (" · ".join(by_year) if by_year else f"{next(iter(one))} (every year)"),
                              160)
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 3), fontsize=8, frameon=False,
               title=title, title_fontsize=8)
    fig.suptitle("Theme frequency per 10,000 tokens by year and language, with 95% intervals "
                 "(one panel per theme, own y scale)", fontsize=11)
    return fig



# ---- theme heat map ---------------------------------------------------------------------------


def _theme_key(ax, styles: dict[str, ThemeStyle]) -> None:
    """A column of theme markers labelled with the theme names (the y axis of a theme x year grid)."""
    themes = list(styles)
    for i, theme in enumerate(themes):
        ax.plot(0, i, marker=styles[theme].marker, color=styles[theme].color, markersize=9)
    ax.set_ylim(len(themes) - 0.5, -0.5)
    ax.set_xlim(-0.5, 0.5)
    ax.set_yticks(range(len(themes)), [styles[t].label for t in themes], fontsize=9)
    ax.set_xticks([])
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)


def theme_heatmap(freq: pd.DataFrame, codebook, langs: Sequence[str] | None = None,
                  low_data_tokens: int = _D["low_data_tokens"], max_row_years: int = 16) -> Figure:
    """Year x theme rate per 10,000 tokens, one panel per language, values written in the cells.

    One colour scale for all panels (viridis, square-root from 0 (or from the smallest rate when
    every rate exceeds a quarter of the largest) to the largest rate, so the
    many small rates stay distinguishable; the numbers are written anyway). Column labels carry the
    year and its token count; low-data columns are hatched and labelled "low data"; between two
    columns whose years are not consecutive a dashed rule, with the missing years under it. The theme
    key on the left shows each theme's colour and marker as in the other charts. The language
    panels sit side by side, or one above the other when together they have more than
    ``max_row_years`` year columns (so a corpus over decades does not make a metre-wide chart).

    Parameters
    ----------
    freq : DataFrame
        ``theme_frequencies.csv``.
    codebook : list of Theme, list of dict or DataFrame
    langs : sequence of str, optional
    low_data_tokens : int
    max_row_years : int

    Returns
    -------
    matplotlib.figure.Figure
    """
    styles = theme_styles(codebook)
    themes = list(styles)
    langs = [lang for lang in _langs(freq, langs) if (freq["lang"] == lang).any()]
    tokens = _lang_tokens(freq)
    ncols = [max(1, freq.loc[freq["lang"] == lang, "year"].nunique()) for lang in langs]
    stacked = sum(ncols) > max_row_years and len(langs) > 1
    if stacked:
        fig = plt.figure(figsize=(5.4 + 0.8 * max(ncols), (0.42 * len(themes) + 1.9) * len(langs) + 0.8),
                         layout="constrained")
        gs = fig.add_gridspec(len(langs), 2, width_ratios=[0.45, max(ncols)])
        cells = [gs[j, 1] for j in range(len(langs))]
        keys = [fig.add_subplot(gs[j, 0]) for j in range(len(langs))]
    else:
        fig = plt.figure(figsize=(4.2 + 1.0 * sum(ncols) + 1.2 * len(langs), 0.42 * len(themes) + 2.4),
                         layout="constrained")
        gs = fig.add_gridspec(1, len(langs) + 1, width_ratios=[0.35, *ncols])
        cells = [gs[0, j + 1] for j in range(len(langs))]
        keys = [fig.add_subplot(gs[0, 0])] * len(langs)
    for key in dict.fromkeys(keys):
        _theme_key(key, styles)
    vmax = float(freq["per_10k"].max()) if len(freq) else 1.0
    vmin = float(freq["per_10k"].min()) if len(freq) else 0.0
    # from 0, unless every rate is above a quarter of the largest: then from the smallest (the data's range)
    norm = mcolors.PowerNorm(0.5, vmin if vmin > 0.25 * vmax else 0, vmax if vmax > 0 else 1.0)
    cmap = plt.get_cmap(HEAT_CMAP)
    image = None
    panels = []
    for j, lang in enumerate(langs):
        ax = fig.add_subplot(cells[j], sharey=keys[j])
        panels.append(ax)
        d = freq[freq["lang"] == lang]
        years = sorted(d["year"].unique())
        grid = d.pivot_table(index="theme", columns="year", values="per_10k", aggfunc="first").reindex(
            index=themes, columns=years)
        values = grid.to_numpy(dtype=float)
        image = ax.imshow(values, cmap=cmap, norm=norm, aspect="auto")
        shades = _cell_colors(values, cmap, norm)
        for (r, c), v in np.ndenumerate(values):
            if np.isfinite(v):
                ax.text(c, r, f"{v:.0f}", ha="center", va="center", fontsize=8.5, color=_text_color(shades[r, c]))
        labels = []
        for c, year in enumerate(years):
            n = int(tokens.get((lang, year), 0))
            low = n < low_data_tokens
            labels.append(f"{year}\n{n} tok." + ("\nlow data" if low else ""))
            if low:
                ax.add_patch(Rectangle((c - 0.5, -0.5), 1, len(themes), fill=False, hatch="//", hatchcolor=(1, 1, 1, 0.35),
                                       linewidth=0))
        ax.set_xticks(range(len(years)), labels, fontsize=8.5)
        ax.xaxis.tick_top()
        ax.tick_params(axis="y", left=False, labelleft=False)
        ax.set_title(lang_name(lang), fontsize=10)
        _mark_gaps(ax, years)  # a missing year: a dashed rule between its neighbours, named below
    if image is not None:
        fig.colorbar(image, ax=panels, label="per 10,000 tokens (square-root colour scale)", shrink=0.6, aspect=30)
    fig.suptitle("Theme frequency per 10,000 tokens: theme x year, per language (one colour scale)", fontsize=11)
    return fig


# ---- drift ------------------------------------------------------------------------------------


def drift_chart(drift: pd.DataFrame, baseline: pd.DataFrame, langs: Sequence[str] | None = None,
                max_row_steps: int = 8) -> Figure:
    """Cosine distance (top row) and Jensen-Shannon divergence (bottom row) of consecutive years, per language.

    One bar per step, labelled with its gap in years; beside it the split-half baseline of the
    earlier year (left marker) and the later year (right marker): mean with the 5th-95th
    percentile range (``tfidf_baseline.csv``), i.e. how far a year is from itself. A black tick on
    the bar marks the cross-year half distance (``halves_cosine``/``halves_jsd`` of
    ``tfidf_drift.csv``, when present): halves of the two years compared, the same length as the
    baseline halves, so it can be read directly against the diamonds. Steps flagged
    ``low_data`` are hatched and labelled. Both measures lie in [0, 1]. With more than
    ``max_row_steps`` steps in all (one language or several), the panels are stacked (cosine and
    JSD rows of each language one below the other, each with its y-axis label) and the steps drawn
    narrower with upright labels, so a corpus over decades keeps a readable width.

    Parameters
    ----------
    drift : DataFrame
        ``tfidf_drift.csv``.
    baseline : DataFrame
        ``tfidf_baseline.csv``.
    langs : sequence of str, optional
        Default: those of ``drift``.
    max_row_steps : int

    Returns
    -------
    matplotlib.figure.Figure
    """
    langs = _langs(pd.concat([drift[["lang"]], baseline[["lang"]]]), langs)
    metrics = [("cosine", "cosine_distance", "cosine distance\n(1 − cosine similarity, TF-IDF)"),
               ("jsd", "jsd", "Jensen–Shannon divergence\n(bits, term frequencies)")]
    ncol = max(1, len(langs))
    widths = [max(1, int((drift["lang"] == lang).sum())) + 0.6 for lang in langs] or [1]
    stacked = sum(widths) - 0.6 * len(widths) > max_row_steps
    if stacked:  # rows: (lang 1 cosine, lang 1 JSD, lang 2 cosine, ...), one column
        fig, grid = plt.subplots(2 * ncol, 1, figsize=(max(7.0, 0.62 * max(widths) + 2.0), 3.3 * 2 * ncol + 1.6),
                                 sharey=True, layout="constrained", squeeze=False)
        axes = np.array([[grid[2 * j + r, 0] for j in range(ncol)] for r in range(2)])
    else:
        fig, axes = plt.subplots(2, ncol, figsize=(max(7.0, 2.1 * sum(widths) + 1.5), 7.4), sharey=True,
                                 layout="constrained", squeeze=False, gridspec_kw={"width_ratios": widths})
    base = baseline.set_index(["lang", "year"]) if len(baseline) else None
    for j, lang in enumerate(langs):
        d = drift[drift["lang"] == lang].sort_values("year_from").reset_index(drop=True)
        for r, (key, col, ylabel) in enumerate(metrics):
            ax = axes[r, j]
            if r == 0 or stacked:
                ax.set_title(lang_name(lang), fontsize=10)
            if j == 0 or stacked:
                ax.set_ylabel(ylabel, fontsize=9)
            ax.tick_params(axis="y", labelleft=True)  # every panel its own y labels (shared scale)
            if d.empty:
                _no_data(ax, "fewer than two years\nwith text: no step")
                continue
            x = np.arange(len(d))
            low = d["low_data"].astype(str).str.lower().eq("true").to_numpy()
            for i in x:
                ax.bar(i, d.loc[i, col], width=0.42, color=METRIC_COLORS[key], alpha=0.45 if low[i] else 1.0,
                       hatch="//" if low[i] else None, edgecolor=METRIC_COLORS[key])
                ax.text(i, d.loc[i, col] + 0.02, f"{d.loc[i, col]:.2f}", ha="center", va="bottom",
                        fontsize=7 if stacked else 8.5)
                for dx, year in ((-0.33, d.loc[i, "year_from"]), (0.33, d.loc[i, "year_to"])):
                    _draw_baseline(ax, i + dx, base, lang, year, key)
                halves = d.loc[i, f"halves_{key}"] if f"halves_{key}" in d else np.nan
                if np.isfinite(halves):  # same length as the baseline halves: the fair comparison
                    ax.plot(i, halves, marker="_", markersize=26, markeredgewidth=2.5, color=HALVES_COLOR)
            ax.set_xticks(x, [_step_label(a, b) + ("\nlow data" if lw else "") for a, b, lw in
                              zip(d["year_from"], d["year_to"], low)], fontsize=8.5,
                          rotation=90 if stacked else 0)
            ax.set_xlim(-0.6, len(d) - 0.4)
            ax.grid(axis="y", color="#e6e6e6", linewidth=0.6)
            ax.set_axisbelow(True)
    axes[0, 0].set_ylim(0, 1.08)
    handles = [Patch(color=METRIC_COLORS["cosine"], label="cosine distance between the two years"),
               Patch(color=METRIC_COLORS["jsd"], label="JSD between the two years"),
               Patch(facecolor="white", edgecolor="#777777", hatch="//", label="low data (a year below low_data_tokens)"),
               Line2D([], [], color=BASELINE_COLOR, marker="D", linestyle="none", markersize=5,
                      label="split-half baseline of the earlier (left) / later (right) year: mean, 5–95% range"),
               Line2D([], [], color=HALVES_COLOR, marker="_", linestyle="none", markersize=14, markeredgewidth=2.5,
                      label="cross-year halves: a half of each year compared (same length as the baseline halves)")]
    fig.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=8.5, frameon=False)
    fig.suptitle("Vocabulary drift between consecutive available years (0 = same, 1 = nothing shared), "
                 "with each year's split-half baseline", fontsize=11)
    return fig


def _draw_baseline(ax, x: float, base: pd.DataFrame | None, lang: str, year: int, key: str) -> None:
    row = base.loc[(lang, year)] if base is not None and (lang, year) in base.index else None
    mean = row[f"{key}_mean"] if row is not None else np.nan
    if not np.isfinite(mean):
        ax.text(x, 0.02, "no\nbaseline", ha="center", va="bottom", fontsize=6.5, color=BASELINE_COLOR, rotation=90)
        return
    err = [[mean - row[f"{key}_p05"]], [row[f"{key}_p95"] - mean]]
    ax.errorbar(x, mean, yerr=err, fmt="D", color=BASELINE_COLOR, markersize=4, capsize=2, elinewidth=1)


# ---- similarity -------------------------------------------------------------------------------


def similarity_matrix(similarity: pd.DataFrame, baseline: pd.DataFrame | None = None,
                      langs: Sequence[str] | None = None, low_data_tokens: int = _D["low_data_tokens"]) -> Figure:
    """Year x year cosine similarity of the TF-IDF year vectors, one panel per language, annotated.

    With ``baseline`` (``tfidf_baseline.csv``: lang, year, tokens) the year labels carry the
    token count and years below ``low_data_tokens`` are marked "low data". The colour scale runs
    over the similarities between two different years (rounded out to 0.05), one scale for all
    panels; the diagonal (1 by definition) is grey; the values are written in the cells up to :data:`ANNOTATE_MAX_YEARS` years (the
    font shrinks with the cells). Two adjacent years that are not consecutive are parted by a
    dashed rule, and the title names the missing years.

    Parameters
    ----------
    similarity : DataFrame
        ``tfidf_similarity.csv``.
    baseline : DataFrame, optional
    langs : sequence of str, optional
    low_data_tokens : int

    Returns
    -------
    matplotlib.figure.Figure
    """
    langs = _langs(similarity, langs)
    tokens = baseline.set_index(["lang", "year"])["tokens"] if baseline is not None and len(baseline) else None
    sizes = [max(1, similarity.loc[similarity["lang"] == lang, "year_a"].nunique()) for lang in langs] or [1]
    # about 1.1 in per year up to 8 years; beyond that the panel stays about 9 in tall, and cells
    # get no numbers above ANNOTATE_MAX_YEARS (unreadable; the values are in tfidf_similarity.csv)
    cell = 1.1 if max(sizes) <= 8 else max(0.3, 9.0 / max(sizes))
    fig, axes = plt.subplots(1, max(1, len(langs)), figsize=(cell * sum(sizes) + 2.6 * len(sizes), cell * max(sizes) + 2.4),
                             layout="constrained", squeeze=False, gridspec_kw={"width_ratios": sizes})
    # the colour scale follows the data: the similarities between two different years, rounded out
    # to 0.05 (the diagonal, 1 by definition, is grey), so the differences between years are not
    # all one colour
    off = similarity.loc[similarity["year_a"] != similarity["year_b"], "cosine_similarity"].astype(float)
    off = off[np.isfinite(off)]
    vmin = min(0.95, np.floor(float(off.min()) * 20) / 20) if len(off) else 0.0
    vmax = max(vmin + 0.05, min(1.0, np.ceil(float(off.max()) * 20) / 20)) if len(off) else 1.0
    norm = mcolors.Normalize(vmin, vmax)
    cmap = plt.get_cmap(HEAT_CMAP).with_extremes(over="#d9d9d9")
    image = None
    gaps = {}
    for ax, lang in zip(axes[0], langs):
        ax.set_title(lang_name(lang), fontsize=10)
        d = similarity[similarity["lang"] == lang]
        if d.empty:
            _no_data(ax, "no year with text")
            continue
        years = sorted(set(d["year_a"]) | set(d["year_b"]))
        grid = d.pivot_table(index="year_a", columns="year_b", values="cosine_similarity", aggfunc="first").reindex(
            index=years, columns=years).to_numpy(dtype=float)
        diagonal = np.eye(len(years), dtype=bool)
        image = ax.imshow(np.where(diagonal, vmax + 1.0, grid), cmap=cmap, norm=norm)
        many = len(years) > 12  # year labels without token counts (those are in the theme heat map)
        if len(years) <= ANNOTATE_MAX_YEARS:
            size = min(9.0, 13.0 * cell)
            shades = _cell_colors(np.where(diagonal, np.nan, grid), cmap, norm)
            for (r, c), v in np.ndenumerate(grid):
                if np.isfinite(v):
                    ax.text(c, r, "1" if r == c else f"{v:.2f}", ha="center", va="center", fontsize=size,
                            color="black" if r == c else _text_color(shades[r, c]))
        labels = []
        for y in years:
            n = tokens.get((lang, y)) if tokens is not None else None
            if n is None or many:
                labels.append(str(y) + ("*" if n is not None and n < low_data_tokens else ""))
            else:
                labels.append(f"{y}\n({int(n)} tok.)" + ("\nlow data" if n < low_data_tokens else ""))
        ax.set_xticks(range(len(years)), labels, fontsize=8.5, rotation=90 if many else 0)
        ax.set_yticks(range(len(years)), [lb.replace("\n", " ") for lb in labels], fontsize=8.5)
        for axis in ("x", "y"):  # a missing year: dashed rules between its neighbours
            _mark_gaps(ax, years, axis, label=False)
        gaps[lang] = missing_years(years)
    if image is not None:
        fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8,
                     label=f"cosine similarity of TF-IDF vectors between two years\n(scale {vmin:.2f}–{vmax:.2f}, "
                           "the data's range; the diagonal, 1, in grey)")
    title = "Year x year similarity of vocabulary (cosine of TF-IDF year vectors)"
    notes = []
    if any(similarity.loc[similarity["lang"] == lang, "year_a"].nunique() > ANNOTATE_MAX_YEARS for lang in langs):
        notes.append("values in tfidf_similarity.csv")
    if any(similarity.loc[similarity["lang"] == lang, "year_a"].nunique() > 12 for lang in langs) and (
            tokens is not None and (tokens < low_data_tokens).any()):
        notes.append(f"* = low data, under {low_data_tokens} tokens")
    if any(gaps.values()):
        same = len({tuple(g) for g in gaps.values()}) == 1
        notes.append("dashed rule: " + "; ".join(
            f"no {'' if same else LANG_NAMES.get(lang, lang) + ' '}text in "
            f"{', '.join(_gap_label(r) for r in _runs(g))}" for lang, g in gaps.items() if g and (
                not same or lang == next(iter(gaps)))))
    if notes:
        title += f"\n({'; '.join(notes)})"
    fig.suptitle(title, fontsize=11)
    return fig


# ---- phrases ----------------------------------------------------------------------------------


def step_ranking(step: pd.DataFrame, q_threshold: float = _D["phrases"]["q_threshold"],
                 steps: pd.DataFrame | None = None) -> str:
    """How a step of ``phrase_changes.csv`` is ranked (``ranking`` of ``phrase_steps.csv``).

    The step's row of ``steps`` (``phrase_steps.csv``) when given and found; else the same rule
    applied to the step's phrases: ``insufficient`` when their status is ``insufficient`` (a year
    under the low-data threshold), ``test`` when a phrase has q <= ``q_threshold`` (or the table has
    no q), else ``exploratory`` (nothing can be called: the phrases are ordered by ``effect_rank``).

    Parameters
    ----------
    step : DataFrame
        The rows of one step (lang, year_from, year_to) of ``phrase_changes.csv``.
    q_threshold : float
        Config ``phrases.q_threshold``.
    steps : DataFrame, optional
        ``phrase_steps.csv``.

    Returns
    -------
    str
        ``test``, ``exploratory`` or ``insufficient``.
    """
    if steps is not None and len(step) and "ranking" in steps:
        r = steps[(steps["lang"] == step["lang"].iloc[0]) & (steps["year_from"] == step["year_from"].iloc[0])
                  & (steps["year_to"] == step["year_to"].iloc[0])]
        if len(r) and pd.notna(r["ranking"].iloc[0]):
            return str(r["ranking"].iloc[0])
    if len(step) and (step["status"] == "insufficient").all():
        return "insufficient"
    if "q" not in step or not step["q"].notna().any():  # no q to decide on: by z, as the table is sorted
        return "test"
    return "test" if float(step["q"].min()) <= q_threshold else "exploratory"


def _exploratory(step: pd.DataFrame, ranking: str) -> bool:
    """Whether a step is drawn by its exploratory effect (the table has the effect columns)."""
    return ranking == "exploratory" and {"effect", "effect_low", "effect_high", "effect_rank"} <= set(step.columns)


def _phrase_panel(ax, step: pd.DataFrame, k: int, q_threshold: float, low_data_tokens: int,
                  ranking: str = "test") -> None:
    """Diverging bars for one step, each labelled with its counts. A ``test`` step: z, top-k positive
    z (top), top-k negative z (bottom), q at the bar ends. An ``exploratory`` step (no phrase reaches
    q <= ``q_threshold``): the effect (log rate ratio) of the top-k on each side by ``effect_rank``
    with its interval (whiskers), the panel labelled exploratory. An ``insufficient`` step (a year
    under the low-data threshold) shows no bars, only why."""
    explore = _exploratory(step, ranking)
    if explore:
        up = step[step["effect"] > 0].nsmallest(k, "effect_rank")
        down = step[step["effect"] < 0].nsmallest(k, "effect_rank").iloc[::-1]
        value = "effect"
    else:
        up = step[step["z"] > 0].nlargest(k, "z")
        down = step[step["z"] < 0].nsmallest(k, "z").iloc[::-1]
        value = "z"
    rows = pd.concat([up, down], ignore_index=True)
    year_from, year_to = step["year_from"].iloc[0], step["year_to"].iloc[0]
    uni = step[step["n"] == 1]
    totals = (int(uni["total_from"].iloc[0]), int(uni["total_to"].iloc[0])) if len(uni) else None
    title = _step_label(year_from, year_to)
    if totals is not None:
        title += f"\ntokens: {totals[0]} → {totals[1]}"
        low = [str(y) for y, n in zip((year_from, year_to), totals) if n < low_data_tokens]
        if low:
            title += f"  (low data: {', '.join(low)})"
    if explore and not rows.empty:
        title += f"\nexploratory: no phrase reaches q ≤ {q_threshold:g}; ranked by effect"
    # at the top of the axes (y=1), where matplotlib's automatic placement leaves it unless ticks, an
    # x label or an offset text sit above the axes, which this panel never has; automatic placement
    # lays out every phrase label again for each title in each draw (about a fifth of the chart's time)
    ax.set_title(title, fontsize=9.5, y=1.0)
    if rows.empty:
        _no_data(ax, "no phrase tested in this step")
        return
    if ranking == "insufficient" or (step["status"] == "insufficient").all():
        _no_data(ax, f"insufficient data: fewer than {low_data_tokens} tokens\nin a year of this step;"
                     "\nno phrase is called rising or falling")
        return
    dup = rows["display"].duplicated(keep=False)
    labels = [f"{d} ({n}-gram)" if is_dup else str(d) for d, n, is_dup in zip(rows["display"], rows["n"], dup)]
    y = np.arange(len(rows))
    # where each bar's label starts: the bar's end, or the end of its interval (exploratory)
    if explore:
        ends = np.where(rows["effect"] > 0, rows["effect_high"], rows["effect_low"]).astype(float)
        ends = np.where(rows["effect"] > 0, np.maximum(ends, rows["effect"]), np.minimum(ends, rows["effect"]))
    else:
        ends = rows["z"].to_numpy(float)
    # the bars in one call per hatch (bars never overlap: the same picture as one call per bar, a
    # fraction of the artists' bookkeeping), the whiskers in one call
    vals = rows[value].to_numpy(float)
    status = rows["status"].astype(str).to_numpy()
    hatches = np.array([STATUS_HATCH.get(st, "") for st in status], dtype=object)
    with _bars_without_data_limits(ax):  # both limits are set below
        for hatch in dict.fromkeys(hatches.tolist()):
            on = hatches == hatch
            ax.barh(y[on], vals[on], height=0.72, color=[STATUS_COLORS.get(st, "#BBBBBB") for st in status[on]],
                    hatch=hatch or None, edgecolor="white" if hatch else None, linewidth=0)
    if explore:
        ax.errorbar(vals, y, xerr=[vals - rows["effect_low"].to_numpy(float), rows["effect_high"].to_numpy(float) - vals],
                    fmt="none", ecolor="#333333", elinewidth=0.8, capsize=2)
    labels_at = [_count_label(r, with_q=not explore) for r in rows.to_dict("records")]
    from matplotlib.transforms import ScaledTranslation

    # 4 points clear of the whisker's cap, whatever the scale (plain text with an offset transform
    # rather than annotations: the same place, without an annotation's per-draw bookkeeping)
    shift = {side: ax.transData + ScaledTranslation(side * 4 / 72, 0, ax.figure.dpi_scale_trans) for side in (1, -1)}
    for i, (v, text) in enumerate(zip(vals, labels_at)):
        if explore:
            ax.text(ends[i], i, text, transform=shift[1 if v > 0 else -1], ha="left" if v > 0 else "right",
                    va="center", fontsize=7, color="#333333")
        else:
            ax.text(ends[i] + (0.08 if v > 0 else -0.08), i, text,
                    ha="left" if v > 0 else "right", va="center", fontsize=7, color="#333333")
    ax.set_yticks(y, labels, fontsize=8.5)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    vmax = float(np.abs(ends).max())
    if explore:  # an interval may cross zero to the other side
        vmax = max(vmax, float(rows[["effect_low", "effect_high"]].abs().max().max()))
    # room for the count labels beyond the longest bar: label width / axes width, both estimated from
    # character counts (a 6.2-inch panel less its phrase labels; wide CJK characters count double)
    def width(text: str, inch_per_char: float) -> float:
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text) * inch_per_char

    axes_in = max(1.5, ax.figure.get_size_inches()[0] / max(1, ax.get_gridspec().ncols) - 0.5
                  - max(width(lb, 0.066) for lb in labels))
    count_in = max(width(text, 0.055) for text in labels_at) + 0.08
    pad = 0.1 if explore else 0.3
    lim = max(vmax * 1.25 + pad, vmax / max(0.3, 1 - 2 * count_in / axes_in))
    ax.set_xlim(-lim, lim)
    ax.axvline(0, color="#333333", linewidth=0.8)
    if len(up) and len(down):
        ax.axhline(len(up) - 0.5, color="#bbbbbb", linewidth=0.6)
    if explore:
        ax.set_xlabel(f"effect: log rate ratio {year_to}/{year_from} with interval (> 0: more in {year_to})",
                      fontsize=8.5)
    else:
        ax.set_xlabel(f"log-odds z (> 0: more frequent in {year_to}, per n-gram of the same order)", fontsize=8.5)
    ax.tick_params(axis="x", labelsize=8)


def _count_label(r, with_q: bool = True) -> str:
    """Counts before → after and (``with_q``) the Benjamini-Hochberg q-value of a phrase (bar-end label):
    two significant digits, ``q<0.001`` below that (never ``q=0.00``)."""
    q = r.get("q", np.nan)
    if not with_q or pd.isna(q):
        return f"{int(r['count_from'])}→{int(r['count_to'])}"
    return f"{int(r['count_from'])}→{int(r['count_to'])}, " + ("q<0.001" if q < 0.001 else f"q={q:.2g}")


def _phrase_legend(fig: Figure, q_threshold: float, ncols: int = 6, exploratory: bool = False) -> None:
    """The status colours; with ``exploratory``, the interval whiskers of the exploratory panels too."""
    handles = [Patch(color=STATUS_COLORS["rising"], label=f"rising (q ≤ {q_threshold:g})"),
               Patch(facecolor=STATUS_COLORS["new"], hatch="///", edgecolor="white", label="new (absent before)"),
               Patch(color=STATUS_COLORS["falling"], label=f"falling (q ≤ {q_threshold:g})"),
               Patch(facecolor=STATUS_COLORS["gone"], hatch="///", edgecolor="white", label="gone (absent after)"),
               Patch(color=STATUS_COLORS["stable"], label=f"stable (q > {q_threshold:g}, Benjamini-Hochberg)")]
    if exploratory:
        handles.append(Line2D([], [], color="#333333", linewidth=0.8, marker="|", markersize=6,
                              label="interval of the effect (exploratory panels)"))
    fig.legend(handles=handles, loc="outside lower center", ncols=ncols, fontsize=8.5, frameon=False)


def phrase_bars(phrases: pd.DataFrame, lang: str, year_from: int, year_to: int, k: int = _D["figures"]["phrase_k"],
                q_threshold: float = _D["phrases"]["q_threshold"],
                low_data_tokens: int = _D["low_data_tokens"], steps: pd.DataFrame | None = None) -> Figure:
    """Top-k rising and top-k falling phrases of one step, as diverging bars; counts at the bar ends.

    By z when the step's ranking (:func:`step_ranking`) is ``test``; by ``effect_rank`` when it is
    ``exploratory`` (no phrase reaches q <= ``q_threshold``): bars = the effect (log rate ratio)
    with its interval, and the panel says so.

    Parameters
    ----------
    phrases : DataFrame
        ``phrase_changes.csv``.
    lang : str
    year_from, year_to : int
        The step.
    k : int
    q_threshold : float
    low_data_tokens : int
    steps : DataFrame, optional
        ``phrase_steps.csv`` (its ``ranking``; without it the ranking is derived from the phrases).

    Returns
    -------
    matplotlib.figure.Figure
    """
    step = phrases[(phrases["lang"] == lang) & (phrases["year_from"] == year_from) & (phrases["year_to"] == year_to)]
    fig, ax = plt.subplots(figsize=(7.5, 0.24 * 2 * k + 2.2), layout="constrained")
    explore = False
    if step.empty:
        ax.set_title(_step_label(year_from, year_to), fontsize=9.5)
        _no_data(ax, "no phrase tested in this step")
    else:
        ranking = step_ranking(step, q_threshold, steps)
        explore = _exploratory(step, ranking)
        _phrase_panel(ax, step, k, q_threshold, low_data_tokens, ranking)
    _phrase_legend(fig, q_threshold, ncols=3, exploratory=explore)
    what = ("bars: effect, the log rate ratio under a weak prior, with its interval; exploratory, not a test"
            if explore else "bars: weighted log-odds z, Monroe et al. 2008; colour: q of the test between "
            "documents or paragraphs, phrase_steps.csv")
    fig.suptitle(f"{lang_name(lang)}: phrases that rose and fell most, {year_from}→{year_to}\n({what})", fontsize=11)
    return fig


def phrase_steps(phrases: pd.DataFrame, lang: str, k: int = _D["figures"]["phrase_k"],
                 q_threshold: float = _D["phrases"]["q_threshold"],
                 low_data_tokens: int = _D["low_data_tokens"], max_cols: int = _D["figures"]["phrase_cols"],
                 steps: pd.DataFrame | None = None) -> Figure:
    """:func:`phrase_bars` for every step of one language, one panel per step, at most ``max_cols``
    per row: a corpus of many years gets more rows, never fewer steps. Each panel is ranked as its
    step is (:func:`step_ranking`): by z, or by the exploratory effect with its interval.

    Parameters
    ----------
    phrases : DataFrame
        ``phrase_changes.csv``.
    lang : str
    k, q_threshold, low_data_tokens
        As in :func:`phrase_bars`.
    max_cols : int
        Panels per row (config ``figures.phrase_cols``).
    steps : DataFrame, optional
        As in :func:`phrase_bars`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    d = phrases[phrases["lang"] == lang]
    pairs = list(d[["year_from", "year_to"]].drop_duplicates().sort_values("year_from").itertuples(index=False))
    ncols = max(1, min(len(pairs), max_cols))
    nrows = max(1, -(-len(pairs) // ncols))
    # rows of bars; only notes (every step has too little data, or none): short rows
    bars = len(d) and not (d["status"] == "insufficient").all()
    fig, axes = plt.subplots(nrows, ncols, figsize=(6.2 * ncols, ((0.24 * 2 * k + 1.6) if bars else 2.4) * nrows + 1.0),
                             layout="constrained", squeeze=False)
    rankings = []
    by_step = {key: g for key, g in d.groupby(["year_from", "year_to"], sort=False)} if len(d) else {}
    for ax, (a, b) in zip(axes.flat, pairs):
        step = by_step.get((a, b), d.iloc[:0])
        ranking = step_ranking(step, q_threshold, steps) if len(step) else "test"
        rankings.append(_exploratory(step, ranking))
        _phrase_panel(ax, step, k, q_threshold, low_data_tokens, ranking)
    if not pairs:
        _no_data(axes[0, 0], f"{lang_name(lang)}: fewer than two years with text, no step to compare")
    for ax in axes.flat[max(1, len(pairs)):]:
        ax.set_visible(False)
    _phrase_legend(fig, q_threshold, exploratory=any(rankings))
    what = ("bars: weighted log-odds z, Monroe et al. 2008" if not any(rankings) else
            "bars: weighted log-odds z, Monroe et al. 2008, or in an exploratory panel the effect, a log rate "
            "ratio, with its interval" if not all(rankings) else
            "bars: effect, a log rate ratio under a weak prior, with its interval; no step can call a change")
    what += ("; colour: q of the test between documents or paragraphs (phrase_steps.csv); "
             "counts before→after at the bar ends")
    fig.suptitle(f"{lang_name(lang)}: top {k} rising and top {k} falling phrases in each of the {len(pairs)} "
                 f"step{'s' if len(pairs) != 1 else ''}\n({textwrap.fill(what, max(90, 60 * ncols))})", fontsize=11)
    return fig


# ---- across languages -------------------------------------------------------------------------


LANG_COLORS = ("#CC3311", "#0077BB")  # Paul Tol's "vibrant" red and blue: side a, side b


def crosslingual_chart(table: pd.DataFrame, codebook, langs: Sequence[str] | None = None,
                       q_threshold: float = _D["crosslingual"]["q_threshold"],
                       conf: float = _D["themes"]["conf_level"], min_tokens: int = _D["low_data_tokens"],
                       max_docs: int | None = None) -> Figure:
    """Dumbbell chart of counts: per theme, its matches in the aligned paragraph pairs of each
    language version; one panel per bilingual document.

    ``max_docs``: draw only the last (most recent, by year then doc_id) that many documents and
    say so in the title (``None``: all); the table has every document.

    The two counts of a theme (drawn a little apart vertically, so equal counts show both) are
    joined by a line, black and thick when the theme is counted more in one version (``status``
    ``{a}_more`` / ``{b}_more``: the paired test's BH q <= ``q_threshold``), thin
    grey otherwise; at the right of each row the count ratio a / b with its exact interval
    (``crosslingual_themes.csv``). A document whose versions are not comparable (a lead against
    a full text) gets a panel that says so and why, with no counts. Counts, not rates: Chinese and
    English tokens are not the same unit. Each panel has its own x scale.

    Parameters
    ----------
    table : DataFrame
        ``crosslingual_themes.csv``.
    codebook : list of Theme, list of dict or DataFrame
    langs : (str, str), optional
        Default: ``textdrift.crosslingual.LANGS``.
    q_threshold : float
        For the legend (the status column decides).
    conf : float
        Confidence level of the intervals (for the title).
    min_tokens : int
        Kept tokens of the aligned pairs under which a version is flagged low data in the title.
    max_docs : int, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    if langs is None:
        langs = tuple(defaults()["crosslingual"]["langs"])  # crosslingual.LANGS; figures imports no analysis module
    a, b = langs
    styles = theme_styles(codebook)
    themes = list(styles)
    docs = table[["doc_id", "year"]].drop_duplicates().sort_values(["year", "doc_id"]).itertuples(index=False)
    docs = list(docs)
    n_docs = len(docs)
    if max_docs is not None and n_docs > max_docs:
        docs = docs[-max_docs:]
    fig, axes = plt.subplots(1, max(1, len(docs)), figsize=(4.4 * max(1, len(docs)) + 3.2, 0.42 * len(themes) + 2.6),
                             sharey=True, layout="constrained", squeeze=False)
    y = np.arange(len(themes))

    def fmt(v: float) -> str:
        return "∞" if np.isinf(v) else f"{v:.2g}" if v < 10 else f"{v:.0f}"

    for ax, (doc, year) in zip(axes[0], docs):
        d = table[table["doc_id"] == doc].set_index("theme").reindex(themes)
        ok = str(d["comparable"].dropna().iloc[0]).lower() in ("true", "1") if d["comparable"].notna().any() else False
        n_pairs = int(d["pairs"].dropna().iloc[0]) if d["pairs"].notna().any() else 0
        ax.set_ylim(len(themes) - 0.5, -0.6)
        ax.tick_params(labelsize=8)
        ax.grid(axis="x", color="#eeeeee", linewidth=0.6)
        ax.set_axisbelow(True)
        if not ok:
            note = str(d["note"].dropna().iloc[0]) if d["note"].notna().any() else ""
            ax.text(0.5, 0.5, "not comparable:\n" + textwrap.fill(note, 42), ha="center", va="center", fontsize=8,
                    color="#555555", transform=ax.transAxes)
            ax.set_xticks([])
            ax.set_title(f"{textwrap.fill(doc, 34)} ({year})\nnot comparable: left out", fontsize=9)
            ax.set_xlabel("(no counts compared)", fontsize=8.5)
            continue
        ca, cb = d[f"count_{a}"].fillna(0).to_numpy(float), d[f"count_{b}"].fillna(0).to_numpy(float)
        sig = d["status"].isin([f"{a}_more", f"{b}_more"]).to_numpy()
        dy = (-0.15, 0.15)  # a little apart, so equal counts show both markers
        for i in range(len(themes)):
            ax.plot([ca[i], cb[i]], [y[i] + dy[0], y[i] + dy[1]], color="black" if sig[i] else "#bbbbbb",
                    linewidth=2.4 if sig[i] else 1.0, zorder=1)
        for k, (lang, color, cnt) in enumerate(zip(langs, LANG_COLORS, (ca, cb))):
            ax.plot(cnt, y + dy[k], linestyle="none", marker="os"[k], markersize=6, color=color,
                    markerfacecolor=color if k == 0 else "white", markeredgewidth=1.4, zorder=3)
        right = max(1.0, float(np.nanmax(np.r_[ca, cb])))
        ax.set_xlim(-0.04 * right, right * 1.55)
        for i in range(len(themes)):
            r, lo, hi = d["count_ratio"].iloc[i], d["ci_low"].iloc[i], d["ci_high"].iloc[i]
            if pd.notna(r):
                ax.text(right * 1.08, y[i], f"{fmt(r)} [{fmt(lo)}, {fmt(hi)}]", fontsize=6.8, va="center", ha="left",
                        fontweight="bold" if sig[i] else "normal", color="black" if sig[i] else "#555555")
        tok = {lang: int(d[f"tokens_{lang}"].dropna().iloc[0]) if d[f"tokens_{lang}"].notna().any() else 0
               for lang in langs}
        low = [f"{lang} {tok[lang]}" for lang in langs if tok[lang] < min_tokens]
        flag = f"\nlow data (< {min_tokens} kept tokens): {', '.join(low)}" if low else ""
        ax.set_title(f"{textwrap.fill(doc, 34)} ({year})\n{n_pairs} aligned pairs: {a} {int(ca.sum())} / {b} "
                     f"{int(cb.sum())} matches{flag}", fontsize=9)
        ax.set_xlabel(f"theme matches in the aligned paragraph pairs (count)\nright: ratio {a}/{b} [{conf:.0%} exact interval]",
                      fontsize=8.5)
    if not docs:
        axes[0, 0].text(0.5, 0.5, "no document in both languages", ha="center", va="center",
                        transform=axes[0, 0].transAxes)
    axes[0, 0].set_yticks(y, [styles[t].label for t in themes], fontsize=8.5)
    handles = [Line2D([], [], color=c, marker="os"[k], linestyle="none", markerfacecolor=c if k == 0 else "white",
                      markeredgewidth=1.4, label=f"{lang_name(lang)} version: matches")
               for k, (lang, c) in enumerate(zip(langs, LANG_COLORS))]
    handles += [Line2D([], [], color="black", linewidth=2.4,
                       label=f"counted more in one version (paired test over the aligned pairs, BH q ≤ {q_threshold:g})"),
                Line2D([], [], color="#bbbbbb", linewidth=1.0, label="difference within chance")]
    fig.legend(handles=handles, loc="outside lower center", ncols=4 if len(docs) >= 3 else 2, fontsize=8, frameon=False)
    shown = (f"\nthe last {len(docs)} of {n_docs} bilingual documents; all in crosslingual_themes.csv"
             if len(docs) < n_docs else "")
    fig.suptitle(f"Theme matches in the aligned paragraph pairs of the {lang_name(a)} and {lang_name(b)} versions "
                 f"of each document (counts, not rates){shown}", fontsize=11)
    return fig


# ---- the rule ---------------------------------------------------------------------------------


FIGURES = ("theme_trends", "theme_heatmap", "drift", "similarity")


def figure_stems(out_dir: str | Path, languages: Iterable[str]) -> dict[str, Path]:
    """Output stems (no extension) of :func:`write_figures`: the four fixed charts and ``phrases_{lang}``.

    Parameters
    ----------
    out_dir : str or Path
    languages : iterable of str

    Returns
    -------
    dict of str to Path
    """
    out = Path(out_dir)
    return {**{name: out / name for name in FIGURES}, **{f"phrases_{lang}": out / f"phrases_{lang}" for lang in languages}}


# chart group (one rule each, so each starts as soon as its own tables exist) -> tables it reads
CHART_GROUPS = {
    "themes": ("frequencies", "codebook"),  # theme_trends, theme_heatmap
    "drift": ("drift", "baseline", "similarity"),  # drift, similarity
    "phrases": ("phrases",),  # phrases_{lang}
}


# the columns of theme_frequencies.csv that theme_trends and theme_heatmap read, and of
# codebook_precision.csv that precision_cells reads (the titles' precision)
_TREND_COLUMNS = ("year", "lang", "theme", "tokens", "per_10k", "ci_low", "ci_high")
_HEATMAP_COLUMNS = ("year", "lang", "theme", "tokens", "per_10k")
_PRECISION_COLUMNS = ("theme", "lang", "n_coded", "precision")


def _columns(df: pd.DataFrame, names: Iterable[str]) -> pd.DataFrame:
    """The columns ``names`` of ``df`` that it has, in that order (a missing one fails where a chart reads it)."""
    return df[[c for c in names if c in df.columns]]


@dataclass(frozen=True)
class _Chart:
    """A chart not yet drawn: calling it returns its Figure. ``data``: everything it is drawn from
    (the frames it is given, its settings), in a fixed order (:func:`chart_key`); None: not kept."""

    draw: object
    data: tuple | None = None

    def __call__(self) -> Figure:
        return self.draw()


@dataclass(frozen=True)
class FigureSettings:
    """The settings of :func:`draw_figures` / :func:`write_figures` (defaults: the configuration
    schema's).

    Parameters
    ----------
    languages : tuple of str
        The languages drawn (one ``phrases_{lang}`` each).
    low_data_tokens : int
    phrase_k : int
        ``k`` of :func:`phrase_bars` (config ``figures.phrase_k``).
    phrase_cols : int
        Step panels per row of :func:`phrase_steps` (config ``figures.phrase_cols``).
    q_threshold : float
        Of the phrase tests (config ``phrases.q_threshold``).
    dpi : int
    memo_dir : str, optional
        Where the last drawing of each chart is kept (:func:`save_memoized`); with ``code``, a
        chart whose data (the rows and columns it reads), settings and code are unchanged is copied
        from there.
    code : str, optional
        The identity of the library code (a rule's ``code`` param), part of :func:`chart_key`.
    """

    languages: tuple[str, ...] = ()
    low_data_tokens: int = _D["low_data_tokens"]
    phrase_k: int = _D["figures"]["phrase_k"]
    phrase_cols: int = _D["figures"]["phrase_cols"]
    q_threshold: float = _D["phrases"]["q_threshold"]
    dpi: int = _D["figures"]["dpi"]
    memo_dir: str | None = None
    code: str | None = None

    @classmethod
    def of(cls, settings: Mapping | FigureSettings | None) -> FigureSettings:
        """From a mapping (a rule's params: unknown keys such as ``groups`` are ignored).

        Parameters
        ----------
        settings : mapping, FigureSettings or None

        Returns
        -------
        FigureSettings
        """
        if isinstance(settings, cls):
            return settings
        known = {k: v for k, v in dict(settings or {}).items() if k in cls.__dataclass_fields__}
        if "languages" in known:
            known["languages"] = tuple(known["languages"])
        return cls(**known)


def draw_figures(tables: Mapping[str, str | Path | None], settings: Mapping | FigureSettings | None = None,
                 groups: Sequence[str] | None = None) -> dict[str, object]:
    """The charts of ``groups`` (keys of ``CHART_GROUPS``; all when None), not yet drawn: chart
    name (the stem of :func:`figure_stems`) -> a function returning its Figure.

    Only the tables of the requested groups are needed (and read).

    Parameters
    ----------
    tables : mapping of str to str or Path
        ``frequencies``, ``drift``, ``baseline``, ``similarity``, ``phrases``, ``phrase_steps``,
        ``precision``, ``documents``: ``theme_frequencies.csv``, ``tfidf_drift.csv``,
        ``tfidf_baseline.csv``, ``tfidf_similarity.csv``, ``phrase_changes.csv``, ``phrase_steps.csv``
        (optional: each step's ``ranking``; derived from the phrases without it),
        ``codebook_precision.csv``, ``documents.csv`` (the genres of :func:`theme_trends`);
        ``codebook`` and its ``schema``.
    settings : mapping or FigureSettings, optional
    groups : sequence of str, optional

    Returns
    -------
    dict of str to callable

    Raises
    ------
    ValueError
        For an unknown group, or a table a group needs that is not given.
    """
    from textdrift.codebook import load_codebook

    s = FigureSettings.of(settings)
    groups = list(CHART_GROUPS) if groups is None else list(groups)
    unknown = set(groups) - set(CHART_GROUPS)
    if unknown:
        raise ValueError(f"unknown chart group(s) {sorted(unknown)}; known: {list(CHART_GROUPS)}")
    given = {name: tables.get(name) for name in ("frequencies", "drift", "baseline", "similarity", "phrases",
                                                 "phrase_steps", "codebook", "precision", "documents", "schema")}
    missing = sorted({t for g in groups for t in CHART_GROUPS[g] if given[t] is None})
    if missing:
        raise ValueError(f"write_figures: charts {groups} need {missing}")
    setup_fonts()
    langs = list(s.languages)
    charts = {}
    if "themes" in groups:
        # each chart is given only the columns it reads, so that its key (chart_key) covers all it
        # draws and nothing else: a codebook edit rewrites every theme table with the codebook's new
        # hash (column `codebook`), and one that matches nothing leaves every number the same
        freq = read_csv(given["frequencies"])
        cb = codebook_frame(load_codebook(given["codebook"], given["schema"]))  # id and labels: what theme_styles reads
        prec = _columns(read_csv(given["precision"]), _PRECISION_COLUMNS) if given["precision"] is not None else None
        docs = (_columns(read_csv(given["documents"]), ("year", "genre", *(f"tokens_{lg}" for lg in langs)))
                if given["documents"] is not None else None)
        trends = _columns(freq, _TREND_COLUMNS)
        trend_langs = [lg for lg in langs if (freq["lang"] == lg).any()]
        charts["theme_trends"] = _Chart(
            lambda: theme_trends(trends, cb, langs=trend_langs, low_data_tokens=s.low_data_tokens, precision=prec,
                                 documents=docs),
            ("theme_trends", trends, cb, trend_langs, s.low_data_tokens, prec, docs))
        heat = _columns(freq, _HEATMAP_COLUMNS)
        charts["theme_heatmap"] = _Chart(
            lambda: theme_heatmap(heat, cb, langs=langs, low_data_tokens=s.low_data_tokens),
            ("theme_heatmap", heat, cb, langs, s.low_data_tokens))
    if "drift" in groups:
        drift_df, base, sim = read_csv(given["drift"]), read_csv(given["baseline"]), read_csv(given["similarity"])
        charts["drift"] = _Chart(lambda: drift_chart(drift_df, base, langs=langs), ("drift_chart", drift_df, base, langs))
        charts["similarity"] = _Chart(
            lambda: similarity_matrix(sim, base, langs=langs, low_data_tokens=s.low_data_tokens),
            ("similarity_matrix", sim, base, langs, s.low_data_tokens))
    if "phrases" in groups:
        phr = read_csv(given["phrases"])
        phr_steps = read_csv(given["phrase_steps"]) if given["phrase_steps"] is not None else None
        for lang in langs:
            # phrase_steps reads only the language's rows of both tables (its steps, their ranking)
            rows = phr[phr["lang"] == lang]
            step_rows = None if phr_steps is None or "lang" not in phr_steps else phr_steps[phr_steps["lang"] == lang]
            charts[f"phrases_{lang}"] = _Chart(
                lambda rows=rows, lang=lang, step_rows=step_rows: phrase_steps(
                    rows, lang, k=s.phrase_k, q_threshold=s.q_threshold, low_data_tokens=s.low_data_tokens,
                    max_cols=s.phrase_cols, steps=step_rows),
                ("phrase_steps", lang, rows, step_rows, s.phrase_k, s.q_threshold, s.low_data_tokens, s.phrase_cols))
    return charts


def write_figures(tables: Mapping[str, str | Path | None], out_dir: str | Path = ".",
                  settings: Mapping | FigureSettings | None = None, groups: Sequence[str] | None = None) -> list[Path]:
    """Read the tables (and the codebook), draw the charts of ``groups`` (:func:`draw_figures`),
    write PNG + SVG under ``out_dir``; return the paths.

    Parameters
    ----------
    tables : mapping of str to str or Path
        As in :func:`draw_figures`.
    out_dir : str or Path
    settings : mapping or FigureSettings, optional
        :class:`FigureSettings` (``languages``, ``low_data_tokens``, ``phrase_k``, ``phrase_cols``,
        ``q_threshold``, ``dpi``).
    groups : sequence of str, optional

    Returns
    -------
    list of Path
        The files written.
    """
    s = FigureSettings.of(settings)
    stems = figure_stems(out_dir, s.languages)
    paths = []
    for name, draw in draw_figures(tables, s, groups).items():
        data = getattr(draw, "data", None)
        key = chart_key(data, s.code, s.dpi) if data is not None and s.code and s.memo_dir else None
        paths += save_memoized(draw, stems[name], s.dpi, key, s.memo_dir)
    return paths


def run_figures(input, output, params, log) -> None:
    """Rule ``theme_figures``, ``drift_figures`` and ``phrase_figures``: the charts of one group of tables.

    Parameters
    ----------
    input, output, params : Snakemake's named lists of the rule (``workflow/rules/figures.smk``)
        Attribute access by the names the rule gives; any object with those attributes works.
    log : list of str
        The job's log file (first item).
    """
    from textdrift.io import log_to_file
    from textdrift.provenance import settings

    log_to_file(log[0])
    p = settings(params)
    code = dict(params.items()).get("code")  # the library code's hash (provenance.smk), for the kept charts
    write_figures(dict(input.items()), Path(output[0]).parent, {**p, "code": code}, p.get("groups"))


# ---- new formulations (textdrift.formulations) --------------------------------------------------


def new_formulations_chart(formulations: pd.DataFrame, lang: str, k: int = _D["formulations"]["chart_k"],
                           top_n: int | None = _D["formulations"]["top_n"],
                           window: int | None = _D["formulations"]["window"], max_cols: int = 5,
                           unspaced_languages=_D["unspaced_languages"]) -> Figure:
    """The top-``k`` new formulations of every year of one language (``new_formulations.csv``, by
    ``rank``, leaving out the pieces folded into a longer formulation: ``nested_in``), one small panel per year in reading order (up to ``max_cols`` per row, so 15 years fit
    on three rows); bar length = paragraphs of the year it occurs in, label = count, paragraphs and
    documents.

    Parameters
    ----------
    formulations : DataFrame
        ``new_formulations.csv``.
    lang : str
    k : int
        Formulations per year (config ``formulations.chart_k``).
    top_n : int, optional
        Rows per year the table keeps (config ``formulations.top_n``): a year with that many says
        "N+ new".
    window : int, optional
        Config ``formulations.window`` (for the title: absent from every earlier year, or from the
        previous ``window`` years with text).
    max_cols : int
    unspaced_languages : sequence of str
        Config ``unspaced_languages``: their ``compared_units`` are characters, the others' words
        (each panel's title says how much earlier text "new" rests on).

    Returns
    -------
    matplotlib.figure.Figure
    """
    setup_fonts()
    unit = "characters" if lang in unspaced_languages else "words"
    df = formulations[(formulations["lang"] == lang) & (formulations["status"] == "new")]
    if "nested_in" in df.columns:  # a piece mostly used inside a longer formulation of the year: one bar
        df = df[df["nested_in"].fillna("").astype(str) == ""].sort_values(["year", "rank"])
        df = df.assign(rank=df.groupby("year").cumcount() + 1)
    years = sorted(df["year"].unique().tolist())
    if not years:
        fig, ax = plt.subplots(figsize=(7, 2.5), layout="constrained")
        ax.set_axis_off()
        _no_data(ax, f"{lang_name(lang)}: no new formulation (fewer than two years with text, or none recurs)")
        return fig
    ncols = min(max_cols, len(years))
    nrows = -(-len(years) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(max(8.0, 4.2 * ncols), 0.38 * k * nrows + 1.1 * nrows + 1.0),
                             layout="constrained", squeeze=False)
    for ax in axes.ravel()[len(years):]:
        ax.set_axis_off()
    for ax in axes.ravel():
        # the panels have no axis labels: fixed label positions spare matplotlib the measuring of
        # every sibling panel's tick labels to place them (a third of the drawing time, same pixels)
        ax.xaxis.set_label_coords(0.5, 0.0)
        ax.yaxis.set_label_coords(0.0, 0.5)
    xmax = max(1, int(df[df["rank"] <= k]["paragraphs"].max()))
    for ax, year in zip(axes.ravel(), years):
        top = df[(df["year"] == year) & (df["rank"] <= k)].sort_values("rank")
        n_new = int((formulations["lang"].eq(lang) & formulations["status"].eq("new")
                     & formulations["year"].eq(year)).sum())
        labels = [textwrap.fill(textwrap.shorten(str(f), 56, placeholder="…"), 28) for f in top["formulation"]]
        y = np.arange(len(top))
        with _bars_without_data_limits(ax):  # both limits are set below
            ax.barh(y, top["paragraphs"], height=0.7, color=STATUS_COLORS["new"])
        for i, (c, p, d) in enumerate(zip(top["count"], top["paragraphs"], top["documents"])):
            ax.text(p + xmax * 0.02, i, f"{c}× {p}¶ {d}d", va="center", ha="left", fontsize=7, color="#333333")
        ax.set_yticks(y, labels, fontsize=9 if all("\n" not in lb for lb in labels) else 8)
        ax.set_ylim(k - 0.5, -0.5)
        ax.set_xlim(0, xmax * 1.45)
        ax.tick_params(axis="x", labelsize=7.5)
        capped = top_n is not None and n_new >= top_n
        # at the top of the axes (y=1), where matplotlib's automatic placement leaves it: it moves a title
        # only above x tick labels or an x label on top, or a y offset text, which these panels never
        # have (their y labels are fixed strings); the placement measures every phrase label of the
        # panel again in each draw (about a tenth of the chart's time)
        # how much earlier text "new" rests on (compared_units: the same for every new row of the year)
        # (on a line of its own: beside the year it ran past the right edge of the last column)
        before = (f"\nagainst {int(top['compared_units'].iloc[0]):,} {unit} before"
                  if len(top) and "compared_units" in top else "")
        ax.set_title(f"{year}  ({n_new}{'+' if capped else ''} new){before}" if len(top) else str(year),
                     fontsize=10, y=1.0)
        if not len(top):
            _no_data(ax, "none")
    fig.supxlabel("paragraphs of the year it occurs in (label: count × , paragraphs ¶, documents d)", fontsize=9)
    absent = "every earlier year" if window is None else f"the previous {window} year{'s' if window > 1 else ''} with text"
    fig.suptitle(f"{lang_name(lang)}: new formulations of each year\n(absent from {absent}; "
                 f"top {k} by documents, paragraphs, count)", fontsize=11)
    return fig


def run_formulation_figures(input, output, params, log) -> None:
    """Rule ``formulation_figures``: ``new_formulations_{lang}.png`` and ``.svg`` for every language.

    Parameters
    ----------
    input, output, params : Snakemake's named lists of the rule (``workflow/rules/formulations.smk``)
        Attribute access by the names the rule gives; any object with those attributes works.
    log : list of str
        The job's log file (first item).
    """
    from textdrift.io import log_to_file

    log_to_file(log[0])
    df = read_csv(input.formulations)
    p = dict(params.items())
    code, memo_dir = p.get("code"), p.get("memo_dir")
    for lang, png in zip(params.languages, output.png):
        rows = df[df["lang"] == lang]  # the chart reads only its language's rows
        unspaced = p.get("unspaced_languages", _D["unspaced_languages"])
        key = (chart_key(("new_formulations_chart", lang, rows, params.k, params.top_n, params.window, unspaced),
                         code, params.dpi) if code and memo_dir else None)
        save_memoized(lambda rows=rows, lang=lang: new_formulations_chart(rows, lang, params.k, params.top_n,
                                                                          params.window,
                                                                          unspaced_languages=unspaced),
                      Path(png).with_suffix(""), params.dpi, key, memo_dir)


__all__ += ["new_formulations_chart", "run_formulation_figures", "chart_key", "save_memoized"]
