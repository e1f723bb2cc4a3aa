rule crosslingual:
    """Across languages: per bilingual document, paragraph alignment, comparability, theme counts in both versions on aligned pairs with an exact conditional test, years pooled, codebook check and a chart."""
    input:
        matches=expand(f"{PROCESSED}/themes/matches-{{shard}}.parquet", shard=SHARDS),
        paras=expand(f"{PROCESSED}/themes/paras-{{shard}}.parquet", shard=SHARDS),
        index=f"{PROCESSED}/clean/index.csv",
        texts=expand(CLEAN_TEXTS, shard=SHARDS),  # the clean texts the index names
        codebook=config["themes"]["codebook"],
        schema=SCHEMA["themes"],
    output:
        themes=f"{RESULTS}/tables/crosslingual_themes.csv",
        alignment=f"{RESULTS}/tables/crosslingual_alignment.csv",
        codebook_check=f"{RESULTS}/tables/crosslingual_codebook_check.csv",
        trends=f"{RESULTS}/tables/crosslingual_trends.csv",
        pairs=f"{RESULTS}/tables/codebook_pairs.csv",
        png=report(
            f"{RESULTS}/figures/crosslingual_themes.png",
            caption="../report/crosslingual_themes.rst",
            category="Across languages",
        ),
        svg=f"{RESULTS}/figures/crosslingual_themes.svg",
    log:
        f"{LOGS}/crosslingual.log",
    benchmark:
        f"{LOGS}/benchmarks/crosslingual.tsv"
    priority: PRIORITY["crosslingual"]
    conda:
        "../envs/analysis.yml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input, attempt: attempt
        * (1000 + 50 * int(input.size_mb)),
        runtime=lambda wildcards, input, attempt: attempt
        * (15 + 2 * int(input.size_mb)),
    params:
        langs=config["crosslingual"]["langs"],
        q_threshold=config["crosslingual"]["q_threshold"],
        min_tokens=config["low_data_tokens"],
        min_years=config["crosslingual"]["min_years"],
        alignment=config["crosslingual"]["alignment"],
        comparable=config["crosslingual"]["comparable"],
        dpi=config["crosslingual"]["dpi"],
        chart_docs=config["crosslingual"]["chart_docs"],
        # intervals as in theme_frequencies.csv; unspaced languages are aligned by characters
        conf_level=config["themes"]["conf_level"],
        unspaced_languages=config["unspaced_languages"],
        figure_stem=lambda w, output: str(Path(output.png).with_suffix("")),
        # the chart as last drawn, copied when its table, themes, settings and code are unchanged
        memo_dir=None if STORAGE else f"{CACHE}/figures",
    script:
        "../scripts/crosslingual.py"


# only with a document in both languages (common.smk: CROSSLINGUAL; else results/README.md says why)
if CROSSLINGUAL:

    TARGETS += rules.crosslingual.output
