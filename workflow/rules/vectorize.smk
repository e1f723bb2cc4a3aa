from textdrift.counting import CHECK_VARIANTS

# textdrift.explorer.PARTIAL_PARTS, in its order: the explorer's partial term index of a token shard
# (written by rule `count`, read by rule `explorer_terms`, workflow/rules/explorer.smk)
EXPLORER_PARTS = ["occ", "vocab", "sentences", "forms"]
EXPLORER_PARTIAL = f"{PROCESSED}/explorer/shards/shard-{{shard}}.{{part}}.parquet"


# One job per token shard reads the shard once and writes both what the counts need and the
# explorer's partial term index (textdrift.explorer.run_shard: the two used to be two jobs, each
# paying the start-up, the imports and the read, about 1 CPU-s a shard, docs/performance.md). None
# of its outputs depends on the codebook; adding a document reruns its shard's job only.
rule count:
    """Count matrices of one token shard, per language: n-grams per document and unigrams per paragraph;
    kept tokens per paragraph; for the findings' checks, n-grams per document and kept tokens per paragraph
    of each check variant and n-grams per paragraph; and the shard's partial term index for the explorer
    (every word and n-gram with the sentences it occurs in, the sentences' texts, the word forms).
    """
    input:
        tokens=TOKENS,
    output:
        doc=expand(
            f"{PROCESSED}/vectors/_shards/doc_{{lang}}-{{{{shard}}}}.npz", lang=LANGS
        ),
        para=expand(
            f"{PROCESSED}/vectors/_shards/para_{{lang}}-{{{{shard}}}}.npz", lang=LANGS
        ),
        check_doc=expand(
            f"{PROCESSED}/vectors/_findings/doc_{{variant}}_{{lang}}-{{{{shard}}}}.npz",
            variant=CHECK_VARIANTS,
            lang=LANGS,
        ),
        para_ngrams=expand(
            f"{PROCESSED}/vectors/_findings/para_{{lang}}-{{{{shard}}}}.npz",
            lang=LANGS,
        ),
        # kept tokens per paragraph (codebook-independent: a codebook edit leaves documents, drift
        # and phrases as they are), for the pipeline and for each variant of the findings' checks
        paras=f"{PROCESSED}/themes/paras-{{shard}}.parquet",
        check_paras=expand(
            f"{PROCESSED}/themes/_findings/paras_{{variant}}-{{{{shard}}}}.parquet",
            variant=CHECK_VARIANTS,
        ),
        # the explorer's partial term index, one file per part (EXPLORER_PARTS)
        occ=EXPLORER_PARTIAL.replace("{part}", "occ"),
        vocab=EXPLORER_PARTIAL.replace("{part}", "vocab"),
        sentences=EXPLORER_PARTIAL.replace("{part}", "sentences"),
        forms=EXPLORER_PARTIAL.replace("{part}", "forms"),
    log:
        f"{LOGS}/count/shard-{{shard}}.log",
    benchmark:
        f"{LOGS}/benchmarks/count-{{shard}}.tsv"
    priority: PRIORITY["count"]
    conda:
        "../envs/analysis.yml"
    threads: 1
    # the counts' matrices are written and freed before the partial term index is made (documents in
    # batches of about 400,000 tokens, the shard's partial held until written: 0.82 GB for a 7.5 MB
    # token shard of a 20 MB corpus, 2026-12-07)
    resources:
        mem_mb=lambda wildcards, input, attempt: attempt
        * (1000 + 80 * int(input.size_mb)),
        runtime=lambda wildcards, input, attempt: attempt
        * (25 + 3 * int(input.size_mb)),
    params:
        languages=LANGS,
        ngram_max=config["vectorize"]["ngram_max"],
        count_roles=config["count_roles"],
        unspaced_languages=config["unspaced_languages"],
    script:
        "../scripts/count.py"


rule merge_counts:
    """Count matrices per year-document and per document, per language: the shards' matrices merged."""
    input:
        doc=expand(
            f"{PROCESSED}/vectors/_shards/doc_{{lang}}-{{shard}}.npz",
            lang=LANGS,
            shard=SHARDS,
        ),
    output:
        year=expand(f"{PROCESSED}/vectors/year_{{lang}}.npz", lang=LANGS),
        doc=expand(f"{PROCESSED}/vectors/doc_{{lang}}.npz", lang=LANGS),
    log:
        f"{LOGS}/merge_counts.log",
    benchmark:
        f"{LOGS}/benchmarks/merge_counts.tsv"
    priority: PRIORITY["merge_counts"]
    conda:
        "../envs/analysis.yml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input, attempt: attempt
        * (1000 + 60 * int(input.size_mb)),
        runtime=lambda wildcards, input, attempt: attempt * (15 + int(input.size_mb)),
    params:
        languages=LANGS,
    script:
        "../scripts/merge_counts.py"


TARGETS += rules.merge_counts.output


rule export:
    """Document x term counts per language for R and Python: unigram Matrix Market + features + document
    variables (quanteda as.dfm, Matrix::readMM, scipy.io.mmread) and every n-gram as long Parquet.
    """
    input:
        doc=expand(f"{PROCESSED}/vectors/doc_{{lang}}.npz", lang=LANGS),
        documents=f"{RESULTS}/tables/documents.csv",
    output:
        **{
            f"{kind}_{lang}": f"{RESULTS}/matrices/{pattern.format(lang=lang)}"
            for lang in LANGS
            for kind, pattern in [
                ("mtx", "dfm_{lang}.mtx"),
                ("features", "dfm_{lang}_features.csv"),
                ("docvars", "dfm_{lang}_docvars.csv"),
                ("parquet", "counts_{lang}.parquet"),
            ]
        },
    log:
        f"{LOGS}/export.log",
    benchmark:
        f"{LOGS}/benchmarks/export.tsv"
    priority: PRIORITY["export"]
    conda:
        "../envs/analysis.yml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input, attempt: attempt
        * (1000 + 100 * int(input.size_mb)),
        runtime=lambda wildcards, input, attempt: attempt * (10 + int(input.size_mb)),
    params:
        languages=LANGS,
    script:
        "../scripts/export.py"


TARGETS += rules.export.output
