# Two commands matter: `make run` and `make test`. Everything else is a step they take.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?=
PYTEST_ARGS ?=
STAMP := $(VENV)/.installed

.PHONY: run test install keys migrate lint format bench bench-inprocess clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

keys: install
	$(BIN)/pizza-factory keys init

migrate: install
	$(BIN)/pizza-factory db upgrade

run: keys migrate
	$(BIN)/gunicorn --config gunicorn.conf.py --bind $(HOST):$(PORT) \
		$(if $(WORKERS),--workers $(WORKERS)) wsgi:app

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# pytest exits 5 when it collected no test; make treats that as the failure it is.
test: lint
	$(BIN)/pytest $(PYTEST_ARGS)

# Needs wrk (Debian package `wrk`); installed here when missing. BENCH_ARGS passes
# --duration, --connections, --workers and --key-bits to bench/run.py.
BENCH_ARGS ?=
bench: install
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# CPU per request without sockets (bench/inprocess.py): for checking one change.
bench-inprocess: install
	$(BIN)/python bench/inprocess.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache instance
