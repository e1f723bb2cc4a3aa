# The front door. On a fresh machine with only Python (3.11+) and pip:
#   make run    set up the environment and reproduce everything in results/
#   make test   set up the environment and run the test suite
# No root needed: uv is installed into a private venv (.uvtool/), the project
# environment into .venv/ from the pinned uv.lock.

PYTHON ?= python3
UV_VERSION := 0.13.8
UVTOOL := .uvtool
UV := $(UVTOOL)/bin/uv
VENV := .venv
CORES ?= all
# Another corpus (`make new-corpus DIR=...`): CONFIG=DIR/config.yaml, read after config/config.yaml
# (the Snakefile reads config/config.yaml itself; CONFIG is Snakemake's --configfile).
CONFIG ?=
SNAKEMAKE := $(VENV)/bin/snakemake --cores $(CORES) --rerun-incomplete $(if $(CONFIG),--configfile $(CONFIG)) --quiet host
CHECK_CONFIG := --config config/config.yaml $(if $(CONFIG),--config $(CONFIG))
cfg = $(or $(if $(CONFIG),$(shell sed -n 's/^$(1): *//p' $(CONFIG) 2>/dev/null)),$(shell sed -n 's/^$(1): *//p' config/config.yaml 2>/dev/null),$(2))
RESULTS := $(call cfg,results_dir,results)
# the jobs' logs beside results_dir (workflow/rules/common.smk: LOGS)
LOGS := $(patsubst ./%,%,$(dir $(RESULTS))logs)
# What a run reads or writes: when nothing here is newer than the stamp of the last complete run,
# `make run` has nothing to do and says so without starting Snakemake (a no-op in well under 2 s).
# A deleted or edited output changes its directory's or its own time, so it is a change too.
STAMP := .snakemake/textdrift-complete$(if $(CONFIG),-$(subst /,_,$(CONFIG)))
WATCHED := Snakefile Makefile uv.lock pyproject.toml workflow src config validation $(CONFIG) \
	$(call cfg,raw_dir,data/raw) $(call cfg,processed_dir,data/processed) $(RESULTS) \
	$(dir $(call cfg,manifest,data/raw/documents.csv))
CHANGED = $(shell find $(WATCHED) -newer $(STAMP) ! -path '*/__pycache__*' ! -name '*.pyc' -print -quit 2>/dev/null)
# Snakemake 9 leaves an unawaited coroutine when the report evaluates the resource lambdas that
# read input sizes (rules.py): a warning no user can act on, filtered by its exact text only.
REPORT_ENV := PYTHONWARNINGS="ignore:coroutine 'InputFiles._predicated_size_files:RuntimeWarning"

export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Every Snakemake job is a new Python process: compiled bytecode saves ~3 s of imports per job.
export UV_COMPILE_BYTECODE := 1

.PHONY: run check new-corpus manifest test env lint report readme-findings notebook bench unlock clean-results distclean validation-sample

# The inputs checked (every problem listed), a lock left by a killed run removed when no run is
# active here, the whole workflow and then its HTML report (one snakemake command: the report is
# written by the same process once the jobs are done, --report-after-run, which saves a second
# Snakemake start-up of about 3 s; textdrift.console shows its progress in a few lines and ends with
# the jobs' warnings; the full output is in .snakemake/log/). Writes only to
# data/processed/, results/, logs/ and .snakemake/: never a tracked file. Nothing changed since the
# last complete run (see STAMP): nothing is run.
run: env
	@if [ -f $(STAMP) ] && [ -z "$(CHANGED)" ]; then \
		echo "Nothing changed since the last complete run: $(RESULTS)/ is up to date (to run Snakemake anyway: rm $(STAMP))"; \
	else \
		$(VENV)/bin/python -m textdrift.check $(CHECK_CONFIG) && \
		$(VENV)/bin/python -m textdrift.check --unlock-stale $(VENV)/bin/snakemake && \
		$(REPORT_ENV) $(VENV)/bin/python -m textdrift.console run --logs $(LOGS) -- $(SNAKEMAKE) rules \
			--report $(RESULTS)/report.html --report-after-run && \
		mkdir -p $(dir $(STAMP)) && touch $(STAMP); \
	fi
	@echo ""
	@echo "Results:  $(RESULTS)/README.md     (findings, and what every table and figure is)"
	@echo "          $(RESULTS)/report.html   (figures with captions, tables)"
	@echo "          $(RESULTS)/explorer.html (every number down to its sentences, offline)"
	@echo "          $(RESULTS)/figures/      $(RESULTS)/tables/      $(RESULTS)/matrices/ (for R and Python)"

# Validate config/config.yaml, the entity list, the codebook and the manifest; run nothing.
check: env
	@$(VENV)/bin/python -m textdrift.check $(CHECK_CONFIG)

# A new, empty corpus of your own in DIR (docs/corpus.md, "Start a corpus"); then
# make check CONFIG=DIR/config.yaml and make run CONFIG=DIR/config.yaml.
new-corpus: env
	@test -n "$(DIR)" || { echo "usage: make new-corpus DIR=path/to/corpus [LANGUAGES='zh en']"; exit 2; }
	@$(VENV)/bin/python -m textdrift.newcorpus $(DIR) $(if $(LANGUAGES),--languages $(LANGUAGES))

# Manifest rows proposed for the files in data/raw/ that no row names (PDF, Word, text, web pages):
# doc_id, date, title, languages guessed, each guess's source in notes. Printed only; WRITE=1 appends
# them to the manifest (existing rows never change). Then `make check`.
manifest: env
	@$(VENV)/bin/python -m textdrift.propose --config $(or $(CONFIG),config/config.yaml) $(if $(WRITE),--write)

# The report alone (`make run` writes it after every run), rebuilt only when a result is newer than it.
report: env
	@if [ ! -f $(RESULTS)/report.html ] || [ -n "$$(find $(RESULTS) -type f -newer $(RESULTS)/report.html ! -name report.html | head -n 1)" ]; then \
		$(REPORT_ENV) $(SNAKEMAKE) --quiet all --report $(RESULTS)/report.html && echo "wrote $(RESULTS)/report.html"; \
	else echo "$(RESULTS)/report.html is up to date"; fi

# The README's "What the corpus shows" snapshot, from the current results (explicitly: make run
# never edits the README; a test checks that the snapshot matches a run on the shipped corpus).
readme-findings: env
	$(VENV)/bin/python -m textdrift.report README.md --config config/config.yaml

# JupyterLab in the project environment, with the kernel registered for the user (no root).
notebook: env
	$(VENV)/bin/python -m ipykernel install --user --name textdrift --display-name "Python (textdrift)"
	$(VENV)/bin/jupyter lab --notebook-dir notebooks

# Benchmark (not a test): shipped corpus and synthetic corpora; see benchmarks/README.md.
bench: env
	$(VENV)/bin/python benchmarks/bench.py $(BENCH_ARGS)

# The suite on two worker processes (pytest-xdist; -n auto: one per core) that share the session's
# workflow runs (tests/conftest.py): a file's tests stay on one worker (--dist loadfile), the files
# in the order conftest gives them (--no-loadscope-reorder); the 40 slowest tests are listed at the end.
TEST_ARGS ?= -n auto --dist loadfile --no-loadscope-reorder --durations=40
test: env
	$(VENV)/bin/python -m pytest $(TEST_ARGS)

env: $(VENV)/.synced

$(UV):
	$(PYTHON) -m venv $(UVTOOL)
	$(UVTOOL)/bin/python -m pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --locked --python $(PYTHON)
	touch $@

environment.yml: uv.lock tools/export_environment.py | $(VENV)/.synced
	$(VENV)/bin/python tools/export_environment.py

lint: env
	$(SNAKEMAKE) --lint

# Codebook validation: a stratified random sample of the current theme KWIC rows to code by hand,
# validation/sample-<codebook hash>.csv (docs/methods.md: "Codebook validation").
validation-sample: env
	$(SNAKEMAKE) $(RESULTS)/tables/theme_kwic.csv
	$(VENV)/bin/python -m textdrift.validation sample --config config/config.yaml

# After a run was killed (power cut, scancel, kill -9), Snakemake keeps its lock:
# `make unlock`, then `make run` (incomplete outputs are redone). Never while a run is going.
unlock: env
	$(SNAKEMAKE) --unlock

# (with CONFIG=DIR/config.yaml: that corpus's processed, cache, results and logs directories)
clean-results:
	rm -rf $(call cfg,processed_dir,data/processed) $(patsubst ./%,%,$(dir $(call cfg,processed_dir,data/processed))cache) $(RESULTS) $(LOGS) .snakemake

distclean: clean-results
	rm -rf $(VENV) $(UVTOOL)
