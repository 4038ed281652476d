# The two set-up commands (see README): `make serve` runs govqa on the built-in defaults,
# `make test` runs the whole test suite. Both install what they need first.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
VENV := .venv
PY := $(VENV)/bin/python
GOVQA := $(VENV)/bin/govqa
# tests build the real embedding model and the real sample index once, here, and reuse them
export GOVQA_TEST_MODELS_DIR ?= $(CURDIR)/var/models
export GOVQA_TEST_DATA_DIR ?= $(CURDIR)/var/test-data
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: install install-test serve setup test lint unit eval-gate bench

install:
	scripts/install.sh

install-test:
	scripts/install.sh --browser

# main job: prepare models, ingest the samples into an empty index, serve API + UI on 127.0.0.1:8000
serve: install
	$(GOVQA) serve

setup: install
	$(GOVQA) setup

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# the real models and sample index the model/browser tests and the eval gate share
test-data: install-test
	TQDM_DISABLE=1 GOVQA_MODELS_DIR=$(GOVQA_TEST_MODELS_DIR) $(GOVQA) --data-dir $(GOVQA_TEST_DATA_DIR) setup

unit: install-test
	$(VENV)/bin/pytest -q -m "not model and not browser"

# the evaluation of the default offline pipeline on the golden set, failing below eval/thresholds.json
eval-gate: test-data
	TQDM_DISABLE=1 GOVQA_MODELS_DIR=$(GOVQA_TEST_MODELS_DIR) $(GOVQA) --data-dir $(GOVQA_TEST_DATA_DIR) \
		eval --gate --out var/eval/results.jsonl --report var/eval/report

test: install-test lint test-data
	$(VENV)/bin/pytest -q
	$(MAKE) --no-print-directory eval-gate

bench: install
	$(PY) bench/ingest.py
	$(PY) bench/query.py
