# source-personio developer commands. A fresh machine needs Python 3.11, pip and make.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
UV     := $(VENV)/bin/uv
STAMP  := $(VENV)/.installed

.PHONY: setup demo test test-newest-cdk unit integration bench image lock clean

setup: $(STAMP)

$(STAMP): pyproject.toml sandbox/pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip uv
	$(UV) pip sync -q --python $(PY) requirements.lock
	$(UV) pip install -q --python $(PY) --no-deps -e . -e sandbox
	touch $(STAMP)

## make demo: start the bundled sandbox (or use PERSONIO_CLIENT_ID/SECRET), spec/check/discover, one read loaded into DuckDB
demo: setup
	$(PY) scripts/demo.py $(DEMO_ARGS)

## make test: the whole suite (sandbox, unit, integration, container tests), one module per worker process
## (most of the suite waits on sandbox rate limits and subprocesses, so 3 workers fit 2 cores; TEST_WORKERS=0: serial)
TEST_WORKERS ?= 3
test: setup
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

## make test-newest-cdk: the unit suite against the newest airbyte-cdk 7.x from PyPI (the pin, 7.39.1, is what
## ships), in a venv of its own ($(NEWEST_CDK_VENV)): the locked dependencies with only airbyte-cdk (and what it
## needs) upgraded; prints the CDK version it ran against
NEWEST_CDK_VENV ?= .venv-newest-cdk
test-newest-cdk: setup
	test -x $(NEWEST_CDK_VENV)/bin/python || $(PYTHON) -m venv $(NEWEST_CDK_VENV)
	$(UV) pip sync -q --python $(NEWEST_CDK_VENV)/bin/python requirements.lock
	$(UV) pip install -q --python $(NEWEST_CDK_VENV)/bin/python --upgrade-package airbyte-cdk "airbyte-cdk>=7,<8" -e . -e sandbox
	@$(NEWEST_CDK_VENV)/bin/python -c 'from importlib.metadata import version; print("test-newest-cdk: unit_tests against airbyte-cdk " + version("airbyte-cdk"))'
	$(NEWEST_CDK_VENV)/bin/python -m pytest unit_tests -q -p no:cacheprovider -n $(TEST_WORKERS) $(PYTEST_ARGS)

## make bench: full + incremental sync against the sandbox at scale; prints a table and a JSON line
bench: setup
	$(PY) scripts/bench.py $(BENCH_ARGS)

## make image: build airbyte/source-personio:dev (stand-in base when no registry is reachable)
image: setup
	bash scripts/build_image.sh

## make lock: re-resolve requirements-connector.lock (the image's runtime dependencies, every file's sha256)
## from pyproject.toml for CPython 3.11 on Linux; versions already pinned there stay unless you edit or delete them
lock: setup
	$(UV) pip compile -q --python-version 3.11 --python-platform x86_64-manylinux_2_28 --generate-hashes \
	  --custom-compile-command "make lock" pyproject.toml -o requirements-connector.lock

clean:
	rm -rf $(VENV) $(NEWEST_CDK_VENV) .demo .bench .build .pytest_cache
