rule themes:
    """Theme frequencies per (year, language) with intervals, their KWIC lines and the codebook terms that never matched."""
    input:
        tokens=expand(f"{PROCESSED}/tokens/shard-{{shard}}.parquet", shard=SHARDS),
        codebook=config["themes"]["codebook"],
        schema="workflow/schemas/themes.schema.yaml",
    output:
        frequencies=f"{RESULTS}/tables/theme_frequencies.csv",
        kwic=f"{RESULTS}/tables/theme_kwic.csv",
        unmatched=f"{RESULTS}/tables/theme_unmatched_terms.csv",
    params:
        languages=LANGS,
        kwic_window=config["themes"]["kwic_window"],
        ci=config["themes"]["ci"],
        conf_level=config["themes"]["conf_level"],
        n_boot=config["themes"]["n_boot"],
        seed=config["themes"]["seed"],
        unspaced_languages=config["unspaced_languages"],
    threads: 1
    resources:
        mem_mb=lambda wildcards, input, attempt: attempt * (1000 + 200 * int(input.size_mb)),
        runtime=lambda wildcards, input, attempt: attempt * (15 + 2 * int(input.size_mb)),
    log:
        f"{LOGS}/themes.log",
    conda:
        ENV
    script:
        "../scripts/themes.py"


TARGETS += rules.themes.output
