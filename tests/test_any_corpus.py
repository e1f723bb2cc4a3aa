"""Issue 29, "Done when": a one-language corpus of 15 years (2010-2025, 2017 missing) and 20 themes,
started from scratch with `make new-corpus`'s entry point (textdrift.newcorpus), run through the
workflow (as `make run` runs it: textdrift.console), and its outputs checked: no output for the
absent language, no cross-language output, every phrase step in the phrase chart, every figure's
axis labels, the never-matched codebook terms named in the console summary, and (with the
repeated-paragraph rule of clean.repeated_paragraphs) the licence footer of every file not counted.

`write_chinese_corpus` is also how the charts of such a corpus were looked at:
``python tests/test_any_corpus.py DIR`` writes the corpus into a new corpus directory DIR (made by
textdrift.newcorpus) for ``make run CONFIG=DIR/config.yaml``.
"""

from __future__ import annotations

import csv
import random
import subprocess
import sys
from pathlib import Path

import matplotlib
import pandas as pd
import pytest

from textdrift import figures as F
from textdrift.config import defaults
from textdrift.newcorpus import MANIFEST_HEADER, main as new_corpus

YEARS = [y for y in range(2010, 2026) if y != 2017]  # 15 years, one missing
N_THEMES = 20
FOOTER = "本报告依据知识共享署名许可协议发布转载请注明出处并保留本声明全文。"
FOOTER_TERM = "知识共享"  # a term of theme t19 found only in the footer: counted 30 times unless the footer is paratext
NEVER = "量子霸权"  # a codebook term that no document contains
# filler words and theme words from disjoint characters: no theme term appears by chance
FILLER_CHARS = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严"
THEME_CHARS = "龙凤麟鹤松竹梅兰菊莲桂椿檀柏榆槐杏桃李梨橘柚枫杉棠葵蓉萱芷蘅芙蓬蒿芦苇荷菱藕茉莉蔷薇芍药牡丹玫瑰"


def theme_terms() -> dict[str, list[str]]:
    """20 themes, two four-character terms each (theme t19 also has FOOTER_TERM, only in the footer;
    theme t20 also has NEVER, which never occurs)."""
    chars = THEME_CHARS
    terms = {}
    for i in range(N_THEMES):
        a, b, c, d = (chars[(i * 2 + k) % len(chars)] for k in range(4))
        terms[f"t{i + 1:02d}"] = [f"{a}{b}{c}{d}", f"{b}{a}{d}{c}"]
    terms["t19"].append(FOOTER_TERM)
    terms["t20"].append(NEVER)
    return terms


def write_chinese_corpus(corpus: Path, seed: int = 0, docs_per_year: int = 2, paras: int = 22) -> None:
    """Documents, manifest rows, codebook and user dictionary of the test corpus into the new corpus
    directory ``corpus`` (made by textdrift.newcorpus): Chinese only, the years of ``YEARS``, the
    themes of :func:`theme_terms` with rates that drift over the years, and FOOTER closing every file."""
    rng = random.Random(seed)
    words = list(dict.fromkeys(FILLER_CHARS[i] + FILLER_CHARS[(i * 7 + 3) % len(FILLER_CHARS)]
                               for i in range(len(FILLER_CHARS))))
    terms = theme_terms()
    rows = []
    for year in YEARS:
        # a few phrases (three-word sequences) that come and go, so every step has rising and falling ones
        phrases = [" ".join(rng.sample(words, 3)).replace(" ", "") for _ in range(6)]
        for k in range(docs_per_year):
            doc_id = f"report_{year}_{k + 1}"
            body = [f"{year}年工作报告（第{k + 1}部分）"]
            for _ in range(paras):
                sents = []
                for _ in range(3):
                    sent = rng.choices(words, k=14)
                    for i, (theme, ts) in enumerate(terms.items()):
                        # theme i's rate rises (even i) or falls (odd i) over the years
                        share = (year - 2009) / 16 if i % 2 == 0 else (2026 - year) / 16
                        if rng.random() < 0.05 + 0.1 * share:
                            sent.insert(rng.randrange(len(sent)), ts[rng.randrange(2)])
                    if rng.random() < 0.4:
                        sent.insert(rng.randrange(len(sent)), rng.choice(phrases))
                    sents.append("".join(sent) + "。")
                body.append("".join(sents))
            body.append(FOOTER)
            (corpus / "raw" / f"{doc_id}.txt").write_text("\n\n".join(body) + "\n", encoding="utf-8")
            rows.append({"doc_id": doc_id, "date": f"{year}-03-0{k + 1}", "year": str(year),
                         "title": f"{year}年工作报告（第{k + 1}部分）", "file": f"{doc_id}.txt",
                         "languages": "zh", "genre": "report"})
    with open(corpus / "raw" / "documents.csv", "a", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=MANIFEST_HEADER.split(","), lineterminator="\n")
        w.writerows(rows)
    themes = ["themes:"]
    for i, (theme, ts) in enumerate(terms.items()):
        themes += [f"  - id: {theme}", f"    label_en: Theme {i + 1}", f"    label_zh: 主题{i + 1}",
                   f"    zh: [{', '.join(ts)}]"]
    (corpus / "themes.yaml").write_text("\n".join(themes) + "\n", encoding="utf-8")
    words_of_dict = [t for ts in terms.values() for t in ts] + words
    (corpus / "zh_user_dict.txt").write_text("".join(f"{w} 100 n\n" for w in words_of_dict), encoding="utf-8")


def unlabelled(fig) -> list[str]:
    """Axes of ``fig`` that lack axis labels: a visible panel without y tick labels (and no panel to
    its left in the same row that has them), or the lowest panel of a column without x tick labels.
    Panels with no ticks at all on an axis (a key, a note) are left alone on that axis."""
    fig.draw_without_rendering()
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]

    def has(ax, axis):
        labels = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
        label = ax.get_xlabel() if axis == "x" else ax.get_ylabel()
        return bool(label) or any(t.get_text() for t in labels)

    problems = []
    for ax in axes:
        box = ax.get_position()
        name = ax.get_title().split("\n")[0] or ax.get_ylabel() or "panel"
        row = [o for o in axes if o.get_position().x1 <= box.x0 + 1e-6
               and min(o.get_position().y1, box.y1) - max(o.get_position().y0, box.y0) > 0]
        if len(ax.get_yticks()) and not has(ax, "y") and not any(has(o, "y") for o in row):
            problems.append(f"{name}: no y labels")
        below = [o for o in axes if o.get_position().y1 <= box.y0 + 1e-6
                 and min(o.get_position().x1, box.x1) - max(o.get_position().x0, box.x0) > 0]
        if len(ax.get_xticks()) and not has(ax, "x") and not below:
            problems.append(f"{name}: no x labels")
    return problems


def test_unlabelled_finds_a_bottom_panel_without_year_labels():
    fig, axes = matplotlib.pyplot.subplots(2, 2, sharex=True)
    axes[1, 1].set_visible(False)  # the panel above it keeps its labels hidden by sharex
    for ax in axes.flat:
        ax.plot([2010, 2011], [1, 2])
    assert unlabelled(fig) == ["panel: no x labels"]
    F._label_bottom_panels(axes)
    assert unlabelled(fig) == []
    matplotlib.pyplot.close(fig)


@pytest.fixture(scope="module")
def new_corpus_run(tmp_path_factory):
    """The corpus made from scratch and run once, as a user would: new corpus, files, `make run`."""
    import contextlib
    import os

    from conftest import copy_project

    work = copy_project(tmp_path_factory.mktemp("anycorpus"))
    with contextlib.chdir(work):
        assert new_corpus(["corpora/mine"]) == 0  # no --languages: the manifest's
    corpus = work / "corpora" / "mine"
    write_chinese_corpus(corpus)
    config = corpus / "config.yaml"
    # as `make run` runs it: progress in a few lines, then the jobs' warnings
    snakemake = str(Path(sys.executable).with_name("snakemake"))
    proc = subprocess.run([sys.executable, "-m", "textdrift.console", "run", "--logs", str(corpus / "logs"), "--",
                           snakemake, "--cores", "2",
                           "--configfile", str(config), "--quiet", "host"], cwd=work, capture_output=True, text=True,
                          env={**os.environ, "MPLBACKEND": "Agg"})
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return work, corpus, proc


@pytest.mark.e2e
def test_a_new_chinese_corpus_of_15_years_and_20_themes(new_corpus_run):
    work, corpus, proc = new_corpus_run
    assert "\nlanguages:" not in (corpus / "config.yaml").read_text(encoding="utf-8")
    results = corpus / "results"
    tables, figures = results / "tables", results / "figures"
    # the console summary names the never-matched term, with the log to read
    summary = proc.stdout[proc.stdout.index("warning(s) from the jobs"):]
    assert NEVER in summary and "never matched" in summary
    # the jobs' logs beside the corpus's results, not in the checkout's logs/ (another corpus's)
    assert (corpus / "logs" / "benchmarks").is_dir() and not (work / "logs").exists()

    # languages from the data: Chinese only, nothing English, nothing across languages
    freq = pd.read_csv(tables / "theme_frequencies.csv")
    assert set(freq["lang"]) == {"zh"} and sorted(freq["year"].unique()) == YEARS
    assert not [p.name for p in figures.iterdir() if "_en." in p.name or p.name.startswith("crosslingual")]
    assert not [p.name for p in tables.iterdir() if p.name.startswith("crosslingual") or p.name == "codebook_pairs.csv"]
    readme = (results / "README.md").read_text(encoding="utf-8")
    assert "## Not made for this corpus" in readme
    assert "en outputs (phrases_en, new_formulations_en, en rows): not made: no document of the manifest declares en" in readme
    assert ("crosslingual_themes, crosslingual_alignment" in readme
            and "not made: no document is in both zh and en (crosslingual.langs)" in readme)
    report = (work / "workflow" / "report" / "workflow.rst").read_text(encoding="utf-8")
    assert 'snakemake.config["languages"]' in report  # the report names config languages, now [zh]
    assert {p.name for p in figures.glob("*.png")} == {
        "theme_trends.png", "theme_heatmap.png", "drift.png", "similarity.png", "phrases_zh.png",
        "new_formulations_zh.png"}

    # every figure, as the workflow drew it: axis labels present, every phrase step shown
    d = defaults()
    settings = {"languages": ["zh"], "low_data_tokens": d["low_data_tokens"], "phrase_k": d["figures"]["phrase_k"],
                "phrase_cols": d["figures"]["phrase_cols"], "q_threshold": d["phrases"]["q_threshold"]}
    charts = F.draw_figures({"frequencies": tables / "theme_frequencies.csv", "codebook": corpus / "themes.yaml",
                             "precision": tables / "codebook_precision.csv", "documents": tables / "documents.csv",
                             "drift": tables / "tfidf_drift.csv", "baseline": tables / "tfidf_baseline.csv",
                             "similarity": tables / "tfidf_similarity.csv", "phrases": tables / "phrase_changes.csv"},
                            settings)
    assert set(charts) == {"theme_trends", "theme_heatmap", "drift", "similarity", "phrases_zh"}
    steps = pd.read_csv(tables / "phrase_changes.csv")[["year_from", "year_to"]].drop_duplicates()
    assert len(steps) == 14
    for name, draw in charts.items():
        fig = draw()
        assert unlabelled(fig) == [], name
        if name == "phrases_zh":
            shown = [ax.get_title().split("\n")[0] for ax in fig.axes if ax.get_visible()]
            assert shown == [F._step_label(a, b) for a, b in sorted(steps.itertuples(index=False))]
            assert "2016→2018 (2 y)" in shown
        if name == "theme_trends":  # 20 panels; no line across the missing 2017
            assert sum(ax.get_visible() for ax in fig.axes) == N_THEMES
            for ax in fig.axes:
                for line in ax.get_lines():
                    x = line.get_xdata()
                    assert not (len(x) == 2 and min(x) < 2017 < max(x) and line.get_linestyle() != "None")
        if name == "similarity":  # the scale follows the data; the missing year is said
            assert fig.axes[0].images[0].norm.vmin > 0 and "no text in 2017" in fig._suptitle.get_text()
        if name == "theme_heatmap":
            assert any(t.get_text() == "no text\n2017" for ax in fig.axes for t in ax.texts)
        matplotlib.pyplot.close(fig)
    formulations = F.new_formulations_chart(pd.read_csv(tables / "new_formulations.csv"), "zh")
    assert unlabelled(formulations) == []
    matplotlib.pyplot.close(formulations)



@pytest.mark.e2e
def test_the_footer_repeated_in_every_file_is_not_counted(new_corpus_run):
    """The licence footer closing all 30 files is paratext: logged in the cleaning log, and its
    theme term (FOOTER_TERM, in no other paragraph) is never counted."""
    work, corpus, proc = new_corpus_run
    assert defaults()["clean"]["repeated_paragraphs"]
    log = pd.read_csv(corpus / "processed" / "cleaning_log.csv", dtype=str, keep_default_na=False)
    footer = log[log.apply(lambda c: c.str.contains(FOOTER[:8], regex=False)).any(axis=1)]
    assert len(footer), "the repeated footer is not in the cleaning log"
    kwic = pd.read_csv(corpus / "results" / "tables" / "theme_kwic.csv", dtype=str, keep_default_na=False)
    assert not kwic.apply(lambda c: c.str.contains(FOOTER_TERM, regex=False)).any().any()
    unmatched = pd.read_csv(corpus / "results" / "tables" / "theme_unmatched_terms.csv")
    assert FOOTER_TERM in set(unmatched["term"])


if __name__ == "__main__":
    write_chinese_corpus(Path(sys.argv[1]))
