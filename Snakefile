# textdrift: one command reproduces every table and figure in results/.
#   snakemake --cores all --configfile config/config.yaml
# This file only reads and validates the configuration and the manifest, then
# includes the rule files of workflow/rules/ (one per step).

from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/clean.smk"
include: "workflow/rules/segment.smk"
include: "workflow/rules/vectorize.smk"
include: "workflow/rules/themes.smk"
include: "workflow/rules/drift.smk"
include: "workflow/rules/phrases.smk"
include: "workflow/rules/crosslingual.smk"
include: "workflow/rules/figures.smk"


rule all:
    input:
        TARGETS,
    default_target: True
