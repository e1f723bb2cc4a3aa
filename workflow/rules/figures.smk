# Figures (textdrift.figures) and the generated results/README.md (textdrift.report).

FIGURE_DIR = f"{RESULTS}/figures"
TABLE_DIR = f"{RESULTS}/tables"


rule theme_figures:
    """Theme charts: trends with intervals and the year x theme heat map (PNG + SVG; the PNGs go into the report)."""
    input:
        frequencies=f"{TABLE_DIR}/theme_frequencies.csv",
        precision=f"{TABLE_DIR}/codebook_precision.csv",
        # the genre of each year's documents: a trend line is not drawn across a change of genre
        documents=f"{TABLE_DIR}/documents.csv",
        codebook=config["themes"]["codebook"],
        schema=SCHEMA["themes"],
    output:
        theme_trends=report(
            f"{FIGURE_DIR}/theme_trends.png",
            caption="../report/theme_trends.rst",
            category="Themes",
        ),
        theme_heatmap=report(
            f"{FIGURE_DIR}/theme_heatmap.png",
            caption="../report/theme_heatmap.rst",
            category="Themes",
        ),
        svg=expand(f"{FIGURE_DIR}/{{name}}.svg", name=["theme_trends", "theme_heatmap"]),
    log:
        f"{LOGS}/figures/themes.log",
    benchmark:
        f"{LOGS}/benchmarks/theme_figures.tsv"
    priority: PRIORITY["theme_figures"]
    conda:
        "../envs/analysis.yml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: attempt * 2000,
        runtime=lambda wildcards, attempt: attempt * 15,
    params:
        groups=["themes"],
        languages=LANGS,
        low_data_tokens=config["low_data_tokens"],
        dpi=config["figures"]["dpi"],
        # each chart as last drawn, copied when what it reads (not the codebook's hash column: a
        # term that matches nothing changes no number), its settings and code are unchanged
        memo_dir=None if STORAGE else f"{CACHE}/figures",
    script:
        "../scripts/figures.py"


rule drift_figures:
    """Drift charts: consecutive-year distances with their baselines and the year x year similarity (PNG + SVG)."""
    input:
        drift=f"{TABLE_DIR}/tfidf_drift.csv",
        baseline=f"{TABLE_DIR}/tfidf_baseline.csv",
        similarity=f"{TABLE_DIR}/tfidf_similarity.csv",
    output:
        drift=report(
            f"{FIGURE_DIR}/drift.png", caption="../report/drift.rst", category="Drift"
        ),
        similarity=report(
            f"{FIGURE_DIR}/similarity.png",
            caption="../report/similarity.rst",
            category="Drift",
        ),
        svg=expand(f"{FIGURE_DIR}/{{name}}.svg", name=["drift", "similarity"]),
    log:
        f"{LOGS}/figures/drift.log",
    benchmark:
        f"{LOGS}/benchmarks/drift_figures.tsv"
    priority: PRIORITY["drift_figures"]
    conda:
        "../envs/analysis.yml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: attempt * 2000,
        runtime=lambda wildcards, attempt: attempt * 15,
    params:
        groups=["drift"],
        languages=LANGS,
        low_data_tokens=config["low_data_tokens"],
        dpi=config["figures"]["dpi"],
        # each chart as last drawn, copied when its tables, settings and code are unchanged
        memo_dir=None if STORAGE else f"{CACHE}/figures",
    script:
        "../scripts/figures.py"


rule phrase_figures:
    """Phrase charts: top rising and falling phrases per step, one chart per language (PNG + SVG)."""
    input:
        phrases=f"{TABLE_DIR}/phrase_changes.csv",
        # each step's ranking: by z (test) or by the exploratory effect
        phrase_steps=f"{TABLE_DIR}/phrase_steps.csv",
    output:
        phrases=report(
            expand(f"{FIGURE_DIR}/phrases_{{lang}}.png", lang=LANGS),
            caption="../report/phrases.rst",
            category="Phrases",
        ),
        svg=expand(f"{FIGURE_DIR}/phrases_{{lang}}.svg", lang=LANGS),
    log:
        f"{LOGS}/figures/phrases.log",
    benchmark:
        f"{LOGS}/benchmarks/phrase_figures.tsv"
    priority: PRIORITY["phrase_figures"]
    conda:
        "../envs/analysis.yml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input, attempt: attempt
        * (2000 + 20 * int(input.size_mb)),
        runtime=lambda wildcards, attempt: attempt * 15,
    params:
        groups=["phrases"],
        languages=LANGS,
        low_data_tokens=config["low_data_tokens"],
        phrase_k=config["figures"]["phrase_k"],
        phrase_cols=config["figures"]["phrase_cols"],
        q_threshold=config["phrases"]["q_threshold"],
        dpi=config["figures"]["dpi"],
        # each language's chart as last drawn, copied when its rows, settings and code are unchanged
        # (none under a storage provider: a job writes nothing but its declared outputs there)
        memo_dir=None if STORAGE else f"{CACHE}/figures",
    script:
        "../scripts/figures.py"


FIGURES = [
    *rules.theme_figures.output,
    *rules.drift_figures.output,
    *rules.phrase_figures.output,
]


rule results_readme:
    """results/README.md: one line per table and figure, then the main findings read from the tables."""
    input:
        tables=expand(
            f"{TABLE_DIR}/{{name}}.csv",
            name=[
                "findings",
                "documents",
                "theme_frequencies",
                "theme_changes",
                "entity_frequencies",
                "theme_kwic",
                "theme_unmatched_terms",
                "codebook_precision",
                *(["codebook_pairs"] if CROSSLINGUAL else []),
                "tfidf_drift",
                "tfidf_similarity",
                "tfidf_baseline",
                "tfidf_top_terms",
                "tfidf_term_shifts",
                "phrase_changes",
                "phrase_steps",
                "new_formulations",
                # only with a bilingual document (common.smk: CROSSLINGUAL)
                *(
                    [
                        "crosslingual_themes",
                        "crosslingual_alignment",
                        "crosslingual_codebook_check",
                        "crosslingual_trends",
                    ]
                    if CROSSLINGUAL
                    else []
                ),
            ],
        ),
        figures=[
            *FIGURES,
            *([rules.crosslingual.output.png] if CROSSLINGUAL else []),
            *rules.formulation_figures.output.png,
        ],
        codebook=config["themes"]["codebook"],
        provenance=f"{RESULTS}/provenance.json",
    output:
        f"{RESULTS}/README.md",
    log:
        f"{LOGS}/results_readme.log",
    priority: PRIORITY["results_readme"]
    conda:
        "../envs/analysis.yml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: attempt * 2000,
        runtime=lambda wildcards, attempt: attempt * 15,
    params:
        low_data_tokens=config["low_data_tokens"],
        top_themes=config["figures"]["top_themes"],
        top_phrases=config["figures"]["top_phrases"],
        # outputs not made, and why (common.smk: a language no document declares, no bilingual document)
        absent=ABSENT,
    script:
        "../scripts/results_readme.py"


TARGETS += FIGURES
TARGETS += rules.results_readme.output
