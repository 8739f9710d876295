# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR := build/demo
DEMO_PROJECT := $(DEMO_DIR)/mlops-demo

.PHONY: demo test test-thorough lint format bench clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

demo: $(BIN)/.installed  ## bake the default project, install it, run its pipeline end to end
	rm -rf $(DEMO_DIR)
	$(BIN)/cookiecutter --no-input --output-dir $(DEMO_DIR) .
	$(MAKE) -C $(DEMO_PROJECT) install run VENV=$(CURDIR)/$(VENV)
	@echo "demo project: $(DEMO_PROJECT) (outputs under $(DEMO_PROJECT)/artifacts)"

test: $(BIN)/.installed  ## lint the template, bake every option, run the baked projects' tests
	$(BIN)/ruff check cookiecutter_mlops_reference hooks tests scripts benchmarks validator local_extensions.py
	$(BIN)/python -m pytest -n 2 --durations=15

test-thorough: $(BIN)/.installed  ## the hostile-input property test with 3,000 examples instead of 300
	HYPOTHESIS_PROFILE=thorough $(BIN)/python -m pytest tests/test_hostile_input.py

lint: $(BIN)/.installed
	$(BIN)/ruff check cookiecutter_mlops_reference hooks tests scripts benchmarks validator local_extensions.py
	$(BIN)/ruff format --check cookiecutter_mlops_reference hooks tests scripts benchmarks validator local_extensions.py

format: $(BIN)/.installed  ## ruff-format the template's own files and, through a bake, the generated ones
	$(BIN)/ruff format cookiecutter_mlops_reference hooks tests scripts benchmarks validator local_extensions.py
	$(BIN)/python scripts/format_template.py

bench: $(BIN)/.installed  ## measure bake time, validator throughput, pipeline overhead, install time
	$(BIN)/python benchmarks/run.py --write

clean:
	rm -rf $(VENV) build .pytest_cache
