rule clean:
    """Clean the raw files of one shard: one text per document and language, every change logged."""
    input:
        raw=shard_raw_files,
        # every file the cleaner reads is an input: editing it reruns the clean jobs
        words=[config["clean"]["despace"]["words_file"]] if config["clean"]["despace"].get("words_file") else [],
    output:
        # every file the job writes is declared: the shard's texts {doc_id}.{lang}.txt in a
        # directory of their own, the index of those texts and the cleaning log
        texts=directory(f"{PROCESSED}/clean/shard-{{shard}}"),
        index=f"{PROCESSED}/clean/_shards/index-{{shard}}.csv",
        cleaning_log=f"{PROCESSED}/clean/_shards/log-{{shard}}.csv",
    params:
        docs=shard_rows,
        clean=config["clean"],
        languages=config["languages"],
        unspaced_languages=config["unspaced_languages"],
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
        index=expand(rules.clean.output.index, shard=SHARDS),
        cleaning_log=expand(rules.clean.output.cleaning_log, shard=SHARDS),
    output:
        index=f"{PROCESSED}/clean/index.csv",
        cleaning_log=f"{PROCESSED}/cleaning_log.csv",
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
