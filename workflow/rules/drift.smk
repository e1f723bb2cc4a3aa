rule drift:
    """TF-IDF drift between consecutive years per language (cosine distance, JSD), year x year
    similarity, top terms, term shifts and a split-half within-year baseline."""
    input:
        year=expand(f"{PROCESSED}/vectors/year_{{lang}}.npz", lang=LANGS),
        para=expand(
            f"{PROCESSED}/vectors/_shards/para_{{lang}}-{{shard}}.npz",
            lang=LANGS,
            shard=SHARDS,
        ),
        documents=f"{RESULTS}/tables/documents.csv",
        # group_by: each group's year matrices are summed from the document matrices
        doc=(
            expand(f"{PROCESSED}/vectors/doc_{{lang}}.npz", lang=LANGS)
            if GROUP_BY
            else []
        ),
    output:
        **{
            f"{prefix}{name}": f"{folder}/tfidf_{name}.csv"
            for prefix, folder in [("", f"{RESULTS}/tables"), ("grouped_", GROUPED)][
                : 2 if GROUP_BY else 1
            ]
            for name in ["drift", "similarity", "top_terms", "term_shifts", "baseline"]
            if (prefix, name) != ("", "drift")
        },
        drift=report(
            f"{RESULTS}/tables/tfidf_drift.csv",
            category="Tables",
            labels={"table": "TF-IDF drift"},
        ),
    log:
        f"{LOGS}/drift.log",
    benchmark:
        f"{LOGS}/benchmarks/drift.tsv"
    priority: PRIORITY["drift"]
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
        tfidf=config["drift"]["tfidf"],
        min_tokens=config["low_data_tokens"],
        top_n=config["drift"]["top_n"],
        baseline_rounds=config["drift"]["baseline_rounds"],
        baseline_min_paragraphs=config["drift"]["baseline_min_paragraphs"],
        seed=config["drift"]["seed"],
        permutations=config["drift"]["permutations"],
        permutation_min_documents=config["drift"]["permutation_min_documents"],
        group_by=GROUP_BY,
    script:
        "../scripts/drift.py"


TARGETS += rules.drift.output
