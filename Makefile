# ClusterPact: `make run` serves the app with demo data, `make test` runs the whole suite.
SHELL := /bin/bash
# The first interpreter that actually runs and is 3.11 or newer (pyenv shims may exist for
# versions that are not installed, so each candidate is executed, not just looked up).
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { command -v $$p; break; }; \
	done)
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
STAMP := $(VENV)/.installed

.PHONY: help install run test test-fast bench lint audit lock clean

help:
	@echo "make run    - set up, migrate, load demo data on first start, serve on http://$(HOST):$(PORT)"
	@echo "make test   - the whole test suite (set TEST_DATABASE_URL to include PostgreSQL)"
	@echo "make bench  - benchmarks (figures and ratios)"
	@echo "make lint   - ruff"
	@echo "make audit  - bandit (code) and pip-audit (locked dependencies, needs the network)"

$(STAMP): pyproject.toml requirements.lock
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is required (set PYTHON=...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: export CLUSTERPACT_ENV ?= development
run: install
	$(BIN)/flask --app wsgi db-upgrade
	$(BIN)/flask --app wsgi sync-clauses
	$(BIN)/flask --app wsgi seed-demo --if-empty
	@echo
	@echo "ClusterPact is starting on http://$(HOST):$(PORT)/"
	@echo "Demo logins (email, role, password):"
	@cat "$${CLUSTERPACT_INSTANCE:-instance}/demo-logins.txt" 2>/dev/null | sed 's/^/  /' || echo "  (none: the database was not seeded by this checkout)"
	@echo "(admin and legal set up two-factor authentication, with an authenticator app, at their first login)"
	@echo
	$(BIN)/flask --app wsgi run --host $(HOST) --port $(PORT) --no-debugger --no-reload

# Browser tests run on their own: Playwright keeps an event loop that pyHanko (used by other
# tests in the same process) must not share.
test: install
	$(BIN)/python -m pytest -n 2 --ignore=tests/browser
	$(BIN)/python -m pytest tests/browser

test-fast: install
	$(BIN)/python -m pytest -m "not browser" -x -q

bench: install
	$(BIN)/python -m bench

lint: install
	$(BIN)/ruff check .

# bandit fails on any finding not justified by a `# nosec` comment; pip-audit fails on a known
# vulnerability without a dated waiver (.ci/pip-audit-waivers.json) and exits 3 when it cannot
# reach the vulnerability service (AUDIT_FLAGS=--allow-offline turns that into a warning).
audit: install
	$(BIN)/bandit -q -r workflow web contracts
	$(BIN)/python .ci/audit_deps.py $(AUDIT_FLAGS)

lock: install
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^clusterpact' > requirements.lock.new
	{ sed -n '1,2p' requirements.lock; cat requirements.lock.new; } > requirements.lock.tmp
	mv requirements.lock.tmp requirements.lock; rm -f requirements.lock.new

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis test-output
