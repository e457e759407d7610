# Two commands: `make run` serves the demo akimat, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint-imports test-sqlite test-postgres install install-test bench clean

run: install
	$(BIN)/civic migrate
	$(BIN)/civic demo
	$(BIN)/civic serve --host $(HOST) --port $(PORT)

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

install-test: install $(VENV)/.installed-test
	scripts/install_test_deps.sh

$(VENV)/.installed-test: pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

test: install-test
	$(MAKE) lint-imports
	$(MAKE) test-sqlite
	$(MAKE) test-postgres

# The layers of docs/architecture.md: ashyq > modules > search > civic, no module imports another.
lint-imports:
	$(BIN)/lint-imports

test-sqlite:
	$(BIN)/python -m pytest

test-postgres:
	$(BIN)/python tests/support/postgres.py -- $(BIN)/python -m pytest

bench: install
	$(BIN)/python -m bench.home

clean:
	rm -rf $(VENV) var node_modules
