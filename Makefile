# Developer entry points for tinygrad_rnn.
#
#   make demo    fit a tiny linear regression with the engine (creates .venv on first use)
#   make test    install the dev extras into .venv and run the test suite
#   make bench   time the primitive ops
#   make docs    build the documentation site (lessons gallery + API) into docs/_build/html
#   make lint    ruff check
#   make clean   remove install stamps and caches (make distclean also removes .venv)

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# Stamps live inside the venv, so deleting .venv also forgets what was installed.
STAMP_BASE := $(VENV)/.stamp-install
STAMP_DEV  := $(VENV)/.stamp-install-dev
STAMP_DOCS := $(VENV)/.stamp-install-docs
PACKAGING  := setup.cfg pyproject.toml

.DEFAULT_GOAL := help
.PHONY: help demo test dot chromium docs bench lint clean distclean

help:
	@echo "make demo | test | docs | bench | lint | clean | distclean"

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "tinygrad_rnn needs Python >= 3.11; run e.g. 'make PYTHON=python3.11 ...'" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Re-installs whenever the packaging metadata changes.
$(STAMP_BASE): $(PACKAGING) | $(PY)
	$(PY) -m pip install -q -e '.[plot]'
	@touch $@

# The dev install includes the base install, so it refreshes both stamps.
$(STAMP_DEV): $(PACKAGING) | $(PY)
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP_BASE) $@

# Headless Chromium lets tests/test_docs_site.py screenshot a built page (skipped without it).
# CI installs it before building the docs; elsewhere `make chromium` does, as root with apt.
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Chromium is missing: installing it with apt-get"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
	      || echo "warning: apt-get could not install chromium; the docs screenshot test will skip" >&2; \
	  else \
	    echo "Chromium is missing: run \`sudo apt-get install -y chromium\` to let the docs screenshot test run" >&2; \
	  fi; \
	fi

# The docs install includes the base install, so it refreshes the base stamp too.
$(STAMP_DOCS): $(PACKAGING) | $(PY)
	$(PY) -m pip install -q -e '.[docs]'
	@touch $(STAMP_BASE) $@

# Graphviz's `dot` renders graphs to SVG/PNG; DOT text works without it, so this never fails.
dot:
	@if ! command -v dot >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Graphviz's dot is missing: installing it with apt-get"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null; } \
	      || echo "warning: apt-get could not install graphviz; drawing to SVG/PNG needs it, DOT text works without it" >&2; \
	  else \
	    echo "Graphviz's dot is missing: run \`sudo apt-get install -y graphviz\` (Debian/Ubuntu) or \`brew install graphviz\` (macOS); drawing to SVG/PNG needs it, DOT text works without it" >&2; \
	  fi; \
	fi

demo: $(STAMP_BASE) dot
	$(PY) -m tinygrad_rnn demo

# pytest exits with 5 when it collected no tests; that must fail the build, not pass it.
test: $(STAMP_DEV) dot
	@OPENBLAS_NUM_THREADS=1 $(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then \
	  echo "make test: pytest collected no tests (exit 5); failing" >&2; exit 1; \
	fi; \
	exit $$rc

# Every build starts clean, so every lesson in tutorials/ runs (its figures are drawn anew) and
# no figure of an earlier build is left behind; offline, with warnings as errors. Lessons read
# tiny Shakespeare from $TINYGRAD_RNN_DATA, which docs/conf.py points to ../shared/data when that
# copy exists. Single-threaded BLAS: faster for the lessons' small matrices.
docs: $(STAMP_DOCS) dot
	@if [ -n "$${CI:-}" ]; then $(MAKE) --no-print-directory chromium; fi
	rm -rf docs/_build docs/_generated docs/lessons docs/sg_execution_times.rst
	OPENBLAS_NUM_THREADS=1 TQDM_DISABLE=1 $(PY) -m sphinx -W --keep-going -b html docs docs/_build/html

bench: $(STAMP_BASE)
	$(PY) benchmarks/ops.py

lint: $(STAMP_DEV)
	$(PY) -m ruff check .

clean:
	rm -f $(STAMP_BASE) $(STAMP_DEV) $(STAMP_DOCS)
	rm -rf .pytest_cache .ruff_cache .hypothesis build dist *.egg-info docs/_build
	rm -rf docs/lessons docs/sg_execution_times.rst
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
