# The offline explorer (textdrift.explorer) in three steps: per token shard its partial term index
# (every term with its sentences, whatever its count; written by rule `count`, vectorize.smk, in the
# job that counts the shard, so the shard is read once), the term index merged from them (the terms
# the page lists are decided on the whole corpus), which no codebook edit changes (the year
# matrices, the partials, the phrase changes), and the page, which only assembles it with the theme
# and drift tables. Adding a document reruns one shard's `count` job and the merge, which takes a
# language whose inputs did not change from the per-language memo (textdrift.langmemo).


rule explorer_terms:
    """The explorer's term index (every term with enough occurrences, its counts per year and its sentences) and its phrase view; no codebook input."""
    input:
        year=expand(f"{PROCESSED}/vectors/year_{{lang}}.npz", lang=LANGS),
        # each shard's partial index (rule count, vectorize.smk), its files in EXPLORER_PARTS order
        partials=[
            EXPLORER_PARTIAL.format(shard=shard, part=part)
            for shard in SHARDS
            for part in EXPLORER_PARTS
        ],
        # the phrases shown (each step's highest and lowest z) get their sentences in both years
        phrases=f"{RESULTS}/tables/phrase_changes.csv",
        # a document's number on the page is its row
        documents=f"{RESULTS}/tables/documents.csv",
        # the search box's entity aliases
        entities=ENTITY_INPUT,
    output:
        phrases=f"{PROCESSED}/explorer/phrases.json",
        terms=f"{PROCESSED}/explorer/terms.json.gz",
    log:
        f"{LOGS}/explorer_terms.log",
    benchmark:
        f"{LOGS}/benchmarks/explorer_terms.tsv"
    priority: PRIORITY["explorer_terms"]
    conda:
        "../envs/analysis.yml"
    threads: 1
    # one shard's partial index at a time and phrase_changes.csv in chunks
    resources:
        mem_mb=lambda wildcards, input, attempt: attempt
        * (1200 + int(input.size_mb) // 4),
        runtime=lambda wildcards, input, attempt: attempt * (10 + int(input.size_mb)),
    params:
        languages=LANGS,
        # only the keys the index reads: a change of another explorer key rebuilds only the page
        settings={
            key: config["explorer"][key]
            for key in [
                "max_terms",
                "min_term_count",
                "term_contexts",
                "phrase_contexts",
                "phrases_per_step",
                "seed",
            ]
        },
        count_roles=config["count_roles"],
        unspaced_languages=config["unspaced_languages"],
        ngram_max=config["vectorize"]["ngram_max"],
        conf_level=config["themes"]["conf_level"],
    script:
        "../scripts/explorer_terms.py"


rule explorer:
    """results/explorer.html: the offline explorer, from any number to the sentences behind it (one self-contained file)."""
    input:
        tables=expand(
            f"{RESULTS}/tables/{{name}}.csv",
            name=[
                "theme_frequencies",
                "theme_kwic",
                "tfidf_drift",
                "tfidf_baseline",
                "documents",
                # none without a bilingual document (common.smk: CROSSLINGUAL)
                *(["crosslingual_alignment"] if CROSSLINGUAL else []),
                "new_formulations",
            ],
        ),
        # the term index and the phrase view (rule explorer_terms), put in the page as they are
        phrases=rules.explorer_terms.output.phrases,
        terms=rules.explorer_terms.output.terms,
        codebook=config["themes"]["codebook"],
        schema=SCHEMA["themes"],
        entities=ENTITY_INPUT,
        provenance=f"{RESULTS}/provenance.json",
        # the page, its script and style, and the vendored Vega builds: an edit rebuilds the page
        assets=[
            workflow_file(f"workflow/explorer/{name}")
            for name in [
                "explorer.html",
                "explorer.js",
                "explorer.css",
                "vendor/vega.min.js",
                "vendor/vega-lite.min.js",
            ]
        ],
    output:
        f"{RESULTS}/explorer.html",
    log:
        f"{LOGS}/explorer.log",
    benchmark:
        f"{LOGS}/benchmarks/explorer.tsv"
    priority: PRIORITY["explorer"]
    conda:
        "../envs/analysis.yml"
    threads: 1
    # theme_kwic.csv in chunks; the term index is copied, never parsed
    resources:
        mem_mb=lambda wildcards, input, attempt: attempt
        * (1000 + int(input.size_mb) // 4),
        runtime=lambda wildcards, input, attempt: attempt
        * (10 + int(input.size_mb) // 4),
    params:
        languages=LANGS,
        settings=config["explorer"],
        low_data_tokens=config["low_data_tokens"],
        conf_level=config["themes"]["conf_level"],
        q_threshold=config["phrases"]["q_threshold"],
        crosslingual_langs=config["crosslingual"]["langs"],
    script:
        "../scripts/explorer.py"


TARGETS += rules.explorer.output
