# Nghị trường: two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
WEB := clients/web
WEB_SOURCES := $(shell find $(WEB)/src $(WEB)/*.html $(WEB)/*/index.html server/locale -type f 2>/dev/null) \
	$(wildcard $(WEB)/package.json $(WEB)/package-lock.json $(WEB)/vite.config.ts $(WEB)/tsconfig.json)

.PHONY: run test lint bench web system-deps clean

# The virtual environment, rebuilt when pyproject.toml changes.
$(VENV)/.stamp: pyproject.toml
	@command -v $(PY) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PY) not found)"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	@touch $@

# The benchmarks' extra (atheris: a libFuzzer wheel, Linux x86-64; elsewhere it needs clang).
$(VENV)/.bench-stamp: $(VENV)/.stamp pyproject.toml
	$(BIN)/pip install -q -e '.[test,bench]'
	@touch $@

# The web client, rebuilt only when its sources change.
$(WEB)/dist/.stamp: $(WEB_SOURCES)
	@if [ -f $(WEB)/package.json ]; then \
		cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error && npm run build; \
	else mkdir -p $(WEB)/dist; fi
	@touch $@

web: $(WEB)/dist/.stamp

run: $(VENV)/.stamp web
	$(BIN)/nghitruong serve --demo

system-deps:
	@bash scripts/system-deps.sh

lint: $(VENV)/.stamp
	$(BIN)/ruff check chamber server media tests
	$(BIN)/ruff format --check chamber server media tests
	$(BIN)/mypy chamber server media

# The load generator of the vote storm and the cluster fan-out: Node.js with `ws`
# (tests/load/node; `make test` runs a small cluster fan-out).
LOADGEN := tests/load/node
$(LOADGEN)/node_modules/.stamp: $(LOADGEN)/package.json $(LOADGEN)/package-lock.json
	cd $(LOADGEN) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# pytest exits 5 when it collects no test: that fails here, as it should.
test: system-deps $(VENV)/.stamp web lint $(LOADGEN)/node_modules/.stamp
	$(BIN)/pytest -q -p no:cacheprovider --timeout=300 \
		--cov=chamber --cov-branch --cov-report=term-missing:skip-covered --cov-fail-under=95

# The vote storm runs last: its summary line ends the output (it also writes
# artifacts/vote-storm-latency.png: hub, python-socketio peer and bare websockets).
bench: $(VENV)/.stamp $(VENV)/.bench-stamp web $(LOADGEN)/node_modules/.stamp
	$(BIN)/python tests/load/bench_core.py
	$(BIN)/python tests/load/bench_minutes.py
	$(BIN)/python tests/load/kill_storm.py --trials 200
	$(BIN)/python tests/load/journal_commit.py --n 3000
	$(BIN)/python tests/load/redis_append.py --n 2000
	$(BIN)/python tests/load/registry_writes.py
	$(BIN)/python tests/load/failover_storm.py --trials 100
	$(BIN)/python tests/load/cluster_fanout.py
	$(BIN)/python tests/load/chaos.py --trials 100
	$(BIN)/python tests/load/fuzz_frames.py --runs 2000000 --seconds 60
	$(BIN)/python tests/load/probe_hardening.py
	$(BIN)/python tests/load/media_fanout.py --receivers 50
	$(BIN)/python tests/load/media_fanout.py --receivers 100
	$(BIN)/python tests/load/storm_scale.py
	$(BIN)/python tests/load/idle_gallery.py
	$(BIN)/python tests/load/restart_resync.py
	$(BIN)/python tests/load/vote_storm.py

clean:
	rm -rf $(VENV) $(WEB)/dist $(WEB)/node_modules .pytest_cache .mypy_cache .ruff_cache
