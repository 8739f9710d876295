# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# uv installs from uv.lock (hashes checked). It is bootstrapped with the venv's
# own pip into a folder of its own, so `uv sync`, which removes whatever the
# lock does not name, never removes it.
UV_VERSION := 0.13.9
UV := $(VENV)/.uv/bin/uv
# UV_PYTHON would make uv pick another interpreter than the venv's. Bytecode is
# compiled once here, as pip does: the suite starts hundreds of interpreters, and
# where PYTHONDONTWRITEBYTECODE is set each would compile every module it imports
# (UV_COMPILE_BYTECODE=0 skips it, here and in the demo project's install).
export UV_COMPILE_BYTECODE ?= 1
UV_SYNC := env -u UV_PYTHON UV_PROJECT_ENVIRONMENT=$(CURDIR)/$(VENV) $(UV) sync --frozen
DEMO_DIR := build/demo
DEMO_PROJECT := $(DEMO_DIR)/mlops-demo

.PHONY: demo test test-thorough lint format bench lock clean

$(UV):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip --default-pip >/dev/null
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --target $(VENV)/.uv uv==$(UV_VERSION)

$(BIN)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV_SYNC) --extra test
	touch $@

demo: $(BIN)/.installed  ## bake the default project, install it from its lock, run its pipeline end to end
	rm -rf $(DEMO_DIR)
	$(BIN)/cookiecutter --no-input --output-dir $(DEMO_DIR) .
	$(MAKE) -C $(DEMO_PROJECT) install run UV=$(CURDIR)/$(UV) VALIDATOR=$(CURDIR)/validator
	@echo "demo project: $(DEMO_PROJECT) (outputs under $(DEMO_PROJECT)/artifacts)"

test: $(BIN)/.installed  ## lint the template, bake every option, run the baked projects' tests
	$(BIN)/ruff check cookiecutter_mlops_reference hooks tests scripts benchmarks validator local_extensions.py
	$(BIN)/python -m pytest -n 2 --maxschedchunk 1 --durations=15

test-thorough: $(BIN)/.installed  ## the hostile-input property test with 3,000 examples instead of 100
	HYPOTHESIS_PROFILE=thorough $(BIN)/python -m pytest tests/test_hostile_input.py

lint: $(BIN)/.installed
	$(BIN)/ruff check cookiecutter_mlops_reference hooks tests scripts benchmarks validator local_extensions.py
	$(BIN)/ruff format --check cookiecutter_mlops_reference hooks tests scripts benchmarks validator local_extensions.py

format: $(BIN)/.installed  ## ruff-format the template's own files and, through a bake, the generated ones
	$(BIN)/ruff format cookiecutter_mlops_reference hooks tests scripts benchmarks validator local_extensions.py
	$(BIN)/python scripts/format_template.py

bench: $(BIN)/.installed  ## measure bake time, validator throughput, pipeline overhead, install time
	$(BIN)/python benchmarks/run.py --write

lock: $(BIN)/.installed  ## re-resolve uv.lock and every baked dependency set's lock (needs the network)
	$(BIN)/python scripts/lock.py

clean:
	rm -rf $(VENV) build .pytest_cache
