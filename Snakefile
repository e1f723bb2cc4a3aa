# textdrift: one command reproduces every table and figure in results/.
#   snakemake --cores all --configfile config/config.yaml
# This file only reads the configuration and includes the rule files of
# workflow/rules/ (one per step); common.smk validates the configuration, the
# theme codebook and the manifest against workflow/schemas/ before any job runs.

from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/clean.smk"
include: "workflow/rules/segment.smk"
include: "workflow/rules/vectorize.smk"
include: "workflow/rules/themes.smk"
include: "workflow/rules/documents.smk"
include: "workflow/rules/drift.smk"
include: "workflow/rules/phrases.smk"
include: "workflow/rules/crosslingual.smk"
include: "workflow/rules/validation.smk"
include: "workflow/rules/findings.smk"
include: "workflow/rules/formulations.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/explorer.smk"
include: "workflow/rules/provenance.smk"


rule all:
    default_target: True
    input:
        TARGETS,
