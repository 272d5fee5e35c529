# The two commands of the README: `make run` (install, start the app) and `make test` (install with
# the test extra, run the whole suite). Both create .venv and install with constraints.txt pins.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --disable-pip-version-check -q -c constraints.txt
export QT_QPA_PLATFORM ?= offscreen

.PHONY: run test doctor bench screenshot clean bundle

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# spandrel (model upscalers, the `upscale` extra) goes in without its declared torchvision: only two
# architectures that are no upscalers import it, and PyPI's torchvision breaks beside a CPU torch.
$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) -e .
	$(PIP) --no-deps spandrel
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
	for b in benchmarks/[!_]*.py; do $(BIN)/python $$b --quick || exit 1; done

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache

# A one-folder desktop bundle of this platform in dist/t2i-studio/ (see packaging/README.md); it
# carries the torch installed in .venv. Then the bundle must start (offscreen) and print its version.
bundle: $(VENV)/.installed
	$(PIP) pyinstaller pyinstaller-hooks-contrib
	$(BIN)/pyinstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller \
		packaging/t2i-studio.spec
	dist/t2i-studio/t2i-studio --version
	T2I_STUDIO_HOME=build/bundle-home HF_HUB_OFFLINE=1 dist/t2i-studio/t2i-studio doctor --json \
		> build/bundle-doctor.json
	@du -sh dist/t2i-studio
