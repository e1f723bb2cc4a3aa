TOKENS = f"{PROCESSED}/tokens/shard-{{shard}}.parquet"  # one token shard (pattern, for expand)


rule segment:
    """Segment the clean texts of one shard (spaCy for English, jieba for Chinese) into the token table."""
    input:
        # the shard's clean texts (the files the index names) and their index
        texts=rules.clean.output.texts,
        index=rules.clean.output.index,
        # the shard's paragraphs that the corpus-wide repeated-paragraph rule makes paratext
        # (checked by content once the checkpoint has run: common.smk, shard_repeated_roles)
        repeated_roles=shard_repeated_roles,
        # every file the segmenter reads is an input: editing it reruns the segment jobs
        user_dict=config["segment"]["zh_user_dict"],
        stopwords=config["segment"]["zh_stopwords"],
        en_stopwords=(
            [config["segment"]["en_stopwords_extra"]]
            if config["segment"].get("en_stopwords_extra")
            else []
        ),
        entities=ENTITY_INPUT,
    output:
        TOKENS,
    log:
        f"{LOGS}/segment/shard-{{shard}}.log",
    benchmark:
        f"{LOGS}/benchmarks/segment-{{shard}}.tsv"
    priority: PRIORITY["segment"]
    conda:
        "../envs/segment.yml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: attempt * 3000,
        runtime=lambda wildcards, attempt: attempt * 60,
    params:
        segment=config["segment"],
    script:
        "../scripts/segment.py"


TARGETS += expand(TOKENS, shard=SHARDS)
