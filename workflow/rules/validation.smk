rule precision:
    """results/tables/codebook_precision.csv: precision of the codebook per theme and language, from the
    coded KWIC rows (config validation.coded) that still match under the current codebook.
    """
    input:
        kwic=f"{RESULTS}/tables/theme_kwic.csv",
        codebook=config["themes"]["codebook"],
        # no coded file yet: the table is empty (make validation-sample, then code it)
        coded=(
            [config["validation"]["coded"]]
            if os.path.exists(config["validation"]["coded"])
            else []
        ),
    output:
        report(
            f"{RESULTS}/tables/codebook_precision.csv",
            caption="../report/codebook_precision.rst",
            category="Themes",
            labels={"table": "codebook precision"},
        ),
    log:
        f"{LOGS}/precision.log",
    priority: PRIORITY["precision"]
    conda:
        "../envs/analysis.yml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input, attempt: attempt
        * (1000 + 20 * int(input.size_mb)),
        runtime=lambda wildcards, attempt: attempt * 10,
    params:
        conf_level=config["themes"]["conf_level"],
    script:
        "../scripts/precision.py"


TARGETS += rules.precision.output
