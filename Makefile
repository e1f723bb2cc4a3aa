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
SNAKEMAKE := $(VENV)/bin/snakemake --cores $(CORES) --configfile config/config.yaml --rerun-incomplete

export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Every Snakemake job is a new Python process: compiled bytecode saves ~3 s of imports per job.
export UV_COMPILE_BYTECODE := 1

.PHONY: run test env lint report findings notebook bench unlock clean-results distclean validation-sample

# The whole workflow (one snakemake command), then its HTML report and the
# "What the corpus shows" block of README.md, both generated from results/.
run: env
	$(SNAKEMAKE)
	$(MAKE) report findings

report: env
	$(SNAKEMAKE) --report results/report.html

findings: env
	$(VENV)/bin/python -m textdrift.report README.md --config config/config.yaml

# JupyterLab in the project environment, with the kernel registered for the user (no root).
notebook: env
	$(VENV)/bin/python -m ipykernel install --user --name textdrift --display-name "Python (textdrift)"
	$(VENV)/bin/jupyter lab --notebook-dir notebooks

# Benchmark (not a test): shipped corpus and synthetic corpora; see benchmarks/README.md.
bench: env
	$(VENV)/bin/python benchmarks/bench.py $(BENCH_ARGS)

test: env
	$(VENV)/bin/python -m pytest

env: $(VENV)/.synced

$(UV):
	$(PYTHON) -m venv $(UVTOOL)
	$(UVTOOL)/bin/python -m pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --locked --python $(PYTHON)
	touch $@

environment.yml: uv.lock tools/export_environment.py
	$(PYTHON) tools/export_environment.py $@

lint: env
	$(SNAKEMAKE) --lint

# Codebook validation: a stratified random sample of the current theme KWIC rows to code by hand,
# validation/sample-<codebook hash>.csv (README: "Codebook validation").
validation-sample: env
	$(SNAKEMAKE) $$($(VENV)/bin/python -c "import yaml; print(yaml.safe_load(open('config/config.yaml'))['results_dir'])")/tables/theme_kwic.csv
	$(VENV)/bin/python -m textdrift.validation sample --config config/config.yaml

# After a run was killed (power cut, scancel, kill -9), Snakemake keeps its lock:
# `make unlock`, then `make run` (incomplete outputs are redone). Never while a run is going.
unlock: env
	$(SNAKEMAKE) --unlock

clean-results:
	rm -rf data/processed results logs .snakemake

distclean: clean-results
	rm -rf $(VENV) $(UVTOOL)
