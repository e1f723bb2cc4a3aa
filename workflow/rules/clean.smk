# Per-shard outputs of clean, as patterns (expand() takes patterns, not a rule's outputs, which a
# storage provider turns into storage objects)
CLEAN_TEXTS = f"{PROCESSED}/clean/shard-{{shard}}.parquet"
CLEAN_INDEX = f"{PROCESSED}/clean/_shards/index-{{shard}}.csv"
CLEAN_LOG = f"{PROCESSED}/clean/_shards/log-{{shard}}.csv"
CLEAN_KEYS = f"{PROCESSED}/clean/_shards/paragraphs-{{shard}}.csv"
# the paragraphs repeated across the corpus that become paratext (checkpoint repeated_paragraphs),
# and the rows of one shard's documents (its segment job's input, common.smk: shard_repeated_roles)
REPEATED_ROLES = f"{PROCESSED}/clean/repeated_roles.csv"
SHARD_ROLES = f"{PROCESSED}/clean/_shards/repeated-{{shard}}.csv"


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
        # the key of every paragraph, for the corpus-wide rule repeated_paragraphs
        paragraphs=CLEAN_KEYS,
    log:
        f"{LOGS}/clean/shard-{{shard}}.log",
    benchmark:
        f"{LOGS}/benchmarks/clean-{{shard}}.tsv"
    priority: PRIORITY["clean"]
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
        # the corpus-wide step's settings are not the shard's: changing them reruns no clean job
        clean={k: v for k, v in config["clean"].items() if k != "repeated_paragraphs"},
        languages=config["languages"],
        unspaced_languages=config["unspaced_languages"],
        # the texts' name in the index: the workflow's path, not a storage provider's local copy
        texts_file=lambda wildcards: CLEAN_TEXTS.format(shard=wildcards.shard),
    script:
        "../scripts/clean.py"


# A checkpoint, so that adding a document reruns only its shard: every shard's roles file is
# rewritten, and once the checkpoint has run Snakemake re-evaluates the segment jobs, which rerun
# only where their shard's file changed in content (docs/reruns.md, common.smk: shard_repeated_roles).
checkpoint repeated_paragraphs:
    """Boilerplate across documents: the paragraphs repeated in most documents, and which become paratext."""
    input:
        paragraphs=expand(CLEAN_KEYS, shard=SHARDS),
        texts=expand(CLEAN_TEXTS, shard=SHARDS),
    output:
        repeated=f"{PROCESSED}/clean/repeated_paragraphs.csv",
        roles=REPEATED_ROLES,
        # the paragraphs made paratext, one file per shard (the shards' order of `paragraphs`)
        shard_roles=expand(SHARD_ROLES, shard=SHARDS),
    log:
        f"{LOGS}/repeated_paragraphs.log",
    priority: PRIORITY["repeated_paragraphs"]
    conda:
        "../envs/clean.yml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input, attempt: attempt
        * (500 + 10 * int(input.size_mb)),
        runtime=lambda wildcards, input, attempt: attempt * 10,
    params:
        settings=config["clean"]["repeated_paragraphs"],
    script:
        "../scripts/repeated_paragraphs.py"


rule cleaning_log:
    """Gather the per-shard cleaning logs and text indexes into one table each, with the repeated paragraphs' roles."""
    input:
        index=expand(CLEAN_INDEX, shard=SHARDS),
        cleaning_log=expand(CLEAN_LOG, shard=SHARDS),
        repeated=rules.repeated_paragraphs.output.repeated,
        roles=rules.repeated_paragraphs.output.roles,
    output:
        index=f"{PROCESSED}/clean/index.csv",
        cleaning_log=f"{PROCESSED}/cleaning_log.csv",
    log:
        f"{LOGS}/cleaning_log.log",
    priority: PRIORITY["cleaning_log"]
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
