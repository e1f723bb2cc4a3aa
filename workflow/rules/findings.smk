rule findings:
    """results/tables/findings.csv: each headline finding with its value, interval, documents and the checks it survives."""
    input:
        # the token shards' partial results (rules count and theme_matches), never the token table:
        # per variant (base: the pipeline's own counts), kept tokens per paragraph and theme matches ...
        **{
            f"{kind}_{variant}": expand(
                (
                    f"{PROCESSED}/themes/{kind}-{{shard}}.parquet"
                    if variant == "base"
                    else f"{PROCESSED}/themes/_findings/{kind}_{variant}-{{shard}}.parquet"
                ),
                shard=SHARDS,
            )
            for kind in ("paras", "matches")
            for variant in ["base", *CHECK_VARIANTS]
        },
        # ... n-grams per document, per language; the base n-grams per paragraph
        **{
            f"doc_{variant}_{lang}": expand(
                (
                    f"{PROCESSED}/vectors/_shards/doc_{lang}-{{shard}}.npz"
                    if variant == "base"
                    else f"{PROCESSED}/vectors/_findings/doc_{variant}_{lang}-{{shard}}.npz"
                ),
                shard=SHARDS,
            )
            for variant in ["base", *CHECK_VARIANTS]
            for lang in LANGS
        },
        **{
            f"para_ngrams_{lang}": expand(
                f"{PROCESSED}/vectors/_findings/para_{lang}-{{shard}}.npz",
                shard=SHARDS,
            )
            for lang in LANGS
        },
        codebook=config["themes"]["codebook"],
        schema=SCHEMA["themes"],
        entities=ENTITY_INPUT,
        documents=f"{RESULTS}/tables/documents.csv",
        drift=f"{RESULTS}/tables/tfidf_drift.csv",
        phrases=f"{RESULTS}/tables/phrase_changes.csv",
        # none without a bilingual document (common.smk: CROSSLINGUAL): no cross-language finding
        crosslingual=(
            f"{RESULTS}/tables/crosslingual_themes.csv" if CROSSLINGUAL else []
        ),
        crosslingual_alignment=(
            f"{RESULTS}/tables/crosslingual_alignment.csv" if CROSSLINGUAL else []
        ),
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
        # the inputs are the shards' partial results (about 2 MB per MB of text), not the token table
        mem_mb=lambda wildcards, input, attempt: attempt
        * (1000 + 10 * int(input.size_mb)),
        runtime=lambda wildcards, input, attempt: attempt * (15 + int(input.size_mb)),
    params:
        languages=LANGS,
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
        # one low-data rule for themes, phrases and drift; the drift finding's permutation level
        low_data_tokens=config["low_data_tokens"],
        drift_alpha=config["drift"]["alpha"],
        # the phrase and cross-language checks recompute those rules' tests
        phrase_settings={
            **{
                k: config["phrases"][k]
                for k in [
                    "min_count",
                    "alpha_0",
                    "q_threshold",
                    "ngram_max",
                    "min_documents",
                ]
            },
            "unspaced_languages": config["unspaced_languages"],
            "min_tokens": config["low_data_tokens"],
        },
        # (the gaps are recounted on the aligned pairs of crosslingual_alignment.csv)
        cross_settings=lambda wildcards, input: {
            **{k: config["crosslingual"][k] for k in ["langs", "q_threshold"]},
            "min_tokens": config["low_data_tokens"],
            "alignment": input.crosslingual_alignment,
        },
    script:
        "../scripts/findings.py"


TARGETS += rules.findings.output
