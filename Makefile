# cucs-analysis — the two commands of the README are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installe

.PHONY: demo test install lint format bench lab clean

# Virtualenv with the library and the test tools; re-installed when pyproject.toml changes.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Main job: check the demo data, run every notebook for every demo commune, build the site.
demo: $(STAMP)
	$(BIN)/cucs validate data/demo
	$(BIN)/cucs run
	@echo "Ouvrez out/site/index.html dans un navigateur."

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

lab: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,lab]'
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf out .pytest_cache .ruff_cache
