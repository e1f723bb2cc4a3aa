rule drift:
    """TF-IDF drift between consecutive years per language (cosine distance, JSD), year x year
    similarity, top terms, term shifts and a split-half within-year baseline."""
    input:
        year=expand(f"{PROCESSED}/vectors/year_{{lang}}.npz", lang=LANGS),
        para=expand(f"{PROCESSED}/vectors/_shards/para_{{lang}}-{{shard}}.npz", lang=LANGS, shard=SHARDS),
        documents=f"{RESULTS}/tables/documents.csv",
    output:
        drift=f"{RESULTS}/tables/tfidf_drift.csv",
        similarity=f"{RESULTS}/tables/tfidf_similarity.csv",
        top_terms=f"{RESULTS}/tables/tfidf_top_terms.csv",
        term_shifts=f"{RESULTS}/tables/tfidf_term_shifts.csv",
        baseline=f"{RESULTS}/tables/tfidf_baseline.csv",
    params:
        languages=LANGS,
        tfidf=config["drift"]["tfidf"],
        min_tokens=config["low_data_tokens"],
        top_n=config["drift"]["top_n"],
        baseline_rounds=config["drift"]["baseline_rounds"],
        baseline_min_paragraphs=config["drift"]["baseline_min_paragraphs"],
        seed=config["drift"]["seed"],
    threads: 1
    resources:
        mem_mb=lambda wildcards, input, attempt: attempt * (1000 + 100 * int(input.size_mb)),
        runtime=lambda wildcards, input, attempt: attempt * (15 + 2 * int(input.size_mb)),
    log:
        f"{LOGS}/drift.log",
    conda:
        ENV
    script:
        "../scripts/drift.py"


TARGETS += rules.drift.output
