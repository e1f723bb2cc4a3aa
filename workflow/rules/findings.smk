# The headline findings (textdrift.findings) in three jobs: the part that reads the codebook (theme
# changes, cross-language gaps), the part that does not (drift and phrases: a codebook edit does not
# rerun it), and the table assembled from the two.


rule findings_themes:
    """The theme and cross-language findings with their checks (textdrift.findings.theme_part), as JSON for rule findings."""
    input:
        # the token shards' partial results (rules count and theme_matches), never the token table:
        # per variant (base: the pipeline's own counts), kept tokens per paragraph and theme matches
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
        codebook=config["themes"]["codebook"],
        schema=SCHEMA["themes"],
        entities=ENTITY_INPUT,
        documents=f"{RESULTS}/tables/documents.csv",
        # none without a bilingual document (common.smk: CROSSLINGUAL): no cross-language finding
        crosslingual=(
            f"{RESULTS}/tables/crosslingual_themes.csv" if CROSSLINGUAL else []
        ),
        crosslingual_alignment=(
            f"{RESULTS}/tables/crosslingual_alignment.csv" if CROSSLINGUAL else []
        ),
    output:
        f"{PROCESSED}/findings/themes.json",
    log:
        f"{LOGS}/findings_themes.log",
    benchmark:
        f"{LOGS}/benchmarks/findings_themes.tsv"
    priority: PRIORITY["findings_themes"]
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
        # one low-data rule for themes, phrases and drift
        low_data_tokens=config["low_data_tokens"],
        # the cross-language checks recompute that rule's tests
        # (the gaps are recounted on the aligned pairs of crosslingual_alignment.csv)
        cross_settings=lambda wildcards, input: {
            **{k: config["crosslingual"][k] for k in ["langs", "q_threshold"]},
            "min_tokens": config["low_data_tokens"],
            "alignment": input.crosslingual_alignment,
        },
    script:
        "../scripts/findings_themes.py"


rule findings_vocabulary:
    """The drift and phrase findings with their checks (textdrift.findings.vocabulary_part; no codebook input), as JSON for rule findings."""
    input:
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
        # kept tokens per paragraph (rule count; the documents' sizes and the phrases' denominators)
        paras_base=expand(f"{PROCESSED}/themes/paras-{{shard}}.parquet", shard=SHARDS),
        # n-grams per document, per variant and language; the base n-grams per paragraph
        documents=f"{RESULTS}/tables/documents.csv",
        drift=f"{RESULTS}/tables/tfidf_drift.csv",
        phrases=f"{RESULTS}/tables/phrase_changes.csv",
    output:
        f"{PROCESSED}/findings/vocabulary.json",
    log:
        f"{LOGS}/findings_vocabulary.log",
    benchmark:
        f"{LOGS}/benchmarks/findings_vocabulary.tsv"
    priority: PRIORITY["findings_vocabulary"]
    conda:
        "../envs/analysis.yml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input, attempt: attempt
        * (1000 + 10 * int(input.size_mb)),
        runtime=lambda wildcards, input, attempt: attempt * (15 + int(input.size_mb)),
    params:
        languages=LANGS,
        conf_level=config["themes"]["conf_level"],
        n_boot=config["themes"]["n_boot"],
        seed=config["themes"]["seed"],
        bootstrap_unit=config["themes"]["bootstrap_unit"],
        min_documents=config["themes"]["min_documents"],
        tfidf=config["drift"]["tfidf"],
        top_phrases=config["figures"]["top_phrases"],
        # one low-data rule for themes, phrases and drift; the drift finding's permutation level
        low_data_tokens=config["low_data_tokens"],
        drift_alpha=config["drift"]["alpha"],
        # the phrase checks recompute that rule's tests
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
    script:
        "../scripts/findings_vocabulary.py"


rule findings:
    """results/tables/findings.csv: each headline finding with its value, interval, documents and the checks it survives."""
    input:
        themes=rules.findings_themes.output[0],
        vocabulary=rules.findings_vocabulary.output[0],
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
    priority: PRIORITY["findings"]
    conda:
        "../envs/analysis.yml"
    threads: 1
    resources:
        # two JSON files of a few dozen rows and the precision table
        mem_mb=lambda wildcards, attempt: attempt * 1000,
        runtime=lambda wildcards, attempt: attempt * 5,
    params:
        languages=LANGS,
        min_precision=config["validation"]["min_precision"],
        min_coded=config["validation"]["min_coded"],
    script:
        "../scripts/findings.py"


TARGETS += rules.findings.output
