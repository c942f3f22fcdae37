# encoderlab: `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch is pinned here (not in pyproject) to the CPU wheel on this machine's disk; real users may pre-install any
# CUDA build that satisfies pyproject's open range and `make install` leaves it alone.
TORCH_PIN ?= torch==2.13.0
SHARED_DATA ?= ../shared/data
ARGS ?=
export TOKENIZERS_PARALLELISM ?= false
# Offline (no HF hub, W&B offline) is for the tests and CI only: `make train` without a data folder downloads SST-2.
OFFLINE_TARGETS := test test-fast rehearse lint wheel-check
$(OFFLINE_TARGETS): export HF_HUB_OFFLINE = 1
$(OFFLINE_TARGETS): export HF_DATASETS_OFFLINE = 1
$(OFFLINE_TARGETS): export WANDB_MODE = offline

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -E '^[a-z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/pip install -q "$(TORCH_PIN)"
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

install: $(VENV)/.installed ## create .venv and install encoderlab with its dev tools (torch: the local CPU wheel)

data: ## link the data sets from ../shared/data into ./data (or set DATA=<folder>)
	@if [ -e data ]; then echo "data/ exists"; \
	elif [ -d "$(SHARED_DATA)" ]; then ln -s "$(SHARED_DATA)" data && echo "linked data -> $(SHARED_DATA)"; \
	else echo "no $(SHARED_DATA): data sets will be downloaded from the HF hub on first use"; fi

train: install data ## train the default model (bert_small on SST-2); extra overrides in ARGS="..."
	$(BIN)/encoderlab train $(ARGS)

translate: install ## translate lines on stdin: make translate CKPT=logs/<run>/checkpoints/last.ckpt < in.txt
	@$(BIN)/encoderlab translate $(CKPT) $(ARGS)

compare: install ## table + plots of finished runs: make compare SWEEP=logs/compare_encoders/sst2/<date_time> [ARGS="--out DIR"]
	@if [ -z "$(SWEEP)" ]; then echo "usage: make compare SWEEP=<sweep dir> (e.g. logs/compare_encoders/sst2/<date_time>)"; exit 2; fi
	@$(BIN)/encoderlab compare $(SWEEP) $(ARGS)

predict: install ## JSON-lines predictions: make predict CKPT=... < texts.txt (or ARGS="--input texts.txt")
	@$(BIN)/encoderlab predict $(CKPT) $(ARGS)

export: install ## ONNX (+int8) export: make export CKPT=... OUT=exported/ [ARGS="--int8 --prune 0.3"]
	@$(BIN)/encoderlab export $(CKPT) --output-dir $(or $(OUT),exported) $(ARGS)

compress: install data ## fp32 vs int8 vs ONNX on SST-2 validation: make compress CKPT="a.ckpt b.ckpt" [ARGS=...]
	$(BIN)/encoderlab compress $(CKPT) --prune 0.3 $(ARGS)

serve: install ## HTTP service on 127.0.0.1:8000: make serve CKPT=... [ARGS="--backend onnx-int8 --port 9000"]
	@$(BIN)/encoderlab serve $(CKPT) $(ARGS)

loadtest: install data ## load-test a served checkpoint on loopback: make loadtest CKPT=... [ARGS="--concurrency 16"]
	$(BIN)/encoderlab loadtest $(CKPT) $(ARGS)

bench: install ## speed vs HF / torch.nn.Transformer / cuDNN peers into results/bench/; ARGS="--size tiny --cases mlm"
	$(BIN)/encoderlab bench $(ARGS)

gpu-pack: install data ## wheels + data subset for the GPU machine into .gpu_pack/; prints the `run` call to use
	PYTHON=$(BIN)/python scripts/pack_gpu_evidence.sh $(ARGS)

gpu-evidence: ## the GPU evidence stages, on the GPU machine (ARGS=--rehearse: tiny sizes on this CPU, as CI runs it)
	scripts/gpu_evidence.sh $(ARGS)

test: install ## run the test suite, slow tests included (CPU, offline; the GPU-evidence rehearsal is `make rehearse`)
	$(BIN)/python -m pytest -q -m "not rehearsal" $(ARGS)

test-fast: install ## the quick loop: the suite without the tests marked slow (long real-Trainer runs)
	$(BIN)/python -m pytest -q -m "not slow and not rehearsal" $(ARGS)

rehearse: install ## scripts/gpu_evidence.sh --rehearse on the CPU, with its checks (CI runs it after make test)
	$(BIN)/python -m pytest -q -m rehearsal tests/test_gpu_evidence.py $(ARGS)

wheel-check: install ## build the wheel, install it in a fresh venv, train one batch from an empty folder (~2-3 min)
	PYTHON=$(BIN)/python TORCH_PIN="$(TORCH_PIN)" scripts/wheel_check.sh

lint: install ## ruff check + format check + mypy (src)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install ## ruff fix + format
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean: ## remove caches and run outputs (keeps .venv and data)
	rm -rf .cache logs outputs multirun wandb lightning_logs .pytest_cache .ruff_cache build dist
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

.PHONY: help install data train translate compare predict export compress serve loadtest bench gpu-pack gpu-evidence \
	test test-fast rehearse wheel-check lint format clean
