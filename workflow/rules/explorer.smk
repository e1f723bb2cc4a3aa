rule explorer:
    """results/explorer.html: the offline explorer, from any number to the sentences behind it (one self-contained file)."""
    input:
        tables=expand(
            f"{RESULTS}/tables/{{name}}.csv",
            name=["theme_frequencies", "theme_kwic", "phrase_changes", "tfidf_drift", "tfidf_baseline", "documents",
                  "crosslingual_alignment"],
        ),
        year=expand(f"{PROCESSED}/vectors/year_{{lang}}.npz", lang=LANGS),
        tokens=expand(f"{PROCESSED}/tokens/shard-{{shard}}.parquet", shard=SHARDS),
        codebook=config["themes"]["codebook"],
        schema="workflow/schemas/themes.schema.yaml",
        entities=ENTITY_INPUT,
        # the page, its script and style, and the vendored Vega builds: an edit rebuilds the page
        assets=["workflow/explorer/explorer.html", "workflow/explorer/explorer.js", "workflow/explorer/explorer.css",
                "workflow/explorer/vendor/vega.min.js", "workflow/explorer/vendor/vega-lite.min.js"],
    output:
        f"{RESULTS}/explorer.html",
    params:
        languages=LANGS,
        settings=config["explorer"],
        count_roles=config["count_roles"],
        unspaced_languages=config["unspaced_languages"],
        low_data_tokens=config["low_data_tokens"],
        conf_level=config["themes"]["conf_level"],
        q_threshold=config["phrases"]["q_threshold"],
        crosslingual_langs=config["crosslingual"]["langs"],
    threads: 1
    resources:
        mem_mb=lambda wildcards, input, attempt: attempt * (1500 + 30 * int(input.size_mb)),
        runtime=lambda wildcards, input, attempt: attempt * (10 + int(input.size_mb)),
    log:
        f"{LOGS}/explorer.log",
    conda:
        "../envs/analysis.yml"
    script:
        "../scripts/explorer.py"


TARGETS += rules.explorer.output
