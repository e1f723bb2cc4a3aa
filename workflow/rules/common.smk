# Shared set-up: the manifest (validated before any job runs), shards, paths.

import os
import sys
from pathlib import Path

# The library lives in src/textdrift; make it importable here and in every job's
# script, also where the package is not installed (conda envs, cluster nodes).
SRC = str(Path(workflow.basedir) / "src")
sys.path.insert(0, SRC)
# prepended, not replacing: where the workflow is a copy without src/ (the tests' project copies),
# the jobs import the library the caller's PYTHONPATH names, as the Snakefile itself does
os.environ.update(
    PYTHONPATH=os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH")) if p)
)

from snakemake.exceptions import IncompleteCheckpointException

from textdrift.config import cache_dir, check_config, defaults, load_yaml, with_defaults
from textdrift.manifest import (
    CLEAN_COLUMNS,
    auto_shards,
    check_group_by,
    languages_of,
    load_manifest,
    shard_of,
)
from textdrift.entities import load_entities
from textdrift.codebook import load_codebook

# Before any job runs: the configuration (every problem, each naming its field), the entity
# list and the theme codebook (naming entity or theme and field; every entity a theme lists
# exists) and, below, the manifest (naming row and field).
for (
    _configfile
) in workflow.configfiles:  # a key given twice: an error naming file, line, key
    load_yaml(_configfile)
CONFIG_SCHEMA = Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml"
check_config(config, CONFIG_SCHEMA)
# `languages` set by the configuration, or to be read from the manifest (below)
LANGUAGES_SET = "languages" in config
# every key the configuration does not set: its default from the schema (stated there only)
config.update(with_defaults(config, CONFIG_SCHEMA))
# the entity list and its schema, as an input of the rules that read it (none: entities: null)
# the inputs and outputs in a storage provider (--default-storage-provider): Snakemake itself then
# has no local copy of an output to read when it plans the run (phrases.smk)
STORAGE = workflow.storage_settings.default_storage_provider is not None


def workflow_file(path):
    """A file of the workflow's sources (a schema, the explorer's page) as a rule's input: kept out
    of a storage provider (--default-storage-provider), where the inputs and outputs go. There it is
    a source-cache entry, which a remote job reads from the deployed sources: a local() input would
    make Snakemake run the job in its own process instead of submitting it (no shared file system
    for inputs and outputs)."""
    return workflow.source_path(f"../../{path}") if STORAGE else local(path)


SCHEMA = {
    name: workflow_file(f"workflow/schemas/{name}.schema.yaml")
    for name in ("themes", "entities")
}
ENTITY_INPUT = [config["entities"], SCHEMA["entities"]] if config["entities"] else []
ENTITIES = load_entities(*ENTITY_INPUT) if ENTITY_INPUT else []
load_codebook(
    config["themes"]["codebook"],
    Path(workflow.basedir) / "workflow" / "schemas" / "themes.schema.yaml",
    ENTITIES,
)
# each entity's label per language ({id: {lang: label}}): how a phrase shows a name (@id) to readers
ENTITY_LABELS = {e.id: dict(e.labels) for e in ENTITIES}

PROCESSED = config["processed_dir"]
RESULTS = config["results_dir"]
# the jobs' logs and benchmark files beside results_dir (logs/; DIR/logs for `make new-corpus DIR=...`):
# two corpora run from one checkout keep their own
LOGS = str(Path(RESULTS).parent / "logs")
# Memos outside Snakemake's outputs, beside processed_dir (data/cache): the theme matches' per-theme
# memo (textdrift.matchmemo, its own directory setting) and the charts' last drawings (figures rules)
CACHE = str(cache_dir(PROCESSED))
# Scheduling only (no output depends on it): when more jobs are ready than there are cores,
# Snakemake starts those of higher `priority` first (otherwise those with the largest inputs).
# A rule's priority is the longest chain of job seconds from its start to the end of a cold run,
# measured on the 50 MB benchmark corpus (benchmarks/runs/bench-20261207-054839.json: a rule's mean
# job time plus its longest chain of dependents), so that the jobs that open long chains
# (`formulations` -> its chart, `merge_counts` -> `phrases` -> the phrase chart and checks) start
# before short leaves. Simulated on the run's job graph and times with 2 cores (docs/performance.md):
# 153 s against 159 s (mean of random orders) at 50 MB, 335 s against 379 s at 200 MB. The numbers
# are printed by `python benchmarks/schedule.py PROJECT BENCH_JSON`; rerun it when rules change.
# `count`, which now also writes the explorer's partial term index (once the `explorer_shard` jobs),
# is the two rules' mean job seconds of that run (4.2 + 4.5) less about 1 s saved by one job, plus
# the chain of `merge_counts` (46), above its other chain (`explorer_terms`, 15).
PRIORITY = {
    "clean": 77,
    "repeated_paragraphs": 73,
    "segment": 70,
    "formulations": 59,
    "count": 54,
    "merge_counts": 46,
    "removed_vocabulary": 45,
    "documents": 44,
    "phrases": 43,
    "drift": 28,
    "phrase_figures": 25,
    "theme_matches": 24,
    "findings_vocabulary": 22,
    "themes": 21,
    "cleaning_log": 20,
    "crosslingual": 19,
    "explorer_terms": 15,
    "findings_themes": 11,
    "precision": 11,
    "formulation_figures": 10,
    "theme_figures": 9,
    "drift_figures": 6,
    "findings": 5,
    "provenance": 4,
    "explorer": 3,
    "export": 2,
    "results_readme": 1,
}
# Final outputs; each rule file adds its own, `rule all` asks for them all.
TARGETS = []

MANIFEST = load_manifest(
    config["manifest"],
    raw_dir=config["raw_dir"],
    years=(config["years"]["min"], config["years"]["max"]),
    schema=Path(workflow.basedir) / "workflow" / "schemas" / "manifest.schema.yaml",
    # e.g. files in raw_dir that no row names: shown at every start (Python warnings are not)
    warn=lambda message: print(f"Warning (manifest): {message}", file=sys.stderr),
)
# shards: a number, or auto (about 12 MB of raw text per shard, at least one per core)
N_SHARDS = (
    auto_shards(sum(os.path.getsize(p) for p in MANIFEST["path"]), os.cpu_count() or 1)
    if config["shards"] == "auto"
    else config["shards"]
)
SHARDS = list(range(N_SHARDS))
MANIFEST["shard"] = [shard_of(d, N_SHARDS) for d in MANIFEST["doc_id"]]
# raw files relative to the working directory (where every job runs): inputs and params then do not
# change when the project is moved or copied, so a copy reruns nothing
MANIFEST["path"] = [os.path.relpath(p) for p in MANIFEST["path"]]
check_group_by(config["group_by"], MANIFEST.columns)

# The languages analysed: those the manifest declares (its `languages` column), in the order of
# the configuration (default: every supported language); when the configuration does not set
# `languages`, only the declared ones are analysed; when it does, a configured language that no
# document declares has no text to analyse and gets no output. When a row declares no language,
# the declarations say nothing and the configured (or default) languages are kept.
# ABSENT: output -> why it is not made, one line each in results/README.md.
DECLARED = [set(languages_of(row)) for row in MANIFEST.to_dict("records")]
CONFIGURED = list(config["languages"])
if DECLARED and all(DECLARED):
    _declared = set().union(*DECLARED)
    _analysed = [lang for lang in CONFIGURED if lang in _declared]
    if _analysed and _analysed != CONFIGURED:
        print(
            f"Languages analysed: {', '.join(_analysed)} (declared in the manifest; "
            f"no document declares {', '.join(sorted(set(CONFIGURED) - _declared))})",
            file=sys.stderr,
        )
        config["languages"] = _analysed
LANGS = list(config["languages"])
ABSENT = {}
for _lang in defaults(CONFIG_SCHEMA)["languages"]:  # every supported language
    if _lang not in LANGS:
        ABSENT[
            f"{_lang} outputs (phrases_{_lang}, new_formulations_{_lang}, {_lang} rows)"
        ] = (
            f"{_lang} is not among the configured languages ({', '.join(CONFIGURED)})"
            if _lang not in CONFIGURED
            else f"no document of the manifest declares {_lang} (its `languages` column)"
            + (
                ""
                if LANGUAGES_SET
                else "; the languages analysed are the declared ones"
            )
        )
# Across languages (the crosslingual outputs) only when some document is declared in both languages of
# crosslingual.langs (or when the declarations are incomplete) and both are analysed.
_PAIR = set(config["crosslingual"]["langs"])
CROSSLINGUAL = _PAIR <= set(LANGS) and (
    not DECLARED or not all(DECLARED) or any(_PAIR <= d for d in DECLARED)
)
if not CROSSLINGUAL:
    ABSENT[
        "crosslingual_themes, crosslingual_alignment, crosslingual_codebook_check, crosslingual_trends, "
        "codebook_pairs (tables) and crosslingual_themes (figure)"
    ] = (
        f"no document of the manifest is declared in both {' and '.join(config['crosslingual']['langs'])}"
        if _PAIR <= set(LANGS)
        else f"no document is in both {' and '.join(config['crosslingual']['langs'])} "
        f"(crosslingual.langs); the languages analysed are {', '.join(LANGS)}"
    )
# group_by: the grouped tables of themes, drift and phrases (the same tables, a `group` column first)
GROUP_BY = config["group_by"]
GROUPED = f"{RESULTS}/tables/by_{GROUP_BY}"


def shard_rows(wildcards):
    """Manifest rows of one shard, as plain records (a param: only this shard reruns when they change),
    with only the columns the cleaner reads (editing a document's genre or notes reruns nothing).
    """
    rows = MANIFEST[MANIFEST["shard"] == int(wildcards.shard)]
    cols = [c for c in MANIFEST.columns if c in CLEAN_COLUMNS or c.startswith("title_")]
    return rows[cols].to_dict("records")


def shard_raw_files(wildcards):
    return [r["path"] for r in shard_rows(wildcards)]


def _matrices_mb(input):
    """MB of the phrases rule's year and document matrices."""
    return (
        sum(os.path.getsize(f) for f in [*input.year, *input.doc] if os.path.exists(f))
        / 1e6
    )


def shard_repeated_roles(wildcards):
    """The input of a shard's segment job from the checkpoint repeated_paragraphs: the paragraphs of
    the shard that the corpus-wide repeated-paragraph rule makes paratext (docs/reruns.md).

    Until the checkpoint has run (or, when it need not run, been found up to date) in this
    invocation, the file is ancient(): a checkpoint job that reruns because another shard changed
    does not, by itself, rerun this segment job. Once it has run, Snakemake re-evaluates the job
    with the plain file: rewritten with the same content, its checksum equals the one recorded at
    the job's last run (files up to --max-checksum-file-size, 1 MB by default) and nothing reruns;
    changed, too large to checksum, or in a storage provider without a local copy, the job reruns.
    """
    path = SHARD_ROLES.format(shard=wildcards.shard)
    try:
        checkpoints.repeated_paragraphs.get()
    except IncompleteCheckpointException:
        return ancient(path)
    return path
