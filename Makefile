# Demystifying Deep Learning — the course's commands. Each target creates or updates .venv first.
#   make book               build the site into _build/html from the stored notebook outputs
#   make book EXECUTE=force re-execute every chapter first (e.g. on a GPU), then build
#   make test               unit tests, nbval over every chapter, the site build and browser tests
#   make colab              every chapter alone in Colab's package set (part of make test)
#   make test-gpu           on a CUDA GPU: the CUDA unit tests, every chapter in the GPU profile
#   make screenshots        a PNG of each chapter's first screen in _build/screenshots/ (after book)
#   make sync               sync each chapter's text twin (chapters/NN_name.py) and notebook
#   make execute            re-run every chapter in place in the CPU profile (stored outputs)
#   make bench              run each chapter once; bench/results-cpu.json + .md (-gpu on CUDA)
#   make repeat             run every chapter twice; compare outputs, asserted values, claims (bench/repeat.md)
#   make robustness         run every chapter on seeds 0-4; every claim per seed (bench/robustness.md)
#   make lab                open the chapters in JupyterLab
#   make lock               refresh requirements.lock (the exact versions make installs) from
#                           requirements.txt and pyproject.toml; UPGRADE=1 moves every pin up
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
EXECUTE ?=
# .venv gets the exact versions of requirements.lock (Python 3.11 on linux x86_64, sha256 hashes),
# the ones the stored outputs were made with. On another Python or OS, take requirements.txt's
# ranges instead: make REQUIREMENTS=requirements.txt
REQUIREMENTS ?= requirements.lock
# Recipes run in bash so that a filtered command keeps its own exit status (pipefail, below).
SHELL := /bin/bash
# pip prints a warning per package for this machine's optional local indexes; they are noise.
# $(call QUIET_PIP,COMMAND) drops those lines but fails when COMMAND fails (grep's "no line
# left" status is ignored), so a failed install stops make.
QUIET_PIP = set -o pipefail; $(1) 2>&1 \
	| { grep -v "is ignored: it is neither a file nor a directory" || true; }
# requirements.lock is resolved for Python 3.11 (3.11.5 or newer) on linux x86_64; check the
# Python that builds .venv first, so another one gets one clear message instead of pip errors.
VENV_PYTHON = $(if $(wildcard $(BIN)/python),$(BIN)/python,$(PYTHON))
LOCK_PYTHON_CHECK := import platform, sys; \
	ok = (3, 11, 5) <= sys.version_info[:3] < (3, 12) \
	and sys.platform == "linux" and platform.machine() == "x86_64"; \
	sys.exit(0 if ok else "requirements.lock is for Python 3.11 (3.11.5+) on linux x86_64, " \
	f"this is Python {platform.python_version()} on {sys.platform} {platform.machine()}: " \
	"install the ranges instead with make REQUIREMENTS=requirements.txt (e.g. make venv " \
	"REQUIREMENTS=requirements.txt)")

.PHONY: all venv book sync execute test test-gpu colab unit nbval bench lab clean chromium screenshots \
	repeat robustness lock

all: test

$(STAMP): $(REQUIREMENTS) pyproject.toml
ifeq ($(REQUIREMENTS),requirements.lock)
	@$(VENV_PYTHON) -c '$(LOCK_PYTHON_CHECK)'
endif
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(call QUIET_PIP,$(BIN)/python -m pip install -q --upgrade pip)
	$(call QUIET_PIP,$(BIN)/python -m pip install -q -r $(REQUIREMENTS))
	$(call QUIET_PIP,$(BIN)/python -m pip install -q --no-deps -e .)
	$(BIN)/python -c "import torch, torchvision, jupyter_book, nbval, demystify"
	@touch $(STAMP)

venv: $(STAMP)

book: $(STAMP)
ifeq ($(EXECUTE),force)
	$(BIN)/python bench/run_chapters.py --write-outputs --profile auto
endif
	$(BIN)/jupyter-book build . --warningiserror --keep-going

# Authors edit the jupytext twin chapters/NN_name.py; this writes its cells into the notebook
# (keeping the outputs), or the other way round when the notebook is the newer file.
sync: $(STAMP)
	$(BIN)/jupytext --sync chapters/[0-9][0-9]_*.ipynb

execute: $(STAMP)
	$(BIN)/python bench/run_chapters.py --write-outputs --profile cpu

bench: $(STAMP)
	$(BIN)/python bench/run_chapters.py --bench --profile auto

# The chapters run in the CPU profile so that their outputs match the stored ones, and offline:
# tests/offline/sitecustomize.py (on PYTHONPATH, so in every kernel) fails any non-loopback connection.
OFFLINE := PYTHONPATH=$(CURDIR)/tests/offline
# Every claim a chapter makes (demystify.claim) is compared with its committed record
# chapters/claims/NN_name.json, within the tolerance stated where the claim is made, widened
# to 5 sds of the claim over seeds 0-4 (bench/robustness.json) on a machine other than the
# record's (its "machine" entry): on another CPU a trained network takes another path, and
# its results move like a change of seed or further (chapters/claims/README.md).
CHAPTER_CHECKS := DEMYSTIFY_PROFILE=cpu DEMYSTIFY_DEVICE=cpu DEMYSTIFY_SEED=0 \
	DEMYSTIFY_CLAIMS_COMPARE=$(CURDIR)/chapters/claims \
	DEMYSTIFY_CLAIMS_SPREAD=$(CURDIR)/bench/robustness.json
# Two pytest workers (pytest-xdist, --dist loadfile): all tests of one file run on one worker,
# so a notebook's nbval cells share one kernel in order (--dist loadgroup with xdist_group marks
# split them across workers: tried, 282 cells failed). TEST_WORKERS=0 runs one process.
TEST_WORKERS ?= 2
XDIST := $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)
test: $(STAMP) chromium
	$(CHAPTER_CHECKS) $(OFFLINE) $(BIN)/python -m pytest $(XDIST)

# Every chapter copied alone into an empty folder and run in Colab's package versions
# (tests/test_colab.py; also part of `make test`). The first run builds a cached venv.
colab: $(STAMP)
	$(OFFLINE) $(BIN)/python -m pytest $(XDIST) -m colab tests/test_colab.py

unit: $(STAMP)
	$(BIN)/python -m pytest tests -m "not slow"

nbval: $(STAMP)
	$(CHAPTER_CHECKS) $(OFFLINE) $(BIN)/python -m pytest chapters

# On a CUDA GPU: the `cuda`-marked unit tests (fit, autocast and the gradient scaler in bf16 and
# fp16, DDP with NCCL), then every chapter once in the GPU profile, where each chapter's own
# asserts and claims must hold (their conditions; the stored records are CPU runs), timed into
# bench/results-gpu.md. The notebooks' stored outputs are not touched. bench/gpu_check.sh runs
# this with a time limit per step.
test-gpu: $(STAMP)
	@$(BIN)/python -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else \
		'make test-gpu needs a CUDA GPU: torch.cuda.is_available() is False here')"
	$(BIN)/python -m pytest tests -m cuda -rs
	$(OFFLINE) $(BIN)/python bench/run_chapters.py --bench --profile gpu

# The browser tests and screenshots drive Debian's Chromium (never `playwright install`).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
		{ $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium; }

screenshots: book chromium
	$(BIN)/python tests/site_browser.py _build/html _build/screenshots

# Every chapter twice in fresh kernels: identical NBVAL_CHECK_OUTPUT cells and asserted metrics
# (slow, not part of `make test`); writes bench/repeat.md.
repeat: $(STAMP)
	$(OFFLINE) $(BIN)/python bench/repeat.py

# Every chapter on seeds 0-4 (two kernels at a time, CPU profile), each claim measured on every
# seed (slow, not part of `make test`); writes bench/robustness.md and bench/robustness.json.
robustness: $(STAMP)
	$(OFFLINE) $(BIN)/python bench/robustness.py

lab: $(STAMP)
	$(BIN)/jupyter lab chapters/

# requirements.lock: every package requirements.txt and pyproject.toml need, pinned with sha256
# hashes, resolved by uv for Python 3.11 on linux x86_64 (3.11.7: some pins need >= 3.11.5).
# `make lock` updates it after either file changes and keeps every pin their ranges still admit;
# `make lock UPGRADE=1` moves every pin to the newest version allowed (then re-execute the
# chapters: their stored outputs were made with the old pins). LOCK_ARGS passes more options to
# uv, e.g. LOCK_ARGS="-c caps.txt" to cap versions at what a machine can install.
lock:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(call QUIET_PIP,$(BIN)/python -m pip install -q "uv>=0.5")
	$(BIN)/uv pip compile requirements.txt pyproject.toml --generate-hashes \
		--python-version 3.11.7 --python-platform x86_64-manylinux_2_28 \
		--custom-compile-command "make lock" --quiet $(if $(UPGRADE),--upgrade) $(LOCK_ARGS) \
		-o requirements.lock

clean:
	rm -rf _build .pytest_cache
