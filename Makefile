# Every target sets itself up from nothing: a .venv with pinned torch, the package and its dev tools,
# and (on Debian, as root) the data packages the offline loaders read. Rerunning skips what is done.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The install stamp names a hash of pyproject.toml: nbdev-export rewrites that file, so its date says nothing.
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml 2>/dev/null | sha1sum | cut -c1-12)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test lab docs bench system sync-check clean-artifacts

$(STAMP):
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@rm -f $(VENV)/.installed-*
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install -q -e ".[dev]"
	@touch $(STAMP)

# Debian's Fashion-MNIST, Stockfish and (for the browser test) Chromium and npm, when missing and we may install them;
# elsewhere the loaders download and the browser test is skipped. Then playwright-core for the browser test, from npm.
system:
	@need=""; [ -d /usr/share/datasets/fashion-mnist ] || need="$$need dataset-fashion-mnist"; \
	[ -x /usr/games/stockfish ] || need="$$need stockfish"; \
	command -v chromium >/dev/null || need="$$need chromium"; \
	command -v npm >/dev/null || need="$$need npm"; \
	if [ -z "$$need" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing$$need"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need >/dev/null; \
	else echo "note: not installed:$$need (the loaders download the data; the browser test needs chromium and npm)"; fi
	@if command -v npm >/dev/null && [ ! -d tests/browser/node_modules/playwright-core ]; then \
	  cd tests/browser && npm ci --no-audit --no-fund --loglevel=error; fi

demo: $(STAMP) system
	$(VENV)/bin/concept-attrib demo --store artifacts --out report

# Fails if exporting or cleaning the notebooks would change any file, then runs every notebook and the pytest suite.
sync-check: $(STAMP)
	@before="$$(git status --porcelain)"; \
	$(VENV)/bin/nbdev-export && $(VENV)/bin/nbdev-clean; \
	after="$$(git status --porcelain)"; \
	if [ "$$before" != "$$after" ]; then \
	  echo "nbdev-export / nbdev-clean changed the tree: notebooks and concept_attrib/ are out of step, or a notebook is not clean:"; \
	  diff <(echo "$$before") <(echo "$$after"); exit 1; fi; \
	echo "notebooks and package in step"

test: $(STAMP) system sync-check
	OMP_NUM_THREADS=1 $(PY) -m pytest -n 2 -p no:cacheprovider tests

lab: $(STAMP) system
	$(PY) -m pip install -q -e ".[lab]"
	$(VENV)/bin/jupyter lab --ip 127.0.0.1 --no-browser $$( [ "$$(id -u)" = 0 ] && echo --allow-root ) nbs

docs: $(STAMP)
	$(VENV)/bin/nbdev-export
	$(PY) scripts/docs.py


BENCHES ?= ensemble probes trak counterfactual planted components backprop chess scale language
# One benchmark at a time (make bench BENCHES=language); the temporary stores each one makes (gigabytes for some) go
# in a folder of its own, removed when it ends. BENCH_STORE keeps the language benchmark's store for a rerun.
bench: $(STAMP) system
	@for b in $(BENCHES); do tmp=$$(mktemp -d); echo "# bench/bench_$$b.py" >&2; TMPDIR=$$tmp $(PY) bench/bench_$$b.py; \
	  rc=$$?; rm -rf $$tmp; [ $$rc = 0 ] || exit $$rc; done
