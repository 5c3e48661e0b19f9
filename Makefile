# The two set-up commands are `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test install browser check fix demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the dependency pins change.
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

install: $(VENV)/.installed

## make run: migrate the embedded SQLite database, load the demo site if empty, serve it
## with one background task worker (analysis runs, PDFs).
run: install
	$(BIN)/mstoutcomes migrate --noinput
	$(BIN)/mstoutcomes collectstatic --noinput --verbosity 0
	$(BIN)/mstoutcomes demo --if-empty
	@echo "Serving on http://127.0.0.1:$(PORT)/ with a background worker (Ctrl-C stops both)"
	@OPENBLAS_NUM_THREADS=1 $(BIN)/mstoutcomes db_worker --no-reload --interval 1 & worker=$$!; \
		trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
		$(BIN)/mstoutcomes runserver 127.0.0.1:$(PORT)

## make test: lint and type checks, then the whole suite on SQLite and on PostgreSQL.
test: install browser
	$(BIN)/python scripts/run_tests.py

# Browser tests drive Debian's chromium; install it when missing and we may.
browser:
	@if ! command -v chromium >/dev/null 2>&1; then \
		if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
			echo "Installing Debian's chromium for the browser tests"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else \
			echo "chromium is missing: install Debian's chromium package (browser tests need it)"; \
		fi; \
	fi

check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

fix: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

demo: install
	$(BIN)/mstoutcomes migrate --noinput
	$(BIN)/mstoutcomes demo

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
