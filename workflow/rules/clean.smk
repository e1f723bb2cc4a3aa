# Per-shard outputs of clean, as patterns (expand() takes patterns, not a rule's outputs, which a
# storage provider turns into storage objects)
CLEAN_TEXTS = f"{PROCESSED}/clean/shard-{{shard}}.parquet"
CLEAN_INDEX = f"{PROCESSED}/clean/_shards/index-{{shard}}.csv"
CLEAN_LOG = f"{PROCESSED}/clean/_shards/log-{{shard}}.csv"


rule clean:
    """Clean the raw files of one shard: one text per document and language, every change logged."""
    input:
        raw=shard_raw_files,
        # every file the cleaner reads is an input: editing it reruns the clean jobs
        words=(
            [config["clean"]["despace"]["words_file"]]
            if config["clean"]["despace"].get("words_file")
            else []
        ),
    output:
        # every file the job writes is declared: the shard's texts (one Parquet file, one row per
        # paragraph), their index and the cleaning log
        texts=CLEAN_TEXTS,
        index=CLEAN_INDEX,
        cleaning_log=CLEAN_LOG,
    log:
        f"{LOGS}/clean/shard-{{shard}}.log",
    benchmark:
        f"{LOGS}/benchmarks/clean-{{shard}}.tsv"
    conda:
        "../envs/clean.yml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input, attempt: attempt
        * (1000 + 20 * int(input.size_mb)),
        runtime=lambda wildcards, input, attempt: attempt
        * (10 + 2 * int(input.size_mb)),
    params:
        docs=shard_rows,
        clean=config["clean"],
        languages=config["languages"],
        unspaced_languages=config["unspaced_languages"],
        # the texts' name in the index: the workflow's path, not a storage provider's local copy
        texts_file=lambda wildcards: CLEAN_TEXTS.format(shard=wildcards.shard),
    script:
        "../scripts/clean.py"


rule cleaning_log:
    """Gather the per-shard cleaning logs and text indexes into one table each."""
    input:
        index=expand(CLEAN_INDEX, shard=SHARDS),
        cleaning_log=expand(CLEAN_LOG, shard=SHARDS),
    output:
        index=f"{PROCESSED}/clean/index.csv",
        cleaning_log=f"{PROCESSED}/cleaning_log.csv",
    log:
        f"{LOGS}/cleaning_log.log",
    conda:
        "../envs/clean.yml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input, attempt: attempt
        * (500 + 10 * int(input.size_mb)),
        runtime=lambda wildcards, input, attempt: attempt * 10,
    script:
        "../scripts/cleaning_log.py"


TARGETS += rules.cleaning_log.output
