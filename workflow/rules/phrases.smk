from textdrift.phrases import check_ngram_max, codebook_protected

# Fail before any job runs: phrases are read from vectorize's matrices.
check_ngram_max(config["phrases"]["ngram_max"], config["vectorize"]["ngram_max"])

REMOVED = f"{PROCESSED}/phrases/removed_tokens.json"


rule removed_vocabulary:
    """The texts of the tokens not kept (stop words, dropped characters, dates), per language: which codebook formulations a stop-word rule can split."""
    input:
        tokens=expand(TOKENS, shard=SHARDS),
    output:
        REMOVED,
    log:
        f"{LOGS}/removed_vocabulary.log",
    benchmark:
        f"{LOGS}/benchmarks/removed_vocabulary.tsv"
    priority: PRIORITY["removed_vocabulary"]
    conda:
        "../envs/analysis.yml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: attempt * 1000,
        runtime=lambda wildcards, input, attempt: attempt
        * (5 + int(input.size_mb) // 20),
    params:
        languages=LANGS,
    script:
        "../scripts/removed_vocabulary.py"


rule phrases:
    """Year-over-year phrase changes per language: weighted log-odds with an informative Dirichlet prior."""
    input:
        year=expand(f"{PROCESSED}/vectors/year_{{lang}}.npz", lang=LANGS),
        documents=f"{RESULTS}/tables/documents.csv",
        # the test's units: documents, and paragraphs (n-grams per paragraph, per shard, read only
        # for the years of steps with fewer than phrases.min_documents documents on a side);
        # group_by: each group's year matrices are summed from the document matrices
        doc=expand(f"{PROCESSED}/vectors/doc_{{lang}}.npz", lang=LANGS),
        para=expand(
            f"{PROCESSED}/vectors/_findings/para_{{lang}}-{{shard}}.npz",
            lang=LANGS,
            shard=SHARDS,
        ),
        # phrases of ngram_max + 1 .. max_length tokens are counted from the tokens (recurring ones)
        tokens=expand(TOKENS, shard=SHARDS),
        # formulations no stop-word or dropped-token rule may split (phrases.py: protected_formulations);
        # the codebook's are a param (below), not the file: an edit reruns this rule only when they change
        removed=REMOVED,
        # under a storage provider the removed tokens cannot be read when the run is planned: the
        # codebook is an input there (every edit of it reruns this rule) and the job reads both
        codebook=[config["themes"]["codebook"]] if STORAGE else [],
        formulations=f"{RESULTS}/tables/new_formulations.csv",
        user_dict=config["segment"]["zh_user_dict"],
    output:
        **({"grouped": f"{GROUPED}/phrase_changes.csv"} if GROUP_BY else {}),
        changes=report(
            f"{RESULTS}/tables/phrase_changes.csv",
            category="Tables",
            labels={"table": "phrase changes"},
        ),
        steps=report(
            f"{RESULTS}/tables/phrase_steps.csv",
            category="Tables",
            labels={"table": "phrase steps"},
        ),
    log:
        f"{LOGS}/phrases.log",
    benchmark:
        f"{LOGS}/benchmarks/phrases.tsv"
    priority: PRIORITY["phrases"]
    conda:
        "../envs/analysis.yml"
    threads: 1
    resources:
        # grows with the year and document matrices (the paragraph shards are read one at a time)
        mem_mb=lambda wildcards, input, attempt: attempt
        * (1000 + 400 * int(_matrices_mb(input))),
        runtime=lambda wildcards, input, attempt: attempt
        * (15 + 4 * int(_matrices_mb(input))),
    params:
        languages=LANGS,
        ngram_max=config["phrases"]["ngram_max"],
        vectorize_ngram_max=config["vectorize"]["ngram_max"],
        min_count=config["phrases"]["min_count"],
        alpha_0=config["phrases"]["alpha_0"],
        q_threshold=config["phrases"]["q_threshold"],
        min_documents=config["phrases"]["min_documents"],
        power=config["phrases"]["power"],
        max_length=config["phrases"]["max_length"],
        fold_share=config["phrases"]["fold_share"],
        effect_prior=config["phrases"]["effect_prior"],
        conf_level=config["phrases"]["conf_level"],
        count_roles=config["count_roles"],
        min_tokens=config["low_data_tokens"],
        unspaced_languages=config["unspaced_languages"],
        group_by=GROUP_BY,
        # a name in a phrase (@id) is shown by its label in the phrase's language (display column)
        entity_labels=ENTITY_LABELS,
        # the codebook's terms of each language that a removed token can split (phrases.py:
        # codebook_protected; evaluated when the run is planned and again when the job starts)
        protected=lambda wildcards: (
            None
            if STORAGE
            else codebook_protected(
                config["themes"]["codebook"],
                REMOVED,
                LANGS,
                config["unspaced_languages"],
            )
        ),
    script:
        "../scripts/phrases.py"


TARGETS += rules.phrases.output
