rule findings:
    """results/tables/findings.csv: each headline finding with its value, interval, documents and the checks it survives."""
    input:
        tokens=expand(TOKENS, shard=SHARDS),
        codebook=config["themes"]["codebook"],
        schema=SCHEMA["themes"],
        entities=ENTITY_INPUT,
        documents=f"{RESULTS}/tables/documents.csv",
        drift=f"{RESULTS}/tables/tfidf_drift.csv",
        phrases=f"{RESULTS}/tables/phrase_changes.csv",
        crosslingual=f"{RESULTS}/tables/crosslingual_themes.csv",
        precision=f"{RESULTS}/tables/codebook_precision.csv",
    output:
        report(
            f"{RESULTS}/tables/findings.csv",
            category="Tables",
            labels={"table": "findings"},
        ),
    log:
        f"{LOGS}/findings.log",
    benchmark:
        f"{LOGS}/benchmarks/findings.tsv"
    conda:
        "../envs/analysis.yml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input, attempt: attempt
        * (1000 + 60 * int(input.size_mb)),
        runtime=lambda wildcards, input, attempt: attempt
        * (15 + 2 * int(input.size_mb)),
    params:
        languages=LANGS,
        count_roles=config["count_roles"],
        top_themes=config["figures"]["top_themes"],
        conf_level=config["themes"]["conf_level"],
        n_boot=config["themes"]["n_boot"],
        seed=config["themes"]["seed"],
        bootstrap_unit=config["themes"]["bootstrap_unit"],
        min_documents=config["themes"]["min_documents"],
        tfidf=config["drift"]["tfidf"],
        top_phrases=config["figures"]["top_phrases"],
        min_precision=config["validation"]["min_precision"],
        min_coded=config["validation"]["min_coded"],
        # the phrase and cross-language checks recompute those rules' tests
        phrase_settings={
            **{
                k: config["phrases"][k]
                for k in ["min_count", "alpha_0", "q_threshold", "ngram_max"]
            },
            "unspaced_languages": config["unspaced_languages"],
            "min_tokens": config["low_data_tokens"],
        },
        cross_settings={
            **{
                k: config["crosslingual"][k]
                for k in ["langs", "prior", "alpha_0", "z_threshold"]
            },
            "min_tokens": config["low_data_tokens"],
        },
    script:
        "../scripts/findings.py"


TARGETS += rules.findings.output
