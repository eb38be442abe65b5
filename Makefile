# Every target creates .venv when it is missing (or when pyproject.toml changed).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help install run test lint fmt unasync typecheck check clean bench screenshots

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## Create .venv with the service and the dev tools

run: $(STAMP) ## Migrate and serve on SQLite (./contactlists.db) at http://127.0.0.1:8000
	$(BIN)/contactlists serve

# Tests share out over TEST_PROCESSES processes (pytest-xdist), each with its own databases;
# those marked `serial` (real processes, sockets, timing) run afterwards, alone. A part that
# PYTEST_ARGS leaves empty (pytest's exit status 5) is not a failure.
TEST_PROCESSES ?= 3
test: $(STAMP) ## Run the tests (on PostgreSQL too when CONTACTLISTS_TEST_DATABASE_URL is set)
	$(BIN)/python -m pytest -n $(TEST_PROCESSES) -m "not serial" $(PYTEST_ARGS) || [ $$? -eq 5 ]
	$(BIN)/python -m pytest -m serial $(PYTEST_ARGS) || [ $$? -eq 5 ]

lint: $(STAMP) ## ruff; the SDK's _sync.py is what _async.py generates; the import contract
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts
	$(BIN)/python scripts/unasync.py --check
	$(BIN)/lint-imports

fmt: $(STAMP) ## Format and fix what ruff can
	$(BIN)/ruff format src tests scripts
	$(BIN)/ruff check --fix src tests scripts

unasync: $(STAMP) ## Generate the SDK's blocking client (client/_sync.py) from client/_async.py
	$(BIN)/python scripts/unasync.py

typecheck: $(STAMP) ## mypy, strict, on src/
	$(BIN)/mypy

check: lint typecheck test ## Everything CI checks

screenshots: $(STAMP) ## The console's browser journey with sample data -> docs/console/*.png (1280×800)
	CONTACTLISTS_SCREENSHOTS=docs/console CONTACTLISTS_REQUIRE_BROWSER=1 \
	  $(BIN)/python -m pytest -q tests/console/test_journey.py -k sqlite

BENCH_DATABASES ?= sqlite postgresql
bench: $(STAMP) ## Benchmarks B1–B6, B8 (Chromium) and B9 at a small size on SQLite and PostgreSQL -> bench/results/
	set -e; for db in $(BENCH_DATABASES); do \
	  $(BIN)/python -m bench.b1_import --database $$db --rows 50000; \
	  $(BIN)/python -m bench.b2_memory --database $$db --size 100M; \
	  $(BIN)/python -m bench.b3_delete --database $$db --sizes 0,10000,100000 --lists 4,4,2 --quiet-seconds 10; \
	  $(BIN)/python -m bench.b4_read --database $$db --seconds 10; \
	  $(BIN)/python -m bench.b5_paging --database $$db --rows 200000; \
	  $(BIN)/python -m bench.b9_filtered_paging --database $$db --rows 100000; \
	  $(BIN)/python -m bench.b6_add_contacts --database $$db --requests 5 --batch 10000; \
	  $(BIN)/python -m bench.b8_console --database $$db --lists 500 --contacts 100000 --visits 10; \
	done

clean: ## Remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
