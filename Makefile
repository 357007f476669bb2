# The two commands of the README: `make run` and `make test`. Everything they need is installed from here.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench install system-deps clean

# new top-level packages need a fresh editable install too
$(STAMP): pyproject.toml $(wildcard */__init__.py)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

system-deps:
	bash tools/install-system-deps.sh

# the domain in the foreground, with the demo patient, report and CT study loaded once it listens
run: install
	$(BIN)/xds up --demo

test: install system-deps
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .

bench: install
	$(BIN)/python bench/mtom.py
	$(BIN)/python bench/registry.py
	$(BIN)/python bench/repository.py
	$(BIN)/python bench/pix.py
	$(BIN)/python bench/imaging.py

clean:
	rm -rf $(VENV) xds-data .pytest_cache
