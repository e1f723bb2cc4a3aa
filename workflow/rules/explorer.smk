rule explorer:
    """results/explorer.html: the offline explorer, from any number to the sentences behind it (one self-contained file)."""
    input:
        tables=expand(
            f"{RESULTS}/tables/{{name}}.csv",
            name=[
                "theme_frequencies",
                "theme_kwic",
                "phrase_changes",
                "tfidf_drift",
                "tfidf_baseline",
                "documents",
                # none without a bilingual document (common.smk: CROSSLINGUAL)
                *(["crosslingual_alignment"] if CROSSLINGUAL else []),
                "new_formulations",
            ],
        ),
        year=expand(f"{PROCESSED}/vectors/year_{{lang}}.npz", lang=LANGS),
        tokens=expand(TOKENS, shard=SHARDS),
        codebook=config["themes"]["codebook"],
        schema=SCHEMA["themes"],
        entities=ENTITY_INPUT,
        provenance=f"{RESULTS}/provenance.json",
        # the page, its script and style, and the vendored Vega builds: an edit rebuilds the page
        assets=[
            local(f"workflow/explorer/{name}")
            for name in [
                "explorer.html",
                "explorer.js",
                "explorer.css",
                "vendor/vega.min.js",
                "vendor/vega-lite.min.js",
            ]
        ],
    output:
        f"{RESULTS}/explorer.html",
    log:
        f"{LOGS}/explorer.log",
    benchmark:
        f"{LOGS}/benchmarks/explorer.tsv"
    conda:
        "../envs/analysis.yml"
    threads: 1
    # one token shard at a time (its documents in batches) and the two large tables in chunks:
    # measured 0.9 GB at 50 MB (380 MB of input) and 1.0 GB with four times the data
    resources:
        mem_mb=lambda wildcards, input, attempt: attempt
        * (1200 + int(input.size_mb) // 4),
        runtime=lambda wildcards, input, attempt: attempt * (10 + int(input.size_mb)),
    params:
        languages=LANGS,
        settings=config["explorer"],
        count_roles=config["count_roles"],
        unspaced_languages=config["unspaced_languages"],
        low_data_tokens=config["low_data_tokens"],
        conf_level=config["themes"]["conf_level"],
        q_threshold=config["phrases"]["q_threshold"],
        crosslingual_langs=config["crosslingual"]["langs"],
    script:
        "../scripts/explorer.py"


TARGETS += rules.explorer.output
