# Two commands do all set-up: `make demo` and `make test`.
# .venv is (re)built only when the requirement files change; a second call starts at once.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.install-stamp

.PHONY: install demo show test lint format bench sandbox clean

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) pipelines/asana_to_docspace.py --sandbox

# dlt's dashboard (marimo) on a pipeline: `make show PIPELINE=asana` (or trello); DEMO=1 for the
# data `make demo` left in data/sandbox. dlt starts `marimo` from PATH, hence .venv/bin; the
# pipeline's state does not record the database file, so it is named (dlt keeps credentials out
# of config.toml; DESTINATION__DUCKDB__CREDENTIALS from the environment wins), and dlt's working
# state is where the pipelines keep it: data/dlt beside data/pm.duckdb (README, "Where state lives").
PIPELINE ?= asana
SHOW_ENV := DLT_DATA_DIR="$${DLT_DATA_DIR:-$(CURDIR)/data/dlt}" DESTINATION__DUCKDB__CREDENTIALS="$${DESTINATION__DUCKDB__CREDENTIALS:-$(CURDIR)/data/pm.duckdb}"
ifdef DEMO
SHOW_ENV := DLT_DATA_DIR=$(CURDIR)/data/sandbox/dlt DESTINATION__DUCKDB__CREDENTIALS=$(CURDIR)/data/sandbox/pm.duckdb
endif
# before any load there is nothing to show: say which command loads data first
SHOW_FIRST := $(if $(DEMO),make demo,.venv/bin/python pipelines/$(PIPELINE)_to_docspace.py --extract-only)
show: $(STAMP)
	@$(SHOW_ENV) sh -c 'test -f "$$DESTINATION__DUCKDB__CREDENTIALS"' || { \
	  echo "error: nothing loaded yet for pipeline $(PIPELINE): run '$(SHOW_FIRST)' first"; exit 1; }
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(SHOW_ENV) dlt pipeline $(PIPELINE) show

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest -n auto --dist loadgroup

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

bench: $(STAMP)
	$(PY) -m benchmarks

sandbox: $(STAMP)
	$(PY) -m sandbox serve

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
