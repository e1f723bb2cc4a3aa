rule documents:
    """results/tables/documents.csv: every document with its year, metadata, kept tokens per language and raw SHA-256."""
    input:
        raw=[r["path"] for r in MANIFEST.to_dict("records")],
        paras=expand(f"{PROCESSED}/themes/paras-{{shard}}.parquet", shard=SHARDS),
    output:
        report(
            f"{RESULTS}/tables/documents.csv",
            category="Tables",
            labels={"table": "documents"},
        ),
    log:
        f"{LOGS}/documents.log",
    priority: PRIORITY["documents"]
    conda:
        "../envs/analysis.yml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: attempt * 1000,
        runtime=lambda wildcards, attempt: attempt * 10,
    params:
        languages=LANGS,
        # the validated manifest (common.smk), as records: a metadata edit reruns this rule only
        manifest=MANIFEST.drop(columns=["shard"]).to_dict("records"),
    script:
        "../scripts/documents.py"


TARGETS += rules.documents.output
