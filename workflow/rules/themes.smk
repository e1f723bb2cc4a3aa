rule theme_matches:
    """Codebook and entity matches (with their KWIC context) of one token shard; the same (matches without
    context) for each variant the findings' checks count. (Kept tokens per paragraph: rule count.)
    """
    input:
        tokens=TOKENS,
        codebook=config["themes"]["codebook"],
        schema=SCHEMA["themes"],
        entities=ENTITY_INPUT,
    output:
        matches=f"{PROCESSED}/themes/matches-{{shard}}.parquet",
        entities=f"{PROCESSED}/themes/entities-{{shard}}.parquet",
        check_matches=expand(
            f"{PROCESSED}/themes/_findings/matches_{{variant}}-{{{{shard}}}}.parquet",
            variant=CHECK_VARIANTS,
        ),
    log:
        f"{LOGS}/theme_matches/shard-{{shard}}.log",
    benchmark:
        f"{LOGS}/benchmarks/theme_matches-{{shard}}.tsv"
    priority: PRIORITY["theme_matches"]
    conda:
        "../envs/analysis.yml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input, attempt: attempt
        * (1000 + 100 * int(input.size_mb)),
        runtime=lambda wildcards, input, attempt: attempt
        * (15 + 2 * int(input.size_mb)),
    params:
        languages=LANGS,
        count_roles=config["count_roles"],
        kwic_window=config["themes"]["kwic_window"],
        unspaced_languages=config["unspaced_languages"],
    script:
        "../scripts/theme_matches.py"


rule themes:
    """Theme frequencies per (year, language) with intervals, their KWIC lines and the codebook terms that never matched."""
    input:
        matches=expand(f"{PROCESSED}/themes/matches-{{shard}}.parquet", shard=SHARDS),
        entities=expand(f"{PROCESSED}/themes/entities-{{shard}}.parquet", shard=SHARDS),
        paras=expand(f"{PROCESSED}/themes/paras-{{shard}}.parquet", shard=SHARDS),
        codebook=config["themes"]["codebook"],
        schema=SCHEMA["themes"],
        entity_list=ENTITY_INPUT,
        documents=f"{RESULTS}/tables/documents.csv",
    output:
        **(
            {
                "grouped_frequencies": f"{GROUPED}/theme_frequencies.csv",
                "grouped_changes": f"{GROUPED}/theme_changes.csv",
            }
            if GROUP_BY
            else {}
        ),
        frequencies=report(
            f"{RESULTS}/tables/theme_frequencies.csv",
            category="Tables",
            labels={"table": "theme frequencies"},
        ),
        entity_frequencies=f"{RESULTS}/tables/entity_frequencies.csv",
        changes=report(
            f"{RESULTS}/tables/theme_changes.csv",
            category="Tables",
            labels={"table": "theme changes"},
        ),
        kwic=f"{RESULTS}/tables/theme_kwic.csv",
        unmatched=f"{RESULTS}/tables/theme_unmatched_terms.csv",
        # group_by: the same frequencies and changes per group (a `group` column first)
    log:
        f"{LOGS}/themes.log",
    benchmark:
        f"{LOGS}/benchmarks/themes.tsv"
    priority: PRIORITY["themes"]
    conda:
        "../envs/analysis.yml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input, attempt: attempt
        * (1000 + 100 * int(input.size_mb)),
        runtime=lambda wildcards, input, attempt: attempt * (15 + int(input.size_mb)),
    params:
        languages=LANGS,
        ci=config["themes"]["ci"],
        conf_level=config["themes"]["conf_level"],
        n_boot=config["themes"]["n_boot"],
        seed=config["themes"]["seed"],
        bootstrap_unit=config["themes"]["bootstrap_unit"],
        min_documents=config["themes"]["min_documents"],
        min_tokens=config["low_data_tokens"],
        group_by=GROUP_BY,
    script:
        "../scripts/themes.py"


TARGETS += rules.themes.output
