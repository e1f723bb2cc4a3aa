rule vectorize:
    """Count matrices (n-grams of kept token norms) per year-document and per document, per language."""
    input:
        expand(f"{PROCESSED}/tokens/shard-{{shard}}.parquet", shard=SHARDS),
    output:
        year=expand(f"{PROCESSED}/vectors/year_{{lang}}.npz", lang=LANGS),
        doc=expand(f"{PROCESSED}/vectors/doc_{{lang}}.npz", lang=LANGS),
    params:
        languages=LANGS,
        ngram_max=config["vectorize"]["ngram_max"],
        out_dir=lambda w, output: str(Path(output.year[0]).parent),
    threads: 1
    resources:
        mem_mb=lambda wildcards, input, attempt: attempt * (1000 + 120 * int(input.size_mb)),
        runtime=lambda wildcards, input, attempt: attempt * (15 + 2 * int(input.size_mb)),
    log:
        f"{LOGS}/vectorize.log",
    conda:
        ENV
    script:
        "../scripts/vectorize.py"


TARGETS += rules.vectorize.output
