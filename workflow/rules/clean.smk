rule clean:
    """Clean the raw files of one shard: one text per document and language, every change logged."""
    input:
        raw=shard_raw_files,
        # every file the cleaner reads is an input: editing it reruns the clean jobs
        words=[config["clean"]["despace"]["words_file"]] if config["clean"]["despace"].get("words_file") else [],
    output:
        index=f"{PROCESSED}/clean/_shards/index-{{shard}}.csv",
        log=f"{PROCESSED}/clean/_shards/log-{{shard}}.csv",
    params:
        docs=shard_rows,
        clean=config["clean"],
        languages=config["languages"],
        unspaced_languages=config["unspaced_languages"],
        # the texts go beside the shard index: data/processed/clean/{doc_id}.{lang}.txt
        clean_dir=lambda w, output: str(Path(output.index).parent.parent),
    threads: 1
    resources:
        mem_mb=lambda wildcards, input, attempt: attempt * (1000 + 20 * int(input.size_mb)),
        runtime=lambda wildcards, input, attempt: attempt * (10 + 2 * int(input.size_mb)),
    log:
        f"{LOGS}/clean/shard-{{shard}}.log",
    conda:
        "../envs/clean.yml"
    script:
        "../scripts/clean.py"


rule cleaning_log:
    """Gather the per-shard cleaning logs and text indexes into one table each."""
    input:
        index=expand(f"{PROCESSED}/clean/_shards/index-{{shard}}.csv", shard=SHARDS),
        log=expand(f"{PROCESSED}/clean/_shards/log-{{shard}}.csv", shard=SHARDS),
    output:
        index=f"{PROCESSED}/clean/index.csv",
        log=f"{PROCESSED}/cleaning_log.csv",
    threads: 1
    resources:
        mem_mb=lambda wildcards, input, attempt: attempt * (500 + 10 * int(input.size_mb)),
        runtime=lambda wildcards, input, attempt: attempt * 10,
    log:
        f"{LOGS}/cleaning_log.log",
    conda:
        "../envs/clean.yml"
    script:
        "../scripts/cleaning_log.py"


TARGETS += rules.cleaning_log.output
