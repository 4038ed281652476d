# The two set-up commands (see README): `make serve` runs govqa on the built-in defaults,
# `make test` runs the whole test suite. Both install what they need first.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
GOVQA := $(VENV)/bin/govqa
# tests build the real embedding model once, here, and reuse it between runs
export GOVQA_TEST_MODELS_DIR ?= $(CURDIR)/var/models
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: install install-test serve setup test lint bench

install:
	scripts/install.sh

install-test:
	scripts/install.sh

serve: install
	$(GOVQA) setup

setup: install
	$(GOVQA) setup

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: install-test lint
	$(GOVQA) --data-dir $(CURDIR)/var models prepare
	$(VENV)/bin/pytest -q

bench: install
	$(PY) bench/ingest.py
