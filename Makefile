# provider_store developer commands. Each target creates .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-package

.PHONY: install litellm-proxy demo test test-quick lint typecheck wheel-smoke bench ci clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The demo needs only the package itself (no test or lint tools).
$(DEMO_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e .
	touch $(DEMO_STAMP)

install: $(STAMP) ## Create .venv with the package (editable) and every dev/test tool

# LiteLLM's proxy, which tests/test_litellm_proxy.py starts on an exported config, lives in a venv
# of its own: litellm[proxy] pins packages provider_store uses too (rich below 14), and the suite
# must run on the versions a user of provider_store gets. Without it that test is skipped.
LITELLM_PROXY := litellm[proxy]==1.108.7
LITELLM_VENV := .venv-litellm
LITELLM_STAMP := $(LITELLM_VENV)/.installed-1.108.7

$(LITELLM_STAMP):
	rm -rf $(LITELLM_VENV)
	$(PYTHON) -m venv $(LITELLM_VENV)
	$(LITELLM_VENV)/bin/python -m pip install --quiet '$(LITELLM_PROXY)'
	touch $(LITELLM_STAMP)

litellm-proxy: $(LITELLM_STAMP) ## Install LiteLLM's proxy in .venv-litellm (for the test that starts one)

demo: $(DEMO_STAMP) ## The main job end to end, offline, on an embedded SQLite file (installs only the package)
	$(BIN)/python scripts/demo.py

# Parallel workers (pytest-xdist): most of the suite's time is spent waiting on other processes,
# servers and databases, so more workers than cores pays. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 4
# Bytecode caching stays on for the suite even where PYTHONDONTWRITEBYTECODE is set machine-wide:
# otherwise each of the ~200 processes the tests start compiles the package from source again.
PYTEST := env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal

test: $(STAMP) ## The whole test suite in parallel (PostgreSQL too when PROVIDER_STORE_TEST_POSTGRES_URL is set)
	$(PYTEST)

test-quick: $(STAMP) ## The edit-loop suite: SQLite only, without the tests marked slow (processes, real waits)
	env -u PROVIDER_STORE_TEST_POSTGRES_URL $(PYTEST) -q -m "not slow"

lint: $(STAMP) ## ruff and mypy --strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The smoke catalog lives in this checkout's build/ (two checkouts never share it); commands run
# from there, outside the source tree, so only the installed package can be imported.
SMOKE := $(CURDIR)/build/wheel-smoke
SMOKE_CLI := $(CURDIR)/build/wheel-venv/bin/provider-store --db sqlite:///$(SMOKE)/catalog.db

wheel-smoke: $(STAMP) ## pip install . (not editable) in a fresh venv, migrate under build/, import the shipped catalog
	rm -rf build/wheel-venv $(SMOKE) && $(PYTHON) -m venv build/wheel-venv && mkdir -p $(SMOKE)
	build/wheel-venv/bin/python -m pip install --quiet .
	cd $(SMOKE) && \
		$(SMOKE_CLI) db upgrade && \
		$(SMOKE_CLI) db current && \
		$(SMOKE_CLI) import \
			"$$($(CURDIR)/build/wheel-venv/bin/python -c 'import provider_store, pathlib; print(pathlib.Path(provider_store.__file__).parent / "data" / "openaicompat-providers.yaml")')" && \
		$(SMOKE_CLI) providers list

bench: $(STAMP) ## Run every benchmark script and print its figures
	for script in tests/benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) $(LITELLM_VENV) build dist .pytest_cache .mypy_cache .ruff_cache .demo
