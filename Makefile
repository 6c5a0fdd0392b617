# cucs-analysis — the two commands of the README are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installe
# Notebooks saved from JupyterLab are committed without outputs: nbstripout is the git filter of
# *.ipynb (.gitattributes), keeping cell ids so that a save does not renumber every cell.
# Idempotent; skipped outside a git work tree (e.g. an unpacked archive).
GIT_FILTER = if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	$(BIN)/nbstripout --install --attributes .gitattributes \
	&& git config filter.nbstripout.clean '"$(abspath $(BIN))/python" -m nbstripout --keep-id'; fi

.PHONY: demo test install lint format bench bench-quick memoire soak lab clean

# Virtualenv with the library and the test tools; re-installed when pyproject.toml changes.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@$(GIT_FILTER)
	touch $(STAMP)

install: $(STAMP)
	@$(GIT_FILTER)

# Main job: check the demo data, run every notebook for every demo commune, build the site.
demo: $(STAMP)
	$(BIN)/cucs validate data/demo
	$(BIN)/cucs run
	@echo "Ouvrez out/site/index.html dans un navigateur."

# axe-core for the accessibility test of the site (tests/test_site_axe.py), the version pinned in
# tests/axe/package-lock.json. Without npm, or offline, the test is skipped with a French reason;
# .ci/run installs it itself and fails if it cannot (CUCS_AXE_REQUIS=1: never skipped in CI).
AXE := tests/axe/node_modules/axe-core/axe.min.js
$(AXE): tests/axe/package.json tests/axe/package-lock.json
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "npm introuvable : axe-core non installé, le test d'accessibilité sera ignoré."; \
	elif npm ci --prefix tests/axe --no-audit --no-fund --loglevel=error; then touch $@; \
	else echo "npm ci a échoué : axe-core non installé, le test d'accessibilité sera ignoré."; fi

# Then every notebook runs with its default parameters, as in JupyterLab (results in out/brouillon).
test: $(STAMP) $(AXE)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q
	$(BIN)/python -m pytest -q --nbval-lax --nbval-current-env notebooks/

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .

# The same work three ways (naive loop, cucs run, floor without kernels) on the whole demo;
# writes benchmarks/results.md. `make bench ARGS=--quick` or `make bench-quick`: a subset.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py $(ARGS)

bench-quick: $(STAMP)
	$(BIN)/python benchmarks/bench.py --quick $(ARGS)

# A worker's memory over 100 consecutive runs of one notebook (appended to benchmarks/results.md).
memoire: $(STAMP)
	$(BIN)/python benchmarks/bench.py --memoire $(ARGS)

# Long fuzzing of the validator (CI runs 1,200 fixed inputs; this draws 20,000 new ones).
soak: $(STAMP)
	CUCS_FUZZ_EXAMPLES=20000 CUCS_FUZZ_RANDOM=1 $(BIN)/python -m pytest -q tests/test_fuzz_validate.py

# JupyterLab at the project root (params/, docs/rules.md, data/README.md a click away), showing notebooks/.
lab: install
	$(BIN)/python -m pip install --quiet -e '.[dev,lab]'
	$(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=/lab/tree/notebooks

clean:
	rm -rf out .pytest_cache .ruff_cache
