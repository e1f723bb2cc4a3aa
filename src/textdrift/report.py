"""The generated summary: ``results/README.md`` and the findings block of the top-level README,
in words, from the tables of the analysis modules (:mod:`textdrift.findings` gives the headline
numbers, :mod:`textdrift.figures` the charts it links).

Every number in the findings is read from the result tables (nothing is recomputed from the
text; rounding only):

* **Themes** (``theme_frequencies.csv``): for each language, its first and last available year
  (years with kept tokens); a theme's change is ``per_10k(last) - per_10k(first)``; the
  ``top_themes`` largest positive changes "rose most", the ``top_themes`` most negative "fell
  most". Each is given with both rates, the match counts and whether the two 95% intervals
  overlap (``ci_low``/``ci_high``; overlapping intervals = weak evidence of change).
* **Drift** (``tfidf_drift.csv``): per language the step with the largest cosine distance, with
  its JSD, its gap and the split-half baselines of its two years (``baseline_cosine_from/to``),
  said to be larger than both, smaller than both or between them; then every step in one line.
* **Phrases** (``phrase_changes.csv``): per language the last step, its ``top_phrases`` phrases
  with status ``new`` or ``rising`` ordered by z, and the number of phrases tested and per status.
* **Low data**: language-years with fewer than ``low_data_tokens`` kept tokens (the ``tokens``
  column of ``theme_frequencies.csv``), and years in which some languages have text and others
  have none.

Command line (refreshes the "What the corpus shows" block of the top-level README between
``<!-- findings:start -->`` and ``<!-- findings:end -->`` from the current tables)::

    python -m textdrift.report README.md --config config/config.yaml

Why one module of over 600 lines, a third of them docstrings: every block of
``results/README.md`` and of the README's snapshot is written here from the tables, so their
wording and rounding are stated once.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pandas as pd

from textdrift.io import atomic_write_text, read_csv
from textdrift.config import defaults, lang_name
from textdrift.validation import precision_cells

_D = defaults()  # the configuration schema's defaults: every keyword default below that is a config setting

__all__ = ["FIGURES", "TABLES", "drift_lines", "findings_markdown", "headline_lines", "low_data_lines", "main",
           "phrase_lines", "precision_lines", "readme_snapshot", "results_readme", "theme_changes",
           "theme_lines", "update_readme_findings", "write_results_readme", "run_results_readme"]

START, END = "<!-- findings:start -->", "<!-- findings:end -->"

TABLES = {
    "findings.csv": "each headline finding (theme rose/fell most, largest drift step, top rising phrases, largest cross-language gaps) with its value, interval, documents, genres, translation status, design (years, or a contrast of named documents) and codebook precision; each check (roles counted, names as words, the other interval, leave one document, paragraph or codebook term out) is holds, fails or n/a, with why in na_reason",
    "documents.csv": "every document: year, date, title, genre, issuer, original language, translation status per language, source, raw file and its SHA-256, kept tokens per language",
    "theme_frequencies.csv": "theme matches per (year, language): count, kept tokens, rate per 10,000 kept tokens and its 95% interval (quasi-Poisson over documents or paragraphs, never narrower than exact Poisson: ci_method, ci_units, dispersion; ci_about = year or its documents)",
    "theme_changes.csv": "every theme between consecutive years with text: rates per 10,000 kept tokens, rate ratio (no correction; change = rise/fall/same, or new/gone/undefined when a count is zero: the direction only) with its 95% quasi-Poisson interval (never narrower than the exact conditional one) and whether that interval excludes 1 (ci_excludes_1: the rows that show a change), units and dispersion of each side, low-data flag, the documents and genres of each side",
    "theme_kwic.csv": "every theme match and entity mention in context (keyword in context): document, year, language, paragraph, sentence, role, kind (theme/entity), theme or entity, term, left / match / right",
    "entity_frequencies.csv": "mentions of each named entity (config/entities.yaml, any alias) per (year, language): count, kept tokens, rate per 10,000 tokens and its 95% interval",
    "theme_unmatched_terms.csv": "codebook terms that never matched in the corpus (check the codebook or the segmentation)",
    "codebook_precision.csv": "precision of the codebook per theme and language from hand-coded KWIC rows (validation/coded.csv) that still match: coded, relevant, precision with its Wilson 95% interval, rows no longer matched, codebook version",
    "codebook_pairs.csv": "each translation pair of the codebook counted on both sides in the aligned paragraph pairs of the comparable bilingual documents: counts, count ratio with its exact 95% interval, exact conditional test p and BH q, status (zh_more / en_more = one side broader), unpaired terms with why",
    "tfidf_drift.csv": "drift between consecutive available years per language: cosine distance of TF-IDF vectors, Jensen-Shannon divergence, gap, tokens, low-data flag, split-half baselines, permutation test of the step (documents or paragraphs permuted, p_permutation)",
    "tfidf_similarity.csv": "cosine similarity and JSD of every pair of years per language (the full year x year matrix)",
    "tfidf_top_terms.csv": "the highest-weighted TF-IDF terms of each year and language",
    "tfidf_term_shifts.csv": "the terms whose TF-IDF weight rose or fell most in each consecutive step",
    "tfidf_baseline.csv": "split-half baseline per year and language: distance between random halves of the same year (mean, 5th and 95th percentile)",
    "phrase_changes.csv": "every tested phrase of every step (units of 1 to phrases.max_length words; a piece used mostly inside a longer phrase is folded into it, pieces): counts and totals of n-grams of the same order, weighted log-odds with informative Dirichlet prior and its z, dispersion between documents or paragraphs, t, p, Benjamini-Hochberg q, status new/gone/rising/falling/stable/insufficient, and the exploratory effect (log rate ratio with a weak prior) with its interval and rank",
    "phrase_steps.csv": "one row per phrase step and language: the unit of the test (documents, paragraphs or tokens) and how many, phrases tested, their median count and dispersion, the minimum detectable rate ratio at the configured alpha and power, the count of each status, the pieces folded, the lowest q and the ranking (test, or exploratory when no phrase reaches q <= phrases.q_threshold)",
    "new_formulations.csv": "per language and year, the formulations first seen (new) and last seen (vanished) in it: maximal recurring strings (characters in Chinese, words in English) with their count, paragraphs and documents in the year, every year they occur in, the text of the years they are absent from (compared_units: characters in Chinese, words otherwise; little text there, little news) and an example sentence, ranked by documents, paragraphs, count",
    "crosslingual_themes.csv": "per bilingual document and theme: matches in the aligned paragraph pairs of each language version (counts, not rates), count ratio with its exact 95% interval, paired randomization test over the aligned pairs (p, BH q), conditional binomial p, agreement, status; not comparable documents (a lead against a full text) marked with the reason",
    "crosslingual_alignment.csv": "aligned paragraph pairs of the two versions of each bilingual document, their full texts and characters, and the themes found on one side only",
    "crosslingual_codebook_check.csv": "per theme: codebook terms matched in each language in the aligned pairs of the comparable bilingual documents, and the pairs where it is found on one side only",
    "crosslingual_trends.csv": "per bilingual document: share of each version in aligned pairs, length ratio, comparable or not and why, all themes' matches; per year and theme and over all comparable documents: matches on aligned pairs in each language with the count ratio, test and q; descriptive agreement and rank correlation (no p-values)",
}
FIGURES = {
    "theme_trends": "theme rate per 10,000 tokens by year with 95% intervals, one panel per theme, one line per language",
    "theme_heatmap": "theme x year rate per 10,000 tokens, one panel per language, values in the cells",
    "drift": "cosine distance and JSD between consecutive years per language, with each year's split-half baseline",
    "similarity": "year x year cosine similarity of the TF-IDF year vectors, one panel per language",
    "phrases": "top rising and falling phrases of every step, one panel per step (log-odds z; in a step where no phrase reaches q <= phrases.q_threshold, the exploratory effect with its interval)",
    "new_formulations": "the top new formulations of every year (absent from the earlier years), one panel per year, bar = paragraphs it occurs in",
    "crosslingual_themes": "per bilingual document, each theme's matches in the aligned paragraph pairs of the Chinese and English versions (dumbbells of counts) with the count ratio and its exact interval; differences beyond chance highlighted; not comparable documents say why",
}


def _labels(codebook) -> dict[str, str]:
    """Theme id -> "English label (other labels)"; empty without a codebook (ids are used)."""
    if codebook is None:
        return {}
    out = {}
    for t in codebook:
        labels = dict(t.labels) if hasattr(t, "labels") else {k[6:]: v for k, v in t.items() if k.startswith("label_")}
        en = labels.pop("en", t.id if hasattr(t, "id") else t["id"])
        other = " ".join(v for v in labels.values() if v)
        out[t.id if hasattr(t, "id") else t["id"]] = f"{en} ({other})" if other else en
    return out


def _num(x: float, digits: int = 1) -> str:
    return f"{x:.{digits}f}"


# ---- the parts of the findings ----------------------------------------------------------------


def theme_changes(freq: pd.DataFrame) -> pd.DataFrame:
    """Per language and theme: first and last available year, both rates, counts, change, interval overlap.

    Parameters
    ----------
    freq : DataFrame
        ``theme_frequencies.csv``.

    Returns
    -------
    DataFrame
        ``lang, theme, year_first, year_last, tokens_*, count_*, per_10k_*, change, overlap``
        (``overlap``: the two intervals overlap).
    """
    freq = freq[freq["tokens"] > 0]
    rows = []
    for lang, d in freq.groupby("lang", sort=False):
        first, last = d["year"].min(), d["year"].max()
        a = d[d["year"] == first].set_index("theme")
        b = d[d["year"] == last].set_index("theme")
        for theme in a.index.intersection(b.index, sort=False):
            ra, rb = a.loc[theme], b.loc[theme]
            rows.append({
                "lang": lang, "theme": theme, "year_first": first, "year_last": last,
                "tokens_first": ra["tokens"], "tokens_last": rb["tokens"],
                "count_first": ra["count"], "count_last": rb["count"],
                "per_10k_first": ra["per_10k"], "per_10k_last": rb["per_10k"],
                "change": rb["per_10k"] - ra["per_10k"],
                "overlap": bool(rb["ci_low"] <= ra["ci_high"] and ra["ci_low"] <= rb["ci_high"]),
            })
    return pd.DataFrame(rows)


def _theme_item(r, labels: dict[str, str], precision: dict | None = None) -> str:
    sign = "+" if r["change"] >= 0 else "−"
    ci = "95% intervals overlap" if r["overlap"] else "95% intervals do not overlap"
    p = (precision or {}).get((r["theme"], r["lang"]))
    prec = f"; codebook precision {_num(p[0], 2)} on {p[1]} coded" if p else ""
    return (f"{labels.get(r['theme'], r['theme'])} {_num(r['per_10k_first'])} → {_num(r['per_10k_last'])} "
            f"({sign}{_num(abs(r['change']))}; {int(r['count_first'])} → {int(r['count_last'])} matches; {ci}{prec})")


def precision_lines(precision: pd.DataFrame, labels: dict[str, str],
                    min_precision: float = _D["validation"]["min_precision"]) -> list[str]:
    """The codebook's precision per language (overall, lowest themes) from ``codebook_precision.csv``.

    Parameters
    ----------
    precision : DataFrame
        ``codebook_precision.csv``.
    labels : dict of str to str
        Theme id -> label.
    min_precision : float

    Returns
    -------
    list of str
        Markdown list items.
    """
    if precision.empty:
        return ["- No coded contexts yet: `make validation-sample`, code the sample, save it as "
                "`validation/coded.csv` (docs/methods.md: \"Codebook validation\")."]
    lines = []
    for lang, part in precision[precision["theme"] != "all"].groupby("lang", sort=False):
        total = precision[(precision["theme"] == "all") & (precision["lang"] == lang)].iloc[0]
        part = part[part["n_coded"] > 0]
        if part.empty:
            lines.append(f"- **{lang_name(lang)}**: none of the {int(total['n_no_longer_matched'])} coded rows matches "
                         "this corpus and codebook: code a sample of it (`make validation-sample`).")
            continue
        low = part.sort_values(["precision", "n_coded"], ascending=[True, False], kind="stable").head(3)
        lows = "; ".join(f"{labels.get(r.theme, r.theme)} {_num(r.precision, 2)} ({r.relevant} of {r.n_coded})"
                         for r in low.itertuples())
        lines.append(f"- **{lang_name(lang)}**: precision {_num(total['precision'], 2)} ({total['relevant']} of "
                     f"{total['n_coded']} coded matches; Wilson 95% {_num(total['ci_low'], 2)}–{_num(total['ci_high'], 2)}); "
                     f"lowest: {lows}. {int(total['n_no_longer_matched'])} coded rows no longer match this codebook.")
    under = precision[(precision["theme"] != "all") & (precision["n_coded"] > 0) & (precision["precision"] < min_precision)]
    if len(under):
        lines.append("- Under the bar of " + _num(min_precision, 2) + ": " + "; ".join(
            f"{labels.get(r.theme, r.theme)} ({r.lang}) {_num(r.precision, 2)} on {r.n_coded}" for r in under.itertuples())
            + ".")
    lines.append(f"- Codebook `{precision['codebook'].iloc[0]}` (`config/CODEBOOK_CHANGELOG.md`).")
    return lines


def theme_lines(freq: pd.DataFrame, labels: dict[str, str] | None = None, top: int = _D["figures"]["top_themes"],
                documents: pd.DataFrame | None = None, precision: dict | None = None) -> list[str]:
    """One line per language: the themes that rose and fell most from its first to its last year;
    with ``documents`` (documents.csv), which documents and genres stand on each side; with
    ``precision`` (:func:`textdrift.validation.precision_cells`), each theme's codebook precision
    in that language.

    Parameters
    ----------
    freq : DataFrame
        ``theme_frequencies.csv``.
    labels : dict of str to str, optional
        Theme id -> label (default: the id).
    top : int
    documents : DataFrame, optional
    precision : dict, optional

    Returns
    -------
    list of str
        Markdown list items.
    """
    labels = labels or {}
    changes = theme_changes(freq)
    lines = []
    for lang, d in changes.groupby("lang", sort=False):
        r0 = d.iloc[0]
        head = (f"- **{lang_name(lang)}, {r0['year_first']} → {r0['year_last']}** "
                f"({int(r0['tokens_first'])} → {int(r0['tokens_last'])} tokens).")
        if r0["year_first"] == r0["year_last"]:
            lines.append(f"{head} Only one year with text: nothing to compare.")
            continue
        rose = d[d["change"] > 0].sort_values("change", ascending=False, kind="stable").head(top)
        fell = d[d["change"] < 0].sort_values("change", kind="stable").head(top)
        parts = [head]
        parts.append("Rose most: " + ("; ".join(_theme_item(r, labels, precision) for _, r in rose.iterrows())
                                      or "none") + ".")
        parts.append("Fell most: " + ("; ".join(_theme_item(r, labels, precision) for _, r in fell.iterrows())
                                      or "none") + ".")
        if documents is not None:
            from textdrift.manifest import step_documents

            step = pd.DataFrame({"lang": [lang], "year_from": [r0["year_first"]], "year_to": [r0["year_last"]]})
            parts.append(_genre_sentence(step_documents(step, documents).iloc[0]).strip())
        lines.append(" ".join(parts))
    return lines


def _truthy(x) -> bool:
    return str(x).strip().lower() in ("true", "1")


def _by_lang(df: pd.DataFrame, langs: Sequence[str] | None):
    """(lang, rows) in the order of ``langs`` (then any other language of the table)."""
    order = list(dict.fromkeys([*(langs or []), *df["lang"]]))
    return [(lang, df[df["lang"] == lang]) for lang in order if (df["lang"] == lang).any()]


def _genre_sentence(step) -> str:
    """What the two sides of a step are (documents and genres), when the table says it."""
    if "genre_match" not in step or pd.isna(step.get("genre_match")):
        return ""
    def side(docs, genres):
        n = len(str(docs).split(";")) if isinstance(docs, str) and docs else 0
        return f"{n} document{'s' if n != 1 else ''} ({str(genres).replace(';', ', ').replace('_', ' ')})"
    verdict = {"same": "like with like (the same genres)",
               "partial": "partly like with like (some genres on one side only)",
               "different": "different genres: the step mixes a change over time with a change of genre",
               "unknown": "a document of unknown genre"}[step["genre_match"]]
    return (f" It compares {side(step['docs_from'], step['genres_from'])} with "
            f"{side(step['docs_to'], step['genres_to'])}: {verdict}.")


def drift_lines(drift: pd.DataFrame, langs: Sequence[str] | None = None) -> list[str]:
    """One line per language: its biggest drift step, read against the split-half baselines, then all its steps.

    Parameters
    ----------
    drift : DataFrame
        ``tfidf_drift.csv``.
    langs : sequence of str, optional
        Order of the languages (then any other of the table).

    Returns
    -------
    list of str
        Markdown list items.
    """
    lines = []
    for lang, d in _by_lang(drift, langs):
        d = d.sort_values("year_from")
        best = d.loc[d["cosine_distance"].idxmax()]
        base = {y: b for y, b in ((best["year_from"], best["baseline_cosine_from"]),
                                  (best["year_to"], best["baseline_cosine_to"])) if pd.notna(b)}
        text = (f"- **{lang_name(lang)}**: biggest step {best['year_from']} → {best['year_to']} "
                f"({int(best['gap'])} year{'s' if best['gap'] != 1 else ''}): cosine distance "
                f"{_num(best['cosine_distance'], 3)}, JSD {_num(best['jsd'], 3)}")
        years = (best["year_from"], best["year_to"])
        if base:
            vals = list(base.values())
            where = ("larger than" if best["cosine_distance"] > max(vals) else
                     "smaller than" if best["cosine_distance"] < min(vals) else "between")
            shown = ", ".join(f"{_num(v, 3)} in {y}" for y, v in base.items())
            if len(vals) == 1:
                (year, _), = base.items()
                missing = years[1] if year == years[0] else years[0]
                where = "as large as" if where == "between" else where
                text += f"; {where} the split-half baseline of {year} ({shown}; none for {missing})"
            elif where == "between":
                text += f"; between the split-half baselines of its two years ({shown})"
            else:
                text += f"; {where} the split-half baselines of both years ({shown})"
        else:
            text += "; no split-half baseline for either year (too few paragraphs)"
        text += "."
        if pd.notna(best.get("excess_cosine", float("nan"))):
            text += (f" Length-matched (random halves of each year): cross-year half distance "
                     f"{_num(best['halves_cosine'], 3)}, {_num(best['excess_cosine'], 3)} above the within-year "
                     f"half distance; the years were farther apart than halves of one year in "
                     f"{_num(100 * (1 - best['p_cosine']), 1)}% of rounds (p_cosine = {_num(best['p_cosine'], 3)}, "
                     "a descriptive share, not a test).")
        if pd.notna(best.get("p_permutation", float("nan"))):
            unit = str(best["permutation_unit"])
            text += (f" Permutation test ({unit}s of the two years reassigned at random, "
                     f"{int(best['permutations'])} splits): p = {_num(best['p_permutation'], 3)}"
                     + (" (paragraphs, because a year has too few documents: it contrasts the documents, not the "
                        "years)" if unit == "paragraph" else "") + ".")
        if _truthy(best["low_data"]):
            text += f" Flagged low data; the table's note: {best['note']}."
        text += _genre_sentence(best)
        steps = ", ".join(f"{r.year_from} → {r.year_to} {_num(r.cosine_distance, 3)}" for r in d.itertuples())
        lines.append(f"{text} All steps (cosine distance): {steps}.")
    return lines


def phrase_lines(phrases: pd.DataFrame, top: int = _D["figures"]["top_phrases"],
                 langs: Sequence[str] | None = None, documents: pd.DataFrame | None = None) -> list[str]:
    """One line per language: the phrases new or rising most (by z) in its last step, with the step's tally.

    Parameters
    ----------
    phrases : DataFrame
        ``phrase_changes.csv``.
    top : int
    langs : sequence of str, optional
        Order of the languages (then any other of the table).
    documents : DataFrame, optional
        ``documents.csv``: the documents and genres of the step's sides
        (:func:`textdrift.manifest.step_documents`; the phrase table has only ``genre_match``).

    Returns
    -------
    list of str
        Markdown list items.
    """
    from textdrift.manifest import step_documents

    lines = []
    for lang, d in _by_lang(phrases, langs):
        last = d["year_from"].max()
        step = d[d["year_from"] == last]
        year_to = step["year_to"].iloc[0]
        up = step[step["status"].isin(["new", "rising"])].sort_values("z", ascending=False, kind="stable").head(top)
        counts = step["status"].value_counts()
        tally = ", ".join(f"{int(counts.get(s, 0))} {s}" for s in ("new", "rising", "falling", "gone"))
        q = (lambda r: f", q = {_num(r['q'], 3)}") if "q" in step.columns else (lambda r: "")
        items = "; ".join(f"“{r['display']}” ({int(r['count_from'])} → {int(r['count_to'])}, z = {_num(r['z'], 2)}{q(r)}, "
                          f"{r['status']})" for _, r in up.iterrows())
        head = f"- **{lang_name(lang)}, {last} → {year_to}** ({len(step)} phrase{'s' if len(step) != 1 else ''} tested: "
        first = step.iloc[[0]]
        if documents is not None and "genre_match" in step.columns:
            first = step_documents(first[["lang", "year_from", "year_to"]], documents)
        genres = _genre_sentence(first.iloc[0])
        if (step["status"] == "insufficient").all():
            lines.append(head + "insufficient data). A year of this step is under the low-data threshold: no phrase "
                         "is called new, rising, falling or gone." + genres)
            continue
        lines.append(head + f"{tally}). " + (f"New or rising most (Benjamini-Hochberg q within the step): {items}."
                                             if items else "No phrase is new or rising after false-discovery control.")
                     + genres)
    return lines


def low_data_lines(freq: pd.DataFrame, low_data_tokens: int = _D["low_data_tokens"]) -> list[str]:
    """The language-years under ``low_data_tokens`` kept tokens, and the years a language has no text.

    Parameters
    ----------
    freq : DataFrame
        ``theme_frequencies.csv``.
    low_data_tokens : int

    Returns
    -------
    list of str
        Markdown list items ("None: ..." when there is nothing to say).
    """
    tokens = freq.groupby(["lang", "year"], sort=False)["tokens"].max()
    tokens = tokens[tokens > 0]
    all_years = sorted({y for _, y in tokens.index})
    lines = []
    for lang in dict.fromkeys(l for l, _ in tokens.index):
        t = tokens[lang]
        low = t[t < low_data_tokens]
        if len(low):
            years = "; ".join(f"{y}: {int(n)} tokens" for y, n in low.sort_index().items())
            lines.append(f"- {lang_name(lang)} {years} (fewer than {low_data_tokens}): their theme rates have wide "
                         "intervals and every drift step touching them is flagged low data.")
        missing = [y for y in all_years if y not in t.index]
        if missing:
            lines.append(f"- {lang_name(lang)} has no text in {', '.join(map(str, missing))}: its steps span the gap "
                         "(see the gap column).")
    return lines or [f"- None: every language-year has at least {low_data_tokens} tokens."]


def _survivors_line(findings: pd.DataFrame, source: str = "") -> str:
    """"- **k of n headline findings hold and survive every check that is defined**; how many rest
    on a single document per side; (the checks), ``source`` before the ")". A check that is ``n/a``
    (not defined for the finding, ``na_reason`` says why) is not a failure."""
    k = int(findings["survives"].map(_truthy).sum())
    single = (int((findings["design"] == "documents").sum()) if "design" in findings else 0)
    one = (f"; {single} of the {len(findings)} rest on a single document on a side (a contrast of named "
           "documents, not of years: leaving out a document is n/a there)" if single else "")
    return (f"- **{k} of {len(findings)} headline findings hold and survive every check that is defined**{one} "
            "(n/a is not a failure; the checks: titles and paratext counted, names counted as words, the other "
            "interval: Poisson for themes, paragraphs resampled for phrases and cross-language gaps; each document "
            f"left out, or where a side is one document, the paragraph that weighs most; each codebook term left "
            f"out{source}).")


def headline_lines(findings: pd.DataFrame) -> list[str]:
    """The headline findings of ``findings.csv``: those that survive every check first, then the
    others, each with its value, interval and, for the others, why not.

    Parameters
    ----------
    findings : DataFrame
        ``findings.csv``.

    Returns
    -------
    list of str
        Markdown list items.
    """
    if findings.empty:
        return ["- No headline finding: no language has two years with text."]

    def value(r) -> str:
        if r["value_name"] == "rate_ratio":
            ci = (f" (95% interval {_num(r['ci_low'], 2)}–{_num(r['ci_high'], 2)})" if pd.notna(r["ci_low"]) else "")
            if pd.isna(r["value"]):  # a zero side: no ratio (new, gone), only the interval's bound
                change = "new" if r["value_from"] == 0 else "gone" if r["value_to"] == 0 else "undefined"
                return (f"{_num(r['value_from'])} → {_num(r['value_to'])} per 10,000 tokens, no rate ratio "
                        f"({change}){ci}")
            return (f"{_num(r['value_from'])} → {_num(r['value_to'])} per 10,000 tokens, rate ratio "
                    f"{_num(r['value'], 2)}{ci}")
        if r["value_name"] == "count_ratio":  # a cross-language gap: counts on aligned paragraph pairs
            a, b = str(r["lang"]).split("|")
            ci = (f" (95% interval {_num(r['ci_low'], 2)}–{_num(r['ci_high'], 2)})" if pd.notna(r["ci_low"]) else "")
            return (f"{a} {_num(r['value_from'], 0)} vs {b} {_num(r['value_to'], 0)} matches in the aligned paragraph pairs, "
                    f"count ratio {_num(r['value'], 2)}{ci}")
        if r["value_name"] == "log_odds":
            ci = (f" (95% interval {_num(r['ci_low'], 2)} to {_num(r['ci_high'], 2)})" if pd.notna(r["ci_low"]) else "")
            if r["kind"] == "crosslingual_gap":
                a, b = str(r["lang"]).split("|")
                rates = f"{a} {_num(r['value_from'])} vs {b} {_num(r['value_to'])} per 10,000 tokens"
            else:  # a phrase's rate is per n-gram of its order (phrase_changes.csv's total_from, total_to)
                unit = "n-grams of the same order" if r["kind"] == "phrase_rise" else "tokens"
                rates = f"{_num(r['value_from'])} → {_num(r['value_to'])} per 10,000 {unit}"
            return f"{rates}, log-odds {_num(r['value'], 2)}{ci}"
        if r["value_name"] == "effect":  # a phrase's exploratory rank (findings.py): a log rate ratio, not a test
            ci = (f" (95% interval {_num(r['ci_low'], 2)} to {_num(r['ci_high'], 2)})" if pd.notna(r["ci_low"]) else "")
            return (f"{_num(r['value_from'])} → {_num(r['value_to'])} per 10,000 n-grams of the same order, "
                    f"effect (log rate ratio) {_num(r['value'], 2)}{ci}")
        return f"{r['value_name'].replace('_', ' ')} {_num(r['value'], 3)}"

    def undefined(r) -> str:
        """" (n/a here: ...)": the checks not defined for a finding, and why (``na_reason``)."""
        text = str(r.get("na_reason", "") or "")
        if not text or text == "nan":
            return ""
        import re

        return " (n/a here: " + re.sub(r"check_(\w+):", lambda m: m.group(1).replace("_", " ") + ":", text) + ")"

    ok = findings[findings["survives"].map(_truthy)]
    lines = [_survivors_line(findings, "; `results/tables/findings.csv`")]
    def caveats(r) -> str:
        text = str(r.get("reason", "") or "")
        return f"; {text}" if text and text != "nan" else ""

    lines += [f"- Survives: {r['claim']}: {value(r)}{undefined(r)}{caveats(r)}." for _, r in ok.iterrows()]
    lines += [f"- Does not survive: {r['claim']}: {value(r)}; {r['reason']}."
              for _, r in findings[~findings["survives"].map(_truthy)].iterrows()]
    return lines


def findings_markdown(tables_dir: str | Path, codebook=None, low_data_tokens: int = _D["low_data_tokens"],
                      top_themes: int = _D["figures"]["top_themes"],
                      top_phrases: int = _D["figures"]["top_phrases"]) -> str:
    """The findings block (markdown, ``###`` headings) read from the tables in ``tables_dir``.

    Parameters
    ----------
    tables_dir : str or Path
    codebook : list of Theme or of dict, optional
        For the theme labels (ids without it).
    low_data_tokens, top_themes, top_phrases : int

    Returns
    -------
    str
    """
    t = Path(tables_dir)
    freq = read_csv(t / "theme_frequencies.csv")
    drift = read_csv(t / "tfidf_drift.csv")
    phrases = read_csv(t / "phrase_changes.csv")
    documents = read_csv(t / "documents.csv") if (t / "documents.csv").exists() else None
    precision = read_csv(t / "codebook_precision.csv") if (t / "codebook_precision.csv").exists() else None
    labels = _labels(codebook)
    langs = list(dict.fromkeys(freq["lang"]))
    nothing = ["- No language has two years with text: nothing to compare."]
    drift_part = drift_lines(drift, langs)
    if drift_part:
        drift_part.append(
            "- The split-half baseline is the cosine distance between random halves of one year; halves are "
            "shorter than a year, so it over-estimates the distance between two full samples of the same year: "
            "a step below it shows no change beyond the variation inside a year.")
    blocks = []
    if (t / "findings.csv").exists():
        blocks.append(("Headline findings and the checks they survive", headline_lines(read_csv(t / "findings.csv"))))
    blocks += [
        ("Themes: first vs last available year (per 10,000 tokens)",
         theme_lines(freq, labels, top_themes, documents, precision_cells(precision)) or nothing),
        *([("Codebook precision (hand-coded contexts)", precision_lines(precision, labels))]
          if precision is not None else []),
        ("Vocabulary drift between consecutive years", drift_part or nothing),
        ("Phrases of the last step", phrase_lines(phrases, top_phrases, langs, documents) or nothing),
        ("Low data", low_data_lines(freq, low_data_tokens)),
    ]
    return "\n\n".join(f"### {title}\n\n" + "\n".join(lines) for title, lines in blocks) + "\n"


# ---- results/README.md and the top-level README -----------------------------------------------


def _figure_description(stem: str) -> str:
    for chart in ("phrases", "new_formulations"):  # one chart per language
        if stem.startswith(f"{chart}_"):
            return f"{lang_name(stem[len(chart) + 1:])}: {FIGURES[chart]}"
    return FIGURES.get(stem, "")


def results_readme(tables: Iterable[str | Path], figures: Iterable[str | Path], findings: str,
                   provenance: dict | None = None, absent: Mapping[str, str] | None = None) -> str:
    """``results/README.md``: what made the results, one line per table and figure (and per output
    not made, with why), then the findings.

    Parameters
    ----------
    tables, figures : iterable of str or Path
    findings : str
        :func:`findings_markdown`'s output.
    provenance : dict, optional
        ``results/provenance.json`` (:func:`textdrift.provenance.write_provenance`).
    absent : mapping of str to str, optional
        Outputs the workflow does not make for this corpus -> why (``ABSENT`` of
        ``workflow/rules/common.smk``: a language no document declares, no bilingual document);
        listed under "Not made".

    Returns
    -------
    str
    """
    from textdrift.provenance import describe

    lines = ["# Results", "",
             "Generated by `make run` (the workflow's `results_readme` rule) from the tables below; do not edit by "
             "hand: `make run` rewrites it whenever a table, the code that made it or the configuration changes. "
             "Every number in the findings is read from these tables. The figures with their captions are also in "
             "`results/report.html`.", ""]
    if provenance:
        lines += [f"**Made by** {describe(provenance)}. Each table's rule, code hash and SHA-256: "
                  "[provenance.json](provenance.json).", ""]
    lines += ["**Explore** every number down to its sentences, offline, in [explorer.html](explorer.html) (rule "
              "`explorer`: themes, phrases, any term, drift and documents; open it in a browser).", "",
              "## Tables (`tables/`)", ""]
    lines += [f"- `tables/{Path(p).name}`: {TABLES.get(Path(p).name, '')}".rstrip(": ") for p in tables]
    lines += ["", "## Figures (`figures/`, PNG for reading, SVG for print)", ""]
    lines += [f"- `figures/{Path(p).name}`: {_figure_description(Path(p).stem)}".rstrip(": ")
              for p in figures if Path(p).suffix == ".png"]
    if absent:
        lines += ["", "## Not made for this corpus", ""]
        lines += [f"- {what}: not made: {why}." for what, why in absent.items()]
    lines += ["", "## Findings", "", findings.rstrip(), ""]
    return "\n".join(lines)


def write_results_readme(out_path: str | Path, tables: Sequence[str | Path], figures: Sequence[str | Path],
                         codebook_path: str | Path | None = None, settings: Mapping | None = None,
                         provenance_path: str | Path | None = None) -> None:
    """Rule ``results_readme``: write ``results/README.md`` (tables are read from the directory of ``tables[0]``).

    Parameters
    ----------
    out_path : str or Path
    tables, figures : sequence of str or Path
    codebook_path : str or Path, optional
    settings : mapping, optional
        ``low_data_tokens``, ``top_themes``, ``top_phrases`` (default: the configuration schema's)
        and ``absent`` (outputs not made -> why, :func:`results_readme`).
    provenance_path : str or Path, optional
        ``results/provenance.json``, stated at the top.
    """
    import json

    from textdrift.codebook import load_codebook

    s = {"low_data_tokens": _D["low_data_tokens"], "top_themes": _D["figures"]["top_themes"],
         "top_phrases": _D["figures"]["top_phrases"], "absent": {}, **(settings or {})}
    codebook = load_codebook(codebook_path) if codebook_path else None
    findings = findings_markdown(Path(tables[0]).parent, codebook, s["low_data_tokens"], s["top_themes"],
                                 s["top_phrases"])
    provenance = json.loads(Path(provenance_path).read_text(encoding="utf-8")) if provenance_path else None
    atomic_write_text(out_path, results_readme(tables, figures, findings, provenance, dict(s["absent"])))


def readme_snapshot(tables_dir: str | Path, codebook=None, results_dir: str = "results") -> str:
    """The short findings block of the top-level README (``make readme-findings``): how many
    headline findings survive, the ones that survive or hold as computed with what they fail, and
    the codebook's precision; the full findings are in ``results/README.md``.

    Parameters
    ----------
    tables_dir : str or Path
    codebook : list of Theme or of dict, optional
        For the theme labels (ids without it).
    results_dir : str
        How the block names the results directory.

    Returns
    -------
    str
    """
    t = Path(tables_dir)
    if not (t / "findings.csv").exists():
        return f"- No findings yet: run `make run` (then `{results_dir}/README.md` has them all).\n"
    findings = read_csv(t / "findings.csv")
    labels = _labels(codebook)
    lines = [_survivors_line(findings),
             f"- Every finding with its value, interval, documents and reasons: `{results_dir}/README.md` and "
             f"`{results_dir}/tables/findings.csv` (after `make run`)."]
    ok = findings["survives"].map(_truthy)
    holds = findings["holds"].map(_truthy) & ~ok
    lines += [f"- Survives: {r['claim']}." for _, r in findings[ok].iterrows()]
    lines += [f"- Holds as computed, does not survive: {r['claim']}: {r['reason']}."
              for _, r in findings[holds].iterrows()]
    # not tested (a year under the low-data threshold), though the interval lies on the claimed side of 1
    untested = findings["reason"].astype(str).str.startswith("a year is under low_data_tokens") & ~holds & ~ok
    clear = untested & (findings["value_name"] == "rate_ratio") & (
        ((findings["value"] > 1) & (findings["ci_low"] > 1)) | ((findings["value"] < 1) & (findings["ci_high"] < 1)))
    lines += [f"- Not tested (a year under the low-data threshold), interval clear of 1: {r['claim']}."
              for _, r in findings[clear].iterrows()]
    holds = holds | clear
    n_other = int((~ok & ~holds).sum())
    if n_other:
        lines.append(f"- The other {n_other} do not hold as computed (a year under the low-data threshold, an "
                     "interval includes 1, a gap is below the threshold, a drift step's permutation p above alpha).")
    if (t / "codebook_precision.csv").exists():
        prec = read_csv(t / "codebook_precision.csv")
        total = prec[(prec["theme"] == "all") & (prec["lang"] == "all")]
        if len(total) and total["n_coded"].iloc[0] > 0:
            r = total.iloc[0]
            cells = prec[(prec["theme"] != "all") & (prec["n_coded"] >= 10)]
            low = cells.sort_values("precision", kind="stable").head(1)
            worst = (f"; lowest theme with 10+ coded: {labels.get(low['theme'].iloc[0], low['theme'].iloc[0])} "
                     f"({low['lang'].iloc[0]}) {_num(low['precision'].iloc[0], 2)}" if len(low) else "")
            lines.append(f"- Codebook `{r['codebook']}`: precision {_num(r['precision'], 3)} on {r['n_coded']} "
                         f"hand-coded contexts (Wilson 95% {_num(r['ci_low'], 3)}–{_num(r['ci_high'], 3)}){worst}.")
    return "\n".join(lines) + "\n"


def update_readme_findings(readme_path: str | Path, findings: str) -> None:
    """Replace the text between ``<!-- findings:start -->`` and ``<!-- findings:end -->``, nothing else.

    Parameters
    ----------
    readme_path : str or Path
    findings : str

    Raises
    ------
    ValueError
        Unless the file has exactly one start marker followed by one end marker.
    """
    path = Path(readme_path)
    text = path.read_text(encoding="utf-8")
    if text.count(START) != 1 or text.count(END) != 1 or text.index(START) > text.index(END):
        raise ValueError(f"{path}: needs exactly one {START} followed by one {END}")
    head, rest = text.split(START)
    _, tail = rest.split(END)
    atomic_write_text(path, f"{head}{START}\n{findings.strip()}\n{END}{tail}")


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: refresh the findings snapshot of a README from the result tables (``make readme-findings``)."""
    from textdrift.config import load_yaml, with_defaults
    from textdrift.codebook import load_codebook

    ap = argparse.ArgumentParser(description="Refresh the findings snapshot of a README from the result tables.")
    ap.add_argument("readme", nargs="?", default="README.md")
    ap.add_argument("--config", default="config/config.yaml")
    args = ap.parse_args(argv)
    cfg = with_defaults(load_yaml(args.config))
    findings = readme_snapshot(Path(cfg["results_dir"]) / "tables", load_codebook(cfg["themes"]["codebook"]),
                               cfg["results_dir"])
    update_readme_findings(args.readme, findings)


if __name__ == "__main__":
    main()


def run_results_readme(input, output, params, log) -> None:
    """Rule ``results_readme``: results/README.md (the findings and what every table and figure is).

    Parameters
    ----------
    input, output, params : Snakemake's named lists of the rule (``workflow/rules/figures.smk``)
        Attribute access by the names the rule gives; any object with those attributes works.
    log : list of str
        The job's log file (first item).
    """
    from textdrift.io import log_to_file

    log_to_file(log[0])
    settings = {k: getattr(params, k) for k in ("low_data_tokens", "top_themes", "top_phrases")}
    write_results_readme(output[0], input.tables, input.figures, input.codebook,
                         {**settings, "absent": dict(getattr(params, "absent", None) or {})}, input.provenance)
