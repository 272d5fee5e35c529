# The two commands of the README: `make run` (install, start the app) and `make test` (install with
# the test extra, run the whole suite). Both create .venv and install with constraints.txt pins.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --disable-pip-version-check -q -c constraints.txt
export QT_QPA_PLATFORM ?= offscreen

.PHONY: run test doctor bench screenshot clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) -e '.[test]'
	touch $@

run: $(VENV)/.installed
	QT_QPA_PLATFORM= $(BIN)/t2i-studio gui

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

doctor: $(VENV)/.installed
	$(BIN)/t2i-studio doctor

bench: $(VENV)/.installed
	for b in benchmarks/*.py; do $(BIN)/python $$b --quick || exit 1; done

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
