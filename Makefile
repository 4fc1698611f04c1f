# consult: two commands from a fresh clone.
#   make run   installs, migrates, loads the demo consultation and serves it
#   make test  lint, then the whole test suite including the browser tests
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2

.PHONY: run test install lint messages bench clean

$(BIN)/consult: pyproject.toml
	@command -v $(PYTHON) >/dev/null || (echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1)
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(BIN)/consult

node_modules/.installed: package.json
	npm install --no-audit --no-fund --loglevel=error
	@touch node_modules/.installed

install: $(BIN)/consult node_modules/.installed

run: install
	$(BIN)/consult migrate
	$(BIN)/consult demo
	@$(BIN)/consult accounts-info 2>/dev/null || true
	@echo "Serving consult on http://$(HOST):$(PORT)/"
	$(BIN)/consult serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

lint: install
	$(BIN)/ruff check .

test: lint
	$(BIN)/pytest

messages: install
	$(BIN)/python scripts/update_messages.py

bench: install
	$(BIN)/python tests/bench/bench_http.py

clean:
	rm -rf $(VENV) node_modules var
