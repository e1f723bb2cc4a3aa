# Results follow the code: every rule's library code is a declared input, and provenance.json
# says what made the results (textdrift.provenance; docs/methods.md, "Reruns and provenance").
# Included last: it visits every rule the other files defined.

import re

from textdrift.provenance import code_hash, table_key

# The param `code` of each rule with a script: the hash of every library module the script
# imports, directly or through other modules (derived from the imports, never listed by hand).
# A change to one of them changes the param, and Snakemake's `params` rerun trigger reruns the
# rule (and, through its newer outputs, everything downstream); other rules keep their outputs.
CODE = {}
for _rule in workflow.rules:
    if _rule.script:
        CODE[_rule.name] = code_hash(Path(_rule.snakefile).parent / _rule.script)
        _rule.set_params(code=CODE[_rule.name])

# every table in results/tables/ (by its path under tables/) and the rule that writes it; a path
# may be a storage provider's local cache (.../results/tables/x.csv): matched at its end
TABLE_RULES = {
    table_key(path): name
    for name, outputs in ((r.name, r.output) for r in workflow.rules)
    # the cross-language tables only when they are made (common.smk: CROSSLINGUAL)
    if name != "crosslingual" or CROSSLINGUAL
    for path in outputs
    if re.search(rf"(^|/){re.escape(RESULTS)}/tables/.+\.csv$", str(path))
}


rule provenance:
    """results/provenance.json: the version, commit, codebook and configuration that made the results, and each table's rule, code hash and SHA-256."""
    input:
        tables=[f"{RESULTS}/tables/{key}" for key in sorted(TABLE_RULES)],
        codebook=config["themes"]["codebook"],
    output:
        report(
            f"{RESULTS}/provenance.json",
            category="Provenance",
            labels={"file": "provenance.json"},
        ),
    log:
        f"{LOGS}/provenance.log",
    priority: PRIORITY["provenance"]
    conda:
        "../envs/analysis.yml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: attempt * 500,
        runtime=lambda wildcards, attempt: attempt * 10,
    params:
        tables={
            key: {"rule": rule_name, "code": CODE.get(rule_name)}
            for key, rule_name in sorted(TABLE_RULES.items())
        },
        config=config,
    script:
        "../scripts/provenance.py"


TARGETS += rules.provenance.output
