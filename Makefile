# soundcharts-workbench: `make demo` runs the main job, `make test` the whole suite, `make test-fast` the inner loop.
# Each sets itself up.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install -q --disable-pip-version-check -c constraints.txt

.PHONY: install install-test demo test test-fast lint clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[lab]'
	$(PY) -m soundcharts_lib.web.embed_assets
	@touch $@

install-test: $(VENV)/.installed-test

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) -e '.[lab,test]'
	@touch $@

demo: install
	$(VENV)/bin/soundcharts demo

# the whole suite on two pytest-xdist workers, a test file to a worker (measured: 30 min serial became 25-30 min)
test: install-test
	scripts/test.sh -n 2 --dist loadfile

# lint, then the suite on SQLite without what is marked postgres, browser or slow (see pyproject's markers), on two
# pytest-xdist workers, a test file to a worker (its module fixtures are made once)
test-fast: install-test lint
	$(PY) -m pytest -q -rfE -m "not postgres and not browser and not slow" -n 2 --dist loadfile

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) test-output *.egg-info
