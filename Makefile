# The README's commands. Everything runs inside .venv, created by scripts/setup.sh.
VENV ?= .venv
PY := $(VENV)/bin/python
NNSCRATCH := $(VENV)/bin/nnscratch

.PHONY: demo test bench docs docs-serve notebooks setup lint clean

## demo: set up a fresh machine and run the main job
demo:
	bash scripts/setup.sh
	$(NNSCRATCH) datasets
	$(NNSCRATCH) train lenet --epochs 3 --plots out/lenet

## test: install the test and docs extras and run the whole suite (it builds the docs too)
test:
	bash scripts/setup.sh test,docs
	$(PY) -m pytest

## docs: build the tutorial site into site/ (strict: any warning fails the build)
docs:
	bash scripts/setup.sh docs
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

## docs-serve: preview the site on http://127.0.0.1:8000, rebuilt on every change
docs-serve:
	bash scripts/setup.sh docs
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs serve

## notebooks: notebooks/*.py as Jupyter notebooks in build/notebooks/ (run them there, in Jupyter)
notebooks:
	bash scripts/setup.sh docs
	$(PY) -m scripts.notebooks build/notebooks

## bench: nnscratch against PyTorch on this machine: samples/s and peak memory (minutes)
# Writes benchmarks/reports/throughput.{json,md}; same-recipe accuracy is `python -m benchmarks.accuracy` (hours).
bench:
	bash scripts/setup.sh bench
	$(PY) -m benchmarks

setup:
	bash scripts/setup.sh test

## lint: install ruff (the lint extra) and check the code against pyproject.toml's rules
lint:
	bash scripts/setup.sh lint
	$(PY) -m ruff check nnscratch tests benchmarks scripts examples notebooks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
