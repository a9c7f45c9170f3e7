# samachar's task runner: its targets are the documented commands.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Debian packages the demo and the tests use: Apertium (en→es engine) and Chromium (browser tests).
DEMO_DEBS := apertium apertium-eng-spa
TEST_DEBS := $(DEMO_DEBS) chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup setup-dev demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# Install missing Debian packages where apt exists; elsewhere say what is missing.
define debs
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian packages:$$missing"; \
	    $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	  else echo "warning: please install$$missing (no apt-get here)"; fi; \
	fi
endef

setup: $(VENV)/.installed
	$(call debs,$(DEMO_DEBS))

setup-dev: $(VENV)/.installed-dev
	$(call debs,$(TEST_DEBS))

demo: setup
	$(BIN)/samachar demo

test: setup-dev
	$(BIN)/ruff check src tests bench tools
	$(BIN)/mypy
	$(BIN)/pytest -q

lint: setup-dev
	$(BIN)/ruff check src tests bench tools
	$(BIN)/mypy

bench: setup-dev
	for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache
