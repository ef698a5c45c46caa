# Launch Ledger: `make run` sets up and starts the dashboard; `make test` is what CI runs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DATA_DIR ?= $(or $(LAUNCH_LEDGER_DATA_DIR),data)
PORT   ?= 8501
DEMO_LAUNCHES ?= 20000

.PHONY: run demo demo-warehouse test lint bench chromium clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-test: requirements-test.txt requirements.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $@

# The FinOps Foundation's focus-validator pins numpy<2 and pandas<3: it gets its own virtualenv inside .venv
FOCUS_VALIDATOR := $(VENV)/focus-validator
$(FOCUS_VALIDATOR)/.installed: requirements-focus-validator.txt | $(BIN)/python
	$(PYTHON) -m venv $(FOCUS_VALIDATOR)
	$(FOCUS_VALIDATOR)/bin/pip install --quiet --upgrade pip
	$(FOCUS_VALIDATOR)/bin/pip install --quiet -r requirements-focus-validator.txt
	touch $@

## Build the demo warehouse if there is none, then serve the dashboard on http://localhost:$(PORT)
run: $(VENV)/.installed
	@test -f $(DATA_DIR)/warehouse/manifest.json || $(MAKE) --no-print-directory demo-warehouse
	LAUNCH_LEDGER_DATA_DIR=$(DATA_DIR) $(BIN)/streamlit run dashboard/streamlit_app.py --server.port $(PORT) --server.headless true

## Rebuild the demo warehouse from scratch
demo: $(VENV)/.installed
	rm -rf $(DATA_DIR)
	$(MAKE) --no-print-directory demo-warehouse

# The demo history, priced, with a backtest of the estimator and its anomalies so every page has something to show
demo-warehouse: $(VENV)/.installed
	$(BIN)/python -m ingest demo --launches $(DEMO_LAUNCHES) --data-dir $(DATA_DIR)
	$(BIN)/python -m ingest backtest --data-dir $(DATA_DIR)
	$(BIN)/python -m ingest anomalies --data-dir $(DATA_DIR)

## Debian's Chromium for the real-browser test (Playwright cannot download its own here)
chromium:
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

lint: $(VENV)/.installed-test
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

test: $(VENV)/.installed-test $(FOCUS_VALIDATOR)/.installed chromium lint
	$(BIN)/pytest -n 2 --dist loadfile

bench: $(VENV)/.installed-test
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache artifacts
