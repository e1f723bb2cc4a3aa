# New and vanished formulations (textdrift.formulations): maximal recurring strings first or last
# seen in a year, read from the token shards; and their chart (textdrift.figures).


rule formulations:
    """New and vanished formulations per language and year: maximal recurring strings (characters or words), ranked by spread."""
    input:
        tokens=expand(TOKENS, shard=SHARDS),
    output:
        table=report(
            f"{RESULTS}/tables/new_formulations.csv",
            category="Tables",
            labels={"table": "new formulations"},
        ),
    log:
        f"{LOGS}/formulations.log",
    benchmark:
        f"{LOGS}/benchmarks/formulations.tsv"
    priority: PRIORITY["formulations"]
    conda:
        "../envs/analysis.yml"
    threads: 1
    # shards read one at a time, units kept per year in a temporary directory (about 10 bytes a
    # unit, some 3 times the token shards' size), one year counted at a time: measured 0.59 GB peak
    # at 50 MB of raw text and 0.73 GB at 200 MB (149 MB of token shards; 2.60 GB before)
    resources:
        mem_mb=lambda wildcards, input, attempt: attempt
        * (1000 + 2 * int(input.size_mb)),
        runtime=lambda wildcards, input, attempt: attempt
        * (10 + int(input.size_mb) // 4),
    params:
        languages=LANGS,
        unspaced_languages=config["unspaced_languages"],
        count_roles=config["count_roles"],
        min_count=config["formulations"]["min_count"],
        min_paragraphs=config["formulations"]["min_paragraphs"],
        window=config["formulations"]["window"],
        min_chars=config["formulations"]["min_chars"],
        max_chars=config["formulations"]["max_chars"],
        min_words=config["formulations"]["min_words"],
        max_words=config["formulations"]["max_words"],
        top_n=config["formulations"]["top_n"],
        fold_share=config["formulations"]["fold_share"],
    script:
        "../scripts/formulations.py"


rule formulation_figures:
    """Chart of the top new formulations of every year, one per language (PNG + SVG)."""
    input:
        formulations=rules.formulations.output.table,
    output:
        png=report(
            expand(f"{RESULTS}/figures/new_formulations_{{lang}}.png", lang=LANGS),
            caption="../report/new_formulations.rst",
            category="Formulations",
        ),
        svg=expand(f"{RESULTS}/figures/new_formulations_{{lang}}.svg", lang=LANGS),
    log:
        f"{LOGS}/figures/formulations.log",
    benchmark:
        f"{LOGS}/benchmarks/formulation_figures.tsv"
    priority: PRIORITY["formulation_figures"]
    conda:
        "../envs/analysis.yml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: attempt * 2000,
        runtime=lambda wildcards, attempt: attempt * 15,
    params:
        languages=LANGS,
        k=config["formulations"]["chart_k"],
        top_n=config["formulations"]["top_n"],
        window=config["formulations"]["window"],
        unspaced_languages=config["unspaced_languages"],
        dpi=config["figures"]["dpi"],
        # each language's chart as last drawn, copied when its rows, settings and code are unchanged
        # (none under a storage provider: a job writes nothing but its declared outputs there)
        memo_dir=None if STORAGE else f"{CACHE}/figures",
    script:
        "../scripts/formulation_figures.py"


TARGETS += rules.formulations.output
TARGETS += rules.formulation_figures.output
